"""The checks' fifty-sixth round, each rule on questions of our own (not from any data set).

The round was fitted on what the fifty-two spent blind sets had let through or turned away,
and on the pair model's training files (see ``benchmarks/data/README.md``); the
fifty-third blind set, unread when it was committed, is what will measure it. Every case
runs both ways round.
"""

from __future__ import annotations

import pytest

from omnicache_ai.layers._guards import (
    GuardConfig,
    _sides_traded,
    _voice_traded,
    check_guards,
    features,
)

ALL = GuardConfig()


def _tokens(text: str) -> tuple[str, ...]:
    return features(text).tokens


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # The subject traded with the object of the preposition after the verb's object.
        ("Why did the farmers lease grazing land from the abbey instead of buying it?",
         "Why did the abbey lease grazing land from the farmers instead of buying it?",
         "roles"),
        ("Why did private firms lease the old canal warehouses from the US Army instead of "
         "building their own?",
         "Why did the US Army lease the old canal warehouses from private firms instead of "
         "building their own?", "roles"),
        # A noun acted on in one text and acting in the other.
        ("What lights must a barge being towed by a tug show at night?",
         "What lights must a barge towing a lighter show at night?", "roles"),
    ],
)  # fmt: skip
def test_round56_catches(a: str, b: str, guard: str) -> None:
    assert check_guards(a, b, ALL) == guard
    assert check_guards(b, a, ALL) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Why did the farmers lease grazing land from the abbey instead of buying it?",
         "Why did the farmers rent grazing land from the abbey instead of buying it?"),
        ("What does the dog walked by its owner need?",
         "What does the owner walking the dog need?"),
    ],
)  # fmt: skip
def test_round56_lets_through(a: str, b: str) -> None:
    assert check_guards(a, b, ALL) is None
    assert check_guards(b, a, ALL) is None


def test_round56_subject_against_the_party_after_the_object() -> None:
    """Read on the rule alone (the entities check also reads some of these)."""
    lease = _tokens("Did the town hire its lamplighters from the gas company for the winter?")
    leased = _tokens("Did the gas company hire its lamplighters from the town for the winter?")
    assert _sides_traded(lease, leased)
    assert _sides_traded(leased, lease)
    # The same party on each side: nothing traded.
    same = _tokens("Did the town hire its lamplighters from the gas company in the winter?")
    assert not _sides_traded(lease, same)
    # Another preposition: not the same slot ("to" is not "from").
    other = _tokens("Did the gas company hire its lamplighters to the town for the winter?")
    assert not _sides_traded(lease, other)
    # "The US" after an article is the country, not "us".
    navy = _tokens("Did the US Navy buy its charts from the British Admiralty in the war?")
    admiralty = _tokens("Did the British Admiralty buy its charts from the US Navy in the war?")
    assert _sides_traded(navy, admiralty)
    # The same subject on both sides, and the same party after the object: nothing traded.
    room = _tokens("Can a tenant sublet a room to a tenant in the same block?")
    flat = _tokens("Can a tenant sublet a flat to a tenant in the same block?")
    assert not _sides_traded(room, flat)
    # Only a preposition that names a party to the deal ("from", "to", "for", "by",
    # "against", "with") is read; a place is left to the other checks.
    assert not _sides_traded(
        _tokens("Did the guild build barns in the village during the war?"),
        _tokens("Did the village build barns in the guild during the war?"),
    )
    # "instead of" ends the party's phrase: "the abbey", not "abbey instead".
    farmers = _tokens("Why did the farmers lease land from the abbey instead of buying it?")
    abbey = _tokens("Why did the abbey lease land from the farmers instead of buying it?")
    assert _sides_traded(farmers, abbey)


def test_round56_voice_traded() -> None:
    towed = _tokens("What lights must a barge being towed by a tug show at night?")
    towed_bare = _tokens("What lights must a barge towed by a tug show at night?")
    towing = _tokens("What lights must a barge towing a lighter show at night?")
    assert _voice_traded(towed, towing)
    assert _voice_traded(towed_bare, towing)
    assert not _voice_traded(towing, towed)
    # Another noun before each verb: the owner walks the dog in both.
    walked = _tokens("What does the dog walked by its owner need?")
    walking = _tokens("What does the owner walking the dog need?")
    assert not _voice_traded(walked, walking)
    # Without its agent ("by") a participle may only describe: "a horse trained in dressage".
    assert not _voice_traded(
        _tokens("What does a horse trained in dressage cost?"),
        _tokens("What does a horse training in dressage cost?"),
    )
    # A function word before both is no noun to compare.
    assert not _voice_traded(
        _tokens("Is it being towed by a tug?"), _tokens("Is it towing a lighter?")
    )
