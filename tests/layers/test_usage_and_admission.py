"""Token usage extraction and the never-cache-a-bad-answer rules, on real provider shapes."""

from __future__ import annotations

from typing import Any

import pytest
from layer_payloads import (
    anthropic_events,
    anthropic_message,
    openai_chunks,
    openai_completion,
    openai_tool_call_completion,
    sdk,
)

from omnicache_ai.layers._admit import Admission
from omnicache_ai.layers._usage import TokenUsage, extract_usage, usage_from_chunks


def as_shape(shape: str, type_name: str, payload: dict[str, Any]) -> Any:
    return sdk(type_name, payload) if shape == "sdk" else payload


SHAPES = ["dict", "sdk"]


@pytest.mark.parametrize("shape", SHAPES)
def test_openai_usage_splits_cached_prompt_tokens(shape: str) -> None:
    """OpenAI prompt_tokens include cached_tokens; they are reported apart."""
    resp = as_shape(
        shape,
        "ChatCompletion",
        openai_completion(prompt_tokens=1200, completion_tokens=30, cached_tokens=1024),
    )
    assert extract_usage(resp) == TokenUsage(176, 30, 1024, 0, "gpt-4o-2024-08-06")


@pytest.mark.parametrize("shape", SHAPES)
def test_anthropic_usage_keeps_cache_reads_and_writes(shape: str) -> None:
    """Anthropic input_tokens exclude cache reads and writes; all four counts are kept."""
    msg = as_shape(
        shape,
        "Message",
        anthropic_message(input_tokens=12, output_tokens=90, cache_read=1500, cache_write=300),
    )
    usage = extract_usage(msg)
    assert usage == TokenUsage(12, 90, 1500, 300, "claude-sonnet-4-5-20250929")
    assert usage is not None
    assert usage.total_input_tokens == 1812


def test_openai_responses_api_usage() -> None:
    """The Responses API reports input_tokens including input_tokens_details.cached_tokens."""
    resp = {
        "object": "response",
        "model": "gpt-4.1",
        "usage": {
            "input_tokens": 500,
            "input_tokens_details": {"cached_tokens": 400},
            "output_tokens": 20,
        },
    }
    assert extract_usage(resp) == TokenUsage(100, 20, 400, 0, "gpt-4.1")


@pytest.mark.parametrize("value", ["plain text", None, 42, {"answer": "no usage here"}])
def test_usage_is_none_when_unknown(value: Any) -> None:
    """Answers without usage information give None, never invented zeros."""
    assert extract_usage(value) is None


@pytest.mark.parametrize("shape", SHAPES)
def test_usage_from_openai_stream(shape: str) -> None:
    """The include_usage chunk of an OpenAI stream gives its usage."""
    chunks = [as_shape(shape, "ChatCompletionChunk", c) for c in openai_chunks(["a", "b", "c"])]
    assert usage_from_chunks(chunks) == TokenUsage(25, 3, 0, 0, "gpt-4o-mini-2024-07-18")


@pytest.mark.parametrize("shape", SHAPES)
def test_usage_from_anthropic_stream(shape: str) -> None:
    """message_start gives input counts and message_delta the final output count."""
    events = [as_shape(shape, "RawMessageStreamEvent", e) for e in anthropic_events(["x", "y"])]
    assert usage_from_chunks(events) == TokenUsage(30, 2, 0, 0, "claude-sonnet-4-5-20250929")


def test_usage_record_round_trip_and_malformed() -> None:
    """The stored usage record decodes back; anything malformed decodes to None."""
    u = TokenUsage(1, 2, 3, 4, "m")
    assert TokenUsage.from_record(u.to_record()) == u
    assert TokenUsage.from_record([1, 2, 3]) is None
    assert TokenUsage.from_record(["1", 2, 3, 4, None]) is None


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (openai_completion("6"), None),
        (openai_tool_call_completion(), None),
        (openai_completion("The answer is", finish_reason="length"), "truncated"),
        (openai_completion("", finish_reason="stop"), "empty"),
        (openai_completion("  \n", finish_reason="stop"), "empty"),
        (openai_completion(None, refusal="I can't help with that."), "refusal"),
        (openai_completion("", finish_reason="content_filter"), "refusal"),
    ],
)
def test_openai_admission(shape: str, payload: dict[str, Any], problem: str | None) -> None:
    """OpenAI answers: tool calls pass; truncated, empty, refused ones do not."""
    assert Admission().problem(as_shape(shape, "ChatCompletion", payload)) == problem


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (anthropic_message("6"), None),
        (anthropic_message("Once upon a", stop_reason="max_tokens"), "truncated"),
        (anthropic_message("", blocks=[]), "empty"),
        (anthropic_message("", blocks=[{"type": "text", "text": " "}]), "empty"),
        (anthropic_message("", stop_reason="refusal"), "refusal"),
        (
            anthropic_message(
                "",
                stop_reason="tool_use",
                blocks=[{"type": "tool_use", "id": "toolu_1", "name": "calc", "input": {"x": 1}}],
            ),
            None,
        ),
    ],
)
def test_anthropic_admission(shape: str, payload: dict[str, Any], problem: str | None) -> None:
    """Anthropic answers: tool_use passes; max_tokens, empty and refusals do not."""
    assert Admission().problem(as_shape(shape, "Message", payload)) == problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("4", None),
        ("", "empty"),
        (None, "empty"),
        ([], "empty"),
        (ValueError("boom"), "error"),
        ({"error": {"type": "rate_limit_error", "message": "slow down"}}, "error"),
        ({"type": "error", "error": {"type": "overloaded_error"}}, "error"),
        ({"object": "response", "status": "failed", "output": []}, "error"),
        (
            {
                "object": "response",
                "status": "incomplete",
                "incomplete_details": {"reason": "max_output_tokens"},
                "output": [{"type": "message", "content": [{"type": "output_text"}]}],
            },
            "truncated",
        ),
        (
            {
                "object": "response",
                "status": "completed",
                "output": [{"type": "message", "content": [{"type": "refusal", "refusal": "no"}]}],
            },
            "refusal",
        ),
    ],
)
def test_generic_admission(value: Any, problem: str | None) -> None:
    """Strings, errors and Responses API objects follow the same rules."""
    assert Admission().problem(value) == problem


def test_truncation_is_configurable() -> None:
    """cache_truncated=True admits answers cut by the token limit."""
    cut = openai_completion("The answer is", finish_reason="length")
    assert Admission(cache_truncated=True).problem(cut) is None


def test_user_refusal_predicate() -> None:
    """A caller-supplied predicate marks further answers as refusals."""
    admit = Admission(is_refusal=lambda v: isinstance(v, str) and v.startswith("I'm sorry"))
    assert admit.problem("I'm sorry, I cannot do that.") == "refusal"
    assert admit.problem("Sure: 4") is None
    with pytest.raises(TypeError, match="is_refusal"):
        Admission(is_refusal="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", SHAPES)
def test_stream_admission_openai(shape: str) -> None:
    """An OpenAI stream is admitted when complete, refused when cut, empty or refusing."""

    def chunks(payloads: list[dict[str, Any]]) -> list[Any]:
        return [as_shape(shape, "ChatCompletionChunk", c) for c in payloads]

    admit = Admission()
    assert admit.stream_problem(chunks(openai_chunks(["Hel", "lo"]))) is None
    assert admit.stream_problem(chunks(openai_chunks(["Hel"], finish_reason="length"))) == (
        "truncated"
    )
    assert admit.stream_problem(chunks(openai_chunks([]))) == "empty"
    refusing = openai_chunks(["x"])
    refusing[1]["choices"][0]["delta"] = {"refusal": "I can't"}
    assert admit.stream_problem(chunks(refusing)) == "refusal"
    assert admit.stream_problem([]) == "empty"


@pytest.mark.parametrize("shape", SHAPES)
def test_stream_admission_anthropic(shape: str) -> None:
    """An Anthropic stream stopped by max_tokens is not admitted; error events never are."""

    def events(payloads: list[dict[str, Any]]) -> list[Any]:
        return [as_shape(shape, "RawMessageStreamEvent", e) for e in payloads]

    admit = Admission()
    assert admit.stream_problem(events(anthropic_events(["a", "b"]))) is None
    assert admit.stream_problem(events(anthropic_events(["a"], stop_reason="max_tokens"))) == (
        "truncated"
    )
    broken = [*anthropic_events(["a"])[:3], {"type": "error", "error": {"type": "overloaded"}}]
    assert admit.stream_problem(broken) == "error"


def test_stream_admission_of_plain_chunks_and_predicate() -> None:
    """Plain string chunks need some text; the refusal predicate sees the chunk list."""
    admit = Admission(is_refusal=lambda chunks: "".join(chunks).startswith("Sorry"))
    assert admit.stream_problem(["", ""]) == "empty"
    assert admit.stream_problem(["Sor", "ry, no."]) == "refusal"
    assert admit.stream_problem(["4"]) is None


def test_stream_admission_of_a_responses_api_tool_call_turn() -> None:
    """A Responses API stream that only calls a tool is content; framing events alone are not."""
    framing = [
        {"type": "response.created"},
        {"type": "response.in_progress"},
        {"type": "response.output_item.added"},
    ]
    call = [
        {"type": "response.function_call_arguments.delta", "delta": '{"a": 1}'},
        {"type": "response.function_call_arguments.done", "arguments": '{"a": 1}'},
        {"type": "response.output_item.done"},
        {"type": "response.completed"},
    ]
    assert Admission().stream_problem(framing + call) is None
    assert Admission().stream_problem([*framing, {"type": "response.completed"}]) == "empty"
