"""The checks' thirty-eighth round, each rule on questions of our own (not from any data set).

The round was fitted on what the thirty-four spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the thirty-fifth
blind set, unread when it was committed, is what will measure it. Every case runs both ways
round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, _asked_measures, check_guards, features
from omnicache_ai.layers._lexical import measures_agree

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # The same period placed differently relative to now.
        ("Who won this year's village show?", "Who won last year's village show?", "numbers"),
        ("Is the gym open next weekend?", "Is the gym open this weekend?", "numbers"),
        # Two measures of one thing, "what's" read as "what is".
        ("What's the noise level of the dishwasher?", "What's the power use of the dishwasher?",
         "aspect"),
        ("What's the top speed of the ferry?", "What's the passenger capacity of the ferry?",
         "aspect"),
        # "What height" asks a size, not a way of doing.
        ("What height should I set my music stand to?",
         "How do I set the height of my music stand?", "aspect"),
        # Picking up against dropping off, entering against leaving.
        ("Can I pick up a parcel at the depot on Sunday?",
         "Can I drop off a parcel at the depot on Sunday?", "negation"),
        ("Which door do we use to enter the hall?", "Which door do we use to leave the hall?",
         "negation"),
        # "k" thousands against another amount.
        ("Is a £25k deposit enough for a flat?", "Is a £30,000 deposit enough for a flat?",
         "numbers"),
        # Only a "k" says thousands.
        ("Is a £25 deposit enough for a flat?", "Is a £25,000 deposit enough for a flat?",
         "numbers"),
    ],
)  # fmt: skip
def test_round38_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # A time's possessive owns nothing.
        ("Where can I find last week's rota?", "Where can I find my rota for last week?"),
        # "k" thousands: the same amount.
        ("Is a £25k deposit enough for a flat?", "Is a £25,000 deposit enough for a flat?"),
        # A period that places its noun is not the question's aspect.
        ("What was last week's bake sale setup time?",
         "What was the setup time at last week's bake sale?"),
        # A period placed in one text only.
        ("Is the gym open this weekend?", "Is the gym open at the weekend?"),
        # "k" thousands beside another number both texts name.
        ("Is a £25k deposit enough for a 2 bed flat?",
         "Is a £25,000 deposit enough for a 2 bed flat?"),
        # A named aspect keeps its "for": a time, not a purpose.
        ("What's the latest date the hall can be booked for?",
         "What's the latest date the hall can be booked?"),
        # A measure asked another way: a container's capacity is its size, a rod's thickness
        # its diameter, a speed how fast.
        ("How big is the water tank in this van?",
         "What is the capacity of the water tank in this van?"),
        ("How thick are the bars of the climbing frame?",
         "What's the diameter of the bars of the climbing frame?"),
        ("How fast does the ferry go?", "What's the top speed of the ferry?"),
    ],
)  # fmt: skip
def test_round38_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_round38_a_measure_swapped_in_place_still_differs() -> None:
    # Only a question asked another way reads a thickness as a diameter.
    assert measures_agree("thickness", "diameter", sizes=True)
    assert not measures_agree("thickness", "diameter")
    assert measures_agree("capacity", "size", sizes=True)
    assert not measures_agree("capacity", "size")
    assert not measures_agree("capacity", "height", sizes=True)


def test_round38_speed_and_noise_are_asked_after_how_only() -> None:
    # "What fast chargers" asks which chargers, not a speed ("how fast" / "what speed" do).
    assert _asked_measures(features("What fast chargers work with my phone?").tokens) == set()
    assert _asked_measures(features("What loud toys are there?").tokens) == set()
    assert _asked_measures(features("How fast does it charge?").tokens) == {"speed"}
