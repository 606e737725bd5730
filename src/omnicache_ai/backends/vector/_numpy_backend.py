"""An exact, dependency-free vector store: brute force over a numpy matrix.

It is the fallback when no vector extra is installed and the storage engine that
:class:`~omnicache_ai.backends.vector.FAISSBackend` builds its approximate index on: rows live in
one float32 matrix, deletes leave tombstones that a compaction squeezes out, and every metadata
``(key, value)`` pair of a key that searches filter on keeps a posting list of its rows, so a
filtered search only ever scores rows of the requested partition. Posting lists are built the
first time a search filters on a key: keys stored but never filtered on (the semantic cache's
question text and payload key, unique per row) cost nothing to add or delete.

Example:
    >>> import numpy as np
    >>> from omnicache_ai.backends.vector import NumpyBackend
    >>> store = NumpyBackend(dim=2)
    >>> store.add(["x"], np.array([[1.0, 1.0]]), [{"tenant": "a"}])
    >>> store.search(np.array([1.0, 0.9]), filter={"tenant": "a"})[0].id
    'x'
    >>> store.search(np.array([1.0, 0.9]), filter={"tenant": "b"})
    []
"""

from __future__ import annotations

import json
import operator
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from omnicache_ai.backends.vector.base import (
    EXPIRES_AT,
    BaseVectorBackend,
    FilterValue,
    MetadataValue,
    VectorHit,
    search_threads,
)

__all__ = ["NumpyBackend", "StagedAdd"]

_FORMAT = "omnicache-vectors/1"
_STORE_FILE = "store.npz"

#: A posting-list key: the bool flag keeps ``True`` and ``1`` apart (Python hashes them alike).
_PKey = tuple[str, bool, MetadataValue]


#: ``meta -> expires_at`` (infinity when absent), mapped over a batch in C.
_EXPIRY_OF = operator.methodcaller("get", EXPIRES_AT, np.inf)


def _pkey(key: str, value: MetadataValue) -> _PKey:
    return (key, isinstance(value, bool), value)


class _Posting:
    """The rows holding one ``(key, value)`` pair: a set, plus a bitmap once it is large.

    The bitmap lets a search over a big partition build its row mask with a few vectorized
    ANDs instead of converting a huge Python set on every query.
    """

    __slots__ = ("bits", "rows")

    def __init__(self) -> None:
        self.rows: set[int] = set()
        self.bits: npt.NDArray[np.bool_] | None = None


class StagedAdd:
    """A batch validated and prepared by ``stage_add``, waiting for ``commit_add``.

    Opaque to callers: hand it back to the store that staged it.
    """

    __slots__ = ("committed", "ids", "metadatas", "prebuilt", "vectors")

    def __init__(
        self,
        ids: list[str],
        vectors: npt.NDArray[np.float32],
        metadatas: list[dict[str, MetadataValue]],
        prebuilt: Any = None,
    ) -> None:
        self.ids = ids
        self.vectors = vectors
        self.metadatas = metadatas
        self.prebuilt = prebuilt
        self.committed = False


class NumpyBackend(BaseVectorBackend):
    """Exact cosine search over an in-memory matrix, optionally saved to a directory.

    Search cost grows linearly with the number of rows scanned: fine up to some tens of
    thousands of entries, or far more when filters narrow a search to a small partition.
    Above that, use :class:`~omnicache_ai.backends.vector.FAISSBackend`, which adds an
    approximate index on the same engine.

    Args:
        dim: Vector dimension.
        path: A directory to persist to. When it holds a saved store, that store is loaded;
            :meth:`save` (also called by :meth:`close`) writes it back atomically. ``None``
            keeps everything in memory.
        threads: Threads one search may use (see
            :func:`~omnicache_ai.backends.vector.base.search_threads`; default ``1``, or
            ``OMNICACHE_VECTOR_THREADS``). With ``1`` the scan runs in numpy's own
            single-threaded kernel; otherwise it is a BLAS product, which uses as many
            threads as the BLAS library is configured for.

    Example:
        >>> import numpy as np
        >>> store = NumpyBackend(dim=2)
        >>> store.add(["a", "a"], np.array([[1.0, 0.0], [0.0, 1.0]]))  # last one wins
        >>> store.count(), store.search(np.array([0.0, 1.0]))[0].score
        (1, 1.0)
    """

    #: Below this fraction of all rows, a filtered search gathers the partition's rows
    #: instead of scanning the whole matrix under a mask.
    _GATHER_FRACTION = 0.125
    #: A posting list gets a bitmap once it holds this many rows (or 1/64 of all rows).
    _BITMAP_MIN_ROWS = 4096

    def __init__(
        self,
        dim: int,
        *,
        path: str | os.PathLike[str] | None = None,
        threads: int | None = None,
    ) -> None:
        super().__init__(dim)
        self._threads = search_threads(threads)
        self._lock = threading.RLock()
        # Metadata keys that some search has filtered on: only these keep posting lists.
        self._indexed: set[str] = set()
        self._closed = False
        self._dirty = False
        self._path = Path(path) if path is not None else None
        self._reset_storage(capacity=0)
        if self._path is not None and (self._path / _STORE_FILE).exists():
            self._load()

    # ---- storage -------------------------------------------------------------------------
    def _reset_storage(self, capacity: int) -> None:
        self._vecs: npt.NDArray[np.float32] = np.empty((capacity, self.dim), dtype=np.float32)
        self._alive: npt.NDArray[np.bool_] = np.zeros(capacity, dtype=np.bool_)
        self._expires: npt.NDArray[np.float64] = np.full(capacity, np.inf)
        self._ids: list[str | None] = []
        self._metas: list[dict[str, MetadataValue] | None] = []
        self._row_of: dict[str, int] = {}
        self._postings: dict[_PKey, _Posting] = {}
        self._n = 0
        self._dead = 0
        # A lower bound of every live row's expiry (deletes never raise it): while ``now`` is
        # below it, no row can have expired and searches skip the expiry mask.
        self._min_expiry = np.inf

    def _reserve(self, extra: int) -> None:
        need = self._n + extra
        cap = self._vecs.shape[0]
        if need <= cap:
            return
        new_cap = max(need, cap * 2, 1024)
        vecs = np.empty((new_cap, self.dim), dtype=np.float32)
        vecs[: self._n] = self._vecs[: self._n]
        alive = np.zeros(new_cap, dtype=np.bool_)
        alive[: self._n] = self._alive[: self._n]
        expires = np.full(new_cap, np.inf)
        expires[: self._n] = self._expires[: self._n]
        self._vecs, self._alive, self._expires = vecs, alive, expires
        for posting in self._postings.values():
            if posting.bits is not None:
                bits = np.zeros(new_cap, dtype=np.bool_)
                bits[: self._n] = posting.bits[: self._n]
                posting.bits = bits

    def _index_row(self, row: int, meta: Mapping[str, MetadataValue]) -> None:
        for key in self._indexed:
            if key not in meta:
                continue
            value = meta[key]
            posting = self._postings.get(_pkey(key, value))
            if posting is None:
                posting = self._postings[_pkey(key, value)] = _Posting()
            posting.rows.add(row)
            if posting.bits is not None:
                posting.bits[row] = True

    def _kill(self, row: int) -> None:
        meta = self._metas[row]
        if meta is not None:
            for key in self._indexed:
                if key not in meta:
                    continue
                pk = _pkey(key, meta[key])
                posting = self._postings[pk]
                posting.rows.discard(row)
                if posting.bits is not None:
                    posting.bits[row] = False
                if not posting.rows:
                    del self._postings[pk]
        old_id = self._ids[row]
        if old_id is not None:
            del self._row_of[old_id]
        self._ids[row] = None
        self._metas[row] = None
        self._alive[row] = False
        self._dead += 1

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")

    # ---- public API ----------------------------------------------------------------------
    def add(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        metadatas: Sequence[Mapping[str, MetadataValue] | None] | None = None,
    ) -> None:
        """Insert or replace vectors (upsert: an existing id is overwritten whole).

        Args:
            ids: One id per vector; a repeated id keeps its last vector.
            vectors: Array-like of shape ``(len(ids), dim)``; normalized on the way in.
            metadatas: Optional flat metadata per vector (str, int, float or bool values).

        Example:
            >>> import numpy as np
            >>> s = NumpyBackend(dim=2)
            >>> s.add(["a"], [[1.0, 0.0]], [{"model": "m1", "expires_at": 1e12}])
            >>> s.count()
            1
        """
        self.commit_add(self.stage_add(ids, vectors, metadatas))

    def stage_add(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        metadatas: Sequence[Mapping[str, MetadataValue] | None] | None = None,
    ) -> StagedAdd:
        """The first half of :meth:`add`: all the work that needs no lock, nothing visible yet.

        Validates and normalizes the batch (and, in :class:`FAISSBackend`, builds the
        approximate index a bulk load needs) without holding the store's lock, so searches
        and other writes carry on meanwhile. :meth:`commit_add` then makes the batch
        visible at once. ``add`` is exactly the two in a row; calling them apart lets a
        caller overlap the slow half with other work, e.g. ``SemanticCache.set_many`` writes
        its payloads meanwhile, so no vector is searchable before its payload is stored.

        Raises:
            TypeError, ValueError: As :meth:`add` would, before anything is written.

        Example:
            >>> import numpy as np
            >>> s = NumpyBackend(dim=2)
            >>> staged = s.stage_add(["a"], [[1.0, 0.0]])
            >>> s.count()
            0
            >>> s.commit_add(staged); s.count()
            1
        """
        id_list, arr, keep = self._prepare_rows(ids, vectors, metadatas)
        prebuilt = self._prebuild(len(id_list), arr)
        # The metadata are checked after the build (bad ones then waste it, but still raise
        # before anything is written): the build releases the GIL, so a caller staging from
        # a worker thread gets its own Python work done meanwhile, with no GIL contention.
        metas = self._prepare_metas(metadatas, len(id_list), keep)
        return StagedAdd(id_list, arr, metas, prebuilt)

    def commit_add(self, staged: StagedAdd) -> None:
        """Make a batch from :meth:`stage_add` visible (the second half of :meth:`add`).

        A staged batch is committed once; rows written, replaced or deleted since it was
        staged are handled as if the whole ``add`` had run at commit time.

        Example:
            >>> s = NumpyBackend(dim=2)
            >>> s.commit_add(s.stage_add(["a", "b"], [[1.0, 0.0], [0.0, 1.0]])); s.count()
            2
        """
        if staged.committed:
            raise ValueError("this staged batch was already committed")
        id_list, arr, metas = staged.ids, staged.vectors, staged.metadatas
        if not id_list:
            return
        with self._lock:
            self._check_open()
            staged.committed = True
            if self._row_of:  # upserts: drop the rows these ids had (a C loop when none)
                for row in [r for r in map(self._row_of.get, id_list) if r is not None]:
                    self._kill(row)
            start = self._n
            stop = start + len(id_list)
            if (
                not start
                and not self._postings
                and stop > len(self._vecs)
                and arr.base is None
                and arr.flags.c_contiguous
            ):
                # A bulk load into an empty store: adopt the batch's freshly normalized rows
                # (this method's own copy) as the matrix instead of copying them into a new
                # one, which at 100k x 384 is 150 MB written and page-faulted once more.
                self._vecs = arr
                self._alive = np.zeros(stop, dtype=np.bool_)
                self._expires = np.full(stop, np.inf)
            else:
                self._reserve(len(id_list))
                self._vecs[start:stop] = arr
            self._alive[start:stop] = True
            # One pass per column rather than per row: a 100k batch is a few list and array
            # operations plus the posting lists of the keys searches filter on.
            self._ids.extend(id_list)
            self._metas.extend(metas)
            self._row_of.update(zip(id_list, range(start, stop), strict=True))
            # Expiries were checked to be finite numbers; a missing one never expires.
            self._expires[start:stop] = list(map(_EXPIRY_OF, metas))
            self._min_expiry = min(self._min_expiry, float(self._expires[start:stop].min()))
            if self._indexed:
                for offset, meta in enumerate(metas):
                    self._index_row(start + offset, meta)
            self._n = stop
            self._dirty = True
            self._after_append(start, stop, staged.prebuilt)
            self._maybe_compact()

    def delete(self, ids: Sequence[str]) -> None:
        """Remove entries by id; unknown ids are ignored.

        Example:
            >>> s = NumpyBackend(dim=2)
            >>> s.add(["a"], [[1.0, 0.0]]); s.delete(["a", "never-added"]); s.count()
            0
        """
        id_list = self._prepare_ids(ids)
        with self._lock:
            self._check_open()
            if self._row_of:  # upserts: drop the rows these ids had (a C loop when none)
                for row in [r for r in map(self._row_of.get, id_list) if r is not None]:
                    self._kill(row)
                    self._dirty = True
            self._maybe_compact()

    def count(self) -> int:
        """Number of live entries.

        Example:
            >>> NumpyBackend(dim=2).count()
            0
        """
        with self._lock:
            return len(self._row_of)

    def clear(self) -> None:
        """Remove every entry.

        Example:
            >>> s = NumpyBackend(dim=2)
            >>> s.add(["a"], [[1.0, 0.0]]); s.clear(); s.count()
            0
        """
        with self._lock:
            self._check_open()
            self._reset_storage(capacity=0)
            self._dirty = True
            self._after_clear()

    def search(
        self,
        vector: npt.ArrayLike,
        k: int = 1,
        filter: Mapping[str, FilterValue] | None = None,
        *,
        now: float | None = None,
    ) -> list[VectorHit]:
        """The ``k`` entries most similar to ``vector`` among those matching ``filter``.

        Args:
            vector: The query, shape ``(dim,)``; normalized here.
            k: How many hits at most.
            filter: Exact-match conditions on metadata, all of which must hold.
            now: When given, entries whose ``expires_at`` is ``<= now`` are skipped.

        Returns:
            Hits sorted by descending cosine similarity.

        Example:
            >>> s = NumpyBackend(dim=2)
            >>> s.add(["old"], [[1.0, 0.0]], [{"expires_at": 100}])
            >>> s.search([1.0, 0.0], now=50)[0].id, s.search([1.0, 0.0], now=100)
            ('old', [])
        """
        q, flt = self._prepare_search(vector, k, filter)
        with self._lock:
            self._check_open()
            if not self._row_of:
                return []
            rows, scores = self._search_rows(q, k, flt, now)
            return self._hits(rows, scores)

    def save(self) -> None:
        """Write the store to its directory atomically (a no-op without a ``path``).

        A crash mid-write leaves the previous save intact: the new file is written beside
        it, flushed to disk, then renamed over it.

        Example:
            >>> import tempfile
            >>> d = tempfile.mkdtemp()
            >>> s = NumpyBackend(dim=2, path=d); s.add(["a"], [[1.0, 0.0]]); s.save()
            >>> NumpyBackend(dim=2, path=d).count()
            1
        """
        with self._lock:
            if self._path is None:
                return
            # Tombstoned rows are saved as such (id None): row numbers stay valid, so an
            # approximate index saved beside them reloads without a rebuild.
            arrays: dict[str, Any] = {
                "vectors": self._vecs[: self._n],
                "header": np.frombuffer(json.dumps(self._header()).encode(), dtype=np.uint8),
                "ids": np.frombuffer(json.dumps(self._ids).encode(), dtype=np.uint8),
                "metas": np.frombuffer(json.dumps(self._metas).encode(), dtype=np.uint8),
            }
            arrays.update(self._extra_arrays())
            self._path.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path, prefix=".store-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    np.savez(fh, allow_pickle=False, **arrays)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self._path / _STORE_FILE)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._dirty = False

    def close(self) -> None:
        """Save (when a ``path`` was given and something changed) and release memory.

        Idempotent; any later call other than ``close``/``count`` raises ``RuntimeError``.

        Example:
            >>> s = NumpyBackend(dim=2); s.close(); s.close()
        """
        with self._lock:
            if self._closed:
                return
            if self._dirty:
                self.save()
            self._closed = True
            self._reset_storage(capacity=0)

    def stats(self) -> dict[str, Any]:
        """What the store knows of itself: entries, tombstones, rows and partitions.

        Example:
            >>> NumpyBackend(dim=2).stats()["entries"]
            0
        """
        with self._lock:
            return {
                "entries": len(self._row_of),
                "tombstones": self._dead,
                "rows": self._n,
                "postings": len(self._postings),
                "index": "exact",
            }

    # ---- search internals ----------------------------------------------------------------
    def _hits(
        self, rows: npt.NDArray[np.int64], scores: npt.NDArray[np.float32]
    ) -> list[VectorHit]:
        hits = []
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            ident = self._ids[row]
            meta = self._metas[row]
            if ident is None or meta is None:  # pragma: no cover - filtered out before
                continue
            hits.append(VectorHit(ident, min(1.0, max(-1.0, score)), dict(meta)))
        return hits

    def _postings_for(self, flt: Mapping[str, FilterValue]) -> list[_Posting] | None:
        """The posting lists of every filter condition, smallest first; ``None`` if one is empty."""
        found = []
        for key, value in flt.items():
            if key not in self._indexed:
                self._index_key(key)
            posting = self._postings.get(_pkey(key, value))
            if posting is None:
                return None
            found.append(posting)
        found.sort(key=lambda p: len(p.rows))
        return found

    def _index_key(self, key: str) -> None:
        """Start keeping posting lists for ``key`` (the first search filtering on it pays)."""
        self._indexed.add(key)
        for row, meta in enumerate(self._metas):
            if meta is not None and key in meta:
                value = meta[key]
                posting = self._postings.get(_pkey(key, value))
                if posting is None:
                    posting = self._postings[_pkey(key, value)] = _Posting()
                posting.rows.add(row)

    def _bitmap(self, posting: _Posting) -> npt.NDArray[np.bool_]:
        if posting.bits is None:
            bits = np.zeros(self._vecs.shape[0], dtype=np.bool_)
            bits[np.fromiter(posting.rows, dtype=np.int64, count=len(posting.rows))] = True
            if len(posting.rows) >= max(self._BITMAP_MIN_ROWS, self._n // 64):
                posting.bits = bits  # large enough to be worth maintaining incrementally
            return bits
        return posting.bits

    def _gather_rows(self, postings: list[_Posting]) -> npt.NDArray[np.int64]:
        smallest, others = postings[0].rows, [p.rows for p in postings[1:]]
        if others:
            chosen = [r for r in smallest if all(r in o for o in others)]
            return np.fromiter(chosen, dtype=np.int64, count=len(chosen))
        return np.fromiter(smallest, dtype=np.int64, count=len(smallest))

    def _mask(
        self, postings: list[_Posting] | None, now: float | None
    ) -> npt.NDArray[np.bool_] | None:
        """Row mask over ``[0, n)`` for tombstones, filter and expiry; ``None`` if all pass."""
        n = self._n
        mask: npt.NDArray[np.bool_] | None = None
        if self._dead:
            mask = self._alive[:n].copy()
        for posting in postings or ():
            if len(posting.rows) == n:  # every row (so no tombstone): nothing to exclude
                continue
            bits = self._bitmap(posting)[:n]
            mask = bits.copy() if mask is None else np.logical_and(mask, bits, out=mask)
        if now is not None and now >= self._min_expiry:
            live = self._expires[:n] > now
            mask = live if mask is None else np.logical_and(mask, live, out=mask)
        return mask

    def _search_rows(
        self, q: npt.NDArray[np.float32], k: int, flt: Mapping[str, FilterValue], now: float | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        postings = self._postings_for(flt) if flt else []
        if postings is None:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        return self._exact(q, k, postings, now)

    def _exact(
        self,
        q: npt.NDArray[np.float32],
        k: int,
        postings: list[_Posting],
        now: float | None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Exact top-k: gather a small partition's rows, or scan all rows under a mask."""
        if postings and len(postings[0].rows) <= self._GATHER_FRACTION * self._n:
            rows = self._gather_rows(postings)
            if now is not None and now >= self._min_expiry and rows.size:
                rows = rows[self._expires[rows] > now]
            if not rows.size:
                return rows, np.empty(0, np.float32)
            scores = self._scores(self._vecs[rows], q)
            return _top_k(rows, scores, k)
        scores = self._scores(self._vecs[: self._n], q)
        mask = self._mask(postings, now)
        if mask is None:
            return _top_k(np.arange(self._n, dtype=np.int64), scores, k)
        rows = np.flatnonzero(mask).astype(np.int64, copy=False)
        return _top_k(rows, scores[rows], k)

    def _scores(
        self, mat: npt.NDArray[np.float32], q: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """Inner products of every row of ``mat`` with ``q``, on ``threads`` threads."""
        if self._threads == 1:
            # einsum without `optimize` never calls BLAS, so it cannot start (or wait for)
            # BLAS worker threads: one query stays on the calling thread.
            out: npt.NDArray[np.float32] = np.einsum("ij,j->i", mat, q)
            return out
        return mat @ q

    # ---- maintenance hooks (FAISSBackend overrides) --------------------------------------
    def _prebuild(self, rows: int, vectors: npt.NDArray[np.float32]) -> Any:
        """Work :meth:`stage_add` does for a batch of ``rows`` outside the lock (none here)."""
        return None

    def _after_append(self, start: int, stop: int, prebuilt: Any = None) -> None:
        """Rows ``[start, stop)`` were just written (``prebuilt``: what :meth:`_prebuild` made)."""

    def _after_clear(self) -> None:
        """Every row was just dropped."""

    def _maybe_compact(self) -> None:
        # Amortized O(1) per delete: compact only once tombstones are a quarter of all rows.
        if self._dead > 1024 and self._dead * 4 > self._n:
            self._compact_now()

    def _compact_now(self) -> None:
        if not self._dead:
            return
        order = np.flatnonzero(self._alive[: self._n]).astype(np.int64)
        self._reorder(order)

    def _reorder(self, order: npt.NDArray[np.int64]) -> None:
        """Keep rows ``order`` (in that order) and renumber them ``0..len(order)-1``."""
        m = int(order.size)
        cap = max(m, 1024)
        vecs = np.empty((cap, self.dim), dtype=np.float32)
        vecs[:m] = self._vecs[order]
        alive = np.zeros(cap, dtype=np.bool_)
        alive[:m] = self._alive[order]
        expires = np.full(cap, np.inf)
        expires[:m] = self._expires[order]
        self._min_expiry = float(expires[:m].min()) if m else np.inf
        old_ids, old_metas = self._ids, self._metas
        self._vecs, self._alive, self._expires = vecs, alive, expires
        self._ids = [old_ids[r] for r in order.tolist()]
        self._metas = [old_metas[r] for r in order.tolist()]
        self._row_of = {i: row for row, i in enumerate(self._ids) if i is not None}
        self._n = m
        self._dead = m - int(alive[:m].sum())
        self._postings = {}
        for row, meta in enumerate(self._metas):
            if meta is not None:
                self._index_row(row, meta)

    # ---- persistence internals -----------------------------------------------------------
    def _header(self) -> dict[str, Any]:
        return {"format": _FORMAT, "dim": self.dim, "backend": type(self).__name__}

    def _extra_arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {}

    def _load(self) -> None:
        assert self._path is not None
        with np.load(self._path / _STORE_FILE, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            if header.get("format") != _FORMAT:
                raise ValueError(f"{self._path} does not hold an omnicache vector store")
            if header["dim"] != self.dim:
                raise ValueError(
                    f"{self._path} holds vectors of dimension {header['dim']}, not {self.dim}"
                )
            vectors = np.ascontiguousarray(data["vectors"], dtype=np.float32)
            ids: list[str | None] = json.loads(bytes(data["ids"]).decode())
            metas: list[dict[str, MetadataValue] | None] = json.loads(bytes(data["metas"]).decode())
            extra = {
                name: np.array(data[name])
                for name in data.files
                if name not in ("vectors", "ids", "metas", "header")
            }
        n = len(ids)
        self._reset_storage(capacity=max(n, 1024))
        self._vecs[:n] = vectors
        self._ids = list(ids)
        self._metas = list(metas)
        for row, (i, meta) in enumerate(zip(ids, metas, strict=True)):
            if i is None or meta is None:
                self._dead += 1
                continue
            self._alive[row] = True
            self._row_of[i] = row
            exp = meta.get(EXPIRES_AT)
            self._expires[row] = np.inf if exp is None else float(exp)
            self._index_row(row, meta)
        self._n = n
        self._min_expiry = float(self._expires[:n].min()) if n else np.inf
        self._after_load(header, extra)

    def _after_load(self, header: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> None:
        """A saved store was just read into rows ``[0, n)``."""


def _top_k(
    rows: npt.NDArray[np.int64], scores: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    if scores.size > k:
        part = np.argpartition(-scores, k - 1)[:k]
        rows, scores = rows[part], scores[part]
    order = np.argsort(-scores, kind="stable")
    return rows[order], scores[order]
