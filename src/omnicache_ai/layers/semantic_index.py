"""A semantic index shared by every process on one backend: a local replica fed by a log.

:class:`SharedVectorIndex` is a :class:`~omnicache_ai.backends.vector.base.VectorBackend`
for :class:`~omnicache_ai.layers.semantic_cache.SemanticCache`. Every change (add, delete,
clear) is applied to a local index (numpy by default, or any vector backend) and appended
to a change log kept through the cache's :class:`CacheManager` (Redis, disk): a log record
per change, numbered by one atomic counter (:meth:`CacheManager.incr`), so writers never
collide. Each process replays the log into its own replica when it starts and catches up
at most every ``poll_interval`` seconds before a search, so an entry stored by any process
is a semantic hit in every process within about ``poll_interval`` seconds.

What it does not replicate: expiry and tag invalidation. They need no log record: the
vector's metadata carries its expiry (filtered at search time), and a semantic hit is served
only after its exact-tier payload is read back, so a vector whose payload expired, was
invalidated or cleared (a tenant ``clear()``) is a miss (and the cache deletes it, which is
logged and so propagates).

Log records expire after ``log_ttl`` seconds; that bounds the log. A process starting later
replays whatever is still there; a slot reserved but not written yet (a writer between its
increment and its write) is retried for ``gap_timeout`` seconds, then given up. A log whose
counter went backwards (the backend was flushed, the tenant cleared) is replayed from the
start into an emptied replica.

Example:
    >>> from omnicache_ai import CacheManager, InMemoryBackend
    >>> from omnicache_ai.embedders import HashingEmbedder
    >>> from omnicache_ai.layers.semantic_cache import SemanticCache
    >>> manager = CacheManager(backend=InMemoryBackend())
    >>> emb = HashingEmbedder(dim=64)
    >>> a = SemanticCache(manager, embedder=emb,
    ...                   vector_backend=SharedVectorIndex(manager, dim=64, poll_interval=0))
    >>> b = SemanticCache(manager, embedder=emb,
    ...                   vector_backend=SharedVectorIndex(manager, dim=64, poll_interval=0))
    >>> a.set("what is the boiling point of water", "100 C")
    >>> b.lookup("what is the boiling point of pure water").hit
    True
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from omnicache_ai.backends.vector.base import (
    FilterValue,
    MetadataValue,
    VectorBackend,
    VectorHit,
    normalize_rows,
)
from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.layers._persist import RecordStore

__all__ = ["SharedVectorIndex"]

_LAYER: Final = "semantic.index"
_KEY_TYPE: Final = "semantic-index"
_CHUNK: Final = 1000


class SharedVectorIndex:
    """A local vector index kept in step with every process through a log in the backend.

    Args:
        manager: Where the log lives (a Redis or disk backend shares it between processes).
            Use the cache's untenanted manager: the index, like the default one, serves
            every tenant view (payload reads stay tenant-scoped).
        dim: Vector dimension.
        name: Log name; caches that must not share vectors use different names.
        local: The replica (default: a new in-process ``NumpyBackend``).
        poll_interval: Seconds between look-ups of the log counter before a search
            (0: before every search).
        log_ttl: Seconds a log record lives (and so how far back a new process can replay).
        gap_timeout: Seconds a reserved but unwritten log slot is waited for.

    Raises:
        ValueError: On a non-positive ``dim`` or a negative interval.

    Example:
        >>> from omnicache_ai import CacheManager, InMemoryBackend
        >>> index = SharedVectorIndex(CacheManager(backend=InMemoryBackend()), dim=3)
        >>> index.add(["a"], [[1.0, 0.0, 0.0]])
        >>> [h.id for h in index.search([1.0, 0.1, 0.0])]
        ['a']
    """

    def __init__(
        self,
        manager: CacheManager,
        *,
        dim: int,
        name: str = "default",
        local: VectorBackend | None = None,
        poll_interval: float = 0.05,
        log_ttl: float = 7 * 86400.0,
        gap_timeout: float = 5.0,
    ) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        for label, value in (
            ("poll_interval", poll_interval),
            ("log_ttl", log_ttl),
            ("gap_timeout", gap_timeout),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{label} must be seconds >= 0, got {value!r}")
        if local is None:
            from omnicache_ai.backends.vector import NumpyBackend

            local = NumpyBackend(dim=dim)
        self.dim = dim
        self.manager = manager
        self.name = name
        self.local = local
        self.poll_interval = float(poll_interval)
        self.log_ttl = float(log_ttl)
        self.gap_timeout = float(gap_timeout)
        self._records = RecordStore(_LAYER)
        self._sync_lock = threading.Lock()
        self._applied = 0  # every slot up to here was applied or given up
        self._gaps: dict[int, float] = {}  # slot -> monotonic deadline
        self._due = -math.inf
        #: Counters: log records applied, appended, failed appends, last rebuild seconds.
        self.stats: dict[str, float] = {"applied": 0, "appended": 0, "unlogged": 0}
        t0 = time.perf_counter()
        self.catch_up(force=True)
        self.stats["rebuild_seconds"] = time.perf_counter() - t0

    # ---- the log ----------------------------------------------------------------------------
    def _key(self, slot: int | None) -> str:
        payload: dict[str, Any] = {"name": self.name}
        payload["n" if slot is None else "slot"] = 0 if slot is None else slot
        return self.manager.key_builder.build(_KEY_TYPE, payload)

    def _append(self, records: list[dict[str, Any]]) -> None:
        m = self.manager
        top = self._records.incr(m, self._key(None), len(records), "append")
        if top is None:  # logged and counted; the change stays local to this process
            self.stats["unlogged"] += len(records)
            return
        first = top - len(records) + 1
        items = {self._key(first + i): r for i, r in enumerate(records)}
        if self._records.save(m, items, self.log_ttl):
            self.stats["appended"] += len(records)
        else:
            self.stats["unlogged"] += len(records)

    def catch_up(self, *, force: bool = False) -> int:
        """Apply the log records this replica has not seen; returns how many were applied.

        Called by :meth:`search` at most every ``poll_interval`` seconds; call it with
        ``force=True`` to look now. A failing backend is counted and logged, never raised
        (unless the manager is strict); the replica keeps serving what it has.
        """
        now = time.monotonic()
        if not force and now < self._due:
            return 0
        if not self._sync_lock.acquire(blocking=force):
            return 0  # another thread is catching up right now
        try:
            self._due = now + self.poll_interval
            m = self.manager
            top = self._records.incr(m, self._key(None), 0, "load")
            if top is None:
                return 0
            if top < self._applied:
                # The log was wiped (a flushed backend, a tenant clear()): replay it anew.
                self.local.clear()
                self._applied, self._gaps = 0, {}
                self.stats["rebuilds"] = self.stats.get("rebuilds", 0) + 1
            slots = sorted(self._gaps) + list(range(self._applied + 1, int(top) + 1))
            applied = 0
            for start in range(0, len(slots), _CHUNK):
                chunk = slots[start : start + _CHUNK]
                keys = {s: self._key(s) for s in chunk}
                found = self._records.load(m, list(keys.values()))
                if found is None:
                    return applied  # retried from the same place next time
                batch: list[dict[str, Any]] = []
                for s in chunk:
                    record = found.get(keys[s])
                    if isinstance(record, Mapping):
                        self._gaps.pop(s, None)
                        batch.append(dict(record))
                    elif s not in self._gaps:
                        self._gaps[s] = now + self.gap_timeout
                    elif self._gaps[s] <= now:
                        del self._gaps[s]  # never written (a writer died) or expired
                    self._applied = max(self._applied, s)
                applied += self._apply(batch)
            self.stats["applied"] += applied
            return applied
        finally:
            self._sync_lock.release()

    def _apply(self, records: list[dict[str, Any]]) -> int:
        """Replay records in log order, adding runs of consecutive adds in one call."""
        ids: list[str] = []
        vecs: list[npt.NDArray[np.float32]] = []
        metas: list[dict[str, MetadataValue]] = []

        def flush() -> None:
            if ids:
                self.local.add(ids, np.vstack(vecs), metas)
                ids.clear()
                vecs.clear()
                metas.clear()

        n = 0
        for r in records:
            op = r.get("o")
            if op == "a":
                raw = r.get("v")
                if not isinstance(raw, bytes) or len(raw) != 4 * self.dim:
                    continue  # a record of another dimension (or damaged): skipped
                ids.append(str(r.get("i")))
                vecs.append(np.frombuffer(raw, dtype="<f4"))
                meta = r.get("m")
                metas.append(dict(meta) if isinstance(meta, Mapping) else {})
            elif op == "d":
                flush()
                self.local.delete([str(i) for i in r.get("i") or ()])
            elif op == "c":
                flush()
                self.local.clear()
            else:
                continue
            n += 1
        flush()
        return n

    # ---- VectorBackend ----------------------------------------------------------------------
    def add(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        metadatas: Sequence[Mapping[str, MetadataValue] | None] | None = None,
    ) -> None:
        """Upsert here at once, then log the vectors for every other process."""
        rows = normalize_rows(vectors, self.dim)
        self.local.add(ids, rows, metadatas)
        metas = list(metadatas) if metadatas is not None else [None] * len(ids)
        self._append(
            [
                {"o": "a", "i": i, "v": row.astype("<f4").tobytes(), "m": dict(meta or {})}
                for i, row, meta in zip(ids, rows, metas, strict=True)
            ]
        )

    def search(
        self,
        vector: npt.ArrayLike,
        k: int = 1,
        filter: Mapping[str, FilterValue] | None = None,
        *,
        now: float | None = None,
    ) -> list[VectorHit]:
        """Catch up with the log (at most every ``poll_interval``), then search locally."""
        self.catch_up()
        return self.local.search(vector, k, filter, now=now)

    def delete(self, ids: Sequence[str]) -> None:
        """Delete here and in every replica."""
        ids = list(ids)
        self.local.delete(ids)
        if ids:
            self._append([{"o": "d", "i": ids}])

    def count(self) -> int:
        """Entries in the replica (after catching up)."""
        self.catch_up()
        return self.local.count()

    def clear(self) -> None:
        """Empty this replica and every other one."""
        self.local.clear()
        self._append([{"o": "c"}])

    def close(self) -> None:
        """Close the replica."""
        self.local.close()

    def __repr__(self) -> str:
        return f"SharedVectorIndex({self.name!r}, dim={self.dim}, {self.manager!r})"
