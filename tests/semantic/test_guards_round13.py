"""The checks' thirteenth round, each rule on questions of our own (not from any data set).

The round was fitted on what the nine spent blind sets got past the checks or had turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); its held-out
figures come from the tenth blind set, printed by ``benchmarks/bench_semantic_quality.py``.
Every case runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import GuardConfig, _extraposed, check_guards

ALL = GuardConfig()


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # Skipping a step is not doing it.
        ("Can I skip the primer on bare plaster?", "Can I use a primer on bare plaster?",
         "negation"),
        # Banned, forbidden and illegal say "not allowed", against "allowed".
        ("Is night fishing banned on the canal?", "Is night fishing allowed on the canal?",
         "negation"),
        ("Is it illegal to fly a drone over a beach?", "Is it legal to fly a drone over a beach?",
         "negation"),
        # "Un-X" against "X" still negates, and so does "unban" against "ban".
        ("Is the deck unsealed?", "Is the deck sealed?", "negation"),
        ("Can a moderator unban a member?", "Can a moderator ban a member?", "negation"),
        # A word of fitness against its opposite is a substitution, not a hedge.
        ("Is it good to prune roses in autumn?", "Is it bad to prune roses in autumn?",
         "lexical"),
    ],
)  # fmt: skip
def test_round13_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # "Skipping X" says "not doing X".
        ("What happens if I don't stretch before a run?",
         "Skipping the stretches before a run: what happens?"),
        # "Banned" / "forbidden" / "illegal" say "not allowed" / "not legal".
        ("Which fireworks are banned in Ireland?", "Which fireworks are not allowed in Ireland?"),
        ("Why is talking forbidden in the reading room?",
         "Why are you not allowed to talk in the reading room?"),
        ("Is it illegal to camp on the moor?", "Is it not legal to camp on the moor?"),
        # "Unsealed" is "not sealed", "unsuitable" is "not suitable".
        ("Can I varnish a floor that has not been sealed?", "Can I varnish an unsealed floor?"),
        ("Which paints are unsuitable for radiators?",
         "Which paints aren't suitable for radiators?"),
        # "Is it safe to X after Y" asks what "after Y, is X-ing safe" does.
        ("Is it safe to drive right after a flu jab?", "Right after a flu jab, is driving safe?"),
        ("Is it legal to park on the verge during the festival?",
         "During the festival, is parking on the verge legal?"),
        # Words of fitness reword each other.
        ("Is oak good for a chopping board?", "Is oak suitable for a chopping board?"),
        ("Which trails are fine for toddlers?", "Which trails are appropriate for toddlers?"),
    ],
)  # fmt: skip
def test_round13_lets_rewordings_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_extraposed_it_reads_the_clause_first() -> None:
    toks = ("is", "it", "safe", "to", "drive", "after", "a", "jab")
    assert _extraposed(toks) == ("is", "drive", "after", "a", "jab", "safe")
    toks = ("would", "it", "be", "wise", "to", "sell", "now")
    assert _extraposed(toks) == ("would", "sell", "now", "wise")
    # Not "is it true that ..." nor a question about "it" itself.
    toks = ("is", "it", "true", "that", "owls", "hunt")
    assert _extraposed(toks) == toks
    toks = ("is", "it", "broken", "or", "slow")
    assert _extraposed(toks) == toks
