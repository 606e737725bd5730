"""The checks' fiftieth round, each rule on questions of our own (not from any data set).

The round was fitted on what the forty-six spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the
forty-seventh blind set, unread when it was committed, is what will measure it. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # "What does it cost" asks how much, "what does it weigh" how heavy.
        ("What does a cast-iron bath cost?", "What does a cast-iron bath look like?", "aspect"),
        ("What does a cast-iron bath weigh?", "How much does a cast-iron bath cost?", "aspect"),
        # Which route against how long it takes.
        ("Which route does the ferry take to Guernsey?",
         "How long does the ferry take to reach Guernsey?", "aspect"),
        # The adjective of Cornwall names Cornwall, not Devon.
        ("Which Cornish harbours have lifeboats?", "Which harbours in Devon have lifeboats?",
         "entities"),
    ],
)  # fmt: skip
def test_round50_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What does a cast-iron bath cost?", "How much does a cast-iron bath cost?"),
        ("What does a cast-iron bath weigh?", "How heavy is a cast-iron bath?"),
        # "The cost" is a noun: what it includes is no amount.
        ("What does the cost of the survey include?", "What is included in the survey's cost?"),
        ("Which Cornish harbours have lifeboats?", "Which harbours in Cornwall have lifeboats?"),
        ("When was the pier most recently repainted?", "When was the pier last repainted?"),
        ("Which route does the ferry take to Guernsey?", "How does the ferry get to Guernsey?"),
    ],
)  # fmt: skip
def test_round50_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
