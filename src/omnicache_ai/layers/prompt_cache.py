"""PromptCacheLayer: use the provider's own prompt cache, and count what it saves.

Anthropic caches a prompt prefix only where the request marks it with
``cache_control: {"type": "ephemeral"}``, at most 4 markers per request, and only when the
prefix up to a marker reaches a per-model minimum length (1024 tokens for most Sonnet/Opus
models, 2048 for Haiku 3/3.5 and Sonnet 4.6, 4096 for Opus 4.5+ and Haiku 4.5). The prefix
runs in the order tools -> system -> messages. :meth:`PromptCacheLayer.prepare` returns a
copy of a Messages API request with markers on the stable parts (the tool definitions, the
system prompt, long documents) where the prefix is long enough, never touching the caller's
request and never exceeding the limit (markers already present count).

OpenAI caches prefixes of 1024+ tokens automatically, so ``prepare`` leaves non-Anthropic
requests as they are. :meth:`PromptCacheLayer.record_usage` reads either provider's usage
(OpenAI ``usage.prompt_tokens_details.cached_tokens``; Anthropic ``cache_read_input_tokens``
and ``cache_creation_input_tokens``) into the manager's metrics, with the dollars saved.

Token counts are estimates (``len(text) / 4`` unless a ``token_counter`` is given); a marker
on a prefix that turns out too short is harmless: the provider just does not cache it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple

import orjson

from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.layers._usage import TokenUsage, extract_usage, field, usage_from_chunks

__all__ = ["Breakpoint", "PromptCacheLayer", "ProviderCacheUsage"]

#: Most ``cache_control`` markers Anthropic accepts in one request.
MAX_BREAKPOINTS: Final = 4

# Minimum cacheable prefix per model family (Anthropic prompt-caching docs), longest prefix
# of the model name wins.
_MIN_TOKENS: Final = {
    "claude-opus-4-6": 4096,
    "claude-opus-4-5": 4096,
    "claude-haiku-4-5": 4096,
    "claude-sonnet-4-6": 2048,
    "claude-3-5-haiku": 2048,
    "claude-3-haiku": 2048,
    "claude-opus-4-1": 1024,
    "claude-opus-4": 1024,
    "claude-sonnet-4-5": 1024,
    "claude-sonnet-4": 1024,
    "claude-3-7-sonnet": 1024,
    "claude-3-5-sonnet": 1024,
    "claude-3-opus": 1024,
}
_UNCACHEABLE_BLOCKS: Final = frozenset({"thinking", "redacted_thinking"})


def min_cacheable_tokens(model: str) -> int:
    """The shortest prefix ``model`` caches (Bedrock/Vertex ids such as
    ``us.anthropic.claude-3-5-haiku-...`` resolve too; unknown models: Haiku 2048, else 1024).

    Example:
        >>> min_cacheable_tokens("claude-sonnet-4-20250514"), min_cacheable_tokens("claude-3-haiku")
        (1024, 2048)
    """
    name = model.lower()
    cut = name.find("claude-")
    if cut > 0:
        name = name[cut:]
    best = max((p for p in _MIN_TOKENS if name.startswith(p)), key=len, default=None)
    if best is not None:
        return _MIN_TOKENS[best]
    return 2048 if "haiku" in name else 1024


def estimate_tokens(text: str) -> int:
    """About four characters per token: the usual rule of thumb for English and code."""
    return math.ceil(len(text) / 4)


@dataclass(frozen=True, slots=True)
class Breakpoint:
    """Where :meth:`PromptCacheLayer.prepare` put (or would put) a ``cache_control`` marker.

    Attributes:
        part: ``"tools"``, ``"system"`` or ``"messages"``.
        index: Tool index, system block index, or message index.
        block: Content block index inside the message (``None`` for a string content).
        prefix_tokens: Estimated tokens of the prefix the marker caches.
    """

    part: Literal["tools", "system", "messages"]
    index: int
    block: int | None
    prefix_tokens: int


@dataclass(frozen=True, slots=True)
class ProviderCacheUsage:
    """Provider prompt-cache usage of one response.

    Attributes:
        read_tokens: Input tokens served from the provider's cache.
        write_tokens: Input tokens written to it.
        saved: Dollars the cached rate saved compared with the full input price.
    """

    read_tokens: int
    write_tokens: int
    saved: float


_ORDER: Final = {"tools": 0, "system": 1, "messages": 2}


class _Segment(NamedTuple):
    part: Literal["tools", "system", "messages"]
    at: int
    block: int | None
    tokens: int
    stable: bool
    document: bool


def _text_of(block: Any) -> str:
    """The text whose length stands for a block's token count."""
    if isinstance(block, str):
        return block
    kind = field(block, "type")
    if kind == "text":
        text = field(block, "text")
        return text if isinstance(text, str) else ""
    if kind == "document":
        source = field(block, "source")
        data = field(source, "data") if source is not None else None
        if isinstance(data, str) and field(source, "type") == "text":
            return data
    if kind == "tool_result":
        content = field(block, "content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(_text_of(b) for b in content)
    if isinstance(block, Mapping):
        return orjson.dumps(block, default=str).decode()
    return str(block)


def _has_marker(block: Any) -> bool:
    return isinstance(block, Mapping) and block.get("cache_control") is not None


def _count_markers(request: Mapping[str, Any]) -> int:
    n = 1 if request.get("cache_control") is not None else 0
    n += sum(_has_marker(t) for t in request.get("tools") or ())
    system = request.get("system")
    if isinstance(system, list):
        n += sum(_has_marker(b) for b in system)
    for msg in request.get("messages") or ():
        content = field(msg, "content")
        if isinstance(content, list):
            n += sum(_has_marker(b) for b in content)
    return n


class PromptCacheLayer:
    """Place Anthropic ``cache_control`` breakpoints and account provider cache savings.

    Args:
        manager: The :class:`CacheManager` whose metrics receive the provider-cache usage.
        token_counter: ``counter(text) -> int`` (default: ``ceil(len(text) / 4)``).
        min_tokens: Override the model's minimum cacheable prefix.
        max_breakpoints: Most markers per request, existing ones included (1-4).
        ttl: Anthropic cache lifetime: ``None`` (provider default, 5 minutes), ``"5m"`` or
            ``"1h"``.
        cache_tools: Mark the end of the tool definitions.
        cache_system: Mark the end of the system prompt.
        cache_documents: Mark long documents in the messages (``document`` blocks, and text
            or tool results of at least ``document_min_tokens``).
        document_min_tokens: Size from which a text block counts as a long document
            (default: the model's minimum cacheable prefix).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> pc = PromptCacheLayer(CacheManager())
        >>> request = {"model": "claude-sonnet-4-5", "max_tokens": 512,
        ...            "system": "You are a contract lawyer. " * 200,
        ...            "messages": [{"role": "user", "content": "Summarise clause 4."}]}
        >>> prepared = pc.prepare(request)
        >>> prepared["system"][0]["cache_control"], isinstance(request["system"], str)
        ({'type': 'ephemeral'}, True)
        >>> pc.record_usage({"model": "claude-sonnet-4-5", "usage": {"input_tokens": 12,
        ...     "output_tokens": 80, "cache_read_input_tokens": 1400}}).read_tokens
        1400
    """

    layer = "prompt"

    def __init__(
        self,
        manager: CacheManager,
        *,
        token_counter: Callable[[str], int] | None = None,
        min_tokens: int | None = None,
        max_breakpoints: int = MAX_BREAKPOINTS,
        ttl: Literal["5m", "1h"] | None = None,
        cache_tools: bool = True,
        cache_system: bool = True,
        cache_documents: bool = True,
        document_min_tokens: int | None = None,
    ) -> None:
        if not isinstance(manager, CacheManager):
            raise TypeError(f"PromptCacheLayer needs a CacheManager, got {type(manager).__name__}")
        if type(max_breakpoints) is not int or not 1 <= max_breakpoints <= MAX_BREAKPOINTS:
            raise ValueError(
                f"max_breakpoints must be 1-{MAX_BREAKPOINTS} (Anthropic's limit), "
                f"got {max_breakpoints!r}"
            )
        for name, value in (
            ("min_tokens", min_tokens),
            ("document_min_tokens", document_min_tokens),
        ):
            if value is not None and (type(value) is not int or value < 1):
                raise ValueError(f"{name} must be a positive int or None, got {value!r}")
        if ttl not in (None, "5m", "1h"):
            raise ValueError(f"ttl must be None, '5m' or '1h', got {ttl!r}")
        if token_counter is not None and not callable(token_counter):
            raise TypeError("token_counter must be a callable text -> int")
        self.manager = manager
        self.count_tokens: Callable[[str], int] = token_counter or estimate_tokens
        self.min_tokens = min_tokens
        self.max_breakpoints = max_breakpoints
        self.ttl = ttl
        self.cache_tools = cache_tools
        self.cache_system = cache_system
        self.cache_documents = cache_documents
        self.document_min_tokens = document_min_tokens

    # ---- planning (pure) --------------------------------------------------------------------
    @staticmethod
    def is_anthropic(request: Mapping[str, Any]) -> bool:
        """Whether ``request`` targets a Claude model (direct, Bedrock or Vertex ids)."""
        model = request.get("model")
        return isinstance(model, str) and "claude" in model.lower()

    def _marker(self) -> dict[str, str]:
        return {"type": "ephemeral"} if self.ttl is None else {"type": "ephemeral", "ttl": self.ttl}

    def _segments(self, request: Mapping[str, Any], doc_min: int) -> Iterator[_Segment]:
        """The request's prefix in the provider's order, with where a marker may go."""
        count = self.count_tokens
        tools = request.get("tools") or []
        for i, tool in enumerate(tools):
            last = i == len(tools) - 1
            ok = self.cache_tools and last and isinstance(tool, Mapping) and not _has_marker(tool)
            yield _Segment("tools", i, None, count(_text_of(tool)), ok, False)
        system = request.get("system")
        if isinstance(system, str) and system:
            yield _Segment("system", 0, None, count(system), self.cache_system, False)
        elif isinstance(system, list):
            for i, block in enumerate(system):
                ok = (
                    self.cache_system
                    and i == len(system) - 1
                    and isinstance(block, Mapping)
                    and not _has_marker(block)
                )
                yield _Segment("system", i, None, count(_text_of(block)), ok, False)
        for mi, msg in enumerate(request.get("messages") or ()):
            markable = self.cache_documents and isinstance(msg, Mapping)
            content = field(msg, "content")
            if isinstance(content, str):
                own = count(content)
                yield _Segment("messages", mi, None, own, False, markable and own >= doc_min)
                continue
            for bi, block in enumerate(content or ()):
                own = count(_text_of(block))
                ok = (
                    markable
                    and isinstance(block, Mapping)
                    and block.get("type") not in _UNCACHEABLE_BLOCKS
                    and not _has_marker(block)
                    and (block.get("type") == "document" or own >= doc_min)
                )
                yield _Segment("messages", mi, bi, own, False, ok)

    def plan(self, request: Mapping[str, Any]) -> list[Breakpoint]:
        """Where :meth:`prepare` would add markers to ``request`` (empty for other providers).

        Candidates are the last tool, the last system block and each long document; one
        qualifies when its prefix reaches the model's minimum. With more candidates than free
        slots, tools and system come first, then the latest documents (they cache the most).
        """
        if not isinstance(request, Mapping):
            raise TypeError(
                f"request must be a mapping of Messages API arguments, got {type(request)}"
            )
        if not self.is_anthropic(request):
            return []
        slots = self.max_breakpoints - _count_markers(request)
        if slots <= 0:
            return []
        minimum = self.min_tokens or min_cacheable_tokens(request["model"])
        total = 0
        stable: list[Breakpoint] = []
        documents: list[Breakpoint] = []
        for seg in self._segments(request, self.document_min_tokens or minimum):
            total += seg.tokens
            if total < minimum:
                continue
            if seg.stable:
                stable.append(Breakpoint(seg.part, seg.at, seg.block, total))
            elif seg.document:
                documents.append(Breakpoint(seg.part, seg.at, seg.block, total))
        chosen = stable[:slots] + documents[::-1][: max(0, slots - len(stable))]
        return sorted(chosen, key=lambda b: (_ORDER[b.part], b.index, b.block or 0))

    def prepare(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``request`` with ``cache_control`` markers on its stable prefix.

        Only the containers on the path to a marker are copied; the caller's request and
        everything in it are left untouched.
        """
        points = self.plan(request)
        out = dict(request)
        if not points:
            return out
        messages: list[Any] | None = None
        for bp in points:
            if bp.part == "tools":
                tools = list(out["tools"])
                tools[bp.index] = {**tools[bp.index], "cache_control": self._marker()}
                out["tools"] = tools
            elif bp.part == "system":
                system = out["system"]
                if isinstance(system, str):
                    out["system"] = [
                        {"type": "text", "text": system, "cache_control": self._marker()}
                    ]
                else:
                    blocks = list(system)
                    blocks[bp.index] = {**blocks[bp.index], "cache_control": self._marker()}
                    out["system"] = blocks
            else:
                if messages is None:
                    messages = list(out["messages"])
                    out["messages"] = messages
                msg = dict(messages[bp.index])
                content = msg["content"]
                if bp.block is None:
                    msg["content"] = [
                        {"type": "text", "text": content, "cache_control": self._marker()}
                    ]
                else:
                    blocks = list(content)
                    blocks[bp.block] = {**blocks[bp.block], "cache_control": self._marker()}
                    msg["content"] = blocks
                messages[bp.index] = msg
        return out

    # ---- accounting -------------------------------------------------------------------------
    def usage_of(self, response: Any) -> TokenUsage | None:
        """Token usage of a response object/dict or of a list of stream chunks/events."""
        if isinstance(response, list | tuple):
            return usage_from_chunks(response)
        return extract_usage(response)

    def record_usage(self, response: Any, *, model: str | None = None) -> ProviderCacheUsage:
        """Count one response's provider-cache reads and writes into the manager's metrics.

        Args:
            response: An OpenAI or Anthropic response (SDK object or dict), or the list of
                chunks/events of a streamed one.
            model: Model for pricing (default: the model the response names).

        Returns:
            The tokens counted and the dollars the cache discount saved.
        """
        usage = self.usage_of(response)
        if usage is None:
            return ProviderCacheUsage(0, 0, 0.0)
        priced = model or usage.model
        saved = self.manager.record_provider_cache(
            self.layer,
            model=priced,
            read_tokens=usage.cache_read_tokens,
            write_tokens=usage.cache_write_tokens,
        )
        return ProviderCacheUsage(usage.cache_read_tokens, usage.cache_write_tokens, saved)

    def __repr__(self) -> str:
        return f"PromptCacheLayer({self.manager!r}, max_breakpoints={self.max_breakpoints})"
