"""OMNICACHE_* settings for the semantic cache: parsing, validation, build_semantic_cache()."""

from __future__ import annotations

from pathlib import Path

import pytest

from _ci import need
from omnicache_ai import OmnicacheSettings
from omnicache_ai.core.errors import ConfigurationError
from omnicache_ai.layers.semantic_cache import AdaptiveSemanticCache, SemanticCache


def test_from_env_reads_semantic_fields(tmp_path: Path) -> None:
    """Every semantic setting is read from its OMNICACHE_ variable."""
    s = OmnicacheSettings.from_env({
        "OMNICACHE_VECTOR_BACKEND": "faiss",
        "OMNICACHE_VECTOR_PATH": str(tmp_path),
        "OMNICACHE_EMBEDDER": "hashing",
        "OMNICACHE_SEMANTIC_GUARDS": "negation,numbers",
        "OMNICACHE_SEMANTIC_ADAPTIVE": "true",
        "OMNICACHE_SEMANTIC_TARGET_FALSE_HIT_RATE": "0.02",
        "OMNICACHE_SEMANTIC_THRESHOLD_FLOOR": "0.75",
        "OMNICACHE_SEMANTIC_THRESHOLD": "0.85",
    })  # fmt: skip
    assert (s.vector_backend, s.vector_path, s.embedder) == ("faiss", str(tmp_path), "hashing")
    assert s.guard_config().enabled == ("negation", "numbers")
    assert s.semantic_adaptive is True
    assert (s.semantic_target_false_hit_rate, s.semantic_threshold_floor) == (0.02, 0.75)


@pytest.mark.parametrize(
    ("var", "value"),
    [("OMNICACHE_VECTOR_BACKEND", "pinecone"), ("OMNICACHE_EMBEDDER", "gpt"),
     ("OMNICACHE_SEMANTIC_GUARDS", "negation,vibes"),
     ("OMNICACHE_SEMANTIC_TARGET_FALSE_HIT_RATE", "0"),
     ("OMNICACHE_SEMANTIC_THRESHOLD_FLOOR", "1.5")],
)  # fmt: skip
def test_bad_semantic_settings_name_the_variable(var: str, value: str) -> None:
    """A bad value fails at start-up with the variable's name in the message."""
    with pytest.raises(ConfigurationError, match=var):
        OmnicacheSettings.from_env({var: value})


def test_build_semantic_cache_persists_faiss_index(tmp_path: Path) -> None:
    """build_semantic_cache wires embedder, threshold, guards and a persistent FAISS index."""
    need("faiss", extra="faiss")
    s = OmnicacheSettings(backend="disk", disk_path=str(tmp_path / "kv"), embedder="hashing",
                          vector_backend="faiss", vector_path=str(tmp_path / "vec"),
                          semantic_threshold=0.8, semantic_guards="none")  # fmt: skip
    cache = s.build_semantic_cache()
    assert type(cache) is SemanticCache
    assert cache.threshold == 0.8
    assert cache.guards.enabled == ()
    cache.set("What is the capital of France?", "Paris")
    cache.close()
    cache.manager.close()
    again = s.build_semantic_cache()
    r = again.lookup("what is the capital of france")
    assert (r.hit, r.tier, r.value) == (True, "semantic", "Paris")
    again.close()
    again.manager.close()


def test_build_adaptive_semantic_cache() -> None:
    """semantic_adaptive builds an AdaptiveSemanticCache with the target and floor."""
    s = OmnicacheSettings(embedder="hashing", semantic_adaptive=True, semantic_threshold=0.9,
                          semantic_target_false_hit_rate=0.05,
                          semantic_threshold_floor=0.8)  # fmt: skip
    cache = s.build_semantic_cache()
    assert isinstance(cache, AdaptiveSemanticCache)
    assert (cache.target, cache.floor, cache.threshold) == (0.05, 0.8, 0.9)
