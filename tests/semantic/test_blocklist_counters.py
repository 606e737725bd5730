"""NegativeCache false-positive counts come from atomic counters: racing workers lose none."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from pathlib import Path

import pytest

from omnicache_ai import CacheManager, DiskBackend, InMemoryBackend
from omnicache_ai.embedders import HashingEmbedder
from omnicache_ai.layers.negative_cache import NegativeCache

REPORTS = 10
PATTERN = "account balance"


def _reporter(path: str, worker: int, barrier: object) -> None:
    manager = CacheManager(backend=DiskBackend(path))
    block = NegativeCache(embedder=HashingEmbedder(), manager=manager, refresh=0)
    block.add(PATTERN, reason="private")
    barrier.wait()  # type: ignore[attr-defined]
    for i in range(REPORTS):
        # A text match: it keeps matching after each report, so every report counts.
        assert block.report_false_positive(f"show the {PATTERN} of w{worker} #{i}") is not None
    manager.close()


@pytest.mark.slow
def test_four_processes_reporting_lose_no_false_positive(tmp_path: Path) -> None:
    """4 processes x 10 reports on one pattern: every worker's list() says 40 afterwards."""
    path = str(tmp_path / "cache")
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_reporter, args=(path, w, barrier)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    manager = CacheManager(backend=DiskBackend(path))
    block = NegativeCache(embedder=HashingEmbedder(), manager=manager)
    assert [(p.pattern, p.false_positives) for p in block.list()] == [(PATTERN, 4 * REPORTS)]
    manager.close()


def test_two_workers_interleaved_count_both() -> None:
    """Two blocklists on one backend alternating reports: the stored count holds all of them."""
    manager = CacheManager(backend=InMemoryBackend())
    a = NegativeCache(embedder=HashingEmbedder(), manager=manager, refresh=3600)
    b = NegativeCache(embedder=HashingEmbedder(), manager=manager, refresh=3600)
    a.add(PATTERN)
    b.list()
    for i in range(3):
        a.report_false_positive(f"{PATTERN} a{i}")
        b.report_false_positive(f"{PATTERN} b{i}")
    assert [p.false_positives for p in a.list()] == [6]
    assert [p.false_positives for p in b.list()] == [6]


def test_counts_are_tenant_scoped() -> None:
    """A false positive reported in one tenant does not count in another."""
    manager = CacheManager(backend=InMemoryBackend())
    one = NegativeCache(embedder=HashingEmbedder(), manager=manager.for_tenant("one"))
    two = NegativeCache(embedder=HashingEmbedder(), manager=manager.for_tenant("two"))
    one.add(PATTERN)
    two.add(PATTERN)
    one.report_false_positive(f"my {PATTERN}")
    assert [p.false_positives for p in one.list()] == [1]
    assert [p.false_positives for p in two.list()] == [0]


def test_async_reports_count() -> None:
    """areport_false_positive and alist use the same counters."""

    async def run() -> list[int]:
        manager = CacheManager(backend=InMemoryBackend())
        block = NegativeCache(embedder=HashingEmbedder(), manager=manager)
        await block.aadd(PATTERN)
        for i in range(3):
            await block.areport_false_positive(f"{PATTERN} {i}")
        return [p.false_positives for p in await block.alist()]

    assert asyncio.run(run()) == [3]
