"""The checks' thirty-seventh round, each rule on questions of our own (not from any data set).

The round was fitted on what the thirty-three spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the thirty-fourth
blind set, unread when it was committed, is what will measure it. Every case runs both ways
round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import (
    GuardConfig,
    _bounds_flipped,
    _clauses_traded,
    check_guards,
    features,
)

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # What happens and what it waits for, traded around one condition word.
        ("Can I set the pump so the sprinkler only starts when the tank fills?",
         "Can I set the pump so the tank only fills when the sprinkler is starting?", "roles"),
        ("Can I wire it so the pump only runs when the boiler is heating?",
         "Can I wire it so the boiler only heats when the pump is running?", "roles"),
        ("Does the porch light come on if the doorbell rings?",
         "Does the doorbell ring if the porch light comes on?", "roles"),
        ("Should the kettle switch off before the water boils?",
         "Should the water boil before the kettle switches off?", "roles"),
        # The same number a ceiling in one text and a floor in the other.
        ("Is a hedge within three metres of a window a problem?",
         "Is a hedge more than three metres from a window a problem?", "numbers"),
        ("Are bags up to 20 kg free on this flight?", "Are bags over 20 kg free on this flight?",
         "numbers"),
        ("Do tickets for at least 4 people get a discount?",
         "Do tickets for at most 4 people get a discount?", "numbers"),
        ("Is there a fee for loans of no more than 10 days?",
         "Is there a fee for loans of at least 10 days?", "numbers"),
        # "No more than" is a ceiling, against a floor or a plain "more than".
        ("Can I bring no more than 3 guests?", "Can I bring more than 3 guests?", "numbers"),
        # A "no" that bounds nothing is still a "not".
        ("Can I bring no guests?", "Can I bring guests?", "negation"),
    ],
)  # fmt: skip
def test_round37_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # A condition put first is the same question.
        ("When the tank is full, does the sprinkler start?",
         "Does the sprinkler start when the tank is full?"),
        # The same bound said two ways.
        ("Is a hedge within three metres of a window a problem?",
         "Is a hedge less than 3 metres from a window a problem?"),
        # A number bounded in one text only.
        ("Can people over 18 enter the raffle?", "Can people 18 and over enter the raffle?"),
        # "No more than" is "at most", not a "not".
        ("Can I bring no more than 3 guests?", "Can I bring at most 3 guests?"),
        ("Is there a fee for loans of not more than 10 days?",
         "Is there a fee for loans of up to 10 days?"),
        # "Come with" is "include", "fit" is "install", "odds" are "chances".
        ("Which blenders come with a travel cup?", "Which blenders include a travel cup?"),
        ("How much does it cost to get a new boiler fitted?",
         "How much does it cost to have a new boiler installed?"),
        ("What are the odds of rolling two sixes?", "What are the chances of rolling two sixes?"),
        # "Come with no X" is "come without X", not "include".
        ("Do refurbished phones come with no charger?",
         "Do refurbished phones come without a charger?"),
    ],
)  # fmt: skip
def test_round37_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_round37_bounds_are_read_on_the_number_they_bound() -> None:
    # A bound before another number says nothing of this one.
    assert not _bounds_flipped(("over", "5", "guests", "for", "2", "nights"),
                               ("5", "guests", "for", "up", "to", "2", "nights"))  # fmt: skip
    assert _bounds_flipped(("over", "2", "nights"), ("under", "two", "nights"))
    assert not _bounds_flipped((), ("over", "2"))


def test_round37_clauses_trade_only_around_the_same_condition_word() -> None:
    # "Before" against "after" says the same order of things (the negation check reads that
    # pair on its own).
    a = features("Should I sand the door before I paint the frame?").tokens
    b = features("Should I paint the frame after I sand the door?").tokens
    assert not _clauses_traded(a, b)
    b = features("Should I paint the frame before I sand the door?").tokens
    assert _clauses_traded(a, b)


def test_round37_clauses_trade_only_when_both_sides_move() -> None:
    a = features("Can I wire it so the fan runs when the boiler fires?").tokens
    # One side kept, the other replaced: no trade (the lexical check reads the new word).
    b = features("Can I wire it so the heater fires when the fan runs?").tokens
    assert not _clauses_traded(a, b)
    # A side with no role words trades nothing.
    assert not _clauses_traded(("do", "i", "pay", "when", "i", "book"),
                               ("do", "i", "pay", "i", "book", "when"))  # fmt: skip
