"""omnicache-ai 0.3.0 call forms: each still works (or says what to write instead).

Written from 0.3.0's documented API, not from its tests. Every deprecated form must both work
and warn with the new spelling; forms that are simply accepted must not warn (pytest turns any
stray warning into an error).
"""

from __future__ import annotations

import hashlib
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omnicache_ai import (
    CacheKeyBuilder,
    CacheManager,
    DiskBackend,
    EmbeddingCache,
    InMemoryBackend,
    InvalidationEngine,
    OmnicacheSettings,
    ResponseCache,
    SemanticCache,
    TTLPolicy,
)
from omnicache_ai.backends.vector_backend import NumpyBackend
from omnicache_ai.core.errors import ConfigurationError

MESSAGES = [{"role": "user", "content": "What is 2+2?"}]


def _manager() -> CacheManager:
    return CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder(namespace="t"))


def _embed(text: str) -> np.ndarray:
    """A deterministic 32-d embedding: equal texts, equal vectors."""
    digest = hashlib.sha256(text.encode()).digest()
    return np.frombuffer(digest, dtype=np.uint8).astype(np.float32) + 1.0


# ---- ResponseCache: positional model_id / params --------------------------------------------
def test_response_set_get_with_positional_model_and_params() -> None:
    """set(messages, response, model_id, params) and get(messages, model_id, params) work."""
    cache = ResponseCache(_manager())
    cache.set(MESSAGES, "4", "gpt-4o", {"temperature": 0})
    assert cache.get(MESSAGES, "gpt-4o", {"temperature": 0}) == "4"
    assert cache.get(MESSAGES, "gpt-4o", {"temperature": 1}) is None  # params are keyed
    assert cache.get(MESSAGES, "gpt-4o-mini", {"temperature": 0}) is None  # so is the model
    # the positional form and the keyword form address the same entry
    assert cache.get(MESSAGES, model_id="gpt-4o", params={"temperature": 0}) == "4"


def test_response_get_or_generate_with_positional_model_and_params() -> None:
    """get_or_generate(messages, fn, model_id, params) computes once."""
    cache = ResponseCache(_manager())
    calls: list[Any] = []

    def llm(msgs: Any) -> str:
        calls.append(msgs)
        return "4"

    assert cache.get_or_generate(MESSAGES, llm, "gpt-4o", {"seed": 1}) == "4"
    assert cache.get_or_generate(MESSAGES, llm, "gpt-4o", {"seed": 1}) == "4"
    assert len(calls) == 1


async def test_response_async_twins_take_positional_model() -> None:
    """The async twins accept the same positional form."""
    cache = ResponseCache(_manager())
    await cache.aset(MESSAGES, "4", "gpt-4o", None)
    assert await cache.aget(MESSAGES, "gpt-4o") == "4"


# ---- SemanticCache(exact_backend, vector_backend, embed_fn, threshold=...) -------------------
def test_semantic_cache_positional_backends_warn_and_work() -> None:
    """The 0.3.0 positional constructor works and names the keyword form in its warning."""
    with pytest.warns(DeprecationWarning, match=r"SemanticCache\(exact_backend=\.\.\."):
        cache = SemanticCache(InMemoryBackend(), NumpyBackend(dim=32), _embed, threshold=0.95)
    assert cache.threshold == 0.95
    assert cache.get("capital of France") is None
    cache.set("capital of France", "Paris")
    assert cache.get("capital of France") == "Paris"
    cache.delete("capital of France")
    assert cache.get("capital of France") is None
    cache.set("q", "answer", 60)  # set(query, value, ttl) positionally, as 0.3.0 did
    cache.clear()
    assert cache.get("q") is None


def test_semantic_cache_rejects_ambiguous_positional_forms() -> None:
    """An argument given twice, or positional arguments after a manager, is a clear error."""
    with pytest.raises(TypeError, match="both by position and by keyword"):
        SemanticCache(InMemoryBackend(), NumpyBackend(dim=32), embed_fn=_embed, vector_backend=1)
    with pytest.raises(TypeError, match="by keyword"):
        SemanticCache(_manager(), NumpyBackend(dim=32))


# ---- EmbeddingCache(manager, dim=...) --------------------------------------------------------
def test_embedding_cache_dim_and_positional_model() -> None:
    """EmbeddingCache(manager, dim=4) with get/set/get_or_compute(text, ..., model_id)."""
    cache = EmbeddingCache(_manager(), dim=4)
    assert cache.get("hello", "m1") is None
    vec = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
    cache.set("hello", vec, "m1")
    np.testing.assert_array_equal(cache.get("hello", "m1"), vec)
    assert cache.get("hello", "m2") is None  # models never share entries
    calls: list[str] = []

    def compute(text: str) -> np.ndarray:
        calls.append(text)
        return np.zeros(4, dtype=np.float32)

    cache.get_or_compute("query", compute, "m1")
    cache.get_or_compute("query", compute, "m1")
    assert calls == ["query"]


def test_embedding_cache_dim_is_checked() -> None:
    """A vector of another size than ``dim`` is refused with a message naming both."""
    cache = EmbeddingCache(_manager(), dim=4)
    with pytest.raises(ValueError, match=r"3 values.*dim=4"):
        cache.set("x", np.ones(3, dtype=np.float32), "m1")
    with pytest.raises(ValueError, match="dim must be a positive int"):
        EmbeddingCache(_manager(), dim=0)


def test_embedding_cache_without_model_says_what_is_missing() -> None:
    """0.3.0 defaulted the model; now omitting it names the missing ``model_id``."""
    cache = EmbeddingCache(_manager(), dim=4)
    with pytest.raises(TypeError, match="model_id"):
        cache.get("hello")  # type: ignore[call-arg]


# ---- CacheKeyBuilder.build(type, payload, extra=...) ------------------------------------------
def test_key_builder_extra_is_keyed_and_kept_apart() -> None:
    """``extra`` changes the key, deterministically, and cannot be forged through the payload."""
    kb = CacheKeyBuilder(namespace="t")
    a = kb.build("embedding", "hello", extra={"model": "a"})
    assert a == kb.build("embedding", "hello", extra={"model": "a"})
    assert a != kb.build("embedding", "hello", extra={"model": "b"})
    assert a != kb.build("embedding", "hello")
    assert a != kb.build("embedding", ["hello", {"model": "a"}])
    assert a != kb.build("embedding", {"content": "hello", "model": "a"})
    assert a.startswith("t:embedding:")
    with pytest.raises(TypeError, match="extra must be a mapping"):
        kb.build("embedding", "hello", extra=["model"])  # type: ignore[arg-type]


# ---- InvalidationEngine(tag_store=...) with register / invalidate_tag / invalidate_key -------
def test_invalidation_engine_tag_store_register_and_invalidate() -> None:
    """The 0.3.0 engine API deletes registered keys and warns with the manager form."""
    tag_store, backend = InMemoryBackend(), InMemoryBackend()
    with pytest.warns(DeprecationWarning, match=r"InvalidationEngine\(backend\)"):
        engine = InvalidationEngine(tag_store=tag_store)
    for key in ("k1", "k2", "k3"):
        backend.set(key, "v")
    with pytest.warns(DeprecationWarning, match=r"tags=\[\.\.\.\]"):
        engine.register("k1", ["tag_a"])
    with pytest.warns(DeprecationWarning, match=r"tags=\[\.\.\.\]"):
        engine.register("k2", ["tag_a", "tag_b"])
    with pytest.warns(DeprecationWarning, match=r"manager\.invalidate\(tag\)"):
        removed = engine.invalidate_tag("tag_a", backend)
    assert removed == 2
    with pytest.warns(DeprecationWarning, match=r"manager\.invalidate\(tag\)"):
        removed = engine.invalidate_tag("missing_tag", backend)
    assert removed == 0
    assert backend.get("k1") is None
    assert backend.get("k2") is None
    assert backend.get("k3") == "v"  # an unregistered key is untouched
    with pytest.warns(DeprecationWarning, match=r"manager\.delete\(key\)"):
        engine.invalidate_key("k3", backend)
    assert backend.get("k3") is None


def test_invalidation_engine_tag_store_with_a_manager() -> None:
    """0.3.0's ``CacheManager(invalidation_engine=InvalidationEngine(tag_store=...))`` works."""
    with pytest.warns(DeprecationWarning, match="tag_store"):
        engine = InvalidationEngine(tag_store=InMemoryBackend())
    manager = CacheManager(
        backend=InMemoryBackend(), key_builder=CacheKeyBuilder(), invalidation_engine=engine
    )
    manager.set("a", 1, tags=["t"])
    assert manager.invalidate("t") == 1
    assert manager.get("a") is None


def test_invalidation_engine_refuses_two_backends() -> None:
    """``backend`` and its old name ``tag_store`` together are refused."""
    with pytest.raises(TypeError, match="tag_store"):
        InvalidationEngine(InMemoryBackend(), tag_store=InMemoryBackend())


# ---- TTLPolicy(per_type=...) and OmnicacheSettings(max_memory_entries=...) -------------------
def test_ttl_policy_per_type() -> None:
    """``per_type`` maps onto ``per_layer``, with a warning naming it."""
    with pytest.warns(DeprecationWarning, match=r"per_layer"):
        policy = TTLPolicy(default_ttl=3600, per_type={"embedding": 86400, "response": 600})
    assert policy.ttl_for("embedding") == 86400
    assert policy.ttl_for("response") == 600
    assert policy.ttl_for("retrieval") == 3600
    assert policy.per_layer == {"embedding": 86400, "response": 600}


def test_settings_max_memory_entries() -> None:
    """``max_memory_entries`` sets ``max_entries`` and the built backend's bound."""
    with pytest.warns(DeprecationWarning, match=r"max_entries"):
        settings = OmnicacheSettings(backend="memory", max_memory_entries=100)
    assert settings.max_entries == 100
    manager = CacheManager.from_settings(settings)
    for i in range(150):
        manager.set(f"k{i}", i)
    assert len(manager.keys()) <= 100


# ---- stores written by 0.3.0 ------------------------------------------------------------------
class _Planted:
    """A pickle that would flip a flag (a file here) if anything ever unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("kind", ["memory", "disk"])
def test_entries_written_by_030_are_misses_then_rewritten(tmp_path: Path, kind: str) -> None:
    """A 0.3.0 pickle under a key we read is never unpickled: a miss, then replaced."""
    backend = InMemoryBackend() if kind == "memory" else DiskBackend(path=str(tmp_path / "d"))
    manager = CacheManager(backend=backend, key_builder=CacheKeyBuilder(namespace="t"))
    manager.set("answer", "new")
    (raw_key,) = list(backend.keys())  # the one entry the manager just wrote
    marker = tmp_path / "unpickled"
    backend.set(raw_key, pickle.dumps(_Planted(marker)))  # what 0.3.0 stored: bare pickle
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a corrupt entry may be logged; it must not raise
        assert manager.get("answer") is None
        assert manager.get_or_set("answer", lambda: "recomputed") == "recomputed"
    assert manager.get("answer") == "recomputed"
    assert not marker.exists()
    assert manager.metrics.snapshot()["errors"] >= 1


def test_weaviate_extra_explains_itself() -> None:
    """``WeaviateBackend`` exists for 0.3.0 code and says why there is none and what to use."""
    from omnicache_ai.backends.vector_backend import WeaviateBackend  # 0.3.0's path

    with pytest.raises(ConfigurationError, match=r"no Weaviate backend.*QdrantBackend"):
        WeaviateBackend(url="http://localhost:8080")
