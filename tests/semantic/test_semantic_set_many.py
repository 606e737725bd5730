"""``SemanticCache.set_many`` / ``aset_many``: batch fills that behave like one ``set`` per item."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from _ci import need
from omnicache_ai import CacheManager, SemanticCache
from omnicache_ai.backends.vector import NumpyBackend, VectorBackend
from omnicache_ai.embedders import HashingEmbedder
from omnicache_ai.layers.negative_cache import NegativeCache
from omnicache_ai.layers.semantic_cache import RANK_MARGIN

QUESTIONS = {
    "What is the capital of France?": "Paris",
    "How tall is Mount Everest?": "8,849 m",
    "Who wrote Hamlet?": "Shakespeare",
}


class _Recording(HashingEmbedder):
    """A hashing embedder that records every batch it is asked to embed."""

    def __init__(self) -> None:
        super().__init__(dim=64)
        self.batches: list[int] = []
        self.single = 0

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        self.single += 1
        return super().embed(text)

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.batches.append(len(texts))
        return super().embed_many(texts)


def _cache(make_store: Callable[[int], VectorBackend], **kwargs: Any) -> SemanticCache:
    return SemanticCache(embedder=HashingEmbedder(dim=64), vector_backend=make_store(64),
                         threshold=0.8, **kwargs)  # fmt: skip


def test_batch_entries_match_one_set_per_item(make_store: Callable[[int], VectorBackend]) -> None:
    """Each entry is stored under the key set() would use and answers exact and semantic lookups."""
    batch = _cache(make_store)
    single = _cache(make_store)
    assert batch.set_many(QUESTIONS) == len(QUESTIONS)
    for q, a in QUESTIONS.items():
        single.set(q, a)
        got = batch.lookup(q)
        assert (got.value, got.tier) == (a, "exact")
        assert got.entry_id == single.lookup(q).entry_id
        near = batch.lookup(q.lower().rstrip("?"))
        assert (near.value, near.tier) == (a, "semantic")
    assert batch.vector_backend.count() == len(QUESTIONS)


def test_given_vectors_are_indexed_instead_of_embedding(
    make_store: Callable[[int], VectorBackend],
) -> None:
    """With vectors= the index holds those vectors and the embedder is never called for them."""
    emb = _Recording()
    cache = SemanticCache(embedder=emb, vector_backend=make_store(64), threshold=0.9,
                          guards=False)  # fmt: skip
    probe = emb.embed("completely different wording")
    emb.single = 0
    vectors = np.stack([probe, emb.embed_many(["filler one"])[0]])
    emb.batches.clear()
    cache.set_many([("Stored question", "A"), ("Other question", "B")], vectors=vectors)
    assert emb.batches == []
    assert emb.single == 0
    hit = cache.lookup("completely different wording")
    assert (hit.value, hit.tier) == ("A", "semantic")
    assert hit.similarity == pytest.approx(1.0, abs=1e-5)


def test_questions_are_embedded_in_batches(make_store: Callable[[int], VectorBackend]) -> None:
    """Without vectors, questions go to embed_many in batches of 256, never one by one."""
    emb = _Recording()
    cache = SemanticCache(embedder=emb, vector_backend=make_store(64), threshold=0.8)
    _ = cache.vector_backend
    emb.single = 0
    cache.set_many({f"question number {i}": i for i in range(300)})
    assert emb.batches == [256, 44]
    assert emb.single == 0
    assert cache.vector_backend.count() == 300
    assert cache.get("question number 299") == 299


def test_ttl_and_tags_apply_to_every_entry(make_store: Callable[[int], VectorBackend]) -> None:
    """Every entry gets the batch's expiry in the index and its tags in the manager."""
    cache = _cache(make_store)
    before = time.time()
    cache.set_many(QUESTIONS, ttl=60, tags=["docs-v1"])
    q = next(iter(QUESTIONS))
    hits = cache.vector_backend.search(HashingEmbedder(dim=64).embed(q), k=3)
    assert len(hits) == 3
    for h in hits:
        assert before + 60 <= float(h.metadata["expires_at"]) <= time.time() + 60
    cache.invalidate("docs-v1")
    assert all(cache.get(q) is None for q in QUESTIONS)


def test_clear_retires_batch_entries(make_store: Callable[[int], VectorBackend]) -> None:
    """clear() retires batch-written entries like set() ones (they carry the clear tag)."""
    cache = _cache(make_store)
    cache.set_many(QUESTIONS)
    tenant = cache.for_tenant("acme")
    tenant.set_many(QUESTIONS)
    tenant.clear()
    assert all(tenant.get(q) is None for q in QUESTIONS)
    assert all(cache.get(q) == a for q, a in QUESTIONS.items())


def test_partitions_apply_to_batches(make_store: Callable[[int], VectorBackend]) -> None:
    """model, system and conversation context partition batch entries as they do single ones."""
    cache = _cache(make_store)
    convo = [{"role": "system", "content": "Answer in French."},
             {"role": "user", "content": "What is the capital of France?"}]  # fmt: skip
    cache.set_many([(convo, "Paris (fr)")], model="m1")
    cache.set_many({"What is the capital of France?": "Paris"}, model="m1")
    assert cache.get(convo, model="m1") == "Paris (fr)"
    assert cache.get("What is the capital of France?", model="m1") == "Paris"
    assert cache.get("What is the capital of France?", model="m2") is None
    assert cache.for_tenant("globex").get("What is the capital of France?", model="m1") is None


def test_repeated_query_keeps_its_last_answer(make_store: Callable[[int], VectorBackend]) -> None:
    """A question given twice in one batch is one entry holding the last answer."""
    cache = _cache(make_store)
    assert cache.set_many([("Who wrote Hamlet?", "Marlowe"), ("Who wrote Hamlet?", "Shakespeare")])
    assert cache.get("Who wrote Hamlet?") == "Shakespeare"
    assert cache.vector_backend.count() == 1


def test_blocked_queries_are_skipped() -> None:
    """Blocklisted questions are not stored, and their vectors are dropped with them."""
    block = NegativeCache()
    block.add("Everest")
    emb = HashingEmbedder(dim=64)
    cache = SemanticCache(embedder=emb, threshold=0.8, blocklist=block)
    vectors = emb.embed_many(list(QUESTIONS))
    assert cache.set_many(QUESTIONS, vectors=vectors) == 2
    assert cache.get("How tall is Mount Everest?") is None
    assert cache.get("Who wrote Hamlet?") == "Shakespeare"
    assert cache.vector_backend.count() == 2


@pytest.mark.parametrize(
    ("items", "vectors", "error", "match"),
    [
        ("just a string", None, TypeError, "mapping of query"),
        (42, None, TypeError, "mapping of query"),
        ([("q", "a", "extra")], None, TypeError, r"item 0 must be a \(query, value\) pair"),
        ([("", "a")], None, ValueError, "non-empty"),
        ({"a": 1, "b": 2}, np.ones((3, 64)), ValueError, "2 items but 3 vectors"),
        ({"a": 1, "b": 2}, np.ones((2, 8)), ValueError, "dimension 64"),
        ({"a": 1, "b": 2}, [[math.nan] * 64, [1.0] * 64], ValueError, "finite"),
        ({"a": 1, "b": 2}, np.vstack([np.zeros(64), np.ones(64)]), ValueError, "zero vector"),
    ],
)
def test_bad_batches_are_refused_before_anything_is_written(
    items: Any, vectors: Any, error: type[Exception], match: str
) -> None:
    """Bad items or vectors raise a clear error and leave the cache untouched."""
    cache = SemanticCache(embedder=HashingEmbedder(dim=64), threshold=0.8)
    with pytest.raises(error, match=match):
        cache.set_many(items, vectors=vectors)
    assert cache.vector_backend.count() == 0
    assert cache.get("a") is None
    assert cache.stats()["errors"] == 0


def test_bad_tags_are_refused() -> None:
    """A single string as tags is refused (it would tag each character)."""
    cache = SemanticCache(embedder=HashingEmbedder(dim=64))
    with pytest.raises(TypeError, match="single string"):
        cache.set_many(QUESTIONS, tags="v1")


def test_failing_index_is_a_counted_error_not_an_exception() -> None:
    """A vector store that fails during the batch add is counted and logged; payloads stay."""

    class Broken(NumpyBackend):
        def add(self, *args: Any, **kwargs: Any) -> None:
            raise OSError("disk full")

    cache = SemanticCache(embedder=HashingEmbedder(dim=64), vector_backend=Broken(dim=64))
    assert cache.set_many(QUESTIONS) == 3
    assert cache.stats()["errors"] == 1
    assert cache.get("Who wrote Hamlet?") == "Shakespeare"  # the exact tier still answers


def test_async_batch_matches_sync(make_store: Callable[[int], VectorBackend]) -> None:
    """aset_many stores the same entries, embedding with aembed_many off the event loop."""

    async def main() -> SemanticCache:
        cache = _cache(make_store)
        assert await cache.aset_many(QUESTIONS, ttl=60, tags=["t"]) == 3
        assert await cache.aset_many({}) == 0
        return cache

    cache = asyncio.run(main())
    for q, a in QUESTIONS.items():
        assert cache.lookup(q.lower()).value == a
    cache.invalidate("t")
    assert cache.get("Who wrote Hamlet?") is None


def test_rank_rule_holds_for_batch_filled_entries() -> None:
    """A guard veto on the best batch-filled candidate is not rescued by one far below it."""
    query = "How do I disable dark mode?"
    vetoed = "How do I enable dark mode?"  # the negation guard vetoes it against the query
    good = "How can I switch off dark mode?"  # passes every guard on its own
    far = 0.95 - RANK_MARGIN - 0.03
    table = {query: [1.0, 0.0, 0.0]}
    cache = SemanticCache(embed_fn=table.__getitem__, vector_backend=NumpyBackend(dim=3),
                          threshold=0.8)  # fmt: skip
    vectors = [[0.95, math.sqrt(1 - 0.95**2), 0.0], [far, 0.0, math.sqrt(1 - far**2)]]
    cache.set_many([(vetoed, "enable it"), (good, "switch it off")], vectors=vectors)
    miss = cache.lookup(query)
    assert not miss.hit
    assert miss.guard == "negation"
    assert cache.stats()["outranked"] == 1


def test_manager_set_many_tags_are_invalidated_together() -> None:
    """CacheManager.set_many(tags=...) writes tagged entries that one invalidate retires."""
    m = CacheManager()
    m.set_many({"a": 1, "b": 2}, tags=["v1"])
    m.set_many({"c": 3})
    assert m.get_many(["a", "b", "c"]) == {"a": 1, "b": 2, "c": 3}
    assert m.invalidate("v1") >= 1
    assert m.get_many(["a", "b", "c"]) == {"c": 3}

    async def again() -> dict[str, Any]:
        await m.aset_many({"a": 10}, tags=["v1"])
        return await m.aget_many(["a"])

    assert asyncio.run(again()) == {"a": 10}


def test_bulk_fill_is_served_by_the_ivf_index_at_once() -> None:
    """set_many of N >= the threshold: the index is IVF before the call returns and serves.

    Paraphrases of every 7th question hit their own answer through the index; tenants,
    partitions and expiry still hold for entries the quick index holds.
    """
    need("faiss", extra="faiss")
    from omnicache_ai.backends.vector import FAISSBackend

    n, dim = 3000, 64
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    near = vectors + rng.standard_normal((n, dim)).astype(np.float32) * np.float32(0.2 / 8)
    texts = [f"stored question {i}" for i in range(n)]
    table = {f"paraphrase {i}": near[i] for i in range(n)}
    store = FAISSBackend(dim=dim, ann_threshold=2000, exact_filter_limit=0)
    cache = SemanticCache(embed_fn=table.__getitem__, vector_backend=store, threshold=0.9,
                          guards=False)  # fmt: skip
    acme = cache.for_tenant("acme")
    assert acme.set_many([(t, i) for i, t in enumerate(texts)], vectors=vectors, ttl=60) == n
    stats = store.stats()
    assert (stats["index"], stats["build"], stats["building"]) == ("ivf", "quick", False)
    for i in range(0, n, 7):
        hit = acme.lookup(f"paraphrase {i}")
        assert (hit.value, hit.tier) == (i, "semantic")
    assert cache.for_tenant("globex").get("paraphrase 0") is None
    assert acme.get("paraphrase 0", model="other-model") is None
    hits = store.search(near[0], k=1, now=time.time() + 61)  # past the batch's expiry
    assert hits == []


class _Watched(NumpyBackend):
    """A stock NumpyBackend that notes where staging ran and what was stored at commit."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.cache: SemanticCache | None = None
        self.staged_on: list[str] = []
        self.stored_at_commit: list[int] = []

    def stage_add(self, *args: Any, **kwargs: Any) -> Any:
        self.staged_on.append(threading.current_thread().name)
        return super().stage_add(*args, **kwargs)

    def commit_add(self, staged: Any) -> None:
        assert self.cache is not None
        keys = [meta["k"] for meta in staged.metadatas]
        self.stored_at_commit.append(len(self.cache.manager.get_many(keys, layer="semantic")))
        super().commit_add(staged)


@pytest.mark.parametrize("run", ["sync", "async"])
def test_large_batch_stages_its_index_add_while_payloads_are_written(run: str) -> None:
    """A large batch with vectors stages the index add off the caller's thread and makes the
    vectors visible only once every payload is stored (a search never finds a vector whose
    payload is not there yet); small batches and vector-less ones add in turn."""
    n, dim = 3000, 64
    store = _Watched(dim)
    cache = SemanticCache(embedder=HashingEmbedder(dim=dim), vector_backend=store, threshold=0.8)
    store.cache = cache
    texts = [f"question number {i}" for i in range(n)]
    vectors = HashingEmbedder(dim=dim).embed_many(texts)
    pairs = [(t, i) for i, t in enumerate(texts)]
    if run == "sync":
        assert cache.set_many(pairs, vectors=vectors) == n
    else:
        assert asyncio.run(cache.aset_many(pairs, vectors=vectors)) == n
    assert store.stored_at_commit == [n]
    assert store.staged_on != [threading.current_thread().name]
    assert store.count() == n
    assert cache.lookup(texts[5]).value == 5
    cache.set_many({"small": 1}, vectors=vectors[:1])
    assert store.staged_on[1:] == [threading.current_thread().name]  # add(): stage in turn


def test_failed_staging_is_a_counted_error_and_payloads_stay() -> None:
    """A store whose staging fails mid-batch is counted and logged; the payloads still serve."""

    class BadStage(NumpyBackend):
        def stage_add(self, *args: Any, **kwargs: Any) -> Any:
            raise OSError("out of memory")

    n, dim = 2000, 64
    cache = SemanticCache(embedder=HashingEmbedder(dim=dim), vector_backend=BadStage(dim=dim))
    texts = [f"question number {i}" for i in range(n)]
    vectors = HashingEmbedder(dim=dim).embed_many(texts)
    for run in (cache.set_many, lambda *a, **k: asyncio.run(cache.aset_many(*a, **k))):
        assert run({t: i for i, t in enumerate(texts)}, vectors=vectors) == n
    assert cache.stats()["errors"] == 2
    assert cache.get(texts[7]) == 7
    assert cache.vector_backend.count() == 0


def test_strict_payload_failure_leaves_no_staged_vector() -> None:
    """With a strict manager, a failed payload write raises and the staged vectors are
    never committed (sync and async): no vector points at a payload that was not stored."""
    from omnicache_ai import CacheBackendError, InMemoryBackend
    from omnicache_ai.testing import FlakyBackend

    n, dim = 2000, 64
    flaky = FlakyBackend(InMemoryBackend())
    store = NumpyBackend(dim=dim)
    cache = SemanticCache(CacheManager(backend=flaky, strict=True),
                          embedder=HashingEmbedder(dim=dim), vector_backend=store)  # fmt: skip
    texts = [f"question number {i}" for i in range(n)]
    vectors = HashingEmbedder(dim=dim).embed_many(texts)
    flaky.down = True
    with pytest.raises(CacheBackendError):
        cache.set_many({t: i for i, t in enumerate(texts)}, vectors=vectors)
    with pytest.raises(CacheBackendError):
        asyncio.run(cache.aset_many({t: i for i, t in enumerate(texts)}, vectors=vectors))
    assert store.count() == 0
    flaky.down = False
    assert cache.set_many({t: i for i, t in enumerate(texts)}, vectors=vectors) == n
    assert store.count() == n
