"""Tag-based invalidation with generation counters: O(1) per tag, no key scans.

Each tag has a counter in a backend. An entry written with tags records, in its envelope,
the counter value of each tag at write time. Invalidating a tag increments its counter;
from then on every entry that recorded the old value is stale and reads as a miss (and is
deleted lazily). Because the counters live in a backend, an invalidation made by one process
is seen by every process sharing that disk or Redis backend on its next read.

The engine also counts the entries written under a tag's current generation, so
``invalidate`` can report how many entries it retired (entries that expired or were
overwritten in the meantime are still counted: it is an upper bound).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from typing import Any

from omnicache_ai.core._ops import AsyncOps, SyncOps, async_ops, sync_ops
from omnicache_ai.core.key_builder import escape_segment

__all__ = ["InvalidationEngine"]

_RESERVED = "__omnicache__"


def _as_int(value: Any) -> int:
    if type(value) is int:
        return value
    if value is None:
        return 0
    return int(value)  # Redis and disk hand counters back as bytes or str


class InvalidationEngine:
    """Stores tag generations; the manager consults it on tagged reads and writes.

    Args:
        backend: Where tag counters live (sync or async backend). ``None`` means the
            manager's own backend, which is what makes invalidation work across processes
            sharing a disk or Redis backend; pass a separate backend only for a
            single-process cache.

    Example:
        >>> from omnicache_ai import CacheManager, InMemoryBackend, CacheKeyBuilder
        >>> m = CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder(),
        ...                  invalidation_engine=InvalidationEngine(InMemoryBackend()))
        >>> m.set("k", "v", tags=["model:gpt-4o"])
        >>> m.invalidate("model:gpt-4o"), m.get("k")
        (1, None)
    """

    def __init__(self, backend: Any | None = None, *, tag_store: Any | None = None) -> None:
        if tag_store is not None:
            if backend is not None:
                raise TypeError(
                    "pass the counter backend once: backend= (tag_store= is its old name)"
                )
            _deprecated("InvalidationEngine(tag_store=...)", "InvalidationEngine(backend)")
            backend = tag_store
        self.backend = backend
        self._sync: SyncOps | None = None
        self._async: AsyncOps | None = None
        if backend is not None:
            self._bind(backend)

    def _bind(self, backend: Any) -> None:
        self.backend = backend
        self._sync = sync_ops(backend)
        self._async = async_ops(backend)

    def bind_default(self, backend: Any) -> None:
        """Use ``backend`` for counters unless one was given at construction.

        A tiered backend's ``shared_backend`` (its L2) is used, so counters are never held
        in a process-local tier.
        """
        if self._sync is None:
            self._bind(getattr(backend, "shared_backend", backend))

    @staticmethod
    def tag_key(scope: str, namespace: str, tag: str) -> str:
        """The counter key of ``tag`` in ``scope`` (tenant prefix) and ``namespace``."""
        if not isinstance(tag, str) or not tag:
            raise ValueError(f"a tag must be a non-empty string, got {tag!r}")
        return f"{scope}{_RESERVED}:{escape_segment(namespace)}:tag:{tag}"

    @staticmethod
    def _count_key(tag_key: str) -> str:
        return tag_key + ":n"

    # ---- sync ------------------------------------------------------------------------
    def generations(self, tag_keys: Sequence[str]) -> list[int]:
        """Current generation of each tag counter (0 when never invalidated)."""
        assert self._sync is not None, "engine not bound to a backend"
        if len(tag_keys) == 1:  # the usual entry (a model tag): one plain read
            return [_as_int(self._sync.get(tag_keys[0]))]
        return [_as_int(v) for v in self._sync.get_many(tag_keys)]

    def note_written(self, tag_keys: Sequence[str]) -> None:
        """Count one more entry under each tag's current generation."""
        assert self._sync is not None, "engine not bound to a backend"
        for k in tag_keys:
            self._sync.incr(self._count_key(k))

    def bump(self, tag_key: str) -> int:
        """Retire the tag's current generation; returns how many entries were written to it."""
        assert self._sync is not None, "engine not bound to a backend"
        self._sync.incr(tag_key)
        ck = self._count_key(tag_key)
        n = _as_int(self._sync.get(ck))
        if n:
            self._sync.incr(ck, -n)
        return n

    # ---- async -----------------------------------------------------------------------
    async def agenerations(self, tag_keys: Sequence[str]) -> list[int]:
        """Async :meth:`generations`."""
        assert self._async is not None, "engine not bound to a backend"
        return [_as_int(v) for v in await self._async.get_many(tag_keys)]

    async def anote_written(self, tag_keys: Sequence[str]) -> None:
        """Async :meth:`note_written`."""
        assert self._async is not None, "engine not bound to a backend"
        for k in tag_keys:
            await self._async.incr(self._count_key(k))

    async def abump(self, tag_key: str) -> int:
        """Async :meth:`bump`."""
        assert self._async is not None, "engine not bound to a backend"
        await self._async.incr(tag_key)
        ck = self._count_key(tag_key)
        n = _as_int(await self._async.get(ck))
        if n:
            await self._async.incr(ck, -n)
        return n

    # ---- omnicache-ai 0.3.0 call forms ------------------------------------------------------
    # 0.3.0 kept, per tag, a list of raw backend keys and deleted them on invalidation. Kept
    # working for code written against it; new code tags entries through the manager
    # (``manager.set(key, value, tags=[...])`` then ``manager.invalidate(tag)``), which is O(1),
    # scoped to the manager's namespace and tenant, and seen by every process at once.
    @staticmethod
    def _legacy_key(tag: str) -> str:
        if not isinstance(tag, str) or not tag:
            raise ValueError(f"a tag must be a non-empty string, got {tag!r}")
        return f"{_RESERVED}:legacy-tag:{escape_segment(tag)}"

    def _legacy_keys(self, tag: str) -> list[str]:
        assert self._sync is not None, "engine not bound to a backend"
        raw = self._sync.get(self._legacy_key(tag))
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        try:
            keys = json.loads(raw) if isinstance(raw, str) else []
        except ValueError:
            return []  # a corrupt list: nothing registered we can trust
        return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []

    def register(self, key: str, tags: Sequence[str]) -> None:
        """Deprecated (0.3.0): remember that backend ``key`` carries ``tags``.

        Write ``manager.set(key, value, tags=[...])`` instead.
        """
        _deprecated("InvalidationEngine.register(key, tags)", "manager.set(key, value, tags=[...])")
        if isinstance(tags, str):
            raise TypeError("tags must be a list of strings, not one string")
        if self._sync is None:
            raise RuntimeError("InvalidationEngine(backend) needs a backend for register()")
        for tag in tags:
            keys = self._legacy_keys(tag)
            if key not in keys:
                keys.append(key)
                self._sync.set(self._legacy_key(tag), json.dumps(keys), None)

    def invalidate_tag(self, tag: str, backend: Any | None = None) -> int:
        """Deprecated (0.3.0): delete every key registered under ``tag``; returns how many.

        ``backend`` holds the entries (default: the engine's own). Write
        ``manager.invalidate(tag)`` instead.
        """
        _deprecated("InvalidationEngine.invalidate_tag(tag, backend)", "manager.invalidate(tag)")
        if self._sync is None:
            raise RuntimeError("InvalidationEngine(backend) needs a backend for invalidate_tag()")
        keys = self._legacy_keys(tag)
        target = self._sync if backend is None else sync_ops(backend)
        for key in keys:
            target.delete(key)
        self._sync.delete(self._legacy_key(tag))
        return len(keys)

    def invalidate_key(self, key: str, backend: Any | None = None) -> None:
        """Deprecated (0.3.0): delete backend ``key``. Write ``manager.delete(key)`` instead."""
        _deprecated("InvalidationEngine.invalidate_key(key, backend)", "manager.delete(key)")
        target = backend if backend is not None else self.backend
        if target is None:
            raise RuntimeError("invalidate_key() needs a backend")
        sync_ops(target).delete(key)


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated: write {new}", DeprecationWarning, stacklevel=3)
