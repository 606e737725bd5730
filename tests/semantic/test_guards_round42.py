"""The checks' forty-second round, each rule on questions of our own (not from any data set).

The round was fitted on what the thirty-eight spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); the
thirty-ninth blind set, unread when it was committed, is what will measure it. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Moving in / moving out.
        ("Should I tell the bank when moving out of my flat?",
         "Should I tell the bank when moving into my flat?", "negation"),
        # Who is liable is read from the subject's first word: "the builder I hired" is not
        # the speaker.
        ("Is the builder I hired liable if he damages the fence?",
         "Am I liable if the builder I hired damages the fence?", "roles"),
        ("Is the man I paid to take my old sofa away liable if he dumps it?",
         "Am I liable if the man I paid to take my old sofa away dumps it?", "roles"),
        # Whether one may / how to, the rest the same.
        ("Can I renew a fishing licence online?", "How do I renew a fishing licence online?",
         "aspect"),
        ("Can you freeze cooked rice?", "How do you freeze cooked rice?", "aspect"),
        # How many / which ones, the rest the same.
        ("How many bags can I take on the ferry?", "What bags can I take on the ferry?",
         "aspect"),
        # "A day" is one day: 48 hours is two.
        ("Will the parcel arrive inside a day?", "Will the parcel arrive within 48 hours?",
         "numbers"),
        ("Should I water it once a day?", "Should I water it every 48 hours?", "numbers"),
        ("Is a mile far to walk with a toddler?", "Is 3 km far to walk with a toddler?",
         "numbers"),
        # A street's abbreviation still names that street.
        ("Is parking free on Station Rd after 6pm?", "Is parking free on Church Road after 6pm?",
         "entities"),
    ],
)  # fmt: skip
def test_round42_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "A day" is 24 hours, "a week" 7 days.
        ("Will the parcel arrive inside a day?", "Will the parcel arrive within 24 hours?"),
        ("Is a week's worth of readings enough?", "Are 7 days of readings enough?"),
        ("Should I water it once a day?", "Should I water it every 24 hours?"),
        ("Is a mile far to walk with a toddler?", "Is 1.6 km far to walk with a toddler?"),
        # Words used for one another.
        ("Which things can go in the food bin?", "Which items can go in the food bin?"),
        ("How do I remove duplicate persons from my contacts?",
         "How do I remove duplicate people from my contacts?"),
        # "Rd", "Ln", "Ave" after a name are the street.
        ("Is there a bus stop on Mill Ln?", "Is there a bus stop on Mill Lane?"),
        ("Is there a grit bin anywhere on Oak Ave?", "Is there a grit bin on Oak Avenue?"),
        ("Can I park on Station Rd overnight?", "Can I park on Station Road overnight?"),
        # The speaker liable on both sides, a relative clause naming someone else.
        ("Would I be liable if the builder I hired damages the fence?",
         "Am I liable if the builder I hired damages the fence?"),
        # "Can I" / "could I" ask the same; "how do I" / "how can I" too.
        ("Can I renew a fishing licence online?", "Could I renew a fishing licence online?"),
        ("How do I renew a fishing licence online?", "How can I renew a fishing licence online?"),
        ("How many bags can I take on the ferry?", "How many bags can I bring on the ferry?"),
        # "How many" against another "what" question, worded otherwise.
        ("How many calories are in a banana?", "What is the calorie count of a banana?"),
    ],
)  # fmt: skip
def test_round42_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
