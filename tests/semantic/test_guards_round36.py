"""The checks' thirty-sixth round, each rule on questions of our own (not from any data set).

The round was fitted on what the thirty-two spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the thirty-third
blind set, unread when it was committed, is what will measure it. Every case runs both ways
round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # A statement that asks what follows it.
        ("I'd like to know when the lighthouse was built.",
         "I'd like to know who built the lighthouse.", "aspect"),
        ("I wonder where the ferry leaves from.", "I wonder when the ferry leaves.", "aspect"),
        # "Never ... before" against a text that names no first time: still a "not".
        ("Can I join if I have never raced before?", "Can I join if I have raced before?",
         "negation"),
        # A "never" with no "before" is a "not", whatever the other text says of a first go.
        ("Do you never win on your first go?", "Do you win on your first go?", "negation"),
    ],
)  # fmt: skip
def test_round36_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "Never done it before" is a first time, a beginner.
        ("Which kite should I buy if I've never flown one before?",
         "Which kite is best for beginners?"),
        ("I've never sold at a car boot sale before, how do I start?",
         "How do I start selling at my first car boot sale?"),
    ],
)  # fmt: skip
def test_round36_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_round36_a_statement_that_asks_nothing_is_no_question() -> None:
    # Only an opener that asks ("I'd like to know", "I wonder") makes a statement a question.
    a, b = "I know when the shop opens on Sundays.", "I know where the shop opens on Sundays."
    assert check_guards(a, b, ALL) is None
