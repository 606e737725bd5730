"""The checks' forty-third round, each rule on questions of our own (not from any data set).

The round was fitted on what the thirty-nine spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); the
fortieth blind set, unread when it was committed, is what will measure it. Every case runs
both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # The party asked about being penalised traded with one named in the rest.
        ("Can a tenant be fined for a party the landlord threw?",
         "Can the landlord be fined for a party the tenant threw?", "roles"),
        ("Could my flatmate be evicted because of my dog?",
         "Could I be evicted because of my flatmate's dog?", "roles"),
        ("Can a driver be banned for a crash the cyclist caused?",
         "Can the cyclist be banned for a crash the driver caused?", "roles"),
        # Against / with the grain, against / in the direction, let out / take in.
        ("Should I sand the table against the grain?", "Should I sand the table with the grain?",
         "negation"),
        ("Should I brush the dog against the direction of the coat?",
         "Should I brush the dog in the direction of the coat?", "negation"),
        ("Can a tailor let out a jacket?", "Can a tailor take in a jacket?", "negation"),
        # "The answer to" stays a noun, compared as one: not "report to".
        ("Who knows the answer to the riddle?", "Who knows the author of the riddle?",
         "lexical"),
        ("Where can I find the answer to today's crossword?",
         "Where can I find the rules to today's crossword?", "lexical"),
        # The speaker as penalised party, traded with another named in the rest.
        ("Could my neighbours be evicted because of my complaints?",
         "Could I be evicted because of my neighbours' complaints?", "roles"),
    ],
)  # fmt: skip
def test_round43_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The same party, reworded or with its possessive.
        ("Can a child be fined for using a sunbed?", "Can a minor be fined for using a sunbed?"),
        ("Can the shop owner be sued if a customer slips?",
         "Can the shop's owner be sued if a customer slips?"),
        # Words used for one another.
        ("Is it worthwhile insulating a garage?", "Is it worth insulating a garage?"),
        ("Does the head chef answer to the restaurant manager?",
         "Does the head chef report to the restaurant manager?"),
        # "The answer to" is a noun: the riddle's answer is its solution.
        ("What's the answer to the riddle?", "What's the solution to the riddle?"),
    ],
)  # fmt: skip
def test_round43_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
