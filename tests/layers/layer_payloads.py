"""Real-shaped provider payloads: OpenAI and Anthropic responses and stream chunks.

Each builder returns the wire-format dict; ``sdk(...)`` turns it into the provider SDK's own
pydantic type (``openai.types.chat.ChatCompletion``, ``anthropic.types.Message``, ...), which
is what the SDK clients hand to applications.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from _ci import need

CHAT = [
    {"role": "system", "content": "You are a terse calculator."},
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "4"},
    {"role": "user", "content": "And 3+3?"},
]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}


def openai_completion(
    content: str | None = "6",
    *,
    finish_reason: str = "stop",
    tool_calls: list[dict[str, Any]] | None = None,
    refusal: str | None = None,
    prompt_tokens: int = 40,
    completion_tokens: int = 2,
    cached_tokens: int = 0,
    model: str = "gpt-4o-2024-08-06",
) -> dict[str, Any]:
    """An OpenAI Chat Completions response body."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-AbC123",
        "object": "chat.completion",
        "created": 1_731_000_000,
        "model": model,
        "system_fingerprint": "fp_50cad350e4",
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    }


def openai_tool_call_completion() -> dict[str, Any]:
    """A completion that calls a tool instead of answering."""
    return openai_completion(
        None,
        finish_reason="tool_calls",
        tool_calls=[
            {
                "id": "call_9xYz",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "c"}'},
            }
        ],
    )


def anthropic_message(
    text: str = "6",
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 30,
    output_tokens: int = 3,
    cache_read: int = 0,
    cache_write: int = 0,
    blocks: list[dict[str, Any]] | None = None,
    model: str = "claude-sonnet-4-5-20250929",
) -> dict[str, Any]:
    """An Anthropic Messages API response body."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks if blocks is not None else [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_read_input_tokens": cache_read,
            "cache_creation_input_tokens": cache_write,
        },
    }


def openai_chunks(
    pieces: list[str], *, finish_reason: str = "stop", usage: bool = True
) -> list[dict[str, Any]]:
    """The chunks of a streamed OpenAI chat completion (with ``include_usage``)."""
    base = {
        "id": "chatcmpl-Str34m",
        "object": "chat.completion.chunk",
        "created": 1_731_000_000,
        "model": "gpt-4o-mini-2024-07-18",
    }
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    chunks += [
        {**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
        for p in pieces
    ]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish_reason}]})
    if usage:
        chunks.append(
            {
                **base,
                "choices": [],
                "usage": {
                    "prompt_tokens": 25,
                    "completion_tokens": len(pieces),
                    "total_tokens": 25 + len(pieces),
                    "prompt_tokens_details": {"cached_tokens": 0},
                },
            }
        )
    return chunks


def anthropic_events(pieces: list[str], *, stop_reason: str = "end_turn") -> list[dict[str, Any]]:
    """The server-sent events of a streamed Anthropic message."""
    start = anthropic_message("", stop_reason=stop_reason, output_tokens=1)
    start["content"], start["stop_reason"] = [], None
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}
        for p in pieces
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": len(pieces)},
        },
        {"type": "message_stop"},
    ]
    return events


_SDK_TYPES = {
    "ChatCompletion": ("openai", "openai.types.chat", "ChatCompletion"),
    "ChatCompletionChunk": ("openai", "openai.types.chat", "ChatCompletionChunk"),
    "Message": ("anthropic", "anthropic.types", "Message"),
    "RawMessageStreamEvent": ("anthropic", "anthropic.types", "RawMessageStreamEvent"),
}


@functools.cache
def _parser(type_name: str) -> Any:
    package, module, attr = _SDK_TYPES[type_name]
    need(package)
    cls = getattr(importlib.import_module(module), attr)
    if type_name == "RawMessageStreamEvent":  # a union of event classes
        import pydantic

        return pydantic.TypeAdapter(cls).validate_python
    return cls.model_validate


def sdk(type_name: str, payload: dict[str, Any]) -> Any:
    """``payload`` parsed into the SDK type (skips the test when the SDK is not installed)."""
    return _parser(type_name)(payload)
