"""Moved: the Redis stampede lock is Redis code, now in :mod:`omnicache_ai.backends.redis_lock`.

This name stays importable for code written against earlier releases; the core itself never
imports it (it reaches a distributed lock only through the
:class:`~omnicache_ai.core.stampede.LockProvider` protocol, via ``backend.lock_provider()``).
Attributes are resolved on first access, so importing the core never imports Redis code.

Example:
    ``from omnicache_ai.backends.redis_lock import RedisLockProvider`` (preferred)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omnicache_ai.backends.redis_lock import RedisLease, RedisLockProvider

__all__ = ["RedisLease", "RedisLockProvider"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from omnicache_ai.backends import redis_lock

        return getattr(redis_lock, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
