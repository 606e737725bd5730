"""Stampede protection: when many callers miss the same key, one computes, the rest wait.

One table of in-flight computations ("flights") serves threads and asyncio tasks alike, so
50 threads and 50 tasks asking for the same missing key cause one computation between them.
The first caller leads; followers block (threads) or await (tasks) until the leader
finishes, then receive its value, or its exception: a failed computation reaches every
waiter and nothing is cached. A follower waits at most ``timeout`` seconds; after that it
computes on its own, so a hung or dead leader can delay callers but never block them forever.

Across processes, a :class:`LockProvider` (the Redis backend offers one) extends the same
guarantee: the in-process leader also takes a distributed lock with a lease before
computing, so one caller per cluster computes.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol, TypeVar, overload, runtime_checkable

__all__ = ["LockLease", "LockProvider", "StampedeShield"]

T = TypeVar("T")


@runtime_checkable
class LockLease(Protocol):
    """A held distributed lock.

    Attributes:
        token: Fencing token, strictly increasing per lock name across holders.
    """

    token: int

    def release(self) -> None:
        """Release the lock if still held by this lease."""
        ...

    async def arelease(self) -> None:
        """Async :meth:`release`."""
        ...


@runtime_checkable
class LockProvider(Protocol):
    """Cross-process mutual exclusion with leases (e.g. Redis ``SET NX PX``)."""

    def acquire(self, name: str, *, lease: float, timeout: float) -> LockLease | None:
        """Wait up to ``timeout`` s for the lock; ``None`` when it could not be had."""
        ...

    async def aacquire(self, name: str, *, lease: float, timeout: float) -> LockLease | None:
        """Async :meth:`acquire`; must not block the event loop."""
        ...


class _LeaderGone(Exception):
    """The leading task was cancelled; followers should try again."""


class _Flight:
    __slots__ = ("done", "error", "event", "value", "waiters")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None
        self.waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class StampedeShield:
    """Coalesce concurrent computations of the same key.

    Args:
        timeout: Longest a follower waits for the leader before computing itself.
        lock_provider: Optional cross-process lock taken by the in-process leader.
        lock_lease: Lease of the distributed lock; longer than your slowest computation.

    Example:
        >>> shield = StampedeShield()
        >>> shield.run("k", lambda: 42)
        42
    """

    def __init__(
        self,
        timeout: float = 60.0,
        lock_provider: LockProvider | None = None,
        lock_lease: float = 60.0,
    ) -> None:
        self.timeout = timeout
        self.lock_provider = lock_provider
        self.lock_lease = lock_lease
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}

    def in_flight(self) -> int:
        """How many keys are being computed right now."""
        return len(self._flights)

    # ---- flight bookkeeping (shared by both shells) ----------------------------------
    def _join(self, key: str) -> tuple[_Flight, bool]:
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                return flight, False
            flight = self._flights[key] = _Flight()
            return flight, True

    def _land(self, key: str, flight: _Flight, value: Any, error: BaseException | None) -> None:
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.value, flight.error, flight.done = value, error, True
            waiters, flight.waiters = flight.waiters, []
        flight.event.set()
        for loop, fut in waiters:
            with contextlib.suppress(RuntimeError):  # the waiter's loop has closed
                loop.call_soon_threadsafe(_wake, fut)

    @staticmethod
    def _outcome(flight: _Flight) -> Any:
        if flight.error is not None:
            raise flight.error
        return flight.value

    # ---- sync ------------------------------------------------------------------------
    def run(self, key: str, fn: Callable[[], T]) -> T:
        """Return ``fn()``, computed once for all concurrent callers with the same ``key``."""
        while True:
            flight, leader = self._join(key)
            if leader:
                try:
                    value = self._lead(key, fn)
                except BaseException as err:
                    self._land(key, flight, None, err)
                    raise
                self._land(key, flight, value, None)
                return value
            if not flight.event.wait(self.timeout):
                return fn()  # the leader is stuck: do not wait forever
            if isinstance(flight.error, _LeaderGone):
                continue
            result: T = self._outcome(flight)
            return result

    def _lead(self, key: str, fn: Callable[[], T]) -> T:
        provider = self.lock_provider
        if provider is None:
            return fn()
        lease = provider.acquire(key, lease=self.lock_lease, timeout=self.timeout)
        try:
            return fn()
        finally:
            if lease is not None:
                lease.release()

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """A per-key mutex for callers that need plain mutual exclusion.

        Example:
            >>> with StampedeShield().lock("k"):
            ...     pass
        """
        flight, leader = self._join(key)
        while not leader:
            if not flight.event.wait(self.timeout):
                break  # the holder is stuck: proceed rather than block forever
            flight, leader = self._join(key)
        try:
            yield
        finally:
            if leader:
                self._land(key, flight, None, None)

    # ---- async -----------------------------------------------------------------------
    @overload
    async def arun(self, key: str, fn: Callable[[], Awaitable[T]]) -> T: ...
    @overload
    async def arun(self, key: str, fn: Callable[[], T]) -> T: ...
    async def arun(self, key: str, fn: Callable[[], Any]) -> Any:
        """Async :meth:`run`: ``fn`` may return an awaitable or a plain value."""
        while True:
            flight, leader = self._join(key)
            if leader:
                try:
                    value = await self._alead(key, fn)
                except asyncio.CancelledError:
                    self._land(key, flight, None, _LeaderGone())
                    raise
                except BaseException as err:
                    self._land(key, flight, None, err)
                    raise
                self._land(key, flight, value, None)
                return value
            if not await self._await_flight(flight):
                return await _call(fn)
            if isinstance(flight.error, _LeaderGone):
                continue
            return self._outcome(flight)

    async def _alead(self, key: str, fn: Callable[[], Awaitable[T]] | Callable[[], T]) -> T:
        provider = self.lock_provider
        if provider is None:
            return await _call(fn)
        lease = await provider.aacquire(key, lease=self.lock_lease, timeout=self.timeout)
        try:
            return await _call(fn)
        finally:
            if lease is not None:
                await lease.arelease()

    async def _await_flight(self, flight: _Flight) -> bool:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if flight.done:
                return True
            flight.waiters.append((loop, fut))
        try:
            await asyncio.wait_for(fut, self.timeout)
        except TimeoutError:
            return False
        return True


async def _call(fn: Callable[[], Awaitable[T]] | Callable[[], T]) -> T:
    result = fn()
    if inspect.isawaitable(result):
        return await result
    return result
