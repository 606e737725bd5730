"""Which semantic candidate is served: the rank rule after a veto, and the grey-zone verifier.

Vectors are given by hand (``embed_fn`` over a table) so that every similarity is exact: the
query is the unit vector e1 and each cached question sits at a chosen cosine from it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from omnicache_ai import SemanticCache
from omnicache_ai.backends.vector import NumpyBackend
from omnicache_ai.layers.semantic_cache import RANK_MARGIN

QUERY = "How do I disable dark mode?"
# Vetoed by the negation guard against QUERY (enable / disable).
VETOED = "How do I enable dark mode?"
# Passes every guard against QUERY on its own (another wording of the same question).
GOOD = "How can I switch off dark mode?"
# Fails a guard against QUERY on its own (light / dark).
BAD = "How do I disable light mode?"


def _at(cos: float, angle: float) -> list[float]:
    """A unit vector at cosine ``cos`` from e1, turned by ``angle`` in the other two axes."""
    rest = math.sqrt(1 - cos * cos)
    return [cos, rest * math.cos(angle), rest * math.sin(angle)]


def _cache(scores: dict[str, float], **kwargs: Any) -> SemanticCache:
    table = {QUERY: [1.0, 0.0, 0.0]}
    for n, (text, cos) in enumerate(scores.items()):
        table[text] = _at(cos, 0.7 * (n + 1))
    cache = SemanticCache(embed_fn=table.__getitem__, vector_backend=NumpyBackend(dim=3),
                          threshold=0.8, **kwargs)  # fmt: skip
    for text in scores:
        cache.set(text, f"answer to {text}")
    return cache


def _q(cos: float) -> str:
    return f"query at {cos}"


def test_lower_candidate_far_below_a_vetoed_one_is_not_served() -> None:
    """A guard vetoes the best candidate; one more than RANK_MARGIN below it is a miss."""
    cache = _cache({VETOED: 0.95, GOOD: 0.95 - RANK_MARGIN - 0.03})
    r = cache.lookup(QUERY)
    assert not r.hit
    assert r.guard == "negation"
    assert r.matched_query == VETOED
    assert cache.stats()["outranked"] == 1


def test_lower_candidate_within_margin_passing_every_check_is_served() -> None:
    """Within RANK_MARGIN of the vetoed candidate, a candidate that passes on its own is served."""
    cache = _cache({VETOED: 0.95, GOOD: 0.95 - RANK_MARGIN / 2})
    r = cache.lookup(QUERY)
    assert r.hit
    assert r.value == f"answer to {GOOD}"


def test_lower_candidate_within_margin_must_still_pass_its_own_checks() -> None:
    """Being close to the vetoed candidate is not enough: its own guards still apply."""
    cache = _cache({VETOED: 0.95, BAD: 0.95 - RANK_MARGIN / 2})
    r = cache.lookup(QUERY)
    assert not r.hit
    assert r.guard == "negation"
    assert cache.stats()["guard_rejections"] == {"negation": 1}


def test_without_a_veto_a_lower_candidate_is_served() -> None:
    """The rule is about vetoes only: a best candidate whose payload is gone is skipped."""
    cache = _cache({GOOD: 0.95, "How do I turn off dark mode?": 0.85})
    cache.delete(GOOD)
    cache.vector_backend.add([GOOD], np.array([_at(0.95, 0.7)], dtype=np.float32),
                             [{"p": cache._request(GOOD, None, None, None).partition,
                               "k": "gone", "q": GOOD}])  # fmt: skip
    r = cache.lookup(QUERY)
    assert r.hit
    assert r.matched_query == "How do I turn off dark mode?"


def test_verifier_runs_only_on_grey_zone_candidates() -> None:
    """The verifier sees candidates in [threshold - band, threshold + above) and no others."""
    seen: list[str] = []

    def verify(query: str, cached: str, answer: Any) -> bool:
        seen.append(query)
        return True

    cached = "How do I switch off dark mode?"
    scores = [0.95, 0.84, 0.80, 0.76, 0.70]
    table = {cached: [1.0, 0.0, 0.0]} | {_q(c): _at(c, 1.0) for c in scores}
    cache = SemanticCache(embed_fn=table.__getitem__, vector_backend=NumpyBackend(dim=3),
                          threshold=0.8, verify=verify, verify_band=0.05,
                          verify_above=0.05)  # fmt: skip
    cache.set(cached, "Settings > Display")
    served = {c: cache.lookup(_q(c)).hit for c in scores}
    assert served == {0.95: True, 0.84: True, 0.80: True, 0.76: True, 0.70: False}
    assert seen == [_q(0.84), _q(0.80), _q(0.76)]
    assert cache.stats()["verifications"] == 3


def test_verifier_never_sees_a_guard_vetoed_candidate() -> None:
    """Guards run first: a candidate they veto costs no verification."""
    seen: list[str] = []
    cache = _cache({VETOED: 0.82}, verify=lambda q, c, a: seen.append(c) or True,
                   verify_above=0.1)  # fmt: skip
    assert not cache.lookup(QUERY).hit
    assert seen == []


def test_verifier_rejection_is_a_veto_for_lower_candidates() -> None:
    """A candidate the verifier rejects counts as vetoed: a clearly lower one is not served."""
    cache = _cache({GOOD: 0.84, "How do I turn off dark mode?": 0.84 - RANK_MARGIN - 0.01},
                   verify=lambda q, c, a: c != GOOD, verify_above=0.1)  # fmt: skip
    r = cache.lookup(QUERY)
    assert not r.hit
    assert r.guard == "verifier"
    assert cache.stats()["guard_rejections"] == {"verifier": 1}


async def test_async_lookup_applies_the_same_rank_rule() -> None:
    """The async path shares the selection logic: the outranked candidate is a miss there too."""
    cache = _cache({VETOED: 0.95, GOOD: 0.95 - RANK_MARGIN - 0.03})
    r = await cache.alookup(QUERY)
    assert not r.hit
    assert r.guard == "negation"


@pytest.mark.parametrize("bad", [{"verify": 3}, {"verify_band": 1.0}, {"verify_above": -0.1}])
def test_bad_verifier_settings_are_named(bad: dict[str, Any]) -> None:
    """A non-callable verifier or an out-of-range band is refused with a clear error."""
    name = next(iter(bad))
    with pytest.raises((TypeError, ValueError), match=name):
        SemanticCache(embed_fn=lambda t: [1.0, 0.0], threshold=0.8, **bad)
