"""Async in-process LRU backend for asyncio applications (FastAPI, LangGraph ...).

It shares its store with :class:`InMemoryBackend`. Every operation is a few dictionary
steps under a lock that is never held across an ``await``, so awaiting it never blocks the
event loop, and the same instance may also be touched from worker threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from omnicache_ai.backends.base import AsyncBaseBackend
from omnicache_ai.backends.memory_backend import _policy, _Store
from omnicache_ai.core.policies import EvictionPolicy

__all__ = ["AsyncInMemoryBackend"]


class AsyncInMemoryBackend(AsyncBaseBackend):
    """The asyncio twin of :class:`~omnicache_ai.InMemoryBackend`.

    Args:
        max_size: Most entries held (``None`` = unbounded).
        max_bytes: Most bytes held (``None`` = unbounded).
        eviction_policy: Full :class:`EvictionPolicy` instead of the two bounds.

    Example:
        >>> import asyncio
        >>> async def demo():
        ...     backend = AsyncInMemoryBackend(max_size=10_000)
        ...     await backend.set("key", "value", ttl=60)
        ...     return await backend.get("key")
        >>> asyncio.run(demo())
        'value'
    """

    #: See :attr:`InMemoryBackend.holds_values <omnicache_ai.InMemoryBackend>`.
    holds_values = True

    def __init__(
        self,
        max_size: int | None = None,
        max_bytes: int | None = None,
        *,
        eviction_policy: EvictionPolicy | None = None,
    ) -> None:
        self._store = _Store(_policy(max_size, max_bytes, eviction_policy))

    async def get(self, key: str) -> Any | None:
        """Return the value, or ``None`` when absent or expired."""
        return self._store.get(key)

    async def aget_checked(self, key: str) -> Any | None:
        """Like :meth:`get`, but a tagged entry whose tags were invalidated reads as ``None``.

        The manager's one-call read of tagged entries (counters live in this store).
        """
        return self._store.get_checked(key)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value``; ``ttl`` seconds (``None`` = no expiry)."""
        self._store.set(key, value, ttl)

    async def delete(self, key: str) -> bool:
        """Remove ``key``; returns whether it existed."""
        return self._store.delete(key)

    async def exists(self, key: str) -> bool:
        """Whether ``key`` is present and unexpired."""
        return self._store.exists(key)

    async def clear(self) -> None:
        """Remove every entry."""
        self._store.clear()

    async def close(self) -> None:
        """Nothing to release."""

    async def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        """Values in order, ``None`` for misses."""
        return self._store.get_many(keys)

    async def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        """Store several values."""
        self._store.set_many(items, ttl)

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Remove several keys."""
        return self._store.delete_many(keys)

    async def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Atomic increment (``ttl`` applies when the counter is created)."""
        return self._store.incr(key, delta, ttl)

    async def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Atomic set-if-absent."""
        return self._store.add(key, value, ttl)

    async def keys(self, prefix: str = "") -> list[str]:
        """Live keys starting with ``prefix``."""
        return self._store.keys(prefix)

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix``."""
        return self._store.delete_prefix(prefix)

    async def stats(self) -> dict[str, Any]:
        """Entries, bytes, evictions and expirations so far."""
        return self._store.stats()

    def add_eviction_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(n)`` after each write that evicted ``n`` entries."""
        self._store._listeners.append(listener)

    def __len__(self) -> int:
        return len(self._store)
