"""Two tiers: a small fast L1 (usually in-process memory) in front of a shared L2.

Reads try L1, then L2, and copy L2 hits into L1 for ``l1_ttl`` seconds. Writes go to L2
first (the source of truth) and then L1. Counters (``incr``, used for tag generations) and
set-if-absent live only in L2, so invalidations stay shared across processes.

Staleness: another process's write or delete reaches this process's L1 only when the L1
copy expires (at most ``l1_ttl`` seconds) unless a coherence channel is attached, which
evicts L1 copies as soon as any process changes a key (see ``backends/redis_coherence.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from omnicache_ai.backends.base import BaseBackend
from omnicache_ai.core._ops import SyncOps, sync_ops

__all__ = ["CoherenceChannel", "TieredBackend"]


class CoherenceChannel(Protocol):
    """Tells other processes which keys changed, and hears what they changed."""

    def publish(self, keys: Sequence[str]) -> None:
        """Announce that ``keys`` changed (an empty list means "everything")."""
        ...

    def subscribe(self, on_change: Callable[[Sequence[str]], None]) -> None:
        """Call ``on_change(keys)`` for every change another process announces."""
        ...

    def close(self) -> None:
        """Stop listening."""
        ...


class TieredBackend(BaseBackend):
    """L1 + L2 backend.

    Args:
        l1: Fast local backend (e.g. ``InMemoryBackend(max_size=1000)``).
        l2: Shared backend (e.g. ``RedisBackend`` or ``DiskBackend``).
        l1_ttl: Longest an L1 copy lives, in seconds: the staleness bound without a
            coherence channel.
        coherence: Optional channel that evicts L1 copies when another process changes a key.

    Example:
        >>> from omnicache_ai import InMemoryBackend
        >>> t = TieredBackend(l1=InMemoryBackend(max_size=1000), l2=InMemoryBackend(), l1_ttl=300)
        >>> t.set("k", b"v"); _ = t.l1.delete("k"); t.get("k"), t.l1.get("k")
        (b'v', b'v')
    """

    def __init__(
        self,
        l1: Any,
        l2: Any,
        l1_ttl: float | None = 60.0,
        *,
        coherence: CoherenceChannel | None = None,
    ) -> None:
        self.l1 = l1
        self.l2 = l2
        self.l1_ttl = l1_ttl
        self._l1: SyncOps = sync_ops(l1)
        self._l2: SyncOps = sync_ops(l2)
        self.blocking = bool(getattr(l2, "blocking", True) or getattr(l1, "blocking", True))
        self.name = f"Tiered({type(l1).__name__}+{type(l2).__name__})"
        self.coherence = coherence
        # Counts remote change notices: a read of L2 that raced with one must not promote
        # its (possibly stale) value into L1.
        self._remote_changes = 0
        if coherence is not None:
            coherence.subscribe(self._on_remote_change)

    @property
    def shared_backend(self) -> Any:
        """Where state shared between processes (tag counters, locks) must live: L2."""
        return self.l2

    def _l1_ttl(self, ttl: float | None) -> float | None:
        if ttl is None:
            return self.l1_ttl
        if self.l1_ttl is None:
            return ttl
        return min(ttl, self.l1_ttl)

    def _on_remote_change(self, keys: Sequence[str]) -> None:
        self._remote_changes += 1
        if keys:
            self._l1.delete_many(keys)
        else:
            self._l1.clear()

    def _announce(self, keys: Sequence[str]) -> None:
        if self.coherence is not None:
            self.coherence.publish(keys)

    def get(self, key: str) -> Any | None:
        """L1, then L2 (promoting the hit into L1)."""
        value = self._l1.get(key)
        if value is not None:
            return value
        before = self._remote_changes
        value = self._l2.get(key)
        if value is not None and self._remote_changes == before:
            self._l1.set(key, value, self.l1_ttl)
        return value

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Write L2, then L1."""
        self._l2.set(key, value, ttl)
        self._l1.set(key, value, self._l1_ttl(ttl))
        self._announce([key])

    def delete(self, key: str) -> bool:
        """Delete from both tiers."""
        in_l1 = bool(self._l1.delete(key))
        in_l2 = bool(self._l2.delete(key))
        self._announce([key])
        return in_l1 or in_l2

    def exists(self, key: str) -> bool:
        """Present in either tier."""
        return bool(self._l1.exists(key) or self._l2.exists(key))

    def clear(self) -> None:
        """Clear both tiers."""
        self._l2.clear()
        self._l1.clear()
        self._announce([])

    def close(self) -> None:
        """Close both tiers (and the coherence channel)."""
        if self.coherence is not None:
            self.coherence.close()
        self._l1.close()
        self._l2.close()

    def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        """L1 for all keys, one L2 batch for the rest."""
        values = self._l1.get_many(keys)
        missing = [i for i, v in enumerate(values) if v is None]
        if missing:
            before = self._remote_changes
            fetched = self._l2.get_many([keys[i] for i in missing])
            promote = {}
            for i, v in zip(missing, fetched, strict=True):
                values[i] = v
                if v is not None:
                    promote[keys[i]] = v
            if promote and self._remote_changes == before:
                self._l1.set_many(promote, self.l1_ttl)
        return values

    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        """Write both tiers in batches."""
        self._l2.set_many(items, ttl)
        self._l1.set_many(items, self._l1_ttl(ttl))
        self._announce(list(items))

    def delete_many(self, keys: Iterable[str]) -> int:
        """Delete from both tiers."""
        keys = list(keys)
        self._l1.delete_many(keys)
        n = int(self._l2.delete_many(keys))
        self._announce(keys)
        return n

    def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Counters live in L2 only."""
        return int(self._l2.incr(key, delta) if ttl is None else self._l2.incr(key, delta, ttl))

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Set-if-absent decided by L2."""
        return bool(self._l2.add(key, value, ttl))

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Keys of L2 (the complete tier)."""
        return iter(self._l2.keys(prefix))

    def delete_prefix(self, prefix: str) -> int:
        """Delete the prefix from both tiers."""
        self._l1.delete_prefix(prefix)
        n = int(self._l2.delete_prefix(prefix))
        self._announce([])
        return n

    def stats(self) -> dict[str, Any]:
        """Both tiers' own stats."""
        out: dict[str, Any] = {}
        for name, b in (("l1", self.l1), ("l2", self.l2)):
            f = getattr(b, "stats", None)
            if callable(f):
                try:
                    out[name] = f()
                except Exception:  # noqa: BLE001 - stats must never fail
                    out[name] = {}
        return out

    def lock_provider(self) -> Any:
        """The L2's distributed lock, when it offers one."""
        f = getattr(self.l2, "lock_provider", None)
        return f() if callable(f) else None
