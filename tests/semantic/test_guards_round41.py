"""The checks' forty-first round, each rule on questions of our own (not from any data set).

The round was fitted on what the thirty-seven spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); the
thirty-eighth blind set, unread when it was committed, is what will measure it. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, check_guards, features, negation_mismatch

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # "Up" against "down" after the verb's object.
        ("Should I turn the heating down at night?", "Should I turn the heating up at night?",
         "negation"),
        # The unit an answer is asked in: knots are a speed.
        ("What's the top speed of the ferry in knots?",
         "What's the top speed of the ferry in km/h?", "numbers"),
        # How to book a thing is not where it is.
        ("How do I book the disabled parking bays at the station?",
         "Where are the disabled parking bays at the station?", "aspect"),
        # "Get tackled by", "am tagged by": passives read in active order, a doubled
        # consonant ("tagged") read as its verb, and the clause before "if" left in place.
        ("If I tackle my brother in rugby, is it a foul?",
         "If I get tackled by my brother in rugby, is it a foul?", "roles"),
        ("Do I lose a life if I tag my partner?",
         "Do I lose a life if I am tagged by my partner?", "roles"),
        ("Does it count if I tag my own partner at the base?",
         "Does it count if I get tagged by my own partner at the base?", "roles"),
        ("If I hit my own teammate in dodgeball, am I out?",
         "If I get hit by my own teammate in dodgeball, am I out?", "roles"),
        # An inverted agentless passive ("are adults allowed in ...") is compared as one.
        ("Are adults allowed in the pool while children are swimming?",
         "Are children allowed in the pool while adults are swimming?", "roles"),
        # Which things have it / what it means.
        ("Which flights have a flexible fare?", "What does flexible fare mean for flights?",
         "aspect"),
        # Choosing one of two / how the two differ.
        ("Which is cheaper, a railcard or a season ticket?",
         "How is a railcard different from a season ticket?", "aspect"),
        ("Which should I plant first, the roses or the hedge?",
         "What is the difference between the roses and the hedge?", "aspect"),
        # Who is liable: the speaker or someone else.
        ("Am I liable if a guest slips on my driveway?",
         "Is the council liable if a guest slips on my driveway?", "roles"),
        ("Would we be responsible if the hired van is scratched?",
         "Would the hire firm be responsible if the hired van is scratched?", "roles"),
        # A participle before "than" is no passive: the comparison still says who is what.
        ("Is poker more luck-based than bridge?", "Is bridge more luck-based than poker?",
         "roles"),
        # Two texts opening with the same setting are compared as they stand.
        ("In chess, can a bishop capture a knight?", "In chess, can a knight capture a bishop?",
         "roles"),
        ("In golf, does the caddie pay the golfer?", "In golf, does the golfer pay the caddie?",
         "roles"),
        ("In Monopoly, does the banker pay the player?",
         "In Monopoly, does the player pay the banker?", "roles"),
        ("In Tom and Jerry, does Tom usually chase Jerry?",
         "In Tom and Jerry, does Jerry usually chase Tom?", "roles"),
        ("In handball, does the team that conceded restart play?",
         "In handball, does the team that scored restart play?", "lexical"),
    ],
)  # fmt: skip
def test_round41_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # A setting put first, before a comma, reads as the same setting at the end.
        ("On Boxing Day, is the leisure centre open?", "Is the leisure centre open on Boxing Day?"),
        ("For the matinee this Sunday, are balcony seats still available?",
         "Are there still balcony seats available for the matinee this Sunday?"),
        ("At most garden centres, when do bare-root roses go on sale?",
         "When do bare-root roses go on sale at most garden centres?"),
        # A knot tied in a rope is no unit; a unit asked twice is the same.
        ("How do I tie a figure 8 knot in a climbing rope?",
         "What's the way to tie a figure-eight knot in climbing rope?"),
        ("What's the speed limit in knots?", "What's the speed limit measured in knots?"),
        ("How much strength in % does a figure 8 knot lose?",
         "How much strength does a figure-eight knot take out of a rope?"),
        # "How do I book" / "where can I book" ask the same; finding a thing asks where it is.
        ("How do I book a court at the leisure centre?",
         "Where can I book a court at the leisure centre?"),
        ("How do I find the lockers at the gym?", "Where are the lockers at the gym?"),
        ("Where and how are seats for the final purchased?", "How do I buy tickets for the final?"),
        # The converse verb with its object pronoun first ("sell me X" is "sell X to me").
        ("Can I buy a season ticket from the club?", "Can the club sell me a season ticket?"),
        ("Can I borrow a ladder from my neighbour?", "Can my neighbour lend me a ladder?"),
        # An active and its passive.
        ("Did the coach drop the striker?", "Was the striker dropped by the coach?"),
        ("Do I lose a life if my partner tags me?",
         "Do I lose a life if I am tagged by my partner?"),
        ("If my own teammate hits me in dodgeball, am I out?",
         "If I get hit by my own teammate in dodgeball, am I out?"),
        ("When were child labour laws introduced in Britain?",
         "When did Britain introduce child labour laws?"),
        # "Mean for" asks a meaning on both sides; "which is cheaper" / "which costs less".
        ("What does restricted view mean for theatre seats?",
         "What does a restricted view mean on a theatre ticket?"),
        ("Which is cheaper, a railcard or a season ticket?",
         "Which costs less, a railcard or a season ticket?"),
        ("Which is cheaper, oak or pine?", "Which of oak or pine has the different price?"),
        # Only a meaning asked is no "which": "which board games" / "what are good board games".
        ("Which board games are good for two players?",
         "What are good board games for two players?"),
        # The speaker liable on both sides.
        ("Would I be held liable if my dog bit the postman?",
         "Am I liable if my dog bites the postman?"),
        # The particle moved next to its verb.
        ("Should I turn the heating down at night?", "Should I turn down the heating at night?"),
    ],
)  # fmt: skip
def test_round41_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_money_off_is_a_discount_not_the_opposite_of_on() -> None:
    a = features("Is there money off the monthly box for members?")
    b = features("Is there a discount on the monthly box for members?")
    assert not negation_mismatch(a, b)
    assert not negation_mismatch(b, a)
    assert not negation_mismatch(features("Is there 20% off on Mondays?"),
                                 features("Is there a 20% discount on Mondays?"))  # fmt: skip
    # "Off" against "on" still turns: "turn the alarm off" / "turn the alarm on".
    assert negation_mismatch(features("Can I turn the alarm off at night?"),
                             features("Can I turn the alarm on at night?"))  # fmt: skip
