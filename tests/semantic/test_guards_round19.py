"""The checks' nineteenth round, each rule on questions of our own (not from any data set).

The round was fitted on what the fifteen spent blind sets had turned away, and on the pair
model's training files (see ``benchmarks/data/README.md``); its held-out figures come from the
sixteenth blind set, printed by ``benchmarks/bench_semantic_quality.py``. Every case runs both
ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import (
    _AUX_NT,
    _NEGATORS,
    GuardConfig,
    _content,
    check_guards,
    features,
)
from omnicache_ai.layers._lexical import lexical_available, opposite

ALL = GuardConfig()
needs_wordnet = pytest.mark.skipif(not lexical_available(), reason="needs the lexical extra")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The same owner words, traded between two things: "my rival's ball hits my car" is
        # not "my ball hits my rival's car", though "my" is no named participant.
        ("Who pays if my rival's ball hits my car?", "Who pays if my ball hits my rival's car?"),
        ("Is it a foul when my teammate's stick trips my opponent?",
         "Is it a foul when my stick trips my teammate's opponent?"),
    ],
)  # fmt: skip
def test_round19_owner_traded_with_a_pronoun(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) == "roles"
    assert check_guards(b, a, ALL) == "roles"


def test_round19_pronoun_owner_named_once_is_no_swap() -> None:
    # "My" owns only in one text: the owner changed to someone the other never names, which
    # is left to the other checks (no role swap).
    assert check_guards("Can I borrow my sister's bike?", "Can I borrow his sister's bike?",
                        ALL) != "roles"  # fmt: skip


@needs_wordnet
@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Without the antonym on the other side, "not" still negates.
        ("Is the helmet mandatory for juniors?", "Is the helmet not mandatory for juniors?"),
        ("Is the helmet optional for juniors?", "Is the helmet not optional for juniors?"),
        # A converse verb is no antonym for this: "not lent" is not "borrowed".
        ("Which books can be borrowed?", "Which books cannot be borrowed?"),
    ],
)  # fmt: skip
def test_round19_not_without_its_antonym_still_negates(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) == "negation"
    assert check_guards(b, a, ALL) == "negation"


@needs_wordnet
def test_opposite_reads_adjectives_through_their_heads() -> None:
    assert opposite("mandatory", "optional")  # a satellite of "obligatory"
    assert opposite("same", "different")
    assert not opposite("big", "huge")
    assert not opposite("lend", "borrow")  # verbs are left out: converses, not antonyms
    assert not opposite("optional", "optional")


@needs_wordnet
@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "Not X" is X's antonym: the "not" is answered, not a negated question.
        ("Is the helmet optional for juniors?", "Is the helmet not mandatory for juniors?"),
        ("Are the two recipes different?", "Are the two recipes not the same?"),
        ("Is a visa optional for a stopover?", "Is a visa not required for a stopover?"),
        ("Which fields are optional on the form?", "Which fields aren't mandatory on the form?"),
        # A negator counts as a "not" already: "not allowed" / "banned" balance as before,
        # and "banned" does not answer the "not" a second time.
        ("Are dogs banned on the pier?", "Are dogs not allowed on the pier?"),
        ("Is the gene absent in cats?", "Is the gene not present in cats?"),
        # "Unsuitable" is "suitable" with its "not" attached, balanced as before.
        ("Which ropes are unsuitable for caving?", "Which ropes aren't suitable for caving?"),
        # "Take place" is "be held"; "come up with" is "invent" (WordNet relates neither).
        ("When does the lantern festival take place?", "When is the lantern festival held?"),
        ("Where did the first regatta take place?", "Where was the first regatta held?"),
        ("Who came up with the sudoku?", "Who invented the sudoku?"),
        ("Which monk came up with the rosary?", "Which monk invented the rosary?"),
        # "Which village" asks where, as "which town" does.
        ("Which village hosts the onion fair?", "Where is the onion fair held?"),
        ("Which counties allow fracking?", "Where is fracking allowed?"),
    ],
)  # fmt: skip
def test_round19_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@needs_wordnet
def test_idiom_stands_for_one_word() -> None:
    f = features("When does the fair take place?")
    assert _content(f, f)[-1] == "held"
    assert "place" not in _content(f, f)
    # The word still differs from another: "invented" / "improved" is a substitution.
    assert check_guards("Who came up with the sudoku?", "Who improved the sudoku?",
                        ALL) == "lexical"  # fmt: skip
    # Against any other text, the idiom reads exactly as its word does.
    for other in ("Who invented the fair?", "Where is the fair cancelled?",
                  "Where does the fair end?", "Where is the fair filmed?"):  # fmt: skip
        assert check_guards("Where does the fair take place?", other, ALL) == check_guards(
            "Where is the fair held?", other, ALL
        )


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # A place asked after "which": a village or a county against a time.
        ("Which village hosts the onion fair?", "When is the onion fair held?", "aspect"),
        ("Which counties allow fracking?", "Why do counties allow fracking?", "aspect"),
    ],
)  # fmt: skip
def test_round19_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


def test_every_contracted_not_is_a_negator() -> None:
    # The negation count reads "doesnt" / "cant" from _NEGATORS alone; _answered reads them
    # through _AUX_NT: the two lists must agree.
    assert {f"{aux}nt" for aux in _AUX_NT} <= _NEGATORS
