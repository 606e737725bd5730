"""The checks' twenty-fifth round, each rule on questions of our own (not from any data set).

The round was fitted on what the twenty-one spent blind sets had let through, and on the pair
model's training files (see ``benchmarks/data/README.md``); its held-out figures come from the
twenty-second blind set, printed by ``benchmarks/bench_semantic_quality.py``. Every case runs
both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Where a name comes from, asked three ways.
        ("Why is it called a yorker?", "Where does the name yorker come from?"),
        ("What's the origin of the term 'yorker'?", "Why is it called a yorker?"),
        # A person named once, in another word: no one moved ("I've" is "I").
        ("Can I enter the county show as a novice?", "Can a novice enter the county show?"),
        ("Do I need a licence to sell eggs at the gate?",
         "Does a smallholder need a licence to sell eggs at the gate?"),
        ("Where could I sell a fossil I've found?", "Where can I sell a fossil I found?"),
        # "first ... then" in the same order.
        ("Should I sand the deck first and then oil it?",
         "Should I sand the deck first, then oil it?"),
    ],
)  # fmt: skip
def test_round25_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Why a thing is called so is not where it began.
        ("Where did korfball originate?", "Why is it called korfball?", "aspect"),
        ("Where was the yo-yo invented?", "Why is it called a yo-yo?", "aspect"),
        # The speaker moved to another role, someone else put in theirs.
        ("After I double, do I choose the next stake?",
         "After I double, does my opponent choose the next stake?", "roles"),
        # Two things done in the other order.
        ("Does the ball hit the wall first and then the floor?",
         "Does the ball hit the floor first and then the wall?", "entities"),
    ],
)  # fmt: skip
def test_round25_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


def test_the_origin_of_a_name_asks_why_it_is_called_so() -> None:
    assert features("What is the origin of the word 'snooker'?").aspect == "naming"
    assert features("What is the origin of snooker?").aspect != "naming"
