"""OpenAIEmbedder against a real HTTP server on loopback that speaks the embeddings API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from omnicache_ai.embedders import EmbeddingAPIError, HashingEmbedder, OpenAIEmbedder


class FakeEmbeddingsAPI(ThreadingHTTPServer):
    """An OpenAI-compatible /v1/embeddings endpoint backed by HashingEmbedder.

    It records every request and connection, and can be told to fail the next requests
    with given status codes.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self.connections: set[tuple[str, int]] = set()
        self.fail_next: list[int] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real API servers do
    server: FakeEmbeddingsAPI

    def log_message(self, *args: object) -> None:
        """Silence per-request logging."""

    def _reply(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.connections.add(self.client_address)
            self.server.requests.append(body)
            self.server.headers_seen.append(dict(self.headers))
            failure = self.server.fail_next.pop(0) if self.server.fail_next else None
        if self.path != "/v1/embeddings":
            self._reply(404, {"error": {"message": "not found"}})
            return
        if failure is not None:
            self._reply(failure, {"error": {"message": "try later"}}, {"Retry-After": "0"})
            return
        dim = body.get("dimensions") or 24
        emb = HashingEmbedder(dim=dim)
        data = [
            {"object": "embedding", "index": i, "embedding": (emb.embed(t) * 3.0).tolist()}
            for i, t in enumerate(body["input"])
        ]
        # Out of order on purpose: clients must sort by "index".
        self._reply(200, {"object": "list", "data": data[::-1], "model": body["model"]})


@pytest.fixture
def api() -> Iterator[FakeEmbeddingsAPI]:
    """The fake API on a free loopback port, shut down after the test."""
    server = FakeEmbeddingsAPI()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_embeds_in_input_order_normalized(api: FakeEmbeddingsAPI) -> None:
    """Vectors come back in input order, float32 and unit-norm, equal to the server's."""
    emb = OpenAIEmbedder(model="m", base_url=api.base_url, api_key="sk-test")
    texts = ["alpha", "beta gamma", "delta"]
    out = emb.embed_many(texts)
    np.testing.assert_allclose(out, HashingEmbedder(dim=24).embed_many(texts), atol=1e-6)
    assert out.dtype == np.float32
    assert api.requests[0] == {"model": "m", "input": texts, "encoding_format": "float"}
    assert api.headers_seen[0]["Authorization"] == "Bearer sk-test"
    assert (emb.dim, emb.name) == (24, "openai:m")


def test_dim_is_probed_once_when_unknown(api: FakeEmbeddingsAPI) -> None:
    """Without dim or dimensions, the first access of dim costs one probe request."""
    emb = OpenAIEmbedder(model="m", base_url=api.base_url, api_key="")
    assert emb.dim == 24
    assert emb.dim == 24
    assert len(api.requests) == 1
    assert "Authorization" not in api.headers_seen[0]


def test_dimensions_are_sent_and_set_dim(api: FakeEmbeddingsAPI) -> None:
    """dimensions= is passed to the API and becomes the embedder's dim and name."""
    emb = OpenAIEmbedder(model="m", base_url=api.base_url, dimensions=12)
    assert emb.embed("x").shape == (12,)
    assert api.requests[0]["dimensions"] == 12
    assert emb.name == "openai:m:12"


def test_batches_split_and_reuse_one_connection(api: FakeEmbeddingsAPI) -> None:
    """7 texts with batch_size=3 take 3 requests over a single kept-alive connection."""
    emb = OpenAIEmbedder(model="m", base_url=api.base_url, batch_size=3, dim=24)
    out = emb.embed_many([f"text {i}" for i in range(7)])
    assert out.shape == (7, 24)
    assert [len(r["input"]) for r in api.requests] == [3, 3, 1]
    emb.embed("one more")
    assert len(api.connections) == 1


def test_rate_limit_and_server_errors_are_retried(api: FakeEmbeddingsAPI) -> None:
    """429 and 503 answers are retried (honouring Retry-After) until the call succeeds."""
    api.fail_next = [429, 503]
    emb = OpenAIEmbedder(model="m", base_url=api.base_url, dim=24, max_retries=3)
    assert emb.embed("eventually").shape == (24,)
    assert len(api.requests) == 3


def test_client_errors_are_not_retried(api: FakeEmbeddingsAPI) -> None:
    """A 400 raises EmbeddingAPIError at once with the status and body."""
    api.fail_next = [400]
    emb = OpenAIEmbedder(model="m", base_url=api.base_url, dim=24)
    with pytest.raises(EmbeddingAPIError) as info:
        emb.embed("bad")
    assert info.value.status == 400
    assert "try later" in info.value.body
    assert len(api.requests) == 1


def test_retries_give_up_after_max_retries(api: FakeEmbeddingsAPI) -> None:
    """Persistent 503s surface as EmbeddingAPIError after max_retries + 1 attempts."""
    api.fail_next = [503] * 5
    emb = OpenAIEmbedder(model="m", base_url=api.base_url, dim=24, max_retries=2)
    with pytest.raises(EmbeddingAPIError, match="503"):
        emb.embed("never")
    assert len(api.requests) == 3


def test_unreachable_server_raises_connection_error() -> None:
    """A closed port is a connection error after the retries, not a hang."""
    server = FakeEmbeddingsAPI()
    url = server.base_url
    server.server_close()
    emb = OpenAIEmbedder(model="m", base_url=url, dim=24, max_retries=1, timeout=2)
    with pytest.raises(ConnectionError):
        emb.embed("nobody home")


async def test_async_embedding_uses_the_same_api(api: FakeEmbeddingsAPI) -> None:
    """aembed_many returns what embed_many returns, from a worker thread."""
    emb = OpenAIEmbedder(model="m", base_url=api.base_url, dim=24)
    got = await emb.aembed_many(["a", "b"])
    np.testing.assert_allclose(got, emb.embed_many(["a", "b"]), atol=1e-6)


def test_bad_base_url_rejected() -> None:
    """Only http(s) URLs with a host are accepted."""
    with pytest.raises(ValueError, match="http"):
        OpenAIEmbedder(base_url="ftp://example.invalid/v1")


def test_close_then_reuse_opens_a_new_connection(api: FakeEmbeddingsAPI) -> None:
    """close() drops the kept-alive connection; a later call works on a fresh one."""
    emb = OpenAIEmbedder(model="m", base_url=api.base_url, dim=24)
    emb.embed("first")
    emb.close()
    emb.embed("second")
    emb.close()
    assert len(api.connections) == 2
