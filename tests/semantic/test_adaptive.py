"""AdaptiveSemanticCache: thresholds move on evidence (reports, verification), never below floor."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicache_ai.embedders import Embedder, HashingEmbedder
from omnicache_ai.layers.semantic_cache import (
    AdaptiveSemanticCache,
    SemanticResult,
    estimate_threshold,
)

Q = "what is the boiling point of water at sea level"
Q_NEAR = "what is the boiling point of pure water at sea level"


@given(
    obs=st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans()), max_size=60),
    start=st.floats(0.5, 0.99),
    target=st.floats(0.001, 0.3),
)
@settings(max_examples=200, deadline=None)
def test_estimate_never_below_floor_and_wrong_answers_lift(
    obs: list[tuple[float, bool]], start: float, target: float
) -> None:
    """The estimate stays in [floor, 1]; strict mode lifts it above every wrong answer >= start."""
    floor = start - 0.2
    t = estimate_threshold(obs, start, floor, target)
    assert floor <= t <= 1.0
    strict = estimate_threshold(obs, start, floor, target, strict=True)
    for s, ok in obs:
        if not ok and s >= start:
            assert strict > s or strict == 1.0


def test_estimate_needs_evidence_to_go_down() -> None:
    """A few confirmations do not lower the threshold; enough of them (for the target) do."""
    assert estimate_threshold([(0.8, True)] * 5, 0.9, 0.7, 0.01) == 0.9
    assert estimate_threshold([(0.8, True)] * 98, 0.9, 0.7, 0.01) == 0.8
    assert estimate_threshold([(0.8, True)] * 20, 0.9, 0.7, 0.05) == 0.8


def test_estimate_respects_floor() -> None:
    """Even overwhelming evidence at low similarity stops at the floor."""
    assert estimate_threshold([(0.5, True)] * 500, 0.9, 0.7, 0.01) == 0.9
    assert estimate_threshold([(0.5, True)] * 500 + [(0.75, True)] * 500, 0.9, 0.7, 0.01) == 0.75


def _adaptive(**kw: Any) -> AdaptiveSemanticCache:
    return AdaptiveSemanticCache(embedder=HashingEmbedder(dim=64), threshold=0.8, **kw)


def test_wrong_report_raises_that_entry_above_its_similarity() -> None:
    """After a wrong semantic hit is reported, the same near query misses."""
    cache = _adaptive(floor=0.7)
    cache.set(Q, "100 °C")
    r = cache.lookup(Q_NEAR)
    assert r.tier == "semantic"
    assert r.similarity is not None
    cache.report(r, correct=False)
    assert r.entry_id is not None
    assert cache.current_threshold(r.entry_id) > r.similarity
    assert cache.lookup(Q_NEAR).hit is False
    assert cache.stats()["observed_false_hit_rate"] == 1.0


def test_per_entry_thresholds_differ() -> None:
    """With enough good evidence overall, one entry's wrong answer raises only that entry."""
    cache = _adaptive(floor=0.7)
    cache.set(Q, "100 °C")
    cache.set("how far away is the moon from the earth", "384,400 km")
    good = cache.lookup("how far away is the moon from our earth")
    bad = cache.lookup(Q_NEAR)
    assert good.tier == "semantic"
    assert bad.tier == "semantic"
    for _ in range(300):
        cache.report(good, correct=True)
    cache.report(bad, correct=False)
    assert bad.entry_id is not None
    assert good.entry_id is not None
    assert cache.current_threshold() == 0.8
    assert bad.similarity is not None
    assert cache.current_threshold(bad.entry_id) > bad.similarity
    assert cache.current_threshold(good.entry_id) <= 0.8
    assert cache.lookup("how far away is the moon from our earth").hit


def test_borderline_hits_are_verified_and_teach() -> None:
    """A candidate just under the threshold is verified; confirmations lower the threshold."""
    seen: list[tuple[str, str, Any]] = []

    def verify(query: str, cached: str, answer: Any) -> bool:
        seen.append((query, cached, answer))
        return True

    cache = AdaptiveSemanticCache(embedder=HashingEmbedder(dim=64), threshold=0.99,
                                  floor=0.5, verify=verify, verify_band=0.5,
                                  target_false_hit_rate=0.1)  # fmt: skip
    cache.set(Q, "100 °C")
    r = cache.lookup(Q_NEAR)
    assert r.similarity is not None
    assert r.similarity < 0.99
    assert r.hit
    assert seen == [(Q_NEAR, Q, "100 °C")]
    for _ in range(10):
        cache.lookup(Q_NEAR)
    assert cache.current_threshold() <= r.similarity
    verified = len(seen)
    assert cache.lookup(Q_NEAR).hit
    assert len(seen) == verified
    assert cache.stats()["verifications"] == verified


def test_rejected_verification_is_a_miss() -> None:
    """A borderline candidate the verifier rejects is not served."""
    cache = AdaptiveSemanticCache(embedder=HashingEmbedder(dim=64), threshold=0.99,
                                  floor=0.5, verify=lambda q, c, a: False,
                                  verify_band=0.5)  # fmt: skip
    cache.set(Q, "100 °C")
    assert cache.lookup(Q_NEAR).hit is False


async def test_async_verifier_is_awaited() -> None:
    """An async verifier works on the async path."""

    async def verify(query: str, cached: str, answer: Any) -> bool:
        return answer == "100 °C"

    cache = AdaptiveSemanticCache(embedder=HashingEmbedder(dim=64), threshold=0.99,
                                  floor=0.5, verify=verify, verify_band=0.5)  # fmt: skip
    await cache.aset(Q, "100 °C")
    assert (await cache.alookup(Q_NEAR)).hit


def test_floor_is_never_crossed_by_feedback() -> None:
    """Floods of confirmations at low similarity never push the threshold under the floor."""
    cache = _adaptive(floor=0.75)
    for i in range(400):
        cache.report(SemanticResult(True, "x", 0.6, "semantic", "q", f"e{i % 3}"), correct=True)
    assert cache.current_threshold() >= 0.75
    assert cache.current_threshold("e1") >= 0.75


def test_report_validates_and_ignores_exact_hits() -> None:
    """report() needs a SemanticResult; exact hits and misses teach nothing."""
    cache = _adaptive()
    cache.set(Q, "100 °C")
    cache.report(cache.lookup(Q), correct=False)
    assert cache.stats()["reports"] == 0
    with pytest.raises(TypeError):
        cache.report(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="floor"):
        _adaptive(floor=0.9)
    with pytest.raises(ValueError, match="target"):
        _adaptive(target_false_hit_rate=0)


def test_adaptive_with_real_embedder(real_embedder: Embedder) -> None:
    """With the default embedder a reported wrong paraphrase hit stops being served."""
    cache = AdaptiveSemanticCache(embedder=real_embedder)
    cache.set("How long should I boil an egg?", "9 minutes")
    r = cache.lookup("How long do I boil an egg for?")
    assert r.tier == "semantic"
    cache.report(r, correct=False)
    assert cache.lookup("How long do I boil an egg for?").hit is False
