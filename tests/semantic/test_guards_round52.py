"""The checks' fifty-second round, each rule on questions of our own (not from any data set).

The round was fitted on what the forty-eight spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); the
forty-ninth blind set, unread when it was committed, is what will measure it. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # A tonne is a unit of mass: priced per tonne is not priced per square metre.
        ("How much is a square metre of oak flooring?", "How much is a tonne of oak flooring?",
         "numbers"),
        # Where a thing comes from is no "what" question.
        ("Where did the stone for the abbey come from?", "What stone was the abbey built of?",
         "aspect"),
    ],
)  # fmt: skip
def test_round52_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How heavy is a tonne bag of gravel?", "How much does a tonne bag of gravel weigh?"),
        ("Is half a tonne of logs enough for a winter?", "Are 500 kg of logs enough for a winter?"),
        # The origins or the source of a thing ask where it comes from.
        ("What are the origins of the maypole?", "Where does the maypole come from?"),
        ("What was the source of the abbey's stone?", "Where did the abbey's stone come from?"),
    ],
)  # fmt: skip
def test_round52_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
