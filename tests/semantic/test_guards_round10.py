"""The checks' tenth round, each rule on questions of our own (not from any data set).

The round was fitted on what the six spent blind sets got past the checks or had turned
away (see ``benchmarks/data/README.md``); its held-out figures come from the seventh blind
set, printed by ``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
The lexical guard's part of the round (indirect verb antonyms) is tested in
``test_lexical_guard.py``.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # "half an hour" is a measure: 0.5 hours, not 45 minutes.
        ("Can I leave bread dough to rise for half an hour?",
         "Can I leave bread dough to rise for 45 minutes?", "numbers"),
        # A decade named without its century is still that decade.
        ("Which cars from the sixties are worth restoring?",
         "Which cars from the 1970s are worth restoring?", "numbers"),
        ("Which songs topped the charts in the 80s?",
         "Which songs topped the charts in the 1990s?", "numbers"),
        # "No. 5" is a number: another number is another model.
        ("How much is a Remington No. 5 typewriter?",
         "How much is a Remington No. 7 typewriter?", "numbers"),
        # "non-X" against X is still a negation.
        ("Is this sparkling wine non-alcoholic?", "Is this sparkling wine alcoholic?",
         "negation"),
        ("Which glues contain solvents?", "Which glues are non-solvent?", "negation"),
        # What something is worth asks an amount, not when it was made.
        ("What is a 1960s Gibson banjo worth?", "When was my Gibson banjo made?", "aspect"),
    ],
)  # fmt: skip
def test_round10_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Half an hour is thirty minutes; half a mile is about 800 metres.
        ("Is it safe to sit in a steam room for 30 minutes?",
         "Is it safe to sit in a steam room for half an hour?"),
        ("Can a beginner swim half a mile?", "Can a beginner swim 800 metres?"),
        # The fifties are the 1950s, however they are written.
        ("Is a 1950s Vespa a good first scooter?", "Is a Vespa from the fifties a good scooter?"),
        ("Is a 1950s Vespa a good scooter?", "Is a Vespa from the '50s a good scooter?"),
        # "No. 5" and "No 5" name a model, not a negation.
        ("Who designed the Chanel No. 5 bottle?", "Who designed the Chanel No 5 bottle?"),
        ("What is a Royal No. 10 typewriter worth?", "What is a Royal Number 10 typewriter worth?"),
        # "non-X" describing a thing the other text names in other words.
        ("How do I oil a manual sewing machine?", "How do I oil a non-electric sewing machine?"),
        ("What is the fine for a nonzero balance?", "What is the fine for a non-zero balance?"),
        # "What is X worth" asks how much.
        ("What is a 1960s Gibson banjo worth?", "How much is a 1960s Gibson banjo worth?"),
    ],
)  # fmt: skip
def test_round10_lets_rewordings_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_an_age_is_no_decade() -> None:
    """ "in her fifties" is an age: only "the fifties" / "the 50s" read as the 1950s."""
    assert not features("Can a woman in her fifties take up rowing?").numbers
    assert features("Which bands played in the fifties?").numbers == {"1950"}
    assert features("Which bands played in the 50s?").numbers == {"1950"}


def test_no_before_a_number_at_the_start_is_still_a_negation() -> None:
    """Only "No." with its dot, or "No" mid-sentence, before a number reads as "Number"."""
    assert features("No 5-star hotels allow dogs?").negations == 1
    assert features("Are No. 2 pencils allowed?").negations == 0
