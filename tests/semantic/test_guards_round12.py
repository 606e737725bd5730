"""The checks' twelfth round, each rule on questions of our own (not from any data set).

The round was fitted on what the eight spent blind sets got past the checks or had turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the ninth blind set, printed by ``benchmarks/bench_semantic_quality.py``.
Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import (
    GuardConfig,
    _blocks_traded,
    check_guards,
    features,
)

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Two phrases of several words trade places across the verb or preposition.
        ("Does the record label pay the session drummer of the band?",
         "Does the session drummer of the band pay the record label?", "roles"),
        ("Should the red safety line be clipped above the blue line?",
         "Should the blue line be clipped above the red safety line?", "roles"),
        # A format counted as singles / doubles / triples, or times as once / twice.
        ("How long is a doubles badminton court?", "How long is a singles badminton court?",
         "numbers"),
        ("Should I descale the kettle once a month?", "Should I descale the kettle twice a month?",
         "numbers"),
        # "One" of a thing against another number of the same thing.
        ("How many beads are in one strand?", "How many beads are in four strands?", "numbers"),
        # How long something lasts is not how long it takes to make.
        ("How long does a hand-knitted sweater last?",
         "How long does a hand-knitted sweater take to knit?", "aspect"),
        # "Other than X" leaves X out; "neither ... nor" says "not" once.
        ("Which cheeses go with port other than stilton?", "Which cheeses go with port?",
         "negation"),
        ("Can I paint a fence with a brush instead of a sprayer?",
         "Can I paint a fence with neither a brush nor a sprayer?", "negation"),
    ],
)  # fmt: skip
def test_round12_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # A phrase moved whole, or two clauses moved, is no trade of roles.
        ("How do I copy files from my old laptop to my new laptop?",
         "How do I copy files to my new laptop from my old laptop?"),
        ("In Canada, do I need a permit to fly a drone?",
         "Do I need a permit to fly a drone in Canada?"),
        # A format named on one side only; the singles title of a year's games.
        ("Who won the men's singles at Wimbledon in 2019?",
         "Who was the men's singles champion at Wimbledon 2019?"),
        ("Is a single-track road safe at night?", "Is a one-track road safe at night?"),
        # "Into one piece" is what things become, not how many there are.
        ("How do I glue two pieces of oak together?",
         "How do I glue pieces of oak into one piece?"),
        # A lifespan asked as "how long does it last" or as "the lifespan of".
        ("How long does a hand-knitted sweater last?",
         "What is the lifespan of a hand-knitted sweater?"),
        ("How long does it take to knit a sweater?", "What is the knitting time for a sweater?"),
        # "The time limit" asks how long, as "how much time" does.
        ("What is the time limit for the written exam?",
         "How much time is allowed for the written exam?"),
        # "usual", "typical" and "average" hedge, as "usually" does.
        ("What is the usual cost of a piano tuning?", "How much does a piano tuning usually cost?"),
        ("How much does a typical house cat weigh?", "How much does the average house cat weigh?"),
        # A question word after a verb in "-ing" opens its object or a clause of time.
        ("How do I keep the tension even on a loom?",
         "Keeping the tension even when weaving on a loom: what's the method?"),
        ("How do I decide which player serves first?",
         "Settling who serves first: the proper way?"),
        # "The thickness" names the scale, neither end of it.
        ("What is the thickness of a standard guitar pick?", "How thin is a standard guitar pick?"),
    ],
)  # fmt: skip
def test_round12_lets_rewordings_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_blocks_need_a_short_middle_used_once() -> None:
    """``X M Y`` / ``Y M X``: the middle a word or two, one of them used once in the text."""
    assert _blocks_traded(("cheesemak", "pay", "winner", "race"), ("winner", "race", "pay",
                                                                   "cheesemak"))  # fmt: skip
    # Nothing in the middle: a clause moved.
    assert not _blocks_traded(("uk", "need", "licenc"), ("need", "licenc", "uk"))
    # A middle of three words or more: clauses moved, not roles traded.
    assert not _blocks_traded(("foul", "push", "defend", "boat", "polo"),
                              ("polo", "push", "defend", "boat", "foul"))  # fmt: skip
    # The middle repeated in the text: the phrase moved whole.
    assert not _blocks_traded(("from", "old", "phon", "to", "new", "phon"),
                              ("to", "new", "phon", "from", "old", "phon"))  # fmt: skip


def test_a_time_span_noun_makes_time_a_duration() -> None:
    assert features("What is the time limit for the exam?").aspect == "duration"
    assert features("What time does the exam start?").aspect == "time"
