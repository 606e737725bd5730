"""Storage backends. Optional ones (Redis, vector stores) are imported from their modules."""

from omnicache_ai.backends.async_memory_backend import AsyncInMemoryBackend
from omnicache_ai.backends.base import (
    AsyncBaseBackend,
    AsyncCacheBackend,
    BaseBackend,
    CacheBackend,
)
from omnicache_ai.backends.disk_backend import DiskBackend
from omnicache_ai.backends.memory_backend import InMemoryBackend
from omnicache_ai.backends.null_backend import NullBackend
from omnicache_ai.backends.tiered_backend import TieredBackend

__all__ = [
    "AsyncBaseBackend",
    "AsyncCacheBackend",
    "AsyncInMemoryBackend",
    "BaseBackend",
    "CacheBackend",
    "DiskBackend",
    "InMemoryBackend",
    "NullBackend",
    "TieredBackend",
]
