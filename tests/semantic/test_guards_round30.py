"""The checks' thirtieth round, each rule on questions of our own (not from any data set).

The round was fitted on what the twenty-six spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the twenty-seventh blind set, printed by
``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Where a thing came from is not why it is called so.
        ("Why is it called hopscotch?", "Where did hopscotch come from?", "aspect"),
        # A short question after a statement is what the text asks.
        ("what is pickleball exactly? where was it invented?", "What is pickleball?", "aspect"),
        # A length counted is a size; an amount with no length is not.
        ("How much sand goes in the long jump pit?",
         "How deep should the sand in the long jump pit be?", "aspect"),
    ],
)  # fmt: skip
def test_round30_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "Where does the name come from" still asks why it is called so.
        ("Why is it called hopscotch?", "Where does the name hopscotch come from?"),
        # The short question after a statement, read alone.
        ("what's the story with pickleball lately? why has it caught on?",
         "Why is pickleball so popular?"),
        ("are there pubs in York where they show rugby? which ones?",
         "Which pubs in York show rugby?"),
        ("The yearly cheese rolling race - which town holds it?",
         "Where is the cheese rolling race held each year?"),
        # A length counted is a size.
        ("how many inches of sand do I put in a long jump pit?",
         "How deep should the sand be in a long jump pit?"),
        # "Even" hedges: "where do I even start" asks how to begin.
        ("taking up fencing at 40, where do I even start?", "How do I start fencing at 40?"),
    ],
)  # fmt: skip
def test_round30_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
