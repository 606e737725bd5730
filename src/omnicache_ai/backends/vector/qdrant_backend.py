"""Qdrant-backed vector store: local mode (a directory or ``:memory:``) or a Qdrant server.

The collection is created (cosine distance) when missing and never recreated when present; one
with another size or distance is refused. Qdrant point ids must be integers or UUIDs, so each
string id is mapped to a UUID5 (the same string always gives the same UUID, in every process)
and the original id travels in the payload. Filters become Qdrant payload conditions, which
Qdrant applies inside its vector search.

Example:
    >>> import numpy as np
    >>> from omnicache_ai.backends.vector_backend import QdrantBackend
    >>> store = QdrantBackend(dim=3, location=":memory:")
    >>> store.add(["q1"], np.array([[1.0, 0.0, 0.0]]), [{"tenant": "acme"}])
    >>> store.search(np.array([1.0, 0.1, 0.0]), filter={"tenant": "acme"})[0].id
    'q1'
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy.typing as npt

from omnicache_ai.backends.vector.base import (
    RESERVED_PREFIX,
    STORED_EXPIRY,
    BaseVectorBackend,
    FilterValue,
    MetadataValue,
    VectorHit,
    from_stored_metadata,
    to_stored_metadata,
)

try:
    from qdrant_client import QdrantClient, models
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "QdrantBackend needs qdrant-client; install it with: "
        "pip install 'omnicache-ai[vector-qdrant]'"
    ) from err

__all__ = ["QdrantBackend", "point_id"]

#: Namespace of the UUID5 point ids; changing it would orphan every stored point.
_ID_NAMESPACE = uuid.UUID("6d1f4a52-3c8e-5b7a-9e0d-2f4b8c1a7e36")
_ID_KEY = RESERVED_PREFIX + "id"
_BATCH = 256


def point_id(ident: str) -> str:
    """The Qdrant point id (a UUID5 string) that stores the entry ``ident``.

    Example:
        >>> point_id("q1") == point_id("q1"), point_id("q1") == point_id("q2")
        (True, False)
    """
    return str(uuid.uuid5(_ID_NAMESPACE, ident))


class QdrantBackend(BaseVectorBackend):
    """Vector store on a Qdrant collection (cosine distance).

    Give one of ``path`` (local mode on disk), ``location`` (``":memory:"`` for local mode in
    memory, or a server URL), ``url`` (a server) or ``client`` (your own ``QdrantClient``,
    not closed by :meth:`close`). With none, local mode in memory is used. Local mode runs
    inside this process, locks its directory against other processes, and is meant for
    development and tests; use a server beyond some tens of thousands of points.

    Args:
        dim: Vector dimension of the collection.
        collection: Collection name.
        path: Directory for local mode.
        location: ``":memory:"`` or a server URL.
        url: Server URL, e.g. ``http://localhost:6333``.
        api_key: Server API key.
        client: A ready ``QdrantClient``.
        payload_indexes: Metadata keys to index on a server (keyword indexes), which keeps
            filtered search fast at scale. Ignored in local mode, which has no indexes.

    Raises:
        ValueError: If the existing collection has another vector size or distance.

    Example:
        >>> store = QdrantBackend(dim=384, collection="example")
        >>> store.count()
        0
    """

    def __init__(
        self,
        dim: int,
        collection: str = "omnicache",
        *,
        path: str | os.PathLike[str] | None = None,
        location: str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        client: QdrantClient | None = None,
        payload_indexes: Sequence[str] = (),
    ) -> None:
        super().__init__(dim)
        if sum(x is not None for x in (path, location, url, client)) > 1:
            raise ValueError("give at most one of path, location, url or client")
        self._owns_client = client is None
        if client is not None:
            self._client = client
        elif path is not None:
            self._client = QdrantClient(path=os.fspath(path))
        elif url is not None:
            self._client = QdrantClient(url=url, api_key=api_key)
        else:
            self._client = QdrantClient(location=location or ":memory:", api_key=api_key)
        # Local mode is plain Python state without its own locking; a server client is
        # thread-safe, so it gets a no-op lock and keeps full concurrency.
        self._local = (
            client is None and url is None and (path is not None or location in (None, ":memory:"))
        )
        self._lock: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self._local else contextlib.nullcontext()
        )
        self._state_lock = threading.Lock()
        self._closed = False
        self._collection = collection
        with self._lock:
            self._ensure_collection(payload_indexes)

    def _ensure_collection(self, payload_indexes: Sequence[str]) -> None:
        if self._client.collection_exists(self._collection):
            params = self._client.get_collection(self._collection).config.params.vectors
            size = getattr(params, "size", None)
            distance = getattr(params, "distance", None)
            if size != self.dim or distance != models.Distance.COSINE:
                raise ValueError(
                    f"Qdrant collection {self._collection!r} holds vectors of size {size} with "
                    f"{distance} distance; expected size {self.dim} with cosine distance"
                )
            return
        self._client.create_collection(
            self._collection,
            vectors_config=models.VectorParams(size=self.dim, distance=models.Distance.COSINE),
        )
        if not self._local:
            for key in payload_indexes:
                self._client.create_payload_index(
                    self._collection, key, field_schema=models.PayloadSchemaType.KEYWORD
                )

    def add(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        metadatas: Sequence[Mapping[str, MetadataValue] | None] | None = None,
    ) -> None:
        """Upsert points (an existing id is replaced whole) and wait until searchable.

        Example:
            >>> s = QdrantBackend(dim=2)
            >>> s.add(["a"], [[1.0, 0.0]], [{"model": "m1"}]); s.count()
            1
        """
        id_list, arr, metas = self._prepare_add(ids, vectors, metadatas)
        points = [
            models.PointStruct(
                id=point_id(i),
                vector=vec.tolist(),
                payload={**to_stored_metadata(meta), _ID_KEY: i},
            )
            for i, vec, meta in zip(id_list, arr, metas, strict=True)
        ]
        with self._lock:
            self._check_open()
            for start in range(0, len(points), _BATCH):
                self._client.upsert(self._collection, points=points[start : start + _BATCH])

    def search(
        self,
        vector: npt.ArrayLike,
        k: int = 1,
        filter: Mapping[str, FilterValue] | None = None,
        *,
        now: float | None = None,
    ) -> list[VectorHit]:
        """Nearest points by cosine similarity, with the filter applied inside Qdrant.

        Example:
            >>> s = QdrantBackend(dim=2)
            >>> s.add(["a"], [[1.0, 0.0]], [{"tenant": "t1"}])
            >>> [h.id for h in s.search([1.0, 0.0], filter={"tenant": "t2"})]
            []
        """
        q, flt = self._prepare_search(vector, k, filter)
        must: list[Any] = [
            models.FieldCondition(key=key, match=models.MatchValue(value=value))
            for key, value in flt.items()
        ]
        if now is not None:
            must.append(models.FieldCondition(key=STORED_EXPIRY, range=models.Range(gt=float(now))))
        with self._lock:
            self._check_open()
            response = self._client.query_points(
                self._collection,
                query=q.tolist(),
                limit=k,
                query_filter=models.Filter(must=must) if must else None,
                with_payload=True,
            )
        hits = []
        for point in response.points:
            payload = point.payload or {}
            ident = payload.get(_ID_KEY)
            if isinstance(ident, str):
                score = max(-1.0, min(1.0, float(point.score)))
                hits.append(VectorHit(ident, score, from_stored_metadata(payload)))
        return hits

    def delete(self, ids: Sequence[str]) -> None:
        """Remove points by id; unknown ids are ignored.

        Example:
            >>> s = QdrantBackend(dim=2)
            >>> s.add(["a"], [[1.0, 0.0]]); s.delete(["a", "b"]); s.count()
            0
        """
        id_list = self._prepare_ids(ids)
        if not id_list:
            return
        with self._lock:
            self._check_open()
            for chunk in _chunks([point_id(i) for i in id_list], _BATCH):
                self._client.delete(
                    self._collection, points_selector=models.PointIdsList(points=list(chunk))
                )

    def count(self) -> int:
        """Number of points in the collection (an exact count).

        Example:
            >>> QdrantBackend(dim=2).count()
            0
        """
        with self._lock:
            self._check_open()
            return int(self._client.count(self._collection, exact=True).count)

    def clear(self) -> None:
        """Delete every point; the collection and its configuration stay.

        Example:
            >>> s = QdrantBackend(dim=2)
            >>> s.add(["a"], [[1.0, 0.0]]); s.clear(); s.count()
            0
        """
        with self._lock:
            self._check_open()
            self._client.delete(
                self._collection, points_selector=models.FilterSelector(filter=models.Filter())
            )

    def close(self) -> None:
        """Close the client if this backend created it (releases a local-mode directory).

        Example:
            >>> s = QdrantBackend(dim=2); s.close(); s.close()
        """
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
        if self._owns_client:
            with self._lock:
                self._client.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("QdrantBackend is closed")


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
