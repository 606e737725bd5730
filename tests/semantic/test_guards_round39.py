"""The checks' thirty-ninth round, each rule on questions of our own (not from any data set).

The round was fitted on what the thirty-five spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the thirty-sixth
blind set, unread when it was committed, is what will measure it. Every case runs both ways
round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, _apart, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Cause and effect traded across two verbs of one thing acting on another.
        ("Does a damp cellar cause peeling paint?", "Does peeling paint affect a damp cellar?",
         "roles"),
        ("Does screen time influence sleep quality?", "Does sleep quality impact screen time?",
         "roles"),
        # The owner still changes between two people or things named apart.
        ("Can my sister drive my dad's van?", "Can my dad drive my sister's van?", "roles"),
    ],
)  # fmt: skip
def test_round39_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # An owner named in several words, read whole after "of".
        ("What's the Brompton C Line folding bike's weight limit?",
         "What's the weight limit of the Brompton C Line folding bike?"),
        ("What is the Royal Albert Hall's seating plan?",
         "What is the seating plan of the Royal Albert Hall?"),
    ],
)  # fmt: skip
def test_round39_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_round39_an_owner_is_whole_only_after_of() -> None:
    # Words in one run before a verb are not one name: "the HR team borrow finance's ...".
    tokens = ("can", "the", "hr", "team", "borrow", "finances", "shredder")
    assert _apart("hr", "financ", tokens)
    assert not _apart("albert", "hall", ("the", "plan", "of", "the", "royal", "albert", "hall"))
    # The run ends at the first function word after the name.
    assert _apart("hall", "plan", ("the", "plan", "of", "the", "hall", "in", "the", "plan"))
