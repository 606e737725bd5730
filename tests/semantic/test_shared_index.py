"""SharedVectorIndex: a semantic entry stored by one process is a semantic hit in the others."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
    with pytest.raises(ConfigurationError, match="shared_index"):
        SemanticCache(manager, embedder=emb, shared_index=True, vector_backend=a.vector_backend)


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
