"""FAISSBackend beyond the shared contract: index switching, tombstones, rebuilds, saving."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from _ci import need

need("faiss")

from omnicache_ai.backends.vector import NumpyBackend
from omnicache_ai.backends.vector_backend import FAISSBackend

DIM = 32


def clustered(n: int, seed: int = 0) -> npt.NDArray[np.float32]:
    """``n`` unit vectors around 20 centres, like real embeddings."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, DIM)).astype(np.float32)
    data = centres[rng.integers(0, 20, n)] + 0.5 * rng.standard_normal((n, DIM)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def near(v: npt.NDArray[np.float32], seed: int = 1) -> npt.NDArray[np.float32]:
    """A query at cosine ~0.95 to ``v``."""
    rng = np.random.default_rng(seed)
    q = v + (0.3 / np.sqrt(DIM)) * rng.standard_normal(DIM).astype(np.float32)
    return q / np.linalg.norm(q)


def ids(n: int, prefix: str = "id") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def test_auto_switches_to_ivf_and_agrees_with_exact_search() -> None:
    """index='auto' answers exactly below the threshold, then via IVF with the same top hits."""
    data = clustered(3000)
    store = FAISSBackend(dim=DIM, ann_threshold=2500)
    exact = NumpyBackend(dim=DIM)
    store.add(ids(2000), data[:2000])
    assert store.stats()["index"] == "exact"
    store.add(ids(3000)[2000:], data[2000:])
    exact.add(ids(3000), data)
    assert store.wait_for_index(60)
    assert store.stats()["index"] == "ivf"
    for row in range(0, 3000, 97):
        q = near(data[row], seed=row)
        assert store.search(q, k=1)[0].id == exact.search(q, k=1)[0].id
    store.close()


def test_deletes_leave_tombstones_then_a_background_rebuild_compacts() -> None:
    """Deleted rows never come back, and past a quarter of tombstones the index is rebuilt."""
    data = clustered(3000)
    store = FAISSBackend(dim=DIM, index="hnsw")
    store.add(ids(3000), data)
    assert store.wait_for_index(60)
    store.delete(ids(600))  # below the compaction trigger: tombstones only
    assert store.stats()["tombstones"] == 600
    for row in range(0, 600, 50):
        assert store.search(data[row], k=1)[0].id != f"id{row}"
    store.delete(ids(2000)[600:])
    assert store.wait_for_index(60)
    stats = store.stats()
    assert (stats["tombstones"], stats["entries"], stats["index"]) == (0, 1000, "hnsw")
    for row in range(2000, 3000, 37):
        hit = store.search(data[row], k=1)[0]
        assert hit.id == f"id{row}"
        assert hit.score == pytest.approx(1.0, abs=1e-5)
    store.close()


def test_writes_during_a_background_build_survive_the_swap() -> None:
    """Adds, deletes and upserts made while an index is building are all in the swapped index."""
    data = clustered(6000)
    store = FAISSBackend(dim=DIM, index="hnsw")
    store.add(ids(5000), data[:5000])  # > inline limit: the build runs in the background
    store.add(ids(6000)[5000:], data[5000:], [{"late": True}] * 1000)
    store.delete(ids(100))
    moved = clustered(50, seed=9)
    store.add(ids(150)[100:], moved)
    assert store.wait_for_index(60)
    assert store.stats()["index"] == "hnsw"
    assert store.count() == 5900
    for row in range(0, 100, 10):
        assert store.search(data[row], k=1)[0].id != f"id{row}"
    for j in range(0, 50, 7):
        assert store.search(moved[j], k=1)[0].id == f"id{100 + j}"
    late = store.search(data[5500], k=1, filter={"late": True})[0]
    assert late.id == "id5500"
    assert store.count() == 5900
    store.close()


def test_large_partition_filter_runs_inside_the_index() -> None:
    """Two big tenants with identical vectors stay isolated on the approximate path."""
    data = clustered(1500)
    store = FAISSBackend(dim=DIM, index="hnsw", exact_filter_limit=10)
    store.add(ids(1500, "a"), data, [{"tenant": "a"}] * 1500)
    store.add(ids(1500, "b"), data, [{"tenant": "b"}] * 1500)
    assert store.wait_for_index(60)
    for row in range(0, 1500, 101):
        for tenant in ("a", "b"):
            hits = store.search(near(data[row]), k=3, filter={"tenant": tenant})
            assert hits
            assert all(h.id.startswith(tenant) for h in hits)
            assert hits[0].id == f"{tenant}{row}"
    store.close()


def test_starved_approximate_search_falls_back_to_exact() -> None:
    """A one-row partition far from the query is still found when forced through HNSW."""
    crowd = np.stack([near(clustered(1)[0], seed=s) for s in range(3000)])
    store = FAISSBackend(dim=DIM, index="hnsw", exact_filter_limit=0)
    store.add(ids(3000), crowd, [{"p": "crowd"}] * 3000)
    store.add(["lonely"], -crowd[:1], [{"p": "lonely"}])
    assert store.wait_for_index(60)
    hits = store.search(crowd[0], k=1, filter={"p": "lonely"})
    assert [h.id for h in hits] == ["lonely"]
    assert hits[0].score == pytest.approx(-1.0, abs=1e-4)
    store.close()


def test_ivf_retrains_as_the_store_grows() -> None:
    """IVF rebuilds with more lists after fourfold growth and keeps answering exactly-found hits."""
    data = clustered(20000)
    store = FAISSBackend(dim=DIM, index="ivf", background=False)
    store.add(ids(2000), data[:2000])
    first = store._ann.nlist
    store.add(ids(20000)[2000:], data[2000:])
    assert store._ann.nlist > first
    for row in range(0, 20000, 997):
        assert store.search(near(data[row]), k=1)[0].id == f"id{row}"
    store.close()


def test_saved_index_reloads_without_a_rebuild(tmp_path: Path) -> None:
    """save() writes the HNSW graph; a new instance on the path uses it at once."""
    data = clustered(3000)
    store = FAISSBackend(dim=DIM, index="hnsw", path=tmp_path)
    store.add(ids(3000), data, [{"row": i} for i in range(3000)])
    store.wait_for_index(60)
    store.delete(["id7"])
    expected = [h.id for h in store.search(near(data[5]), k=5)]
    store.close()
    again = FAISSBackend(dim=DIM, index="hnsw", path=tmp_path)
    stats = again.stats()
    assert (stats["index"], stats["building"], stats["entries"]) == ("hnsw", False, 2999)
    assert [h.id for h in again.search(near(data[5]), k=5)] == expected
    assert again.search(data[7], k=1)[0].id != "id7"
    assert again.search(data[8], k=1)[0].metadata == {"row": 8}
    again.close()


def test_failed_save_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save that dies mid-write leaves the last good store and no temporary file behind."""
    store = FAISSBackend(dim=DIM, index="flat", path=tmp_path)
    store.add(["keep"], clustered(1))
    store.save()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    store.add(["lost"], clustered(1, seed=3))
    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        store.save()
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.npz"]
    reloaded = FAISSBackend(dim=DIM, index="flat", path=tmp_path)
    assert reloaded.count() == 1
    assert reloaded.search(clustered(1)[0], k=2)[0].id == "keep"
    reloaded.close()


def test_loading_another_dimension_is_refused(tmp_path: Path) -> None:
    """A store saved with one dimension cannot be opened with another."""
    store = FAISSBackend(dim=DIM, path=tmp_path)
    store.add(["a"], clustered(1))
    store.close()
    with pytest.raises(ValueError, match="dimension"):
        FAISSBackend(dim=DIM * 2, path=tmp_path)


def test_clear_during_a_build_discards_the_stale_index() -> None:
    """An index built from rows that were cleared meanwhile is never swapped in."""
    store = FAISSBackend(dim=DIM, index="hnsw")
    store.add(ids(5000), clustered(5000))
    store.clear()
    assert store.wait_for_index(60)
    assert store.count() == 0
    assert store.search(clustered(1)[0], k=1) == []
    store.add(["fresh"], clustered(1, seed=5))
    assert [h.id for h in store.search(clustered(1, seed=5)[0], k=3)] == ["fresh"]
    store.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"metric": "l2"}, "cosine"), ({"index": "lsh"}, "index must be")],
)
def test_unsupported_options_are_refused(kwargs: dict[str, str], message: str) -> None:
    """Only cosine and the four index kinds are accepted."""
    with pytest.raises(ValueError, match=message):
        FAISSBackend(dim=DIM, **kwargs)  # type: ignore[arg-type]


def test_bulk_add_over_the_threshold_is_ivf_ready_on_return() -> None:
    """One large add that crosses ann_threshold builds the IVF index inline, before it returns.

    No wait_for_index: a user who bulk-loads then serves must get the approximate index on
    the very next search, and it must find every stored vector as its own best match.
    """
    data = clustered(5000)
    # auto, background builds on; every filtered search goes through the index
    store = FAISSBackend(dim=DIM, ann_threshold=2500, exact_filter_limit=0)
    store.add(ids(5000), data, [{"part": i % 3} for i in range(5000)])
    exact = NumpyBackend(dim=DIM)
    exact.add(ids(5000), data, [{"part": i % 3} for i in range(5000)])
    stats = store.stats()
    assert (stats["index"], stats["build"], stats["building"]) == ("ivf", "quick", False)
    assert stats["nlist"] == int(np.sqrt(5000))
    for row in range(5000):
        assert store.search(data[row], k=1)[0].id == f"id{row}"
    for row in range(0, 5000, 7):  # a large filtered partition goes through the index too
        q, flt = near(data[row], seed=row), {"part": row % 3}
        assert store.search(q, k=1, filter=flt)[0].id == exact.search(q, k=1, filter=flt)[0].id
    store.close()


def test_bulk_build_skips_tombstones_and_keeps_upserts() -> None:
    """Rows deleted or replaced before a bulk add never come back from the quick index."""
    data = clustered(4000)
    store = FAISSBackend(dim=DIM, ann_threshold=3000)
    store.add(ids(1000), data[:1000])
    store.delete(ids(100))  # tombstones, below the compaction trigger
    store.add(ids(4000)[500:], data[500:])  # 3500 rows: ids 500-999 replaced (upserts)
    stats = store.stats()
    assert (stats["index"], stats["build"], stats["entries"]) == ("ivf", "quick", 3900)
    for row in range(100):
        assert store.search(data[row], k=1)[0].id != f"id{row}"
    for row in range(100, 4000, 3):
        assert store.search(data[row], k=1)[0].id == f"id{row}"
    store.close()


def test_small_adds_still_build_in_the_background() -> None:
    """Adds below bulk_rows (and bulk_rows=0) keep the background build: no inline stall."""
    data = clustered(3000)
    for kwargs in ({}, {"bulk_rows": 0}):
        store = FAISSBackend(dim=DIM, ann_threshold=2500, **kwargs)  # type: ignore[arg-type]
        chunk = 1000 if not kwargs else 3000
        for start in range(0, 3000, chunk):
            store.add(ids(3000)[start : start + chunk], data[start : start + chunk])
        assert store.wait_for_index(60)
        assert (store.stats()["index"], store.stats()["build"]) == ("ivf", "full")
        store.close()
    with pytest.raises(ValueError, match="bulk_rows"):
        FAISSBackend(dim=DIM, bulk_rows=-1)


def test_quick_index_is_saved_and_reloaded(tmp_path: Path) -> None:
    """A store bulk-loaded then saved reopens with its IVF index, no rebuild."""
    data = clustered(3000)
    store = FAISSBackend(dim=DIM, ann_threshold=2500, path=tmp_path)
    store.add(ids(3000), data)
    store.close()
    again = FAISSBackend(dim=DIM, ann_threshold=2500, path=tmp_path)
    stats = again.stats()
    assert (stats["index"], stats["build"], stats["building"]) == ("ivf", "quick", False)
    assert all(again.search(data[r], k=1)[0].id == f"id{r}" for r in range(0, 3000, 11))
    again.close()


@pytest.mark.parametrize("make", [lambda: NumpyBackend(dim=DIM), lambda: FAISSBackend(dim=DIM)])
def test_expiry_shortcut_survives_deletes_and_compaction(make: Any, tmp_path: Path) -> None:
    """Searches skip the expiry mask only while no row can have expired, whatever happened."""
    data = clustered(3000)
    store = make()
    store.add(ids(1), data[:1], [{"expires_at": 100.0}])
    store.add(ids(3000)[1:], data[1:], [{"expires_at": 10_000.0}] * 2999)
    assert store.search(data[0], k=1, now=50)[0].id == "id0"
    assert store.search(data[0], k=1, now=150)[0].id != "id0"  # expired
    store.delete(ids(1500)[1:])  # past a quarter: compaction renumbers the rows
    if hasattr(store, "wait_for_index"):
        store.wait_for_index(60)
    assert store.search(data[0], k=1, now=150)[0].id != "id0"
    assert store.search(data[2000], k=1, now=9_999)[0].id == "id2000"
    assert store.search(data[2000], k=1, now=10_000) == []
    store.close()


@pytest.mark.parametrize("make", [lambda: NumpyBackend(dim=DIM), lambda: FAISSBackend(dim=DIM)])
def test_bulk_load_into_an_empty_store_owns_its_rows(make: Any) -> None:
    """The first bulk add keeps its own normalized rows: the caller's array stays theirs."""
    data = clustered(3000)
    given = np.asfortranarray(data * 3.0)  # not unit, not C-ordered: the store copies anyway
    store = make()
    store.add(ids(3000), given)
    given[:] = 0.0
    assert store.search(data[42], k=1)[0].id == "id42"
    store.add(["late"], clustered(1, seed=9))  # grows past the adopted matrix
    assert store.count() == 3001
    assert store.search(data[2999], k=1)[0].id == "id2999"
    store.close()


@pytest.mark.parametrize("kind", ["numpy", "faiss"])
def test_a_staged_batch_is_invisible_until_committed(kind: str) -> None:
    """stage_add writes nothing; commit_add makes the whole batch visible, once."""
    data = clustered(3000)
    store = NumpyBackend(dim=DIM) if kind == "numpy" else FAISSBackend(dim=DIM, ann_threshold=2000)
    staged = store.stage_add(ids(3000), data)
    assert store.count() == 0
    assert store.search(data[0], k=1) == []
    store.commit_add(staged)
    assert store.count() == 3000
    if kind == "faiss":
        assert (store.stats()["index"], store.stats()["build"]) == ("ivf", "quick")
    for row in range(0, 3000, 11):
        assert store.search(data[row], k=1)[0].id == f"id{row}"
    with pytest.raises(ValueError, match="already committed"):
        store.commit_add(staged)
    store.close()


class _PausedBuild(FAISSBackend):
    """A FAISSBackend whose quick index build waits for a signal (to act during it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.started, self.go = threading.Event(), threading.Event()
        super().__init__(*args, **kwargs)

    def _make_index(self, vecs: npt.NDArray[np.float32], quick: bool = False) -> Any:
        if quick:
            self.started.set()
            assert self.go.wait(30)
        return super()._make_index(vecs, quick)


def test_searches_and_writes_during_a_bulk_build_are_served_and_kept() -> None:
    """The bulk build holds no lock: searches are answered meanwhile, and rows written or
    deleted meanwhile are in the index it swaps in."""
    data = clustered(3100)
    store = _PausedBuild(dim=DIM, ann_threshold=2000, exact_filter_limit=0)
    store.add(ids(500), data[:500], [{"part": i % 2} for i in range(500)])
    loader = threading.Thread(
        target=store.add, args=(ids(3000)[500:], data[500:3000], [{"part": 1}] * 2500)
    )
    loader.start()
    assert store.started.wait(30)
    with ThreadPoolExecutor(1) as pool:  # a search that waited for the build would time out
        assert pool.submit(store.search, data[7], 1).result(timeout=10)[0].id == "id7"
        late = [f"late{i}" for i in range(100)]
        pool.submit(store.add, late, data[3000:], [{"part": 0}] * 100).result(timeout=10)
        pool.submit(store.delete, ["id3", "id499"]).result(timeout=10)
    assert store.stats()["building"]
    store.go.set()
    loader.join(30)
    stats = store.stats()
    assert (stats["index"], stats["build"], stats["building"]) == ("ivf", "quick", False)
    assert store.count() == 3098
    for row in [3, 499, *range(0, 3000, 7)]:
        hit = store.search(data[row], k=1)[0]
        assert (hit.id == f"id{row}") == (row not in (3, 499))
    for j in range(0, 100, 3):
        assert store.search(data[3000 + j], k=1, filter={"part": 0})[0].id == f"late{j}"
    store.close()


def test_bad_metadata_in_a_bulk_add_writes_nothing_and_blocks_no_later_build() -> None:
    """Metadata are checked after the quick build: a bad batch still raises before any write,
    and the next bulk add builds its index as usual."""
    data = clustered(3000)
    store = FAISSBackend(dim=DIM, ann_threshold=2000)
    bad: list[dict[str, Any]] = [{"part": 1}] * 2999 + [{"part": [1, 2]}]
    with pytest.raises(TypeError, match="metadata value"):
        store.add(ids(3000), data, bad)
    assert (store.count(), store.stats()["index"], store.stats()["building"]) == (0, "exact", False)
    store.add(ids(3000), data, [{"part": 1}] * 3000)
    assert (store.stats()["index"], store.stats()["build"]) == ("ivf", "quick")
    assert store.search(data[42], k=1, filter={"part": 1})[0].id == "id42"
    store.close()
