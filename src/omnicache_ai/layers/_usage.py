"""Token usage read from OpenAI and Anthropic responses, whether SDK objects or plain dicts.

The providers count differently, so everything is brought to one shape, :class:`TokenUsage`:

* OpenAI Chat Completions: ``usage.prompt_tokens`` *includes*
  ``usage.prompt_tokens_details.cached_tokens``; output is ``completion_tokens``.
* OpenAI Responses: ``usage.input_tokens`` includes ``input_tokens_details.cached_tokens``.
* Anthropic Messages: ``usage.input_tokens`` *excludes* ``cache_read_input_tokens`` and
  ``cache_creation_input_tokens``; streams report input in ``message_start`` and the running
  output count in each ``message_delta``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["TokenUsage", "extract_usage", "field", "usage_from_chunks"]


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` for mappings, ``obj.name`` for objects, ``None`` when absent."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """What one upstream call consumed.

    Attributes:
        input_tokens: Input tokens billed at the full rate (cache reads and writes excluded).
        output_tokens: Output tokens.
        cache_read_tokens: Input tokens served from the provider's prompt cache.
        cache_write_tokens: Input tokens written to the provider's prompt cache (Anthropic).
        model: The model the provider reported, when it did.

    Example:
        >>> u = TokenUsage(input_tokens=100, output_tokens=20, cache_read_tokens=900)
        >>> u.total_input_tokens
        1000
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    model: str | None = None

    @property
    def total_input_tokens(self) -> int:
        """Every input token of the call, cached or not."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    def to_record(self) -> list[Any]:
        """Compact form stored next to a cached answer."""
        return [
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_tokens,
            self.model,
        ]

    @classmethod
    def from_record(cls, record: Any) -> TokenUsage | None:
        """Inverse of :meth:`to_record`; ``None`` for anything malformed."""
        if type(record) is not list or len(record) != 5:
            return None
        i, o, r, w, model = record
        if not all(type(n) is int for n in (i, o, r, w)):
            return None
        return cls(i, o, r, w, model if type(model) is str else None)


_COUNTERS = (
    "prompt_tokens",
    "completion_tokens",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def _collect(usage: Any, into: dict[str, int]) -> None:
    """Copy the counters present in one usage object into ``into`` (later wins)."""
    if usage is None or isinstance(usage, str | bytes | int | float):
        return
    for name in _COUNTERS:
        n = _int(field(usage, name))
        if n is not None:
            into[name] = n
    for details in ("prompt_tokens_details", "input_tokens_details"):
        d = field(usage, details)
        if d is not None:
            n = _int(field(d, "cached_tokens"))
            if n is not None:
                into["cached_tokens"] = n
                into["inclusive"] = 1


def _from_counters(c: dict[str, int], model: Any) -> TokenUsage | None:
    if not c:
        return None
    model = model if type(model) is str and model else None
    cached = c.get("cached_tokens", 0)
    if "prompt_tokens" in c or c.get("inclusive"):
        # OpenAI: the input count includes the cached tokens.
        total_in = c.get("prompt_tokens", c.get("input_tokens", 0))
        output = c.get("completion_tokens", c.get("output_tokens", 0))
        read = min(cached, total_in)
        return TokenUsage(total_in - read, output, read, 0, model)
    return TokenUsage(
        c.get("input_tokens", 0),
        c.get("output_tokens", 0),
        c.get("cache_read_input_tokens", 0),
        c.get("cache_creation_input_tokens", 0),
        model,
    )


def extract_usage(response: Any) -> TokenUsage | None:
    """Token usage of an OpenAI/Anthropic response (object or dict); ``None`` if unknown.

    Example:
        >>> extract_usage({"model": "gpt-4o", "usage": {"prompt_tokens": 50,
        ...     "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 40}}})
        TokenUsage(input_tokens=10, output_tokens=5, cache_read_tokens=40, cache_write_tokens=0, model='gpt-4o')
    """  # noqa: E501
    if response is None or isinstance(response, str | bytes):
        return None
    counters: dict[str, int] = {}
    _collect(field(response, "usage"), counters)
    return _from_counters(counters, field(response, "model"))


def usage_from_chunks(chunks: Iterable[Any]) -> TokenUsage | None:
    """Token usage of a streamed response, from its chunks or events; ``None`` if unknown.

    OpenAI sends usage on the last chunk (with ``stream_options={"include_usage": True}``);
    Anthropic sends input counts in ``message_start`` and output counts in ``message_delta``.
    """
    counters: dict[str, int] = {}
    model: Any = None
    for chunk in chunks:
        if chunk is None or isinstance(chunk, str | bytes):
            continue
        model = field(chunk, "model") or model
        message = field(chunk, "message")  # Anthropic message_start
        if message is not None and not isinstance(message, str | bytes):
            model = field(message, "model") or model
            _collect(field(message, "usage"), counters)
        _collect(field(chunk, "usage"), counters)
    return _from_counters(counters, model)
