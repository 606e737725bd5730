"""Embeddings from any OpenAI-compatible ``/embeddings`` HTTP endpoint, with the stdlib only.

Works with OpenAI itself and with the many servers that speak the same protocol (vLLM,
llama.cpp's server, Ollama, LiteLLM, text-embeddings-inference ...). Requests go out in
batches; each thread keeps one persistent connection (HTTP keep-alive), because a fresh TLS
handshake per query would cost more than the embedding. Rate limits (429) and server errors
(5xx) are retried with exponential backoff, honouring ``Retry-After``.

Example:
    >>> from omnicache_ai.embedders import OpenAIEmbedder
    >>> emb = OpenAIEmbedder(model="text-embedding-3-small")  # doctest: +SKIP
    >>> emb.embed("hello").shape  # doctest: +SKIP
    (1536,)
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import threading
import time
import urllib.parse
import weakref
from typing import Any

import numpy as np
import numpy.typing as npt

from omnicache_ai.embedders.base import BaseEmbedder

__all__ = ["EmbeddingAPIError", "OpenAIEmbedder"]

_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class EmbeddingAPIError(RuntimeError):
    """The embeddings endpoint answered with an error (after any retries).

    Attributes:
        status: The HTTP status code.
        body: The response body, truncated.

    Example:
        >>> EmbeddingAPIError(401, "bad key").status
        401
    """

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"embeddings API returned HTTP {status}: {body}")
        self.status = status
        self.body = body


class OpenAIEmbedder(BaseEmbedder):
    """Client for an OpenAI-compatible embeddings API.

    Args:
        model: Model name sent with every request.
        base_url: API root, up to and including the version (``/v1``); defaults to
            ``$OPENAI_BASE_URL`` or OpenAI's public endpoint.
        api_key: Bearer token; defaults to ``$OPENAI_API_KEY`` (may be empty for local
            servers that need none).
        dimensions: Ask the model for shorter vectors (``text-embedding-3-*`` only).
        dim: The vector dimension if known; otherwise ``dimensions`` or one probe request
            on first access of :attr:`dim`.
        batch_size: Texts per request.
        timeout: Seconds per request.
        max_retries: Retries on 408/409/429/5xx and dropped connections.
        headers: Extra request headers.

    Example:
        >>> emb = OpenAIEmbedder(model="nomic-embed-text", base_url="http://127.0.0.1:11434/v1",
        ...                      dim=768)
        >>> emb.name
        'openai:nomic-embed-text'
    """

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        dimensions: int | None = None,
        dim: int | None = None,
        batch_size: int = 256,
        timeout: float = 30.0,
        max_retries: int = 3,
        headers: dict[str, str] | None = None,
    ) -> None:
        root = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        parsed = urllib.parse.urlsplit(root.rstrip("/"))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"base_url must be an http(s) URL, got {root!r}")
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port
        self._path = f"{parsed.path}/embeddings"
        self.model = model
        self.name = f"openai:{model}" + (f":{dimensions}" if dimensions else "")
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._dimensions = dimensions
        if dim or dimensions:
            self.dim = int(dim or dimensions or 0)
        self._batch_size = max(1, batch_size)
        self._timeout = timeout
        self._max_retries = max(0, max_retries)
        self._local = threading.local()
        # Every connection any thread opened, so close() (or garbage collection, through the
        # finalizer, which must not reference self) can close them all.
        self._connections: set[http.client.HTTPConnection] = set()
        self._connections_lock = threading.Lock()
        self._finalizer = weakref.finalize(
            self, _close_all, self._connections, self._connections_lock
        )

    def close(self) -> None:
        """Close the kept-alive connections of every thread. Idempotent.

        Example:
            >>> emb = OpenAIEmbedder(dim=8); emb.close(); emb.close()
        """
        # A fresh thread-local makes every thread open (and register) a new connection if
        # the embedder is used again after close().
        self._local = threading.local()
        _close_all(self._connections, self._connections_lock)

    def __enter__(self) -> OpenAIEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        # ``dim`` is only missing when neither dim nor dimensions was given: learn it from one
        # probe request, on first use rather than at construction (no network in __init__).
        if name == "dim":
            self.dim = int(self._request(["dimension probe"]).shape[1])
            return self.dim
        raise AttributeError(name)

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            cls = (
                http.client.HTTPSConnection
                if self._scheme == "https"
                else http.client.HTTPConnection
            )
            conn = cls(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
            with self._connections_lock:
                self._connections.add(conn)
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
            with self._connections_lock:
                self._connections.discard(conn)

    def _post(self, payload: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = self._connection()
        try:
            conn.request("POST", self._path, body=payload, headers=self._headers)
            response = conn.getresponse()
            body = response.read()
        except (ConnectionError, http.client.HTTPException, TimeoutError, OSError):
            self._drop_connection()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self._drop_connection()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def _request(self, texts: list[str]) -> npt.NDArray[np.float32]:
        body: dict[str, Any] = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self._dimensions:
            body["dimensions"] = self._dimensions
        payload = json.dumps(body).encode()
        attempt = 0
        while True:
            try:
                status, headers, raw = self._post(payload)
            except (ConnectionError, http.client.HTTPException, TimeoutError, OSError):
                if attempt >= self._max_retries:
                    raise
                status, headers, raw = -1, {}, b""
            if status == 200:
                return self._parse(raw, len(texts))
            if status != -1 and (status not in _RETRY_STATUS or attempt >= self._max_retries):
                raise EmbeddingAPIError(status, raw[:500].decode(errors="replace"))
            delay = min(8.0, 0.25 * 2**attempt)
            retry_after = headers.get("retry-after")
            if retry_after is not None:
                # An HTTP-date Retry-After is not parsed: the backoff delay stands.
                with contextlib.suppress(ValueError):
                    delay = min(30.0, max(delay, float(retry_after)))
            time.sleep(delay)
            attempt += 1

    @staticmethod
    def _parse(raw: bytes, expected: int) -> npt.NDArray[np.float32]:
        doc = json.loads(raw)
        items = sorted(doc["data"], key=lambda item: item.get("index", 0))
        if len(items) != expected:
            raise EmbeddingAPIError(200, f"expected {expected} embeddings, got {len(items)}")
        return np.asarray([item["embedding"] for item in items], dtype=np.float32)

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        parts = [
            self._request(texts[start : start + self._batch_size])
            for start in range(0, len(texts), self._batch_size)
        ]
        out = np.concatenate(parts, axis=0)
        if "dim" not in self.__dict__:
            self.dim = int(out.shape[1])
        return out


def _close_all(connections: set[http.client.HTTPConnection], lock: threading.Lock) -> None:
    with lock:
        for conn in connections:
            conn.close()
        connections.clear()
