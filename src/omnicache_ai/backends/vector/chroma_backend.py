"""Chroma-backed vector store: embedded (a directory) or a Chroma server over HTTP.

The collection is created with cosine space when missing and reused as-is when present: an
existing collection is never dropped or recreated, and one built with another distance is
refused rather than silently giving scores on a different scale. Filters become Chroma
``where`` clauses, which Chroma applies before its nearest-neighbour search.

Example:
    >>> import numpy as np, tempfile
    >>> from omnicache_ai.backends.vector_backend import ChromaBackend
    >>> store = ChromaBackend(dim=3, collection="docs-example", path=tempfile.mkdtemp())
    >>> store.add(["q1"], np.array([[1.0, 0.0, 0.0]]), [{"tenant": "acme"}])
    >>> store.search(np.array([1.0, 0.1, 0.0]), filter={"tenant": "acme"})[0].id
    'q1'
    >>> store.close()
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from omnicache_ai.backends.vector.base import (
    STORED_EXPIRY,
    BaseVectorBackend,
    FilterValue,
    MetadataValue,
    VectorHit,
    from_stored_metadata,
    to_stored_metadata,
)

try:
    import chromadb
    from chromadb.config import Settings
    from chromadb.errors import InternalError
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "ChromaBackend needs chromadb; install it with: pip install 'omnicache-ai[vector-chroma]'"
    ) from err

__all__ = ["ChromaBackend"]

_PAGE = 1000
_QUERY_RETRIES = 4


def _is_http_client(client: Any) -> bool:
    """Whether a user's Chroma client talks to a server (and so is shared by processes)."""
    return client is not None and "http" in type(client).__name__.lower()


class ChromaBackend(BaseVectorBackend):
    """Vector store on a Chroma collection (cosine space).

    Give exactly one of ``path`` (embedded, persistent), ``host`` (a server, e.g. one started
    with ``chroma run --path DIR --port PORT``) or ``client`` (any Chroma client you built;
    it is not closed by :meth:`close`). With none, an in-memory ephemeral client is used.

    Args:
        dim: Vector dimension, checked on every add and search.
        collection: Collection name (3-512 characters of ``[a-zA-Z0-9._-]``).
        path: Directory of an embedded persistent client.
        host: Server host name or address.
        port: Server port.
        ssl: Use HTTPS to reach the server.
        headers: Extra HTTP headers (e.g. an auth token) for the server.
        client: A ready Chroma client.

    Raises:
        ValueError: If the existing collection uses a distance other than cosine.

    Example:
        >>> store = ChromaBackend(dim=3, collection="example-cache")
        >>> store.count()
        0
    """

    def __init__(
        self,
        dim: int,
        collection: str = "omnicache",
        *,
        path: str | os.PathLike[str] | None = None,
        host: str | None = None,
        port: int = 8000,
        ssl: bool = False,
        headers: Mapping[str, str] | None = None,
        client: Any = None,
    ) -> None:
        super().__init__(dim)
        if sum(x is not None for x in (path, host, client)) > 1:
            raise ValueError("give at most one of path, host or client")
        # Telemetry off: a cache must not phone home, and this machine may have no network.
        settings = Settings(anonymized_telemetry=False)
        self._owns_client = client is None
        #: Every process reaching this collection sees the same index (a server): a
        #: semantic cache can use it as its shared index as is (``shared_index=True``).
        self.shared = host is not None or _is_http_client(client)
        if client is not None:
            self._client = client
        elif path is not None:
            self._client = chromadb.PersistentClient(path=os.fspath(path), settings=settings)
        elif host is not None:
            self._client = chromadb.HttpClient(
                host=host, port=port, ssl=ssl, headers=dict(headers or {}), settings=settings
            )
        else:
            self._client = chromadb.EphemeralClient(settings=settings)
        # embedding_function=None: vectors always come from the caller, and Chroma's default
        # function would try to fetch a model from the network the first time it ran.
        self._collection = self._client.get_or_create_collection(
            collection, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        config = getattr(self._collection, "configuration_json", None) or {}
        space = (config.get("hnsw") or {}).get("space") or (
            (self._collection.metadata or {}).get("hnsw:space")
        )
        if space not in (None, "cosine"):
            raise ValueError(
                f"Chroma collection {collection!r} uses {space!r} distance; the semantic cache "
                "needs cosine. Use another collection name."
            )
        self._lock = threading.Lock()
        self._closed = False
        self._max_batch = int(self._client.get_max_batch_size())

    def add(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        metadatas: Sequence[Mapping[str, MetadataValue] | None] | None = None,
    ) -> None:
        """Upsert vectors into the collection (an existing id is replaced whole).

        Example:
            >>> s = ChromaBackend(dim=2, collection="example-add")
            >>> s.add(["a"], [[1.0, 0.0]], [{"model": "m1"}]); s.count()
            1
        """
        id_list, arr, metas = self._prepare_add(ids, vectors, metadatas)
        self._check_open()
        stored = [to_stored_metadata(m) for m in metas]
        for start in range(0, len(id_list), self._max_batch):
            stop = start + self._max_batch
            batch_ids = id_list[start:stop]
            batch_meta: list[dict[str, Any]] = [dict(m) for m in stored[start:stop]]
            # Chroma's upsert merges metadata into the old entry's; a key the new entry does
            # not have must be set to None to be removed, or a stale partition key survives.
            previous = self._collection.get(ids=batch_ids, include=["metadatas"])
            position = {i: p for p, i in enumerate(batch_ids)}
            for ident, old in zip(previous["ids"], previous["metadatas"] or [], strict=False):
                new = batch_meta[position[ident]]
                for key in old or {}:
                    new.setdefault(key, None)
            self._collection.upsert(
                ids=batch_ids,
                embeddings=arr[start:stop],
                metadatas=batch_meta,
            )

    def search(
        self,
        vector: npt.ArrayLike,
        k: int = 1,
        filter: Mapping[str, FilterValue] | None = None,
        *,
        now: float | None = None,
    ) -> list[VectorHit]:
        """Nearest entries by cosine similarity, filtered inside Chroma's query.

        Example:
            >>> s = ChromaBackend(dim=2, collection="example-search")
            >>> s.add(["a"], [[1.0, 0.0]], [{"tenant": "t1"}])
            >>> [h.id for h in s.search([1.0, 0.0], filter={"tenant": "t2"})]
            []
        """
        q, flt = self._prepare_search(vector, k, filter)
        self._check_open()
        conditions: list[dict[str, Any]] = [{key: value} for key, value in flt.items()]
        if now is not None:
            conditions.append({STORED_EXPIRY: {"$gt": float(now)}})
        where: dict[str, Any] | None = None
        if len(conditions) == 1:
            where = conditions[0]
        elif conditions:
            where = {"$and": conditions}
        result = self._query(q.reshape(1, -1), k, where)
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        metadatas = (result.get("metadatas") or [[None] * len(ids)])[0]
        hits = [
            # Chroma's cosine space reports the distance 1 - cos.
            VectorHit(i, float(np.clip(1.0 - d, -1.0, 1.0)), from_stored_metadata(m))
            for i, d, m in zip(ids, distances, metadatas, strict=True)
        ]
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits

    def _query(self, q: npt.NDArray[np.float32], k: int, where: dict[str, Any] | None) -> Any:
        for attempt in range(_QUERY_RETRIES + 1):
            try:
                return self._collection.query(
                    query_embeddings=q, n_results=k, where=where, include=["metadatas", "distances"]
                )
            except InternalError as err:
                # A Chroma server (seen with 1.5) answers a query that races the first
                # writes to a collection with "Error creating hnsw segment reader: Nothing
                # found on disk"; the same query succeeds moments later. Reads are
                # idempotent, so retry those, briefly.
                if "segment reader" not in str(err) or attempt == _QUERY_RETRIES:
                    raise
                time.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def delete(self, ids: Sequence[str]) -> None:
        """Remove entries by id; unknown ids are ignored.

        Example:
            >>> s = ChromaBackend(dim=2, collection="example-delete")
            >>> s.add(["a"], [[1.0, 0.0]]); s.delete(["a", "b"]); s.count()
            0
        """
        id_list = self._prepare_ids(ids)
        self._check_open()
        for start in range(0, len(id_list), self._max_batch):
            self._collection.delete(ids=id_list[start : start + self._max_batch])

    def count(self) -> int:
        """Number of entries in the collection.

        Example:
            >>> ChromaBackend(dim=2, collection="example-count").count()
            0
        """
        self._check_open()
        return int(self._collection.count())

    def clear(self) -> None:
        """Delete every entry; the collection and its configuration stay.

        Example:
            >>> s = ChromaBackend(dim=2, collection="example-clear")
            >>> s.add(["a"], [[1.0, 0.0]]); s.clear(); s.count()
            0
        """
        self._check_open()
        # Serialized so two concurrent clears do not page over ids the other just deleted.
        with self._lock:
            while True:
                page = self._collection.get(include=[], limit=_PAGE)["ids"]
                if not page:
                    break
                self._collection.delete(ids=page)

    def close(self) -> None:
        """Drop the collection handle; closes the client only if this backend created it.

        Example:
            >>> s = ChromaBackend(dim=2, collection="example-close"); s.close(); s.close()
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if not self._owns_client:
            return
        # chromadb's HTTP client (checked up to 1.5) never closes the httpx sessions of its
        # client and admin-client Systems, which leaks sockets. Each HttpClient gets Systems
        # of its own (unique identifiers), so the sessions of a client we created are ours.
        servers = [
            getattr(holder, "_server", None)
            for holder in (self._client, getattr(self._client, "_admin_client", None))
        ]
        closer = getattr(self._client, "close", None)
        if callable(closer):
            closer()
        for server in servers:
            session = getattr(server, "_session", None)
            if session is not None and hasattr(session, "close"):
                session.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("ChromaBackend is closed")
