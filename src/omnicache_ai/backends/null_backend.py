"""A backend that stores nothing: every read misses. For tests and for switching caching off."""

from __future__ import annotations

from typing import Any

from omnicache_ai.backends.base import BaseBackend

__all__ = ["NullBackend"]


class NullBackend(BaseBackend):
    """Accepts every write and forgets it.

    Example:
        >>> b = NullBackend(); b.set("k", b"v"); b.get("k") is None
        True
    """

    blocking = False

    def get(self, key: str) -> Any | None:
        """Always ``None``."""
        return None

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Discard the value."""

    def delete(self, key: str) -> bool:
        """Nothing to delete."""
        return False

    def exists(self, key: str) -> bool:
        """Always ``False``."""
        return False

    def clear(self) -> None:
        """Nothing to clear."""

    def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Counters do not persist either."""
        return delta

    def keys(self, prefix: str = "") -> Any:
        """No keys."""
        return iter(())
