"""Helpers for users' own tests: record what the cache did, or break a backend on purpose."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from omnicache_ai.backends.base import BaseBackend
from omnicache_ai.backends.memory_backend import InMemoryBackend
from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.core.metrics import CacheEvent

__all__ = ["CapturedEvents", "FlakyBackend", "RecordingBackend", "capture_cache_events"]


@dataclass
class CapturedEvents:
    """Events seen inside :func:`capture_cache_events`.

    Attributes:
        events: Every event in order.
    """

    events: list[CacheEvent] = field(default_factory=list)

    def of(self, kind: str) -> list[CacheEvent]:
        """Events of one kind (``"hit"``, ``"miss"``, ``"set"``, ...)."""
        return [e for e in self.events if e.kind == kind]

    @property
    def hits(self) -> int:
        """Number of hits."""
        return len(self.of("hit"))

    @property
    def misses(self) -> int:
        """Number of misses."""
        return len(self.of("miss"))


@contextlib.contextmanager
def capture_cache_events(manager: CacheManager) -> Iterator[CapturedEvents]:
    """Record the hits, misses, sets and errors a block of code causes.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> m = CacheManager()
        >>> with capture_cache_events(m) as seen:
        ...     _ = m.get_or_set("k", lambda: 1); _ = m.get("k")
        >>> seen.misses, seen.hits
        (1, 1)
    """
    captured = CapturedEvents()
    lock = threading.Lock()

    def listen(event: CacheEvent) -> None:
        with lock:
            captured.events.append(event)

    unsubscribe = manager.metrics.subscribe(listen)
    try:
        yield captured
    finally:
        unsubscribe()


class RecordingBackend(InMemoryBackend):
    """An in-memory backend that records every call as ``(operation, key)``.

    Example:
        >>> b = RecordingBackend(); b.set("k", b"v"); _ = b.get("k"); b.calls
        [('set', 'k'), ('get', 'k')]
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[tuple[str, str]] = []
        del self.get  # undo the fast-path binding so calls are recorded
        del self.exists
        del self.get_checked

    # No one-call tag check: the manager then reads with get() and deletes stale entries
    # with delete(), so every step shows up in ``calls``.
    get_checked = None  # type: ignore[assignment]
    aget_checked = None  # type: ignore[assignment]

    def get(self, key: str) -> Any | None:
        """Record, then read."""
        self.calls.append(("get", key))
        return super().get(key)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Record, then write."""
        self.calls.append(("set", key))
        super().set(key, value, ttl)

    def delete(self, key: str) -> bool:
        """Record, then delete."""
        self.calls.append(("delete", key))
        return super().delete(key)


class FlakyBackend(BaseBackend):
    """Wraps a backend and raises ``ConnectionError`` while ``down`` is True.

    Use it to check that your pipeline survives a cache outage (the manager serves misses).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> flaky = FlakyBackend(InMemoryBackend())
        >>> m = CacheManager(backend=flaky)
        >>> flaky.down = True
        >>> m.get_or_set("k", lambda: "still works")
        'still works'
    """

    blocking = False

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False
        self.failures = 0

    def _check(self) -> None:
        if self.down:
            self.failures += 1
            raise ConnectionError("backend is down (FlakyBackend)")

    def get(self, key: str) -> Any | None:
        """Fail while down."""
        self._check()
        return self.inner.get(key)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Fail while down."""
        self._check()
        self.inner.set(key, value, ttl)

    def delete(self, key: str) -> bool | None:
        """Fail while down."""
        self._check()
        result: bool | None = self.inner.delete(key)
        return result

    def exists(self, key: str) -> bool:
        """Fail while down."""
        self._check()
        return bool(self.inner.exists(key))

    def clear(self) -> None:
        """Fail while down."""
        self._check()
        self.inner.clear()

    def keys(self, prefix: str = "") -> Any:
        """Fail while down."""
        self._check()
        return self.inner.keys(prefix)
