"""The checks' eighteenth round, each rule on questions of our own (not from any data set).

The round was fitted on what the fourteen spent blind sets had turned away, and on the pair
model's training files (see ``benchmarks/data/README.md``); its held-out figures come from the
fifteenth blind set, printed by ``benchmarks/bench_semantic_quality.py``. Every case runs both
ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, _content, check_guards, features
from omnicache_ai.layers._lexical import lexical_available

ALL = GuardConfig()
needs_wordnet = pytest.mark.skipif(not lexical_available(), reason="needs the lexical extra")


@needs_wordnet
@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "Give way" is one lemma to WordNet, and it means "yield".
        ("Do cyclists yield to trams in Zurich?", "Do cyclists give way to trams in Zurich?"),
        # "Max" is "maximum".
        ("What's the maximum load of a roof rack?", "What's the max load of a roof rack?"),
    ],
)  # fmt: skip
def test_round18_lexical_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@needs_wordnet
def test_light_verb_only_with_its_lemma() -> None:
    # "Give way" merges; "give advice" is no lemma and stays two words ("advice" compared).
    fa = features("Do cyclists give way to trams?")
    assert "give_way" in _content(fa, fa)
    assert "way" not in _content(fa, fa)  # read once, as the lemma
    fb = features("Should I give advice to trainees?")
    assert "advice" in _content(fb, fb)
    # Merged, the lemma is still compared: "give way" / "give birth" is a substitution.
    assert check_guards("Do cyclists give way to trams?", "Do cyclists give birth to trams?",
                        ALL) == "lexical"  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # "In what situation" asks when; against where it differs.
        ("Where should I move the uprights?", "In what situation should I move the uprights?",
         "aspect"),
    ],
)  # fmt: skip
def test_round18_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


def test_in_what_situation_asks_when() -> None:
    assert check_guards("When should I reseed a lawn?",
                        "In what situation should I reseed a lawn?", ALL) is None  # fmt: skip
