"""The checks' twenty-seventh round, each rule on questions of our own (not from any data set).

The round was fitted on what the twenty-three spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the twenty-fourth blind set, printed by
``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # After a verb of placing, "on" says which thing goes where.
        ("In FreeCell, can I put a red 5 on a black 6?",
         "In FreeCell, can I put a black 6 on a red 5?", "roles"),
        ("Should I stack the heavy crate on the light one?",
         "Should I stack the light crate on the heavy one?", "roles"),
        # The speaker moved to another role, read before an "and" switches the rest off.
        ("How do I play tag and chase with my nephew when my nephew is it?",
         "How do I play tag and chase with my nephew when I'm it?", "roles"),
    ],
)  # fmt: skip
def test_round27_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "qualifies as" / "is scored as" ask what "counts as" asks.
        ("What qualifies as a foot fault in tennis?", "What counts as a foot fault in tennis?"),
        ("Can a full house be scored as a small straight?",
         "Can a full house count as a small straight?"),
        # "on" after another verb is no placing: "play on grass" / "play on a grass court".
        ("Can I play on grass in my spikes?", "Can I play in my spikes on grass?"),
        # Two people and an "and": their order in the pair is free.
        ("Can my wife and I file jointly?", "Can I and my wife file jointly?"),
    ],
)  # fmt: skip
def test_round27_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
