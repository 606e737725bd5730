"""What keeps the in-process stores fast at scale: default index, lazy posting lists, threads."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from _ci import need
from omnicache_ai import SemanticCache
from omnicache_ai.backends.vector import NumpyBackend, default_vector_backend
from omnicache_ai.backends.vector.base import search_threads
from omnicache_ai.embedders import HashingEmbedder

DIM = 16


def _faiss(**kwargs: Any) -> NumpyBackend:
    need("faiss", extra="faiss")
    from omnicache_ai.backends.vector import FAISSBackend

    return FAISSBackend(dim=DIM, **kwargs)


STORES: dict[str, Callable[[], NumpyBackend]] = {
    "numpy": lambda: NumpyBackend(dim=DIM),
    "numpy-blas": lambda: NumpyBackend(dim=DIM, threads=0),
    # Approximate from the first row, built inline: every unfiltered or large-partition search
    # goes through the IVF index and its selector.
    "faiss-ivf": lambda: _faiss(
        index="ivf", ann_threshold=64, nprobe=64, background=False, exact_filter_limit=8
    ),
    "faiss-flat": lambda: _faiss(index="flat"),
}


def test_default_index_is_faiss_when_installed() -> None:
    """With faiss importable the zero-config index is FAISS in auto mode, else numpy."""
    need("faiss", extra="faiss")
    from omnicache_ai.backends.vector import FAISSBackend

    store = default_vector_backend(DIM)
    assert type(store) is FAISSBackend
    assert store.stats()["index"] == "exact"  # exact until DEFAULT_ANN_THRESHOLD entries
    cache = SemanticCache(embedder=HashingEmbedder(dim=DIM))
    assert type(cache.vector_backend) is FAISSBackend


def test_default_index_falls_back_to_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without faiss the zero-config index is the exact numpy store."""
    monkeypatch.setitem(sys.modules, "faiss", None)  # `import faiss` now raises ImportError
    monkeypatch.delitem(sys.modules, "omnicache_ai.backends.vector.faiss_backend", raising=False)
    assert type(default_vector_backend(DIM)) is NumpyBackend
    assert type(SemanticCache(embedder=HashingEmbedder(dim=DIM)).vector_backend) is NumpyBackend


def _truth(
    vecs: dict[str, npt.NDArray[np.float32]], metas: dict[str, dict[str, Any]],
    q: npt.NDArray[np.float32], flt: dict[str, Any],
) -> str | None:  # fmt: skip
    best, best_id = -2.0, None
    for i, v in vecs.items():
        if all(metas[i].get(k) == val for k, val in flt.items()):
            s = float(v @ q) / float(np.linalg.norm(v) * np.linalg.norm(q))
            if s > best:
                best, best_id = s, i
    return best_id


@pytest.mark.parametrize("name", list(STORES))
def test_filters_stay_exact_through_adds_deletes_upserts_and_compaction(name: str) -> None:
    """Posting lists built on the first filtered search track later adds, deletes and moves."""
    store = STORES[name]()
    rng = np.random.default_rng(3)
    vecs: dict[str, npt.NDArray[np.float32]] = {}
    metas: dict[str, dict[str, Any]] = {}

    def add(ids: list[str], tenant_of: Callable[[int], str]) -> None:
        block = rng.standard_normal((len(ids), DIM)).astype(np.float32)
        batch = [{"tenant": tenant_of(i), "text": f"q{i}", "n": i} for i in range(len(ids))]
        store.add(ids, block, batch)
        vecs.update(zip(ids, block, strict=True))
        metas.update(zip(ids, batch, strict=True))

    def check(probes: dict[str, npt.NDArray[np.float32]] | None = None) -> None:
        for q in rng.standard_normal((12, DIM)).astype(np.float32):
            for flt in ({"tenant": "a"}, {"tenant": "b"}, {"tenant": "c", "n": 3}, {}):
                hits = store.search(q, k=1, filter=flt)
                assert (hits[0].id if hits else None) == _truth(vecs, metas, q, flt), flt
                if hits:
                    assert hits[0].metadata == metas[hits[0].id]
        # A deleted row's own vector, searched in its (tiny) old partition, must not come back.
        for n, q in (probes or {}).items():
            hits = store.search(q, k=1, filter={"n": int(n)})
            assert [h.id for h in hits] == [_truth(vecs, metas, q, {"n": int(n)})]

    add([f"x{i}" for i in range(1500)], lambda i: "abc"[i % 3])
    check()  # the first filtered search builds the tenant (and n) posting lists
    add([f"y{i}" for i in range(1500)], lambda i: "ab"[i % 2])
    few = [f"x{i}" for i in (5, 7, 11, 13)]  # too few tombstones to trigger a compaction
    probes = {str(metas[i]["n"]): vecs[i] for i in few}
    store.delete(few)
    for i in few:
        del vecs[i], metas[i]
    check(probes)
    gone = [f"x{i}" for i in range(0, 1500, 2)] + [f"y{i}" for i in range(0, 1500, 3)]
    store.delete(gone)  # past the compaction trigger (1024 tombstones and a quarter of rows)
    for i in gone:
        del vecs[i], metas[i]
    moved = [f"x{i}" for i in range(1, 300, 2)]
    add(moved, lambda i: "c")  # upserts: each moves to tenant c with a new vector
    if hasattr(store, "wait_for_index"):
        store.wait_for_index()
    assert store.count() == len(vecs)
    check()
    assert store.stats()["postings"] <= 3 + 1500  # tenant and n values: never the text


def test_unfiltered_keys_get_no_posting_lists() -> None:
    """Keys no search filters on (unique question texts) cost no posting lists."""
    store = NumpyBackend(dim=DIM)
    rng = np.random.default_rng(0)
    store.add([f"i{i}" for i in range(500)], rng.standard_normal((500, DIM)),
              [{"p": "one", "q": f"text {i}"} for i in range(500)])  # fmt: skip
    assert store.stats()["postings"] == 0
    assert len(store.search(rng.standard_normal(DIM), k=3, filter={"p": "one"})) == 3
    assert store.stats()["postings"] == 1


def test_search_threads_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """OMNICACHE_VECTOR_THREADS sets the default; bad values are named."""
    monkeypatch.delenv("OMNICACHE_VECTOR_THREADS", raising=False)
    assert search_threads() == 1
    monkeypatch.setenv("OMNICACHE_VECTOR_THREADS", "0")
    assert search_threads() == 0
    assert NumpyBackend(dim=DIM)._threads == 0
    assert search_threads(3) == 3
    monkeypatch.setenv("OMNICACHE_VECTOR_THREADS", "many")
    with pytest.raises(ValueError, match="OMNICACHE_VECTOR_THREADS"):
        search_threads()
    for bad in (-1, True, 1.5):
        with pytest.raises(ValueError, match="whole number"):
            search_threads(bad)  # type: ignore[arg-type]


def test_faiss_search_runs_on_the_configured_threads() -> None:
    """An approximate search runs with the store's OpenMP thread count, restored afterwards."""
    need("faiss", extra="faiss")
    import faiss

    seen: list[int] = []
    store = _faiss(index="ivf", ann_threshold=64, background=False)
    rng = np.random.default_rng(1)
    store.add([f"i{i}" for i in range(400)], rng.standard_normal((400, DIM)))
    real = store._ann  # type: ignore[attr-defined]

    class Spy:
        """The real index; records the OpenMP thread count each search runs with."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def search(self, *args: Any, **kwargs: Any) -> Any:
            seen.append(faiss.omp_get_max_threads())
            return real.search(*args, **kwargs)

    store._ann = Spy()  # type: ignore[attr-defined]
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        assert store.search(rng.standard_normal(DIM), k=3)
        assert seen == [1]
        assert faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(before)
