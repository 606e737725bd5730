"""AdaptiveSemanticCache evidence is stored through the manager: shared, durable, fail-open."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from omnicache_ai import CacheManager, DiskBackend, InMemoryBackend
from omnicache_ai.core.errors import CacheBackendError
from omnicache_ai.embedders import HashingEmbedder
from omnicache_ai.layers.semantic_cache import AdaptiveSemanticCache, SemanticResult
from omnicache_ai.testing import FlakyBackend

Q = "what is the boiling point of water at sea level"
Q_NEAR = "what is the boiling point of pure water at sea level"


def _cache(manager: CacheManager, **kw: Any) -> AdaptiveSemanticCache:
    kw.setdefault("threshold", 0.8)
    kw.setdefault("floor", 0.7)
    return AdaptiveSemanticCache(manager, embedder=HashingEmbedder(dim=64), **kw)


def _confirmations(cache: AdaptiveSemanticCache, n: int, score: float = 0.75) -> None:
    for i in range(n):
        cache.report(SemanticResult(True, "x", score, "semantic", "q", f"e{i % 7}"), True)


def _evidence_reads(manager: CacheManager) -> int:
    layer = manager.metrics.snapshot()["layers"].get("semantic.evidence", {})
    return int(layer.get("hits", 0) + layer.get("misses", 0))


@pytest.fixture
def disk_dir(tmp_path: Path) -> str:
    """A directory for a DiskBackend shared by several 'workers'."""
    return str(tmp_path / "shared-cache")


def test_wrong_answer_reported_by_one_worker_stops_the_next(disk_dir: str) -> None:
    """A wrong hit reported by one cache is not served by a new cache over the same disk."""
    first = _cache(CacheManager(DiskBackend(disk_dir)))
    first.set(Q, "100 °C")
    r = first.lookup(Q_NEAR)
    assert r.tier == "semantic"
    first.report(r, correct=False)
    assert first.lookup(Q_NEAR).hit is False

    second = _cache(CacheManager(DiskBackend(disk_dir)))
    second.set(Q, "100 °C")  # same question, same partition: the same entry id
    miss = second.lookup(Q_NEAR)
    assert miss.hit is False
    assert miss.entry_id == r.entry_id
    assert r.similarity is not None
    assert second.current_threshold(r.entry_id) > r.similarity
    assert second.stats()["reports"] == 1


def test_learned_global_threshold_survives_a_restart(disk_dir: str) -> None:
    """Confirmations lower the global threshold; a new cache starts from the stored one."""
    first = _cache(CacheManager(DiskBackend(disk_dir)))
    _confirmations(first, 150)
    assert first.current_threshold() == 0.75
    assert first.stats()["unsaved_observations"] == 0

    second = _cache(CacheManager(DiskBackend(disk_dir)))
    assert second.current_threshold() == 0.8  # nothing read yet
    assert second.load_evidence() == 0.75
    assert second.stats()["reports"] == 150


def test_a_lookup_loads_the_global_threshold(disk_dir: str) -> None:
    """Without load_evidence(), the first lookup with a candidate reads the stored evidence."""
    far = "boiling point of water at sea"  # similarity 0.735 to Q with this embedder
    _confirmations(_cache(CacheManager(DiskBackend(disk_dir))), 150, score=0.72)
    unaware = _cache(CacheManager(DiskBackend(disk_dir)), persist_evidence=False)
    unaware.set(Q, "100 °C")
    assert unaware.lookup(far).hit is False
    second = _cache(CacheManager(DiskBackend(disk_dir)))
    second.set(Q, "100 °C")
    assert second.current_threshold() == 0.8
    r = second.lookup(far)
    assert r.hit
    assert r.threshold == 0.72


def test_evidence_of_another_process_is_loaded(disk_dir: str) -> None:
    """A report made in a subprocess reaches this process through a DiskBackend."""
    code = textwrap.dedent(
        f"""
        from omnicache_ai import CacheManager, DiskBackend
        from omnicache_ai.embedders import HashingEmbedder
        from omnicache_ai.layers.semantic_cache import AdaptiveSemanticCache
        cache = AdaptiveSemanticCache(CacheManager(DiskBackend({disk_dir!r})),
                                      embedder=HashingEmbedder(dim=64), threshold=0.8, floor=0.7)
        cache.set({Q!r}, "100 °C")
        r = cache.lookup({Q_NEAR!r})
        assert r.tier == "semantic", r
        cache.report(r, correct=False)
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    here = _cache(CacheManager(DiskBackend(disk_dir)))
    here.set(Q, "100 °C")
    assert here.lookup(Q_NEAR).hit is False
    assert here.stats()["observed_false_hit_rate"] == 1.0


def test_reports_of_two_workers_add_up(disk_dir: str) -> None:
    """Reports merge into the stored counts: alternating workers lose nothing."""
    a = _cache(CacheManager(DiskBackend(disk_dir)))
    b = _cache(CacheManager(DiskBackend(disk_dir)))
    for i in range(20):
        worker = a if i % 2 else b
        worker.report(SemanticResult(True, "x", 0.9, "semantic", "q", "e1"), correct=i % 5 != 0)
    fresh = _cache(CacheManager(DiskBackend(disk_dir)))
    fresh.load_evidence()
    stats = fresh.stats()
    assert stats["reports"] == 20
    assert stats["observed_false_hit_rate"] == pytest.approx(4 / 20)


def test_concurrent_reporters_in_one_process_lose_nothing(disk_dir: str) -> None:
    """Threads reporting through one cache: every observation ends up stored."""
    cache = _cache(CacheManager(DiskBackend(disk_dir)))
    start = threading.Barrier(8)

    def reporter(n: int) -> None:
        start.wait()
        for i in range(25):
            cache.report(SemanticResult(True, "x", 0.9, "semantic", "q", f"t{n}-{i % 3}"), True)

    threads = [threading.Thread(target=reporter, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # A report that found a flush in progress is written by the next flush.
    cache.report(SemanticResult(True, "x", 0.9, "semantic", "q", "last"), True)
    fresh = _cache(CacheManager(DiskBackend(disk_dir)))
    fresh.load_evidence()
    assert fresh.stats()["reports"] == 8 * 25 + 1


def test_other_workers_reports_are_picked_up_after_refresh(disk_dir: str) -> None:
    """A cache that already read an entry's evidence re-reads it after evidence_refresh."""
    a = _cache(CacheManager(DiskBackend(disk_dir)), evidence_refresh=0)
    b = _cache(CacheManager(DiskBackend(disk_dir)), evidence_refresh=0)
    a.set(Q, "100 °C")
    b.set(Q, "100 °C")
    assert b.lookup(Q_NEAR).hit  # b read the (empty) evidence of this entry
    a.report(a.lookup(Q_NEAR), correct=False)
    assert b.lookup(Q_NEAR).hit is False


def test_lookups_read_evidence_once_per_refresh() -> None:
    """Evidence is read on the first lookup, then served from memory until it is stale."""
    manager = CacheManager()
    cache = _cache(manager, evidence_refresh=3600)
    cache.set(Q, "100 °C")
    cache.lookup(Q_NEAR)
    reads = _evidence_reads(manager)
    assert reads == 2  # the entry's record and the global one, in one batch
    for _ in range(10):
        assert cache.lookup(Q_NEAR).hit
    assert _evidence_reads(manager) == reads


def test_explicit_threshold_and_distant_candidates_read_nothing() -> None:
    """A per-call threshold, or candidates under the floor, need no evidence read."""
    manager = CacheManager()
    cache = _cache(manager)
    cache.set(Q, "100 °C")
    cache.lookup(Q_NEAR, threshold=0.9)
    cache.lookup("completely unrelated words about sourdough bread")
    assert _evidence_reads(manager) == 0


def test_backend_failure_degrades_to_memory(caplog: pytest.LogCaptureFixture) -> None:
    """With the backend down, reports still move thresholds; errors are counted, logged once."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    cache = _cache(manager)
    cache.set(Q, "100 °C")
    r = cache.lookup(Q_NEAR)
    assert r.tier == "semantic"
    flaky.down = True
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        cache.report(r, correct=False)
        cache.report(r, correct=False)
        assert cache.lookup(Q_NEAR).hit is False
    # The first failing step (taking a writer slot) is logged once for the whole burst.
    assert caplog.text.count("semantic.evidence.slot failed") == 1
    assert cache.stats()["unsaved_observations"] == 2
    assert cache.stats()["errors"] >= 2
    assert manager.metrics.snapshot()["layers"]["semantic.evidence"]["errors"] >= 2

    flaky.down = False
    cache.report(SemanticResult(True, "x", 0.95, "semantic", "q", "other"), correct=True)
    assert cache.stats()["unsaved_observations"] == 0
    fresh = _cache(manager)
    fresh.load_evidence()
    assert fresh.stats()["reports"] == 3
    fresh.set(Q, "100 °C")
    assert fresh.lookup(Q_NEAR).hit is False


def test_failed_evidence_read_is_not_taken_for_no_evidence() -> None:
    """A read that fails is never merged as 'nothing stored' over the stored evidence."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    _confirmations(_cache(manager), 150)
    late = _cache(manager)
    flaky.down = True
    late.report(SemanticResult(True, "x", 0.9, "semantic", "q", "e1"), correct=False)
    flaky.down = False
    late.report(SemanticResult(True, "x", 0.9, "semantic", "q", "e2"), correct=True)
    fresh = _cache(manager)
    fresh.load_evidence()
    assert fresh.stats()["reports"] == 152


def test_strict_manager_raises_on_evidence_failure() -> None:
    """A strict manager's failures are raised, as for every other cache operation."""
    flaky = FlakyBackend(InMemoryBackend())
    cache = _cache(CacheManager(backend=flaky, strict=True))
    flaky.down = True
    with pytest.raises(CacheBackendError):
        cache.report(SemanticResult(True, "x", 0.9, "semantic", "q", "e1"), correct=False)


def test_tenants_evidence_stays_in_the_tenant(disk_dir: str) -> None:
    """One tenant's reports move neither another tenant's thresholds nor its stored evidence."""
    root = _cache(CacheManager(DiskBackend(disk_dir)))
    acme, globex = root.for_tenant("acme"), root.for_tenant("globex")
    for view in (acme, globex):
        view.set(Q, "100 °C")
    bad = acme.lookup(Q_NEAR)
    assert bad.tier == "semantic"
    acme.report(bad, correct=False)
    _confirmations(acme, 300)  # enough to outweigh the wrong answer for a 1% target
    assert acme.lookup(Q_NEAR).hit is False
    assert acme.current_threshold() == 0.75
    assert globex.lookup(Q_NEAR).hit
    assert globex.current_threshold() == 0.8
    assert root.current_threshold() == 0.8
    assert root.for_tenant("acme").current_threshold() == 0.75  # views share the tenant state

    restarted = _cache(CacheManager(DiskBackend(disk_dir)))
    assert restarted.for_tenant("acme").load_evidence() == 0.75
    assert restarted.for_tenant("globex").load_evidence() == 0.8
    assert restarted.load_evidence() == 0.8


def test_memory_only_evidence_is_not_stored(disk_dir: str) -> None:
    """persist_evidence=False keeps evidence in memory: a new cache learns nothing."""
    first = _cache(CacheManager(DiskBackend(disk_dir)), persist_evidence=False)
    _confirmations(first, 150)
    assert first.current_threshold() == 0.75
    second = _cache(CacheManager(DiskBackend(disk_dir)))
    assert second.load_evidence() == 0.8
    assert second.stats()["reports"] == 0


def test_evidence_is_keyed_by_embedder(disk_dir: str) -> None:
    """Similarities of another embedder are not evidence for this one."""
    _confirmations(_cache(CacheManager(DiskBackend(disk_dir))), 150)
    other = AdaptiveSemanticCache(
        CacheManager(DiskBackend(disk_dir)),
        embedder=HashingEmbedder(dim=64, seed=7),
        threshold=0.8,
        floor=0.7,
    )
    assert other.load_evidence() == 0.8


def test_verification_verdicts_are_stored(disk_dir: str) -> None:
    """A verifier's verdict is evidence like a report, and is stored the same way."""
    cache = _cache(
        CacheManager(DiskBackend(disk_dir)),
        threshold=0.99,
        floor=0.5,
        verify=lambda q, c, a: False,
        verify_band=0.5,
    )
    cache.set(Q, "100 °C")
    assert cache.lookup(Q_NEAR).hit is False
    fresh = _cache(CacheManager(DiskBackend(disk_dir)), threshold=0.99, floor=0.5)
    fresh.load_evidence()
    assert fresh.stats()["reports"] == 1
    assert fresh.stats()["observed_false_hit_rate"] == 1.0


async def test_async_report_and_load(disk_dir: str) -> None:
    """areport/aload_evidence/alookup store and read evidence like their sync twins."""
    first = _cache(CacheManager(DiskBackend(disk_dir)))
    await first.aset(Q, "100 °C")
    r = await first.alookup(Q_NEAR)
    assert r.tier == "semantic"
    await first.areport(r, correct=False)
    for i in range(150):
        await first.areport(SemanticResult(True, "x", 0.75, "semantic", "q", f"e{i}"), True)

    second = _cache(CacheManager(DiskBackend(disk_dir)))
    assert await second.aload_evidence() == first.current_threshold()
    await second.aset(Q, "100 °C")
    assert (await second.alookup(Q_NEAR)).hit is False


async def test_async_backend_failure_degrades() -> None:
    """The async paths survive a failing backend too."""
    flaky = FlakyBackend(InMemoryBackend())
    cache = _cache(CacheManager(backend=flaky))
    await cache.aset(Q, "100 °C")
    r = await cache.alookup(Q_NEAR)
    flaky.down = True
    await cache.areport(r, correct=False)
    assert (await cache.alookup(Q_NEAR)).hit is False
    assert await cache.aload_evidence() == cache.current_threshold()
    assert cache.stats()["unsaved_observations"] == 1
