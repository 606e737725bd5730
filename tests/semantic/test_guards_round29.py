"""The checks' twenty-ninth round, each rule on questions of our own (not from any data set).

The round was fitted on what the twenty-five spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the twenty-sixth blind set, printed by
``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # "Apart from X" / "besides X" leave X out.
        ("Who sang at the coronation?", "Who sang apart from the choir at the coronation?",
         "negation"),
        ("Which fish live in the lake?", "Which fish live in the lake besides trout?",
         "negation"),
        # Other names against why it has its name.
        ("What else is a bunny hop called?", "Why is it called a bunny hop?", "aspect"),
        # Levels of skill are opposites, and so are toward / away and attack / defend.
        ("What is a good chess opening for advanced players?",
         "What is a good chess opening for beginners?", "negation"),
        ("Which climbing shoes suit experienced climbers?",
         "Which climbing shoes suit novice climbers?", "negation"),
        ("Should the rake lean toward the wall?", "Should the rake lean away from the wall?",
         "negation"),
        ("How do I attack better in fencing?", "How do I defend better in fencing?", "negation"),
        # "Up" / "down" after the same verb, a phrasal verb WordNet lacks (read as opposites
        # by the negation check since the forty-first round, when nothing else differs).
        ("How do I shift down a gear on a hill?", "How do I shift up a gear on a hill?",
         "negation"),
        # "Less X" against X's "-er" form.
        ("How do I make my bread less chewy?", "How do I make my bread chewier?", "negation"),
    ],
)  # fmt: skip
def test_round29_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "Other than" and "apart from" leave out alike; "what sets X apart from Y" compares.
        ("Which fish live in the lake apart from trout?",
         "Which fish live in the lake other than trout?"),
        ("What sets a viola apart from a violin?", "How is a viola different from a violin?"),
        ("Which fish live in the lake in addition to trout?",
         "Which fish live in the lake besides trout?"),
        # "kph" is "km/h", and "mph" converts to it.
        ("Is 40 kph too fast for a bike path?", "Is 40 km/h too fast for a bike path?"),
        ("Can I sail in 25 mph winds?", "Can I sail in 40 km/h winds?"),
        ("Can I sail in 25 mph winds?", "Can I sail in 25 miles per hour winds?"),
        # "Is there anywhere" asks where; so does "..., and where?".
        ("Is there anywhere in Leeds I can play squash late at night?",
         "Where can I play squash in Leeds late at night?"),
        ("Can I rent a kayak in Bath in winter, and where?",
         "Where can I rent a kayak in Bath in winter?"),
        # "What motivated" asks why; "how did it get its name" asks why it is called so.
        ("What motivated the founding of the Royal Society?", "Why was the Royal Society founded?"),
        ("How did the Brooklyn Bridge get its name?", "Why is it called the Brooklyn Bridge?"),
    ],
)  # fmt: skip
def test_round29_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
