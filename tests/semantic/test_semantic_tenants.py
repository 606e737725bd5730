"""SemanticCache tenant views: one shared index, built once; a tenant clears only its own."""

from __future__ import annotations

import asyncio

from omnicache_ai import CacheKeyBuilder, CacheManager, InMemoryBackend
from omnicache_ai.embedders import HashingEmbedder
from omnicache_ai.layers.semantic_cache import SemanticCache

FR = "What is the capital of France?"
DE = "What is the capital of Germany?"


def _cache() -> SemanticCache:
    manager = CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("app"))
    return SemanticCache(manager, embedder=HashingEmbedder(dim=64), threshold=0.8)


def test_a_view_per_request_still_gets_semantic_hits() -> None:
    """Views made before the index exists share the one the first call builds."""
    cache = _cache()
    writer, reader = cache.for_tenant("acme"), cache.for_tenant("acme")  # no index yet
    writer.set(FR, "Paris")
    hit = reader.lookup(FR.lower())
    assert (hit.hit, hit.tier, hit.value) == (True, "semantic", "Paris")
    for _ in range(3):  # a fresh view per request, as a web handler would make
        assert cache.for_tenant("acme").lookup(FR.lower()).tier == "semantic"
    assert writer.vector_backend is reader.vector_backend is cache.vector_backend
    assert cache.vector_backend.count() == 1


def test_tenant_clear_keeps_other_tenants_semantic_hits() -> None:
    """Tenant A's clear retires A's answers only; B keeps exact and semantic hits."""
    cache = _cache()
    a, b = cache.for_tenant("a"), cache.for_tenant("b")
    a.set(FR, "Paris (a)")
    a.set(DE, "Berlin (a)")
    b.set(FR, "Paris (b)")
    assert a.lookup(FR.lower()).value == "Paris (a)"

    a.clear()

    assert not a.lookup(FR).hit
    assert not a.lookup(FR.lower()).hit
    assert b.lookup(FR).value == "Paris (b)"
    semantic = b.lookup(FR.lower())
    assert (semantic.hit, semantic.tier, semantic.value) == (True, "semantic", "Paris (b)")
    # A's vectors pointed at retired answers; its lookups dropped the one they found.
    assert cache.vector_backend.count() == 2
    a.set(FR, "Paris again (a)")
    assert a.lookup(FR.lower()).value == "Paris again (a)"


def test_async_tenant_clear_is_scoped_too() -> None:
    """aclear of one tenant view leaves another tenant's semantic hits."""

    async def main() -> None:
        cache = _cache()
        a, b = cache.for_tenant("a"), cache.for_tenant("b")
        await a.aset(FR, "Paris (a)")
        await b.aset(FR, "Paris (b)")
        await a.aclear()
        assert not (await a.alookup(FR.lower())).hit
        assert (await b.alookup(FR.lower())).value == "Paris (b)"

    asyncio.run(main())


def test_root_clear_still_empties_the_index() -> None:
    """The cache itself (no tenant) owns the whole index: its clear empties it."""
    cache = _cache()
    cache.set(FR, "Paris")
    cache.for_tenant("a").set(DE, "Berlin")
    cache.clear()
    assert cache.vector_backend.count() == 0
    assert not cache.lookup(FR.lower()).hit
