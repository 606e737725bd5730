"""False-hit guards: each catches its kind of near-miss, lets paraphrases through, switches off."""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        ("How do I enable dark mode?", "How do I disable dark mode?", "negation"),
        ("Can I take ibuprofen with coffee?", "Can I not take ibuprofen with coffee?", "negation"),
        ("Why does my laptop charge?", "Why doesn't my laptop charge?", "negation"),
        ("Why does my laptop charge?", "Why doesn\u2019t my laptop charge?", "negation"),
        ("How do I install the driver?", "How do I uninstall the driver?", "negation"),
        ("How can I turn on the VPN?", "How can I turn off the VPN?", "negation"),
        ("Convert 5 km to miles", "Convert 8 km to miles", "numbers"),
        ("Book a table for two people", "Book a table for four people", "numbers"),
        ("Weather in Paris on Monday", "Weather in Paris on Tuesday", "numbers"),
        ("Events in March 2024", "Events in March 2025", "numbers"),
        ("Convert 100 dollars to yen", "Convert 100 euros to yen", "numbers"),
        ("Is 30 degrees celsius hot?", "Is 30 degrees fahrenheit hot?", "numbers"),
        ("Flights from Paris to Berlin", "Flights from Berlin to Paris", "entities"),
        ("Is a dolphin bigger than a shark?", "Is a shark bigger than a dolphin?", "entities"),
        ("Did Microsoft acquire GitHub?", "Did GitHub acquire Microsoft?", "entities"),
        ("What is the capital of France?", "What is the capital of Spain?", "entities"),
    ],
)
def test_guard_catches(a: str, b: str, guard: str) -> None:
    """Each near-miss is vetoed by the expected guard, in both directions."""
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What is the capital of France?", "Which city is the capital of France?"),
        ("How do I reset my password?", "How can I reset my password?"),
        ("How many calories are in a banana?", "How many calories does a banana have?"),
        ("Convert 5 km to miles", "How many miles is 5 kilometers?"),
        ("What is machine learning?", "Explain Machine Learning (ML) to me"),
        ("In Python, how do I sort a list?", "How do I sort a list in Python?"),
        ("Why is the sky blue?", "Why is the sky blue?"),
        ("No, it does not exist in version 2.", "Version 2 does not have it."),
    ],
)
def test_paraphrases_pass(a: str, b: str) -> None:
    """Rewordings that keep the meaning are not vetoed."""
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.parametrize("name", ["negation", "numbers", "entities"])
def test_each_guard_switches_off(name: str) -> None:
    """Turning one guard off lets its kind through and keeps the others."""
    cases = {
        "negation": ("How do I enable dark mode?", "How do I disable dark mode?"),
        "numbers": ("Convert 5 km to miles", "Convert 8 km to miles"),
        "entities": ("Flights from Paris to Berlin", "Flights from Berlin to Paris"),
    }
    config = GuardConfig(**{name: False})
    a, b = cases[name]
    assert check_guards(a, b, config) is None
    assert name not in config.enabled
    for other, (x, y) in cases.items():
        if other != name:
            assert check_guards(x, y, config) == other
    assert check_guards(a, b, GuardConfig.off()) is None


def test_features_extracts_numbers_dates_units() -> None:
    """Numbers (digits and words), dates and units are normalized."""
    f = features("Ship 1,000 kg on March 3rd and two boxes by tomorrow for $20")
    assert {"1000", "2", "20"} <= f.numbers
    assert {"march", "tomorrow"} <= f.dates
    assert {"kg", "USD"} <= f.units
