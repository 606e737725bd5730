"""The checks' fifty-fifth round, each rule on questions of our own (not from any data set).

The round was fitted on what the fifty-one spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the
fifty-second blind set, unread when it was committed, is what will measure it. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards
from omnicache_ai.layers._lexical import lexical_available, related

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # An ordinal in words against one in figures names a place to compare.
        ("What did London look like in the eighteenth century?",
         "What did London look like in the 19th century?", "numbers"),
        ("Who won the 12th stage of the race?", "Who won the thirteenth stage of the race?",
         "numbers"),
        ("Who won the 12th stage of the race?", "Who won the 13th stage of the race?",
         "numbers"),
    ],
)  # fmt: skip
def test_round55_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What did London look like in the eighteenth century?",
         "What did London look like in the 18th century?"),
        ("Who won the 12th stage of the race?", "Who won the twelfth stage of the race?"),
        # The ordinal keeps its place among the content words ("turn" is not swapped for
        # "birthday").
        ("Can I open a bank account before I turn 16?",
         "Can I open a bank account before my 16th birthday?"),
    ],
)  # fmt: skip
def test_round55_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.skipif(not lexical_available(), reason="needs the lexical extra (WordNet data)")
@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # A possessive read as its word: "women's" is the token "womens", unknown to WordNet.
        ("Is there a women's category in the pancake race?",
         "Is there a children's category in the pancake race?", "lexical"),
        ("Is there an adult category in the pancake race?",
         "Is there a children's category in the pancake race?", "lexical"),
        # A word WordNet does not know, read through its prefix.
        ("How can I tell if a melon is underripe?", "How can I tell if a melon is overripe?",
         "lexical"),
        ("Should I pedal on the upslope of the hill?",
         "Should I pedal on the downslope of the hill?", "lexical"),
        ("Is the teapot underfilled?", "Is the teapot overfilled?", "lexical"),
        ("Did I undersalt the stew?", "Did I oversalt the stew?", "lexical"),
        ("How do I regrout a shower?", "How do I clean a shower?", "lexical"),
        ("How do I reupholster a footstool?", "How do I clean a footstool?", "lexical"),
        # "A lot" is WordNet's own lemma, not "lot" the plot of land: against "a little" still
        # a veto.
        ("Is the ferry a lot cheaper than the train?",
         "Is the ferry a little cheaper than the train?", "lexical"),
        # The same words, an ordinal in figures among them: judged as before.
        ("Which 18th-century potters made teapots?", "Which 18th-century potters made jugs?",
         "lexical"),
        # Lets through.
        ("Is the ferry a lot cheaper than the train?",
         "Is the ferry much cheaper than the train?", None),
        ("How do I restring a banjo?", "How do I string a banjo?", None),
        ("Is there a women's category in the pancake race?",
         "Is there a category for women in the pancake race?", None),
        ("Which stitches suit an 18th-century sampler?",
         "Which stitches suit an eighteenth-century sampler?", None),
    ],
)  # fmt: skip
def test_round55_lexical(a: str, b: str, guard: str | None) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.skipif(not lexical_available(), reason="needs the lexical extra (WordNet data)")
def test_round55_prefixes_read_only_for_unknown_words() -> None:
    """A prefix is read off only a word WordNet does not know, and a brand or typo no prefix
    explains stays no opinion."""
    assert related("underripe", "overripe") is False
    assert related("restring", "string") is None
    assert related("regrout", "clean") is False
    assert related("xqzrt", "clean") is None
    assert related("rexqzrt", "clean") is None
    assert related("rej", "clean") is None  # "re" + "j": too short a stem to read
    assert related("regrout", "reupholster") is False  # "grout" / "upholster"
