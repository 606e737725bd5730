"""The checks' fortieth round, each rule on questions of our own (not from any data set).

The round was fitted on what the thirty-six spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the thirty-seventh
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
        # "A single person" counts one.
        ("How big a tent do I need for a single person?",
         "How big a tent do I need for a family of five?", "numbers"),
        ("Is the single player mode free?", "Is the 2 player mode free?", "numbers"),
        # "Semi-X" against X: only partly what the other text says.
        ("Can I use a semi-automatic watch for diving?", "Can I use an automatic watch for diving?",
         "negation"),
    ],
)  # fmt: skip
def test_round40_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "A single" counts people only.
        ("Is a single malt whisky better neat?", "Is a malt whisky better neat?"),
        # "A semi" is the house itself; both texts saying "semi-" agree.
        ("How much does it cost to paint a semi?",
         "How much does it cost to paint a semi-detached house?"),
        ("Is a semi-automatic watch worth it?", "Is a semi-automatic watch worth buying?"),
    ],
)  # fmt: skip
def test_round40_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
