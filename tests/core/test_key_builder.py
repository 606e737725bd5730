"""CacheKeyBuilder: canonical (stable) and injective keys."""

from __future__ import annotations

import dataclasses
import random
import unicodedata
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnicache_ai import CacheKeyBuilder, SerializationError
from omnicache_ai.core.key_builder import canonical_bytes

json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.binary(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    """Python equality, but telling bool from int and bytes from str, like the key does."""
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


@given(json_like, st.integers(0, 2**32))
def test_stable_under_dict_order(value: Any, seed: int) -> None:
    """Reordering dict keys never changes the key."""
    assert canonical_bytes(value) == canonical_bytes(_shuffled(value, random.Random(seed)))


@given(json_like, json_like)
def test_injective(a: Any, b: Any) -> None:
    """Distinct inputs never share an encoding (and equal inputs always do)."""
    assert (canonical_bytes(a) == canonical_bytes(b)) == _same(a, b)


def test_numbers_and_unicode_normalised() -> None:
    """1 == 1.0, -0.0 == 0, and NFC/NFD spellings of a string share a key."""
    kb = CacheKeyBuilder()
    assert kb.build("r", {"t": 1}) == kb.build("r", {"t": 1.0})
    assert kb.build("r", -0.0) == kb.build("r", 0)
    nfc, nfd = "café", unicodedata.normalize("NFD", "café")
    assert nfc != nfd
    assert kb.build("r", nfc) == kb.build("r", nfd)


def test_type_confusions_do_not_collide() -> None:
    """bool/int, str/bytes, NaN/None, int-keyed dicts and tagged-looking strings stay apart."""
    encodings = [
        canonical_bytes(v)
        for v in (
            True, 1, "1", b"1", None, float("nan"), float("inf"), {1: "a"}, {"1": "a"},
            ["\x00b", "MQ=="], b"1", 2**80, str(2**80), {1, 2}, [1, 2],
        )
    ]  # fmt: skip
    # b"1" appears twice on purpose: equal inputs, equal encodings.
    assert len(set(encodings)) == len(encodings) - 1


def test_rich_types_are_keyable() -> None:
    """Dataclasses, numpy arrays and sets produce keys; unsupported types get a clear error."""

    @dataclasses.dataclass
    class Req:
        model: str
        temperature: float

    kb = CacheKeyBuilder()
    assert kb.build("r", Req("m", 0.5)) == kb.build("r", Req("m", 0.5))
    assert kb.build("r", Req("m", 0.5)) != kb.build("r", Req("m", 0.7))
    a = np.arange(6, dtype=np.float32)
    assert kb.build("e", a) != kb.build("e", a.reshape(2, 3))
    assert kb.build("s", {3, 1, 2}) == kb.build("s", {1, 2, 3})
    with pytest.raises(SerializationError, match="object"):
        kb.build("x", object())


def test_key_shape_and_namespace_escaping() -> None:
    """Keys are namespace:type:digest with ':' in segments escaped."""
    key = CacheKeyBuilder(namespace="team:a").build("resp", "hello")
    ns, typ, digest = key.split(":")
    assert (ns, typ, len(digest)) == ("team%3Aa", "resp", 32)
    assert CacheKeyBuilder("a").build("x", 1) != CacheKeyBuilder("b").build("x", 1)
