"""The checks' twenty-fourth round, each rule on questions of our own (not from any data set).

The round was fitted on what the twenty spent blind sets had turned away or let through, and
on the pair model's training files (see ``benchmarks/data/README.md``); its held-out figures
come from the twenty-first blind set, printed by ``benchmarks/bench_semantic_quality.py``.
Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features
from omnicache_ai.layers._lexical import lexical_available, phrasal_verb

ALL = GuardConfig()
needs_wordnet = pytest.mark.skipif(not lexical_available(), reason="omnicache-ai[lexical]")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Phrases moved whole, each name after the same direction word.
        ("Did curling spread to Canada from Scotland?",
         "Did curling spread from Scotland to Canada?"),
        # "Skipping" the game with a rope negates nothing; "skip X" still does (below).
        ("How long should a skipping rope be for a 5 ft child?",
         "How long should a jump rope be for a 5 ft child?"),
        ("How many calories does 20 minutes of skipping burn?",
         "How many calories does 20 minutes of jumping rope burn?"),
        ("What muscles get stronger when you skip with a rope?",
         "What muscles does jumping rope strengthen?"),
        # "How long is the course / track / hole" asks how far it goes.
        ("How long is a typical par 4 hole in disc golf?",
         "How far is a typical par 4 hole in disc golf?"),
        ("How long's the track at the school sports day?",
         "How far is the track at the school sports day?"),
        # "The physics / science / logic behind / that ..." asks why.
        ("What's the science behind bread rising in a warm kitchen?",
         "Why does bread rise in a warm kitchen?"),
    ],
)  # fmt: skip
def test_round24_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@needs_wordnet
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Is the bowling crease meant to be 4 ft from the stumps?",
         "Is the bowling crease supposed to be 4 ft from the stumps?"),
        ("Is conkers a traditional game in British primary schools?",
         "Is conkers a traditional game in UK primary schools?"),
    ],
)  # fmt: skip
def test_round24_interchangeable_words(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # The order check still reads a swap of the two places.
        ("Did curling spread from Canada to Scotland?",
         "Did curling spread from Scotland to Canada?",
         "entities"),
        # Leaving a thing out still negates.
        ("Can I skip the primer before painting a fence?",
         "Can I use primer before painting a fence?",
         "negation"),
        # "How long is the flight" still asks its duration; "is the race meant to take" too.
        ("How long is the flight from Leeds to Jersey?",
         "How far is the flight from Leeds to Jersey?",
         "aspect"),
        ("How long is the fun run meant to take a walker?",
         "How far is the fun run meant to take a walker?", "aspect"),
        # "What language does the name come from" asks its origin, not its meaning.
        ("What does the name Ludo mean?", "What language does the name Ludo come from?", "aspect"),
    ],
)  # fmt: skip
def test_round24_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@needs_wordnet
@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # A verb and its particle are one WordNet lemma: "speed up" and "slow down" are
        # antonyms, where "speed" and "slow" alone were no opinion.
        ("How do I speed up a clay pigeon trap?", "How do I slow down a clay pigeon trap?",
         "lexical"),
        ("How do you take down a gazebo?", "How do you put up a gazebo?", "lexical"),
        # Texts the same but for "up" / "down" are read as opposites before WordNet is asked
        # (the forty-first round: the particle may follow the verb's object).
        ("What's the safest way to climb up a sea wall?",
         "What's the safest way to climb down a sea wall?", "negation"),
        ("Why does my score go up when I bowl faster?",
         "Why does my score go down when I bowl faster?", "negation"),
    ],
)  # fmt: skip
def test_round24_phrasal_verbs_catch(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@needs_wordnet
def test_phrasal_verbs_are_read_through_their_inflections() -> None:
    assert phrasal_verb("picked", "up") == "pick_up"
    assert phrasal_verb("slowing", "down") == "slow_down"
    assert phrasal_verb("kettle", "up") is None
    # A phrasal verb against a one-word verb WordNet files apart from it: compared as its
    # verb alone ("switch" / "disable" is no opinion), so not vetoed ...
    assert (
        check_guards("How do I switch off dark mode?", "How do I disable dark mode?", ALL) is None
    )
    # ... and its verb alone still vetoes where it did: "cash" / "cancel".
    assert check_guards("How do I cash out my pension?", "How do I cancel my pension?", ALL) == (
        "lexical"
    )
    # "left out" is "omit": a paraphrase the particle now lets through.
    assert check_guards("What costs are left out of the quote?",
                        "Which costs are omitted from the quote?", ALL) is None  # fmt: skip


def test_the_game_of_skipping_is_not_a_negator() -> None:
    assert features("a cotton skipping rope").negations == 0
    assert features("good at skipping with a partner").negations == 0
    assert features("skipping breakfast before a run").negations == 1
    assert features("skip the warm-up").negations == 1
