"""A distributed stampede lock on Redis: one computation per missing key across processes.

:class:`RedisLockProvider` implements the :class:`~omnicache_ai.core.stampede.LockProvider`
protocol. The :class:`~omnicache_ai.core.stampede.StampedeShield` coalesces callers within a
process; its leader then takes this lock, so that across every process (and machine)
sharing the Redis only one leader computes while the others wait and then read the value it
cached.

How it works, per lock name (three keys in one hash slot, so it also runs on a cluster):

* **Lease.** Acquiring is one Lua script: if the lock key is free it increments the
  fencing counter and stores the new value in the lock key with ``PX lease``. A holder
  that dies therefore blocks others for at most ``lease`` seconds.
* **Fencing token.** The counter only grows, so every holder gets a larger token than all
  earlier holders (for as long as the counter lives: ``fence_ttl`` after the last
  acquisition, one day by default). :meth:`RedisLease.still_held` tells a holder whether
  the lock is still its own before it writes a result.
* **Release** is compare-and-delete in Lua: only the holder whose token is in the lock
  key removes it, so a holder whose lease expired cannot free a successor's lock.
* **Waiters block, they do not spin.** A waiter blocks in ``BLPOP`` on the lock's wake
  list; a release pushes one wake token, which wakes one waiter at once (that waiter's own
  release wakes the next). Each ``BLPOP`` lasts at most until the lease would expire, and
  less than the client's socket timeout, so a dead holder or a lost wake-up costs at most
  one such slice.
* **Fail-open.** If Redis is down or slow, :meth:`acquire` returns ``None`` (after the
  backend's circuit breaker says so, without waiting) and the caller computes without
  the distributed lock: a duplicate computation is better than a stuck application.

The acquire/wait loop is written once, as a generator of steps (sans-IO); the sync and
async methods only run its steps on the sync or async Redis backend.

Example:
    A manager on Redis gets the lock automatically (``RedisBackend.lock_provider()``);
    by hand::

        from omnicache_ai.backends.redis_backend import RedisBackend
        from omnicache_ai.backends.redis_lock import RedisLockProvider

        locks = RedisLockProvider(RedisBackend(url="redis://localhost:6379/0"))
        lease = locks.acquire("report:2024", lease=30, timeout=10)
        if lease is not None:
            try:
                build_report()
            finally:
                lease.release()
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from omnicache_ai.backends._circuit import BackendError

if TYPE_CHECKING:
    # Types only: the backend imports this module to offer lock_provider(), and this one
    # needs nothing of the backend's at run time (it calls whatever backend it is given).
    from omnicache_ai.backends.redis_backend import AsyncRedisBackend, RedisBackend

__all__ = ["RedisLease", "RedisLockProvider"]

logger = logging.getLogger(__name__)

# KEYS[1] lock, KEYS[2] fencing counter; ARGV[1] lease ms, ARGV[2] counter ttl ms.
# Returns {1, token} when acquired, else {0, ms until the current lease expires}.
_ACQUIRE: Final = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('PTTL', KEYS[1])}
end
local token = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
return {1, token}
"""

# KEYS[1] lock, KEYS[2] wake list; ARGV[1] token, ARGV[2] wake token ttl ms.
# Deletes the lock only if it still holds our token, then wakes one waiter.
_RELEASE: Final = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

#: How long an unclaimed wake token stays: long enough for a waiter between two BLPOPs.
_WAKE_TTL_MS: Final = 2_000
#: Longest single BLPOP when the client has no socket timeout.
_MAX_BLOCK: Final = 5.0
#: Shortest BLPOP: Redis takes decimal seconds (Redis >= 6), and 0 would block forever.
_MIN_BLOCK: Final = 0.01


@dataclass(frozen=True, slots=True)
class _Keys:
    lock: str
    fence: str
    wake: str


@dataclass(frozen=True, slots=True)
class _Acquire:
    """Step: run the acquire script."""


@dataclass(frozen=True, slots=True)
class _Wait:
    """Step: block on the wake list for ``seconds``."""

    seconds: float


_Step = _Acquire | _Wait
_Flow = Generator[_Step, Any, int | None]


def _lock_keys(name: str) -> _Keys:
    # The digest is the hash tag: all three keys land in one cluster slot whatever
    # characters (braces included) the name holds.
    digest = hashlib.blake2b(name.encode("utf-8", "surrogateescape"), digest_size=10).hexdigest()
    base = f"__omnicache__:lock:{{{digest}}}"
    return _Keys(base, base + ":fence", base + ":wake")


def _acquire_flow(
    timeout: float, max_block: float, clock: Callable[[], float] = time.monotonic
) -> _Flow:
    """The acquire loop, free of I/O: yields steps, receives their results."""
    deadline = clock() + timeout
    while True:
        reply = yield _Acquire()
        got, value = int(reply[0]), int(reply[1])
        if got:
            return value
        remaining = deadline - clock()
        if remaining <= 0:
            return None
        # Block until the lease would expire (a dead holder), a release wakes us, or the
        # deadline; never longer than the socket timeout allows.
        lease_left = value / 1000 if value > 0 else _MIN_BLOCK
        yield _Wait(max(_MIN_BLOCK, min(remaining, lease_left, max_block)))


def _check_args(name: str, lease: float, timeout: float) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"lock name must be a non-empty str, got {name!r}")
    for label, value in (("lease", lease), ("timeout", timeout)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{label} must be a number of seconds, got {value!r}")
        if not math.isfinite(value) or value < 0 or (label == "lease" and value == 0):
            raise ValueError(f"{label} must be a finite number > 0 seconds, got {value!r}")


class _ErrorBurst:
    """Log the first failure of a burst, then at most one line per ``every`` seconds."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self._last = -math.inf
        self._lock = threading.Lock()

    def report(self, what: str, err: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.every:
                return
            self._last = now
        logger.warning("omnicache: distributed lock %s failed, going on without it: %s", what, err)


class RedisLease:
    """A held lock. Release it exactly once (``release`` or ``arelease``).

    Attributes:
        name: The lock's name.
        token: Fencing token: larger than the token of every earlier holder of this name.

    Example:
        ``lease.token  # e.g. 42; compare with the token stored next to your result``
    """

    __slots__ = ("_keys", "_provider", "_released", "name", "token")

    def __init__(self, provider: RedisLockProvider, name: str, keys: _Keys, token: int) -> None:
        self._provider = provider
        self._keys = keys
        self._released = False
        self.name = name
        self.token = token

    def _release_args(self) -> tuple[list[bytes], list[Any]]:
        return (
            [self._provider._raw(self._keys.lock), self._provider._raw(self._keys.wake)],
            [str(self.token), _WAKE_TTL_MS],
        )

    def release(self) -> None:
        """Release the lock if this lease still holds it; never raises (fail-open)."""
        if self._released:
            return
        self._released = True
        backend = self._provider._sync_backend()
        keys, args = self._release_args()
        try:
            backend._call(self._provider._script(backend, _RELEASE), keys=keys, args=args)
        except BackendError as err:
            # The lease expires on its own; a waiter loses at most one BLPOP slice.
            self._provider._errors.report("release", err)

    async def arelease(self) -> None:
        """Async :meth:`release`; never raises (fail-open)."""
        if self._released:
            return
        self._released = True
        keys, args = self._release_args()
        try:
            async with self._provider._async_backend() as backend:
                await backend._call(self._provider._script(backend, _RELEASE), keys=keys, args=args)
        except BackendError as err:
            self._provider._errors.report("release", err)

    def still_held(self) -> bool:
        """Whether the lock still holds this lease's token (the fencing check).

        ``False`` once the lease expired and another holder may have taken over: a result
        computed under an expired lease should not overwrite a newer one. Raises the
        backend's errors, so that "unknown" is never mistaken for "held".
        """
        backend = self._provider._sync_backend()
        raw = backend._run("get", self._provider._raw(self._keys.lock))
        return bool(raw == str(self.token).encode())

    async def astill_held(self) -> bool:
        """Async :meth:`still_held`."""
        async with self._provider._async_backend() as backend:
            raw = await backend._run("get", self._provider._raw(self._keys.lock))
        return bool(raw == str(self.token).encode())

    def __repr__(self) -> str:
        return f"RedisLease(name={self.name!r}, token={self.token})"


class RedisLockProvider:
    """Distributed locks with leases and fencing tokens, on a Redis backend.

    Args:
        backend: A :class:`RedisBackend` or :class:`AsyncRedisBackend`. The lock keys live
            under its prefix, calls share its circuit breaker, and the other flavour (an
            async client for :meth:`aacquire` on a sync backend, and vice versa) is built
            from the same URL when first needed.
        fence_ttl: Seconds a lock's fencing counter outlives its last acquisition.

    Example:
        ``provider = RedisLockProvider(RedisBackend(url="redis://localhost:6379/0"))``
    """

    def __init__(
        self, backend: RedisBackend | AsyncRedisBackend, *, fence_ttl: float = 86_400.0
    ) -> None:
        if not callable(getattr(backend, "_twin", None)):  # duck-typed: no import cycle
            raise TypeError(
                f"RedisLockProvider needs a RedisBackend or AsyncRedisBackend, "
                f"got {type(backend).__name__}"
            )
        if not math.isfinite(fence_ttl) or fence_ttl <= 0:
            raise ValueError(f"fence_ttl must be a finite number > 0, got {fence_ttl!r}")
        self.backend = backend
        self.fence_ttl = fence_ttl
        self._sync: RedisBackend | None = None if backend.is_async else backend  # type: ignore[assignment]
        self._async_given: AsyncRedisBackend | None = (
            backend if backend.is_async else None  # type: ignore[assignment]
        )
        self._twin_lock = threading.Lock()
        self._scripts: dict[tuple[int, str], Any] = {}
        self._errors = _ErrorBurst()
        timeout = backend.socket_timeout
        # Stay clear of the socket timeout, or a BLPOP would be mistaken for a dead server.
        self._max_block = (
            _MAX_BLOCK if timeout is None else max(_MIN_BLOCK, min(_MAX_BLOCK, timeout * 0.6))
        )

    # ---- plumbing ---------------------------------------------------------------------
    def _raw(self, key: str) -> bytes:
        return self.backend._key(key)

    def _script(self, backend: RedisBackend | AsyncRedisBackend, source: str) -> Any:
        """``source`` registered on ``backend``'s client (only hashed; EVALSHA loads it).

        A registered script is bound to its client: calling it runs on that client. So it is
        cached only for the backends this provider keeps as long as it lives (the one it was
        given and its synchronous twin), whose ids stay theirs. The short-lived asyncio twin
        of a sync backend registers afresh each time: cached under its id, the script would
        keep the closed twin's client, and a later twin reusing that id would run on it,
        reopening a connection that nobody closes (the garbage collector finalizes it later,
        after its event loop is gone: "unclosed Connection", "Event loop is closed").
        """
        if backend is not self.backend and backend is not self._sync:
            return backend.client.register_script(source)
        slot = (id(backend), source)
        script = self._scripts.get(slot)
        if script is None:
            script = self._scripts[slot] = backend.client.register_script(source)
        return script

    def _sync_backend(self) -> RedisBackend:
        if self._sync is None:
            with self._twin_lock:
                if self._sync is None:
                    twin = self.backend._twin()
                    if twin is None:
                        raise BackendError(
                            "a lock provider over an AsyncRedisBackend built from a client "
                            "has no URL to open a synchronous connection with"
                        )
                    self._sync = twin
        return self._sync

    @contextlib.asynccontextmanager
    async def _async_backend(self) -> AsyncIterator[AsyncRedisBackend]:
        if self._async_given is not None:
            yield self._async_given
            return
        # A sync backend has no asyncio client, and one would belong to a single event
        # loop. The async path of a sync backend runs only for a stampede leader, where
        # the computation dwarfs a connection set-up, so it opens a short-lived client
        # (sharing the breaker) rather than keeping one per loop that nobody could close.
        twin = self.backend._twin(max_connections=2)
        if twin is None:
            raise BackendError(
                "a lock provider over a RedisBackend built from a client has no URL to open "
                "an asyncio connection with"
            )
        try:
            yield twin
        finally:
            await twin.close()

    def _acquire_args(self, keys: _Keys, lease: float) -> tuple[list[bytes], list[int]]:
        return (
            [self._raw(keys.lock), self._raw(keys.fence)],
            [max(1, math.ceil(lease * 1000)), max(1, math.ceil(self.fence_ttl * 1000))],
        )

    # ---- the protocol -----------------------------------------------------------------
    def acquire(self, name: str, *, lease: float, timeout: float) -> RedisLease | None:
        """Take the lock ``name`` for ``lease`` seconds, waiting up to ``timeout``.

        Returns:
            The lease, or ``None`` when the lock stayed taken for ``timeout`` seconds or
            Redis could not be reached (then the caller goes on without the lock).

        Raises:
            ValueError: ``name`` empty, ``lease`` not > 0 or ``timeout`` negative.
        """
        _check_args(name, lease, timeout)
        keys = _lock_keys(name)
        key_args, argv = self._acquire_args(keys, lease)
        try:
            backend = self._sync_backend()
            script = self._script(backend, _ACQUIRE)
            wake = [self._raw(keys.wake)]
            flow = _acquire_flow(timeout, self._max_block)
            step = next(flow)
            while True:
                if isinstance(step, _Acquire):
                    reply = backend._call(script, keys=key_args, args=argv)
                else:
                    reply = backend._run("blpop", wake, timeout=step.seconds)
                step = flow.send(reply)
        except StopIteration as done:
            token: int | None = done.value
        except BackendError as err:
            self._errors.report("acquire", err)
            return None
        return None if token is None else RedisLease(self, name, keys, token)

    async def aacquire(
        self,
        name: str,
        *,
        lease: float,
        timeout: float,
    ) -> RedisLease | None:
        """Async :meth:`acquire`; waits without blocking the event loop."""
        _check_args(name, lease, timeout)
        keys = _lock_keys(name)
        key_args, argv = self._acquire_args(keys, lease)
        try:
            async with self._async_backend() as backend:
                token = await self._adrive(backend, keys, key_args, argv, timeout)
        except BackendError as err:
            self._errors.report("acquire", err)
            return None
        return None if token is None else RedisLease(self, name, keys, token)

    async def _adrive(
        self,
        backend: AsyncRedisBackend,
        keys: _Keys,
        key_args: list[bytes],
        argv: list[int],
        wait_s: float,
    ) -> int | None:
        script = self._script(backend, _ACQUIRE)
        wake = [self._raw(keys.wake)]
        flow = _acquire_flow(wait_s, self._max_block)
        step = next(flow)
        try:
            while True:
                if isinstance(step, _Acquire):
                    reply = await backend._call(script, keys=key_args, args=argv)
                else:
                    reply = await backend._run("blpop", wake, timeout=step.seconds)
                step = flow.send(reply)
        except StopIteration as done:
            token: int | None = done.value
        return token

    def close(self) -> None:
        """Close the synchronous connection this provider opened, if any. Idempotent."""
        if self._sync is not None and self._sync is not self.backend:
            self._sync.close()
