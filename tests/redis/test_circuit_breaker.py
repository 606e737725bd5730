"""The circuit breaker's state machine, driven by a fake clock (no server needed)."""

from __future__ import annotations

import threading

import pytest

from omnicache_ai.backends._circuit import (
    BackendDataError,
    BackendError,
    BackendUnavailable,
    CircuitBreaker,
)


class FakeClock:
    """A monotonic clock the test advances by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.before_call()
        breaker.record_failure()


def test_stays_closed_below_threshold() -> None:
    """Fewer consecutive failures than the threshold leave calls going through."""
    breaker = CircuitBreaker(failure_threshold=3, cooldown=1.0, clock=FakeClock())
    fail(breaker, 2)
    breaker.before_call()
    assert breaker.state == "closed"


def test_success_resets_the_consecutive_count() -> None:
    """Only *consecutive* failures count: a success in between starts over."""
    breaker = CircuitBreaker(failure_threshold=3, cooldown=1.0, clock=FakeClock())
    fail(breaker, 2)
    breaker.before_call()
    breaker.record_success()
    fail(breaker, 2)
    assert breaker.state == "closed"


def test_opens_at_threshold_and_rejects_without_calling() -> None:
    """At the threshold the breaker opens and before_call raises with a retry hint."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown=2.0, clock=clock)
    fail(breaker, 3)
    assert breaker.state == "open"
    clock.now += 0.5
    with pytest.raises(BackendUnavailable) as info:
        breaker.before_call()
    assert info.value.retry_after == pytest.approx(1.5)
    assert breaker.snapshot()["rejected"] == 1
    assert breaker.snapshot()["opens"] == 1


def test_half_open_admits_exactly_one_probe() -> None:
    """After the cooldown one probe goes out; concurrent callers still fail fast."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=1.0, clock=clock)
    fail(breaker, 1)
    clock.now += 1.0
    breaker.before_call()
    assert breaker.state == "half-open"
    with pytest.raises(BackendUnavailable):
        breaker.before_call()


def test_probe_success_closes() -> None:
    """A successful probe closes the breaker and clears the failure count."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=1.0, clock=clock)
    fail(breaker, 1)
    clock.now += 1.0
    breaker.before_call()
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.snapshot()["consecutive_failures"] == 0
    breaker.before_call()


def test_probe_failure_reopens_for_a_full_cooldown() -> None:
    """A failed probe opens the breaker again, counting the cooldown from the probe."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=1.0, clock=clock)
    fail(breaker, 1)
    clock.now += 5.0
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now += 0.9
    with pytest.raises(BackendUnavailable):
        breaker.before_call()
    clock.now += 0.1
    breaker.before_call()
    assert breaker.state == "half-open"


def test_abandoned_probe_lets_the_next_call_probe() -> None:
    """A cancelled probe does not wedge the breaker in half-open forever."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=1.0, clock=clock)
    fail(breaker, 1)
    clock.now += 1.0
    breaker.before_call()
    breaker.record_abandoned()
    breaker.before_call()
    assert breaker.state == "half-open"


def test_late_failure_while_open_restarts_cooldown() -> None:
    """A call admitted before opening that fails late pushes the next probe back."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=1.0, clock=clock)
    breaker.before_call()  # admitted while closed, will fail late
    fail(breaker, 1)
    clock.now += 0.8
    breaker.record_failure()
    clock.now += 0.5
    with pytest.raises(BackendUnavailable):
        breaker.before_call()


def test_on_change_reports_each_transition_once() -> None:
    """The listener sees closed->open, open->half-open, half-open->closed, nothing more."""
    clock = FakeClock()
    seen: list[tuple[str, str]] = []
    breaker = CircuitBreaker(
        failure_threshold=2, cooldown=1.0, clock=clock, on_change=lambda a, b: seen.append((a, b))
    )
    fail(breaker, 2)
    for _ in range(5):
        with pytest.raises(BackendUnavailable):
            breaker.before_call()
    clock.now += 1.0
    breaker.before_call()
    breaker.record_success()
    breaker.record_success()
    assert seen == [("closed", "open"), ("open", "half-open"), ("half-open", "closed")]


def test_reset_closes() -> None:
    """reset() closes an open breaker at once."""
    breaker = CircuitBreaker(failure_threshold=1, cooldown=60.0, clock=FakeClock())
    fail(breaker, 1)
    breaker.reset()
    breaker.before_call()
    assert breaker.state == "closed"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"failure_threshold": 0}, ValueError),
        ({"failure_threshold": 1.5}, TypeError),
        ({"failure_threshold": True}, TypeError),
        ({"cooldown": -1}, ValueError),
        ({"cooldown": float("inf")}, ValueError),
    ],
)
def test_rejects_bad_configuration(kwargs: dict[str, object], error: type[Exception]) -> None:
    """Nonsense thresholds and cooldowns fail at construction with a clear error."""
    with pytest.raises(error):
        CircuitBreaker(**kwargs)  # type: ignore[arg-type]


def test_error_hierarchy() -> None:
    """Backend errors share one base; unavailability is also a builtin ConnectionError."""
    assert issubclass(BackendUnavailable, BackendError)
    assert issubclass(BackendUnavailable, ConnectionError)
    assert issubclass(BackendDataError, BackendError)
    assert issubclass(BackendDataError, ValueError)


def test_concurrent_failures_open_once() -> None:
    """Many threads failing at once open the breaker exactly once and lose no count."""
    breaker = CircuitBreaker(failure_threshold=5, cooldown=60.0, clock=FakeClock())
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(100):
            breaker.record_failure()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = breaker.snapshot()
    assert snap["failures"] == 800
    assert snap["opens"] == 1
    assert breaker.state == "open"
