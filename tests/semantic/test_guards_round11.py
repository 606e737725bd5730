"""The checks' eleventh round, each rule on questions of our own (not from any data set).

The round was fitted on what the seven spent blind sets got past the checks or had turned
away (see ``benchmarks/data/README.md``); its held-out figures come from the eighth blind
set, printed by ``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, _demonym, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # What is missing from something is what it lacks, not what it holds.
        ("Which vitamins are missing from a vegan diet?",
         "Which vitamins are present in a vegan diet?", "negation"),
        # Quitting is stopping: "when did they quit" against "when did they start".
        ("When did you quit smoking?", "When did you start smoking?", "negation"),
        # A compound turned round still names another thing outside an asked attribute.
        ("Can I drink chocolate milk after a run?", "Can I drink milk chocolate after a run?",
         "roles"),
        # A place's adjective does not make another place the same one.
        ("Which Austrian lakes are warm enough to swim in?",
         "Which lakes in Australia are warm enough to swim in?", "entities"),
        # A unit after a slash counts: km/h against m/s.
        ("How fast is 30 km/h in mph?", "How fast is 30 m/s in mph?", "numbers"),
    ],
)  # fmt: skip
def test_round11_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "missing from" and "lack" both say what is not there; "a missing cat" is a lost one.
        ("What is missing from my camping first-aid kit?",
         "What does my camping first-aid kit lack?"),
        ("How do I find a missing cat?", "How do I find a lost cat?"),
        # "quit" and "stop" say the same.
        ("When did the factory stop making typewriters?",
         "When did the factory quit making typewriters?"),
        # An attribute asked before or after its thing: "what color thread" / "what thread color".
        ("What color thread suits a navy quilt?", "What thread color suits a navy quilt?"),
        ("Which size hook suits chunky yarn?", "Which hook size suits chunky yarn?"),
        # A place and its adjective name the same place.
        ("Which castles in Belgium allow weddings?", "Which Belgian castles allow weddings?"),
        ("Is the tap water in Italy safe?", "Is Italian tap water safe?"),
        # "km/h" and "kilometres per hour" are one unit.
        ("What is 90 km/h in mph?", "What is 90 kilometres per hour in mph?"),
    ],
)  # fmt: skip
def test_round11_lets_rewordings_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.parametrize(
    ("place", "word", "same"),
    [
        ("belgium", "belgian", True), ("italy", "italian", True), ("japan", "japanese", True),
        ("germany", "german", True), ("canada", "canadian", True), ("austria", "austrian", True),
        ("austria", "australian", False), ("iran", "iraqi", False), ("peru", "paris", False),
    ],
)  # fmt: skip
def test_demonyms(place: str, word: str, same: bool) -> None:
    assert _demonym(place, word) is same


def test_a_lone_ambiguous_unit_is_no_unit() -> None:
    """Only after a number or a unit and a slash: "h" and "s" alone are letters."""
    assert features("What is 5 m/s in km/h?").units == {"m", "s", "km", "h"}
    assert "h" not in features("Is h silent in French?").units
