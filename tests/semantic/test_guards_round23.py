"""The checks' twenty-third round, each rule on questions of our own (not from any data set).

The round was fitted on what the nineteen spent blind sets had turned away or let through,
and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the twentieth blind set, printed by
``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "take part" is "compete"; "what becomes of" is "what happens to".
        ("Can a 12-year-old take part in the county darts league?",
         "Can a 12-year-old compete in the county darts league?"),
        ("What becomes of the marbles left in the ring at the end?",
         "What happens to the marbles left in the ring at the end?"),
        # Shortened words read in full; words used for one another that WordNet leaves apart.
        ("What's the water temp at the lido today?",
         "What's the water temperature at the lido today?"),
        ("Where are the croquet champs held this year?",
         "Where are the croquet championships held this year?"),
        ("Does the home side supply the match balls?",
         "Does the home team supply the match balls?"),
        ("Who won the most recent village quiz?", "Who won the last village quiz?"),
        # An age ("a six-year-old") is not the "old" of "young" / "old".
        ("Which bike suits my six-year-old?", "Which bike suits a young child?"),
        # Fitness words before "time" read alike; a time "for a race" / "over 5 km" is a
        # finishing time either way.
        ("What's a decent time for a 5 km parkrun?", "What's a good time for a 5 km parkrun?"),
        ("What's a decent time to plant garlic?", "What's a good time to plant garlic?"),
        ("What's a decent time over 10 km for a beginner?",
         "What is a good finishing time for a beginner's 10 km race?"),
        # A question word asked alone after a statement: "..., why?" asks why, and a "when"
        # in the statement opens a clause.
        ("My bread sinks when I take it out of the oven, why?",
         "Why does my bread sink after baking?"),
    ],
)  # fmt: skip
def test_round23_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # The question after a statement that sets the scene is read for its question word.
        ("We just got two lambs. When do lambs need to be weaned?",
         "We just got two lambs. Why do lambs need to be weaned?", "aspect"),
        ("My aunt plays bowls. Where is the club?", "My aunt plays bowls. When is the club open?",
         "aspect"),
        # A "how" question asks the subject's way of doing it: its two sides of "with" are
        # not traded ("how should a handler talk with cutters" asks another's way).
        ("How should a goalkeeper communicate with defenders?",
         "How should a defender communicate with goalkeepers?", "roles"),
        # "a good time to V" stays a when against a length of time.
        ("What's a good time to prune roses?", "How long does it take to prune roses?", "aspect"),
        # "young" / "old" still differ when "old" is not an age.
        ("Which bike suits an old rider?", "Which bike suits a young rider?", "negation"),
        # Ages still differ by their numbers.
        ("Which bike suits my six-year-old?", "Which bike suits my nine-year-old?", "numbers"),
    ],
)  # fmt: skip
def test_round23_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


def test_a_two_way_with_still_trades_sides_in_a_yes_no_question() -> None:
    # The mirror is kept where it was right: a yes/no question about a meeting.
    a = "Does the coach meet with the captain before each match?"
    b = "Does the captain meet with the coach before each match?"
    assert check_guards(a, b, ALL) is None


def test_the_question_sentence_is_what_is_asked() -> None:
    f = features("I keep bees in the city. How many hives can one garden hold?")
    assert f.aspect == "amount"
    assert features("My ears hurt when I dive, why?").aspect == "reason"
