"""StreamingResponseCache single-flight: concurrent identical requests share one live stream."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from layer_payloads import CHAT, openai_chunks

from omnicache_ai import (
    CacheKeyBuilder,
    CacheManager,
    InMemoryBackend,
    JsonSerializer,
    RequestConfig,
    StampedeShield,
    StreamingResponseCache,
)
from omnicache_ai.backends.base import BaseBackend

MODEL = "gpt-4o-mini"
CHUNKS = openai_chunks(["The ", "answer ", "is ", "4."])
WAIT = 30.0  # generous: only reached when something is broken


def stats(manager: CacheManager) -> dict[str, Any]:
    return manager.metrics.snapshot()["layers"]["streaming"]  # type: ignore[no-any-return]


def quick_manager(timeout: float = 0.3) -> CacheManager:
    """A manager whose followers give up on a stuck leader after ``timeout`` seconds."""
    return CacheManager(
        backend=InMemoryBackend(),
        key_builder=CacheKeyBuilder("test"),
        stampede=StampedeShield(timeout=timeout),
    )


class Source:
    """A provider stream that counts how often it is opened and whether it was closed."""

    def __init__(self, chunks: list[Any], fail_at: int | None = None) -> None:
        self.chunks = chunks
        self.fail_at = fail_at
        self.opened = 0
        self.closed = 0

    def __call__(self, _messages: Any) -> Iterator[Any]:
        self.opened += 1
        return self._iterate()

    def _iterate(self) -> Iterator[Any]:
        for i, chunk in enumerate(self.chunks):
            if i == self.fail_at:
                raise ConnectionResetError("stream dropped")
            yield chunk

    def close(self) -> None:
        self.closed += 1


class ClosableStream:
    """One opened stream with ``close()``, like an SDK ``Stream``."""

    def __init__(self, owner: Source) -> None:
        self.owner = owner
        self.it = owner._iterate()

    def __iter__(self) -> Iterator[Any]:
        return self.it

    def close(self) -> None:
        self.owner.close()


def closable(source: Source) -> Any:
    def open_stream(messages: Any) -> ClosableStream:
        source(messages)
        return ClosableStream(source)

    return open_stream


# ---- sync ---------------------------------------------------------------------------------
def test_concurrent_threads_share_one_upstream_stream(manager: CacheManager) -> None:
    """N threads missing the same request open one upstream stream and all get every chunk."""
    sc = StreamingResponseCache(manager)
    n, opened = 8, []
    release = threading.Event()

    def stream_fn(_: Any) -> Iterator[Any]:
        opened.append(threading.current_thread().name)
        yield CHUNKS[0]
        assert release.wait(WAIT)
        yield from CHUNKS[1:]

    barrier = threading.Barrier(n + 1, timeout=WAIT)
    results: list[list[Any] | None] = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            stream = sc.get_or_stream(CHAT, stream_fn, model_id=MODEL)
            first = next(stream)  # every thread holds chunk 0 while upstream is mid-stream
            barrier.wait()
            results[i] = [first, *stream]
        except BaseException as err:  # noqa: BLE001 - surfaced by the asserts below
            errors.append(err)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    release.set()
    for t in threads:
        t.join(WAIT)
    assert errors == []
    assert len(opened) == 1
    assert results == [CHUNKS] * n
    assert sc.get(CHAT, model_id=MODEL) == CHUNKS
    assert (stats(manager)["coalesced"], stats(manager)["sets"]) == (n - 1, 1)
    assert sc.in_flight() == 0


def test_follower_goes_on_when_the_leader_stops_early(manager: CacheManager) -> None:
    """The leader's consumer breaking off does not cut the follower short; the stream is stored."""
    sc = StreamingResponseCache(manager)
    source = Source(CHUNKS)
    leader = sc.get_or_stream(CHAT, closable(source), model_id=MODEL)
    follower = sc.get_or_stream(CHAT, closable(source), model_id=MODEL)
    assert next(leader) == CHUNKS[0]
    assert next(follower) == CHUNKS[0]
    leader.close()
    assert source.closed == 0
    assert [CHUNKS[0], *follower] == CHUNKS
    assert source.opened == 1
    assert sc.get(CHAT, model_id=MODEL) == CHUNKS
    assert stats(manager)["coalesced"] == 1


def test_a_follower_pulls_while_the_leader_is_idle(manager: CacheManager) -> None:
    """Chunks are read at the pace of the fastest consumer; the slow one replays them later."""
    sc = StreamingResponseCache(manager)
    source = Source(CHUNKS)
    slow = sc.get_or_stream(CHAT, source, model_id=MODEL)
    fast = sc.get_or_stream(CHAT, source, model_id=MODEL)
    assert next(slow) == CHUNKS[0]
    assert list(fast) == CHUNKS  # read to the end and stored while `slow` sat on chunk 0
    assert sc.get(CHAT, model_id=MODEL) == CHUNKS
    assert [CHUNKS[0], *slow] == CHUNKS
    assert source.opened == 1


def test_last_consumer_leaving_closes_the_source_and_stores_nothing(
    manager: CacheManager,
) -> None:
    """Every consumer stopping early closes the stream and keeps nothing; the next call retries."""
    sc = StreamingResponseCache(manager)
    source = Source(CHUNKS)
    a = sc.get_or_stream(CHAT, closable(source), model_id=MODEL)
    b = sc.get_or_stream(CHAT, closable(source), model_id=MODEL)
    next(a), next(b)
    a.close()
    assert source.closed == 0
    b.close()
    assert source.closed == 1
    assert sc.get(CHAT, model_id=MODEL) is None
    assert sc.in_flight() == 0
    assert list(sc.get_or_stream(CHAT, closable(source), model_id=MODEL)) == CHUNKS
    assert source.opened == 2


def test_an_upstream_error_reaches_every_consumer(manager: CacheManager) -> None:
    """A stream failing mid-way fails for leader and follower alike; the next call retries."""
    sc = StreamingResponseCache(manager)
    source = Source(CHUNKS, fail_at=2)
    a = sc.get_or_stream(CHAT, source, model_id=MODEL)
    b = sc.get_or_stream(CHAT, source, model_id=MODEL)
    assert next(a) == next(b) == CHUNKS[0]
    with pytest.raises(ConnectionResetError):
        list(b)
    assert next(a) == CHUNKS[1]  # what was received before the failure is delivered in order
    with pytest.raises(ConnectionResetError):
        next(a)
    assert sc.get(CHAT, model_id=MODEL) is None
    assert sc.in_flight() == 0
    source.fail_at = None
    assert list(sc.get_or_stream(CHAT, source, model_id=MODEL)) == CHUNKS
    assert source.opened == 2


def test_followers_count_the_savings_of_the_shared_stream(manager: CacheManager) -> None:
    """A follower served by another caller's stream adds that stream's usage to the savings."""
    sc = StreamingResponseCache(manager)
    source = Source(CHUNKS)
    a = sc.get_or_stream(CHAT, source, model_id=MODEL)
    b = sc.get_or_stream(CHAT, source, model_id=MODEL)
    next(a)
    assert list(b)[-1] == CHUNKS[-1]
    assert list(a)
    st = stats(manager)
    assert (st["tokens_saved_input"], st["tokens_saved_output"]) == (25, 4)
    assert st["cost_saved"] > 0


@pytest.mark.parametrize("coalesce", [True, False])
def test_coalescing_can_be_turned_off(manager: CacheManager, coalesce: bool) -> None:
    """coalesce=False gives each concurrent caller its own upstream stream."""
    sc = StreamingResponseCache(manager, coalesce=coalesce)
    source = Source(CHUNKS)
    a = sc.get_or_stream(CHAT, source, model_id=MODEL)
    b = sc.get_or_stream(CHAT, source, model_id=MODEL)
    assert next(a) == next(b)
    assert list(a) == list(b) == CHUNKS[1:]
    assert source.opened == (1 if coalesce else 2)


def test_tenants_never_share_a_stream(manager: CacheManager) -> None:
    """Two tenants asking the same thing at the same time each get their own stream."""
    source = Source(CHUNKS)
    a = StreamingResponseCache(manager.for_tenant("acme")).get_or_stream(
        CHAT, source, model_id=MODEL
    )
    b = StreamingResponseCache(manager.for_tenant("globex")).get_or_stream(
        CHAT, source, model_id=MODEL
    )
    next(a), next(b)
    assert source.opened == 2
    assert list(a) == list(b)


def test_skip_cache_requests_are_not_coalesced(manager: CacheManager) -> None:
    """A skip_cache call goes straight to the provider even while the same stream is in flight."""
    sc = StreamingResponseCache(manager)
    source = Source(CHUNKS)
    a = sc.get_or_stream(CHAT, source, model_id=MODEL)
    b = sc.get_or_stream(CHAT, source, model_id=MODEL, config=RequestConfig(skip_cache=True))
    next(a), next(b)
    assert source.opened == 2
    list(a), list(b)


class LaggingBackend(BaseBackend):
    """Misses the first read of each key, like a replica that has not seen a write yet."""

    def __init__(self) -> None:
        self.inner = InMemoryBackend()
        self.seen: set[str] = set()

    def get(self, key: str) -> Any | None:
        if key not in self.seen:
            self.seen.add(key)
            return None
        return self.inner.get(key)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        self.inner.set(key, value, ttl)

    def delete(self, key: str) -> bool:
        return self.inner.delete(key)

    def clear(self) -> None:
        self.inner.clear()


class ReprSerializer:
    """A user-defined format (id 200): the built-in decoders cannot read it."""

    format_id = 200

    def dumps(self, value: Any) -> bytes:
        return json.dumps(value).encode()

    def loads(self, data: bytes) -> Any:
        return json.loads(data)


@pytest.mark.parametrize("serializer", [None, JsonSerializer(), ReprSerializer()],
                         ids=["default", "json", "custom"])  # fmt: skip
def test_a_leader_serves_a_stream_stored_after_its_miss(serializer: Any) -> None:
    """The leader checks the cache once more before calling upstream (check-lock-check)."""
    manager = CacheManager(backend=LaggingBackend(), key_builder=CacheKeyBuilder("test"))
    sc = StreamingResponseCache(manager, serializer=serializer)
    assert sc.set(CHAT, CHUNKS, model_id=MODEL)
    source = Source(CHUNKS)
    assert list(sc.get_or_stream(CHAT, source, model_id=MODEL)) == CHUNKS
    assert source.opened == 0
    assert manager.backend.seen  # the first read did miss
    assert stats(manager)["errors"] == 0


def test_a_follower_of_a_stuck_leader_streams_on_its_own() -> None:
    """A follower that got nothing within the stampede timeout calls upstream itself."""
    manager = quick_manager()
    sc = StreamingResponseCache(manager)
    stuck, release = threading.Event(), threading.Event()
    calls = itertools.count()

    def stream_fn(_: Any) -> Iterator[Any]:
        if next(calls) == 0:
            stuck.set()
            assert release.wait(WAIT)
        return iter(CHUNKS)

    led: list[Any] = []

    def lead() -> None:
        led.extend(sc.get_or_stream(CHAT, stream_fn, model_id=MODEL))

    leader = threading.Thread(target=lead)
    leader.start()
    try:
        assert stuck.wait(WAIT)
        assert list(sc.get_or_stream(CHAT, stream_fn, model_id=MODEL)) == CHUNKS
        assert sc.get(CHAT, model_id=MODEL) == CHUNKS
    finally:
        release.set()
        leader.join(WAIT)
    assert led == CHUNKS
    assert next(calls) == 2


def test_a_follower_mid_stream_raises_rather_than_hang_on_a_stuck_leader() -> None:
    """A follower that already received chunks gets TimeoutError, never a silent cut."""
    manager = quick_manager()
    sc = StreamingResponseCache(manager)
    stuck, release = threading.Event(), threading.Event()
    calls = itertools.count()

    def stream_fn(_: Any) -> Iterator[Any]:
        first = next(calls) == 0
        yield CHUNKS[0]
        if first:
            stuck.set()
            assert release.wait(WAIT)
        yield from CHUNKS[1:]

    led: list[Any] = []

    def lead() -> None:
        led.extend(sc.get_or_stream(CHAT, stream_fn, model_id=MODEL))

    leader = threading.Thread(target=lead)
    leader.start()
    try:
        assert stuck.wait(WAIT)
        follower = sc.get_or_stream(CHAT, stream_fn, model_id=MODEL)
        assert next(follower) == CHUNKS[0]
        with pytest.raises(TimeoutError, match="shared stream"):
            next(follower)
    finally:
        release.set()
        leader.join(WAIT)
    assert led == CHUNKS
    assert sc.get(CHAT, model_id=MODEL) == CHUNKS


# ---- async ----------------------------------------------------------------------------------
class AsyncSource:
    """An async provider stream gated by ``release`` after ``gate`` chunks."""

    def __init__(self, chunks: list[Any], gate: int = 1, fail_at: int | None = None) -> None:
        self.chunks = chunks
        self.gate = gate
        self.fail_at = fail_at
        self.release = asyncio.Event()
        self.waiting = asyncio.Event()
        self.opened = 0
        self.closed = 0
        self.finished = 0

    def __call__(self, _messages: Any) -> AsyncSource:
        self.opened += 1
        return self

    async def __aiter__(self) -> AsyncIterator[Any]:
        for i, chunk in enumerate(self.chunks):
            if i == self.gate:
                self.waiting.set()
                await self.release.wait()
            if i == self.fail_at:
                raise ConnectionResetError("stream dropped")
            yield chunk
        self.finished += 1

    async def close(self) -> None:
        self.closed += 1


async def test_concurrent_tasks_share_one_upstream_stream(manager: CacheManager) -> None:
    """N tasks missing the same request open one upstream stream and all get every chunk."""
    sc = StreamingResponseCache(manager)
    n, source = 8, AsyncSource(CHUNKS)
    barrier = asyncio.Barrier(n + 1)

    async def worker() -> list[Any]:
        stream = sc.aget_or_stream(CHAT, source, model_id=MODEL)
        first = await anext(stream)
        await barrier.wait()
        return [first] + [c async for c in stream]

    tasks = [asyncio.create_task(worker()) for _ in range(n)]
    await asyncio.wait_for(barrier.wait(), WAIT)
    source.release.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks), WAIT)
    assert source.opened == 1
    assert results == [CHUNKS] * n
    assert await sc.aget(CHAT, model_id=MODEL) == CHUNKS
    assert (stats(manager)["coalesced"], stats(manager)["sets"]) == (n - 1, 1)
    assert sc.in_flight() == 0


async def test_follower_goes_on_when_the_leader_task_is_cancelled(manager: CacheManager) -> None:
    """Cancelling the leading task mid-stream neither breaks the source nor the follower."""
    sc = StreamingResponseCache(manager)
    source = AsyncSource(CHUNKS)
    got = asyncio.Event()

    async def lead() -> None:
        async for _ in sc.aget_or_stream(CHAT, source, model_id=MODEL):
            got.set()

    leader = asyncio.create_task(lead())
    await asyncio.wait_for(got.wait(), WAIT)
    follower = sc.aget_or_stream(CHAT, source, model_id=MODEL)
    assert await anext(follower) == CHUNKS[0]
    await asyncio.wait_for(source.waiting.wait(), WAIT)  # the read of chunk 1 is under way
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    source.release.set()
    rest = await asyncio.wait_for(_drain(follower), WAIT)
    assert [CHUNKS[0], *rest] == CHUNKS
    assert (source.opened, source.closed, source.finished) == (1, 0, 1)
    assert await sc.aget(CHAT, model_id=MODEL) == CHUNKS


async def _drain(stream: AsyncIterator[Any]) -> list[Any]:
    return [c async for c in stream]


async def test_async_last_consumer_leaving_closes_the_source(manager: CacheManager) -> None:
    """Every task stopping early closes the source; nothing is stored; the next call retries."""
    sc = StreamingResponseCache(manager)
    source = AsyncSource(CHUNKS)
    a = sc.aget_or_stream(CHAT, source, model_id=MODEL)
    b = sc.aget_or_stream(CHAT, source, model_id=MODEL)
    assert await anext(a) == await anext(b) == CHUNKS[0]
    await a.aclose()  # type: ignore[attr-defined]
    assert source.closed == 0
    await b.aclose()  # type: ignore[attr-defined]
    assert source.closed == 1
    assert sc.in_flight() == 0
    assert await sc.aget(CHAT, model_id=MODEL) is None
    source.release.set()
    assert await _drain(sc.aget_or_stream(CHAT, source, model_id=MODEL)) == CHUNKS
    assert source.opened == 2


async def test_async_upstream_error_reaches_every_task(manager: CacheManager) -> None:
    """An async stream failing mid-way raises in every task that shared it; nothing is stored."""
    sc = StreamingResponseCache(manager)
    source = AsyncSource(CHUNKS, fail_at=2)
    source.release.set()
    a = sc.aget_or_stream(CHAT, source, model_id=MODEL)
    b = sc.aget_or_stream(CHAT, source, model_id=MODEL)
    assert await anext(a) == await anext(b) == CHUNKS[0]
    results = await asyncio.gather(_drain(a), _drain(b), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionResetError, ConnectionResetError]
    assert source.opened == 1
    assert await sc.aget(CHAT, model_id=MODEL) is None
    assert sc.in_flight() == 0


async def test_async_follower_of_a_stuck_leader_streams_on_its_own() -> None:
    """A task that got nothing within the stampede timeout calls upstream itself."""
    manager = quick_manager()
    sc = StreamingResponseCache(manager)
    stuck = AsyncSource(CHUNKS, gate=0)
    fresh = AsyncSource(CHUNKS)
    fresh.release.set()
    sources = iter([stuck, fresh])

    def stream_fn(messages: Any) -> AsyncSource:
        return next(sources)(messages)

    leader = asyncio.create_task(_drain(sc.aget_or_stream(CHAT, stream_fn, model_id=MODEL)))
    await asyncio.wait_for(stuck.waiting.wait(), WAIT)
    got = await asyncio.wait_for(_drain(sc.aget_or_stream(CHAT, stream_fn, model_id=MODEL)), WAIT)
    assert got == CHUNKS
    assert fresh.opened == 1
    stuck.release.set()
    assert await asyncio.wait_for(leader, WAIT) == CHUNKS


async def test_async_follower_mid_stream_raises_on_a_stuck_leader() -> None:
    """A task that already received chunks gets TimeoutError instead of waiting forever."""
    manager = quick_manager()
    sc = StreamingResponseCache(manager)
    source = AsyncSource(CHUNKS)
    leader = sc.aget_or_stream(CHAT, source, model_id=MODEL)
    assert await anext(leader) == CHUNKS[0]
    pending = asyncio.create_task(anext(leader))  # the leader waits for chunk 1
    await asyncio.wait_for(source.waiting.wait(), WAIT)
    unused = AsyncSource(CHUNKS)
    unused.release.set()
    follower = sc.aget_or_stream(CHAT, unused, model_id=MODEL)
    assert await anext(follower) == CHUNKS[0]
    with pytest.raises(TimeoutError, match="shared stream"):
        await anext(follower)
    assert unused.opened == 0
    source.release.set()
    assert await asyncio.wait_for(pending, WAIT) == CHUNKS[1]
    assert await _drain(leader) == CHUNKS[2:]
    assert source.opened == 1


async def test_async_coalescing_can_be_turned_off(manager: CacheManager) -> None:
    """coalesce=False: two concurrent tasks open two upstream streams."""
    sc = StreamingResponseCache(manager, coalesce=False)
    source = AsyncSource(CHUNKS)
    source.release.set()
    a = sc.aget_or_stream(CHAT, source, model_id=MODEL)
    b = sc.aget_or_stream(CHAT, source, model_id=MODEL)
    assert await anext(a) == await anext(b)
    assert await _drain(a) == await _drain(b) == CHUNKS[1:]
    assert source.opened == 2
