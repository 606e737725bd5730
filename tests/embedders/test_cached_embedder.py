"""CachedEmbedder: the Embedder contract, each text embedded once per model, fail-open."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from omnicache_ai import CacheManager, DiskBackend, EmbeddingCache, InMemoryBackend
from omnicache_ai.backends.vector import NumpyBackend
from omnicache_ai.core.errors import ConfigurationError
from omnicache_ai.embedders import CachedEmbedder, Embedder, HashingEmbedder
from omnicache_ai.layers.semantic_cache import SemanticCache
from omnicache_ai.testing import FlakyBackend


class CountingEmbedder(HashingEmbedder):
    """A HashingEmbedder that records every batch it embeds."""

    def __init__(self, dim: int = 32, seed: int = 0) -> None:
        super().__init__(dim=dim, seed=seed)
        self.batches: list[list[str]] = []
        self._count_lock = threading.Lock()

    @property
    def texts(self) -> list[str]:
        """Every text embedded, in order."""
        return [t for b in self.batches for t in b]

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        with self._count_lock:
            self.batches.append(list(texts))
        return super()._embed_batch(texts)


def test_follows_the_embedder_protocol() -> None:
    """It is an Embedder with the wrapped model's name and dimension, and the same vectors."""
    inner = HashingEmbedder(dim=48, seed=2)
    emb = CachedEmbedder(inner, CacheManager())
    assert isinstance(emb, Embedder)
    assert (emb.name, emb.dim) == (inner.name, 48)
    vec = emb.embed("hello world")
    assert vec.dtype == np.float32
    assert vec.shape == (48,)
    np.testing.assert_array_equal(vec, inner.embed("hello world"))
    matrix = emb.embed_many(["a", "hello world"])
    assert matrix.shape == (2, 48)
    assert matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix[1], vec)
    assert emb.embed_many([]).shape == (0, 48)
    with pytest.raises(AttributeError):
        emb.name = "other"


def test_only_misses_are_embedded_in_one_batch_in_order() -> None:
    """A batch embeds only the distinct texts not cached yet, once, and keeps input order."""
    inner, reference = CountingEmbedder(), HashingEmbedder(dim=32)
    emb = CachedEmbedder(inner, CacheManager())
    emb.embed("b")
    out = emb.embed_many(["a", "b", "c", "a"])
    assert inner.batches == [["b"], ["a", "c"]]
    for row, text in zip(out, ["a", "b", "c", "a"], strict=True):
        np.testing.assert_array_equal(row, reference.embed(text))
    emb.embed_many(["c", "a", "b"])
    emb.embed("a")
    assert inner.batches == [["b"], ["a", "c"]]


def test_two_models_never_share_vectors() -> None:
    """Embedders with different names over one manager each compute their own vectors."""
    manager = CacheManager()
    one, two = CountingEmbedder(seed=1), CountingEmbedder(seed=2)
    v1 = CachedEmbedder(one, manager).embed("same text")
    v2 = CachedEmbedder(two, manager).embed("same text")
    assert one.texts == ["same text"]
    assert two.texts == ["same text"]
    assert not np.array_equal(v1, v2)


def test_vectors_survive_a_restart(tmp_path: Path) -> None:
    """A second embedder over the same disk backend computes nothing it already has."""
    path = str(tmp_path / "vectors")
    first = CachedEmbedder(CountingEmbedder(), CacheManager(DiskBackend(path)))
    expected = first.embed_many(["alpha", "beta"])
    inner = CountingEmbedder()
    second = CachedEmbedder(inner, CacheManager(DiskBackend(path)))
    np.testing.assert_array_equal(second.embed_many(["beta", "alpha"]), expected[::-1])
    assert inner.batches == []


def test_tenants_keep_separate_vectors() -> None:
    """Tenant views of a manager do not read each other's vectors."""
    root = CacheManager()
    inner = CountingEmbedder()
    CachedEmbedder(inner, root.for_tenant("acme")).embed("q")
    CachedEmbedder(inner, root.for_tenant("acme")).embed("q")
    CachedEmbedder(inner, root.for_tenant("globex")).embed("q")
    assert inner.texts == ["q", "q"]


def test_a_failing_backend_still_embeds() -> None:
    """With the backend down every call still returns the model's vectors, and errors count."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    inner = CountingEmbedder()
    emb = CachedEmbedder(inner, manager)
    flaky.down = True
    np.testing.assert_array_equal(emb.embed("x"), inner.embed("x"))
    assert emb.embed_many(["x", "y"]).shape == (2, 32)
    assert manager.metrics.snapshot()["errors"] >= 2
    flaky.down = False
    emb.embed("z")
    emb.embed("z")
    assert inner.texts.count("z") == 1


def test_uses_a_given_embedding_cache() -> None:
    """cache= reuses an EmbeddingCache and its settings (here: writable vectors)."""
    cache = EmbeddingCache(CacheManager(), writable=True)
    emb = CachedEmbedder(HashingEmbedder(dim=8), cache=cache)
    emb.embed("x")
    vec = emb.embed("x")
    vec[0] = 5.0  # a writable private copy
    assert cache.get("x", model_id=emb.name) is not None


def test_bad_arguments() -> None:
    """Wrong embedders, conflicting options and bad texts are clear errors."""
    with pytest.raises(TypeError, match="Embedder protocol"):
        CachedEmbedder(lambda t: [1.0], CacheManager())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        CachedEmbedder(HashingEmbedder(), CacheManager(), cache=EmbeddingCache(CacheManager()))
    with pytest.raises(ConfigurationError):
        CachedEmbedder(HashingEmbedder(), cache=EmbeddingCache(CacheManager()), ttl=5)
    with pytest.raises(TypeError, match="EmbeddingCache"):
        CachedEmbedder(HashingEmbedder(), cache=CacheManager())  # type: ignore[arg-type]
    emb = CachedEmbedder(HashingEmbedder())
    with pytest.raises(TypeError):
        emb.embed_many("one string")
    with pytest.raises(TypeError):
        emb.embed_many(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        emb.embed(None)  # type: ignore[arg-type]


async def test_async_twins_share_the_cache() -> None:
    """aembed/aembed_many read and fill the same cache as the sync methods."""
    inner = CountingEmbedder()
    emb = CachedEmbedder(inner, CacheManager())
    v = await emb.aembed("a")
    np.testing.assert_array_equal(v, emb.embed("a"))
    out = await emb.aembed_many(["a", "b", "b"])
    assert out.shape == (3, 32)
    assert inner.batches == [["a"], ["b"]]
    assert (await emb.aembed_many([])).shape == (0, 32)
    results = await asyncio.gather(*(emb.aembed("c") for _ in range(5)))
    assert all(np.array_equal(r, results[0]) for r in results)
    assert inner.texts.count("c") == 1  # concurrent misses are embedded once


# ---- SemanticCache puts its query embeddings behind a CachedEmbedder -------------------------
def test_semantic_cache_shares_query_embeddings_through_its_manager() -> None:
    """A paraphrase embedded by one worker is not embedded again by another on that manager."""
    manager, index = CacheManager(), NumpyBackend(dim=64)  # e.g. Redis + Qdrant in production
    inner = CountingEmbedder(dim=64)
    workers = [
        SemanticCache(manager, embedder=inner, vector_backend=index, threshold=0.8)
        for _ in range(2)
    ]
    workers[0].set("what is the boiling point of water", "100 °C")
    assert workers[0].get("what is the boiling point of water please") == "100 °C"
    assert workers[1].get("what is the boiling point of water please") == "100 °C"
    assert inner.texts.count("what is the boiling point of water please") == 1


def test_semantic_cache_keeps_its_in_process_embedding_cache() -> None:
    """Repeated lookups in one cache are answered from memory, not from the manager."""
    manager = CacheManager()
    cache = SemanticCache(manager, embedder=HashingEmbedder(dim=64), threshold=0.8)
    cache.set("q one", "a")
    for _ in range(5):
        cache.lookup("q one two")
    reads = manager.metrics.snapshot()["layers"]["embedding"]
    assert reads["hits"] + reads["misses"] == 2  # "q one" at set, "q one two" once


def test_semantic_cache_embedding_opt_out_and_default_manager() -> None:
    """cache_embeddings=False, and a cache without a manager, keep vectors in process only."""
    manager = CacheManager()
    inner = CountingEmbedder(dim=64)
    for _ in range(2):
        SemanticCache(manager, embedder=inner, cache_embeddings=False).lookup("q")
    assert inner.texts == ["q", "q"]
    assert "embedding" not in manager.metrics.snapshot()["layers"]
    own = SemanticCache(embedder=inner)
    own.lookup("q")
    assert "embedding" not in own.manager.metrics.snapshot()["layers"]
    forced = SemanticCache(embedder=inner, cache_embeddings=True)
    forced.lookup("q2")
    assert "embedding" in forced.manager.metrics.snapshot()["layers"]


def test_semantic_cache_tenant_views_embed_in_their_scope() -> None:
    """A tenant view stores its query vectors in its own tenant scope, not the root's."""
    manager = CacheManager()
    inner = CountingEmbedder(dim=64)
    root = SemanticCache(manager, embedder=inner, embedding_cache_size=0)
    root.lookup("shared question")
    root.for_tenant("acme").lookup("shared question")
    other_worker = SemanticCache(manager, embedder=inner, embedding_cache_size=0)
    other_worker.for_tenant("acme").lookup("shared question")
    root.for_tenant("globex").lookup("shared question")
    assert inner.texts.count("shared question") == 3  # root, acme, globex


def test_semantic_cache_embed_fn_is_not_shared() -> None:
    """embed_fn vectors stay in process: a function's name does not identify its model."""
    manager = CacheManager()
    emb = HashingEmbedder(dim=16)
    cache = SemanticCache(manager, embed_fn=emb.embed, threshold=0.8)
    cache.lookup("q")
    assert "embedding" not in manager.metrics.snapshot()["layers"]


async def test_semantic_cache_async_lookups_share_embeddings() -> None:
    """The async lookup path goes through the manager-backed embedding cache too."""
    manager = CacheManager()
    inner = CountingEmbedder(dim=64)
    for _ in range(2):
        await SemanticCache(manager, embedder=inner).alookup("an async question")
    assert inner.texts == ["an async question"]
