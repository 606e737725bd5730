"""What may be cached: never an error, an empty or truncated answer, or a refusal.

A cached answer is served again and again, so one bad answer must not stick. The checks
understand OpenAI Chat Completions and Responses objects, Anthropic Messages, their stream
chunks/events (SDK objects or dicts) and plain strings; anything else is admitted unless the
caller's ``is_refusal`` predicate says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from omnicache_ai.layers._usage import field

__all__ = ["Admission", "Uncacheable"]

_REFUSED_FINISH: Final = frozenset({"content_filter", "refusal"})
_TRUNCATED_FINISH: Final = frozenset({"length", "max_tokens", "max_output_tokens"})
# Stream events that carry the answer itself. A Responses API turn that only calls a tool
# streams its call as function-call argument events, and that is content too.
_CONTENT_EVENTS: Final = frozenset(
    {
        "content_block_delta",
        "content_block_start",
        "response.output_text.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
    }
)


class Uncacheable(Exception):
    """Raised inside a cache fill to hand back a value without storing it.

    Going through the manager's stampede shield as an exception means callers that waited
    on the same computation receive the value too, and nothing is written.
    """

    def __init__(self, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _has_error(value: Any) -> bool:
    if isinstance(value, Mapping):
        return bool(value.get("error")) or value.get("type") == "error"
    return bool(getattr(value, "error", None)) or getattr(value, "type", None) == "error"


def _finish_reason(reason: Any, cache_truncated: bool) -> str | None:
    if reason in _REFUSED_FINISH:
        return "refusal"
    if reason in _TRUNCATED_FINISH and not cache_truncated:
        return "truncated"
    return None


def _chat_completion(choices: Sequence[Any], cache_truncated: bool) -> str | None:
    if not choices:
        return "empty"
    for choice in choices:
        why = _finish_reason(field(choice, "finish_reason"), cache_truncated)
        if why:
            return why
        message = field(choice, "message")
        if message is None:  # legacy completions: choices[].text
            if _blank(field(choice, "text")):
                return "empty"
            continue
        if field(message, "refusal"):
            return "refusal"
        if _blank(field(message, "content")) and not (
            field(message, "tool_calls")
            or field(message, "function_call")
            or field(message, "audio")
        ):
            return "empty"
    return None


def _anthropic_message(value: Any, content: Any, cache_truncated: bool) -> str | None:
    why = _finish_reason(field(value, "stop_reason"), cache_truncated)
    if why:
        return why
    if isinstance(content, str):
        return "empty" if _blank(content) else None
    for block in content or ():
        if field(block, "type") != "text" or not _blank(field(block, "text")):
            return None
    return "empty"


def _responses_api(value: Any, cache_truncated: bool) -> str | None:
    status = field(value, "status")
    if status == "failed":
        return "error"
    if status == "incomplete":
        why = _finish_reason(field(field(value, "incomplete_details"), "reason"), cache_truncated)
        if why:
            return why
    output = field(value, "output") or ()
    for item in output:
        for part in field(item, "content") or ():
            if field(part, "type") == "refusal":
                return "refusal"
    return None if output else "empty"


def response_problem(value: Any, cache_truncated: bool) -> str | None:
    """Why a complete answer must not be cached (``"error"``, ``"empty"``, ...), or ``None``."""
    if isinstance(value, str):
        return "empty" if not value.strip() else None
    if value is None:
        return "empty"
    if isinstance(value, BaseException):
        return "error"
    if isinstance(value, bytes | bytearray | list | tuple | dict) and not value:
        return "empty"
    if _has_error(value):
        return "error"
    choices = field(value, "choices")
    if isinstance(choices, list | tuple):
        return _chat_completion(choices, cache_truncated)
    if field(value, "object") == "response":
        return _responses_api(value, cache_truncated)
    content = field(value, "content")
    if field(value, "stop_reason") is not None or field(value, "type") == "message":
        return _anthropic_message(value, content, cache_truncated)
    return None


def _chunk_problem(chunk: Any, cache_truncated: bool) -> tuple[str | None, bool]:
    """(problem, carries content) for one stream chunk or event."""
    if isinstance(chunk, str | bytes):
        return None, bool(chunk)
    if chunk is None:
        return None, False
    if _has_error(chunk):
        return "error", False
    choices = field(chunk, "choices")
    if isinstance(choices, list | tuple):
        content = False
        for choice in choices:
            why = _finish_reason(field(choice, "finish_reason"), cache_truncated)
            if why:
                return why, content
            delta = field(choice, "delta")
            if delta is None:
                content = content or not _blank(field(choice, "text"))
                continue
            if field(delta, "refusal"):
                return "refusal", content
            content = (
                content
                or not _blank(field(delta, "content"))
                or bool(field(delta, "tool_calls") or field(delta, "function_call"))
            )
        return None, content
    kind = field(chunk, "type")
    if kind == "message_delta":
        return _finish_reason(field(field(chunk, "delta"), "stop_reason"), cache_truncated), False
    if kind == "response.incomplete":
        return "truncated" if not cache_truncated else None, False
    if kind in ("response.failed", "response.error"):
        return "error", False
    if kind == "response.refusal.delta":
        return "refusal", False
    if kind in _CONTENT_EVENTS:
        return None, True
    if isinstance(kind, str) and kind.startswith(("message_", "content_block_", "response.")):
        return None, False  # framing events (start/stop) carry no content
    return None, True  # an object we do not know: its presence is content


class Admission:
    """Decides whether an answer or a finished stream may be stored.

    Args:
        cache_truncated: Also cache answers cut off by the token limit (finish reason
            ``length`` / stop reason ``max_tokens``).
        is_refusal: A predicate marking further answers as refusals (never cached). For
            streams it receives the list of chunks.

    Example:
        >>> Admission().problem({"choices": [{"finish_reason": "length",
        ...                                   "message": {"content": "The answer is"}}]})
        'truncated'
    """

    __slots__ = ("cache_truncated", "is_refusal")

    def __init__(
        self, *, cache_truncated: bool = False, is_refusal: Callable[[Any], bool] | None = None
    ) -> None:
        if is_refusal is not None and not callable(is_refusal):
            raise TypeError(f"is_refusal must be a callable, got {type(is_refusal).__name__}")
        self.cache_truncated = cache_truncated
        self.is_refusal = is_refusal

    def problem(self, value: Any) -> str | None:
        """Why ``value`` must not be cached, or ``None`` when it may be."""
        why = response_problem(value, self.cache_truncated)
        if why is None and self.is_refusal is not None and self.is_refusal(value):
            return "refusal"
        return why

    def stream_problem(self, chunks: Sequence[Any]) -> str | None:
        """Why a completed stream must not be cached, or ``None`` when it may be."""
        if not chunks:
            return "empty"
        content = False
        for chunk in chunks:
            why, has = _chunk_problem(chunk, self.cache_truncated)
            if why:
                return why
            content = content or has
        if not content:
            return "empty"
        if self.is_refusal is not None and self.is_refusal(list(chunks)):
            return "refusal"
        return None
