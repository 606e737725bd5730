"""The checks' thirty-fourth round, each rule on questions of our own (not from any data set).

The round was fitted on what the thirty spent blind sets had let through or turned away, and
on the pair model's training files (see ``benchmarks/data/README.md``); its held-out figures
come from the thirty-first blind set, printed by ``benchmarks/bench_semantic_quality.py``.
Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Opposites no other pair said.
        ("Why does wood swell in the rain?", "Why does wood shrink in the rain?", "negation"),
        ("How do I mount a TV bracket on plaster?", "How do I remove a TV bracket from plaster?",
         "negation"),
        ("How do I install a roof rack?", "How do I remove a roof rack?", "negation"),
        ("Which tent is best for a small family?", "Which tent is best for a large family?",
         "negation"),
        # "Stops" before a clause word ends a thing; its opposite still differs.
        ("Why does the bus shake when the engine stops?",
         "Why does the bus shake when the engine starts?", "negation"),
    ],
)  # fmt: skip
def test_round34_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # A firm is a company.
        ("Which firm runs the ferry?", "Which company runs the ferry?"),
        # "Called off" is cancelled, not named.
        ("What's the reason races get cancelled when it's foggy?",
         "Why are races called off in fog?"),
        # A warranty period is how long, not when.
        ("For how long does the maker cover defects?",
         "What is the warranty period from the maker?"),
        # Which shops sell it asks where to buy it.
        ("Which stores carry replacement strings?", "Where can I buy replacement strings?"),
        # "Aren't covered by" is a passive as "are not covered by" is.
        ("Which Studio Ghibli films weren't produced by Toshio Suzuki?",
         "Which Studio Ghibli films were not produced by Toshio Suzuki?"),
        ("What happens if a ham isn't cured before you smoke it?",
         "What happens if you don't cure a ham before smoking it?"),
        # An intransitive "stops": the thing ends, nothing is kept from happening.
        ("Why does the music fade when the tape stops?",
         "Why does the music fade once the tape ends?"),
    ],
)  # fmt: skip
def test_round34_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "Stop the dog barking", "stopped eating": kept from happening, still a "not".
        ("How do I stop my dog barking?", "How do I get my dog barking?"),
        ("Why has my cat stopped eating?", "Why is my cat eating?"),
    ],
)  # fmt: skip
def test_round34_a_stop_that_keeps_from_happening_still_negates(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) == "negation"
    assert check_guards(b, a, ALL) == "negation"
