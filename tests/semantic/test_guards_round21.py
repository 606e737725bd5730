"""The checks' twenty-first round, each rule on questions of our own (not from any data set).

The round was fitted on what the seventeen spent blind sets had turned away or let through,
and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the eighteenth blind set, printed by
``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # "What do you V" asks what is V-ed, "how do you V" the way to V.
        ("What do you win at the county show?", "How do you win the county show?", "aspect"),
        ("What did the crew find in the cave?", "How did the crew find the cave?", "aspect"),
        # "How many miles" asks a distance: not a time.
        ("How many miles is the ferry crossing?", "How long is the ferry crossing?", "aspect"),
    ],
)  # fmt: skip
def test_round21_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "How many miles / km" asks how far.
        ("How many miles is Leeds from York?", "How far is Leeds from York in miles?"),
        ("How many km did the relay team cover?", "How far did the relay team cover in km?"),
        # "Which parts of" asks where, as "which part of" does.
        ("In which parts of Spain is pelota played?", "Where is pelota played in Spain?"),
        # "What do I do to V" is another verb: the way to V, as "how do I V" asks.
        ("What do I do to win at bingo?", "How do I win at bingo?"),
    ],
)  # fmt: skip
def test_round21_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_metres_of_a_thing_stay_an_amount() -> None:
    # "How many metres of rope" asks how much rope, as "how much rope" does; not how far.
    assert check_guards("How many metres of rope do I need for a swing?",
                        "How much rope do I need for a swing?", ALL) is None  # fmt: skip
    assert check_guards("How many metres of rope do I need for a swing?",
                        "How far should the swing be from the tree?", ALL) is not None  # fmt: skip
