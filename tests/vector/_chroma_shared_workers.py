"""Worker for the Chroma-server shared-index test (importable by spawned children)."""

from __future__ import annotations

import time
import traceback
from typing import Any

from omnicache_ai import CacheManager, DiskBackend
from omnicache_ai.embedders import HashingEmbedder
from omnicache_ai.layers.semantic_cache import SemanticCache

# A question and a paraphrase of it (one word added) per role in the scenario.
KEEP = (
    "what is the boiling point of water at sea level",
    "what is the boiling point of pure water at sea level",
)
DELETED = ("how tall is the eiffel tower in paris", "how tall is the famous eiffel tower in paris")
EXPIRING = ("who wrote the novel war and peace",
            "who wrote the long novel war and peace")  # fmt: skip
TTL = 4.0  # long enough for the other process to ask before it expires


def _ask(cache: SemanticCache, tenant: str, pair: tuple[str, str]) -> tuple[str | None, Any]:
    r = cache.for_tenant(tenant).lookup(pair[1])
    return r.tier, r.value


def roles(setup: tuple[str, str, int, str], role: str, barrier: Any, queue: Any) -> None:
    """'a' stores, later deletes one entry and lets one expire; 'b' asks before and after.

    Answers live in a disk directory both share; vectors only on the Chroma server: each
    process has no index of its own, so a semantic hit in 'b' can only come from the server.
    """
    where, host, port, collection = setup
    try:
        from omnicache_ai.backends.vector_backend import ChromaBackend

        manager = CacheManager(backend=DiskBackend(where))
        server = ChromaBackend(dim=64, collection=collection, host=host, port=port)
        cache = SemanticCache(
            manager, embedder=HashingEmbedder(dim=64), vector_backend=server, shared_index=True
        )
        acme = cache.for_tenant("acme")
        out: dict[str, Any] = {"shared": cache.shared_index}
        stored_at = time.time()
        if role == "a":
            acme.set(KEEP[0], "keep")
            acme.set(DELETED[0], "deleted")
            acme.set(EXPIRING[0], "expiring", ttl=TTL)
            stored_at = time.time()  # its TTL ran from before this moment
        barrier.wait(60)
        if role == "b":
            out["before"] = [_ask(cache, "acme", p) for p in (KEEP, DELETED, EXPIRING)]
            out["other_tenant"] = _ask(cache, "globex", KEEP)
        barrier.wait(60)
        if role == "a":
            acme.delete(DELETED[0])
            time.sleep(max(0.0, TTL + 0.1 - (time.time() - stored_at)))
        barrier.wait(60)
        if role == "b":
            out["after"] = [_ask(cache, "acme", p) for p in (KEEP, DELETED, EXPIRING)]
        queue.put(("ok", (role, out)))
        cache.close()
        manager.close()
    except Exception:  # noqa: BLE001 - reported to the parent test
        queue.put(("error", traceback.format_exc()))
