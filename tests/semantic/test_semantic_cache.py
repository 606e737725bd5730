"""SemanticCache: tiers, partitions, TTL, tags, deletion, stampede, failures, bad input."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from omnicache_ai import CacheManager, InMemoryBackend
from omnicache_ai.backends.vector import NumpyBackend, VectorBackend
from omnicache_ai.core.errors import ConfigurationError
from omnicache_ai.embedders import Embedder, HashingEmbedder
from omnicache_ai.layers.semantic_cache import (
    DEFAULT_THRESHOLD,
    SemanticCache,
    SemanticResult,
    split_query,
)

FR = "What is the capital of France?"
FR_PARA = "Which city is the capital of France?"
UNRELATED = "How do I bake sourdough bread?"


# ---- semantics, with the real default embedder --------------------------------------------
def test_readme_contract_exact_then_semantic(real_embedder: Embedder) -> None:
    """The README example: exact hit on the same text, semantic hit on a paraphrase."""
    from omnicache_ai.backends.vector_backend import FAISSBackend
    from omnicache_ai.embedders import recommended_threshold

    # An embed_fn carries no calibration: pass the threshold measured for the model behind it.
    threshold = recommended_threshold(real_embedder)
    assert threshold is not None
    sem_cache = SemanticCache(
        exact_backend=InMemoryBackend(),
        vector_backend=FAISSBackend(dim=real_embedder.dim),
        embed_fn=real_embedder.embed,
        threshold=threshold,
    )
    sem_cache.set(FR, "Paris")
    assert sem_cache.get(FR) == "Paris"
    assert sem_cache.get(FR_PARA) == "Paris"
    assert sem_cache.get(UNRELATED) is None


def test_zero_config_uses_default_embedder(real_embedder: Embedder) -> None:
    """SemanticCache() works with no arguments: default embedder, memory tier, numpy index."""
    cache = SemanticCache()
    assert cache.threshold == DEFAULT_THRESHOLD
    cache.set(FR, "Paris")
    r = cache.lookup(FR_PARA)
    assert (r.hit, r.value, r.tier, r.matched_query) == (True, "Paris", "semantic", FR)
    assert r.similarity is not None
    assert DEFAULT_THRESHOLD <= r.similarity < 1.0
    assert cache.embedder is real_embedder
    assert isinstance(cache.vector_backend, NumpyBackend)
    miss = cache.lookup(UNRELATED)
    assert not miss.hit
    assert miss.tier is None
    assert miss.similarity is not None
    assert miss.similarity < DEFAULT_THRESHOLD


def test_negation_guard_blocks_a_real_false_hit(real_embedder: Embedder) -> None:
    """enable/disable are close for the model, but the negation guard refuses the hit."""
    q, opposite = (
        "How do I enable two-factor authentication?",
        ("How do I disable two-factor authentication?"),
    )
    # Below the precision-first default (0.89), where cosine alone would serve it.
    permissive = 0.8
    guarded = SemanticCache(embedder=real_embedder, threshold=permissive)
    plain = SemanticCache(embedder=real_embedder, guards=False, threshold=permissive)
    for cache in (guarded, plain):
        cache.set(q, "Settings > Security > Enable 2FA")
    r = guarded.lookup(opposite)
    assert not r.hit
    assert r.guard == "negation"
    assert r.similarity is not None
    assert r.similarity >= permissive
    assert plain.lookup(opposite).hit  # plain cosine serves the wrong answer
    assert guarded.stats()["guard_rejections"] == {"negation": 1}


def test_swapped_entities_are_refused(real_embedder: Embedder) -> None:
    """Reversed direction looks identical to the model (cosine ~1) but is not the same question."""
    cache = SemanticCache(embedder=real_embedder)
    cache.set("Flights from Paris to Berlin", "LH 1029")
    r = cache.lookup("Flights from Berlin to Paris")
    assert not r.hit
    assert r.guard == "entities"


# ---- partitions --------------------------------------------------------------------------------
def _cache(store: VectorBackend | None = None, **kw: Any) -> SemanticCache:
    return SemanticCache(embedder=HashingEmbedder(dim=64), vector_backend=store,
                         threshold=0.8, **kw)  # fmt: skip


def test_model_isolation(make_store: Callable[[int], VectorBackend]) -> None:
    """A semantic or exact hit never crosses models."""
    cache = _cache(make_store(64))
    cache.set(FR, "Paris", model="gpt-4o")
    assert cache.get(FR, model="gpt-4o") == "Paris"
    assert cache.get(FR.lower(), model="gpt-4o") == "Paris"
    assert cache.lookup(FR, model="gpt-4o-mini").hit is False
    assert cache.lookup(FR.lower(), model="gpt-4o-mini").hit is False


def test_tenant_isolation_shared_index(make_store: Callable[[int], VectorBackend]) -> None:
    """Tenants share the backend and the index but never see each other's entries."""
    root = CacheManager()
    store = make_store(64)
    acme = _cache(store, manager=root.for_tenant("acme"))
    globex = _cache(store, manager=root.for_tenant("globex"))
    acme.set(FR, "Paris")
    assert acme.get(FR.lower()) == "Paris"
    assert globex.lookup(FR).hit is False
    assert globex.lookup(FR.lower()).hit is False
    assert acme.for_tenant("globex").lookup(FR).hit is False
    assert store.count() == 1


def test_system_prompt_and_params_partition() -> None:
    """System prompt and response-changing params are part of the partition."""
    cache = _cache()
    cache.set(FR, "Paris", system="Answer in one word.", params={"temperature": 0})
    assert cache.get(FR, system="Answer in one word.", params={"temperature": 0}) == "Paris"
    assert cache.lookup(FR, system="Answer at length.", params={"temperature": 0}).hit is False
    assert cache.lookup(FR, system="Answer in one word.", params={"temperature": 1}).hit is False


def test_multi_turn_context_partitions_follow_ups() -> None:
    """A follow-up matches only within the same conversation context (unless disabled)."""
    conv_a = [{"role": "user", "content": "Tell me about Paris"},
              {"role": "assistant", "content": "Paris is..."}]  # fmt: skip
    conv_b = [{"role": "user", "content": "Tell me about Rome"},
              {"role": "assistant", "content": "Rome is..."}]  # fmt: skip
    follow = {"role": "user", "content": "What is its population?"}
    cache = _cache()
    cache.set([*conv_a, follow], "2.1 million")
    assert cache.get([*conv_a, follow]) == "2.1 million"
    assert cache.lookup([*conv_b, follow]).hit is False
    flat = _cache(multi_turn=False)
    flat.set([*conv_a, follow], "2.1 million")
    assert flat.get([*conv_b, follow]) == "2.1 million"


def test_split_query_shapes() -> None:
    """A conversation is keyed by its last user turn; system messages become the prompt."""
    text, turns, system = split_query([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hi   there"}]},
    ])  # fmt: skip
    assert (text, turns, system) == ("Hi there", [], "Be brief.")


# ---- lifecycle: TTL, tags, delete, clear --------------------------------------------------------
def test_ttl_expires_payload_and_vector(make_store: Callable[[int], VectorBackend]) -> None:
    """After the TTL neither tier answers and the vector is filtered out by expires_at."""
    store = make_store(64)
    cache = _cache(store)
    # Only what holds after expiry is asserted after the short TTL, so a stalled machine
    # cannot turn the test red; the read-back uses a TTL no stall reaches.
    cache.set(FR, "Paris", ttl=600)
    assert cache.get(FR.lower()) == "Paris"
    cache.set(FR, "Paris", ttl=0.2)
    vec = cache.embedder.embed(FR)
    (hit,) = store.search(vec, k=1)
    assert isinstance(hit.metadata["expires_at"], float)
    assert hit.metadata["expires_at"] <= time.time() + 0.2
    time.sleep(0.3)
    assert cache.lookup(FR).hit is False
    assert cache.lookup(FR.lower()).hit is False
    assert store.search(vec, k=1, now=time.time()) == []


def test_tag_invalidation_removes_both_and_drops_vector_lazily(
    make_store: Callable[[int], VectorBackend],
) -> None:
    """A tag-invalidated payload is a miss on both tiers and its vector is deleted on contact."""
    store = make_store(64)
    cache = _cache(store)
    cache.set(FR, "Paris", tags=["geo-v1"])
    cache.set(UNRELATED, "flour, water, salt")
    assert store.count() == 2
    assert cache.invalidate("geo-v1") >= 1
    assert cache.lookup(FR).hit is False
    assert cache.lookup(FR.lower()).hit is False
    assert store.count() == 1
    assert cache.get(UNRELATED) == "flour, water, salt"


def test_delete_and_clear(make_store: Callable[[int], VectorBackend]) -> None:
    """delete removes the payload and the vector; clear empties the cache."""
    store = make_store(64)
    cache = _cache(store)
    cache.set(FR, "Paris")
    cache.set(UNRELATED, "bread")
    assert cache.delete(FR) is True
    assert store.count() == 1
    assert cache.lookup(FR.lower()).hit is False
    cache.clear()
    assert store.count() == 0
    assert cache.get(UNRELATED) is None


def test_none_is_a_cacheable_answer() -> None:
    """A cached None is a hit (lookup tells it apart from a miss)."""
    cache = _cache()
    cache.set(FR, None)
    r = cache.lookup(FR.lower())
    assert r.hit
    assert r.value is None


# ---- get_or_set: stampede, sync and async ------------------------------------------------------
def test_get_or_set_is_stampede_safe() -> None:
    """Eight threads asking the same new question make one upstream call."""
    cache = _cache()
    calls = []
    barrier = threading.Barrier(8)

    def upstream() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "Paris"

    def worker(out: list[str]) -> None:
        barrier.wait()
        out.append(cache.get_or_set(FR, upstream))

    results: list[str] = []
    threads = [threading.Thread(target=worker, args=(results,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["Paris"] * 8
    assert len(calls) == 1
    assert cache.get_or_set(FR.lower(), upstream) == "Paris"  # now a semantic hit
    assert len(calls) == 1


async def test_aget_or_set_is_stampede_safe() -> None:
    """Concurrent coroutines asking the same new question make one upstream call."""
    cache = _cache()
    calls = []

    async def upstream() -> str:
        calls.append(1)
        await asyncio.sleep(0.1)
        return "Paris"

    results = await asyncio.gather(*(cache.aget_or_set(FR, upstream) for _ in range(6)))
    assert results == ["Paris"] * 6
    assert len(calls) == 1
    r = await cache.alookup(FR.lower())
    assert (r.hit, r.tier) == (True, "semantic")


async def test_async_twins_match_sync() -> None:
    """aset/aget/adelete/ainvalidate/aclear behave as their sync twins."""
    cache = _cache()
    await cache.aset(FR, "Paris", tags=["t"])
    assert await cache.aget(FR) == "Paris"
    assert (await cache.alookup(FR.lower())).tier == "semantic"
    assert await cache.adelete(FR) is True
    assert await cache.aget(FR) is None
    await cache.aset(FR, "Paris", tags=["t"])
    await cache.ainvalidate("t")
    assert await cache.aget(FR.lower()) is None
    await cache.aset(UNRELATED, "bread")
    await cache.aclear()
    assert await cache.aget(UNRELATED) is None


def test_sync_get_or_set_refuses_coroutines() -> None:
    """A coroutine function handed to the sync get_or_set is a clear TypeError."""
    cache = _cache()

    async def upstream() -> str:
        return "x"

    with pytest.raises(TypeError, match="aget_or_set"):
        cache.get_or_set(FR, upstream)


# ---- failures never break the app -------------------------------------------------------------
class _BrokenStore(NumpyBackend):
    def search(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("vector store down")


class _BrokenEmbedder(HashingEmbedder):
    def _embed_batch(self, texts: list[str]) -> Any:
        raise RuntimeError("model crashed")


def test_vector_store_failure_is_a_counted_miss(caplog: pytest.LogCaptureFixture) -> None:
    """A failing vector search is a miss, counted in the manager's metrics and logged once."""
    manager = CacheManager()
    cache = SemanticCache(manager, embedder=HashingEmbedder(dim=64),
                          vector_backend=_BrokenStore(dim=64), threshold=0.8)  # fmt: skip
    cache.set(FR, "Paris")
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        assert cache.lookup(FR.lower()).hit is False
        assert cache.lookup(FR.lower()).hit is False
    assert cache.get(FR) == "Paris"  # the exact tier still answers
    assert cache.stats()["errors"] == 2
    errors = manager.metrics.snapshot()["errors"]
    assert errors == 2
    assert sum("vector store down" in r.getMessage() for r in caplog.records) == 1


def test_embedder_failure_is_a_miss_and_get_or_set_still_computes() -> None:
    """A failing embedder gives misses; get_or_set still calls upstream and caches exactly."""
    cache = SemanticCache(embedder=_BrokenEmbedder(dim=64), threshold=0.8)
    assert cache.get_or_set(FR, lambda: "Paris") == "Paris"
    assert cache.get_or_set(FR, lambda: "other") == "Paris"
    assert cache.lookup(FR.lower()).hit is False
    assert cache.stats()["errors"] >= 2


def test_strict_manager_raises_on_vector_failure() -> None:
    """With a strict manager a vector failure raises instead of missing."""
    from omnicache_ai.core.errors import CacheBackendError

    cache = SemanticCache(CacheManager(strict=True), embedder=HashingEmbedder(dim=64),
                          vector_backend=_BrokenStore(dim=64))  # fmt: skip
    with pytest.raises(CacheBackendError):
        cache.lookup(FR)


# ---- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "exc"),
    [("", ValueError), ("   ", ValueError), (42, TypeError), ([], TypeError),
     ([{"role": "assistant", "content": "hi"}], ValueError), (["not a dict"], TypeError)],
)  # fmt: skip
def test_bad_queries_are_clear_errors(query: Any, exc: type[Exception]) -> None:
    """Empty, non-text or user-less queries raise a clear error."""
    with pytest.raises(exc):
        _cache().lookup(query)


def test_bad_configuration_is_rejected() -> None:
    """Conflicting or out-of-range arguments fail at construction."""
    with pytest.raises(ConfigurationError):
        SemanticCache(CacheManager(), exact_backend=InMemoryBackend())
    with pytest.raises(ConfigurationError):
        SemanticCache(embedder=HashingEmbedder(), embed_fn=lambda t: [1.0])
    with pytest.raises(ValueError, match="threshold"):
        SemanticCache(embedder=HashingEmbedder(), threshold=1.5)
    with pytest.raises(ValueError, match="top_k"):
        SemanticCache(embedder=HashingEmbedder(), top_k=0)
    with pytest.raises(TypeError, match="guards"):
        SemanticCache(embedder=HashingEmbedder(), guards="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threshold"):
        _cache().lookup(FR, threshold=0)


def test_embed_fn_bad_vector_is_a_miss() -> None:
    """An embed_fn returning a zero vector is treated as an embedder failure (miss)."""
    cache = SemanticCache(embed_fn=lambda t: np.zeros(8), vector_backend=NumpyBackend(dim=8))
    cache.set(FR, "Paris")
    assert cache.get(FR) == "Paris"  # exact tier needs no vector
    assert cache.lookup(FR.lower()).hit is False
    assert cache.stats()["errors"] >= 1


def test_stats_and_result_fields() -> None:
    """stats() counts hits per tier and misses; a miss carries the closest candidate."""
    cache = _cache()
    cache.set(FR, "Paris")
    cache.get(FR)
    cache.get(FR.lower())
    miss = cache.lookup("completely different words here")
    assert isinstance(miss, SemanticResult)
    assert miss.matched_query == FR
    s = cache.stats()
    assert (s["exact_hits"], s["semantic_hits"], s["misses"]) == (1, 1, 1)
    assert s["hit_rate"] == pytest.approx(2 / 3)


def test_concurrent_set_and_lookup(make_store: Callable[[int], VectorBackend]) -> None:
    """Threads storing and looking up at once neither crash nor lose entries."""
    cache = _cache(make_store(64))
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(25):
                q = f"worker {w} question number {i} about topic {w * 100 + i}"
                cache.set(q, (w, i))
                assert cache.get(q) == (w, i)
                cache.lookup(f"question number {i} about topic {w * 100 + i} from worker {w}")
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cache.vector_backend.count() == 200
    assert cache.stats()["errors"] == 0
