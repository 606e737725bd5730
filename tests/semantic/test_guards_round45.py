"""The checks' forty-fifth round, each rule on questions of our own (not from any data set).

The round was fitted on what the forty-one spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the
forty-second blind set, unread when it was committed, is what will measure it. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # A weekday in the plural is still that day.
        ("Which pubs run a quiz night on Tuesdays?", "Which pubs run a quiz night on Wednesdays?",
         "numbers"),
        # One of a unit said without a number against another number of it.
        ("Should we cut prices in the last hour of the sale?",
         "Should we cut prices in the last 2 hours of the sale?", "numbers"),
        ("Is a week enough to see Rome?", "Are 3 weeks enough to see Rome?", "numbers"),
        # "Half an hour" is no hour.
        ("How many calories does half an hour of rowing burn?",
         "How many calories does an hour of rowing burn?", "numbers"),
    ],
)  # fmt: skip
def test_round45_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Which pubs hold a quiz night on a Tuesday?", "Which pubs hold a quiz night on Tuesdays?"),
        # "The last hour" is sixty minutes, "a week" seven days.
        ("Should we cut prices in the final sixty minutes of the sale?",
         "Should we cut prices in the last hour of the sale?"),
        ("Is a week enough to see Rome?", "Are 7 days enough to see Rome?"),
        ("Should we cut prices in the last hour of the sale?",
         "Should we cut prices in the last 1 hour of the sale?"),
        # "An eighth of an inch" is no inch.
        ("Is 1/8 inch of ice on the path dangerous?",
         "Is an eighth of an inch of ice on the path dangerous?"),
    ],
)  # fmt: skip
def test_round45_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
