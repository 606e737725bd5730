"""Offline stand-ins for the OpenAI and Anthropic HTTP APIs, for the SDK adapter tests.

Each fake is a ``MockTransport`` handler of the SDK's own HTTP package (``httpx2``, or
``httpx`` under the older SDKs): the real SDK client sends its real HTTP request, the fake
answers with the JSON or server-sent-event body the API would send, and counts the requests
that reached it. Knobs change the next answers (finish reason, refusal, HTTP status, a
stream that breaks midway or ends with an error event).
"""

from __future__ import annotations

import base64
import importlib
import json
import struct
from collections.abc import AsyncIterator, Iterator
from typing import Any


def http_module(sdk: str) -> Any:
    """The HTTP package ``sdk`` is built on: ``httpx2`` (openai 3.x, anthropic 2.x) or ``httpx``.

    The fakes speak the SDK's own, so the same tests run on either generation of the SDKs.
    """
    base = importlib.import_module(f"{sdk}._base_client")
    return importlib.import_module("httpx2" if hasattr(base, "httpx2") else "httpx")


def _sse(events: list[tuple[str | None, Any]]) -> list[bytes]:
    out = []
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        payload = data if isinstance(data, str) else json.dumps(data)
        out.append(f"{head}data: {payload}\n\n".encode())
    return out


def vector_of(text: str, dim: int = 4) -> list[float]:
    """A deterministic float32-exact vector for ``text``."""
    total = sum(map(ord, text))
    return [float(len(text)), float(total % 97), float(dim), 0.5][:dim]


class _Fake:
    """What both fakes share: request log, knobs, SSE bodies that may break midway."""

    sdk = ""

    def __init__(self, *, is_async: bool = False) -> None:
        self.http = http_module(self.sdk)
        self.is_async = is_async
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.break_after: int | None = None  # cut the stream (ReadError) after n events
        self.error_event = False  # end the stream with an error event instead of its end
        self.words = ["The", " answer", " is", " 4."]

    @property
    def calls(self) -> int:
        """Requests that reached the provider."""
        return len(self.requests)

    def paths(self) -> list[str]:
        return [r["_path"] for r in self.requests]

    def _record(self, request: Any) -> dict[str, Any]:
        body = json.loads(request.content or b"{}")
        body["_path"] = request.url.path
        self.requests.append(body)
        return body

    def _stream(self, chunks: list[bytes]) -> Any:
        headers = {"content-type": "text/event-stream"}
        if self.break_after is None:
            return self.http.Response(200, headers=headers, content=b"".join(chunks))
        cut = chunks[: self.break_after]
        if self.is_async:

            async def abroken() -> AsyncIterator[bytes]:
                for c in cut:
                    yield c
                raise self.http.ReadError("connection reset mid-stream")

            return self.http.Response(200, headers=headers, content=abroken())

        def broken() -> Iterator[bytes]:
            yield from cut
            raise self.http.ReadError("connection reset mid-stream")

        return self.http.Response(200, headers=headers, content=broken())

    def transport(self) -> Any:
        return self.http.MockTransport(self)

    def __call__(self, request: Any) -> Any:  # pragma: no cover
        raise NotImplementedError


class FakeOpenAI(_Fake):
    """Answers ``/chat/completions``, ``/responses`` and ``/embeddings`` like the API.

    Each chat answer names the request number ("answer #n"), so a second upstream call is
    visible in the text as well as in :attr:`calls`.
    """

    sdk = "openai"

    def __init__(self, *, is_async: bool = False) -> None:
        super().__init__(is_async=is_async)
        self.finish_reason = "stop"
        self.refusal: str | None = None
        self.cached_tokens = 0

    def client(self) -> Any:
        import openai

        kind, http = (
            (openai.AsyncOpenAI, self.http.AsyncClient)
            if self.is_async
            else (openai.OpenAI, self.http.Client)
        )
        return kind(api_key="sk-test", max_retries=0, http_client=http(transport=self.transport()))

    def __call__(self, request: Any) -> Any:
        body = self._record(request)
        if self.status != 200:
            return self.http.Response(
                self.status,
                json={"error": {"message": "overloaded", "type": "server_error", "code": None}},
            )
        path = request.url.path
        if path.endswith("/embeddings"):
            return self._embeddings(body)
        if path.endswith("/responses"):
            return self._responses(body)
        return self._chat(body)

    # ---- chat completions -------------------------------------------------------------------
    def _usage(self) -> dict[str, Any]:
        return {
            "prompt_tokens": 12,
            "completion_tokens": 4,
            "total_tokens": 16,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
        }

    def _chat(self, body: dict[str, Any]) -> Any:
        n = self.calls
        text = f"answer #{n}"
        if body.get("stream"):
            return self._stream(self._chat_chunks(body, n))
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        if self.refusal:
            message.update(content=None, refusal=self.refusal)
        return self.http.Response(
            200,
            json={
                "id": f"chatcmpl-{n}",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": self.finish_reason,
                        "logprobs": None,
                    }
                ],
                "usage": self._usage(),
            },
        )

    def _chat_chunks(self, body: dict[str, Any], n: int) -> list[bytes]:
        base = {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": body["model"],
        }
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        deltas += [{"content": w} for w in self.words]
        events: list[tuple[str | None, Any]] = [
            (None, {**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]})
            for d in deltas
        ]
        events.append(
            (
                None,
                {
                    **base,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": self.finish_reason}],
                },
            )
        )
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append((None, {**base, "choices": [], "usage": self._usage()}))
        if self.error_event:
            events.append((None, {"error": {"message": "server broke", "type": "server_error"}}))
        events.append((None, "[DONE]"))
        return _sse(events)

    # ---- responses --------------------------------------------------------------------------
    def _response_obj(self, body: dict[str, Any], n: int, status: str) -> dict[str, Any]:
        text = "".join(self.words) if status == "completed" else ""
        return {
            "id": f"resp_{n}",
            "object": "response",
            "created_at": 1_700_000_000,
            "model": body["model"],
            "status": status,
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "metadata": {},
            "output": [
                {
                    "type": "message",
                    "id": f"msg_{n}",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            ]
            if status == "completed"
            else [],
            "parallel_tool_calls": True,
            "temperature": 1.0,
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "usage": {
                "input_tokens": 10,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens": 4,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 14,
            },
        }

    def _responses(self, body: dict[str, Any]) -> Any:
        n = self.calls
        if not body.get("stream"):
            return self.http.Response(200, json=self._response_obj(body, n, "completed"))
        seq = iter(range(1000))
        events: list[tuple[str | None, Any]] = [
            (
                "response.created",
                {
                    "type": "response.created",
                    "sequence_number": next(seq),
                    "response": self._response_obj(body, n, "in_progress"),
                },
            )
        ]
        for w in self.words:
            events.append(
                (
                    "response.output_text.delta",
                    {
                        "type": "response.output_text.delta",
                        "sequence_number": next(seq),
                        "item_id": f"msg_{n}",
                        "output_index": 0,
                        "content_index": 0,
                        "delta": w,
                        "logprobs": [],
                    },
                )
            )
        events.append(
            (
                "response.completed",
                {
                    "type": "response.completed",
                    "sequence_number": next(seq),
                    "response": self._response_obj(body, n, "completed"),
                },
            )
        )
        return self._stream(_sse(events))

    # ---- embeddings -------------------------------------------------------------------------
    def _embeddings(self, body: dict[str, Any]) -> Any:
        inputs = body["input"]
        inputs = [inputs] if isinstance(inputs, str) else inputs
        dim = body.get("dimensions") or 4
        data = []
        for i, text in enumerate(inputs):
            vec = vector_of(text, dim) if isinstance(text, str) else [0.0] * dim
            emb: Any = vec
            if body.get("encoding_format") == "base64":
                emb = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
            data.append({"object": "embedding", "index": i, "embedding": emb})
        tokens = 3 * len(inputs)
        return self.http.Response(
            200,
            json={
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


class FakeAnthropic(_Fake):
    """Answers ``/v1/messages`` like the Anthropic API (JSON or the SSE event sequence)."""

    sdk = "anthropic"

    def __init__(self, *, is_async: bool = False) -> None:
        super().__init__(is_async=is_async)
        self.stop_reason = "end_turn"
        self.cache_read = 0
        self.cache_write = 0

    def client(self) -> Any:
        import anthropic

        kind, http = (
            (anthropic.AsyncAnthropic, self.http.AsyncClient)
            if self.is_async
            else (anthropic.Anthropic, self.http.Client)
        )
        http_client = http(transport=self.transport())
        return kind(api_key="sk-ant-test", max_retries=0, http_client=http_client)

    def _usage(self, output: int) -> dict[str, Any]:
        return {
            "input_tokens": 20,
            "output_tokens": output,
            "cache_read_input_tokens": self.cache_read,
            "cache_creation_input_tokens": self.cache_write,
        }

    def __call__(self, request: Any) -> Any:
        body = self._record(request)
        if self.status != 200:
            return self.http.Response(
                self.status,
                json={"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
            )
        n = self.calls
        if body.get("stream"):
            return self._stream(self._events(body, n))
        return self.http.Response(
            200,
            json={
                "id": f"msg_{n}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": f"answer #{n}"}],
                "stop_reason": self.stop_reason,
                "stop_sequence": None,
                "usage": self._usage(5),
            },
        )

    def _events(self, body: dict[str, Any], n: int) -> list[bytes]:
        start = {
            "type": "message_start",
            "message": {
                "id": f"msg_{n}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": self._usage(1),
            },
        }
        events: list[tuple[str | None, Any]] = [
            ("message_start", start),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            ("ping", {"type": "ping"}),
        ]
        for w in self.words:
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": w},
                    },
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        if self.error_event:
            events.append(
                (
                    "error",
                    {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
                )
            )
            return _sse(events)
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": len(self.words)},
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        return _sse(events)
