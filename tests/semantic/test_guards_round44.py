"""The checks' forty-fourth round, each rule on questions of our own (not from any data set).

The round was fitted on what the forty spent blind sets had let through or turned away, and
on the pair model's training files (see ``benchmarks/data/README.md``); the forty-first
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
        # The two sides of one comparison traded, however long each side ("water" ends in
        # "-er" and is no comparative).
        ("Is hard water worse for a boiler than soft water?",
         "Is soft water worse for a boiler than hard water?", "roles"),
        ("Is ordinary tap water better for orchids than filtered rain water?",
         "Is filtered rain water better for orchids than ordinary tap water?", "roles"),
        ("Is ordinary hard tap water cheaper for a household than bottled spring water?",
         "Is bottled spring water cheaper for a household than ordinary hard tap water?",
         "roles"),
        # "In a month" against a text that counts its months: one month is not three.
        ("How much salt does a softener use in a month?",
         "How much salt per month does a softener use over 3 months?", "numbers"),
        # "Life expectancy" is "lifespan", not any other attribute.
        ("What's the life expectancy of a combi boiler?",
         "What's the warranty of a combi boiler?", "lexical"),
    ],
)  # fmt: skip
def test_round44_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "In a day" / "per day": one day is the other's "per".
        ("How much water does a family of four use per day?",
         "How much water does a family of four use in a day?"),
        ("How much salt does a family of four use each month?",
         "How much salt does a family of four use in a month?"),
        ("How many loads does a family of four wash every week?",
         "How many loads does a family of four wash in a week?"),
        # "Life expectancy" / "lifespan".
        ("What's the life expectancy of a combi boiler?", "What's the lifespan of a combi boiler?"),
        # The converse comparative with the sides traded asks the same.
        ("Is rice better for dogs than pasta?", "Is pasta worse for dogs than rice?"),
        ("Is rice cheaper than pasta?", "Is pasta pricier than rice?"),
        # A comparison worded otherwise, or one side changed, is no trade.
        ("Is a heater cheaper to run than a boiler?",
         "Is running a heater cheaper than running a boiler?"),
    ],
)  # fmt: skip
def test_round44_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
