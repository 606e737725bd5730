"""Uniform access to any backend, from sync and from async code.

Users may hand the manager a sync backend, an async one, or a minimal class with only the
six protocol methods. The manager wants the full operation set (batch, incr, add, prefix
delete) from both of its shells. :func:`sync_ops` and :func:`async_ops` return an object
that has it:

* a backend that already has the full set is returned as is (no wrapper on the hot path);
* a minimal backend gets loop fallbacks;
* a sync backend used from async code is called inline when it never blocks (in-memory) or
  in a worker thread when it may (disk, Redis), so the event loop never stalls;
* an async backend used from sync code runs on one private event-loop thread.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import inspect
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, cast

__all__ = ["AsyncOps", "SyncOps", "async_ops", "is_async_backend", "sync_ops"]

T = TypeVar("T")
_FULL = ("get_many", "set_many", "delete_many", "incr", "add", "keys", "delete_prefix")


class SyncOps(Protocol):
    """Every operation the manager uses, synchronous."""

    def get(self, key: str) -> Any | None: ...
    def set(self, key: str, value: Any, ttl: float | None = None) -> None: ...
    def delete(self, key: str) -> bool | None: ...
    def exists(self, key: str) -> bool: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...
    def get_many(self, keys: Sequence[str]) -> list[Any | None]: ...
    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None: ...
    def delete_many(self, keys: Iterable[str]) -> int: ...
    def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int: ...
    def add(self, key: str, value: Any, ttl: float | None = None) -> bool: ...
    def keys(self, prefix: str = "") -> Iterable[str]: ...
    def delete_prefix(self, prefix: str) -> int: ...


class AsyncOps(Protocol):
    """Every operation the manager uses, awaitable."""

    async def get(self, key: str) -> Any | None: ...
    async def set(self, key: str, value: Any, ttl: float | None = None) -> None: ...
    async def delete(self, key: str) -> bool | None: ...
    async def exists(self, key: str) -> bool: ...
    async def clear(self) -> None: ...
    async def close(self) -> None: ...
    async def get_many(self, keys: Sequence[str]) -> list[Any | None]: ...
    async def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None: ...
    async def delete_many(self, keys: Iterable[str]) -> int: ...
    async def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int: ...
    async def add(self, key: str, value: Any, ttl: float | None = None) -> bool: ...
    async def keys(self, prefix: str = "") -> list[str]: ...
    async def delete_prefix(self, prefix: str) -> int: ...


def is_async_backend(backend: object) -> bool:
    """Whether ``backend.get`` is a coroutine function."""
    return inspect.iscoroutinefunction(getattr(backend, "get", None))


def _has_full_set(backend: object) -> bool:
    return all(callable(getattr(backend, name, None)) for name in _FULL)


# ---- sync side --------------------------------------------------------------------------
class _SyncFill:
    """Loop fallbacks for a minimal sync backend."""

    def __init__(self, backend: Any) -> None:
        self._b = backend
        self._lock = threading.Lock()
        self.get = backend.get
        self.set = backend.set
        self.delete = backend.delete
        self.exists = backend.exists
        self.clear = backend.clear
        self.close = backend.close

    def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        f = getattr(self._b, "get_many", None)
        return list(f(keys)) if f else [self._b.get(k) for k in keys]

    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        f = getattr(self._b, "set_many", None)
        if f:
            f(items, ttl)
            return
        for k, v in items.items():
            self._b.set(k, v, ttl)

    def delete_many(self, keys: Iterable[str]) -> int:
        f = getattr(self._b, "delete_many", None)
        if f:
            return int(f(keys))
        return sum(1 for k in keys if self._b.delete(k))

    def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        f = getattr(self._b, "incr", None)
        if f:
            # A user backend's incr may predate the ttl argument: pass it only when needed.
            return int(f(key, delta) if ttl is None else f(key, delta, ttl))
        with self._lock:
            current = self._b.get(key)
            value = int(current or 0) + delta
            self._b.set(key, value, ttl if current is None else None)
            return value

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        f = getattr(self._b, "add", None)
        if f:
            return bool(f(key, value, ttl))
        with self._lock:
            if self._b.exists(key):
                return False
            self._b.set(key, value, ttl)
            return True

    def keys(self, prefix: str = "") -> Iterable[str]:
        f = getattr(self._b, "keys", None)
        if f is None:
            raise NotImplementedError(f"{type(self._b).__name__} cannot list its keys")
        return cast(Iterable[str], f(prefix))

    def delete_prefix(self, prefix: str) -> int:
        f = getattr(self._b, "delete_prefix", None)
        if f:
            return int(f(prefix))
        return self.delete_many(list(self.keys(prefix)))


class _LoopThread:
    """One daemon thread running an event loop, for sync calls into async backends."""

    _instance: _LoopThread | None = None
    _guard = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="omnicache-async-bridge", daemon=True
        )
        self.thread.start()
        atexit.register(self._stop)

    def _stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)

    @classmethod
    def get(cls) -> _LoopThread:
        with cls._guard:
            if cls._instance is None:
                cls._instance = _LoopThread()
            return cls._instance

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:  # pragma: no cover - misuse guard
            coro.close()
            raise RuntimeError("sync cache call made from the omnicache bridge loop itself")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()


class _SyncOverAsync:
    """Sync facade over an async backend (runs it on the bridge loop)."""

    def __init__(self, aops: AsyncOps) -> None:
        self._a = aops
        self._run = _LoopThread.get().run

    def get(self, key: str) -> Any | None:
        return self._run(self._a.get(key))

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        self._run(self._a.set(key, value, ttl))

    def delete(self, key: str) -> bool | None:
        return self._run(self._a.delete(key))

    def exists(self, key: str) -> bool:
        return self._run(self._a.exists(key))

    def clear(self) -> None:
        self._run(self._a.clear())

    def close(self) -> None:
        self._run(self._a.close())

    def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        return self._run(self._a.get_many(keys))

    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        self._run(self._a.set_many(items, ttl))

    def delete_many(self, keys: Iterable[str]) -> int:
        return self._run(self._a.delete_many(list(keys)))

    def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        return self._run(self._a.incr(key, delta, ttl))

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        return self._run(self._a.add(key, value, ttl))

    def keys(self, prefix: str = "") -> Iterable[str]:
        return self._run(self._a.keys(prefix))

    def delete_prefix(self, prefix: str) -> int:
        return self._run(self._a.delete_prefix(prefix))


def sync_ops(backend: Any) -> SyncOps:
    """A synchronous full-operation view of ``backend``."""
    if is_async_backend(backend):
        return _SyncOverAsync(async_ops(backend))
    if _has_full_set(backend):
        return cast(SyncOps, backend)
    return _SyncFill(backend)


# ---- async side -------------------------------------------------------------------------
class _AsyncOverSync:
    """Async facade over a sync backend: inline when it never blocks, else a worker thread."""

    def __init__(self, ops: SyncOps, inline: bool) -> None:
        self._s = ops
        self._inline = inline

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._inline:
            return fn(*args)
        return await asyncio.to_thread(fn, *args)

    async def get(self, key: str) -> Any | None:
        return await self._call(self._s.get, key)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        await self._call(self._s.set, key, value, ttl)

    async def delete(self, key: str) -> bool | None:
        return await self._call(self._s.delete, key)

    async def exists(self, key: str) -> bool:
        return await self._call(self._s.exists, key)

    async def clear(self) -> None:
        await self._call(self._s.clear)

    async def close(self) -> None:
        await self._call(self._s.close)

    async def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        return await self._call(self._s.get_many, keys)

    async def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        await self._call(self._s.set_many, items, ttl)

    async def delete_many(self, keys: Iterable[str]) -> int:
        return await self._call(self._s.delete_many, list(keys))

    async def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        return await self._call(self._s.incr, key, delta, ttl)

    async def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        return await self._call(self._s.add, key, value, ttl)

    async def keys(self, prefix: str = "") -> list[str]:
        return await self._call(lambda: list(self._s.keys(prefix)))

    async def delete_prefix(self, prefix: str) -> int:
        return await self._call(self._s.delete_prefix, prefix)


class _AsyncFill:
    """Loop fallbacks for a minimal async backend."""

    def __init__(self, backend: Any) -> None:
        self._b = backend
        self._lock = asyncio.Lock()
        self.get = backend.get
        self.set = backend.set
        self.delete = backend.delete
        self.exists = backend.exists
        self.clear = backend.clear
        self.close = backend.close

    async def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        return [await self._b.get(k) for k in keys]

    async def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        for k, v in items.items():
            await self._b.set(k, v, ttl)

    async def delete_many(self, keys: Iterable[str]) -> int:
        return sum([1 for k in keys if await self._b.delete(k)])

    async def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        async with self._lock:
            current = await self._b.get(key)
            value = int(current or 0) + delta
            await self._b.set(key, value, ttl if current is None else None)
            return value

    async def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        async with self._lock:
            if await self._b.exists(key):
                return False
            await self._b.set(key, value, ttl)
            return True

    async def keys(self, prefix: str = "") -> list[str]:
        f = getattr(self._b, "keys", None)
        if f is None:
            raise NotImplementedError(f"{type(self._b).__name__} cannot list its keys")
        return list(await f(prefix))

    async def delete_prefix(self, prefix: str) -> int:
        return await self.delete_many(await self.keys(prefix))


def async_ops(backend: Any) -> AsyncOps:
    """An awaitable full-operation view of ``backend``."""
    if is_async_backend(backend):
        if _has_full_set(backend):
            return cast(AsyncOps, backend)
        return _AsyncFill(backend)
    return _AsyncOverSync(sync_ops(backend), inline=not getattr(backend, "blocking", True))


def maybe_await(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Wrap a sync or async callable so it can always be awaited."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result

    return wrapper
