"""The checks' fifty-third round, each rule on questions of our own (not from any data set).

The round was fitted on what the forty-nine spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the fiftieth
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
        # The same setting put first in both: who does what to whom is still read.
        ("In the nativity play, who visits the shepherds?",
         "In the nativity play, who do the shepherds visit?", "roles"),
        ("At the village fair, who judges the bakers?",
         "At the village fair, who do the bakers judge?", "roles"),
    ],
)  # fmt: skip
def test_round53_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("In the nativity play, who visits the shepherds?",
         "In the nativity play, who is it that visits the shepherds?"),
        ("In the nativity play, who do the shepherds visit?",
         "In the nativity play, who is visited by the shepherds?"),
        # No setting first, or one text's only: read as before.
        ("Who visits the shepherds?", "Who is it that visits the shepherds?"),
        ("Who visits the shepherds in the nativity play?",
         "In the nativity play, who visits the shepherds?"),
    ],
)  # fmt: skip
def test_round53_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
