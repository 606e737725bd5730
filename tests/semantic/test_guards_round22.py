"""The checks' twenty-second round, each rule on questions of our own (not from any data set).

The round was fitted on what the eighteen spent blind sets had turned away, and on the pair
model's training files (see ``benchmarks/data/README.md``); its held-out figures come from the
nineteenth blind set, printed by ``benchmarks/bench_semantic_quality.py``. Every case runs
both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The unit a question asks its answer in ("how many hours") against one that asks
        # with a question word alone ("how long"): the aspect check compares what is asked.
        ("How many hours does it take to paint one fence panel?",
         "How long does it take to paint one fence panel?"),
        ("How many years does a 2-metre hedge take to grow?",
         "How long does a 2-metre hedge take to grow?"),
        # The other text names the asked unit itself ("kcal in ..."): the same answer.
        ("How many calories are in 100 g of rice?", "kcal in 100 g of rice?"),
        # "w/o" is "without".
        ("Can I prune roses w/o gloves?", "Can I prune roses without gloves?"),
    ],
)  # fmt: skip
def test_round22_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Another asked unit: the answer's unit differs.
        ("How many minutes does one fence panel take?", "How many hours does one fence panel take?",
         "numbers"),
        # A unit the other text names on its own ("in ounces") still counts.
        ("How many grams of sugar are in one cup of jam?",
         "What does the sugar in one cup of jam weigh in ounces?", "numbers"),
        # Two things counted: "how much water" against "how many calories".
        ("How many calories do you lose in a 20-minute swim?",
         "How much water do you lose in a 20-minute swim?", "numbers"),
        # "w/o" negates as "without" does.
        ("Can I prune roses w/o gloves?", "Can I prune roses with gloves?", "negation"),
    ],
)  # fmt: skip
def test_round22_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


def test_w_slash_o_only_as_a_word() -> None:
    assert "without" in features("Tea w/o sugar?").tokens
    assert "without" not in features("a 100 W/m2 panel").tokens
    assert "without" not in features("Tea w/ sugar?").tokens  # "w/" is left as it is
    assert "olive" in features("Fry it w/olive oil").tokens  # not "w/o" then "live"
