"""The checks' ninth round, each rule on questions of our own (not from any data set).

The round was fitted on what the five spent blind sets got past the checks or had turned
away (see ``benchmarks/data/README.md``); its held-out figures come from the sixth blind
set, printed by ``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Two agentless passives joined by the same clause word, the roles crossing it.
        ("Is the landlord liable if a tenant is injured on the stairs?",
         "Is the tenant liable if a landlord is injured on the stairs?", "roles"),
    ],
)  # fmt: skip
def test_round9_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Inflected negating verbs count as their base form does.
        ("What should you never do in a thunderstorm?",
         "In a thunderstorm, which actions must be avoided?"),
        # A name's plural or singular is the same name.
        ("Which Winter Olympics were held in Norway?",
         "Which Winter Olympic Games were held in Norway?"),
        # Hundreds and tens spelled out together.
        ("Can I run this amplifier on 230 volts?",
         "Can I run this amplifier on two hundred thirty volts?"),
        # Where something comes from, asked as a place or as an origin.
        ("Where did the tango originate?", "What part of the world does the tango come from?"),
        ("Where does the tango come from?", "Where did the tango originate?"),
    ],
)  # fmt: skip
def test_round9_lets_rewordings_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_hundreds_and_tens() -> None:
    assert features("two hundred thirty volts").numbers == frozenset({"230"})
    assert features("three hundred five pages").numbers == frozenset({"305"})
    assert features("twelve hundred feet").numbers == frozenset({"1200"})
