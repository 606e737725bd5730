"""The checks' sixteenth round, each rule on questions of our own (not from any data set).

The round was fitted on what the twelve spent blind sets had turned away, and on the pair
model's training files (see ``benchmarks/data/README.md``); its held-out figures come from the
thirteenth blind set, printed by ``benchmarks/bench_semantic_quality.py``. Every case runs
both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # "Best" against its opposite still differs.
        ("What's the best glue for balsa?", "What's the worst glue for balsa?", "negation"),
        # A quarter of an hour is no half hour; a quarter of a year no six months.
        ("Is a quarter of an hour of stretching enough?", "Is half an hour of stretching enough?",
         "numbers"),
        ("Can cider be ready after 6 months?", "Can cider be ready after a quarter of a year?",
         "numbers"),
        # "How big is each team" asks how many, not how heavy or how old.
        ("How big is each team in korfball?", "How old is each team in korfball?", "aspect"),
    ],
)  # fmt: skip
def test_round16_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "Best", "ideal" and "optimal" are words of fitness, as "good" and "suitable" are.
        ("What's the best water temperature for a betta?",
         "What's the ideal water temperature for a betta?"),
        ("What is the optimal tyre pressure for gravel?",
         "What is the best tyre pressure for gravel?"),
        # "A quarter of an hour" is 15 minutes.
        ("Is 15 minutes of scales a day enough?",
         "Is a quarter of an hour of scales each day enough?"),
        # "How big is each team" asks how many players.
        ("How many players are on a korfball team?", "How big is each team in korfball?"),
    ],
)  # fmt: skip
def test_round16_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_a_quarter_of_a_thing_is_no_number() -> None:
    # Only before a unit: "a quarter of the class" names no amount the check could compare.
    assert features("a quarter of the class").numbers == frozenset()
    assert features("a quarter of an hour").measures == {("0.25", "h")}
    # "Three quarters of a mile" is not read as a quarter.
    assert "0.25" not in features("three quarters of a mile").numbers
