"""A fake OpenAI- and Anthropic-compatible provider, for testing what sits in front of one.

Deterministic answers numbered by how often it was called, real JSON bodies and SSE streams
(chat completions, the Responses API, embeddings, Anthropic messages), and a record of every
request (:class:`Upstream`), so a test can tell a cache hit (nothing reached the provider)
from a miss. Special models: ``broken`` answers 404, ``cut`` drops a stream before its end,
and ``max_tokens=1`` gives a truncated chat answer.

Needs Starlette (``pip install 'omnicache-ai[gateway]'``). Serve it with uvicorn::

    uvicorn omnicache_ai.testing.fake_provider:create --factory --port 9000

Example:
    >>> from omnicache_ai.testing.fake_provider import Upstream, upstream_app
    >>> seen = Upstream()
    >>> app = upstream_app(seen)
    >>> seen.count()
    0
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any

import orjson

try:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route
except ImportError as err:  # pragma: no cover
    raise ImportError(
        "the fake provider needs starlette; install it with: pip install 'omnicache-ai[gateway]'"
    ) from err

__all__ = ["Upstream", "create", "upstream_app"]


@dataclass
class Upstream:
    """What the fake provider saw: request counts by path, bodies and credentials."""

    calls: dict[str, int] = field(default_factory=dict)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    url: str = ""

    def count(self, path: str = "") -> int:
        return sum(n for p, n in self.calls.items() if p.startswith(path))


def _chat(body: dict[str, Any], n: int) -> dict[str, Any]:
    text = f"answer {n} to {body['messages'][-1]['content']}"
    finish = "length" if body.get("max_tokens") == 1 else "stop"
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": 1700000000,
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }


def _chat_stream(body: dict[str, Any], n: int) -> list[bytes]:
    words = ["answer", f"{n}", "to", body["messages"][-1]["content"]]
    out = []
    for i, word in enumerate(words):
        chunk = {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": (" " if i else "") + word},
                    "finish_reason": None,
                }
            ],
        }
        out.append(b"data: " + orjson.dumps(chunk) + b"\n\n")
    last = {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": body["model"],
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    out.append(b"data: " + orjson.dumps(last) + b"\n\n")
    out.append(b"data: [DONE]\n\n")
    return out


def _message(body: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "id": f"msg_{n}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [{"type": "text", "text": f"claude {n}: {body['messages'][-1]['content']}"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 4},
    }


def _message_stream(body: dict[str, Any], n: int) -> list[bytes]:
    msg = _message(body, n)
    text = msg["content"][0]["text"]
    start = {
        **msg,
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": 10, "output_tokens": 0},
    }
    events = [
        ("message_start", {"type": "message_start", "message": start}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                  "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                  "delta": {"type": "text_delta", "text": text}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                           "stop_sequence": None}, "usage": {"output_tokens": 4}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    return [
        f"event: {name}\n".encode() + b"data: " + orjson.dumps(d) + b"\n\n" for name, d in events
    ]


def _responses(body: dict[str, Any], n: int) -> Response:
    text = f"response {n} to {body['input']}"
    message = {
        "type": "message",
        "id": f"msg_{n}",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    done = {"id": f"resp_{n}", "object": "response", "created_at": 1700000000,
            "status": "completed", "model": body["model"], "output": [message],
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "usage": {"input_tokens": 5, "output_tokens": 4, "total_tokens": 9,
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens_details": {"reasoning_tokens": 0}}}  # fmt: skip
    if not body.get("stream"):
        return JSONResponse(done)
    events = [
        ("response.created", {"type": "response.created", "sequence_number": 0,
                              "response": {**done, "status": "in_progress", "output": []}}),
        ("response.output_text.delta", {"type": "response.output_text.delta",
                                        "sequence_number": 1, "item_id": f"msg_{n}",
                                        "output_index": 0, "content_index": 0, "delta": text,
                                        "logprobs": []}),
        ("response.completed", {"type": "response.completed", "sequence_number": 2,
                                "response": done}),
    ]  # fmt: skip
    raw = [f"event: {e}\n".encode() + b"data: " + orjson.dumps(d) + b"\n\n" for e, d in events]
    return StreamingResponse(iter(raw), media_type="text/event-stream")


def _vector(text: str) -> list[float]:
    return [float(len(text)), float(sum(map(ord, text)) % 97), 1.0]


def upstream_app(seen: Upstream, latency: float = 0.0) -> Starlette:
    """The fake provider: deterministic answers, numbered by how often it was called.

    Args:
        seen: Where each request is recorded.
        latency: Seconds each answer waits before it starts (a model's time to first token).
    """

    async def handle(request: Request) -> Response:
        path = request.url.path
        if latency:
            await asyncio.sleep(latency)
        seen.calls[path] = seen.calls.get(path, 0) + 1
        n = seen.count()
        body = orjson.loads(await request.body())
        seen.bodies.append(body)
        seen.auth.append(
            request.headers.get("authorization") or request.headers.get("x-api-key", "")
        )
        if body.get("model") == "broken":
            return JSONResponse({"error": {"message": "no such model", "type": "invalid"}}, 404)
        if path == "/v1/embeddings":
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [{"object": "embedding", "index": i, "embedding": _vector(t)}
                    for i, t in enumerate(texts)]  # fmt: skip
            usage = {"prompt_tokens": 3 * len(texts), "total_tokens": 3 * len(texts)}
            return JSONResponse(
                {"object": "list", "data": data, "model": body["model"], "usage": usage}
            )
        if path == "/v1/responses":
            return _responses(body, n)
        if path == "/v1/messages":
            if body.get("stream"):
                events = _message_stream(body, n)
                return StreamingResponse(iter(events), media_type="text/event-stream")
            return JSONResponse(_message(body, n))
        if body.get("stream"):
            chunks = _chat_stream(body, n)
            if body["model"] == "cut":  # the connection drops before the stream ends
                chunks = chunks[:2]
            return StreamingResponse(iter(chunks), media_type="text/event-stream")
        return JSONResponse(_chat(body, n))

    paths = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/messages",
             "/v1/responses"]  # fmt: skip
    return Starlette(routes=[Route(p, handle, methods=["POST"]) for p in paths])


def create() -> Starlette:
    """App factory for uvicorn (``--factory``); ``FAKE_PROVIDER_LATENCY`` sets the latency."""
    return upstream_app(Upstream(), float(os.environ.get("FAKE_PROVIDER_LATENCY", "0")))
