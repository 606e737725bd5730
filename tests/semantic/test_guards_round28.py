"""The checks' twenty-eighth round, each rule on questions of our own (not from any data set).

The round was fitted on what the twenty-four spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the twenty-fifth blind set, printed by
``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # One of a thing against another number of it, an irregular plural.
        ("Can a cat catch one mouse a day?", "Can a cat catch three mice a day?", "numbers"),
        ("Is the game played with one die?", "Is the game played with five dice?", "numbers"),
        # The speaker against the speaker's own other, in one clause.
        ("Who serves next after a game where my partner won?",
         "Who serves next after a game where I won?", "roles"),
        # A thing of the speaker's own other against the speaker's own.
        ("Can I move a piece on my opponent's half of the board?",
         "Can I move a piece on my half of the board?", "roles"),
        # An "and" both texts keep between the same words joins nothing that moved.
        ("Does rock beat paper and scissors?", "Do paper and scissors beat rock?", "roles"),
        ("Can the cat and mouse toy distract my dog?",
         "Can my dog distract the cat and mouse toy?", "roles"),
        # Two participants trading places across an "and" with words between them.
        ("If I raise and my partner folds, who wins the pot?",
         "If my partner raises and I fold, who wins the pot?", "roles"),
        # A passive's stranded preposition points back to the one acted on.
        ("Does the striker who scored take the next kickoff?",
         "Does the striker who was scored against take the next kickoff?", "roles"),
        ("Does the goalie who was scored on restart play?",
         "Does the goalie who scored restart play?", "roles"),
        # "Whose X were V-ed" against "that V-ed the X".
        ("In bowls, does the player that knocked the jack over replace it?",
         "In bowls, does the player whose jack was knocked over replace it?", "roles"),
        # One outside a "between" pair trades places with one of its sides.
        ("Should the cat sit between the children and me?",
         "Should I sit between the children and the cat?", "roles"),
        ("Should I stand between the dog and the sheep?",
         "Should the dog stand between me and the sheep?", "roles"),
        ("Should the lamp go between the desk and the bed?",
         "Should the desk go between the lamp and the bed?", "roles"),
        # A name and a verb turned round still trade roles.
        ("Who has Arsenal beaten most often at home?",
         "Who has beaten Arsenal most often at home?", "roles"),
        # Things needed against how long or how much.
        ("What tools do I need to build a birdhouse?",
         "How long does it take to build a birdhouse?", "aspect"),
        ("What equipment do I need for archery?", "How much does archery cost?", "aspect"),
    ],
)  # fmt: skip
def test_round28_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "Half a dozen" is six, "two dozen" twenty-four.
        ("Are half a dozen eggs enough for this cake?", "Are 6 eggs enough for this cake?"),
        ("Do I need two dozen chairs for the party?", "Do I need 24 chairs for the party?"),
        # A count "the" takes as known is not asked.
        ("Is 20 metres enough between the two goal lines?",
         "Is 20 m enough between the goal lines?"),
        # "Apart from" / "in addition to" go nowhere: no trip to compare.
        ("Apart from price, what matters when buying a laptop for students?",
         "In addition to price, what matters when buying a laptop for students?"),
        # "A putter of my own" is "my own putter".
        ("Can I rent clubs if I don't have a set of my own, or must I bring them?",
         "Can I rent clubs if I don't have my own set, or must I bring them?"),
        # Two people side by side in one "and": their order is free.
        ("Can my partner and I both bid?", "Can I and my partner both bid?"),
        # A setting put first moves whole, its preposition and a number with it.
        ("Under the ICF, what rules govern kayak slalom?",
         "What are the kayak slalom rules under the ICF?"),
        ("For FIFA 23, which formation is best?", "What's the best formation for FIFA 23?"),
        ("On a wet court, should I put more topspin on my serves?",
         "Should I hit my serves with more topspin on a wet court?"),
        # After an article, a name and its kind turn round; so do an attribute asked and its
        # thing.
        ("Who designed the font Futura?", "Who designed the Futura font?"),
        ("What mattress density should I buy for back pain?",
         "What density mattress should I buy for back pain?"),
        # Things needed against what is asked another way ("what are you forbidden from").
        ("What ingredients are banned in the bake-off?",
         "What are you forbidden from using in the bake-off?"),
        # The sides of a pair in either order.
        ("Should the table go between the sofa and the window?",
         "Should the table go between the window and the sofa?"),
        # Things needed against a way of doing it.
        ("What tools do I need to build a birdhouse?", "What do I need to build a birdhouse?"),
        # A group against the group's own: "our team" may be "we".
        ("Who kicks off after a half where we scored?",
         "Who kicks off after a half where our team scored?"),
    ],
)  # fmt: skip
def test_round28_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_round28_own_is_read_at_its_of() -> None:
    # "A putter of my own": the putter is mine; nothing after the comma is.
    owns = features("If I lack a putter of my own, will they still let me play?").owns
    assert owns == frozenset({("@1", "putter")})


def test_round28_words_of_how_move_freely() -> None:
    # "online" and "free" traded trade no roles (the lexical check, off here, reads the two
    # words on its own).
    a = "Where can I take an online pottery class for free?"
    b = "Where can I take a free pottery class online?"
    no_lexical = GuardConfig(lexical=False)
    assert check_guards(a, b, no_lexical) is None
    assert check_guards(b, a, no_lexical) is None
