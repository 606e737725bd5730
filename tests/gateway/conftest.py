"""A fake OpenAI/Anthropic upstream and the gateway, both real HTTP servers on loopback.

The upstream counts every request it receives (by path) and records their bodies, so the
tests can tell a cache hit (nothing reached it) from a miss.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from _ci import need

need("starlette", extra="gateway")
need("uvicorn", extra="gateway")

import orjson  # noqa: E402
import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, Response, StreamingResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """An ASGI app served by uvicorn in a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@dataclass
class Upstream:
    """What the fake provider saw."""

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


def upstream_app(seen: Upstream) -> Starlette:
    """The fake provider: deterministic answers, numbered by how often it was called."""

    async def handle(request: Request) -> Response:
        path = request.url.path
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


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A fake provider on loopback that counts requests."""
    seen = Upstream()
    with Served(upstream_app(seen)) as served:
        seen.url = served.url
        yield seen
