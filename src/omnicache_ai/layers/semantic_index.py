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

The log is compacted: every ``compact_every`` records, one process (holding a lease taken
with an atomic counter) folds the previous snapshot and the log after it into a new
snapshot of the live entries (removed and expired ones dropped), publishes it with one
write, and trims the log up to the previous snapshot. A process starting later loads the
newest snapshot, then the log after it; a running replica that finds records it has not
applied trimmed away (it was idle through two compactions) reloads the snapshot. Log
records also expire after ``log_ttl`` seconds, a bound for a log nobody compacts. A slot
reserved but not written yet (a writer between its increment and its write) is retried
for ``gap_timeout`` seconds, then given up (a compaction never folds past it before). A
log whose counter went backwards (the backend was flushed) is replayed from the start
into an emptied replica.

A vector *server* (``ChromaBackend(host=...)``) needs none of this: it is one index for
every process already, and ``SemanticCache(shared_index=True, vector_backend=server)`` uses
it as is (both have ``shared = True``).

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

import logging
import math
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from omnicache_ai.backends.vector.base import (
    EXPIRES_AT,
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
_CHUNK: Final = 1000  # log records per read; entries per snapshot part
_PARTS_PER_READ: Final = 8

log = logging.getLogger(__name__)


class SharedVectorIndex:
    """A local vector index kept in step with every process through a log in the backend.

    Args:
        manager: Where the log lives (a Redis or disk backend shares it between processes).
            Use the cache's untenanted manager: the index, like the default one, serves
            every tenant view (payload reads stay tenant-scoped).
        dim: Vector dimension.
        name: Log name; caches that must not share vectors use different names.
        local: The replica (default: the zero-config in-process index,
            :func:`~omnicache_ai.backends.vector.default_vector_backend`: FAISS when
            installed, so a replica that catches up on a large log in one replayed batch
            builds its IVF index at once instead of scanning every row).
        poll_interval: Seconds between look-ups of the log counter before a search
            (0: before every search).
        log_ttl: Seconds a log record lives (and so how far back a new process can replay).
        gap_timeout: Seconds a reserved but unwritten log slot is waited for.
        compact_every: Log records after the newest snapshot that start a compaction
            (:meth:`compact`, in a background thread of the process that notices; 0: never
            on its own).
        lease: Longest seconds one compaction may hold the compaction lease.

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
        compact_every: int = 10_000,
        lease: float = 300.0,
    ) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        for label, value in (
            ("poll_interval", poll_interval),
            ("log_ttl", log_ttl),
            ("gap_timeout", gap_timeout),
            ("lease", lease),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{label} must be seconds >= 0, got {value!r}")
        if (
            isinstance(compact_every, bool)
            or not isinstance(compact_every, int)
            or compact_every < 0
        ):
            raise ValueError(f"compact_every must be an int >= 0, got {compact_every!r}")
        if local is None:
            from omnicache_ai.backends.vector import default_vector_backend

            local = default_vector_backend(dim)
        self.dim = dim
        #: Shared by every process on ``manager``'s backend (see ``SemanticCache(shared_index=)``).
        self.shared = True
        self.manager = manager
        self.name = name
        self.local = local
        self.poll_interval = float(poll_interval)
        self.log_ttl = float(log_ttl)
        self.gap_timeout = float(gap_timeout)
        self.compact_every = compact_every
        self.lease = float(lease)
        self._records = RecordStore(_LAYER)
        self._sync_lock = threading.Lock()
        self._applied = 0  # every slot up to here was applied or given up
        self._gaps: dict[int, float] = {}  # slot -> monotonic deadline
        self._due = -math.inf
        self._top = 0  # the log counter as last read
        self._snap_seq = 0  # the newest snapshot's sequence number known here
        self._compact_due = -math.inf
        self._compacting = False
        #: Counters: log records applied, appended, failed appends, last rebuild seconds.
        self.stats: dict[str, float] = {"applied": 0, "appended": 0, "unlogged": 0}
        t0 = time.perf_counter()
        self.catch_up(force=True)
        self.stats["rebuild_seconds"] = time.perf_counter() - t0

    # ---- keys -------------------------------------------------------------------------------
    def _key(self, slot: int | None) -> str:
        """The log counter (``None``) or one log slot."""
        payload: dict[str, Any] = {"name": self.name}
        payload["n" if slot is None else "slot"] = 0 if slot is None else slot
        return self.manager.key_builder.build(_KEY_TYPE, payload)

    def _meta_key(self, what: str, gen: int = 0, part: int = 0) -> str:
        """Snapshot bookkeeping: ``pointer``, ``gens`` (counter), ``lease``, ``part``."""
        payload: dict[str, Any] = {"name": self.name, what: gen, "part": part}
        return self.manager.key_builder.build(_KEY_TYPE, payload)

    # ---- the log ----------------------------------------------------------------------------
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
        ``force=True`` to look now. A replica that is empty, or that finds records it has
        not applied trimmed away by a compaction, first loads the latest snapshot. A failing
        backend is counted and logged, never raised (unless the manager is strict); the
        replica keeps serving what it has.
        """
        now = time.monotonic()
        if not force and now < self._due:
            return 0
        if not self._sync_lock.acquire(blocking=force):
            return 0  # another thread is catching up right now
        try:
            self._due = now + self.poll_interval
            applied = self._catch_up(now)
            self.stats["applied"] += applied
        finally:
            self._sync_lock.release()
        self._maybe_compact(now)
        return applied

    def _catch_up(self, now: float) -> int:
        m = self.manager
        top = self._records.incr(m, self._key(None), 0, "load")
        if top is None:
            return 0
        if top < self._applied:
            # The log was wiped (a flushed backend, a tenant clear()): replay it anew.
            self.local.clear()
            self._applied, self._gaps, self._snap_seq = 0, {}, 0
            self.stats["rebuilds"] = self.stats.get("rebuilds", 0) + 1
        self._top = int(top)
        checked_snapshot = False
        if self._applied == 0 and top > 0:
            checked_snapshot = True
            if self._load_snapshot() is None:
                return 0
        applied = 0
        # Records read are applied once per pass, not once per chunk read, so a long
        # catch-up replays its adds as one bulk add (see _apply).
        batch: list[dict[str, Any]] = []
        while True:
            slots = sorted(self._gaps) + list(range(self._applied + 1, int(top) + 1))
            trimmed = False
            for start in range(0, len(slots), _CHUNK):
                chunk = slots[start : start + _CHUNK]
                keys = {s: self._key(s) for s in chunk}
                found = self._records.load(m, list(keys.values()))
                if found is None:
                    return applied + self._apply(batch)  # retried from here next time
                missing = [s for s in chunk if not isinstance(found.get(keys[s]), Mapping)]
                if missing and not checked_snapshot:
                    # Records that are gone may have been compacted into a snapshot.
                    checked_snapshot = True
                    seq = self._load_snapshot(newer_than=min(missing) - 1)
                    if seq is None:
                        return applied + self._apply(batch)
                    if seq:
                        # The snapshot replaced the replica; what was read before it is
                        # covered by it (the same as applying it and then clearing).
                        applied, trimmed, batch = 0, True, []
                        break
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
            if not trimmed:
                return applied + self._apply(batch)

    # ---- snapshots --------------------------------------------------------------------------
    def _read_pointer(self) -> tuple[bool, dict[str, Any] | None]:
        """(read, pointer): the snapshot pointer (``None``: no snapshot) if the read worked."""
        key = self._meta_key("pointer")
        found = self._records.load(self.manager, [key])
        if found is None:
            return False, None
        ptr = found.get(key)
        if not isinstance(ptr, Mapping) or ptr.get("dim") != self.dim:
            return True, None
        return True, dict(ptr)

    def _read_parts(self, ptr: Mapping[str, Any]) -> list[dict[str, Any]] | None:
        """Every part of a snapshot, or ``None`` if one is missing or the backend failed."""
        keys = [self._meta_key("part", int(ptr["gen"]), i) for i in range(int(ptr["parts"]))]
        parts: list[dict[str, Any]] = []
        for start in range(0, len(keys), _PARTS_PER_READ):
            found = self._records.load(self.manager, keys[start : start + _PARTS_PER_READ])
            if found is None:
                return None
            for key in keys[start : start + _PARTS_PER_READ]:
                part = found.get(key)
                if not isinstance(part, Mapping):
                    return None  # replaced and removed meanwhile: read the pointer again
                parts.append(dict(part))
        return parts

    def _load_snapshot(self, newer_than: int = 0) -> int | None:
        """Replace the replica with the latest snapshot if it covers more than ``newer_than``.

        Returns the snapshot's sequence number (0: none loaded) or ``None`` if the backend
        failed.
        """
        for _ in range(3):
            ok, ptr = self._read_pointer()
            if not ok:
                return None
            if ptr is None or int(ptr["seq"]) <= newer_than:
                return 0
            parts = self._read_parts(ptr)
            if parts is None:
                continue
            self.local.clear()
            # One add for the whole snapshot, not one per part: a bulk add lets the replica
            # build its approximate index at once (FAISSBackend's bulk build).
            all_ids: list[str] = []
            matrices: list[npt.NDArray[np.float32]] = []
            all_metas: list[dict[str, MetadataValue]] = []
            for part in parts:
                ids = [str(i) for i in part.get("i") or ()]
                raw = part.get("v")
                if not ids or not isinstance(raw, bytes) or len(raw) != 4 * self.dim * len(ids):
                    continue
                metas = [dict(x) if isinstance(x, Mapping) else {} for x in part.get("m") or ()]
                all_ids.extend(ids)
                matrices.append(np.frombuffer(raw, dtype="<f4").reshape(len(ids), self.dim))
                all_metas.extend(metas if len(metas) == len(ids) else [{} for _ in ids])
            if all_ids:
                self.local.add(all_ids, np.concatenate(matrices), all_metas)
            seq = int(ptr["seq"])
            self._applied, self._gaps, self._snap_seq = seq, {}, seq
            self.stats["snapshot_loads"] = self.stats.get("snapshot_loads", 0) + 1
            return seq
        return None

    def _maybe_compact(self, now: float) -> None:
        """Start a background compaction when the log outgrew ``compact_every`` records."""
        if (
            not self.compact_every
            or self._top - self._snap_seq < self.compact_every
            or now < self._compact_due
            or self._compacting
        ):
            return
        self._compact_due = now + max(1.0, self.poll_interval)
        self._compacting = True
        threading.Thread(target=self._compact_in_background, daemon=True).start()

    def _compact_in_background(self) -> None:
        try:
            self.compact()
        except Exception:  # a strict manager's error must not kill the thread silently
            log.warning("SharedVectorIndex %r: background compaction failed", self.name,
                        exc_info=True)  # fmt: skip
        finally:
            self._compacting = False

    def compact(self) -> bool:
        """Fold the log into a snapshot and trim the log; whether a snapshot was written.

        One process at a time: the compactor holds a lease (an atomic counter with an expiry,
        :meth:`CacheManager.incr`, ``lease`` seconds); another caller returns ``False`` at
        once. The new snapshot is the previous one plus the log records after it, up to the
        last slot this replica has settled (applied, or given up after ``gap_timeout``),
        without removed entries and without entries already expired. It is written part by
        part, then published by one write of its pointer. The log is trimmed up to the
        *previous* snapshot, so a replica that is at most one compaction behind still
        catches up from the log; one further behind loads the snapshot.

        Called in a background thread by :meth:`catch_up` every ``compact_every`` records;
        call it yourself (e.g. from a maintenance job) with ``compact_every=0``.
        """
        m = self.manager
        lease_key = self._meta_key("lease")
        if m.incr(lease_key, 1, ttl=self.lease, layer=_LAYER) != 1:
            return False
        t0 = time.monotonic()
        try:
            return self._compact()
        finally:
            if time.monotonic() - t0 < self.lease:  # else it may be someone else's by now
                m.delete(lease_key, layer=_LAYER)

    def _compact(self) -> bool:
        m = self.manager
        with self._sync_lock:
            self.stats["applied"] += self._catch_up(time.monotonic())
            seq = min(self._gaps) - 1 if self._gaps else self._applied
        ok, ptr = self._read_pointer()
        base = 0 if ptr is None else int(ptr["seq"])
        if not ok or seq <= base:
            return False
        live = self._fold(ptr, seq)
        if live is None:
            return False
        gen = self._records.incr(m, self._meta_key("gens"), 1, "snapshot")
        if gen is None:
            return False
        parts_out = {
            self._meta_key("part", gen, n): {
                "i": [i for i, _, _ in live[start : start + _CHUNK]],
                "v": b"".join(v for _, v, _ in live[start : start + _CHUNK]),
                "m": [meta for _, _, meta in live[start : start + _CHUNK]],
            }
            for n, start in enumerate(range(0, len(live), _CHUNK))
        }
        if not self._records.save(m, parts_out, 0):
            m.delete_many(parts_out, layer=_LAYER)
            return False
        ok, again = self._read_pointer()
        if not ok or (again or {}).get("gen") != (ptr or {}).get("gen"):
            m.delete_many(parts_out, layer=_LAYER)  # another compactor published meanwhile
            return False
        pointer = {
            "v": 1,
            "dim": self.dim,
            "gen": gen,
            "seq": seq,
            "parts": len(parts_out),
            "count": len(live),
            "prev": None if ptr is None else {k: ptr[k] for k in ("gen", "parts", "seq")},
            "trimmed": base,
        }
        if not self._records.save(m, {self._meta_key("pointer"): pointer}, 0):
            m.delete_many(parts_out, layer=_LAYER)
            return False
        with self._sync_lock:
            self._snap_seq = max(self._snap_seq, seq)
        self.stats["compactions"] = self.stats.get("compactions", 0) + 1
        if ptr is not None:
            self._trim(ptr)
        return True

    def _fold(
        self, ptr: Mapping[str, Any] | None, seq: int
    ) -> list[tuple[str, bytes, dict[str, Any]]] | None:
        """The live entries at log position ``seq``: a snapshot, then the log after it."""
        base = 0 if ptr is None else int(ptr["seq"])
        m = self.manager
        state: dict[str, tuple[bytes, dict[str, Any]]] = {}
        if ptr is not None:
            parts = self._read_parts(ptr)
            if parts is None:
                return None
            for part in parts:
                ids, raw, metas = part.get("i") or (), part.get("v"), part.get("m") or ()
                row = 4 * self.dim
                if not isinstance(raw, bytes) or len(raw) != row * len(ids):
                    continue  # damaged: its entries are lost to the index (not their answers)
                for n, (i, meta) in enumerate(zip(ids, metas, strict=False)):
                    state[str(i)] = (raw[n * row : (n + 1) * row], meta)
        for start in range(base + 1, seq + 1, _CHUNK):
            keys = [self._key(s) for s in range(start, min(seq, start + _CHUNK - 1) + 1)]
            found = self._records.load(m, keys)
            if found is None:
                return None
            for key in keys:
                r = found.get(key)
                if not isinstance(r, Mapping):
                    continue  # given up by the replicas too
                op = r.get("o")
                if op == "a" and isinstance(r.get("v"), bytes) and len(r["v"]) == 4 * self.dim:
                    meta = r.get("m")
                    state[str(r.get("i"))] = (
                        r["v"],
                        dict(meta) if isinstance(meta, Mapping) else {},
                    )
                elif op == "d":
                    for i in r.get("i") or ():
                        state.pop(str(i), None)
                elif op == "c":
                    state.clear()
        wall = time.time()
        return [
            (i, v, meta)
            for i, (v, meta) in state.items()
            if not (isinstance(exp := meta.get(EXPIRES_AT), int | float) and exp <= wall)
        ]

    def _trim(self, ptr: Mapping[str, Any]) -> None:
        """Remove what a replica one compaction behind no longer needs.

        That is the snapshot before ``ptr`` (the one just replaced) and the log records up
        to ``ptr``'s sequence number. A failed delete leaves records that expire anyway.
        """
        m = self.manager
        older = ptr.get("prev")
        if isinstance(older, Mapping):
            n_old = int(older["parts"])
            m.delete_many(
                [self._meta_key("part", int(older["gen"]), n) for n in range(n_old)],
                layer=_LAYER,
            )
        base = int(ptr["seq"])
        for start in range(int(ptr.get("trimmed") or 0) + 1, base + 1, _CHUNK):
            stop = min(base, start + _CHUNK - 1)
            m.delete_many([self._key(s) for s in range(start, stop + 1)], layer=_LAYER)

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
