"""Which threshold a semantic cache uses: the embedder's calibrated one unless told otherwise.

Real embedders throughout; a test whose model package is missing is skipped (failing under
``CI=true``, like the other model-backed tests).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from _ci import need
from omnicache_ai import OmnicacheSettings
from omnicache_ai.embedders import (
    DEFAULT_EMBEDDER,
    RECOMMENDED_THRESHOLDS,
    Embedder,
    HashingEmbedder,
    load_embedder,
)
from omnicache_ai.embedders import default as default_embedders
from omnicache_ai.layers.semantic_cache import DEFAULT_THRESHOLD, SemanticCache

FR = "What is the capital of France?"
FR_PARA = "Which city is the capital of France?"


def _preset(name: str, module: str) -> Embedder:
    need(module)
    return load_embedder(name)


def test_default_threshold_is_the_default_embedders() -> None:
    """DEFAULT_THRESHOLD is wordllama's calibrated 0.89, the default preset's."""
    assert DEFAULT_EMBEDDER == "wordllama"
    assert DEFAULT_THRESHOLD == RECOMMENDED_THRESHOLDS["wordllama"] == 0.89


def test_zero_config_knows_its_threshold_without_loading_the_model() -> None:
    """SemanticCache() resolves 0.89 at construction; the model loads on first use only."""
    loaded_before = dict(default_embedders._cache)
    cache = SemanticCache()
    assert cache.threshold == 0.89
    assert cache._embedder is None  # still lazy
    assert default_embedders._cache == loaded_before


def test_minilm_embedder_uses_its_own_threshold() -> None:
    """threshold=None with the int8 MiniLM means its calibrated 0.88, not the default's."""
    minilm = _preset("minilm-l6-int8", "onnxruntime")
    cache = SemanticCache(embedder=minilm)
    assert cache.threshold == 0.88
    cache.set(FR, "Paris")
    r = cache.lookup(FR_PARA)
    assert (r.hit, r.tier, r.threshold) == (True, "semantic", 0.88)


def test_wordllama_embedder_uses_its_own_threshold() -> None:
    """The default model passed explicitly resolves to the same 0.89 and hits a paraphrase."""
    cache = SemanticCache(embedder=_preset("wordllama", "wordllama"))
    assert cache.threshold == 0.89
    cache.set(FR, "Paris")
    r = cache.lookup(FR_PARA)
    assert (r.hit, r.value, r.threshold) == (True, "Paris", 0.89)


def test_explicit_threshold_wins() -> None:
    """A threshold passed to the cache overrides any calibration."""
    minilm = _preset("minilm-l6-int8", "onnxruntime")
    assert SemanticCache(embedder=minilm, threshold=0.9).threshold == 0.9
    assert SemanticCache(threshold=0.9).threshold == 0.9


def test_uncalibrated_model_falls_back_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    """No calibration (hashing, embed_fn): DEFAULT_THRESHOLD, with a log line saying why."""
    with caplog.at_level(logging.INFO, logger="omnicache_ai"):
        assert SemanticCache(embedder=HashingEmbedder()).threshold == DEFAULT_THRESHOLD
        fn = SemanticCache(embed_fn=lambda text: np.ones(8, dtype=np.float32))
        assert fn.threshold == DEFAULT_THRESHOLD
    messages = [r.getMessage() for r in caplog.records]
    assert any("no calibrated semantic threshold for 'hashing-256'" in m for m in messages)
    assert any("no calibrated semantic threshold for embed_fn" in m for m in messages)


def test_custom_embedder_declares_its_threshold() -> None:
    """An embedder's recommended_threshold attribute is honoured."""

    class Calibrated(HashingEmbedder):
        recommended_threshold = 0.9

    assert SemanticCache(embedder=Calibrated()).threshold == 0.9


# ---- settings --------------------------------------------------------------------------------
def test_settings_without_threshold_use_the_embedders() -> None:
    """OMNICACHE_SEMANTIC_THRESHOLD unset: each preset's calibrated threshold."""
    s = OmnicacheSettings.from_env({})
    assert (s.embedder, s.semantic_threshold) == ("wordllama", None)
    assert s.effective_semantic_threshold() == 0.89
    minilm = OmnicacheSettings.from_env({"OMNICACHE_EMBEDDER": "minilm-l6-int8"})
    assert minilm.effective_semantic_threshold() == 0.88
    hashing = OmnicacheSettings(embedder="hashing")
    assert hashing.effective_semantic_threshold() == DEFAULT_THRESHOLD
    assert hashing.build_semantic_cache().threshold == DEFAULT_THRESHOLD


def test_settings_build_minilm_cache_with_its_threshold() -> None:
    """build_semantic_cache() with the MiniLM preset and no threshold: 0.88."""
    _preset("minilm-l6-int8", "onnxruntime")
    cache = OmnicacheSettings(embedder="minilm-l6-int8").build_semantic_cache()
    assert cache.threshold == 0.88


def test_settings_build_default_cache_with_its_threshold() -> None:
    """build_semantic_cache() with every default: wordllama at 0.89, hitting a paraphrase."""
    _preset("wordllama", "wordllama")
    cache = OmnicacheSettings().build_semantic_cache()
    assert (cache.embedder.name, cache.threshold) == ("wordllama-l2_supercat-256", 0.89)
    cache.set(FR, "Paris")
    assert cache.get(FR_PARA) == "Paris"


def test_settings_threshold_from_env_wins() -> None:
    """OMNICACHE_SEMANTIC_THRESHOLD overrides the calibrated threshold; 'none' unsets it."""
    env = {"OMNICACHE_EMBEDDER": "hashing", "OMNICACHE_SEMANTIC_THRESHOLD": "0.91"}
    s = OmnicacheSettings.from_env(env)
    assert s.effective_semantic_threshold() == 0.91
    assert s.build_semantic_cache().threshold == 0.91
    unset = OmnicacheSettings.from_env({"OMNICACHE_SEMANTIC_THRESHOLD": "none"})
    assert unset.semantic_threshold is None


def test_adaptive_floor_is_capped_at_a_calibrated_start() -> None:
    """An adaptive cache from settings never gets a floor above its starting threshold."""
    s = OmnicacheSettings(embedder="hashing", semantic_adaptive=True)
    cache = s.build_semantic_cache()
    assert cache.threshold == DEFAULT_THRESHOLD
    assert cache.floor == min(s.semantic_threshold_floor, DEFAULT_THRESHOLD)


# ---- the demo ----------------------------------------------------------------------------------
def test_demo_serves_rephrasings_with_no_wrong_answer() -> None:
    """The README's demo, on the default embedder and its threshold: semantic hits, 0 wrong."""
    _preset("wordllama", "wordllama")
    from omnicache_ai.demo import run_demo

    lines: list[str] = []
    result = run_demo(requests=80, latency_scale=0, out=lines.append)
    report = "\n".join(lines)
    semantic_hits = int(report.split("semantic layer")[1].split()[0])
    assert semantic_hits > 0, report
    assert result.wrong_answers == 0, report
