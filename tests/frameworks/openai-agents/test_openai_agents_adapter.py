"""The OpenAI Agents SDK adapter: whole runs replayed, model calls cached inside a run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from _ci import need

need("agents", extra="openai-agents")

from agents import Agent, ModelSettings, RunConfig, Runner, Usage, function_tool
from agents.items import ModelResponse
from agents.models.interface import Model, ModelProvider
from agents.result import RunResult
from agents.stream_events import RawResponsesStreamEvent
from agents.testing import ScriptedModel, assistant_message, function_call
from agents.tracing import set_tracing_disabled

from omnicache_ai import CacheManager, InMemoryBackend
from omnicache_ai.adapters.openai_agents_adapter import (
    CachedModel,
    CachingModelProvider,
    OpenAIAgentsCacheAdapter,
)

set_tracing_disabled(True)


@function_tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@function_tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def answer(text: str) -> list[Any]:
    """One scripted model turn that answers ``text``."""
    return [assistant_message(text)]


def add_call(call_id: str = "c1") -> list[Any]:
    """One scripted model turn that calls ``add(1, 2)``."""
    return [function_call("add", {"a": 1, "b": 2}, call_id=call_id)]


@pytest.fixture
def manager() -> CacheManager:
    """A fresh in-memory manager per test."""
    return CacheManager(backend=InMemoryBackend())


@pytest.fixture
def sync_runner_loop() -> Iterator[None]:
    """Close the thread's default loop that Runner.run_sync leaves open on purpose."""
    yield
    policy = asyncio.get_event_loop_policy()
    loop = policy.get_event_loop()
    loop.close()
    policy.set_event_loop(None)


@pytest.mark.usefixtures("sync_runner_loop")
def test_second_identical_run_is_replayed_without_the_model(manager: CacheManager) -> None:
    """run() twice: the model is called for the first run only, the result is a RunResult."""
    fake = ScriptedModel([add_call(), answer("3")])
    adapter = OpenAIAgentsCacheAdapter(manager)
    agent = Agent(name="calc", instructions="Be brief", model=adapter.model(fake), tools=[add])
    first = adapter.run(agent, "1+2?")
    second = adapter.run(agent, "1+2?")
    assert len(fake.calls) == 2
    assert isinstance(second, RunResult)
    assert second.final_output == first.final_output == "3"
    assert [type(i).__name__ for i in second.new_items] == [
        "ToolCallItem",
        "ToolCallOutputItem",
        "MessageOutputItem",
    ]
    assert second.new_items[1].output == 3
    assert second.raw_responses[0].output == first.raw_responses[0].output
    assert second.to_input_list() == first.to_input_list()


async def test_async_run_is_replayed(manager: CacheManager) -> None:
    """arun() twice with a bare (uncached) model: the second run never reaches the model."""
    fake = ScriptedModel([answer("RAG is retrieval + generation")])
    adapter = OpenAIAgentsCacheAdapter(manager)
    agent = Agent(name="assistant", instructions="Be concise", model=fake)
    first = await adapter.arun(agent, "What is RAG?")
    second = await adapter.arun(agent, "What is RAG?")
    assert len(fake.calls) == 1
    assert second.final_output == first.final_output


@pytest.mark.parametrize(
    "change",
    ["instructions", "tool", "model", "input", "settings"],
)
async def test_a_changed_run_misses(manager: CacheManager, change: str) -> None:
    """A changed instruction, tool, model, input or model setting is a new run."""
    fake = ScriptedModel([answer("one"), answer("two")])
    adapter = OpenAIAgentsCacheAdapter(manager)
    base = Agent(name="a", instructions="Be brief", model=adapter.model(fake, model_id="m1"))
    base = base.clone(tools=[add])
    await adapter.arun(base, "hi")
    prompt = "hi"
    if change == "instructions":
        other = base.clone(instructions="Be verbose")
    elif change == "tool":
        other = base.clone(tools=[multiply])
    elif change == "model":
        other = base.clone(model=adapter.model(fake, model_id="m2"))
    elif change == "settings":
        other = base.clone(model_settings=ModelSettings(temperature=0.2))
    else:
        other, prompt = base, "hello"
    result = await adapter.arun(other, prompt)
    assert result.final_output == "two"
    assert len(fake.calls) == 2


async def test_hook_serves_a_repeated_model_call_inside_one_run(manager: CacheManager) -> None:
    """One multi-step run asks a helper agent (a tool) the same question twice: one model call."""
    helper_fake = ScriptedModel([answer("Paris")])  # a second call would raise
    helper = Agent(
        name="geo",
        instructions="Answer with a city",
        model=CachedModel(helper_fake, manager, model_id="helper"),
    )
    ask = helper.as_tool("ask_geo", "Ask the geography agent")
    lead_fake = ScriptedModel(
        [
            [function_call("ask_geo", {"input": "Capital of France?"}, call_id="c1")],
            [function_call("ask_geo", {"input": "Capital of France?"}, call_id="c2")],
            answer("Paris, twice"),
        ]
    )
    lead = Agent(name="lead", instructions="Use the tool", model=lead_fake, tools=[ask])
    result = await Runner.run(lead, "Check the capital twice")
    outputs = [i.output for i in result.new_items if type(i).__name__ == "ToolCallOutputItem"]
    assert outputs == ["Paris", "Paris"]
    assert len(lead_fake.calls) == 3
    assert len(helper_fake.calls) == 1  # the repeated helper call was served by the hook


async def test_streamed_run_replays_the_event_stream(manager: CacheManager) -> None:
    """Runner.run_streamed through a CachedModel: the second stream is replayed, same events."""
    fake = ScriptedModel([answer("streamed answer")])
    model = CachedModel(fake, manager, model_id="fake")
    agent = Agent(name="s", instructions="Be brief", model=model)

    async def stream() -> tuple[list[str], Any]:
        result = Runner.run_streamed(agent, "hi")
        kinds = [
            e.data.type
            async for e in result.stream_events()
            if isinstance(e, RawResponsesStreamEvent)
        ]
        return kinds, result.final_output

    live_kinds, live_out = await stream()
    replay_kinds, replay_out = await stream()
    assert len(fake.calls) == 1
    assert replay_kinds == live_kinds
    assert "response.output_text.delta" in replay_kinds
    assert replay_out == live_out == "streamed answer"


async def test_streamed_tool_call_is_replayed(manager: CacheManager) -> None:
    """A streamed turn that only calls a tool is cached and replayed too."""
    fake = ScriptedModel([add_call(), answer("3")])
    model = CachedModel(fake, manager, model_id="fake")
    agent = Agent(name="s", instructions="Be brief", model=model, tools=[add])
    for _ in range(2):
        result = Runner.run_streamed(agent, "1+2?")
        async for _event in result.stream_events():
            pass
        assert result.final_output == "3"
    assert len(fake.calls) == 2


async def test_provider_caches_models_by_name(manager: CacheManager) -> None:
    """CachingModelProvider wraps what the provider hands out, keyed by the model name."""
    fake = ScriptedModel([answer("hello")])

    class Provider(ModelProvider):
        def get_model(self, model_name: str | None) -> Model:
            return fake

    provider = CachingModelProvider(Provider(), manager)
    agent = Agent(name="p", instructions="Be brief", model="some-model")
    config = RunConfig(model_provider=provider)
    for _ in range(2):
        assert (await Runner.run(agent, "hi", run_config=config)).final_output == "hello"
    assert len(fake.calls) == 1
    assert isinstance(provider.get_model("some-model"), CachedModel)


async def test_stateful_runs_are_not_cached(manager: CacheManager) -> None:
    """A run tied to a server-side conversation always runs live."""
    fake = ScriptedModel([answer("a"), answer("b")])
    adapter = OpenAIAgentsCacheAdapter(manager)
    agent = Agent(name="c", instructions="Be brief", model=fake)
    await adapter.arun(agent, "hi", conversation_id="conv-1")
    result = await adapter.arun(agent, "hi", conversation_id="conv-1")
    assert result.final_output == "b"
    assert len(fake.calls) == 2


def test_model_response_round_trips(manager: CacheManager) -> None:
    """A cached ModelResponse comes back as the SDK's own type, field for field."""
    from omnicache_ai.adapters.openai_agents_adapter import dump_response, load_response

    response = ModelResponse(output=add_call(), usage=Usage(input_tokens=7), response_id="r")
    back = load_response(dump_response(response))
    assert back.output == response.output
    assert back.usage.input_tokens == 7


def test_bad_agent_is_refused(manager: CacheManager) -> None:
    """Passing something that is not an Agent names the problem."""
    with pytest.raises(TypeError, match=r"agents\.Agent"):
        OpenAIAgentsCacheAdapter(manager).run("not an agent", "hi")  # type: ignore[arg-type]


async def test_a_cache_outage_never_breaks_a_run() -> None:
    """With the backend down, runs and model calls go to the model and succeed."""
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    flaky.down = True
    manager = CacheManager(backend=flaky)
    fake = ScriptedModel([add_call(), answer("3"), add_call(), answer("3")])
    adapter = OpenAIAgentsCacheAdapter(manager)
    agent = Agent(name="calc", instructions="Be brief", model=adapter.model(fake), tools=[add])
    for _ in range(2):
        assert (await adapter.arun(agent, "1+2?")).final_output == "3"
    assert len(fake.calls) == 4
    assert flaky.failures > 0


async def test_a_corrupt_stored_run_is_a_miss(manager: CacheManager) -> None:
    """A stored run the SDK types cannot rebuild is run again (and overwritten), not raised."""
    fake = ScriptedModel([answer("one"), answer("two")])
    adapter = OpenAIAgentsCacheAdapter(manager)
    agent = Agent(name="c", instructions="Be brief", model=fake)
    await adapter.arun(agent, "hi")
    key = adapter.runs.key(*(await adapter._request(agent, "hi", {})))
    bad = {"final_output": "x", "items": [["no-such-kind", {}, None]], "responses": []}
    manager.set(key, [{"format": 1, "result": bad}, None])
    assert (await adapter.arun(agent, "hi")).final_output == "two"
    assert (await adapter.arun(agent, "hi")).final_output == "two"
    assert len(fake.calls) == 2
