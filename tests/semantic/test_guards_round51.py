"""The checks' fifty-first round, each rule on questions of our own (not from any data set).

The round was fitted on what the forty-seven spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); the
forty-eighth blind set, unread when it was committed, is what will measure it. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # "Can X V ..." / "can Y V ...": the same verb, each subject named after the verb in
        # the other text.
        ("Can I end my allotment tenancy with the landlord early?",
         "Can the landlord end my allotment tenancy early?", "roles"),
        ("Can the gym charge me if my locker key is lost in the pool?",
         "Can I charge the gym if my locker key is lost in the pool?", "roles"),
        ("Could the marina refuse my boat if the harbourmaster is off sick?",
         "Could the harbourmaster refuse my boat if the marina is full?", "roles"),
    ],
)  # fmt: skip
def test_round51_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # A subject widened, not traded ("I" / "I machine-wash").
        ("Can I wash my wetsuit in the machine?", "Can I machine wash my wetsuit?"),
        # The same subject, the other words moved.
        ("Can the landlord end my tenancy early?",
         "Can my tenancy be ended early by the landlord?"),
        # Doing a thing together: either side may come first.
        ("Can I share a plot with my neighbour?", "Can my neighbour share a plot with me?"),
        # Only a modal frame is read: a passive and its active ("were X replaced by Y" /
        # "did Y replace X") trade places around their verbs too.
        ("Were oil lamps replaced by gas lamps?", "Did gas lamps replace oil lamps?"),
        ("Is the village hall run by the council?", "Does the council run the village hall?"),
        # Another verb is not read.
        ("Can I bring my dog to the pub?", "Can my dog come to the pub with me?"),
    ],
)  # fmt: skip
def test_round51_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
