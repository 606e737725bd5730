"""The checks' thirty-fifth round, each rule on questions of our own (not from any data set).

The round was fitted on what the thirty-one spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the thirty-second blind set, printed by
``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # One who acts and one acted on, the same six letters: "-or" / "-ee".
        ("What does a licensor owe the licensee?", "What does a licensee owe the licensor?",
         "roles"),
        ("Can an employer sue an employee for that?", "Can an employee sue an employer for that?",
         "roles"),
        # "Dis-X" / "de-X" against X itself.
        ("How do I disconnect the pump from the tank?", "How do I connect the pump to the tank?",
         "negation"),
        ("How do I dismount a bike tyre?", "How do I mount a bike tyre?", "negation"),
        ("How do I deregister my boat?", "How do I register my boat?", "negation"),
    ],
)  # fmt: skip
def test_round35_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "Sign up" is "register".
        ("How do I sign up for the spring league?", "How do I register for the spring league?"),
        # A word that only starts with the letters: "describe" says nothing of "scribe".
        ("Can you describe the scribe's role?", "Could you describe the role of the scribe?"),
        # The same "-ee" word in both texts.
        ("What does the franchisee pay each month?",
         "How much does the franchisee pay every month?"),
    ],
)  # fmt: skip
def test_round35_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
