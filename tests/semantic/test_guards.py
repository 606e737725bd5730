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


@pytest.mark.parametrize("name", ["negation", "numbers", "entities", "aspect", "roles"])
def test_each_guard_switches_off(name: str) -> None:
    """Turning one guard off lets its kind through and keeps the others."""
    cases = {
        "negation": ("How do I enable dark mode?", "How do I disable dark mode?"),
        "numbers": ("Convert 5 km to miles", "Convert 8 km to miles"),
        "entities": ("What is the capital of France?", "What is the capital of Spain?"),
        "aspect": ("When does the museum open?", "Where does the museum open?"),
        "roles": ("Can the buyer sue the seller?", "Can the seller sue the buyer?"),
    }
    # The lexical check also vetoes WordNet antonyms (enable / disable) and unrelated nouns
    # (France / Spain): it is switched off here so that each structural guard is seen alone.
    config = GuardConfig(**{name: False, "lexical": False})
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


def _negation_mismatch_by_scan(a: str, b: str) -> bool:
    """The antonym check written the slow, obvious way: every stem against every token."""
    from omnicache_ai.layers import _guards as g

    fa, fb = features(a), features(b)
    if fa.negations % 2 != fb.negations % 2:
        return True

    def has(tokens: tuple[str, ...], stem: str) -> bool:
        if " " in stem:
            return f" {stem}" in " " + " ".join(tokens) + " "
        if len(stem) <= g._SHORT_STEM:
            return stem in tokens
        return any(t.startswith(stem) for t in tokens)

    for x, y in g._ANTONYMS:
        ax, ay, bx, by = has(fa.tokens, x), has(fa.tokens, y), has(fb.tokens, x), has(fb.tokens, y)
        if x in y and ay:
            ax = any(t.startswith(x) for t in fa.tokens if not t.startswith(y))
        if x in y and by:
            bx = any(t.startswith(x) for t in fb.tokens if not t.startswith(y))
        if (ax and not ay and by and not bx) or (ay and not ax and bx and not by):
            return True
    return False


def test_indexed_antonym_check_agrees_with_a_full_scan() -> None:
    """The one-pass polarity index vetoes exactly what scanning every stem would."""
    import itertools
    import json
    import random
    from pathlib import Path

    from omnicache_ai.layers._guards import negation_mismatch

    data = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
    texts: list[str] = [
        "Sign in to the portal", "How do I sign out?", "Pin the message", "Unpin it",
        "pinned messages", "uninstall and install again", "turn on and turn off", "on or off",
    ]  # fmt: skip
    pairs: list[tuple[str, str]] = []
    for name in ("hard_negatives.json", "semantic_hard_negatives.json"):
        doc = json.loads((data / name).read_text())
        for p in doc["pairs"]:
            pairs.append((p["a"], p["b"]))
            texts += [p["a"], p["b"]]
    rng = random.Random(7)
    pairs += rng.sample(list(itertools.combinations(texts, 2)), 3000)
    vetoed = 0
    for a, b in pairs:
        want = _negation_mismatch_by_scan(a, b)
        assert negation_mismatch(features(a), features(b)) is want, (a, b)
        vetoed += want
    assert 100 < vetoed < len(pairs) - 100  # both outcomes are well represented
