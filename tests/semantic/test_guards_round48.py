"""The checks' forty-eighth round, each rule on questions of our own (not from any data set).

The round was fitted on what the forty-four spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the forty-fifth
blind set, unread when it was committed, is what will measure it. Every case runs both ways
round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Who claims from whom, traded around the verb's shared object, in a long text.
        ("If the scaffold is damaged on my drive during the job, can the builder claim costs "
         "from me?",
         "If the scaffold scratches my drive during the job, can I claim costs from the builder?",
         "roles"),
        ("Should I charge my nephew rent if I borrow his van from him?",
         "Should I charge my nephew rent if he borrows my van from me?", "roles"),
        # Buying against selling, both from the asker's side: another deal.
        ("Where can I sell my old rowing machine?", "Where can I buy an old rowing machine?",
         "negation"),
        # What is ruled out, left out or against the rules is a "not".
        ("Which dogs are excluded from the agility final?",
         "Which dogs are included in the agility final?", "negation"),
        ("Do pawn shops buy old watches?", "Do pawn shops sell old watches?", "negation"),
        # "How far back" in space is no time.
        ("How far back should I stand from the bonfire?",
         "When should I stand back from the bonfire?", "aspect"),
        # Doing it by harming against doing it without harm.
        ("Can I lift the tiles by cracking the grout?",
         "Can I lift the tiles without cracking the grout?", "negation"),
        # "How much space" asks a size, "how much" alone a price.
        ("How much space does a hot tub need?", "How much does a hot tub cost?", "aspect"),
    ],
)  # fmt: skip
def test_round48_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # One deal seen from the buyer's side and from the seller's.
        ("Which shops sell replacement strings for a harp?",
         "Where can I buy replacement strings for a harp?"),
        ("Can I buy logs from the sawmill?", "Can the sawmill sell me logs?"),
        ("Can you sell me a day ticket?", "Can I buy a day ticket from you?"),
        ("Which suppliers stock marine plywood?", "Where can I get marine plywood?"),
        # "Without harm" says "safely".
        ("Can I lift the tiles without cracking them?", "How do I lift the tiles safely?"),
        ("Is it safe to feed hens bread?", "Can hens eat bread without any risk?"),
        # ... but not against a text that names the harm's "not" itself.
        ("How do I lift the tiles so they don't crack?",
         "How do I lift the tiles without cracking them?"),
        ("How do I lift the tiles so they don't break?",
         "How do I lift the tiles without cracking them?"),
        # "Excluded" says "not allowed"; "left out of" says "not in".
        ("Which dogs are excluded from the agility final?",
         "Which dogs aren't allowed in the agility final?"),
        ("What is left out of a gluten-free loaf?", "What does a gluten-free loaf omit?"),
        ("What's omitted from a gluten-free loaf?", "What's left out of a gluten-free loaf?"),
        ("Which receipts are invalid for the expenses claim?",
         "Which receipts aren't accepted for the expenses claim?"),
        # Two others trading places around a verb of doing together; and an object that
        # only one text puts after the verb.
        ("Can the bakery share an oven with the cafe?",
         "Can the cafe share an oven with the bakery?"),
        ("Should the tiles be sealed before I grout them?",
         "Should I seal the tiles before grouting them?"),
        # Without the speaker, a phrase moved round the verb is read by the main swap check.
        ("Which bikes does the ferry allow as luggage?",
         "Which bikes are allowed as luggage on the ferry?"),
        ("Is it against the rules to kick the ball in korfball?",
         "Is kicking the ball not allowed in korfball?"),
        # A body that runs a thing is who runs it; "how far back" in time is when.
        ("Which body is in charge of the old milestones?",
         "Who is in charge of the old milestones?"),
        ("How far back does the custom of wassailing go?", "When did wassailing begin?"),
        ("At what moments should the crowd cheer?", "When should the crowd cheer?"),
        ("How much room does a hot tub need?", "How big is the space a hot tub needs?"),
    ],
)  # fmt: skip
def test_round48_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "Which body of water", "which body parts": no one.
        ("Which body of water is deepest in the county?", "Who is deepest in the county?"),
        ("Which body parts can touch the ball?", "Who can touch the ball?"),
    ],
)  # fmt: skip
def test_round48_body_asks_no_person(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) == "aspect"
