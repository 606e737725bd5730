"""The checks' fifteenth round, each rule on questions of our own (not from any data set).

The round was fitted on what the eleven spent blind sets had turned away or let past, and on
the pair model's training files (see ``benchmarks/data/README.md``); its held-out figures come
from the twelfth blind set, printed by ``benchmarks/bench_semantic_quality.py``. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, _fronted, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Who collides with whom is who moved: one-way, as "hit" is.
        ("Who pays if a cyclist collides with a parked van?",
         "Who pays if a parked van collides with a cyclist?", "roles"),
        # "Which local team did X beat" asks for the one beaten; "which local team beat X" the
        # winner.
        ("Which local team did the Tigers beat in the final?",
         "Which local team beat the Tigers in the final?", "roles"),
        ("What junior team did the Hawks beat?", "What junior team beat the Hawks?", "roles"),
        # Another season, another half, another currency.
        ("Who won the league in 2021-22?", "Who won the league in 2022-23?", "numbers"),
        ("Is a two and a half inch nail long enough?",
         "Is a three and a half inch nail long enough?", "numbers"),
        ("What does a coffee cost in Zurich in Swiss francs?",
         "What does a coffee cost in Zurich in euros?", "numbers"),
        # A phrase of setting moved whole still lets a real swap show.
        ("In futsal, can the keeper pass to a defender?",
         "Can a defender pass to the keeper in futsal?", "entities"),
    ],
)  # fmt: skip
def test_round15_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # A US company is an American one; the UK is Britain.
        ("Which US airline flies to Reykjavik?", "Which American airline flies to Reykjavik?"),
        ("Do I need a visa for the UK?", "Do I need a visa for Britain?"),
        # "The under-11s", "the 1990s": a plural, not seconds.
        ("How long is a half in hockey for under-11s?",
         "u11 hockey: a half lasts how many minutes?"),
        # "2022-23" is the season "2022-2023".
        ("Which rules changed for the 2024-2025 season?", "rule changes for 2024-25?"),
        # "Fourteen and a half" is 14.5; "what wattage" asks the watts.
        ("What wattage bulb does a 12.5-inch lamp take?",
         "bulb watts for a twelve and a half inch lamp?"),
        # "How much waiting" asks how long.
        ("How long does resin take to cure?", "how much waiting before resin has cured?"),
        # A phrase of setting put first ("In futsal, ...") trades no roles.
        ("Is it a foul if the keeper trips an attacker in futsal?",
         "In futsal, is the keeper tripping an attacker a foul?"),
        ("Is it a foul if a defender pushes a forward in canoe polo?",
         "In canoe polo, is a defender pushing a forward a foul?"),
        # Two words before the auxiliary are the question word's noun.
        ("Which mask rating do I need for club fencing?",
         "What mask rating do I need for club fencing?"),
    ],
)  # fmt: skip
def test_round15_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_year_spans_only_for_consecutive_years() -> None:
    # "2022-10" is a month and "1914-18" a span of years: left as written.
    assert features("the 2022-10 invoice").numbers == {"2022", "10"}
    assert features("the 1914-18 war").numbers == {"1914", "18"}
    assert features("the 2022-23 season").numbers == {"2022", "2023"}


def test_seconds_still_count_apart_from_a_number() -> None:
    assert features("hold it for 30 s").units == {"s"}
    assert features("the under-11s league").units == frozenset()


def test_fronted_needs_the_same_phrase_in_the_other_text() -> None:
    moved = ("in", "canoe", "polo", "is", "a", "push", "a", "foul")
    kept = ("is", "a", "push", "a", "foul", "in", "canoe", "polo")
    assert _fronted(moved, kept) == {"in", "cano", "polo"}  # the preposition moves with it
    assert _fronted(moved, ("is", "a", "push", "a", "foul", "in", "water", "polo")) == set()
    assert _fronted(kept, moved) == set()
