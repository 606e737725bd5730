"""ResponseCache: the README contract, real provider responses, admission, savings, stampedes."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pydantic
import pytest
from layer_payloads import (
    CHAT,
    WEATHER_TOOL,
    anthropic_message,
    openai_completion,
    openai_tool_call_completion,
    sdk,
)

from _ci import need
from omnicache_ai import (
    CacheKeyBuilder,
    CacheManager,
    InMemoryBackend,
    JsonSerializer,
    RequestConfig,
    ResponseCache,
)
from omnicache_ai.layers import TokenUsage
from omnicache_ai.testing.fakes import FlakyBackend


class CityWeather(pydantic.BaseModel):
    """A structured output schema (module level so the serializer can rebuild it)."""

    city: str
    temperature_c: float
    conditions: list[str]


def layer_stats(manager: CacheManager, layer: str = "response") -> dict[str, Any]:
    stats: dict[str, Any] = manager.metrics.snapshot()["layers"][layer]
    return stats


def test_readme_quick_start(manager: CacheManager) -> None:
    """The README's set/get/get_or_generate calls work as shown."""
    cache = ResponseCache(manager)
    messages = [{"role": "user", "content": "What is 2+2?"}]
    cache.set(messages, "4", model_id="gpt-4o")
    assert cache.get(messages, model_id="gpt-4o") == "4"
    assert cache.get(messages, model_id="gpt-4o-mini") is None

    calls: list[Any] = []

    def call_llm(msgs: list[dict[str, str]]) -> str:
        calls.append(msgs)
        return "Paris"

    q = [{"role": "user", "content": "Capital of France?"}]
    assert cache.get_or_generate(q, call_llm, model_id="gpt-4o") == "Paris"
    assert cache.get_or_generate(q, call_llm, model_id="gpt-4o") == "Paris"
    assert calls == [q]


def test_json_serializer_layer(manager: CacheManager) -> None:
    """ResponseCache(manager, serializer=JsonSerializer()) stores dict responses as JSON."""
    rc = ResponseCache(manager, serializer=JsonSerializer())
    resp = openai_completion("6")
    assert rc.set(CHAT, resp, model_id="gpt-4o")
    assert rc.get(CHAT, model_id="gpt-4o") == resp
    assert rc.set(CHAT[:2], "4", model_id="gpt-4o")
    assert rc.get(CHAT[:2], model_id="gpt-4o") == "4"


def test_invalidate_model_retires_only_that_model(manager: CacheManager) -> None:
    """rc.invalidate_model('gpt-4o') removes gpt-4o answers and keeps the others."""
    rc = ResponseCache(manager)
    rc.set(CHAT, "six", model_id="gpt-4o")
    rc.set(CHAT[:2], "four", model_id="gpt-4o")
    rc.set(CHAT, "6", model_id="claude-sonnet-4-5")
    assert rc.invalidate_model("gpt-4o") >= 2
    assert rc.get(CHAT, model_id="gpt-4o") is None
    assert rc.get(CHAT[:2], model_id="gpt-4o") is None
    assert rc.get(CHAT, model_id="claude-sonnet-4-5") == "6"


def test_openai_sdk_completion_round_trips_with_tool_calls(manager: CacheManager) -> None:
    """A ChatCompletion with tool calls comes back as a ChatCompletion, tool calls intact."""
    resp = sdk("ChatCompletion", openai_tool_call_completion())
    rc = ResponseCache(manager)
    params = {"tools": [WEATHER_TOOL], "tool_choice": "auto", "temperature": 0}
    assert rc.set(CHAT, resp, model_id="gpt-4o", params=params)
    got = rc.get(CHAT, model_id="gpt-4o", params=params)
    assert type(got) is type(resp)
    assert got == resp
    call = got.choices[0].message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == (
        "get_weather",
        '{"city": "Paris", "unit": "c"}',
    )
    assert rc.get(CHAT, model_id="gpt-4o", params={"temperature": 0}) is None


def test_anthropic_sdk_message_round_trips(manager: CacheManager) -> None:
    """An anthropic.types.Message with text and tool_use blocks round-trips as itself."""
    blocks = [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Oslo"}},
    ]
    msg = sdk("Message", anthropic_message(blocks=blocks, stop_reason="tool_use"))
    rc = ResponseCache(manager)
    params = {"max_tokens": 1024, "system": "You are a weather bot."}
    assert rc.set(CHAT, msg, model_id="claude-sonnet-4-5", params=params)
    got = rc.get(CHAT, model_id="claude-sonnet-4-5", params=params)
    assert type(got) is type(msg)
    assert got == msg
    assert got.content[1].input == {"city": "Oslo"}


def test_structured_output_round_trips(manager: CacheManager) -> None:
    """A parsed structured output (pydantic model) and its JSON-schema request round-trip."""
    rc = ResponseCache(manager)
    answer = CityWeather(city="Oslo", temperature_c=-3.5, conditions=["snow", "wind"])
    params = {"response_format": CityWeather}
    assert rc.set(CHAT, answer, model_id="gpt-4o", params=params)
    got = rc.get(CHAT, model_id="gpt-4o", params={"response_format": CityWeather})
    assert type(got) is CityWeather
    assert got == answer
    assert rc.get(CHAT, model_id="gpt-4o") is None


def test_json_mode_content_round_trips(manager: CacheManager) -> None:
    """A json_schema response_format request and its JSON content are stored exactly."""
    schema = {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}}}
    body = openai_completion('{"city": "Oslo", "temperature_c": -3.5}')
    rc = ResponseCache(manager)
    rc.set(CHAT, body, model_id="gpt-4o", params={"response_format": schema})
    assert rc.get(CHAT, model_id="gpt-4o", params={"response_format": schema}) == body


def test_params_in_and_out_of_key(manager: CacheManager) -> None:
    """Answer-changing params separate entries; stream/user/timeout and defaults do not."""
    rc = ResponseCache(manager)
    rc.set(CHAT, "cold", model_id="gpt-4o", params={"temperature": 0.0, "seed": 7})
    same = {"temperature": 0, "seed": 7, "stream": False, "user": "u-42", "timeout": 30, "n": 1}
    assert rc.get(CHAT, model_id="gpt-4o", params=same) == "cold"
    assert rc.get(CHAT, model_id="gpt-4o", params={"temperature": 0.7, "seed": 7}) is None
    assert rc.get(CHAT, model_id="gpt-4o", params={"temperature": 0, "seed": 8}) is None
    whole_request = {"model": "gpt-4o", "messages": CHAT, "temperature": 0, "seed": 7}
    assert rc.get(CHAT, params=whole_request) == "cold"


@pytest.mark.parametrize(
    "bad",
    [
        openai_completion("The answer is", finish_reason="length"),
        openai_completion(None, refusal="I can't assist with that."),
        openai_completion("", finish_reason="stop"),
        anthropic_message("It was a dark", stop_reason="max_tokens"),
        {"error": {"message": "Rate limit reached", "type": "requests"}},
        "",
        None,
    ],
)
def test_bad_answers_are_returned_but_never_stored(manager: CacheManager, bad: Any) -> None:
    """Truncated, refused, empty and error answers reach the caller but are not cached."""
    rc = ResponseCache(manager)
    calls = []

    def llm(_: Any) -> Any:
        calls.append(1)
        return bad

    assert rc.get_or_generate(CHAT, llm, model_id="gpt-4o") == bad
    assert rc.get_or_generate(CHAT, llm, model_id="gpt-4o") == bad
    assert len(calls) == 2
    assert rc.set(CHAT, bad, model_id="gpt-4o") is False
    assert rc.get(CHAT, model_id="gpt-4o") is None


def test_truncated_answers_cached_when_configured(manager: CacheManager) -> None:
    """cache_truncated=True stores answers that hit the token limit."""
    rc = ResponseCache(manager, cache_truncated=True)
    cut = sdk("Message", anthropic_message("It was a dark", stop_reason="max_tokens"))
    assert rc.set(CHAT, cut, model_id="claude-sonnet-4-5")
    assert rc.get(CHAT, model_id="claude-sonnet-4-5") == cut


def test_user_refusal_predicate_blocks_caching(manager: CacheManager) -> None:
    """Answers the caller's is_refusal marks are never stored."""
    rc = ResponseCache(manager, is_refusal=lambda a: "cannot help" in str(a))
    assert rc.set(CHAT, "Sorry, I cannot help with that.", model_id="gpt-4o") is False
    assert rc.set(CHAT, "6", model_id="gpt-4o") is True


def test_generator_exception_propagates_and_is_not_cached(manager: CacheManager) -> None:
    """An exception from the LLM reaches the caller; the next call tries again."""
    rc = ResponseCache(manager)
    attempts = []

    def flaky_llm(_: Any) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise TimeoutError("upstream timed out")
        return "6"

    with pytest.raises(TimeoutError):
        rc.get_or_generate(CHAT, flaky_llm, model_id="gpt-4o")
    assert rc.get_or_generate(CHAT, flaky_llm, model_id="gpt-4o") == "6"
    assert len(attempts) == 2


def test_hits_record_savings_from_original_usage(manager: CacheManager) -> None:
    """Each hit adds the first call's tokens and price to the response layer's savings."""
    rc = ResponseCache(manager)
    resp = sdk(
        "ChatCompletion",
        openai_completion(prompt_tokens=1000, completion_tokens=200, cached_tokens=400),
    )
    rc.get_or_generate(CHAT, lambda _: resp, model_id="gpt-4o")  # miss: no savings
    assert layer_stats(manager)["tokens_saved_input"] == 0
    rc.get_or_generate(CHAT, lambda _: resp, model_id="gpt-4o")
    rc.get(CHAT, model_id="gpt-4o")
    stats = layer_stats(manager)
    assert (stats["tokens_saved_input"], stats["tokens_saved_output"]) == (2000, 400)
    # gpt-4o list price: 600 fresh + 400 cached input, 200 output, per hit.
    per_hit = (600 * 2.50 + 400 * 1.25 + 200 * 10.00) / 1e6
    assert stats["cost_saved"] == pytest.approx(2 * per_hit)


def test_explicit_usage_for_string_answers(manager: CacheManager) -> None:
    """set(..., usage=TokenUsage(...)) lets a plain-string answer count its savings."""
    rc = ResponseCache(manager)
    rc.set(CHAT, "6", model_id="gpt-4o-mini", usage=TokenUsage(300, 5))
    assert rc.get(CHAT, model_id="gpt-4o-mini") == "6"
    assert layer_stats(manager)["tokens_saved_input"] == 300


def test_get_or_generate_is_stampede_safe_across_threads(manager: CacheManager) -> None:
    """Eight threads missing the same request cause one LLM call."""
    rc = ResponseCache(manager)
    calls = []
    barrier = threading.Barrier(8)

    def slow_llm(_: Any) -> str:
        calls.append(1)
        time.sleep(0.05)
        return "6"

    results: list[str] = []

    def worker() -> None:
        barrier.wait()
        results.append(rc.get_or_generate(CHAT, slow_llm, model_id="gpt-4o"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["6"] * 8
    assert len(calls) == 1


async def test_async_twins(any_manager: CacheManager) -> None:
    """aset/aget/adelete/aget_or_generate/ainvalidate_model mirror the sync API."""
    rc = ResponseCache(any_manager)
    msg = sdk("Message", anthropic_message("6"))
    assert await rc.aset(CHAT, msg, model_id="claude-haiku-4-5")
    assert await rc.aget(CHAT, model_id="claude-haiku-4-5") == msg
    assert await rc.adelete(CHAT, model_id="claude-haiku-4-5")
    assert await rc.aget(CHAT, model_id="claude-haiku-4-5") is None

    async def llm(_: Any) -> Any:
        await asyncio.sleep(0)
        return msg

    assert await rc.aget_or_generate(CHAT, llm, model_id="claude-haiku-4-5") == msg
    assert await rc.aget_or_generate(CHAT, lambda _: "sync fn ok", model_id="x") == "sync fn ok"
    assert await rc.ainvalidate_model("claude-haiku-4-5") >= 1
    assert await rc.aget(CHAT, model_id="claude-haiku-4-5") is None


async def test_aget_or_generate_is_stampede_safe_across_tasks(manager: CacheManager) -> None:
    """Twenty concurrent tasks missing the same request cause one LLM call."""
    rc = ResponseCache(manager)
    calls = []

    async def slow_llm(_: Any) -> str:
        calls.append(1)
        await asyncio.sleep(0.05)
        return "6"

    results = await asyncio.gather(
        *(rc.aget_or_generate(CHAT, slow_llm, model_id="gpt-4o") for _ in range(20))
    )
    assert results == ["6"] * 20
    assert len(calls) == 1


async def test_async_refused_answer_reaches_every_waiter_uncached(manager: CacheManager) -> None:
    """Concurrent waiters all receive an uncacheable answer; nothing is stored."""
    rc = ResponseCache(manager)
    refusal = openai_completion(None, refusal="No.")

    async def llm(_: Any) -> Any:
        await asyncio.sleep(0.02)
        return refusal

    results = await asyncio.gather(
        *(rc.aget_or_generate(CHAT, llm, model_id="gpt-4o") for _ in range(5))
    )
    assert results == [refusal] * 5
    assert await rc.aget(CHAT, model_id="gpt-4o") is None


def test_sync_method_refuses_coroutine_function(manager: CacheManager) -> None:
    """get_or_generate with an async LLM function says to use aget_or_generate."""
    rc = ResponseCache(manager)

    async def llm(_: Any) -> str:
        return "6"

    with pytest.raises(TypeError, match="aget_or_generate"):
        rc.get_or_generate(CHAT, llm, model_id="gpt-4o")
    assert rc.get(CHAT, model_id="gpt-4o") is None


def test_config_overrides(manager: CacheManager) -> None:
    """skip_cache bypasses, refresh recomputes, no_store does not write."""
    rc = ResponseCache(manager)
    rc.set(CHAT, "old", model_id="gpt-4o")
    assert (
        rc.get_or_generate(
            CHAT, lambda _: "fresh", model_id="gpt-4o", config=RequestConfig(skip_cache=True)
        )
        == "fresh"
    )
    assert rc.get(CHAT, model_id="gpt-4o") == "old"
    assert (
        rc.get_or_generate(
            CHAT, lambda _: "new", model_id="gpt-4o", config=RequestConfig(refresh=True)
        )
        == "new"
    )
    assert rc.get(CHAT, model_id="gpt-4o") == "new"
    rc.get_or_generate(
        CHAT[:1], lambda _: "x", model_id="gpt-4o", config=RequestConfig(no_store=True)
    )
    assert rc.get(CHAT[:1], model_id="gpt-4o") is None


def test_backend_outage_is_a_miss_not_an_error() -> None:
    """With the backend down, get_or_generate still answers (the cache never breaks the app)."""
    flaky = FlakyBackend(InMemoryBackend())
    rc = ResponseCache(CacheManager(backend=flaky))
    flaky.down = True
    assert rc.get_or_generate(CHAT, lambda _: "6", model_id="gpt-4o") == "6"
    assert rc.get(CHAT, model_id="gpt-4o") is None
    assert flaky.failures >= 2


def test_foreign_entry_under_the_key_is_replaced(manager: CacheManager) -> None:
    """An entry that is not a ResponseCache record is treated as a miss and overwritten."""
    rc = ResponseCache(manager)
    key = rc.cache_key(CHAT, model_id="gpt-4o")
    manager.set(key, {"not": "a record"})
    assert rc.get(CHAT, model_id="gpt-4o") is None
    assert rc.get_or_generate(CHAT, lambda _: "6", model_id="gpt-4o") == "6"
    assert rc.get(CHAT, model_id="gpt-4o") == "6"


def test_tenants_do_not_share_answers() -> None:
    """A tenant view of the manager never sees another tenant's answers."""
    root = CacheManager()
    a, b = ResponseCache(root.for_tenant("acme")), ResponseCache(root.for_tenant("globex"))
    a.set(CHAT, "acme answer", model_id="gpt-4o")
    assert b.get(CHAT, model_id="gpt-4o") is None


def test_with_key_builder_namespaces_entries(manager: CacheManager) -> None:
    """A view with another key builder stores under its own namespace."""
    rc = ResponseCache(manager)
    team = rc.with_key_builder(CacheKeyBuilder("team-b"))
    team.set(CHAT, "b's answer", model_id="gpt-4o")
    assert rc.get(CHAT, model_id="gpt-4o") is None
    assert team.get(CHAT, model_id="gpt-4o") == "b's answer"
    assert team.cache_key(CHAT, model_id="gpt-4o").startswith("team-b:response:")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"serializer": "json"}, TypeError, "Serializer protocol"),
        ({"ttl": -1}, ValueError, "ttl"),
        ({"ttl": "10m"}, TypeError, "ttl"),
        ({"is_refusal": 3}, TypeError, "is_refusal"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, Any], error: type, match: str) -> None:
    """Misconfiguration fails at construction with a message naming the argument."""
    with pytest.raises(error, match=match):
        ResponseCache(CacheManager(), **kwargs)


def test_manager_is_required() -> None:
    """Passing a backend instead of a manager is a clear TypeError."""
    with pytest.raises(TypeError, match="CacheManager"):
        ResponseCache(InMemoryBackend())  # type: ignore[arg-type]


def test_tags_must_not_be_a_string(manager: CacheManager) -> None:
    """tags='x' (a common slip for tags=['x']) is refused."""
    with pytest.raises(TypeError, match="tags"):
        ResponseCache(manager).set(CHAT, "6", model_id="gpt-4o", tags="team-a")


def parse_weather(body: dict[str, Any]) -> Any:
    """What client.chat.completions.parse(response_format=CityWeather) returns."""
    chat = need("openai.types.chat")
    return chat.ParsedChatCompletion[CityWeather].model_validate(body)


def test_parsed_structured_output_completion_round_trips(manager: CacheManager) -> None:
    """A ParsedChatCompletion[CityWeather] (a generic built at call time) is served again."""
    body = openai_completion('{"city": "Oslo", "temperature_c": -3.5, "conditions": ["snow"]}')
    body["choices"][0]["message"]["parsed"] = {
        "city": "Oslo",
        "temperature_c": -3.5,
        "conditions": ["snow"],
    }
    parsed = parse_weather(body)
    rc = ResponseCache(manager)
    rc.set(CHAT, parsed, model_id="gpt-4o", params={"response_format": CityWeather})
    got = rc.get(CHAT, model_id="gpt-4o", params={"response_format": CityWeather})
    assert type(got) is type(parsed)
    assert got == parsed
    assert got.choices[0].message.parsed == CityWeather(
        city="Oslo", temperature_c=-3.5, conditions=["snow"]
    )
    assert manager.metrics.snapshot()["errors"] == 0


def test_untagged_mode_skips_model_tags(manager: CacheManager) -> None:
    """tag_models=False stores untagged entries; invalidate_model then says why it cannot."""
    from omnicache_ai import ConfigurationError

    rc = ResponseCache(manager, tag_models=False)
    rc.set(CHAT, "6", model_id="gpt-4o", tags=["team:a"])
    assert rc.get(CHAT, model_id="gpt-4o") == "6"
    with pytest.raises(ConfigurationError, match="tag_models=False"):
        rc.invalidate_model("gpt-4o")
    manager.invalidate("team:a")
    assert rc.get(CHAT, model_id="gpt-4o") is None
    rc.set(CHAT, "6", model_id="gpt-4o")
    ResponseCache(manager).invalidate_model("gpt-4o")
    assert rc.get(CHAT, model_id="gpt-4o") == "6"
