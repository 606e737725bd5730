"""Tag-based invalidation with generation counters: O(1) per tag, no key scans.

Each tag has a counter in a backend. An entry written with tags records, in its envelope,
the counter value of each tag at write time. Invalidating a tag increments its counter;
from then on every entry that recorded the old value is stale and reads as a miss (and is
deleted lazily). Because the counters live in a backend, an invalidation made by one process
is seen by every process sharing that disk or Redis backend on its next read.

**Generations never come back.** A counter is created at a random origin (between 2**40
and 2**52, not at 0), and a counter that is missing when read makes every entry that
recorded it stale. So if the counters are lost (a Redis restarted without persistence,
an eviction) while entries survive elsewhere (a tiered backend's in-process L1, a disk),
the old entries are never served again: the recreated counter starts at a fresh random
origin that no surviving entry recorded. The origin is the counter set's epoch, folded into
each counter so the check costs no extra read.

**The key space is injective.** A tag's counter key is ``<scope>__omnicache__:tag:<tag>``
and its write-count key ``<scope>__omnicache__:cnt:<tag>``: the kind comes before the tag
and the tag is the last segment, so two different tags (``user:bob`` and ``user:bob:n``,
say) or two kinds never share a key. The scope is the manager's namespace and tenant
(:meth:`omnicache_ai.CacheManager.scope`), which contains no ``__omnicache__:`` segment.

The engine also counts the entries written under a tag's current generation, so
``invalidate`` can report how many entries it retired (entries that expired or were
overwritten in the meantime are still counted: it is an upper bound).
"""

from __future__ import annotations

import json
import random
import warnings
from collections.abc import Sequence
from typing import Any, Final

from omnicache_ai.core._ops import AsyncOps, SyncOps, async_ops, sync_ops
from omnicache_ai.core.key_builder import escape_segment

__all__ = ["LOST", "InvalidationEngine", "count_key"]

_RESERVED = "__omnicache__"
_TAG = f"{_RESERVED}:tag:"
_CNT = f"{_RESERVED}:cnt:"
#: The generation reported for a counter that does not exist: never recorded by an entry.
LOST: Final = -1
# Origins stay below 2**52 so a Lua script (doubles) compares generations exactly.
_ORIGIN_LOW: Final = 1 << 40
_ORIGIN_HIGH: Final = 1 << 52
_random = random.SystemRandom()


def _as_int(value: Any) -> int:
    if type(value) is int:
        return value
    if value is None:
        return LOST
    return int(value)  # Redis and disk hand counters back as bytes or str


def _origin() -> int:
    return _random.randrange(_ORIGIN_LOW, _ORIGIN_HIGH)


def count_key(tag_key: str) -> str:
    """The write-count key that belongs to the counter key ``tag_key``."""
    # The scope holds no "__omnicache__:tag:" (see the module notes), so the first one
    # found is the kind segment.
    i = tag_key.index(_TAG)
    return tag_key[:i] + _CNT + tag_key[i + len(_TAG) :]


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
    def tag_key(scope: str, tag: str) -> str:
        """The counter key of ``tag`` in ``scope`` (the manager's namespace and tenant).

        Example:
            >>> InvalidationEngine.tag_key("app::", "user:bob")
            'app::__omnicache__:tag:user:bob'
        """
        if not isinstance(tag, str) or not tag:
            raise ValueError(f"a tag must be a non-empty string, got {tag!r}")
        return f"{scope}{_TAG}{tag}"

    # ---- sync ------------------------------------------------------------------------
    def generations(self, tag_keys: Sequence[str]) -> list[int]:
        """Current generation of each tag counter (:data:`LOST` when it does not exist)."""
        assert self._sync is not None, "engine not bound to a backend"
        if len(tag_keys) == 1:  # the usual entry (a model tag): one plain read
            return [_as_int(self._sync.get(tag_keys[0]))]
        return [_as_int(v) for v in self._sync.get_many(tag_keys)]

    def current(self, tag_keys: Sequence[str]) -> list[int]:
        """The generations a new entry records, creating missing counters at a random origin."""
        gens = self.generations(tag_keys)
        for i, g in enumerate(gens):
            if g == LOST:
                gens[i] = self._create(tag_keys[i])
        return gens

    def _create(self, key: str) -> int:
        assert self._sync is not None, "engine not bound to a backend"
        # Set-if-absent, so writers racing to create a counter all record the winner's
        # origin; INCR by the origin is the fallback if the counter vanished in between.
        origin = _origin()
        if self._sync.add(key, origin):
            return origin
        value = self._sync.get(key)
        return int(self._sync.incr(key, origin)) if value is None else _as_int(value)

    def note_written(self, tag_keys: Sequence[str]) -> None:
        """Count one more entry under each tag's current generation."""
        assert self._sync is not None, "engine not bound to a backend"
        for k in tag_keys:
            self._sync.incr(count_key(k))

    def bump(self, tag_key: str) -> int:
        """Retire the tag's current generation; returns how many entries were written to it."""
        assert self._sync is not None, "engine not bound to a backend"
        if self._sync.get(tag_key) is None:
            self._create(tag_key)  # a fresh origin is already a new generation
        else:
            self._sync.incr(tag_key)
        ck = count_key(tag_key)
        n = max(_as_int(self._sync.get(ck)), 0)
        if n:
            self._sync.incr(ck, -n)
        return n

    # ---- async -----------------------------------------------------------------------
    async def agenerations(self, tag_keys: Sequence[str]) -> list[int]:
        """Async :meth:`generations`."""
        assert self._async is not None, "engine not bound to a backend"
        return [_as_int(v) for v in await self._async.get_many(tag_keys)]

    async def acurrent(self, tag_keys: Sequence[str]) -> list[int]:
        """Async :meth:`current`."""
        assert self._async is not None, "engine not bound to a backend"
        gens = await self.agenerations(tag_keys)
        for i, g in enumerate(gens):
            if g == LOST:
                gens[i] = await self._acreate(tag_keys[i])
        return gens

    async def _acreate(self, key: str) -> int:
        assert self._async is not None, "engine not bound to a backend"
        origin = _origin()
        if await self._async.add(key, origin):
            return origin
        value = await self._async.get(key)
        if value is None:
            return int(await self._async.incr(key, origin))
        return _as_int(value)

    async def anote_written(self, tag_keys: Sequence[str]) -> None:
        """Async :meth:`note_written`."""
        assert self._async is not None, "engine not bound to a backend"
        for k in tag_keys:
            await self._async.incr(count_key(k))

    async def abump(self, tag_key: str) -> int:
        """Async :meth:`bump`."""
        assert self._async is not None, "engine not bound to a backend"
        if await self._async.get(tag_key) is None:
            await self._acreate(tag_key)
        else:
            await self._async.incr(tag_key)
        ck = count_key(tag_key)
        n = max(_as_int(await self._async.get(ck)), 0)
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
