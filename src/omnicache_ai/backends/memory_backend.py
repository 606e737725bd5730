"""In-process LRU backend: the fastest store, bounded by entries and by bytes.

The store behind :class:`InMemoryBackend` and :class:`AsyncInMemoryBackend` is one
thread-safe ordered dict. Expiry is checked on read and swept from a heap of deadlines as
entries are written, so expired entries neither answer nor linger.

Driven by a :class:`~omnicache_ai.CacheManager`, the backend holds envelope bytes
(immutable). Used on its own it holds any Python value; mutable values are deep-copied on
the way in and out so no caller can change what the cache holds.
"""

from __future__ import annotations

import contextlib
import copy
import heapq
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from omnicache_ai.backends.base import BaseBackend
from omnicache_ai.core.errors import ConfigurationError
from omnicache_ai.core.policies import EvictionPolicy

__all__ = ["InMemoryBackend"]

_IMMUTABLE = (bytes, str, int, float, bool, type(None), complex, frozenset)
_now = time.monotonic


def _size_of(value: Any) -> int:
    if type(value) is bytes or type(value) is str:
        return len(value) + 64
    return sys.getsizeof(value) + 64


def _frozen(value: Any) -> bool:
    t = type(value)
    if t in _IMMUTABLE:
        return True
    if t is tuple:
        return all(_frozen(v) for v in value)
    return False


class _Store:
    """Thread-safe LRU/FIFO map with per-entry deadlines, shared by both in-memory backends."""

    def __init__(self, policy: EvictionPolicy) -> None:
        self.policy = policy
        self._lru = policy.strategy == "lru"
        self._max_entries = policy.max_entries
        self._max_bytes = policy.max_bytes
        self._data: OrderedDict[str, tuple[Any, float | None, int]] = OrderedDict()
        self._deadlines: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._bytes = 0
        self.evictions = 0
        self.expirations = 0
        self._listeners: list[Callable[[int], None]] = []

    # -- reads ---------------------------------------------------------------------------
    def get(self, key: str) -> Any | None:
        # Lock-free read: each OrderedDict call below is one C-level step under the GIL, and
        # a concurrent delete between them only means we serve the value read before it
        # (a linearizable read). Writers take the lock for their compound updates.
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= _now():
            self._expire(key, item)
            return None
        if self._lru:
            with contextlib.suppress(KeyError):
                self._data.move_to_end(key)
        value = item[0]
        if type(value) is bytes or _frozen(value):
            return value
        return copy.deepcopy(value)

    def _expire(self, key: str, item: tuple[Any, float | None, int]) -> None:
        with self._lock:
            if self._data.get(key) is item:
                self._remove(key)
                self.expirations += 1

    def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        return [self.get(k) for k in keys]

    def exists(self, key: str) -> bool:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return False
            if item[1] is not None and item[1] <= _now():
                self._remove(key)
                self.expirations += 1
                return False
            return True

    def keys(self, prefix: str) -> list[str]:
        now = _now()
        with self._lock:
            items = list(self._data.items())  # one C-level copy: readers may reorder meanwhile
        return [
            k for k, (_, exp, _) in items if k.startswith(prefix) and (exp is None or exp > now)
        ]

    # -- writes --------------------------------------------------------------------------
    def set(self, key: str, value: Any, ttl: float | None) -> None:
        if type(value) is not bytes and not _frozen(value):
            value = copy.deepcopy(value)
        size = _size_of(value)
        deadline = None if ttl is None else _now() + ttl
        with self._lock:
            self._put(key, value, deadline, size)
        self._notify()

    def set_many(self, items: Mapping[str, Any], ttl: float | None) -> None:
        prepared = [
            (k, v if type(v) is bytes or _frozen(v) else copy.deepcopy(v)) for k, v in items.items()
        ]
        deadline = None if ttl is None else _now() + ttl
        with self._lock:
            for k, v in prepared:
                self._put(k, v, deadline, _size_of(v))
        self._notify()

    def add(self, key: str, value: Any, ttl: float | None) -> bool:
        with self._lock:
            item = self._data.get(key)
            if item is not None and (item[1] is None or item[1] > _now()):
                return False
            stored = value if _frozen(value) else copy.deepcopy(value)
            self._put(key, stored, None if ttl is None else _now() + ttl, _size_of(stored))
        self._notify()
        return True

    def incr(self, key: str, delta: int, ttl: float | None = None) -> int:
        with self._lock:
            item = self._data.get(key)
            alive = item is not None and (item[1] is None or item[1] > _now())
            current = int(item[0]) if alive and item is not None else 0
            value = current + delta
            if alive and item is not None:
                deadline = item[1]
            else:
                deadline = None if ttl is None else _now() + ttl
            self._put(key, value, deadline, _size_of(value))
        self._notify()
        return value

    def delete(self, key: str) -> bool:
        with self._lock:
            if key in self._data:
                self._remove(key)
                return True
            return False

    def delete_many(self, keys: Iterable[str]) -> int:
        n = 0
        with self._lock:
            for k in keys:
                if k in self._data:
                    self._remove(k)
                    n += 1
        return n

    def delete_prefix(self, prefix: str) -> int:
        with self._lock:
            doomed = [k for k in list(self._data) if k.startswith(prefix)]
            for k in doomed:
                self._remove(k)
        return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._deadlines.clear()
            self._bytes = 0

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "entries": len(self._data),
                "bytes": self._bytes,
                "evictions": self.evictions,
                "expirations": self.expirations,
                "max_entries": self._max_entries,
                "max_bytes": self._max_bytes,
            }

    def __len__(self) -> int:
        return len(self._data)

    # -- internals (call with the lock held) ---------------------------------------------
    _pending_evictions = 0

    def _put(self, key: str, value: Any, deadline: float | None, size: int) -> None:
        old = self._data.pop(key, None)
        if old is not None:
            self._bytes -= old[2]
        self._data[key] = (value, deadline, size)
        self._bytes += size
        if deadline is not None:
            heapq.heappush(self._deadlines, (deadline, key))
            if len(self._deadlines) > 2 * len(self._data) + 64:
                self._rebuild_deadlines()
        self._sweep_expired()
        self._enforce_bounds()

    def _remove(self, key: str) -> None:
        item = self._data.pop(key)
        self._bytes -= item[2]

    def _sweep_expired(self) -> None:
        heap = self._deadlines
        if not heap or heap[0][0] > _now():
            return
        now = _now()
        while heap and heap[0][0] <= now:
            deadline, key = heapq.heappop(heap)
            item = self._data.get(key)
            if item is not None and item[1] == deadline:
                self._remove(key)
                self.expirations += 1

    def _rebuild_deadlines(self) -> None:
        items = list(self._data.items())
        self._deadlines = [(exp, k) for k, (_, exp, _) in items if exp is not None]
        heapq.heapify(self._deadlines)

    def _enforce_bounds(self) -> None:
        max_entries, max_bytes = self._max_entries, self._max_bytes
        evicted = 0
        while self._data and (
            (max_entries is not None and len(self._data) > max_entries)
            or (max_bytes is not None and self._bytes > max_bytes)
        ):
            key = next(iter(self._data))  # least recently used (or oldest written)
            self._remove(key)
            evicted += 1
        if evicted:
            self.evictions += evicted
            self._pending_evictions += evicted

    def _notify(self) -> None:
        if not self._pending_evictions:
            return
        with self._lock:
            n, self._pending_evictions = self._pending_evictions, 0
        if n:
            for listener in list(self._listeners):
                listener(n)


def _policy(
    max_size: int | None, max_bytes: int | None, eviction_policy: EvictionPolicy | None
) -> EvictionPolicy:
    if eviction_policy is not None:
        if max_size is not None or max_bytes is not None:
            raise ConfigurationError("pass either eviction_policy or max_size/max_bytes, not both")
        return eviction_policy
    return EvictionPolicy("lru", max_entries=max_size, max_bytes=max_bytes)


class InMemoryBackend(BaseBackend):
    """Thread-safe in-process LRU cache.

    Args:
        max_size: Most entries held (``None`` = unbounded).
        max_bytes: Most bytes held (``None`` = unbounded).
        eviction_policy: Full :class:`EvictionPolicy` instead of the two bounds.

    Example:
        >>> b = InMemoryBackend(max_size=2)
        >>> b.set("a", 1); b.set("b", 2); b.set("c", 3)
        >>> b.get("a") is None, b.get("c")
        (True, 3)
    """

    blocking = False

    def __init__(
        self,
        max_size: int | None = None,
        max_bytes: int | None = None,
        *,
        eviction_policy: EvictionPolicy | None = None,
    ) -> None:
        self._store = _Store(_policy(max_size, max_bytes, eviction_policy))
        # Bind the store's methods directly: one attribute lookup less on the hot path.
        self.get = self._store.get  # type: ignore[method-assign]
        self.exists = self._store.exists  # type: ignore[method-assign]

    @property
    def eviction_policy(self) -> EvictionPolicy:
        """The bounds and strategy in force."""
        return self._store.policy

    def get(self, key: str) -> Any | None:
        """Return the value, or ``None`` when absent or expired."""
        return self._store.get(key)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value``; ``ttl`` seconds (``None`` = no expiry)."""
        self._store.set(key, value, ttl)

    def delete(self, key: str) -> bool:
        """Remove ``key``; returns whether it existed."""
        return self._store.delete(key)

    def exists(self, key: str) -> bool:
        """Whether ``key`` is present and unexpired."""
        return self._store.exists(key)

    def clear(self) -> None:
        """Remove every entry."""
        self._store.clear()

    def close(self) -> None:
        """Nothing to release; entries stay until the object is dropped."""

    def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        """Values in order, ``None`` for misses."""
        return self._store.get_many(keys)

    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        """Store several values under one lock acquisition."""
        self._store.set_many(items, ttl)

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove several keys; returns how many existed."""
        return self._store.delete_many(keys)

    def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Atomic increment (``ttl`` applies when the counter is created)."""
        return self._store.incr(key, delta, ttl)

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Atomic set-if-absent."""
        return self._store.add(key, value, ttl)

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Live keys starting with ``prefix`` (a snapshot)."""
        return iter(self._store.keys(prefix))

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix``."""
        return self._store.delete_prefix(prefix)

    def stats(self) -> dict[str, Any]:
        """Entries, bytes, evictions and expirations so far."""
        return self._store.stats()

    def add_eviction_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(n)`` after each write that evicted ``n`` entries."""
        self._store._listeners.append(listener)

    def __len__(self) -> int:
        return len(self._store)
