"""The checks' eighth round, each rule on questions of our own (not from any data set).

The round was fitted on what the four spent blind sets got past the checks or had turned
away (see ``benchmarks/data/README.md``); its held-out figures come from the fifth blind
set, printed by ``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features, negation_mismatch

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Exemption, exclusion and a ban against their positive.
        ("Which boats need a licence in France?",
         "Which boats are exempt from a licence in France?", "negation"),
        ("What should I pack for a ski trip?",
         "What should I pack for a ski trip, excluding clothes?", "negation"),
        ("Which plants are allowed in the garden show?",
         "Which plants are banned from the garden show?", "negation"),
        ("Which games count toward the league title?",
         "Which games are left out of the league title?", "negation"),
        # "un-X" against "X".
        ("How long does cheese keep after opening?", "How long does cheese keep if unopened?",
         "negation"),
        ("Can I cash a signed cheque?", "Can I cash an unsigned cheque?", "negation"),
        # Why / when / where / who against a yes/no question about the same thing.
        ("Why is the sea salty?", "Is the sea salty?", "aspect"),
        ("When did the museum reopen?", "Did the museum reopen?", "aspect"),
        # How something is against what it is for.
        ("What does durian taste like?", "What is durian used for?", "aspect"),
        # Where a name comes from is not why something is done.
        ("Why is it called a hat trick?", "Why do fans throw hats after a hat trick?", "aspect"),
        # A role swap in two passives, across a one-way preposition.
        ("Can a racing bike be converted for touring?",
         "Can a touring bike be converted for racing?", "roles"),
        # A swap with one side reworded ("my song" / "their track").
        ("Can I sue a record label for using my song without permission?",
         "Can a record label sue me for using their track without permission?", "roles"),
    ],
)  # fmt: skip
def test_round8_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Spelled-out compounds of tens.
        ("How long does it take to cut a 2-foot hedge?",
         "How long does it take to cut a hedge twenty-four inches tall?"),
        # Idioms of the same aspect.
        ("Why are owls so quiet in flight?",
         "What is it about owls that makes them so quiet in flight?"),
        ("Why is it called a hat trick?", "Where does the name hat trick come from?"),
        ("How do I start birdwatching?", "Where do I start if I want to take up birdwatching?"),
        ("When did people start using soap?", "What period did people start using soap?"),
        ("How many people do I need for a rowing crew?", "What size crew do I need for rowing?"),
        ("What does durian taste like?", "How does durian taste?"),
        # A yes/no question paraphrased as a yes/no question, and a "when" inside a clause.
        ("Does the tide go out when the moon sets?", "Does the tide ebb when the moon sets?"),
        # "below zero" is a temperature, not a "no".
        ("Why do pipes burst in frost?", "Why do pipes burst when it drops below zero outside?"),
    ],
)  # fmt: skip
def test_round8_lets_rewordings_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_un_words_that_are_no_negation() -> None:
    assert not negation_mismatch(features("Is it safe unless it rains?"),
                                 features("Is it safe less often?"))  # fmt: skip
    assert not negation_mismatch(features("Can I understand it?"),
                                 features("Can I stand it?"))  # fmt: skip
    assert features("Twenty-four hours").numbers == frozenset({"24"})
