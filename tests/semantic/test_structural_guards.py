"""The structural guards (question aspect, roles, direction/polarity pairs) and their cost.

Examples are written here, not taken from any evaluation set. The last test holds the checks
to their budget on light paraphrases: together they may reject at most 5% of the 999
paraphrase pairs of the shared benchmark data.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from _ci import unavailable
from omnicache_ai.layers._guards import GuardConfig, check_guards, features

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How much does a passport renewal cost?", "How long does a passport renewal take?"),
        ("When does the pharmacy close?", "Where is the pharmacy?"),
        ("Who wrote the constitution?", "Why was the constitution written?"),
        ("How often should I water a cactus?", "How much water does a cactus need?"),
        ("How far is the airport from downtown?", "How long is the drive to the airport?"),
        ("What is a hash table?", "When should I use a hash table?"),
        ("What is Docker used for?", "How is Docker installed?"),
        ("What usually causes a flat tyre?", "How do I fix a flat tyre?"),
        ("Can you tell me when the bank opens?", "Can you tell me where the bank opens?"),
    ],
)
def test_aspect_guard_catches_another_question_about_the_same_subject(a: str, b: str) -> None:
    """Two questions about one subject asking for a different aspect are vetoed both ways."""
    assert check_guards(a, b, ALL) == "aspect"
    assert check_guards(b, a, ALL) == "aspect"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How many days does delivery take?", "How long does delivery take?"),
        ("How much does a visa cost?", "What is the price of a visa?"),
        ("How do I find my tax form?", "Where do I find my tax form?"),
        ("When is the deadline?", "What date is the deadline?"),
        ("How many calories are in rice?", "How much energy is in rice?"),
        ("Why is the sea salty?", "What makes the sea salty?"),
        ("The guide explains how to publish a package.", "A guide for when you publish."),
    ],
)
def test_aspect_guard_lets_rewordings_through(a: str, b: str) -> None:
    """Rewordings asking for the same thing (or statements) are not vetoed by the aspect check."""
    assert check_guards(a, b, GuardConfig(negation=False, numbers=False, entities=False,
                                          roles=False, lexical=False)) is None  # fmt: skip
    assert check_guards(b, a, ALL) != "aspect"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Can the buyer sue the seller?", "Can the seller sue the buyer?"),
        ("Do I owe my brother money?", "Does my brother owe me money?"),
        ("Can I give you feedback?", "Can you give me feedback?"),
        ("Should the landlord pay the plumber?", "Should the plumber pay the landlord?"),
        ("Can I use cat shampoo on my dog?", "Can I use dog shampoo on my cat?"),
        ("When does the bus to Leeds leave?", "When does the bus from Leeds leave?"),
        ("How do I move money into savings?", "How do I move money from savings?"),
    ],
)
def test_roles_guard_catches_swapped_roles(a: str, b: str) -> None:
    """The same words in swapped roles, or the same place on the other end, are vetoed."""
    assert check_guards(a, b, ALL) == "roles"
    assert check_guards(b, a, ALL) == "roles"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I reset my password on Android?", "On Android, how do I reset my password?"),
        ("Can a tenant be evicted by the landlord?", "Can the landlord evict a tenant?"),
        ("Is tea or coffee healthier?", "Is coffee or tea healthier?"),
        ("What is the difference between RAM and ROM?", "How does ROM differ from RAM?"),
        ("Can you help me reset my password?", "I need help resetting my password"),
        ("Flights from Rome to Oslo", "Flights to Oslo from Rome"),
    ],
)
def test_roles_guard_lets_rewordings_through(a: str, b: str) -> None:
    """Reordered clauses, the passive voice and symmetric relations are not role swaps."""
    only_roles = GuardConfig(
        negation=False, numbers=False, entities=False, aspect=False, lexical=False
    )
    assert check_guards(a, b, only_roles) is None
    assert check_guards(b, a, only_roles) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What is the melting point of lead?", "What is the boiling point of lead?"),
        ("What is the minimum age to vote?", "What is the maximum age to vote?"),
        ("Can I take this pill with milk?", "Can I take this pill without milk?"),
        ("When is the earliest checkout?", "When is the latest checkout?"),
        ("How do I deposit a cheque?", "How do I withdraw a cheque?"),
        ("Is the inbound port open?", "Is the outbound port open?"),
        ("When does the ferry arrive?", "When does the ferry leave?"),
    ],
)
def test_polarity_pairs_are_vetoed(a: str, b: str) -> None:
    """Direction and polarity opposites flip the question and are vetoed as negations."""
    assert check_guards(a, b, ALL) == "negation"
    assert check_guards(b, a, ALL) == "negation"


def test_features_name_aspect_and_roles() -> None:
    """Features expose the question's aspect and its role words, pronouns as their person."""
    f = features("How long does it take for him to pay me?")
    assert f.aspect == "process"  # a duration: how long a job takes
    assert "@1" in f.roles
    assert "@3m" in f.roles
    assert features("Tell me about pandas").aspect is None


def _paraphrase_pairs() -> list[dict[str, str]]:
    """The 999 pairs: $OMNICACHE_PARAPHRASE_PAIRS, else the copy in tests/data (MIT)."""
    env = os.environ.get("OMNICACHE_PARAPHRASE_PAIRS")
    path = (
        Path(env) if env else Path(__file__).resolve().parents[1] / "data" / "paraphrase_pairs.json"
    )
    if not path.exists():
        unavailable(f"paraphrase pairs not found at {path} (set OMNICACHE_PARAPHRASE_PAIRS)")
    pairs: list[dict[str, str]] = json.loads(path.read_text())
    return pairs


def test_checks_reject_at_most_5_percent_of_light_paraphrases() -> None:
    """All guards together veto at most 5% of the 999 light paraphrase pairs (each way)."""
    pairs = _paraphrase_pairs()
    assert len(pairs) == 999
    for query, cached in (("similar", "origin"), ("origin", "similar")):
        vetoed = [p for p in pairs if check_guards(p[query], p[cached], ALL) is not None]
        assert len(vetoed) / len(pairs) <= 0.05, len(vetoed)
    new_checks = GuardConfig(negation=False, numbers=False, entities=False)
    new = sum(check_guards(p["similar"], p["origin"], new_checks) is not None for p in pairs)
    # Aspect, roles and lexical together: 1.6% since the twentieth round's verb rule.
    assert new / len(pairs) <= 0.02, new


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Is 10 miles in km a long run?", "Is 10 km in miles a long run?"),
        ("What is 40 kg in pounds?", "What is 40 pounds in kg?"),
    ],
)
def test_same_number_in_another_unit_is_vetoed(a: str, b: str) -> None:
    """The same number bound to another unit is another quantity, even with the same units."""
    assert check_guards(a, b, ALL) == "numbers"
    assert check_guards(b, a, ALL) == "numbers"


def test_same_measure_reworded_passes_the_numbers_check() -> None:
    """A conversion asked the other way round keeps each number with its unit: no veto."""
    assert check_guards("Convert 5 km to miles", "How many miles is 5 kilometers?", ALL) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How often should I oil a bike chain?", "How much should I oil a bike chain?"),
        ("Where are tulips grown?", "How are tulips grown?"),
        ("Which year was the bridge opened?", "Which city was the bridge opened in?"),
        ("What does the clutch pedal do?", "Where is the clutch pedal?"),
        ("How long does the climb take?", "How hard is the climb?"),
    ],
)
def test_aspect_guard_reads_more_question_forms(a: str, b: str) -> None:
    """'How often' despite the hedge list, how hard, which city/year, 'what does X do'."""
    assert check_guards(a, b, ALL) == "aspect"
    assert check_guards(b, a, ALL) == "aspect"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How often should I oil a bike chain?", "How frequently should I oil a bike chain?"),
        ("Where do I renew my library card?", "How do I renew my library card?"),
        ("How old is the bridge?", "What year was the bridge built?"),
    ],
)
def test_aspect_guard_keeps_same_question_in_other_words(a: str, b: str) -> None:
    """Frequency words, finding verbs (how ~ where) and age ~ year are the same question."""
    only_aspect = GuardConfig(negation=False, numbers=False, entities=False, roles=False)
    assert check_guards(a, b, only_aspect) is None
    assert check_guards(b, a, only_aspect) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Passive voice with its agent, against active and against passive.
        ("Did the wolf chase the deer?", "Was the wolf chased by the deer?"),
        ("Was the firm sued by the client?", "Was the client sued by the firm?"),
        # Possessives and "of".
        ("Can I call my lawyer's secretary?", "Can I call my secretary's lawyer?"),
        ("Who is the father of my stepson?", "Who is the stepson of my father?"),
        # Phrases crossing a shared verb or a one-way preposition.
        ("Does air pollution harm lung health?", "Does lung health harm air pollution?"),
        (
            "Can I swap a window seat for an aisle seat?",
            "Can I swap an aisle seat for a window seat?",
        ),
        ("Can I use yogurt instead of cream?", "Can I use cream instead of yogurt?"),
        ("Can I replace the saw with a drill?", "Can I replace the drill with a saw?"),
    ],
)
def test_roles_guard_catches_voice_possessive_and_crossing_swaps(a: str, b: str) -> None:
    """Who acts on whom through the passive voice, whose, and phrases trading sides."""
    only_roles = GuardConfig(
        negation=False, numbers=False, entities=False, aspect=False, lexical=False
    )
    assert check_guards(a, b, only_roles) == "roles"
    assert check_guards(b, a, only_roles) == "roles"


def test_single_capital_letters_are_labels() -> None:
    """'plan A' / 'plan B' are labels, so swapping them reverses the question."""
    a, b = "Can I switch from plan B to plan C?", "Can I switch from plan C to plan B?"
    assert check_guards(a, b, ALL) is not None
    assert "b" in features(a).entities


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Did the wolf chase the deer?", "Was the deer chased by the wolf?"),
        ("The page can be opened by clicking the link.", "Click the link to open the page."),
        ("Reload the index when you call refresh()", "Call refresh() and then reload the index"),
        ("Can I pay by card at the desk?", "At the desk, can I pay by card?"),
    ],
)
def test_roles_guard_lets_voice_and_clause_rewordings_through(a: str, b: str) -> None:
    """Active/passive rewordings, 'by' + -ing (a means) and clause reordering are not swaps."""
    only_roles = GuardConfig(
        negation=False, numbers=False, entities=False, aspect=False, lexical=False
    )
    assert check_guards(a, b, only_roles) is None
    assert check_guards(b, a, only_roles) is None


AUTHORED = Path(__file__).resolve().parents[1] / "data" / "near_misses_authored.json"
_AUTHORED_ITEMS: list[dict[str, object]] = json.loads(AUTHORED.read_text())["items"]


def test_authored_tuning_near_misses_stay_vetoed() -> None:
    """Regression on rounds 1 and 2 of the tuning set (tests/data/near_misses_authored.json,
    written for tuning): every near-miss vetoed (the relative clause "an employee who sued the
    company" / "a company that sued an employee" too, since round 3), at most the documented
    paraphrases turned away (two converse verbs, 'how much sleep' / 'how many hours', 'say X' /
    'what is X', and the lexical check's 'setting' / 'option', two nouns WordNet does not
    relate, and since the twentieth round 'answer to' / 'report to')."""
    items = [i for i in _AUTHORED_ITEMS if i.get("round", 1) in (1, 2)]
    assert len(items) >= 180
    served = [
        i["different"]
        for i in items
        if check_guards(str(i["different"]), str(i["cached"]), ALL) is None
    ]
    assert served == []
    turned_away = [
        i for i in items if check_guards(str(i["paraphrase"]), str(i["cached"]), ALL) is not None
    ]
    assert len(turned_away) <= 7, [i["paraphrase"] for i in turned_away]


# Round 3 also holds the lexical check's one-word substitutions (tests/semantic/
# test_lexical_guard.py tests those); the roles check's round 3 is the role-order kind.
_ROUND3 = [
    i for i in _AUTHORED_ITEMS if i.get("round") == 3 and i["kind"] == "relation_or_role_swap"
]
# Round-3 near-misses the checks do not veto, with the reason: none.
_ROUND3_SERVED: set[str] = set()
# Round-3 paraphrases turned away (misses, not false hits), with the reason.
_ROUND3_TURNED_AWAY = {
    # "the day before Tuesday": the participant of "before" is "the day", not Monday, so the
    # converse rewrite (before / after, participants traded) does not give the cached words.
    "Is Monday the day before Tuesday?",
}


def test_round_three_set_is_fifty_role_triples() -> None:
    """The round-3 authored triples are all role-order ones, and the known failures are theirs."""
    assert len(_ROUND3) == 50
    assert {i["kind"] for i in _ROUND3} == {"relation_or_role_swap"}
    assert {i["different"] for i in _ROUND3} >= _ROUND3_SERVED
    assert {i["paraphrase"] for i in _ROUND3} >= _ROUND3_TURNED_AWAY


@pytest.mark.parametrize("item", _ROUND3, ids=lambda i: str(i["domain"]))
def test_round_three_near_miss_vetoed_and_paraphrase_passes(item: dict[str, object]) -> None:
    """Round 3 (relative clauses, converses, comparatives, possessives): the near-miss is
    vetoed and the paraphrase passes every check, but for the listed known failures."""
    cached, paraphrase, different = (str(item[k]) for k in ("cached", "paraphrase", "different"))
    vetoed = check_guards(different, cached, ALL) is not None
    assert vetoed is (different not in _ROUND3_SERVED), different
    passes = check_guards(paraphrase, cached, ALL) is None
    assert passes is (paraphrase not in _ROUND3_TURNED_AWAY), paraphrase


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Subject and object relatives, with and without a pronoun.
        (
            "Was the cat that scratched the vet sedated?",
            "Was the cat that the vet scratched sedated?",
        ),
        ("Is the lawyer who sued the bank rich?", "Is the bank who sued the lawyer rich?"),
        ("Is the chef the critic praised famous?", "Is the critic the chef praised famous?"),
        # Reduced relatives: passive and -ing.
        (
            "Should a boy stung by a wasp see a doctor?",
            "Should a wasp stung by a boy see a doctor?",
        ),
        ("Is a driver towing a caravan insured?", "Is a caravan towing a driver insured?"),
        # Whose N is X / who is X's N.
        ("Who was Kant's student?", "Whose student was Kant?"),
        # A converse word with the participants kept in place.
        ("Does lunch follow breakfast?", "Does lunch precede breakfast?"),
        ("Is Ann the teacher of Bob?", "Is Ann the student of Bob?"),
    ],
)
def test_roles_guard_reads_relative_clauses_and_converses(a: str, b: str) -> None:
    """Round 3 of the roles check: who does what inside a relative clause, converse words."""
    assert check_guards(a, b, ONLY_ROLES) == "roles"
    assert check_guards(b, a, ONLY_ROLES) == "roles"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Was the cat that scratched the vet sedated?",
            "Was the cat which scratched the vet sedated?",
        ),
        ("Is the chef the critic praised famous?", "Is the chef whom the critic praised famous?"),
        (
            "Is the chef that the critic praised famous?",
            "Is the chef praised by the critic famous?",
        ),
        (
            "Should a boy stung by a wasp see a doctor?",
            "Should a boy who was stung by a wasp see a doctor?",
        ),
        ("Is a driver towing a caravan insured?", "Is a driver who tows a caravan insured?"),
        ("Was the lion attacked by the zookeeper?", "Did the zookeeper attack the lion?"),
    ],
)
def test_roles_guard_lets_relative_clause_rewordings_through(a: str, b: str) -> None:
    """A relative clause said with another pronoun, reduced, or in the passive: no swap."""
    assert check_guards(a, b, ONLY_ROLES) is None
    assert check_guards(b, a, ONLY_ROLES) is None


@pytest.mark.parametrize(
    ("a", "b", "swapped"),
    [
        (
            "Can my aunt sell a car to me?",
            "Can I buy a car from my aunt?",
            "Can my aunt buy a car from me?",
        ),
        (
            "Did the club lend a striker to the rival team?",
            "Did the rival team borrow a striker from the club?",
            "Did the rival team lend a striker to the club?",
        ),
        ("Did Rome beat Carthage?", "Did Carthage lose to Rome?", "Did Carthage beat Rome?"),
        ("Is a goose heavier than a duck?", "Is a duck lighter than a goose?",
         "Is a duck heavier than a goose?"),
        ("Is Odin the father of Thor?", "Is Thor the son of Odin?", "Is Thor the father of Odin?"),
    ],
)  # fmt: skip
def test_converse_wording_passes_every_check_and_its_swap_does_not(
    a: str, b: str, swapped: str
) -> None:
    """The converse verb with the participants traded is the same question; the converse
    verb (or the same verb) with the participants kept is not."""
    assert check_guards(b, a, ALL) is None
    assert check_guards(a, b, ALL) is None
    assert check_guards(swapped, a, ALL) is not None
    assert check_guards(a, swapped, ALL) is not None


ONLY_ROLES = GuardConfig(negation=False, numbers=False, entities=False, aspect=False, lexical=False)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The question word as the one acting or the one acted on.
        ("Who does the treasurer answer to?", "Who answers to the treasurer?"),
        ("Which player did the umpire warn?", "Which player warned the umpire?"),
        ("What does a tadpole grow into?", "What grows into a tadpole?"),
        # Whose thing, used by whom: the owner and the user trade places.
        ("Can I drive my neighbour's van?", "Can my neighbour drive my van?"),
        (
            "My sister wore my jacket; should she clean it?",
            "I wore my sister's jacket; should she clean it?",
        ),
        # A compound noun turned round names another thing.
        ("Where can I buy a garden herb?", "Where can I buy a herb garden?"),
        ("How is apple juice made?", "How is juice apple made?"),
    ],
)
def test_roles_guard_catches_question_word_owner_and_compound_swaps(a: str, b: str) -> None:
    """Round 2 of the roles check: wh-subject / wh-object, owner changes, compounds."""
    assert check_guards(a, b, ONLY_ROLES) == "roles"
    assert check_guards(b, a, ONLY_ROLES) == "roles"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What did the museum acquire?", "What was acquired by the museum?"),
        ("What does idempotent mean?", "What is the meaning of idempotent?"),
        ("Who is the treasurer's boss?", "Who does the treasurer answer to?"),
        ("Can I drive my neighbour's van?", "Can I drive the van of my neighbour?"),
        ("How do I rename my branch?", "How can you rename your branch?"),
        (
            "How do I move photos from my work laptop to my home laptop?",
            "How do I move photos to my home laptop from my work laptop?",
        ),
        ("How do I quickly undo a commit?", "How do I undo quickly a commit?"),
    ],
)
def test_roles_guard_round_two_lets_rewordings_through(a: str, b: str) -> None:
    """Passive wh-questions, copulas, 'of' possessives, phrases moved whole, adverbs: no swap."""
    assert check_guards(a, b, ONLY_ROLES) is None
    assert check_guards(b, a, ONLY_ROLES) is None


def test_fronted_clause_does_not_pair_an_infinitive_with_a_direction() -> None:
    """'In winter, ... to fly from A to B': the k-th 'to' is compared with the k-th 'to'."""
    a = "Is it quicker to drive from the harbour to the old town at night?"
    b = "At night, is it quicker to drive from the harbour to the old town?"
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None
    swapped = "Is it quicker to drive from the old town to the harbour at night?"
    assert check_guards(swapped, a, ALL) is not None


# ---- fifth round of the roles check: symmetric pairs, one-way prepositions, passive agents ----


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Is the road between Bath and Wells longer than the canal?",
            "Is the road between Wells and Bath longer than the canal?",
        ),
        (
            "Is a ferry between the island and the harbour cheaper than a water taxi?",
            "Is a ferry between the harbour and the island cheaper than a water taxi?",
        ),
        (
            "Python vs Ruby: is Ruby slower than Python?",
            "Ruby vs Python: is Ruby slower than Python?",
        ),
        (
            "Do both the driver and the owner need insurance before the sale?",
            "Do both the owner and the driver need insurance before the sale?",
        ),
    ],
)
def test_the_two_sides_of_a_symmetric_pair_trade_places_freely(a: str, b: str) -> None:
    """'between X and Y', 'X vs Y', 'both X and Y' with their sides traded: no check vetoes
    (the entities check read the names' order before)."""
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Is the road between Bath and Wells longer than the canal?",
            "Is the canal between Bath and Wells longer than the road?",
        ),
        (
            "Python vs Ruby: is Ruby slower than Python?",
            "Python vs Ruby: is Python slower than Ruby?",
        ),
        (
            "Can the council fine both the landlord and the agent?",
            "Can both the landlord and the agent fine the council?",
        ),
        (
            "Road vs track bikes: can I ride a track bike on the road?",
            "Road vs track bikes: can I ride a road bike on the track?",
        ),
    ],
)
def test_a_swap_beside_a_symmetric_pair_is_vetoed(a: str, b: str) -> None:
    """A symmetric pair no longer switches the roles check off: the rest is compared, its two
    sides counting as one word (so the same words repeated outside it are read too)."""
    assert check_guards(a, b, ONLY_ROLES) == "roles"
    assert check_guards(b, a, ONLY_ROLES) == "roles"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "per": a rate read one way.
        (
            "How many students per tutor does the college allow?",
            "How many tutors per student does the college allow?",
        ),
        # "with" after any other verb is one-way.
        ("Can I glaze the ham with honey?", "Can I glaze the honey with ham?"),
        (
            "Should I coat the chicken with breadcrumbs?",
            "Should I coat the breadcrumbs with chicken?",
        ),
        # "against" is one-way.
        (
            "Can a tenant testify against the landlord?",
            "Can the landlord testify against a tenant?",
        ),
    ],
)
def test_per_with_and_against_read_one_way(a: str, b: str) -> None:
    """'X per Y', 'V X with Y' and 'X against Y' name who is what: the two sides traded are a
    different question."""
    assert check_guards(a, b, ONLY_ROLES) == "roles"
    assert check_guards(b, a, ONLY_ROLES) == "roles"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Should the tenant agree with the landlord on the rent?",
            "Should the landlord agree with the tenant on the rent?",
        ),
        (
            "Should the coach meet with the referee before the match?",
            "Should the referee meet with the coach before the match?",
        ),
        (
            "Did Norway agree with Sweden on the treaty?",
            "Did Sweden agree with Norway on the treaty?",
        ),
        ("Can a cat live with a rabbit?", "Can a rabbit live with a cat?"),
        ("Can I mix vinegar with baking soda?", "Can I mix baking soda with vinegar?"),
        (
            "When does the home side play against the visitors?",
            "When do the visitors play against the home side?",
        ),
    ],
)
def test_with_or_against_after_a_verb_of_doing_together_is_two_way(a: str, b: str) -> None:
    """'meet with', 'agree with', 'live with', 'mix X with Y', 'play against': the two sides
    trade places and the question stays the same (every check, names included)."""
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Two-way "meet with", but who comes before whom is swapped.
        (
            "Should the coach meet with the referee before the captain?",
            "Should the captain meet with the referee before the coach?",
        ),
        # Whose notes are shared says who shares them.
        ("Can I share my notes with my tutor?", "Can my tutor share her notes with me?"),
    ],
)
def test_two_way_with_keeps_the_other_roles(a: str, b: str) -> None:
    """Reading 'with' two-way trades only its two sides: other swaps and owners still count."""
    assert check_guards(a, b, ALL) is not None
    assert check_guards(b, a, ALL) is not None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Has the fox eaten the hen?", "Did the hen eat the fox?"),
        ("Has the jellyfish stung the diver?", "Did the diver sting the jellyfish?"),
        (
            "The club lent a striker to the league leaders",
            "The league leaders lend a striker to the club",
        ),
    ],
)
def test_irregular_verb_forms_meet_their_verb(a: str, b: str) -> None:
    """'eaten' / 'eat', 'stung' / 'sting', 'lent' / 'lend' are one verb: its two sides swapped
    across tenses are a role swap, and the same roles across tenses are not."""
    assert check_guards(a, b, ONLY_ROLES) == "roles"
    assert check_guards(b, a, ONLY_ROLES) == "roles"
    same = b.replace("hen eat the fox", "fox eat the hen")
    if same != b:
        assert check_guards(a, same, ONLY_ROLES) is None


@pytest.mark.parametrize(
    ("passive", "active", "swapped"),
    [
        (
            "Was the bride kissed by the groom in front of the priest?",
            "Did the groom kiss the bride in front of the priest?",
            "Did the priest kiss the bride in front of the groom?",
        ),
        (
            "Was the witness questioned by the judge about the defendant?",
            "Did the judge question the witness about the defendant?",
            "Did the defendant question the witness about the judge?",
        ),
    ],
)
def test_passive_agent_ends_at_its_noun_phrase(passive: str, active: str, swapped: str) -> None:
    """'by the groom in front of the priest': the agent is 'the groom', the rest stays where it
    is, so the active wording passes and the agent traded with the later noun is vetoed."""
    assert check_guards(passive, active, ONLY_ROLES) is None
    assert check_guards(active, passive, ONLY_ROLES) is None
    assert check_guards(swapped, passive, ONLY_ROLES) == "roles"
    assert check_guards(passive, swapped, ONLY_ROLES) == "roles"


def test_a_to_phrase_after_the_passive_agent_stays_with_it() -> None:
    """'used by the method *to put* a row into the sheet': an infinitive of purpose, not a
    direction, so it is not read against 'adds a row *to* the sheet' as a swap."""
    a = "A given index position is used by the `add_row` method to put a new row into the sheet."
    b = "The `add_row` method adds a new row to the sheet at a given index position."
    assert check_guards(a, b, ONLY_ROLES) is None
    assert check_guards(b, a, ONLY_ROLES) is None


_ROUND5 = [i for i in _AUTHORED_ITEMS if i.get("round") == 5]


def test_round_five_set_is_role_triples() -> None:
    """Round 5 of the tuning set: role-order triples, each in a domain of its own."""
    assert len(_ROUND5) == 66
    assert {i["kind"] for i in _ROUND5} == {"relation_or_role_swap"}
    assert len({i["domain"] for i in _ROUND5}) == len(_ROUND5)


@pytest.mark.parametrize("item", _ROUND5, ids=lambda i: str(i["domain"]))
def test_round_five_near_miss_vetoed_and_paraphrase_passes(item: dict[str, object]) -> None:
    """Round 5 (a fit: the fifth round of the roles check was developed on it): every
    near-miss vetoed, every paraphrase passing every check."""
    cached, paraphrase, different = (str(item[k]) for k in ("cached", "paraphrase", "different"))
    assert check_guards(different, cached, ALL) is not None, different
    assert check_guards(paraphrase, cached, ALL) is None, paraphrase
