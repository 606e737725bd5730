"""The checks' forty-seventh round, each rule on questions of our own (not from any data set).

The round was fitted on what the forty-three spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); the
forty-fourth blind set, unread when it was committed, is what will measure it. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Two things trade places in every clause.
        ("If my bus runs late and I miss my flight, does the bus firm refund the flight?",
         "If my flight runs late and I miss my bus, does the flight firm refund the bus?",
         "roles"),
        # Paying is no way of getting somewhere: "where" against "how" asks another thing.
        ("Where do I pay for the cliff railway?", "How do I pay for the cliff railway?",
         "aspect"),
        # A time limit given against the time a thing takes.
        ("How long do we have to appeal the parking fine?",
         "How long does an appeal against the parking fine take to be heard?", "aspect"),
        ("How long have I got to return the kayak?", "How long does the kayak take to dry?",
         "aspect"),
        # A part of the day is compared with a part of the day, a day with a day.
        ("Is the ferry office open at 8am on Sundays?",
         "Is the ferry office open at 8pm on Sundays?", "numbers"),
        ("Is the ferry office open at 8am on Sundays?",
         "Is the ferry office open at 8am on Mondays?", "numbers"),
        # A two-word party traded with the speaker, its pronoun read as its own.
        ("Can a bus driver complain about me for being rude to them on the route?",
         "Can I complain about a bus driver for being rude to me on the route?", "roles"),
        # Who is allowed, traded with whom it is done to.
        ("Am I allowed to refuse the cabin steward at the door?",
         "Is the cabin steward at the door allowed to refuse me?", "roles"),
        ("Am I allowed to refuse the cabin steward?",
         "Is the cabin steward on my deck allowed to refuse me?", "roles"),
    ],
)  # fmt: skip
def test_round47_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # A bus that stops at a place has not been stopped.
        ("Does the shuttle call at the harbour on its way into town?",
         "Does the shuttle stop at the harbour on the way into town?"),
        # Waiting is not a time limit: "how long must I wait" asks how long it takes.
        ("How long do I have to wait for my refund to arrive?",
         "How long does my refund take to arrive?"),
        ("How long do I have to claim the refund?", "How much time do I have to claim the refund?"),
        # "Have to" after a thing is "must": how long it takes.
        ("How long does the glue have to set?", "How long does the glue take to set?"),
        # The clock's leading zero, and weekdays against the part of the day.
        ("Is the ferry office open at 08:00?", "Is the ferry office open at 8:00?"),
        ("Can I travel before 09:15 Monday to Friday?", "Can I travel before 9:15am on weekdays?"),
        # The same persons in place, the two-word party kept.
        ("Can a bus driver complain about me for being rude to them on the route?",
         "Can a bus driver complain about me if I'm rude to them on the route?"),
        # "Is my dog allowed" asks what "am I allowed to bring my dog" asks.
        ("Is my dog allowed to ride on the ferry?", "Am I allowed to take my dog on the ferry?"),
        ("Am I allowed to refuse the cabin steward at the door?",
         "Am I permitted to turn away the cabin steward at the door?"),
    ],
)  # fmt: skip
def test_round47_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
