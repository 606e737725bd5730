"""StampedeShield and get_or_set under real thread and asyncio concurrency."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from omnicache_ai import CacheManager, InMemoryBackend, StampedeShield


class _Counter:
    def __init__(self) -> None:
        self.n = 0
        self._lock = threading.Lock()

    def bump(self) -> int:
        with self._lock:
            self.n += 1
            return self.n


class _Joins:
    """Counts callers joining the shield's flights, so a leader can wait for its followers.

    It wraps the shield's own ``_join`` on this one instance (instrumentation, no change of
    behaviour): once ``n`` callers have joined, all but the leader are waiting on its flight,
    which makes "everyone coalesced" an event rather than a hope about sleep lengths.
    """

    def __init__(self, shield: StampedeShield) -> None:
        self.n = 0
        self._cond = threading.Condition()
        original = shield._join

        def counting(key: str) -> Any:
            result = original(key)
            with self._cond:
                self.n += 1
                self._cond.notify_all()
            return result

        shield._join = counting  # type: ignore[method-assign]

    def wait_for(self, n: int, timeout: float = 30) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.n >= n, timeout)


def test_fifty_threads_one_computation() -> None:
    """50 threads missing the same key cause exactly one computation and all get its value."""
    manager = CacheManager(backend=InMemoryBackend())
    calls = _Counter()
    joins = _Joins(manager.stampede)
    barrier = threading.Barrier(50)
    results: list[str] = []

    def compute() -> str:
        calls.bump()
        assert joins.wait_for(50), "not every thread reached the shield"
        return "answer"

    def worker() -> None:
        barrier.wait()
        results.append(manager.get_or_set("hot", compute))

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls.n == 1
    assert results == ["answer"] * 50
    assert manager.metrics.snapshot()["coalesced"] == 49


async def test_fifty_tasks_one_computation() -> None:
    """50 asyncio tasks missing the same key cause exactly one computation."""
    manager = CacheManager(backend=InMemoryBackend())
    calls = _Counter()

    async def compute() -> str:
        calls.bump()
        await asyncio.sleep(0.2)
        return "answer"

    results = await asyncio.gather(*(manager.aget_or_set("hot", compute) for _ in range(50)))
    assert calls.n == 1
    assert results == ["answer"] * 50


def test_threads_and_tasks_together_one_computation() -> None:
    """50 threads and 50 tasks on another thread's event loop share one computation."""
    manager = CacheManager(backend=InMemoryBackend())
    calls = _Counter()
    joins = _Joins(manager.stampede)
    start = threading.Event()

    def compute_sync() -> str:
        calls.bump()
        assert joins.wait_for(100), "not every caller reached the shield"
        return "shared"

    async def compute_async() -> str:
        calls.bump()
        assert await asyncio.to_thread(joins.wait_for, 100), "not every caller joined"
        return "shared"

    thread_results: list[str] = []

    def thread_worker() -> None:
        start.wait()
        thread_results.append(manager.get_or_set("both", compute_sync))

    async def tasks() -> list[str]:
        await asyncio.get_running_loop().run_in_executor(None, start.wait)
        return list(
            await asyncio.gather(*(manager.aget_or_set("both", compute_async) for _ in range(50)))
        )

    task_results: list[str] = []
    loop_thread = threading.Thread(target=lambda: task_results.extend(asyncio.run(tasks())))
    threads = [threading.Thread(target=thread_worker) for _ in range(50)]
    loop_thread.start()
    for t in threads:
        t.start()
    start.set()
    for t in [*threads, loop_thread]:
        t.join()
    assert calls.n == 1
    assert thread_results == ["shared"] * 50
    assert task_results == ["shared"] * 50


def test_exception_reaches_every_waiter_and_nothing_is_cached() -> None:
    """A failing computation raises in every waiting thread and caches nothing."""
    manager = CacheManager(backend=InMemoryBackend())
    calls = _Counter()
    joins = _Joins(manager.stampede)
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def compute() -> str:
        calls.bump()
        assert joins.wait_for(10), "not every thread reached the shield"
        raise RuntimeError("upstream exploded")

    def worker() -> None:
        barrier.wait()
        try:
            manager.get_or_set("bad", compute)
        except RuntimeError as err:
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls.n == 1
    assert len(errors) == 10
    assert all("upstream exploded" in str(e) for e in errors)
    assert manager.get("bad") is None
    assert manager.get_or_set("bad", lambda: "recovered") == "recovered"


async def test_async_exception_reaches_every_waiter() -> None:
    """A failing async computation raises in every waiting task; nothing is cached."""
    manager = CacheManager(backend=InMemoryBackend())

    async def compute() -> str:
        await asyncio.sleep(0.05)
        raise ValueError("nope")

    results = await asyncio.gather(
        *(manager.aget_or_set("k", compute) for _ in range(20)), return_exceptions=True
    )
    assert all(isinstance(r, ValueError) for r in results)
    assert await manager.aget("k") is None


def test_dead_holder_does_not_block_forever() -> None:
    """A follower waits at most `timeout` for a stuck leader, then computes on its own."""
    shield = StampedeShield(timeout=0.2)
    entered, release = threading.Event(), threading.Event()

    def stuck() -> str:
        entered.set()
        assert release.wait(30)
        return "late"

    leader = threading.Thread(target=shield.run, args=("k", stuck))
    leader.start()
    assert entered.wait(30)
    # The leader is still stuck (release is not set): "mine" proves the follower gave up
    # waiting and computed on its own instead of inheriting the leader's value.
    assert shield.run("k", lambda: "mine") == "mine"
    assert not release.is_set()
    release.set()
    leader.join()


async def test_cancelled_leader_hands_over() -> None:
    """When the leading task is cancelled, a waiting task takes over and computes."""
    shield = StampedeShield(timeout=5)
    calls = _Counter()

    async def slow() -> str:
        calls.bump()
        await asyncio.sleep(10)
        return "never"

    async def quick() -> str:
        calls.bump()
        return "taken over"

    leader = asyncio.create_task(shield.arun("k", slow))
    await asyncio.sleep(0.01)
    follower = asyncio.create_task(shield.arun("k", quick))
    await asyncio.sleep(0.01)
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert await asyncio.wait_for(follower, 2) == "taken over"
    assert calls.n == 2
    assert shield.in_flight() == 0


def test_lock_is_mutually_exclusive() -> None:
    """StampedeShield.lock(key) lets one thread at a time into the block."""
    shield = StampedeShield()
    inside = _Counter()
    peak = 0

    def worker() -> None:
        nonlocal peak
        with shield.lock("k"):
            now = inside.bump()
            peak = max(peak, now)
            time.sleep(0.01)
            with inside._lock:
                inside.n -= 1

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 1


def test_different_keys_compute_in_parallel() -> None:
    """The shield coalesces per key: different keys do not wait for each other."""
    manager = CacheManager(backend=InMemoryBackend())
    # Every computation waits for all 8 to be running at once: if the shield serialized
    # different keys, the barrier would break (timeout) and the computations would raise.
    together = threading.Barrier(8, timeout=30)
    broken: list[BaseException] = []

    def compute() -> str:
        try:
            together.wait()
        except threading.BrokenBarrierError as err:
            broken.append(err)
        return "v"

    threads = [
        threading.Thread(target=manager.get_or_set, args=(f"k{i}", compute)) for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert broken == []
    assert [manager.get(f"k{i}") for i in range(8)] == ["v"] * 8
