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


# Questions and a paraphrase of each (one word added), for the compaction scenario.
TOPICS = {
    "keep": ("what is the boiling point of water at sea level",
             "what is the boiling point of pure water at sea level"),
    "deleted": ("how tall is the eiffel tower in paris",
                "how tall is the famous eiffel tower in paris"),
    "expired": ("who wrote the novel war and peace",
                "who wrote the long novel war and peace"),
    "tagged": ("how many moons does the planet jupiter have",
               "how many known moons does the planet jupiter have"),
    "cleared": ("what is the speed of light in a vacuum",
                "what is the exact speed of light in a vacuum"),
    "last": ("how deep is the mariana trench in the ocean",
             "how deep is the mariana trench in the pacific ocean"),
}  # fmt: skip
TENANT_OF = {"cleared": "globex"}


def _ask(cache: SemanticCache, names: list[str]) -> dict[str, Any]:
    out = {}
    for name in names:
        r = cache.for_tenant(TENANT_OF.get(name, "acme")).lookup(TOPICS[name][1])
        out[name] = (r.tier, r.value)
    return out


def compaction_roles(where: str, role: str, barrier: Any, queue: Any) -> None:
    """'writer' stores, changes and compacts twice; 'idle' reads early, then after the trim.

    Steps (barrier between each): the writer stores every topic; the idle process catches
    up and asks every paraphrase; the writer deletes one entry, lets one expire,
    invalidates one tag, clears one tenant, stores one more, and compacts twice (trimming
    the log the idle process had not read); the idle process asks again.
    """
    import time

    try:
        manager = open_manager(where)
        index = SharedVectorIndex(manager, dim=DIM, poll_interval=3600, compact_every=0)
        cache = SemanticCache(manager, embedder=HashingEmbedder(dim=DIM), vector_backend=index)
        acme, globex = cache.for_tenant("acme"), cache.for_tenant("globex")
        result: dict[str, Any] = {}
        stored_at = time.time()
        if role == "writer":
            for name in ("keep", "deleted", "tagged", "expired"):
                acme.set(TOPICS[name][0], name, ttl=4.0 if name == "expired" else None,
                         tags=["physics"] if name == "tagged" else None)  # fmt: skip
            stored_at = time.time()  # every TTL ran from before this moment
            globex.set(TOPICS["cleared"][0], "cleared")
        barrier.wait(60)
        if role == "idle":
            index.catch_up(force=True)
            result["before"] = _ask(cache, ["keep", "deleted", "expired", "tagged", "cleared"])
        barrier.wait(60)
        if role == "writer":
            acme.delete(TOPICS["deleted"][0])
            acme.invalidate("physics")
            globex.clear()
            time.sleep(max(0.0, 4.1 - (time.time() - stored_at)))  # "expired" expires
            result["first"] = index.compact()
            acme.set(TOPICS["last"][0], "last")
            result["second"] = index.compact()
            slot_1 = index._key(1)
            result["slot_1_kept"] = slot_1 in (index._records.load(manager, [slot_1]) or {})
        barrier.wait(60)
        if role == "idle":
            index.catch_up(force=True)
            result["snapshot_loads"] = index.stats.get("snapshot_loads", 0)
            result["after"] = _ask(cache, list(TOPICS))  # drops vectors of retired answers
            result["ids"] = sorted(index.local._row_of)  # type: ignore[attr-defined]
        queue.put(("ok", (role, result)))
        manager.close()
    except Exception:  # noqa: BLE001
        queue.put(("error", traceback.format_exc()))
