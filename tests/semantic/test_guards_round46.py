"""The checks' forty-sixth round, each rule on questions of our own (not from any data set).

The round was fitted on what the forty-two spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the
forty-third blind set, unread when it was committed, is what will measure it. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # The question after the asker's "find out" / "check" / "know" is the one asked.
        ("How do I find out when the recycling centre is open?",
         "How do I find out where the recycling centre is?", "aspect"),
        ("How can I check how much the parking permit costs?",
         "How can I check how long the parking permit lasts?", "aspect"),
        # A verb excepted from a "not" with "but (do)" against one joined to it with "or".
        ("Do I pay the levy if I don't drive but do cycle to work?",
         "Do I pay the levy if I don't drive or cycle to work?", "negation"),
        ("Is it allowed if we don't sing but dance?",
         "Is it allowed if we don't sing nor dance?", "negation"),
        # One stands in a role for the other, and the other way round.
        ("Can I be the guarantor for my sister?", "Can my sister be my guarantor?", "roles"),
        ("Could my neighbour act as my witness?", "Could I act as a witness for my neighbour?",
         "roles"),
        # A plural owner's closing apostrophe: whose cover is it.
        ("Are my grandparents covered by my home policy?",
         "Am I covered by my grandparents' home policy?", "roles"),
        # "What happens after" asks no measure.
        ("What happens after the inspector visits the kitchen?",
         "How long does the inspector take to visit the kitchen?", "aspect"),
        # The same two persons traded in every clause, a pronoun read as its own text's one.
        ("Can my niece book the court and let me serve while she keeps score?",
         "Can I book the court and let my niece serve while I keep score?", "roles"),
        ("Can my 12-year-old rent the kayak and let me paddle while they steer?",
         "Can I rent the kayak and let my 12-year-old paddle while I steer?", "roles"),
        # Pay, wages, depth and width name what is asked.
        ("What's the pay for a lifeguard at the lido?",
         "How long is a lifeguard shift at the lido?", "aspect"),
        ("What depth should I plant garlic at?", "What month should I plant garlic in?", "aspect"),
        # "What does it taste like (in a stew)" asks how it tastes.
        ("What does lovage taste like in a stew?", "Why is lovage added to a stew?", "aspect"),
    ],
)  # fmt: skip
def test_round46_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The embedded question asks the same as the plain one.
        ("How do I find out where the recycling centre is?", "Where is the recycling centre?"),
        ("How can I check when my bin is emptied?", "When is my bin emptied?"),
        # "How the referee works out who ..." asks the referee's way, not who.
        ("How does the umpire work out who served first?", "How is the first server worked out?"),
        # Both "but"s except the same verb; both "or"s join it.
        ("Do I pay the levy if I don't drive but do cycle to work?",
         "Do I pay the levy if I do not drive but cycle to work?"),
        ("Is it allowed if we don't sing or dance?", "Is it allowed if we do not sing or dance?"),
        # The same one stands in for the same other, reworded.
        ("Can my sister be my guarantor?", "Can my sister act as guarantor for me?"),
        ("Can I be the guarantor for my sister?", "Can I serve as my sister's guarantor?"),
        # The plural owner the same on both sides.
        ("Is my cousin covered by my grandparents' home policy?",
         "Does my grandparents' home policy cover my cousin?"),
        # A pronoun kept, the persons in place.
        ("Can my niece book the court and let me serve while she keeps score?",
         "Can my niece book the court and allow me to serve while she keeps score?"),
        ("What's the pay for a lifeguard at the lido?",
         "How much does a lifeguard at the lido earn?"),
        ("What does lovage taste like in a stew?", "How does lovage taste in a stew?"),
    ],
)  # fmt: skip
def test_round46_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
