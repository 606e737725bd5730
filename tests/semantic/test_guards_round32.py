"""The checks' thirty-second round, each rule on questions of our own (not from any data set).

The round was fitted on what the twenty-eight spent blind sets had let through or turned
away, and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the twenty-ninth blind set, printed by
``benchmarks/bench_semantic_quality.py``. Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import (
    GuardConfig,
    _actor_and_owner_traded,
    check_guards,
    features,
)

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # A role swap behind a setting both texts open with, whose word comes back later.
        ("In tag football, what happens if a defender tags an attacker?",
         "In tag football, what happens if an attacker tags a defender?", "roles"),
        # The one who acts owns what is acted on in the other text.
        ("Can I sing in my daughter's choir?", "Can my daughter sing in my church choir?",
         "roles"),
        # Half a unit against the whole unit; ordinals before the same noun.
        ("How many calories does half an hour of rowing burn?",
         "How many calories does an hour of rowing burn?", "numbers"),
        ("How much does a second lesson cost?", "How much does a fourth lesson cost?",
         "numbers"),
        ("Can I still enter on the third day?", "Can I still enter on the 1st day?", "numbers"),
        # Pairs no WordNet sense opposes: loosen / tighten, men's / women's, buy / rent, two
        # tasks done to one kept thing, indoor / beach, freeze / refrigerate, check in / out.
        ("How do I loosen a bicycle chain?", "How do I tighten a bicycle chain?", "negation"),
        ("When is the men's final?", "When is the women's final?", "negation"),
        ("Can I buy a kayak at the lake?", "Can I rent a kayak at the lake?", "negation"),
        ("How do I book a squash court online?", "How do I cancel a squash court online?",
         "negation"),
        ("How long does soup keep in the fridge?", "How long does soup keep in the freezer?",
         "negation"),
        ("How do I sharpen a chisel?", "How do I polish a chisel?", "negation"),
        ("How do I clean a saxophone?", "How do I tune a saxophone?", "negation"),
        ("What are the rules of beach handball?", "What are the rules of indoor handball?",
         "negation"),
        ("Can I freeze cooked rice?", "Can I refrigerate cooked rice?", "negation"),
        ("Can I check in online?", "Can I check out online?", "negation"),
        ("Why do I have too few seedlings?", "Why do I have too many seedlings?", "negation"),
        # Two measures of one thing, in place of each other.
        # (Asked by "what" / "how", the aspect check reads them first since the 33rd round.)
        ("Is the paddle length regulated?", "Is the paddle diameter regulated?", "lexical"),
        ("Does ball size matter for beginners?", "Does ball weight matter for beginners?",
         "lexical"),
        ("Does the colour of the kit matter?", "Does the shape of the kit matter?", "lexical"),
        # (Asked as "what does it cost / weigh", the aspect check reads them first since the
        # 50th round.)
        ("What does a racing sled cost?", "What does a racing sled weigh?", "aspect"),
    ],
)  # fmt: skip
def test_round32_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # One measure said two ways.
        ("What width of hose fits this tap?", "What diameter of hose fits this tap?"),
        ("What are the size limits for cabin bags?",
         "What are the dimension limits for cabin bags?"),
        ("What colour is the referee's shirt?", "What color is the referee's shirt?"),
        # Half an hour against the minutes it is.
        ("Can I learn it in half an hour?", "Can I learn it in 30 minutes?"),
        ("Can I learn to juggle in half an hour?", "Is half an hour enough to learn to juggle?"),
        # The same ordinal, other words around it.
        ("What happens on the third strike?", "On the third strike, what happens?"),
        # A setting both open with, nothing traded after it.
        ("In touch rugby, how many touches does a team get?",
         "In touch rugby, how many touches is a team allowed?"),
        # The same one acts in both.
        ("Can my son play in the under-12 team?",
         "Is my son allowed to play in the under-12 team?"),
        # "Regrip" is replacing a grip.
        ("How do I regrip my squash racket?", "How do I replace the grip on my squash racket?"),
    ],
)  # fmt: skip
def test_round32_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The same one acts in both: whose choir it is, is the other checks' to compare.
        ("Can I sing in my daughter's choir?", "Can I sing in my choir?"),
        # Only one text says who owns anything: no trade.
        ("Can I sing in the choir?", "Can my daughter sing in my choir?"),
    ],
)  # fmt: skip
def test_round32_actor_and_owner_need_a_trade(a: str, b: str) -> None:
    assert not _actor_and_owner_traded(features(a), features(b))
    assert not _actor_and_owner_traded(features(b), features(a))
