"""SharedVectorIndex: a semantic entry stored by one process is a semantic hit in the others."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from _ci import need
from omnicache_ai import CacheManager, DiskBackend, InMemoryBackend
from omnicache_ai.layers.semantic_index import SharedVectorIndex
from omnicache_ai.testing import FlakyBackend

DIM = 64
Q = "what is the boiling point of water at sea level"
Q_NEAR = "what is the boiling point of pure water at sea level"


def test_later_process_sees_earlier_entries_and_deletes() -> None:
    """A replica built later holds the adds and not the deleted ids; clear propagates."""
    manager = CacheManager(backend=InMemoryBackend())
    a = SharedVectorIndex(manager, dim=3, poll_interval=0)
    a.add(["x", "y"], [[1, 0, 0], [0, 1, 0]], [{"p": "t"}, {"p": "t"}])
    a.delete(["x"])
    b = SharedVectorIndex(manager, dim=3, poll_interval=0)
    assert [h.id for h in b.search([1, 0.2, 0], k=2)] == ["y"]
    assert b.search([0, 1, 0], filter={"p": "t"})[0].metadata == {"p": "t"}
    b.clear()
    assert a.count() == 0


def test_paraphrase_hits_across_caches_and_invalidation_is_honoured() -> None:
    """A paraphrase hits via another cache's index; after a tag invalidation it misses."""
    from omnicache_ai.embedders import HashingEmbedder
    from omnicache_ai.layers.semantic_cache import SemanticCache

    manager = CacheManager(backend=InMemoryBackend())
    emb = HashingEmbedder(dim=DIM)

    def cache() -> SemanticCache:
        index = SharedVectorIndex(manager, dim=DIM, poll_interval=0)
        return SemanticCache(manager, embedder=emb, vector_backend=index)

    a, b = cache(), cache()
    a.set(Q, "100 C", tags=["physics"])
    assert b.lookup(Q_NEAR).hit
    manager.invalidate("physics")
    assert not b.lookup(Q_NEAR).hit


def test_unwritten_slot_is_waited_for_then_applied() -> None:
    """A reserved slot written late (a slow writer) is still applied on a later catch-up."""
    manager = CacheManager(backend=InMemoryBackend())
    reader = SharedVectorIndex(manager, dim=3, poll_interval=0)
    slow = SharedVectorIndex(manager, dim=3, poll_interval=0)
    slot = manager.incr(slow._key(None), 1, ttl=0)  # reserved, not written yet
    slow.add(["later"], [[0, 0, 1]])
    assert [h.id for h in reader.search([0, 0, 1])] == ["later"]
    assert slot is not None
    manager.set(
        slow._key(slot), {"o": "a", "i": "slow", "v": np.array([1, 0, 0], "<f4").tobytes(), "m": {}}
    )
    assert [h.id for h in reader.search([1, 0, 0])] == ["slow"]


def test_backend_down_serves_the_replica_and_logs() -> None:
    """With the backend down, adds stay local and searches serve the replica; no exception."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    index = SharedVectorIndex(manager, dim=3, poll_interval=0)
    flaky.down = True
    index.add(["x"], [[1, 0, 0]])
    assert [h.id for h in index.search([1, 0, 0])] == ["x"]
    assert index.stats["unlogged"] == 1
    assert manager.metrics.snapshot()["errors"] >= 1


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    """A bad dim or interval names the problem."""
    manager = CacheManager(backend=DiskBackend(str(tmp_path / "d")))
    with pytest.raises(ValueError, match="dim"):
        SharedVectorIndex(manager, dim=0)
    with pytest.raises(ValueError, match="poll_interval"):
        SharedVectorIndex(manager, dim=3, poll_interval=-1)


def test_shared_index_flag_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """shared_index=True (or OMNICACHE_SEMANTIC_SHARED=true) makes caches share paraphrases."""
    from omnicache_ai.core.errors import ConfigurationError
    from omnicache_ai.embedders import HashingEmbedder
    from omnicache_ai.layers.semantic_cache import SemanticCache

    manager = CacheManager(backend=InMemoryBackend())
    emb = HashingEmbedder(dim=DIM)
    a = SemanticCache(manager, embedder=emb, shared_index=True)
    monkeypatch.setenv("OMNICACHE_SEMANTIC_SHARED", "true")
    b = SemanticCache(manager, embedder=emb)
    monkeypatch.delenv("OMNICACHE_SEMANTIC_SHARED")
    local_only = SemanticCache(manager, embedder=emb)
    a.set(Q, "100 C")
    assert isinstance(b.vector_backend, SharedVectorIndex)
    assert b.vector_backend.poll_interval > 0
    b.vector_backend.catch_up(force=True)
    assert b.lookup(Q_NEAR).tier == "semantic"
    assert local_only.lookup(Q_NEAR).tier != "semantic"
    from omnicache_ai.backends.vector import NumpyBackend

    with pytest.raises(ConfigurationError, match="SharedVectorIndex"):
        SemanticCache(manager, embedder=emb, shared_index=True, vector_backend=NumpyBackend(DIM))
    given = SemanticCache(manager, embedder=emb, shared_index=True, vector_backend=b.vector_backend)
    assert given.shared_index
    assert given.vector_backend is b.vector_backend


def test_wiped_log_is_replayed_from_the_start() -> None:
    """After the backend is flushed, a replica drops its entries and replays the new log."""
    manager = CacheManager(backend=InMemoryBackend())
    a = SharedVectorIndex(manager, dim=3, poll_interval=0)
    b = SharedVectorIndex(manager, dim=3, poll_interval=0)
    a.add(["old1", "old2"], [[1, 0, 0], [0, 1, 0]])
    assert b.count() == 2
    manager.clear()
    a.local.clear()
    a.add(["new"], [[0, 0, 1]])
    assert [h.id for h in b.search([0, 0, 1], k=3)] == ["new"]
    assert b.stats["rebuilds"] == 1


# ---- compaction: snapshots and a trimmed log ----------------------------------------------------
def _vec(i: int) -> list[float]:
    v = [0.0] * 3
    v[i % 3] = 1.0
    v[(i + 1) % 3] = 0.01 * i
    return v


def _ids(index: SharedVectorIndex) -> set[str]:
    return {h.id for h in index.search([1, 1, 1], k=100)}


def _logged(index: SharedVectorIndex, slot: int) -> bool:
    found = index._records.load(index.manager, [index._key(slot)])
    return bool(found and index._key(slot) in found)


def test_replica_behind_a_trimmed_log_rebuilds_from_the_snapshot() -> None:
    """Two compactions trim the log a replica had not read: it loads the snapshot, then the tail.

    The rebuilt replica holds exactly the live entries: deletes, a clear and expired entries
    in the trimmed part are honoured, and later records still apply on top.
    """
    manager = CacheManager(backend=InMemoryBackend())
    writer = SharedVectorIndex(manager, dim=3, poll_interval=0, compact_every=0)
    idle = SharedVectorIndex(manager, dim=3, poll_interval=3600, compact_every=0)
    writer.add(["gone"], [_vec(0)])
    idle.catch_up(force=True)  # read slot 1, then idle while the log moves on
    assert _ids(idle) == {"gone"}
    writer.clear()  # "gone" must not come back from the first part of the log
    writer.add([f"e{i}" for i in range(6)], [_vec(i) for i in range(6)])
    writer.add(["old"], [_vec(7)], [{"expires_at": 1.0}])  # long expired
    writer.delete(["e1"])
    assert writer.compact()
    writer.add(["e6", "e7"], [_vec(6), _vec(7)])
    writer.delete(["e2"])
    assert writer.compact()  # trims the log up to the first snapshot
    assert not _logged(writer, 1)
    assert _logged(writer, writer._top)
    writer.add(["tail"], [_vec(8)])
    writer.delete(["e3"])
    idle.catch_up(force=True)
    want = {"e0", "e4", "e5", "e6", "e7", "tail"}
    assert _ids(idle) == want
    assert idle.stats["snapshot_loads"] == 1
    late = SharedVectorIndex(manager, dim=3, poll_interval=0)
    assert _ids(late) == want
    assert late.stats["snapshot_loads"] == 1
    assert late.stats["applied"] <= 4


def test_compaction_runs_by_itself_and_one_compactor_at_a_time() -> None:
    """Past compact_every records a search starts a compaction; a held lease blocks another."""
    manager = CacheManager(backend=InMemoryBackend())
    index = SharedVectorIndex(manager, dim=3, poll_interval=0, compact_every=5)
    other = SharedVectorIndex(manager, dim=3, poll_interval=0, compact_every=0)
    held = manager.incr(other._meta_key("lease"), 1, ttl=60, layer="semantic.index")
    assert held == 1
    index.add([f"e{i}" for i in range(6)], [_vec(i) for i in range(6)])
    assert not other.compact()  # the lease is taken
    manager.delete(other._meta_key("lease"), layer="semantic.index")
    index._compact_due = 0.0
    index.search(_vec(0))
    for _ in range(200):
        if index.stats.get("compactions"):
            break
        time.sleep(0.01)
    assert index.stats.get("compactions") == 1
    assert other._read_pointer()[1]["seq"] == 6


def test_compaction_stops_before_an_unwritten_slot() -> None:
    """A slot reserved but not written yet is not folded past: it still applies later."""
    manager = CacheManager(backend=InMemoryBackend())
    index = SharedVectorIndex(manager, dim=3, poll_interval=0, compact_every=0)
    index.add(["a"], [_vec(0)])
    slot = manager.incr(index._key(None), 1, ttl=0)  # a writer between incr and write
    index.add(["b"], [_vec(1)])
    assert index.compact()
    assert index._read_pointer()[1]["seq"] == 1
    assert slot is not None
    manager.set(
        index._key(slot), {"o": "a", "i": "slow", "v": np.array(_vec(2), "<f4").tobytes(), "m": {}}
    )
    assert index.compact()
    late = SharedVectorIndex(manager, dim=3, poll_interval=0)
    assert _ids(late) == {"a", "b", "slow"}


def test_replica_replaying_a_bulk_log_is_ivf_ready() -> None:
    """The default replica is the zero-config index: a replayed bulk add builds its IVF at once.

    A worker that starts behind a 3,000-entry bulk write replays it as one batch; with FAISS
    installed, its replica answers through the IVF index without waiting for a background
    build, and finds every entry the writer stored.
    """
    need("faiss", extra="faiss")
    from omnicache_ai.backends.vector import FAISSBackend

    manager = CacheManager(backend=InMemoryBackend())
    writer = SharedVectorIndex(manager, dim=16, poll_interval=0)
    assert isinstance(writer.local, FAISSBackend)
    rng = np.random.default_rng(3)
    vecs = rng.standard_normal((3000, 16)).astype(np.float32)
    writer.add([f"e{i}" for i in range(3000)], vecs)
    reader = SharedVectorIndex(
        manager, dim=16, poll_interval=0, local=FAISSBackend(dim=16, ann_threshold=2000)
    )
    stats = reader.local.stats()
    assert (stats["index"], stats["build"], stats["building"]) == ("ivf", "quick", False)
    assert all(reader.search(vecs[i], k=1)[0].id == f"e{i}" for i in range(0, 3000, 13))
