"""ContextCache under concurrent writers: racing on the latest-turn hint never loses a turn."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from omnicache_ai import (
    AsyncInMemoryBackend,
    CacheKeyBuilder,
    CacheManager,
    ContextCache,
    DiskBackend,
    InMemoryBackend,
)
from omnicache_ai.backends.base import AsyncBaseBackend, BaseBackend
from omnicache_ai.layers.context_cache import PROBE_WINDOW

WAIT = 30.0  # generous: only reached when something is broken
INDEX = ":context-index:"


def turn(t: int) -> list[dict[str, str]]:
    return [{"role": "user" if t % 2 == 0 else "assistant", "content": f"turn {t}"}]


def history_of(n: int) -> list[dict[str, str]]:
    return [m for t in range(n) for m in turn(t)]


# ---- a forced lost update -----------------------------------------------------------------
class RacingBackend(BaseBackend):
    """Makes two writers read the same old index, then the lower turn's write land last."""

    def __init__(self) -> None:
        self.inner = InMemoryBackend()
        self.armed = False
        self.both_read = threading.Barrier(2, timeout=WAIT)
        self.high_written = threading.Event()
        self.low_writer: int | None = None
        self._reads = itertools.count()

    def get(self, key: str) -> Any | None:
        value = self.inner.get(key)
        if self.armed and INDEX in key and next(self._reads) < 2:
            self.both_read.wait()
        return value

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        low = threading.get_ident() == self.low_writer
        if self.armed and INDEX in key and low:
            assert self.high_written.wait(WAIT)
        self.inner.set(key, value, ttl)
        if self.armed and INDEX in key and not low:
            self.high_written.set()

    def delete(self, key: str) -> bool:
        return self.inner.delete(key)

    def clear(self) -> None:
        self.inner.clear()


def test_a_lost_index_update_loses_no_turn() -> None:
    """Writer of turn 2 and writer of turn 1 race; the hint goes back to 1, history keeps 2."""
    backend = RacingBackend()
    manager = CacheManager(backend=backend, key_builder=CacheKeyBuilder("test"))
    ctx = ContextCache(manager)
    ctx.set("s", 0, turn(0))
    backend.armed = True
    errors: list[BaseException] = []

    def write(t: int) -> None:
        try:
            ctx.set("s", t, turn(t))
        except BaseException as err:  # noqa: BLE001 - surfaced by the assert below
            errors.append(err)

    low = threading.Thread(target=write, args=(1,))
    high = threading.Thread(target=write, args=(2,))
    low.start()
    backend.low_writer = low.ident
    high.start()
    low.join(WAIT)
    high.join(WAIT)
    backend.armed = False
    assert errors == []
    # The race really happened: the index hint was set back to the lower turn.
    assert manager.get(ctx._index_key("s"), layer="context_index") == 1
    assert ctx.latest_turn("s") == 2
    assert ctx.get_history("s") == history_of(3)
    assert ctx.get_turns("s", last_n=1) == {2: turn(2)}


class AsyncRacingBackend(AsyncBaseBackend):
    """Async twin of :class:`RacingBackend`: tasks instead of threads."""

    def __init__(self) -> None:
        self.inner = AsyncInMemoryBackend()
        self.armed = False
        self.both_read = asyncio.Barrier(2)
        self.high_written = asyncio.Event()
        self.low_writer: asyncio.Task[Any] | None = None
        self._reads = itertools.count()

    async def get(self, key: str) -> Any | None:
        value = await self.inner.get(key)
        if self.armed and INDEX in key and next(self._reads) < 2:
            await asyncio.wait_for(self.both_read.wait(), WAIT)
        return value

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        low = asyncio.current_task() is self.low_writer
        if self.armed and INDEX in key and low:
            await asyncio.wait_for(self.high_written.wait(), WAIT)
        await self.inner.set(key, value, ttl)
        if self.armed and INDEX in key and not low:
            self.high_written.set()

    async def delete(self, key: str) -> bool:
        return await self.inner.delete(key)

    async def clear(self) -> None:
        await self.inner.clear()


async def test_async_lost_index_update_loses_no_turn() -> None:
    """Two tasks race on the hint exactly like two threads; aget_history keeps every turn."""
    backend = AsyncRacingBackend()
    manager = CacheManager(backend=backend, key_builder=CacheKeyBuilder("test"))
    ctx = ContextCache(manager)
    await ctx.aset("s", 0, turn(0))
    backend.armed = True
    low = asyncio.create_task(ctx.aset("s", 1, turn(1)))
    backend.low_writer = low
    high = asyncio.create_task(ctx.aset("s", 2, turn(2)))
    await asyncio.wait_for(asyncio.gather(low, high), WAIT)
    backend.armed = False
    assert await manager.aget(ctx._index_key("s"), layer="context_index") == 1
    assert await ctx.alatest_turn("s") == 2
    assert await ctx.aget_history("s") == history_of(3)


# ---- reads past the hint ------------------------------------------------------------------
def test_turns_past_the_hint_are_found_across_gaps(manager: CacheManager) -> None:
    """Probing goes on while batches find turns, and skips gaps shorter than a batch."""
    ctx = ContextCache(manager)
    ctx.set("s", 0, turn(0))
    hint = ctx._index_key("s")
    written = [0, 1, 2, PROBE_WINDOW + 1, 2 * PROBE_WINDOW + 3]
    for t in written[1:]:
        ctx.set("s", t, turn(t))
        manager.set(hint, 0, layer="context_index")  # every later index update was lost
    assert ctx.latest_turn("s") == written[-1]
    assert ctx.get_turns("s") == {t: turn(t) for t in written}
    assert ctx.get_turns("s", last_n=PROBE_WINDOW + 3) == {t: turn(t) for t in written[-2:]}


def test_single_turn_and_missing_index(manager: CacheManager) -> None:
    """A session of one turn reads back; with its index gone, its turns are still found."""
    ctx = ContextCache(manager)
    ctx.set("one", 0, turn(0))
    assert ctx.get_history("one") == turn(0)
    for t in range(3):
        ctx.set("lost", t, turn(t))
    manager.delete(ctx._index_key("lost"), layer="context_index")
    assert ctx.latest_turn("lost") == 2
    assert ctx.get_history("lost") == history_of(3)


def test_probes_are_bookkeeping_not_context_misses(manager: CacheManager) -> None:
    """History reads count only real turn lookups in the context series."""
    ctx = ContextCache(manager)
    for t in range(3):
        ctx.set("s", t, turn(t))
    ctx.get_history("s")
    stats = manager.metrics.snapshot()["layers"]["context"]
    assert (stats["hits"], stats["misses"]) == (3, 0)


# ---- many writers -------------------------------------------------------------------------
def disk_manager(path: Path) -> CacheManager:
    return CacheManager(backend=DiskBackend(path), key_builder=CacheKeyBuilder("test"))


@pytest.mark.parametrize("kind", ["memory", "disk"])
def test_many_threads_appending_lose_no_turn(kind: str, tmp_path: Path) -> None:
    """8 threads appending 25 turns each to one session: history holds all 200, in order."""
    manager = (
        CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("test"))
        if kind == "memory"
        else disk_manager(tmp_path / "cache")
    )
    ctx = ContextCache(manager)
    threads, per_thread = 8, 25
    next_turn = itertools.count()  # turn allocation: next() is atomic
    start = threading.Barrier(threads, timeout=WAIT)
    errors: list[BaseException] = []

    def append() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                t = next(next_turn)
                ctx.set("chat", t, turn(t))
        except BaseException as err:  # noqa: BLE001 - surfaced by the assert below
            errors.append(err)

    workers = [threading.Thread(target=append) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(WAIT)
    assert errors == []
    total = threads * per_thread
    assert ctx.latest_turn("chat") == total - 1
    assert ctx.get_history("chat") == history_of(total)
    manager.close()


@pytest.mark.parametrize("kind", ["memory", "disk"])
async def test_many_tasks_appending_lose_no_turn(kind: str, tmp_path: Path) -> None:
    """8 tasks appending 25 turns each (disk writes run in worker threads): nothing is lost."""
    manager = (
        CacheManager(backend=AsyncInMemoryBackend(), key_builder=CacheKeyBuilder("test"))
        if kind == "memory"
        else disk_manager(tmp_path / "cache")
    )
    ctx = ContextCache(manager)
    tasks, per_task = 8, 25
    next_turn = itertools.count()

    async def append() -> None:
        for _ in range(per_task):
            t = next(next_turn)
            await ctx.aset("chat", t, turn(t))

    await asyncio.wait_for(asyncio.gather(*(append() for _ in range(tasks))), WAIT)
    total = tasks * per_task
    assert await ctx.alatest_turn("chat") == total - 1
    assert await ctx.aget_history("chat") == history_of(total)
    await manager.aclose()


WRITER = textwrap.dedent(
    """
    import sys
    from omnicache_ai import CacheKeyBuilder, CacheManager, ContextCache, DiskBackend

    class Stepped(DiskBackend):
        # Once armed, stops at each read and write of the index until the parent says go.
        armed = False

        def _step(self, what, key):
            if self.armed and ":context-index:" in key:
                print(what, flush=True)
                sys.stdin.readline()

        def get(self, key):
            value = super().get(key)
            self._step("read", key)
            return value

        def set(self, key, value, ttl=None):
            self._step("write", key)
            super().set(key, value, ttl)

    path, parity, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    backend = Stepped(path)
    manager = CacheManager(backend=backend, key_builder=CacheKeyBuilder("test"))
    ctx = ContextCache(manager)

    def write(i):
        t = 2 * i + parity
        role = "user" if t % 2 == 0 else "assistant"
        ctx.set("shared", t, [{"role": role, "content": f"turn {t}"}])

    print("ready", flush=True)
    sys.stdin.readline()  # released together with the other writer
    for i in range(n - 1):
        write(i)
    backend.armed = True
    write(n - 1)  # stepped by the parent into a lost index update
    manager.close()
    print("done", flush=True)
    """
)


@pytest.mark.slow
def test_two_processes_appending_lose_no_turn(tmp_path: Path) -> None:
    """Two processes append to one session on one disk cache, ending in a lost index update."""
    path, n = tmp_path / "cache", 40
    low, high = procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(parity), str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for parity in (0, 1)
    ]

    def expect(p: subprocess.Popen[str], line: str) -> None:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == line

    def go(p: subprocess.Popen[str]) -> None:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()

    try:
        for step in ("ready", "read"):  # both start together; both read the same old index
            for p in procs:
                expect(p, step)
            for p in procs:
                go(p)
        for p in procs:
            expect(p, "write")
        go(high)  # the last turn's index update lands first ...
        expect(high, "done")
        go(low)  # ... and is overwritten by the lower turn's
        expect(low, "done")
        for p in procs:
            assert p.wait(WAIT) == 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for pipe in (p.stdin, p.stdout):
                if pipe is not None:
                    pipe.close()
    manager = disk_manager(path)
    ctx = ContextCache(manager)
    assert manager.get(ctx._index_key("shared"), layer="context_index") == 2 * n - 2
    assert ctx.latest_turn("shared") == 2 * n - 1
    assert ctx.get_history("shared") == history_of(2 * n)
    manager.close()
