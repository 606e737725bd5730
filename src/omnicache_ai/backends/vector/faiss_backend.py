"""FAISS-backed vector store: exact search while small, HNSW or IVF once large.

The rows, ids, metadata and tombstones live in the exact engine this class extends
(:class:`~omnicache_ai.backends.vector.NumpyBackend`); FAISS supplies the approximate index on
top. Why that split:

* HNSW in FAISS cannot delete. A deleted or replaced id leaves a tombstone that every search
  excludes through an ``IDSelectorBitmap``; once tombstones reach a quarter of the rows, a
  background thread rebuilds a compacted index and swaps it in, replaying whatever was added
  meanwhile.
* A filter is planned per query from the posting lists: a small partition (at most
  ``exact_filter_limit`` rows) is scored exactly, row by row, which is both faster and exact;
  a large one goes through the approximate index with the partition as a selector evaluated
  *during* the graph walk, so it is a real pre-filter. If the index still returns fewer hits
  than the partition holds (very selective filters), the exact scan answers instead.
* The first approximate index is built in a background thread when the store crosses
  ``ann_threshold`` entries; until it is ready, searches stay exact. A *bulk* add (one
  ``add`` of at least ``bulk_rows`` rows, e.g. ``SemanticCache.set_many``) that leaves the
  store over the threshold without an index builds a quick IVF index before it returns
  instead (k-means on a subsample, a few iterations, about ``sqrt(n)`` lists: ~0.5 s on one
  idle core at 100k x 384), so the first search after a bulk load is already
  sub-millisecond; it is retrained in the background, with the full settings, after the
  next fourfold growth. The build holds no lock: it runs in :meth:`stage_add`, over a
  snapshot of the rows plus the batch, while searches (exact meanwhile) and other writes go
  on; :meth:`commit_add` swaps it in with the rows written meanwhile added to it.
* IVF deletes use the same tombstones (one code path for both index kinds), and an IVF index
  is retrained in the background after each fourfold growth, when its centroids go stale.
* A search runs on ``threads`` threads (default 1): exact scans use FAISS's single-threaded
  SIMD kernel instead of a BLAS product, and approximate searches set the OpenMP thread count
  of the calling thread only for their duration. Index builds keep FAISS's default.

Example:
    >>> import numpy as np
    >>> from omnicache_ai.backends.vector_backend import FAISSBackend
    >>> store = FAISSBackend(dim=4)
    >>> store.add(["q1"], np.array([[1.0, 0.0, 0.0, 0.0]]), [{"tenant": "acme"}])
    >>> store.search(np.array([0.9, 0.1, 0.0, 0.0]), filter={"tenant": "acme"})[0].id
    'q1'
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from omnicache_ai.backends.vector._numpy_backend import NumpyBackend, _Posting
from omnicache_ai.backends.vector.base import FilterValue

try:
    import faiss as _faiss
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "FAISSBackend needs faiss; install it with: pip install 'omnicache-ai[vector-faiss]'"
    ) from err

# The stubs faiss ships cover only part of its SWIG API (no SearchParametersHNSW, Index
# subclasses typed as the base); use it untyped rather than sprinkle ignores.
faiss: Any = _faiss

__all__ = ["FAISSBackend"]

IndexKind = Literal["auto", "flat", "hnsw", "ivf"]

#: Builds over at most this many rows run inline; larger ones go to a background thread.
_INLINE_BUILD_ROWS = 2048
#: Default ``bulk_rows``: an ``add`` of at least this many rows is a bulk load.
_BULK_ROWS = 2048
#: The quick inline IVF build: k-means iterations and training points per list.
_QUICK_NITER = 6
_QUICK_POINTS_PER_LIST = 32


class FAISSBackend(NumpyBackend):
    """In-process vector search with FAISS, thread-safe and optionally persisted.

    Args:
        dim: Vector dimension (e.g. 384 for MiniLM, 1536 for text-embedding-3-small).
        index: ``"flat"`` (always exact), ``"hnsw"``, ``"ivf"``, or ``"auto"``: exact
            until ``ann_threshold`` entries, IVF from then on (see ``docs/vector-backends.md``
            for why IVF rather than HNSW: same speed at 100k, far better recall at 1M in our
            benchmark, 3-10x faster to build).
        path: Directory to persist to; an existing store there is loaded. :meth:`save` and
            :meth:`close` write the rows, metadata and the index atomically. One process at a
            time may own a path.
        metric: Only ``"cosine"``: vectors are normalized and compared by inner product.
        ann_threshold: Entries needed before the approximate index is built. Defaults to
            10,000 for ``"auto"``, 0 for ``"hnsw"`` and 1,024 for ``"ivf"`` (k-means needs
            data to train on).
        hnsw_m: HNSW graph degree (FAISS ``M``); more is slower to build, better recall.
        ef_construction: HNSW build-time beam width.
        ef_search: HNSW search-time beam width (raised to ``k`` when smaller).
        nprobe: IVF lists probed per query (default 16).
        exact_filter_limit: Filtered searches whose partition holds at most this many rows
            are answered by an exact scan of the partition.
        background: Build large indexes in a background thread (``False``: inline, which
            blocks the ``add`` that triggers it).
        bulk_rows: An ``add`` of at least this many rows that leaves the store at or over
            ``ann_threshold`` with no approximate index builds a quick IVF index inline,
            so searches right after a bulk load are approximate, not exact scans (default
            2,048; ``0`` disables: bulk loads then build in the background like any other
            add). Only for IVF (``"auto"`` and ``"ivf"``); see ``docs/vector-backends.md``.
        threads: Threads one search may use (default ``1``, or ``OMNICACHE_VECTOR_THREADS``;
            ``0`` leaves FAISS and BLAS to their defaults, which oversubscribe a busy
            machine: see :func:`~omnicache_ai.backends.vector.base.search_threads`).

    Example:
        >>> import numpy as np
        >>> store = FAISSBackend(dim=1536)
        >>> store.add(["a"], np.ones((1, 1536)))
        >>> round(store.search(np.ones(1536))[0].score, 4)
        1.0
    """

    def __init__(
        self,
        dim: int,
        index: IndexKind = "auto",
        path: str | os.PathLike[str] | None = None,
        *,
        metric: Literal["cosine"] = "cosine",
        ann_threshold: int | None = None,
        hnsw_m: int = 32,
        ef_construction: int = 40,
        ef_search: int = 64,
        nprobe: int | None = None,
        exact_filter_limit: int = 4096,
        background: bool = True,
        threads: int | None = None,
        bulk_rows: int = _BULK_ROWS,
    ) -> None:
        if metric != "cosine":
            raise ValueError("FAISSBackend supports metric='cosine' only")
        if index not in ("auto", "flat", "hnsw", "ivf"):
            raise ValueError(f"index must be 'auto', 'flat', 'hnsw' or 'ivf', got {index!r}")
        self._kind = index
        self._ann_kind: Literal["hnsw", "ivf"] | None = (
            None if index == "flat" else "hnsw" if index == "hnsw" else "ivf"
        )
        default_threshold = {"auto": 10_000, "hnsw": 0, "ivf": 1024, "flat": 0}[index]
        self._ann_threshold = default_threshold if ann_threshold is None else ann_threshold
        self._hnsw_m = hnsw_m
        self._ef_construction = ef_construction
        self._ef_search = ef_search
        self._nprobe = nprobe
        self._exact_filter_limit = exact_filter_limit
        self._background = background
        if isinstance(bulk_rows, bool) or not isinstance(bulk_rows, int) or bulk_rows < 0:
            raise ValueError(f"bulk_rows must be a whole number >= 0, got {bulk_rows!r}")
        self._bulk_rows = bulk_rows
        self._ann: Any = None
        # How the current index was built: "quick" (inline, after a bulk add) or "full".
        self._ann_build = "full"
        self._ann_trained_on = 0
        self._builder: threading.Thread | None = None
        # A stage_add is building a quick index outside the lock: no other build may start.
        self._prebuilding = False
        self._build_error: Exception | None = None
        # Bumped whenever row numbers change or vanish, so a build started before that
        # knows its result is stale and drops it.
        self._generation = 0
        super().__init__(dim, path=path, threads=threads)

    # ---- public extras -------------------------------------------------------------------
    def wait_for_index(self, timeout: float | None = None) -> bool:
        """Block until a background index build (if any) has finished.

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Returns:
            Whether no build is running any more.

        Raises:
            RuntimeError: If the last background build failed (the cause is chained).

        Example:
            >>> FAISSBackend(dim=4).wait_for_index()
            True
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        # A finished build may start the next one (an IVF index trained on a snapshot that
        # the store has since outgrown), so wait for builds until none is left.
        while (builder := self._builder) is not None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            builder.join(remaining)
        with self._lock:
            if self._build_error is not None:
                err, self._build_error = self._build_error, None
                raise RuntimeError("FAISS index build failed") from err
            return self._builder is None

    def stats(self) -> dict[str, Any]:
        """Entries, tombstones and which index answers searches right now.

        Example:
            >>> FAISSBackend(dim=4, index="flat").stats()["index"]
            'exact'
        """
        with self._lock:
            out = super().stats()
            if self._ann is not None:
                out["index"] = self._ann_kind
                out["build"] = self._ann_build
                if self._ann_kind == "ivf":
                    out["nlist"] = int(self._ann.nlist)
                    out["nprobe"] = self._effective_nprobe()
            out["building"] = self._builder is not None or self._prebuilding
            return out

    def close(self) -> None:
        """Save (when a ``path`` was given), then wait for any background build to stop.

        Example:
            >>> s = FAISSBackend(dim=4); s.close(); s.close()
        """
        builder = self._builder
        super().close()
        with self._lock:
            self._ann = None
        if builder is not None and builder is not threading.current_thread():
            builder.join()

    # ---- search --------------------------------------------------------------------------
    def _search_rows(
        self, q: npt.NDArray[np.float32], k: int, flt: Mapping[str, FilterValue], now: float | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        postings = self._postings_for(flt) if flt else []
        if postings is None:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        if self._ann is None or (postings and len(postings[0].rows) <= self._exact_filter_limit):
            return self._exact(q, k, postings, now)
        return self._approximate(q, k, postings, now)

    def _approximate(
        self,
        q: npt.NDArray[np.float32],
        k: int,
        postings: list[_Posting],
        now: float | None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        n = self._n
        mask = self._mask(postings, now)
        packed = None
        selector = None
        if mask is not None:
            # The packed bitmap must outlive the search: the selector only points into it.
            packed = np.packbits(mask, bitorder="little")
            selector = faiss.IDSelectorBitmap(n, faiss.swig_ptr(packed))
        if self._ann_kind == "hnsw":
            params: Any = faiss.SearchParametersHNSW()
            params.efSearch = max(self._ef_search, k)
        else:
            params = faiss.SearchParametersIVF()
            params.nprobe = self._effective_nprobe()
        if selector is not None:
            params.sel = selector
        if self._threads:
            # OpenMP's thread count is per calling thread (an ICV), so this neither races with
            # other threads' searches nor slows the background builds; restored for the
            # caller's own FAISS work.
            before = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(self._threads)
            try:
                scores, labels = self._ann.search(q.reshape(1, -1), k, params=params)
            finally:
                faiss.omp_set_num_threads(before)
        else:
            scores, labels = self._ann.search(q.reshape(1, -1), k, params=params)
        del packed
        valid = labels[0] >= 0
        rows = labels[0][valid].astype(np.int64)
        found = scores[0][valid].astype(np.float32)
        if rows.size < k:
            available = n - self._dead if mask is None else int(np.count_nonzero(mask))
            if rows.size < min(k, available):
                # A very selective filter can starve the graph walk; the exact scan of the
                # same rows is the ground truth and still cheap relative to a miss.
                return self._exact(q, k, postings, now)
        return rows, found

    def _scores(
        self, mat: npt.NDArray[np.float32], q: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        if self._threads != 1 or not mat.flags.c_contiguous or not len(mat):
            return super()._scores(mat, q)
        # FAISS's SIMD kernel for one query against many rows: single-threaded by design
        # and faster than numpy's einsum.
        out = np.empty(len(mat), dtype=np.float32)
        faiss.fvec_inner_products_ny(
            faiss.swig_ptr(out), faiss.swig_ptr(q), faiss.swig_ptr(mat), self.dim, len(mat)
        )
        return out

    def _effective_nprobe(self) -> int:
        nlist = int(getattr(self._ann, "nlist", 1))
        return min(nlist, self._nprobe if self._nprobe is not None else 16)

    # ---- index maintenance ---------------------------------------------------------------
    def _make_index(self, vecs: npt.NDArray[np.float32], quick: bool = False) -> Any:
        if self._ann_kind == "hnsw":
            index = faiss.IndexHNSWFlat(self.dim, self._hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self._ef_construction
            if len(vecs):
                index.add(vecs)
            return index
        n = len(vecs)
        if quick:
            # Inline after a bulk add, so it must be cheap: adding n rows costs n x nlist dot
            # products and k-means sample x nlist x iterations, so sqrt(n) lists (316 at
            # 100k; a query then scans nprobe/nlist of the rows: 5% at nprobe 16, ~0.5 ms),
            # 32 points per list and 6 iterations: ~0.2 s to train, ~0.55 s to add at 100k.
            nlist = max(1, min(int(math.sqrt(max(n, 1))), n // _QUICK_POINTS_PER_LIST))
            per_list = _QUICK_POINTS_PER_LIST
        else:
            # ~4 sqrt(n) lists is the usual IVF sizing; k-means wants >= 39 points per list.
            nlist = max(1, min(int(4 * math.sqrt(max(n, 1))), n // 39))
            per_list = 64
        index = faiss.index_factory(self.dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        # The sample is sized on purpose (see below); without this FAISS prints a warning to
        # stderr on every small or capped training run.
        index.cp.min_points_per_centroid = 1
        if quick:
            index.cp.niter = _QUICK_NITER
        if n:
            rng = np.random.default_rng(0)
            # k-means costs sample x nlist: 64 points per list, at most 100k points, keeps a
            # 1M-entry retrain under a minute on two cores.
            size = min(n, nlist * per_list, 100_000)
            sample = vecs if size == n else vecs[rng.choice(n, size, replace=False)]
            index.train(sample)
            index.add(vecs)
        return index

    def _wants_index(self) -> bool:
        if self._ann_kind is None or self._builder is not None or self._prebuilding:
            return False
        live = len(self._row_of)
        if self._ann is None:
            return live >= max(self._ann_threshold, 1)
        # IVF centroids go stale as the data grows; retrain after each fourfold growth.
        return self._ann_kind == "ivf" and live >= 4 * max(self._ann_trained_on, 1)

    def _start_build(self) -> None:
        """Build a compacted index from a snapshot, then swap it in (see module docs)."""
        generation = self._generation
        n0 = self._n
        order = np.flatnonzero(self._alive[:n0]).astype(np.int64)
        vecs = self._vecs[order]
        if not self._background or order.size <= _INLINE_BUILD_ROWS:
            self._swap_in(self._make_index(vecs), generation, n0, order)
            return

        def build() -> None:
            try:
                index = self._make_index(vecs)
            except Exception as err:  # noqa: BLE001 - any failure is surfaced by wait_for_index
                with self._lock:
                    self._build_error = err
                    self._builder = None
                return
            with self._lock:
                self._builder = None
                if not self._closed:
                    self._swap_in(index, generation, n0, order)

        self._builder = threading.Thread(target=build, name="omnicache-faiss-build")
        self._builder.start()

    def _swap_in(self, index: Any, generation: int, n0: int, order: npt.NDArray[np.int64]) -> None:
        if generation != self._generation:
            return  # rows were renumbered or cleared meanwhile: this index is stale
        tail = np.arange(n0, self._n, dtype=np.int64)
        # Rows deleted after the snapshot stay in the new numbering as tombstones; rows
        # added after it are appended and added to the new index in the same order. With
        # no tombstone now and none in the snapshot, that order is the identity: skip it.
        if self._dead or order.size != n0:
            NumpyBackend._reorder(self, np.concatenate([order, tail]))
        if tail.size:
            index.add(self._vecs[order.size : self._n])
        self._ann = index
        self._ann_build = "full"
        self._ann_trained_on = int(order.size)
        self._generation += 1
        self._dirty = True
        if self._wants_index():
            self._start_build()  # the store outgrew the snapshot while it was being built

    def _prebuild(self, rows: int, vectors: npt.NDArray[np.float32]) -> Any:
        """The quick IVF index of a bulk add, built from a snapshot without holding the lock.

        Covers the live rows at the snapshot plus the staged batch; :meth:`_install` swaps it
        in at commit. Searches meanwhile are exact scans of the rows already visible.
        """
        with self._lock:
            if (
                self._closed
                or self._ann is not None
                or self._builder is not None
                or self._prebuilding
                or not self._wants_bulk_build(rows, len(self._row_of) + rows)
            ):
                return None
            self._prebuilding = True
            generation, n0 = self._generation, self._n
            if self._dead:
                order = np.flatnonzero(self._alive[:n0]).astype(np.int64)
                old = self._vecs[order]
            else:  # rows are never changed in place, so a view of them is a stable snapshot
                order, old = np.arange(n0, dtype=np.int64), self._vecs[:n0]
        try:
            vecs = np.concatenate([old, vectors]) if len(old) else vectors
            index = self._with_threads(self._make_index, vecs, quick=True)
        finally:
            with self._lock:
                self._prebuilding = False
        return (index, generation, n0, order)

    def _install(self, prebuilt: Any, start: int, stop: int) -> bool:
        """Swap in an index from :meth:`_prebuild` for the batch just written to ``[start, stop)``.

        Rows added by others while it was built sit between the snapshot and the batch: the
        rows are renumbered to the index's order (snapshot, batch, then those) and those are
        added to it. Stale (rows renumbered or cleared, or another index arrived): refused.
        """
        index, generation, n0, order = prebuilt
        if generation != self._generation or self._ann is not None:
            return False
        batch = np.arange(start, stop, dtype=np.int64)
        if order.size != n0 or start != n0:
            between = np.arange(n0, start, dtype=np.int64)
            NumpyBackend._reorder(self, np.concatenate([order, batch, between]))
            if between.size:
                index.add(self._vecs[order.size + batch.size : self._n])
        self._ann = index
        self._ann_build = "quick"
        self._ann_trained_on = int(order.size + batch.size)
        self._generation += 1
        self._dirty = True
        return True

    def _after_append(self, start: int, stop: int, prebuilt: Any = None) -> None:
        if prebuilt is not None and self._install(prebuilt, start, stop):
            return
        if self._ann is not None:
            self._ann.add(self._vecs[start:stop])
        elif self._wants_bulk_build(stop - start, len(self._row_of)):
            self._bulk_build()
            return
        if self._wants_index():
            self._start_build()

    def _wants_bulk_build(self, added: int, live: int) -> bool:
        return (
            self._ann_kind == "ivf"
            and self._bulk_rows > 0
            and added >= self._bulk_rows
            and live >= max(self._ann_threshold, 1)
        )

    def _with_threads(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` with this thread's OpenMP team at the ``threads`` budget."""
        # FAISS's default OpenMP team oversubscribes a busy machine (measured at 100k on two
        # loaded cores: a quick build took 0.74 s on one thread, 1.6 s on two).
        if not self._threads:
            return fn(*args, **kwargs)
        before = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(self._threads)
        try:
            return fn(*args, **kwargs)
        finally:
            faiss.omp_set_num_threads(before)

    def _bulk_build(self) -> None:
        """Build a quick IVF index inline over the live rows (see the module docs).

        The fallback when :meth:`_prebuild` could not run (a build was under way when the
        batch was staged). A background build still running from an older snapshot is made
        stale by the generation bump, so its result is dropped when it finishes.
        """
        n = self._n
        if self._dead:
            order = np.flatnonzero(self._alive[:n]).astype(np.int64)
            vecs = self._vecs[order]
        else:  # no tombstone: the live rows are the first n, no copy needed
            order, vecs = np.arange(n, dtype=np.int64), self._vecs[:n]
        index = self._with_threads(self._make_index, vecs, quick=True)
        self._generation += 1
        generation, n0 = self._generation, self._n
        self._swap_in(index, generation, n0, order)
        self._ann_build = "quick"

    def _after_clear(self) -> None:
        self._ann = None
        self._ann_trained_on = 0
        self._generation += 1

    def _maybe_compact(self) -> None:
        if not (self._dead > 1024 and self._dead * 4 > self._n):
            return
        if self._ann is None and self._builder is None:
            self._compact_now()
        elif self._builder is None:
            self._start_build()

    def _reorder(self, order: npt.NDArray[np.int64]) -> None:
        super()._reorder(order)
        self._ann = None
        self._generation += 1
        if self._wants_index():
            self._start_build()

    # ---- persistence ---------------------------------------------------------------------
    def _header(self) -> dict[str, Any]:
        header = super()._header()
        header["ann"] = self._ann_kind if self._ann is not None else None
        header["ann_trained_on"] = self._ann_trained_on
        header["ann_build"] = self._ann_build
        return header

    def _extra_arrays(self) -> dict[str, npt.NDArray[Any]]:
        if self._ann is None or self._ann.ntotal != self._n:
            return {}
        return {"ann": np.asarray(faiss.serialize_index(self._ann))}

    def _after_load(self, header: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> None:
        ann = arrays.get("ann")
        if ann is not None and header.get("ann") == self._ann_kind and self._ann_kind:
            index = faiss.deserialize_index(np.ascontiguousarray(ann, dtype=np.uint8))
            if index.ntotal == self._n and index.d == self.dim:
                self._ann = index
                self._ann_trained_on = int(header.get("ann_trained_on") or self._n)
                self._ann_build = "quick" if header.get("ann_build") == "quick" else "full"
                return
        if self._wants_index():
            self._start_build()
