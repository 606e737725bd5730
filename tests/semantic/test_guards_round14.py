"""The checks' fourteenth round, each rule on questions of our own (not from any data set).

The round was fitted on what the ten spent blind sets had turned away or let past, and on the
pair model's training files (see ``benchmarks/data/README.md``); its held-out figures come
from the eleventh blind set, printed by ``benchmarks/bench_semantic_quality.py``. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Another short year, another area, another part of the day.
        ("Which bikes won races in 1987?", "Which bikes won races back in '88?", "numbers"),
        ("Can I tile 40 square metres in a weekend?", "Can I tile 40 sq ft in a weekend?",
         "numbers"),
        ("Can I heat a 20 m2 room with one radiator?", "Can I heat a 20 m room with one radiator?",
         "numbers"),
        ("Is the ferry running at 6 in the morning?", "Is the ferry running at 6 pm?", "numbers"),
        # A daily limit is no weekly one.
        ("Is a 30-minute daily walk enough?", "Is 30 minutes of walking a week enough?",
         "numbers"),
        # "How many grams" asks a weight, not a speed or a price.
        ("How fast is the Vortex 9 drone?", "How many grams is the Vortex 9 drone?", "aspect"),
        # "What months" asks when; "the point of" asks why, not how.
        ("How do I fold a paper crane?", "What's the point of folding a paper crane first?",
         "aspect"),
        ("Where is the festival held?", "What months is the festival held?", "aspect"),
        # A "not" that is no alternative still negates.
        ("Is the pool heated?", "Is the pool not heated?", "negation"),
        ("Is the pool heated or not?", "Is the pool not heated?", "negation"),
    ],
)  # fmt: skip
def test_round14_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # A year written short is the year the other text writes in full.
        ("What did a stamp cost in 1962?", "price of a stamp back in '62?"),
        # Square measures in words, with "sq" or with a "2" or a "²" are one unit.
        ("How much paint for 30 square metres of wall?", "Paint needed for a 30 m2 wall?"),
        ("How much paint for 30 square metres of wall?", "paint for thirty m² of wall?"),
        ("Can a 600 sq ft flat fit a piano?", "Can a 600-square-foot flat fit a piano?"),
        ("Is a 2 km2 lake big?", "Is a lake of 2 square kilometres big?"),
        ("What fits in 900 square centimetres?", "What fits in 900 cm2?"),
        # "Daily" counts per day as "a day" does; "monthly" as "per month".
        ("Is a 15-minute daily stretch enough?", "Is 15 minutes of stretching a day enough?"),
        ("How much is the gym per month?", "What is the monthly gym price?"),
        # "7 in the evening" is "7 pm"; "6 in the morning" is "6 am".
        ("Does the bus run after 9 pm?", "Does the bus run after 9 in the evening?"),
        ("Is the bakery open at 6 am?", "Is the bakery open at 6 in the morning?"),
        # "How many kg" asks the weight.
        ("What's the weight of a folding kayak?", "folding kayak, how many kg is it?"),
        # "What months" and "which seasons" ask when.
        ("When do storks nest in Alsace?", "What months do storks nest in Alsace?"),
        # "What's the point of X" asks why X is done.
        ("Why do climbers chalk their hands?", "What's the point of chalking your hands?"),
        # "X or not?", "whether or not": the plain question.
        ("Do I need a permit to fly a kite on the beach?",
         "kite flying on the beach: permit needed or not?"),
        ("Can I bring a dog into the museum?", "Can I bring a dog into the museum or no?"),
        ("Should I tell my landlord about the leak?",
         "Should I tell my landlord about the leak, whether or not it's small?"),
    ],
)  # fmt: skip
def test_round14_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_melting_point_is_no_purpose() -> None:
    # "The melting point of X" is a value, not "the point of" doing something.
    assert features("What's the melting point of soy wax?").aspect != "purpose"
    assert features("What's the point of soy wax?").aspect == "purpose"


def test_short_year_needs_its_apostrophe() -> None:
    # "'53" is a year; "53" on its own is a number, compared as one ("53 laps" / "1953").
    assert check_guards("How many laps in 1953?", "How many laps in '53?", ALL) is None
    assert check_guards("Can I run 1953 laps?", "Can I run 53 laps?", ALL) == "numbers"
    assert (
        check_guards(
            "Can I run 1953 laps of the club's track?",
            "Can I run 53 laps of the club's track?",
            ALL,
        )
        == "numbers"
    )
    # A short year meets only the year it ends ("'54" is no 1953).
    assert check_guards("Who won in 1953?", "Who won back in '54?", ALL) == "numbers"


def test_m2_alone_is_no_area() -> None:
    # "The M2 chip" names a product, not square metres.
    assert "m2" not in features("Is the M2 chip fast?").units
    assert features("Is a 12 m2 shed big?").units == {"m2"}
