"""The checks' seventeenth round, each rule on questions of our own (not from any data set).

The round was fitted on what the thirteen spent blind sets had turned away, and on the pair
model's training files (see ``benchmarks/data/README.md``); its held-out figures come from the
fourteenth blind set, printed by ``benchmarks/bench_semantic_quality.py``. Every case runs
both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # "Keep X from V-ing" says "stop X V-ing": against the plain verb it negates.
        ("How do I keep my kitten from biting?", "How do I get my kitten to bite?", "negation"),
        # How long a job takes is still not how long the thing lasts.
        ("How long does grout take to cure?", "How long does grout last?", "aspect"),
        # The reasoning behind X is why, not when.
        ("When was the offside rule changed?",
         "What's the reasoning behind changing the offside rule?", "aspect"),
        # Where a sport started is a place, not a method.
        ("Where did surfing start?", "How did surfing start?", "aspect"),
    ],
)  # fmt: skip
def test_round17_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I stop my puppy from chewing shoes?",
         "How do I keep my puppy from chewing shoes?"),
        ("How do I prevent a deck from rotting?", "Keeping a deck from rotting: how?"),
        # A ride "takes" as long as it "lasts": no job to be done.
        ("How long does the cable car ride take?", "How long does the cable car ride last?"),
        # The reasoning / motivation / rationale behind X asks why.
        ("Why do sailors whistle for wind?",
         "What's the reasoning behind sailors whistling for wind?"),
        ("Why do chess players resign early?",
         "What's the motivation for resigning early in chess?"),
        # "Where did X start" asks where it began, as "where did X originate" does.
        ("Where did parkour start?", "Where did parkour originate?"),
        # "Where do I start" still asks how to begin.
        ("Where do I start if I want to learn the banjo?", "How do I start learning the banjo?"),
    ],
)  # fmt: skip
def test_round17_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_keep_needs_from_and_a_verb() -> None:
    # "Keep a DVD borrowed from the library" and "keep books safe from damp" negate nothing.
    assert (
        check_guards(
            "How long can I keep a DVD borrowed from the library?",
            "How long can I have a DVD borrowed from the library?",
            ALL,
        )
        is None
    )
