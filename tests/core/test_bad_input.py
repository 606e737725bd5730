"""Bad input at the API boundary: a clear error naming the problem, sync and async alike."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from omnicache_ai import CacheManager, RequestConfig
from omnicache_ai.core.errors import ConfigurationError, SerializationError
from omnicache_ai.core.policies import MAX_TTL, TTLPolicy
from omnicache_ai.core.serializer import JsonSerializer
from omnicache_ai.layers import ResponseCache, StreamingResponseCache

BAD_TTLS = [math.nan, math.inf, -math.inf, 1e20, MAX_TTL * 2, -1]


def _calls(m: CacheManager, **kw: Any) -> dict[str, Callable[[], Any]]:
    """Every write path of the manager with the same keyword arguments."""
    return {
        "set": lambda: m.set("k", 1, **kw),
        "get_or_set": lambda: m.get_or_set("k", lambda: 1, **kw),
        "aset": lambda: asyncio.run(m.aset("k", 1, **kw)),
        "aget_or_set": lambda: asyncio.run(m.aget_or_set("k", lambda: 1, **kw)),
    }


@pytest.mark.parametrize("ttl", BAD_TTLS)
def test_bad_ttl_is_rejected_with_the_allowed_range(ttl: float) -> None:
    """ttl NaN, infinite, huge or negative raises and names the allowed range; nothing stored."""
    m = CacheManager()
    calls = {
        **_calls(m, ttl=ttl),
        "set_many": lambda: m.set_many({"k": 1}, ttl=ttl),
        "aset_many": lambda: asyncio.run(m.aset_many({"k": 1}, ttl=ttl)),
        "config": lambda: m.set("k", 1, config=RequestConfig(ttl=ttl)),
        "layer": lambda: ResponseCache(m).set("hi", "answer", model_id="x", ttl=ttl),
    }
    for name, call in calls.items():
        with pytest.raises(ConfigurationError, match="between 0 and") as info:
            call()
        assert "100 years" in str(info.value), name
    assert m.get("k", "miss") == "miss"
    assert m.metrics.snapshot()["errors"] == 0


@pytest.mark.parametrize("ttl", [math.nan, math.inf, 1e20])
def test_bad_default_ttl_is_rejected(ttl: float) -> None:
    """A policy built with a NaN/inf/huge default or layer TTL is refused at construction."""
    with pytest.raises(ConfigurationError, match="default_ttl must be between"):
        TTLPolicy(default_ttl=ttl)
    with pytest.raises(ConfigurationError, match="layer 'response'"):
        TTLPolicy(per_layer={"response": ttl})


def test_longest_ttl_is_accepted() -> None:
    """MAX_TTL itself is accepted (the bound is inclusive)."""
    m = CacheManager()
    m.set("k", 1, ttl=MAX_TTL)
    assert m.get("k") == 1


def test_a_bare_string_of_tags_is_rejected() -> None:
    """tags="docs-v1" raises a TypeError saying to pass a list (never split into characters)."""
    m = CacheManager()
    for name, call in {
        **_calls(m, tags="docs-v1"),
        "config": lambda: RequestConfig(tags="docs-v1"),  # type: ignore[arg-type]
    }.items():
        with pytest.raises(TypeError, match=r"pass tags=\['docs-v1'\]"):
            call()
        assert m.get("k", "miss") == "miss", name
    m.set("k", 1, tags=["docs-v1"])
    assert m.invalidate("d") == 0  # no single-character tag was ever written
    assert m.get("k") == 1


@pytest.mark.parametrize("tag", [None, "", 5])
def test_invalidate_with_a_non_tag_is_a_clear_error(tag: Any) -> None:
    """invalidate(None/""/5) raises TypeError (sync and async), not a counted backend error."""
    m = CacheManager()
    with pytest.raises(TypeError, match="a tag must be a non-empty str"):
        m.invalidate(tag)
    with pytest.raises(TypeError, match="a tag must be a non-empty str"):
        asyncio.run(m.ainvalidate(tag))
    with pytest.raises(TypeError, match="a tag must be a non-empty str"):
        m.set("k", 1, tags=[tag])
    assert m.metrics.snapshot()["errors"] == 0


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (math.nan, "value = nan"),
        ({"a": [1.0, math.inf]}, "value['a'][1] = inf"),
        ((1, -math.inf), "value[1] = -inf"),
        (np.array([1.0, np.nan]), "numpy value"),
    ],
)
def test_json_serializer_refuses_non_finite_numbers(value: Any, where: str) -> None:
    """JsonSerializer raises naming where a NaN/inf sits instead of storing null."""
    with pytest.raises(SerializationError, match="no NaN or infinity") as info:
        JsonSerializer().dumps(value)
    assert where in str(info.value)
    m = CacheManager(serializer=JsonSerializer())
    with pytest.raises(SerializationError):
        m.set("k", value)
    with pytest.raises(SerializationError):
        asyncio.run(m.aset("k", value))
    assert m.get("k", "miss") == "miss"


def test_json_serializer_still_stores_null_and_finite_numbers() -> None:
    """A real None and finite floats (also in numpy arrays) round-trip through JSON unchanged."""
    s = JsonSerializer()
    assert s.loads(s.dumps({"a": None, "b": [1.5, None]})) == {"a": None, "b": [1.5, None]}
    assert s.loads(s.dumps(np.array([1.0, 2.0]))) == [1.0, 2.0]


@pytest.mark.parametrize("messages", [[None], [{"role": "user", "content": "hi"}, None], (None,)])
def test_messages_holding_none_are_rejected(messages: Any) -> None:
    """ResponseCache and StreamingResponseCache refuse messages=[None] naming the index."""
    m = CacheManager()
    responses, streams = ResponseCache(m), StreamingResponseCache(m)
    calls = [
        lambda: responses.get(messages, model_id="x"),
        lambda: responses.set(messages, "answer", model_id="x"),
        lambda: responses.get_or_generate(messages, lambda _r: "answer", model_id="x"),
        lambda: asyncio.run(responses.aget(messages, model_id="x")),
        lambda: asyncio.run(responses.aset(messages, "answer", model_id="x")),
        lambda: streams.get(messages, model_id="x"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=r"messages\[\d\] is None"):
            call()
    assert m.metrics.snapshot()["sets"] == 0


def test_lone_surrogates_key_injectively() -> None:
    """Lone-surrogate text gets its own canonical form, apart from every real string."""
    from omnicache_ai.core.key_builder import canonical_bytes

    odd, other = "a\ud800", "a\udc00"
    assert canonical_bytes(odd) != canonical_bytes(other)
    assert canonical_bytes(odd) == canonical_bytes("a\ud800")
    mimic = "\x00u" + odd.encode("utf-8", "surrogatepass").hex()
    assert canonical_bytes(odd) != canonical_bytes(mimic)
    assert canonical_bytes({odd: 1}) != canonical_bytes({other: 1})
