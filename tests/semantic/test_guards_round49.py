"""The checks' forty-ninth round, each rule on questions of our own (not from any data set).

The round was fitted on what the forty-five spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the forty-sixth
blind set, unread when it was committed, is what will measure it. Every case runs both ways
round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # "Cease" is "stop".
        ("When did the mill cease grinding flour?", "When did the mill start grinding flour?",
         "negation"),
        # "How far ahead" asks when, not how far.
        ("How far ahead should I book the village hall?",
         "How far is the village hall from the station?", "aspect"),
        # An irregular adjective of a place names that place, not another.
        ("Which English castles have moats?", "Which Scottish castles have moats?", "entities"),
        # Names trading places are read with a place and its adjective as one name.
        ("Can a choir from the Netherlands join a Flemish festival?",
         "Can a choir from Flanders join a Dutch festival?", "entities"),
        ("Can a darts club from the Netherlands join an English league?",
         "Can a darts club from England join a Dutch league?", "entities"),
    ],
)  # fmt: skip
def test_round49_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("When did the mill cease grinding flour?", "When did the mill stop grinding flour?"),
        ("How far ahead should I book the village hall?",
         "How far in advance should I book the village hall?"),
        ("How far ahead should I book the village hall?",
         "When should I book the village hall?"),
        # The place and its adjective, its possessive too.
        ("Which of Scotland's castles have moats?", "Which Scottish castles have moats?"),
        ("Which of England's castles have moats?", "Which English castles have moats?"),
        ("Which Welsh lakes allow swimming?", "Which lakes in Wales allow swimming?"),
        ("Which Dutch windmills can I visit?", "Which windmills in the Netherlands can I visit?"),
        # A plural owner's apostrophe ends no sentence: the name after it is a name.
        ("When was the Pennines' Stoodley Pike built?",
         "When was Stoodley Pike in the Pennines built?"),
        # One name said twice over is one name, not two in another order.
        ("How do I vote as a British citizen living in the UK?",
         "How do I vote in the UK as a British citizen?"),
        ("Can a British citizen living in the UK vote by post?",
         "Can a British citizen vote by post?"),
    ],
)  # fmt: skip
def test_round49_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
