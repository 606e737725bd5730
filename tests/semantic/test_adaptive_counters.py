"""Adaptive evidence: global counts sharded by writer slot, so concurrent workers lose none."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from omnicache_ai import CacheManager, DiskBackend, InMemoryBackend
from omnicache_ai.embedders import HashingEmbedder
from omnicache_ai.layers.semantic_cache import AdaptiveSemanticCache, SemanticResult

REPORTS = 30


def _cache(manager: CacheManager) -> AdaptiveSemanticCache:
    return AdaptiveSemanticCache(
        manager, embedder=HashingEmbedder(dim=64), threshold=0.8, floor=0.7
    )


def _report(cache: AdaptiveSemanticCache, worker: int, n: int) -> None:
    for i in range(n):
        hit = SemanticResult(True, "x", 0.75 + (i % 5) / 100, "semantic", "q", f"w{worker}e{i}")
        cache.report(hit, correct=bool(i % 3))


def _worker(path: str, worker: int, barrier: object) -> None:
    manager = CacheManager(backend=DiskBackend(path))
    cache = _cache(manager)
    barrier.wait()  # type: ignore[attr-defined]
    _report(cache, worker, REPORTS)
    assert cache.stats()["unsaved_observations"] == 0
    manager.close()


def _in_four_processes(target: Callable[[str, int, Any], None], path: str) -> None:
    """Run ``target(path, worker, barrier)`` in 4 spawned processes at once; all must succeed."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=target, args=(path, w, barrier)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0


@pytest.mark.slow
def test_four_processes_reporting_lose_no_observation(tmp_path: Path) -> None:
    """4 processes x 30 reports on one disk cache: a fresh cache loads all 120 observations."""
    path = str(tmp_path / "cache")
    _in_four_processes(_worker, path)
    manager = CacheManager(backend=DiskBackend(path))
    fresh = _cache(manager)
    fresh.load_evidence()
    assert fresh.stats()["reports"] == 4 * REPORTS
    manager.close()


def test_interleaved_workers_and_restart_keep_every_count() -> None:
    """Two caches alternating reports on one backend, then a third: all counts are summed."""
    manager = CacheManager(backend=InMemoryBackend())
    a, b = _cache(manager), _cache(manager)
    for i in range(5):
        _report(a, 0, 1 + i)
        _report(b, 1, 1 + i)
        b.load_evidence()  # b sees a's counts, and keeps writing only its own slot
    a.load_evidence()
    assert a.stats()["reports"] == b.stats()["reports"] == 30
    c = _cache(manager)
    c.load_evidence()
    _report(c, 2, 4)
    assert c.stats()["reports"] == 34


def test_slots_are_per_tenant() -> None:
    """Evidence reported in one tenant is not summed into another tenant's counts."""
    manager = CacheManager(backend=InMemoryBackend())
    one, two = _cache(manager.for_tenant("one")), _cache(manager.for_tenant("two"))
    _report(one, 0, 6)
    fresh_two = _cache(manager.for_tenant("two"))
    fresh_two.load_evidence()
    assert fresh_two.stats()["reports"] == 0
    two.load_evidence()
    fresh_one = _cache(manager.for_tenant("one"))
    fresh_one.load_evidence()
    assert fresh_one.stats()["reports"] == 6


ENTRY = "one-shared-entry"


def _entry_obs(cache: AdaptiveSemanticCache, entry_id: str) -> list[tuple[float, bool]]:
    """The observations this cache holds for one entry, after reading the store."""
    cache._run(cache._load_flow([entry_id], False))
    ev = cache._ev
    with ev.lock:
        entry = ev.entries.get(entry_id)
        return entry.observations() if entry is not None else []


def _entry_worker(path: str, worker: int, barrier: object) -> None:
    manager = CacheManager(backend=DiskBackend(path))
    cache = _cache(manager)
    barrier.wait()  # type: ignore[attr-defined]
    for i in range(REPORTS):
        score = 0.75 + worker / 100 + i / 10_000  # tells who reported what
        cache.report(SemanticResult(True, "x", score, "semantic", "q", ENTRY), bool(i % 3))
    assert cache.stats()["unsaved_observations"] == 0
    manager.close()


@pytest.mark.slow
def test_four_processes_reporting_on_one_entry_lose_no_observation(tmp_path: Path) -> None:
    """4 processes x 30 reports on the same entry: a fresh cache reads all 120 of them.

    Each process writes the entry's observations to its own slot (absolute, no read), so
    none overwrites another's. (The read-add-write record this replaced kept 53 of the 120
    in this test.)
    """
    path = str(tmp_path / "cache")
    _in_four_processes(_entry_worker, path)
    manager = CacheManager(backend=DiskBackend(path))
    obs = _entry_obs(_cache(manager), ENTRY)
    assert len(obs) == 4 * REPORTS
    for w in range(4):  # each worker's own observations, in the order it made them
        mine = [s for s, _ in obs if round((s - 0.75) * 100) == w]
        assert mine == sorted(mine)
        assert len(mine) == REPORTS
    manager.close()
