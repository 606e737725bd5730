"""The checks' thirty-first round, each rule on questions of our own (not from any data set).

The round was fitted on what the twenty-seven spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the twenty-eighth blind set, printed by
``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Two numbers trading places, the words kept.
        ("In weekend club play at our local course, how many strokes does a 10-handicap golfer "
         "get against a 20-handicap golfer?",
         "In weekend club play at our local course, how many strokes does a 20-handicap golfer "
         "get against a 10-handicap golfer?", "roles"),
        # What follows a thing against how a person does it.
        ("What happens when you get a yellow card in hockey?",
         "How do you get a yellow card in hockey?", "aspect"),
    ],
)  # fmt: skip
def test_round31_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "What happens to X when" against how X changes: no person doing it.
        ("What happens to bread dough when it gets cold?", "How does cold affect bread dough?"),
        # What a thing is good for asks why one would choose it.
        ("Why would I want a bike with disc brakes?",
         "What are the advantages of a bike with disc brakes?"),
        ("Why is rowing good for runners?", "What's the benefit of rowing for runners?"),
        # "..., and if so where?" asks where.
        ("Does anyone still play quoits today, and if so where?",
         "Where is quoits still played today?"),
        # "How common" asks "how often"; "how tough / rough" asks "how hard".
        ("How common are hat-tricks in hockey?",
         "How often do players score hat-tricks in hockey?"),
        ("How tough is switching from skis to a snowboard?",
         "How hard is switching from skis to a snowboard?"),
    ],
)  # fmt: skip
def test_round31_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_round31_two_numbers_of_one_by_trade_freely() -> None:
    # The role check reads "10 by 20" / "20 by 10" as one size (the entities check, off here,
    # reads numbers in order on its own).
    a = "Is a 10 by 20 tent big enough for four?"
    b = "Is a 20 by 10 tent big enough for four?"
    no_entities = GuardConfig(entities=False)
    assert check_guards(a, b, no_entities) is None
    assert check_guards(b, a, no_entities) is None
