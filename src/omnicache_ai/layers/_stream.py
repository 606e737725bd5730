"""Buffer a live stream while passing it through, replay a buffered one, share a live one.

Shared by :class:`~omnicache_ai.layers.streaming_cache.StreamingResponseCache` and the
``@cached`` decorator's generator support. The rule both rely on: ``on_complete`` runs only
when the source was exhausted normally. An exception from the source, a cancelled task or a
consumer that stops early (the generator is closed) skips it, and the source is closed so an
HTTP stream is released.

:func:`shared` / :func:`ashared` add single-flight to that: concurrent consumers of the same
key read one upstream stream (see :class:`SharedStream`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import time
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Hashable,
    Iterable,
    Iterator,
)
from contextlib import aclosing
from typing import Any, Final, Generic, TypeVar

__all__ = [
    "SharedStream",
    "StreamTable",
    "areplay",
    "ashared",
    "atee",
    "check_delay",
    "replay",
    "shared",
    "stream_table",
    "tee",
]

T = TypeVar("T")


def check_delay(delay: Any) -> float:
    """``delay`` as seconds between replayed items; raises for a negative or non-number."""
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not delay >= 0:
        raise ValueError(f"replay_delay must be a number of seconds >= 0, got {delay!r}")
    return float(delay)


def _close(*objs: Any) -> None:
    for obj in {id(o): o for o in objs}.values():
        close = getattr(obj, "close", None)
        if callable(close):
            close()


async def _aclose(*objs: Any) -> None:
    for obj in {id(o): o for o in objs}.values():
        close = getattr(obj, "aclose", None) or getattr(obj, "close", None)
        if callable(close):
            result = close()
            if inspect.isawaitable(result):
                await result


def tee(source: Iterable[T], on_complete: Callable[[list[T]], None]) -> Iterator[T]:
    """Yield ``source``'s items as they come; after the last, hand the full list over.

    Example:
        >>> seen = []
        >>> list(tee(iter("abc"), seen.append)), seen
        (['a', 'b', 'c'], [['a', 'b', 'c']])
    """
    buffered: list[T] = []
    it = iter(source)
    try:
        for item in it:
            buffered.append(item)
            yield item
    except BaseException:
        _close(it, source)
        raise
    on_complete(buffered)


async def atee(
    source: AsyncIterable[T] | Iterable[T], on_complete: Callable[[list[T]], Awaitable[None]]
) -> AsyncGenerator[T, None]:
    """Async :func:`tee`; ``source`` may be an async or a plain iterable."""
    buffered: list[T] = []
    if not hasattr(source, "__aiter__"):
        # A plain iterable handed to the async API: pass it through unchanged.
        it = iter(source)
        try:
            for item in it:
                buffered.append(item)
                yield item
        except BaseException:
            _close(it, source)
            raise
    else:
        ait = aiter(source)  # type: ignore[arg-type]
        try:
            async for item in ait:
                buffered.append(item)
                yield item
        except BaseException:
            await _aclose(ait, source)
            raise
    await on_complete(buffered)


def replay(items: list[T], delay: float = 0.0) -> Iterator[T]:
    """Yield cached items, ``delay`` seconds apart (0: as fast as the consumer reads)."""
    if delay <= 0:
        yield from items
        return
    for i, item in enumerate(items):
        if i:
            time.sleep(delay)
        yield item


async def areplay(items: list[T], delay: float = 0.0) -> AsyncGenerator[T, None]:
    """Async :func:`replay`; it yields to the event loop between items even without a delay."""
    for i, item in enumerate(items):
        if i:
            await asyncio.sleep(delay if delay > 0 else 0)
        yield item


# ---- one upstream stream shared by concurrent consumers ---------------------------------
#
# The flight is a small state machine (``SharedStream.step``) that both shells drive: the
# sync shell pulls the next chunk inline in whichever thread needs it; the async shell
# asks one pump task per flight to pull it, so a cancelled consumer can never break the
# source mid-read. Either way the source is read once, on demand, at the pace of the
# fastest consumer, and every consumer walks the same buffer from its start.

_ITEM, _PULL, _WAIT, _STORE, _END, _ERROR = range(6)
_PUMP: Final = object()  # the async pump holds the pull role while it reads a chunk
_NOTHING: Final = object()


class StreamTable:
    """The shared streams in flight, by key; one table per manager family.

    Example:
        >>> len(StreamTable())
        0
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.flights: dict[Hashable, SharedStream[Any]] = {}

    def __len__(self) -> int:
        return len(self.flights)

    def join(
        self,
        key: Hashable,
        factory: Callable[[], Any],
        on_complete: Callable[[list[Any]], Any],
        me: object,
    ) -> tuple[SharedStream[Any], bool]:
        """The flight of ``key`` and whether ``me`` created it (and so leads it)."""
        with self.lock:
            flight = self.flights.get(key)
            if flight is not None:
                flight.consumers += 1
                return flight, False
            flight = self.flights[key] = SharedStream(self, key, factory, on_complete, me)
            return flight, True


_TABLES: weakref.WeakKeyDictionary[object, StreamTable] = weakref.WeakKeyDictionary()
_TABLES_LOCK = threading.Lock()


def stream_table(owner: object) -> StreamTable:
    """The table shared by everything built on ``owner`` (a manager's stampede shield)."""
    with _TABLES_LOCK:
        try:
            table = _TABLES.get(owner)
            if table is None:
                table = _TABLES[owner] = StreamTable()
        except TypeError:  # not weak-referenceable: the caller gets a table of its own
            table = StreamTable()
        return table


class SharedStream(Generic[T]):
    """One upstream stream, read once, replayed to every consumer that joined it.

    Consumers never hold the source between chunks: the one that needs a chunk nobody is
    fetching becomes the puller for that one chunk. So a consumer that stops early, or a
    cancelled task, leaves the others able to go on; the source is closed only when the
    last consumer leaves before the end. An error from the source reaches every consumer
    (like a failed ``get_or_set``); a finished stream is stored by the first consumer to
    reach its end, with the leader's ``on_complete``.
    """

    __slots__ = (
        "_cond", "_futures", "_key", "_table", "_wake_pump", "_wanted", "chunks", "claimed",
        "consumers", "demander", "done", "error", "factory", "iterator", "on_complete", "puller",
        "pump", "source",
    )  # fmt: skip

    def __init__(
        self,
        table: StreamTable,
        key: Hashable,
        factory: Callable[[], Any],
        on_complete: Callable[[list[T]], Any],
        leader: object,
    ) -> None:
        self._table = table
        self._key = key
        self._cond = threading.Condition(table.lock)
        self._futures: list[asyncio.Future[None]] = []
        self._wake_pump: asyncio.Future[None] | None = None
        self._wanted = False
        self.chunks: list[T] = []
        self.done = False
        self.error: BaseException | None = None
        # The leader holds the pull role until it has checked the cache once more.
        self.puller: object | None = leader
        # The consumer whose request the pump is serving: like a thread blocked in a sync
        # pull, it waits for its chunk without a timeout; the others may give up.
        self.demander: object | None = None
        self.claimed = False
        self.consumers = 1
        self.factory = factory
        self.on_complete = on_complete
        self.source: Any = None
        self.iterator: Any = None
        self.pump: asyncio.Task[None] | None = None

    # ---- state transitions (pure, under the table lock) ------------------------------
    def step(self, pos: int, me: object) -> tuple[int, Any]:
        """What the consumer at ``pos`` does next: take an item, pull, wait, store, end.

        ``_WAIT`` comes with whether the wait is patient (no timeout).
        """
        with self._cond:
            if pos < len(self.chunks):
                return _ITEM, self.chunks[pos]
            if self.error is not None:
                return _ERROR, self.error
            if self.done:
                if self.claimed:
                    return _END, None
                self.claimed = True
                return _STORE, self.chunks
            if self.puller is None or self.puller is me:
                self.puller = me
                return _PULL, None
            return _WAIT, self.demander is me

    def _ready(self, pos: int) -> bool:
        return pos < len(self.chunks) or self.done or self.error is not None or self.puller is None

    def _unlist(self) -> None:
        if self._table.flights.get(self._key) is self:
            del self._table.flights[self._key]

    def _wake(self) -> None:
        self._cond.notify_all()
        futures, self._futures = self._futures, []
        for fut in futures:
            if not fut.done():
                fut.set_result(None)

    def _land(self, item: Any = _NOTHING, error: BaseException | None = None) -> None:
        with self._cond:
            if error is not None:
                self.error = error
                self._unlist()  # the next caller starts afresh
            elif item is _NOTHING:
                self.done = True
            else:
                self.chunks.append(item)
            self.puller = self.demander = None
            self._wake()

    def fill(self, chunks: list[T]) -> None:
        """Complete the flight with a stream found in the cache (nothing left to store)."""
        with self._cond:
            self.chunks = list(chunks)
            self.done = self.claimed = True
            self.puller = None
            self._unlist()
            self._wake()

    def stored(self) -> None:
        """The store is done (or refused): later callers read the cache, not this flight."""
        with self._cond:
            self._unlist()

    def leave(self, me: object) -> bool:
        """Detach a consumer; ``True`` when it was the last and the source must be closed."""
        with self._cond:
            self.consumers -= 1
            if self.demander is me:
                self.demander = None
            if self.puller is me:
                self.puller = None
                self._wake()
            if self.consumers:
                return False
            self._unlist()
            return not self.claimed and self.error is None

    # ---- sync shell --------------------------------------------------------------------
    def pull(self) -> None:
        """Read one chunk into the buffer (the caller holds the pull role)."""
        try:
            if self.iterator is None:
                self.source = self.factory()
                self.iterator = iter(self.source)
            item = next(self.iterator)
        except StopIteration:
            self._land()
            return
        except BaseException as err:  # noqa: BLE001 - every consumer re-raises it from step()
            # Landed first: the flight must fail even if closing the broken source fails too.
            self._land(error=err)
            with contextlib.suppress(Exception):
                self.close_source()
            return
        self._land(item)

    def wait(self, pos: int, timeout: float | None) -> bool:
        """Block until there is something to do at ``pos``; ``False`` after ``timeout``."""
        with self._cond:
            return self._cond.wait_for(lambda: self._ready(pos), timeout)

    def close_source(self) -> None:
        """Close the source of an abandoned flight."""
        _close(*[o for o in (self.iterator, self.source) if o is not None])

    # ---- async shell -------------------------------------------------------------------
    def demand(self, me: object) -> None:
        """Have the pump read one chunk for ``me`` (who holds the pull role)."""
        with self._cond:
            self.puller = _PUMP
            self.demander = me
            self._wanted = True
            wake, self._wake_pump = self._wake_pump, None
        if self.pump is None:
            self.pump = asyncio.get_running_loop().create_task(self._pump())
        elif wake is not None and not wake.done():
            wake.set_result(None)

    async def _pump(self) -> None:
        # One task reads the source from start to end, so no consumer's cancellation can
        # interrupt a read, and stream objects that expect a single reading task get one.
        loop = asyncio.get_running_loop()
        it: Any = None
        try:
            source = self.factory()
            if inspect.isawaitable(source):
                source = await source
            self.source = source
            is_async = hasattr(source, "__aiter__")
            it = aiter(source) if is_async else iter(source)
            while True:
                if not self._wanted:
                    self._wake_pump = loop.create_future()
                    await self._wake_pump
                self._wanted = False
                try:
                    item = await anext(it) if is_async else next(it)
                except (StopAsyncIteration, StopIteration):
                    self._land()
                    return
                self._land(item)
        except BaseException as err:
            cancelled = isinstance(err, asyncio.CancelledError)
            self._land(
                error=RuntimeError("the shared stream was cancelled before its end")
                if cancelled
                else err
            )
            with contextlib.suppress(Exception):
                await _aclose(*[o for o in (it, self.source) if o is not None])
            if cancelled:
                raise

    async def await_change(self, pos: int, timeout: float | None) -> bool:
        """Async :meth:`wait`."""
        with self._cond:
            if self._ready(pos):
                return True
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._futures.append(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return False
        return True

    async def aclose_source(self) -> None:
        """Stop the pump of an abandoned flight; the pump closes the source."""
        pump = self.pump
        if pump is not None and not pump.done():
            pump.cancel()
            await asyncio.wait({pump})


def _stalled(timeout: float) -> TimeoutError:
    return TimeoutError(
        f"the shared stream produced nothing for {timeout:g} s (stampede timeout); giving up on it"
    )


def shared(
    table: StreamTable,
    key: Hashable,
    factory: Callable[[], Iterable[T]],
    on_complete: Callable[[list[T]], None],
    *,
    recheck: Callable[[], list[T] | None],
    on_follow: Callable[[], None],
    on_shared: Callable[[list[T]], None],
    timeout: float,
) -> Iterator[T]:
    """Stream ``factory()`` once for every concurrent consumer of ``key``.

    The first consumer leads: it calls ``recheck()`` (a stream stored meanwhile is served
    from there) and the source is opened on the first pull. Followers call ``on_follow()``
    when they join and ``on_shared(chunks)`` when they saw the whole stream. A follower
    that waited ``timeout`` seconds without receiving anything streams on its own; one that
    already received chunks raises :class:`TimeoutError` rather than hang.

    Example:
        >>> table, calls = StreamTable(), []
        >>> def source():
        ...     calls.append(1)
        ...     return iter("ab")
        >>> kw = dict(recheck=lambda: None, on_follow=lambda: None,
        ...           on_shared=lambda c: None, timeout=5)
        >>> first = shared(table, "k", source, lambda c: None, **kw)
        >>> second = shared(table, "k", source, lambda c: None, **kw)
        >>> next(first), next(second), list(second), list(first), len(calls)
        ('a', 'a', ['b'], ['b'], 1)
    """
    me = object()
    flight, leader = table.join(key, factory, on_complete, me)
    pos = 0
    try:
        if leader:
            cached = recheck()
            if cached is not None:
                flight.fill(cached)
        else:
            on_follow()
        while True:
            op, value = flight.step(pos, me)
            if op == _ITEM:
                pos += 1
                yield value
            elif op == _PULL:
                flight.pull()
            elif op == _WAIT:
                if not flight.wait(pos, None if value else timeout):
                    if pos:
                        raise _stalled(timeout)
                    break
            elif op == _ERROR:
                raise value
            else:
                if op == _STORE:
                    try:
                        flight.on_complete(value)
                    finally:
                        flight.stored()
                if not leader:
                    on_shared(flight.chunks)
                return
    finally:
        if flight.leave(me):
            flight.close_source()
    # The leader is stuck and this consumer has yielded nothing: stream on its own.
    yield from tee(factory(), on_complete)


async def ashared(
    table: StreamTable,
    key: Hashable,
    factory: Callable[[], Any],
    on_complete: Callable[[list[T]], Awaitable[None]],
    *,
    recheck: Callable[[], Awaitable[list[T] | None]],
    on_follow: Callable[[], None],
    on_shared: Callable[[list[T]], None],
    timeout: float,
) -> AsyncGenerator[T, None]:
    """Async :func:`shared`: followers are tasks of the same event loop.

    ``factory()`` may return an async iterable, an awaitable of one, or a plain iterable.
    """
    me = object()
    flight, leader = table.join(key, factory, on_complete, me)
    pos = 0
    try:
        if leader:
            cached = await recheck()
            if cached is not None:
                flight.fill(cached)
        else:
            on_follow()
        while True:
            op, value = flight.step(pos, me)
            if op == _ITEM:
                pos += 1
                yield value
            elif op == _PULL:
                flight.demand(me)
            elif op == _WAIT:
                if not await flight.await_change(pos, None if value else timeout):
                    if pos:
                        raise _stalled(timeout)
                    break
            elif op == _ERROR:
                raise value
            else:
                if op == _STORE:
                    try:
                        await flight.on_complete(value)
                    finally:
                        flight.stored()
                if not leader:
                    on_shared(flight.chunks)
                return
    finally:
        if flight.leave(me):
            await flight.aclose_source()
    source = factory()
    if inspect.isawaitable(source):
        source = await source
    async with aclosing(atee(source, on_complete)) as live:
        async for chunk in live:
            yield chunk
