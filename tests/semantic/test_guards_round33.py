"""The checks' thirty-third round, each rule on questions of our own (not from any data set).

The round was fitted on what the twenty-nine spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the thirtieth blind set, printed by
``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, _asked_measures, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Two measures of one thing asked, however each is asked.
        ("How wide is a cricket pitch?", "How much does a cricket pitch weigh?", "aspect"),
        ("How deep should a planter be?", "What colour should a planter be?", "aspect"),
        ("What is the price of a curling stone?", "What is a curling stone made of?", "aspect"),
        ("What colour is a snooker table's cloth?", "What size is a snooker table's cloth?",
         "aspect"),
        ("How tall is a goalpost?", "What is the diameter of a goalpost?", "aspect"),
        ("What is the surface material of a tennis court?", "What is the length of a tennis "
         "court?", "aspect"),
        ("How much does a rowing boat cost?", "How heavy is a rowing boat?", "aspect"),
        # Opposites no other pair said.
        ("How should I pace a run into a headwind?", "How should I pace a run with a tailwind?",
         "negation"),
        ("What if the ball lands in front of the line?", "What if the ball lands behind the "
         "line?", "negation"),
    ],
)  # fmt: skip
def test_round33_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # One measure asked two ways; a size is any of its dimensions; a diameter is a
        # round thing's width.
        ("How heavy is a bowling ball?", "How much does a bowling ball weigh?"),
        ("How much does a season ticket cost?", "What is the price of a season ticket?"),
        ("How big is a squash court?", "What is the length of a squash court?"),
        ("How wide is a hula hoop?", "What diameter is a hula hoop?"),
        ("How tall is the net?", "What height is the net?"),
        # Only one text asks a measure.
        ("How wide is a badminton court?", "What are the rules for a badminton court?"),
        # A leading clause after "so": the question after its comma is what is asked.
        ("So when a team wins the league, what prize do they get?",
         "What prize does the league-winning team get?"),
        # "The story behind" asks why, and behind a name why it is called so.
        ("What's the story behind throwing octopus onto the ice?",
         "Why do fans throw octopus onto the ice?"),
        ("What's the story behind the name 'hat-trick'?", "Why is it called a hat-trick?"),
    ],
)  # fmt: skip
def test_round33_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_round33_a_swapped_size_is_not_a_dimension() -> None:
    # In place of each other the words name two parts' figures ("the head size" / "the
    # stick length"); asked two ways round, a size is any of its dimensions.
    from omnicache_ai.layers._lexical import measures_agree

    assert not measures_agree("size", "length")
    assert measures_agree("size", "length", sizes=True)
    assert measures_agree("diameter", "width")
    # Swapped in place, a thickness and a diameter are two figures (since the thirty-eighth
    # round they agree when asked two ways round: "how thick are the rods" / "their diameter").
    assert not measures_agree("diameter", "thickness")


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("How large is the pitch?", {"size"}),
        ("What large dogs are calm with children?", set()),  # a kind of dog, no size asked
        ("What is the ball made of?", {"material"}),
        ("How much does the bat weigh?", {"weight"}),
        ("How much does the bat cost and how much does it weigh?", {"cost", "weight"}),
        ("What is the surface material of the court?", {"material"}),
        ("Where is the court?", set()),
    ],
)  # fmt: skip
def test_round33_asked_measures(text: str, asked: set[str]) -> None:
    assert _asked_measures(features(text).tokens) == asked
