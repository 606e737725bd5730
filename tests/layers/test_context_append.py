"""ContextCache.append: turn indexes from an atomic counter, so concurrent writers never collide."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import threading
from pathlib import Path

import pytest

from omnicache_ai import (
    AsyncInMemoryBackend,
    CacheKeyBuilder,
    CacheManager,
    ContextCache,
    DiskBackend,
    InMemoryBackend,
)
from omnicache_ai.testing import FlakyBackend

WAIT = 60.0  # generous: only reached when something is broken
PER_PROCESS = 40


def _appender(path: str, worker: int, n: int) -> None:
    manager = CacheManager(backend=DiskBackend(path), key_builder=CacheKeyBuilder("test"))
    ctx = ContextCache(manager)
    for i in range(n):
        ctx.append("shared", [{"w": worker, "i": i}])
    manager.close()


def _messages_by_worker(ctx: ContextCache, session: str) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for message in ctx.get_history(session):
        out.setdefault(message["w"], []).append(message["i"])
    return out


@pytest.mark.slow
def test_four_processes_appending_lose_no_turn(tmp_path: Path) -> None:
    """4 processes x 40 appends to one session on one disk cache: all 160 turns survive."""
    path = str(tmp_path / "cache")
    ctx_mp = mp.get_context("spawn")
    procs = [ctx_mp.Process(target=_appender, args=(path, w, PER_PROCESS)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    manager = CacheManager(backend=DiskBackend(path), key_builder=CacheKeyBuilder("test"))
    ctx = ContextCache(manager)
    assert ctx.latest_turn("shared") == 4 * PER_PROCESS - 1
    assert len(ctx.get_turns("shared")) == 4 * PER_PROCESS
    # each worker's own turns are in its order
    assert _messages_by_worker(ctx, "shared") == {w: list(range(PER_PROCESS)) for w in range(4)}
    manager.close()


def test_threads_appending_get_distinct_turns() -> None:
    """8 threads x 25 appends: 200 distinct indexes 0..199, every message kept."""
    ctx = ContextCache(CacheManager(backend=InMemoryBackend()))
    got: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8, timeout=WAIT)

    def run(w: int) -> None:
        start.wait()
        for i in range(25):
            t = ctx.append("chat", [{"w": w, "i": i}])
            with lock:
                got.append(t)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(WAIT)
    assert sorted(got) == list(range(200))
    assert _messages_by_worker(ctx, "chat") == {w: list(range(25)) for w in range(8)}


def test_append_skips_turns_written_with_explicit_indexes() -> None:
    """After set() wrote turns 0..4, append() continues at 5 instead of overwriting turn 0."""
    ctx = ContextCache(CacheManager(backend=InMemoryBackend()))
    for t in range(5):
        ctx.set("s", t, [{"t": t}])
    assert ctx.append("s", [{"t": "new"}]) == 5
    assert ctx.append("s", [{"t": "newer"}]) == 6
    assert ctx.get("s", 0) == [{"t": 0}]


def test_sessions_and_tenants_count_separately() -> None:
    """Each session and each tenant has its own turn counter."""
    m = CacheManager(backend=InMemoryBackend())
    a, b = ContextCache(m.for_tenant("a")), ContextCache(m.for_tenant("b"))
    assert [a.append("s", []), a.append("s", []), a.append("t", [])] == [0, 1, 0]
    assert b.append("s", []) == 0


def test_append_with_a_failing_counter_still_stores() -> None:
    """If only the counter fails, append falls back to latest turn + 1 and keeps the turn."""
    flaky = FlakyBackend(InMemoryBackend())
    ctx = ContextCache(CacheManager(backend=flaky))
    ctx.append("s", [{"n": 0}])
    real_incr = flaky.incr

    def broken(*args: object) -> int:
        raise ConnectionError("counter down")

    flaky.incr = broken  # type: ignore[method-assign]
    assert ctx.append("s", [{"n": 1}]) == 1
    flaky.incr = real_incr  # type: ignore[method-assign]
    assert ctx.get_history("s") == [{"n": 0}, {"n": 1}]
    assert ctx.manager.metrics.backend_errors().get(("FlakyBackend", "incr"), 0) >= 1


def test_async_tasks_appending_get_distinct_turns() -> None:
    """50 concurrent aappend tasks get indexes 0..49 and history holds all of them."""

    async def run() -> tuple[list[int], int]:
        ctx = ContextCache(CacheManager(backend=AsyncInMemoryBackend()))
        turns = await asyncio.gather(*(ctx.aappend("s", [{"i": i}]) for i in range(50)))
        return sorted(turns), len(await ctx.aget_history("s"))

    turns, n = asyncio.run(run())
    assert turns == list(range(50))
    assert n == 50
