"""The checks' fifty-fourth round, each rule on questions of our own (not from any data set).

The round was fitted on what the fifty spent blind sets had let through or turned away, and
on the pair model's training files (see ``benchmarks/data/README.md``); the fifty-first
blind set, unread when it was committed, is what will measure it. Every case runs both ways
round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import (
    GuardConfig,
    _object_phrase,
    _sides_traded,
    _subject_phrase,
    check_guards,
    features,
)
from omnicache_ai.layers._lexical import lexical_available

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Two words traded across two clauses of one frame.
        ("Should the frame be oak and the panels pine?",
         "Should the frame be pine and the panels oak?", "roles"),
        ("Is the red cable for input and the blue one for output?",
         "Is the red cable for output and the blue one for input?", "roles"),
        ("Is the front door painted green and the back door grey?",
         "Is the front door painted grey and the back door green?", "roles"),
        ("Should the frame be oak and the panels be pine?",
         "Should the frame be pine and the panels be oak?", "roles"),
        ("Should I serve the fish with rice and the lamb with potatoes?",
         "Should I serve the fish with potatoes and the lamb with rice?", "roles"),
        ("Does the listing say the tables are oak and the chair is pine?",
         "Does the listing say the tables are pine and the chair is oak?", "roles"),
        # Who does it, against who it is done to, after a modal or "had to".
        ("Who must greet the bride at the door?", "Who must the bride greet at the door?",
         "roles"),
        ("Who had to pay the ferryman to cross the river?",
         "Who did the ferryman have to pay to cross the river?", "roles"),
        ("Who had to ask the squire for leave to build a barn?",
         "Who did the squire have to ask for leave to build a barn?", "roles"),
        ("Who should I write to about a refund?", "Who should write to me about a refund?",
         "roles"),
        # A verb's subject and object traded, in texts of any length.
        ("Did the mill owners fine the millworkers for lateness?",
         "Did the millworkers fine the mill owners for lateness?", "roles"),
        ("Can the county council charge its tenants for new windows?",
         "Can a county council tenant charge the council for new windows?", "roles"),
        ("Did the old dog bite the young dog at the park on Sunday?",
         "Did the young dog bite the old dog at the park on Sunday?", "roles"),
        ("Did the night watchmen warn the shepherds while the river rose?",
         "Did the shepherds warn the night watchmen while the river rose?", "roles"),
        ("Did the night watchmen warn the shepherds before the flood came down the valley?",
         "Did the shepherds warn the night watchmen before the flood came down the valley?",
         "roles"),
    ],
)  # fmt: skip
def test_round54_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Two sides joined by nothing but "or" / a list turned round: their order says nothing.
        ("Should the frame be oak or pine?", "Should the frame be pine or oak?"),
        ("Can I bake with flour and eggs and sugar?", "Can I bake with sugar and eggs and flour?"),
        ("Can I pay by card or by cash?", "Can I pay by cash or by card?"),
        ("Is it cheaper to go by train or by bus?", "Is it cheaper to go by bus or by train?"),
        # Two words of one meaning turned round, no joining word between.
        ("Which British films are remakes of French movies?",
         "Which British movies are remakes of French films?"),
        # Who does it, asked two ways.
        ("Who had to pay the ferryman to cross the river?",
         "Who was required to pay the ferryman to cross the river?"),
        ("Who must greet the bride at the door?", "Who has to greet the bride at the door?"),
        # One head on both sides of the verb: nothing traded.
        ("Did the old dog bite the young dog at the park?",
         "Did the older dog bite the younger dog at the park?"),
        ("Can a neighbour sue a neighbour over noise at night?",
         "Can a neighbour sue a neighbour for noise at night?"),
        # The same deal in the passive.
        ("Did the mill owners fine the millworkers for lateness?",
         "Were the millworkers fined by the mill owners for lateness?"),
    ],
)  # fmt: skip
def test_round54_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_round54_two_sides_offered_trade_nothing() -> None:
    """A question that offers two sides ("does the vicar ring the bell, or the verger?")
    offers them in either order (the lexical check, off here, reads the in-place swap on
    its own)."""
    a = "Does the vicar ring the bell at noon, or the verger?"
    b = "Does the verger ring the bell at noon, or the vicar?"
    assert check_guards(a, b, GuardConfig(lexical=False)) is None
    assert check_guards(b, a, GuardConfig(lexical=False)) is None


def test_round54_verbs_of_doing_together_trade_nothing() -> None:
    """The subject and object rule leaves a verb of doing together alone: "did the mill
    owners meet the millworkers" asks what the reverse asks (other rules read such texts)."""
    fine = features("Did the mill owners fine the millworkers before the strike?")
    fined = features("Did the millworkers fine the mill owners before the strike?")
    met = features("Did the mill owners meet the millworkers before the strike?")
    meet = features("Did the millworkers meet the mill owners before the strike?")
    assert _sides_traded(fine.tokens, fined.tokens)
    assert not _sides_traded(met.tokens, meet.tokens)


def test_round54_object_phrase_stops_at_a_clause_word() -> None:
    """In "warn the shepherds *while* the river rose" the object is "shepherds", not "rose"."""
    warned = features("Did the night watchmen warn the shepherds while the river rose?")
    warning = features("Did the shepherds warn the night watchmen while the river rose?")
    assert _sides_traded(warned.tokens, warning.tokens)


def test_round54_subject_phrase_stops_at_a_preposition() -> None:
    """Read back from "pay", "the owner *of* the dog" is no plain subject: not "dog"."""
    tokens = features("Did the owner of the dog pay the walker?").tokens
    assert _subject_phrase(tokens, tokens.index("pay")) == ()
    tokens = features("Did the dog owner pay the walker?").tokens
    assert _subject_phrase(tokens, tokens.index("pay")) == ("dog", "owner")
    assert _object_phrase(tokens, tokens.index("pay")) == ("walker",)


@pytest.mark.skipif(not lexical_available(), reason="needs the lexical extra (WordNet data)")
@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Prepositions of one relation of place say the same thing.
        ("Is there a cafe near the castle gates?", "Is there a cafe close to the castle gates?",
         None),
        ("Is there a cafe near the castle gates?", "Is there a cafe around the castle gates?",
         None),
        ("Who dug the tunnels beneath the old town?", "Who dug the tunnels under the old town?",
         None),
        ("Can I fly a kite above the playing fields?",
         "Can I fly a kite over the playing fields?", None),
        ("Can I walk across the bridge at night?", "Can I walk over the bridge at night?", None),
        ("Can I store the boxes inside the garage?", "Can I store the boxes within the garage?",
         None),
        # Prepositions of two relations still veto.
        ("Is it safe to run the cable over the joists?",
         "Is it safe to run the cable under the joists?", "lexical"),
        ("Can I walk across the bridge at night?", "Can I walk under the bridge at night?",
         "lexical"),
    ],
)  # fmt: skip
def test_round54_places(a: str, b: str, guard: str | None) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard
