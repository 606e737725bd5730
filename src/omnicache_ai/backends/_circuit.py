"""A small circuit breaker for backends that talk to a server over the network.

A cache must never be slower than the work it saves. When the server behind a backend is
down or hung, every call would otherwise wait out its socket timeout; the breaker counts
consecutive connection failures and, past a threshold, *opens*: calls then fail at once
with :class:`BackendUnavailable` instead of touching the network. After a cooldown one
call is let through as a probe (*half-open*); its success closes the breaker, its failure
opens it for another cooldown.

The breaker is pure bookkeeping: it performs no I/O and never sleeps, so the same object
serves threads and event loops alike (its lock is held for a few attribute updates only,
never across an ``await``).

Example:
    >>> breaker = CircuitBreaker(failure_threshold=2, cooldown=30.0)
    >>> breaker.before_call(); breaker.record_failure()
    >>> breaker.before_call(); breaker.record_failure()
    >>> breaker.state
    'open'
    >>> try:
    ...     breaker.before_call()
    ... except BackendUnavailable:
    ...     print("failed fast")
    failed fast
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, Final, Literal

__all__ = [
    "BackendDataError",
    "BackendError",
    "BackendUnavailable",
    "CircuitBreaker",
]

State = Literal["closed", "open", "half-open"]

_CLOSED: Final = "closed"
_OPEN: Final = "open"
_HALF_OPEN: Final = "half-open"


class BackendError(Exception):
    """Base class for errors a backend raises on purpose.

    The :class:`~omnicache_ai.CacheManager` turns any backend exception into a counted
    miss, so callers of the manager never see these unless strict mode is on; code that
    drives a backend directly can catch this one type.

    Example:
        >>> issubclass(BackendUnavailable, BackendError)
        True
    """


class BackendUnavailable(BackendError, ConnectionError):
    """The backend's server cannot be reached, timed out, or its circuit breaker is open.

    It subclasses the builtin :class:`ConnectionError` so that generic network error
    handling catches it too.

    Example:
        >>> err = BackendUnavailable("redis down", retry_after=0.5)
        >>> err.retry_after
        0.5
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        #: Seconds until the breaker lets a probe through; ``None`` when not known.
        self.retry_after = retry_after


class BackendDataError(BackendError, ValueError):
    """The server answered, but with something that is not a cache value.

    Raised for instance when a key holds a Redis list instead of a string, or when a
    client returns ``str`` where ``bytes`` are required. The server is healthy, so this
    does not count against the circuit breaker.

    Example:
        >>> isinstance(BackendDataError("WRONGTYPE"), ValueError)
        True
    """


class CircuitBreaker:
    """Counts consecutive failures and fails fast while a server looks dead.

    Call :meth:`before_call` before each operation (it raises :class:`BackendUnavailable`
    when the call must not go out), then exactly one of :meth:`record_success` or
    :meth:`record_failure`. Only failures that say "the server is unreachable or hung"
    should be recorded as failures; an error *answer* from a live server is a success
    from the breaker's point of view.

    Args:
        failure_threshold: Consecutive failures that open the breaker (>= 1).
        cooldown: Seconds the breaker stays open before letting one probe through.
        name: Shown in error messages, e.g. the server address.
        clock: Monotonic time source in seconds; injectable for tests.
        on_change: Called as ``on_change(old_state, new_state)`` after each transition,
            outside the lock; backends use it to log an outage once rather than per call.

    Example:
        >>> ticks = iter([0.0, 10.0])
        >>> b = CircuitBreaker(failure_threshold=1, cooldown=5.0, clock=lambda: next(ticks))
        >>> b.before_call(); b.record_failure()   # opens at t=0
        >>> b.before_call()                       # t=10: cooldown over, this is the probe
        >>> b.state
        'half-open'
        >>> b.record_success(); b.state
        'closed'
    """

    __slots__ = (
        "_clock",
        "_failures",
        "_lock",
        "_on_change",
        "_opened_at",
        "_probe_in_flight",
        "_state",
        "cooldown",
        "failure_threshold",
        "name",
        "opens",
        "rejected",
        "total_failures",
    )

    def __init__(
        self,
        failure_threshold: int = 3,
        cooldown: float = 1.0,
        *,
        name: str = "backend",
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[State, State], None] | None = None,
    ) -> None:
        if isinstance(failure_threshold, bool) or not isinstance(failure_threshold, int):
            raise TypeError(f"failure_threshold must be an int, got {failure_threshold!r}")
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if not isinstance(cooldown, int | float) or not math.isfinite(cooldown) or cooldown < 0:
            raise ValueError(f"cooldown must be a finite number >= 0, got {cooldown!r}")
        self.failure_threshold = failure_threshold
        self.cooldown = float(cooldown)
        self.name = name
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._state: State = _CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        #: How many times the breaker has opened.
        self.opens = 0
        #: Calls refused without touching the network.
        self.rejected = 0
        #: Failures recorded over the breaker's lifetime.
        self.total_failures = 0

    @property
    def state(self) -> State:
        """``"closed"``, ``"open"`` or ``"half-open"``."""
        return self._state

    def before_call(self) -> None:
        """Let a call through, or raise :class:`BackendUnavailable` when it must not go out.

        Raises:
            BackendUnavailable: The breaker is open and the cooldown has not elapsed, or
                it is half-open and another call is already probing.
        """
        # Hot path: a healthy backend pays one attribute read, no lock.
        if self._state == _CLOSED:
            return
        with self._lock:
            # Re-read through the property: another thread may have closed it meanwhile.
            if self.state == _CLOSED:
                return
            if self._state == _HALF_OPEN:
                # Exactly one probe at a time; everyone else keeps failing fast.
                if self._probe_in_flight:
                    self.rejected += 1
                    raise BackendUnavailable(
                        f"{self.name}: circuit half-open, a probe is in flight",
                        retry_after=0.0,
                    )
                self._probe_in_flight = True
                return
            remaining = self._opened_at + self.cooldown - self._clock()
            if remaining > 0:
                self.rejected += 1
                raise BackendUnavailable(
                    f"{self.name}: circuit open after {self._failures} consecutive "
                    f"failures; next probe in {remaining:.3f}s",
                    retry_after=remaining,
                )
            self._state = _HALF_OPEN
            self._probe_in_flight = True
        self._notify(_OPEN, _HALF_OPEN)

    def record_success(self) -> None:
        """Note that the server answered; closes the breaker."""
        if self._state == _CLOSED and self._failures == 0:
            return
        with self._lock:
            old = self._state
            self._state = _CLOSED
            self._failures = 0
            self._probe_in_flight = False
        if old != _CLOSED:
            self._notify(old, _CLOSED)

    def record_failure(self) -> None:
        """Note a connection failure or timeout; may open the breaker."""
        with self._lock:
            old = self._state
            self._failures += 1
            self.total_failures += 1
            self._probe_in_flight = False
            if old == _HALF_OPEN or (old == _CLOSED and self._failures >= self.failure_threshold):
                self._state = _OPEN
                self._opened_at = self._clock()
                self.opens += 1
            elif old == _OPEN:
                # A call admitted before the breaker opened failed late: the server is
                # still down, so restart the cooldown from now.
                self._opened_at = self._clock()
            new = self._state
        if new != old:
            self._notify(old, new)

    def _notify(self, old: State, new: State) -> None:
        if self._on_change is not None:
            self._on_change(old, new)

    def record_abandoned(self) -> None:
        """Note that an admitted call ended without a verdict (cancelled, interrupted).

        Without this a cancelled half-open probe would leave the breaker waiting for a
        verdict that never comes, refusing every call forever.
        """
        if self._probe_in_flight:
            with self._lock:
                self._probe_in_flight = False

    def reset(self) -> None:
        """Force the breaker closed, e.g. after an operator fixed the server."""
        with self._lock:
            old = self._state
            self._state = _CLOSED
            self._failures = 0
            self._probe_in_flight = False
        if old != _CLOSED:
            self._notify(old, _CLOSED)

    def snapshot(self) -> dict[str, Any]:
        """State and counters, for ``stats()`` and metrics exporters.

        Example:
            >>> CircuitBreaker().snapshot()["state"]
            'closed'
        """
        return {
            "state": self._state,
            "consecutive_failures": self._failures,
            "opens": self.opens,
            "rejected": self.rejected,
            "failures": self.total_failures,
        }

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker(name={self.name!r}, state={self._state!r}, "
            f"failures={self._failures}/{self.failure_threshold}, cooldown={self.cooldown})"
        )
