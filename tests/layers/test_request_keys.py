"""Request keys: what changes an LLM answer is in the key, nothing else is."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_payloads import CHAT, WEATHER_TOOL

from _ci import need
from omnicache_ai import CacheKeyBuilder
from omnicache_ai.core.key_builder import canonical_bytes
from omnicache_ai.layers._request import (
    IGNORED_PARAMS,
    RequestKeyer,
    fast_canonical_bytes,
    normalize_params,
    resolve_model,
)

KB = CacheKeyBuilder("t")


def key(params: dict[str, Any] | None, messages: Any = CHAT, model: str = "gpt-4o") -> str:
    return RequestKeyer().key(KB, "response", messages, model, params)[0]


@pytest.mark.parametrize(
    "explicit",
    [
        {"temperature": 1},
        {"temperature": 1.0},
        {"top_p": 1},
        {"n": 1},
        {"frequency_penalty": 0.0, "presence_penalty": 0},
        {"logprobs": False},
        {"parallel_tool_calls": True},
        {"stop": None},
        {"stop": []},
        {"tools": []},
        {"logit_bias": {}},
        {"response_format": {"type": "text"}},
        {"seed": None},
        {"tool_choice": "none"},
        {"modalities": ("text",)},
    ],
)
def test_explicit_default_keys_like_omitted(explicit: dict[str, Any]) -> None:
    """Sending a parameter at its documented default is the same request as omitting it."""
    assert key(explicit) == key(None)


@pytest.mark.parametrize("name", sorted(IGNORED_PARAMS))
def test_transport_and_tracing_params_are_ignored(name: str) -> None:
    """stream, user, timeout, extra_headers, metadata ... never change the key."""
    assert key({name: "anything", "seed": 3}) == key({"seed": 3})


def test_sdk_not_given_sentinels_mean_omitted() -> None:
    """The SDKs' NOT_GIVEN / omit sentinels are not parameters."""
    openai = need("openai")
    assert key({"temperature": openai.NOT_GIVEN, "seed": openai.NOT_GIVEN}) == key(None)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"temperature": 0.2}, {"temperature": 0.3}),
        ({"top_p": 0.9}, None),
        ({"max_tokens": 100}, {"max_tokens": 101}),
        ({"seed": 1}, {"seed": 2}),
        ({"stop": ["\n"]}, None),
        ({"n": 2}, None),
        ({"tools": [WEATHER_TOOL]}, None),
        ({"tools": [WEATHER_TOOL], "tool_choice": "required"}, {"tools": [WEATHER_TOOL]}),
        ({"response_format": {"type": "json_object"}}, None),
        ({"reasoning_effort": "high"}, {"reasoning_effort": "low"}),
        ({"logit_bias": {"1734": -100}}, None),
        ({"presence_penalty": 0.5}, None),
        ({"system": "Be brief."}, {"system": "Be verbose."}),
        ({"thinking": {"type": "enabled", "budget_tokens": 2048}}, None),
        ({"logprobs": True, "top_logprobs": 3}, None),
    ],
)
def test_params_that_change_the_answer_change_the_key(
    a: dict[str, Any], b: dict[str, Any] | None
) -> None:
    """Sampling params, tools, tool_choice, response_format, seed, stop ... are keyed."""
    assert key(a) != key(b)


def test_tool_definition_changes_change_the_key() -> None:
    """A tool whose schema changed is a different request."""
    changed = {**WEATHER_TOOL, "function": {**WEATHER_TOOL["function"], "description": "Forecast"}}
    assert key({"tools": [WEATHER_TOOL]}) != key({"tools": [changed]})


def test_tool_choice_default_depends_on_tools() -> None:
    """tool_choice 'auto' is the default with tools, 'none' without (OpenAI and Anthropic)."""
    with_tools = {"tools": [WEATHER_TOOL]}
    assert key({**with_tools, "tool_choice": "auto"}) == key(with_tools)
    assert key({**with_tools, "tool_choice": {"type": "auto"}}) == key(with_tools)
    assert key({**with_tools, "tool_choice": "none"}) != key(with_tools)
    assert key({"tool_choice": "auto"}) != key(None)


def test_spelling_variants_are_unified() -> None:
    """max_completion_tokens is max_tokens and a stop string is a one-item list."""
    assert key({"max_completion_tokens": 64}) == key({"max_tokens": 64})
    assert key({"stop": "END"}) == key({"stop": ["END"]})


def test_pydantic_response_format_is_keyed_by_its_schema() -> None:
    """A structured-output class keys by the JSON schema the provider receives."""
    pydantic = need("pydantic")

    class Answer(pydantic.BaseModel):
        value: int

    class Answer2(pydantic.BaseModel):
        value: str

    k1 = key({"response_format": Answer})
    assert k1 == key({"response_format": Answer})
    assert k1 != key({"response_format": Answer2})
    assert k1 != key(None)


def test_model_and_messages_are_keyed() -> None:
    """The model and every message are in the key."""
    assert key(None, model="gpt-4o") != key(None, model="gpt-4o-mini")
    assert key(None, messages=CHAT[:-1]) != key(None)
    assert key(None, messages=[*CHAT[:-1], {"role": "user", "content": "And 3+4?"}]) != key(None)


def test_model_may_come_from_params_but_not_contradict() -> None:
    """params['model'] stands in for model_id; two different models are an error."""
    assert resolve_model(None, {"model": "gpt-4o"}) == "gpt-4o"
    with pytest.raises(ValueError, match="contradicts"):
        resolve_model("gpt-4o", {"model": "o3"})
    with pytest.raises(ValueError, match="model id is required"):
        resolve_model(None, {"temperature": 0})


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ({"role": "user"}, TypeError),
        (None, TypeError),
        ([], ValueError),
        ("", ValueError),
    ],
)
def test_bad_messages_are_refused(messages: Any, error: type[Exception]) -> None:
    """Messages must be a non-empty list or prompt string."""
    with pytest.raises(error, match="messages"):
        key(None, messages=messages)


def test_unkeyable_parameter_is_named() -> None:
    """A parameter no key can be built from raises naming that parameter."""
    with pytest.raises(TypeError, match="parameter 'callback'"):
        key({"callback": object()})


def test_non_finite_float_param_is_refused() -> None:
    """NaN temperature is a caller bug, reported with the parameter name."""
    with pytest.raises(ValueError, match="temperature"):
        normalize_params({"temperature": float("nan")})


def test_params_must_be_a_mapping() -> None:
    """params given as a list is a clear TypeError."""
    with pytest.raises(TypeError, match="mapping"):
        normalize_params([("temperature", 0)])  # type: ignore[arg-type]


def test_unicode_forms_key_alike() -> None:
    """NFC and NFD spellings of the same text share a key (fast path falls back exactly)."""
    nfc = [{"role": "user", "content": "caf\u00e9"}]
    nfd = [{"role": "user", "content": "cafe\u0301"}]
    assert key(None, messages=nfc) == key(None, messages=nfd)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_fast_canonical_bytes_equals_core_canonical_bytes(value: Any) -> None:
    """The fast key encoding is byte-identical to the core's canonical encoding."""
    assert fast_canonical_bytes(value) == canonical_bytes(value)


@pytest.mark.parametrize(
    "value",
    [1.0, -0.0, {"t": 2.0}, "\x00tag", ["\u00e9"], 2**60, {1: "x"}, {"a", "b"}, b"raw"],
)
def test_fast_canonical_bytes_edge_cases(value: Any) -> None:
    """Integral floats, NUL, non-ASCII, big ints, odd keys, sets and bytes take the exact path."""
    assert fast_canonical_bytes(value) == canonical_bytes(value)
