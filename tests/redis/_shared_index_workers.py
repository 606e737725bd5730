"""Worker functions for the shared-index tests (importable by spawned children)."""

from __future__ import annotations

import traceback
from typing import Any

from omnicache_ai import CacheManager, DiskBackend
from omnicache_ai.embedders import HashingEmbedder
from omnicache_ai.layers.semantic_cache import SemanticCache
from omnicache_ai.layers.semantic_index import SharedVectorIndex

DIM = 64


def open_manager(where: str) -> CacheManager:
    """A manager on a disk directory or a redis:// URL."""
    if where.startswith("redis://"):
        from omnicache_ai.backends.redis_backend import RedisBackend

        return CacheManager(
            backend=RedisBackend(where, socket_timeout=2.0, socket_connect_timeout=2.0)
        )
    return CacheManager(backend=DiskBackend(where))


def open_cache(manager: CacheManager) -> SemanticCache:
    """A semantic cache over a shared index that polls before every search."""
    index = SharedVectorIndex(manager, dim=DIM, poll_interval=0)
    return SemanticCache(manager, embedder=HashingEmbedder(dim=DIM), vector_backend=index)


def writer(where: str, worker: int, n: int, barrier: Any, queue: Any) -> None:
    """Store n entries with given vectors straight into a shared index."""
    try:
        manager = open_manager(where)
        index = SharedVectorIndex(manager, dim=DIM, poll_interval=0)
        barrier.wait(60)
        import numpy as np

        rng = np.random.default_rng(worker)
        for i in range(n):
            index.add([f"w{worker}:{i}"], rng.standard_normal((1, DIM)), [{"w": worker}])
        queue.put(("ok", index.stats["unlogged"]))
        manager.close()
    except Exception:  # noqa: BLE001 - reported to the parent test
        queue.put(("error", traceback.format_exc()))


def store_then_answer(where: str, role: str, barrier: Any, queue: Any) -> None:
    """'a' stores a question; 'b' (started at once) then asks a paraphrase of it."""
    try:
        manager = open_manager(where)
        cache = open_cache(manager)
        if role == "a":
            cache.set("what is the boiling point of water at sea level", "100 C")
            barrier.wait(60)
            queue.put(("ok", None))
        else:
            barrier.wait(60)
            r = cache.lookup("what is the boiling point of pure water at sea level")
            queue.put(("ok", (r.hit, r.tier, r.value)))
        manager.close()
    except Exception:  # noqa: BLE001
        queue.put(("error", traceback.format_exc()))
