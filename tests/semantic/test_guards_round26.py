"""The checks' twenty-sixth round, each rule on questions of our own (not from any data set).

The round was fitted on what the twenty-two spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the twenty-third blind set, printed by
``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

from omnicache_ai.layers._guards import GuardConfig, check_guards

ALL = GuardConfig()


def test_yes_or_no_is_one_phrase_not_two_sides() -> None:
    # "or" switches the role-order check off ("X or Y" has no order); "yes or no" does not.
    a = "In twenty questions, can the answerer ask the guessers yes-or-no questions?"
    b = "In twenty questions, can the guessers ask the answerer yes-or-no questions?"
    assert check_guards(a, b, ALL) == "roles"
    assert check_guards(b, a, ALL) == "roles"
    # A real "or" still does: "X ..., or Y?" puts two sides to choose from in either order
    # (the lexical check, off here, reads the in-place swap on its own).
    a = "Does the landlord pay the water bill or the tenant?"
    b = "Does the tenant pay the water bill or the landlord?"
    assert check_guards(a, b, GuardConfig(lexical=False)) is None


def test_the_words_of_a_capitalised_name_in_another_order_are_one_name() -> None:
    a = "When is the World Snooker Masters final?"
    b = "When is the Snooker World Masters final?"
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
    # A compound turned round still names another thing.
    assert check_guards("Is milk chocolate vegan?", "Is chocolate milk vegan?", ALL) == "roles"
