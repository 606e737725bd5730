"""Storage contracts: what a key-value backend must do, and defaults for what it may do.

A backend stores what the :class:`~omnicache_ai.CacheManager` hands it. When the manager
drives it, values are always ``bytes`` (an envelope: format tag, serializer, compressor,
tag generations, payload), so any byte store works. The in-memory backends also accept
arbitrary Python values when used on their own, as the README's async example does.

The contract is structural: any object with the six methods of :class:`CacheBackend` is a
backend, no inheritance needed. :class:`BaseBackend` is an optional base class that supplies
the batch and maintenance operations (``get_many``, ``incr``, ``delete_prefix`` ...) as
loops over the six primitives, so a minimal backend gets them for free and a real one
overrides them with native batch calls.

Example:
    >>> from omnicache_ai.backends.base import CacheBackend
    >>> class MyBackend:
    ...     def get(self, key): return None
    ...     def set(self, key, value, ttl=None): pass
    ...     def delete(self, key): pass
    ...     def exists(self, key): return False
    ...     def clear(self): pass
    ...     def close(self): pass
    >>> isinstance(MyBackend(), CacheBackend)
    True
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "AsyncBaseBackend",
    "AsyncCacheBackend",
    "BaseBackend",
    "CacheBackend",
    "VectorBackend",  # noqa: F822 - provided lazily by __getattr__ below
]

#: Seconds until expiry; ``None`` means "never expires".
TTL = float | None


@runtime_checkable
class CacheBackend(Protocol):
    """The six primitives every synchronous key-value backend provides.

    ``get`` returns ``None`` for a missing or expired key. ``ttl`` is in seconds (floats
    allowed); ``None`` means no expiry. Implementations must be safe to call from several
    threads at once.
    """

    def get(self, key: str) -> Any | None:
        """Return the stored value, or ``None`` when absent or expired."""
        ...

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``, replacing any previous value."""
        ...

    def delete(self, key: str) -> bool | None:
        """Remove ``key``; returning whether it existed is optional."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` is present and unexpired."""
        ...

    def clear(self) -> None:
        """Remove every entry this backend holds."""
        ...

    def close(self) -> None:
        """Release connections, files and threads. Idempotent."""
        ...


@runtime_checkable
class AsyncCacheBackend(Protocol):
    """The asynchronous twin of :class:`CacheBackend`: the same six methods, awaited."""

    async def get(self, key: str) -> Any | None:
        """Return the stored value, or ``None`` when absent or expired."""
        ...

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``."""
        ...

    async def delete(self, key: str) -> bool | None:
        """Remove ``key``."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether ``key`` is present and unexpired."""
        ...

    async def clear(self) -> None:
        """Remove every entry."""
        ...

    async def close(self) -> None:
        """Release resources. Idempotent."""
        ...


class BaseBackend:
    """Optional base class: batch and maintenance operations built from the primitives.

    Subclasses implement ``get/set/delete/exists/clear/close`` and may override any of the
    operations below with a native, faster version (a pipeline, a multi-get, a server-side
    atomic increment).

    Attributes:
        blocking: Whether calls may block on I/O. The async manager runs the calls of a
            blocking sync backend in a worker thread so the event loop never stalls; a
            non-blocking one (in-memory) is called inline.
    """

    blocking: bool = True

    # The six primitives, for type checkers; subclasses provide them.
    def get(self, key: str) -> Any | None:  # pragma: no cover - abstract
        """Return the stored value, or ``None``."""
        raise NotImplementedError

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:  # pragma: no cover
        """Store a value."""
        raise NotImplementedError

    def delete(self, key: str) -> bool | None:  # pragma: no cover - abstract
        """Remove a key."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        """Whether ``key`` is present (default: a ``get``)."""
        return self.get(key) is not None

    def clear(self) -> None:  # pragma: no cover - abstract
        """Remove everything."""
        raise NotImplementedError

    def close(self) -> None:
        """Release resources (default: nothing to release)."""

    # ---- batch operations -------------------------------------------------------------
    def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        """Values for ``keys`` in order, ``None`` for each miss."""
        return [self.get(k) for k in keys]

    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        """Store several values with one TTL."""
        for k, v in items.items():
            self.set(k, v, ttl)

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove several keys; returns how many existed."""
        return sum(1 for k in keys if self.delete(k))

    # ---- maintenance ------------------------------------------------------------------
    _incr_lock: threading.Lock | None = None

    def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Add ``delta`` to the integer at ``key`` (0 when absent) and return the result.

        ``ttl`` applies only when the counter is created. The default is atomic only within
        this process; backends shared between processes (disk, Redis) override it with their
        store's atomic increment.
        """
        lock = self._incr_lock
        if lock is None:
            lock = self._incr_lock = threading.Lock()
        with lock:
            current = self.get(key)
            value = int(current or 0) + delta
            self.set(key, value, ttl if current is None else None)
            return value

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store only if ``key`` is absent; returns whether it was stored.

        The default is check-then-set (atomic only within this process).
        """
        if self.exists(key):
            return False
        self.set(key, value, ttl)
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Iterate over the keys that start with ``prefix``.

        Backends that cannot enumerate raise ``NotImplementedError``.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot list its keys")

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix``; returns how many were removed."""
        return self.delete_many(list(self.keys(prefix)))

    def stats(self) -> dict[str, Any]:
        """What the backend knows of itself (entries, bytes, evictions); may be empty."""
        return {}

    def __enter__(self) -> BaseBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncBaseBackend:
    """Optional base class for async backends; batch operations as loops over primitives."""

    async def get(self, key: str) -> Any | None:  # pragma: no cover - abstract
        """Return the stored value, or ``None``."""
        raise NotImplementedError

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:  # pragma: no cover
        """Store a value."""
        raise NotImplementedError

    async def delete(self, key: str) -> bool | None:  # pragma: no cover - abstract
        """Remove a key."""
        raise NotImplementedError

    async def exists(self, key: str) -> bool:
        """Whether ``key`` is present."""
        return (await self.get(key)) is not None

    async def clear(self) -> None:  # pragma: no cover - abstract
        """Remove everything."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release resources."""

    async def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        """Values for ``keys`` in order, ``None`` for each miss."""
        return [await self.get(k) for k in keys]

    async def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        """Store several values with one TTL."""
        for k, v in items.items():
            await self.set(k, v, ttl)

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Remove several keys; returns how many existed."""
        n = 0
        for k in keys:
            if await self.delete(k):
                n += 1
        return n

    _incr_lock: asyncio.Lock | None = None

    async def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Add ``delta`` to the integer at ``key`` and return it (atomic within the loop)."""
        if self._incr_lock is None:
            self._incr_lock = asyncio.Lock()
        async with self._incr_lock:
            current = await self.get(key)
            value = int(current or 0) + delta
            await self.set(key, value, ttl if current is None else None)
            return value

    async def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store only if absent; returns whether it was stored."""
        if await self.exists(key):
            return False
        await self.set(key, value, ttl)
        return True

    async def keys(self, prefix: str = "") -> list[str]:
        """Keys that start with ``prefix``."""
        raise NotImplementedError(f"{type(self).__name__} cannot list its keys")

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix``."""
        return await self.delete_many(await self.keys(prefix))

    async def stats(self) -> dict[str, Any]:
        """What the backend knows of itself; may be empty."""
        return {}

    async def __aenter__(self) -> AsyncBaseBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# Re-exported for the README's path ``omnicache_ai.backends.base.VectorBackend``; the
# vector contract lives with the vector backends.
def __getattr__(name: str) -> Any:
    if name == "VectorBackend":
        from omnicache_ai.backends.vector.base import VectorBackend

        return VectorBackend
    raise AttributeError(name)
