"""The AG2 1.x adapter: model calls cached through CachedModelConfig, whole asks replayed.

The fake is AG2's own ``ag2.testing.TestConfig`` (a scripted model: an extra call raises
``StopIteration``) inside ``TrackingConfig``, which records every call that reaches it.
"""

from __future__ import annotations

from typing import Any

import pytest

from _ci import need

need("ag2", extra="ag2")

from ag2 import Agent, tool
from ag2.events import ModelMessageChunk, ModelRequest, ModelResponse, ToolCallEvent
from ag2.stream import MemoryStream
from ag2.testing import TestConfig, TrackingConfig

from omnicache_ai import CacheManager, InMemoryBackend
from omnicache_ai.adapters.ag2_adapter import AG2CacheAdapter, CachedModelConfig


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def add_call() -> ToolCallEvent:
    """A scripted model turn that calls ``add(2, 3)``."""
    return ToolCallEvent(id="c1", name="add", arguments='{"a": 2, "b": 3}')


def fake(*turns: Any, model: str | None = "fake-1") -> TrackingConfig:
    """A scripted model that counts the calls reaching it (``len(fake.calls)``)."""
    return TrackingConfig(TestConfig(*turns, model=model))


@pytest.fixture
def manager() -> CacheManager:
    """A fresh in-memory manager per test."""
    return CacheManager(backend=InMemoryBackend())


async def test_second_identical_run_does_not_reach_the_model(manager: CacheManager) -> None:
    """A tool run (two model calls), then the same run by a new agent: no model call at all."""
    first = fake(add_call(), "It is 5.")
    agent = Agent("calc", prompt="You add.", config=CachedModelConfig(first, manager), tools=[add])
    assert (await agent.ask("What is 2+3?")).body == "It is 5."
    assert len(first.calls) == 2
    second = fake(add_call(), "It is 5.")
    again = Agent("calc", prompt="You add.", config=CachedModelConfig(second, manager), tools=[add])
    reply = await again.ask("What is 2+3?")
    assert reply.body == "It is 5."
    assert len(second.calls) == 0
    # the tool still ran in the replayed run: its result is in the history, as live
    names = [type(e).__name__ for e in await reply.history.get_events()]
    assert "ToolResultEvent" in names


def add_described(description: str) -> Any:
    """An ``add`` tool (same name and parameters) with another description."""

    def add(a: int, b: int) -> int:
        return a + b

    add.__doc__ = description
    return tool(add)


@pytest.mark.parametrize(
    "change", ["prompt", "tool", "tool-description", "model", "config-class", "none"]
)
async def test_a_changed_call_misses(manager: CacheManager, change: str) -> None:
    """A changed system prompt, tool (or its schema) or model is a miss; "none" is a hit."""
    first = fake("One.")
    await Agent("a", prompt="Be brief.", config=CachedModelConfig(first, manager), tools=[add]).ask(
        "hi"
    )
    second = fake("Two.", model="fake-2" if change == "model" else "fake-1")
    prompt = "Be verbose." if change == "prompt" else "Be brief."
    tools = {"tool": [multiply], "tool-description": [add_described("Sum two ints.")]}.get(
        change, [add]
    )
    if change == "config-class":  # the same model by another config class
        second = TrackingConfig(_OtherTestConfig("Two.", model="fake-1"))
    agent = Agent("a", prompt=prompt, config=CachedModelConfig(second, manager), tools=tools)
    if change == "none":
        assert (await agent.ask("hi")).body == "One."
        assert len(second.calls) == 0
    else:
        assert (await agent.ask("hi")).body == "Two."
        assert len(second.calls) == 1


class _OtherTestConfig(TestConfig):
    """Another config class with the same model name (a different provider client)."""

    __test__ = False


async def test_an_unchanged_call_hits_for_a_new_message_only_once(manager: CacheManager) -> None:
    """Control for the test above: same prompt, tools and model, same message -> hit."""
    first = fake("One.")
    await Agent("a", prompt="Be brief.", config=CachedModelConfig(first, manager)).ask("hi")
    second = fake("Two.")
    agent = Agent("a", prompt="Be brief.", config=CachedModelConfig(second, manager))
    assert (await agent.ask("hi")).body == "One."
    assert (await agent.ask("other")).body == "Two."
    assert len(second.calls) == 1


async def test_hook_serves_a_repeated_model_call_inside_one_run(manager: CacheManager) -> None:
    """One multi-step run asks a helper agent (a tool) the same question twice: one call."""
    helper_fake = fake("Paris")  # a second call would raise
    helper = Agent(
        "geo", prompt="Answer with a city.", config=CachedModelConfig(helper_fake, manager)
    )

    @tool
    async def ask_geo(question: str) -> str:
        """Ask the geography agent."""
        return str((await helper.ask(question)).body)

    lead_fake = fake(
        ToolCallEvent(id="c1", name="ask_geo", arguments='{"question": "Capital of France?"}'),
        ToolCallEvent(id="c2", name="ask_geo", arguments='{"question": "Capital of France?"}'),
        "Paris, twice.",
    )
    lead = Agent("lead", prompt="Use the tool.", config=lead_fake, tools=[ask_geo])
    reply = await lead.ask("Check the capital twice")
    assert reply.body == "Paris, twice."
    results = [e for e in await reply.history.get_events() if type(e).__name__ == "ToolResultEvent"]
    assert len(results) == 2
    assert len(lead_fake.calls) == 3
    assert len(helper_fake.calls) == 1  # the repeated helper call was served by the hook


async def test_streamed_chunks_are_published_again_on_a_hit(manager: CacheManager) -> None:
    """The chunks a streaming client published are published again, in order, on a hit."""

    async def chunks_of(config: Any) -> tuple[str | None, list[str]]:
        agent = Agent("s", prompt="Stream.", config=CachedModelConfig(config, manager))
        seen: list[str] = []

        async def on_chunk(event: ModelMessageChunk) -> None:
            seen.append(event.content)

        stream = MemoryStream()
        stream.where(ModelMessageChunk).subscribe(on_chunk)
        reply = await agent.ask("Say hello", stream=stream)
        return reply.body, seen

    live = fake(ModelMessageChunk("Hel"), ModelMessageChunk("lo"), "Hello")
    assert await chunks_of(live) == ("Hello", ["Hel", "lo"])
    replay = fake("never")
    assert await chunks_of(replay) == ("Hello", ["Hel", "lo"])
    assert len(replay.calls) == 0


async def test_cut_answers_and_errors_are_not_stored(manager: CacheManager) -> None:
    """A response cut by the token limit, and a failed call, are not cached."""
    cut = fake(ModelResponse(None, finish_reason="length"))
    agent = Agent("a", prompt="p", config=CachedModelConfig(cut, manager))
    for _ in range(2):
        assert (await agent.ask("hi")).body is None
    assert len(cut.calls) == 2  # (TestConfig restarts its script on every turn)
    failing = fake(RuntimeError("provider down"))
    agent = Agent("a", prompt="p", config=CachedModelConfig(failing, manager))
    with pytest.raises(RuntimeError, match="provider down"):
        await agent.ask("hi")
    whole = fake("Whole.")
    agent = Agent("a", prompt="p", config=CachedModelConfig(whole, manager))
    assert (await agent.ask("hi")).body == "Whole."
    assert len(whole.calls) == 1


async def test_a_cache_outage_never_breaks_a_run() -> None:
    """With the backend down, every model call goes to the model and the run succeeds."""
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    flaky.down = True
    manager = CacheManager(backend=flaky)
    scripted = fake(add_call(), "It is 5.", add_call(), "It is 5.")
    agent = Agent("c", prompt="p", config=CachedModelConfig(scripted, manager), tools=[add])
    for _ in range(2):
        assert (await agent.ask("What is 2+3?")).body == "It is 5."
    assert len(scripted.calls) == 4
    assert flaky.failures > 0


BAD_ENTRIES = {
    "class outside ag2": {"__event__": "os.system", "command": "x"},
    "not a pydantic model": {"__pydantic__": "ag2.events.types.ModelMessage", "data": []},
    "not an event": {"__event__": "ag2.events.types.Usage"},
}


@pytest.mark.parametrize("bad", sorted(BAD_ENTRIES))
async def test_a_corrupt_stored_call_is_a_miss(manager: CacheManager, bad: str) -> None:
    """A stored call that cannot be rebuilt safely is a miss: the model is called again."""
    scripted = fake("One.")  # TestConfig restarts its script on every turn
    config = CachedModelConfig(scripted, manager)
    agent = Agent("a", prompt="p", config=config)
    await agent.ask("hi")
    prompt = _Prompt(["p"])
    request = [ModelRequest.ensure_request(("hi",))]
    messages, params = config.create()._request(request, prompt, [], None)
    key = config.responses.cache_key(messages, model_id="fake-1", params=params)
    assert manager.get(key) is not None  # the key this test computes is the one stored
    entry = {"format": 1, "published": [], "response": BAD_ENTRIES[bad]}
    manager.set(key, [entry, None])
    assert (await agent.ask("hi")).body == "One."  # called again (and the entry overwritten)
    assert len(scripted.calls) == 2
    assert (await agent.ask("hi")).body == "One."  # served from the rewritten entry
    assert len(scripted.calls) == 2


class _Prompt:
    def __init__(self, prompt: list[str]) -> None:
        self.prompt = prompt


async def test_whole_run_is_replayed(manager: CacheManager) -> None:
    """AG2CacheAdapter: the second ask is an AgentReply rebuilt from the store, no model."""
    scripted = fake(add_call(), "It is 5.")
    agent = Agent("calc", prompt="You add.", config=scripted, tools=[add])
    cached = AG2CacheAdapter(agent, manager)
    live = await cached.arun("What is 2+3?")
    replay = await cached.arun("What is 2+3?")
    assert len(scripted.calls) == 2
    assert type(replay) is type(live)
    assert replay.body == live.body == "It is 5."
    assert replay.response == live.response
    live_events = [type(e).__name__ for e in await live.history.get_events()]
    replay_events = [type(e).__name__ for e in await replay.history.get_events()]
    assert replay_events == live_events


def test_sync_run_is_replayed(manager: CacheManager) -> None:
    """``run`` (sync) replays too."""
    scripted = fake("Paris")
    cached = AG2CacheAdapter(Agent("geo", config=scripted), manager)
    assert cached.run("Capital of France?").body == "Paris"
    assert cached.run("Capital of France?").body == "Paris"
    assert len(scripted.calls) == 1


@pytest.mark.parametrize("change", ["prompt", "tool", "model", "message", "variables"])
async def test_a_changed_whole_run_misses(manager: CacheManager, change: str) -> None:
    """A changed instruction, tool, model, message or run option misses."""
    await AG2CacheAdapter(Agent("a", prompt="Be brief.", config=fake("One.")), manager).arun("hi")
    scripted = fake("Two.", model="fake-2" if change == "model" else "fake-1")
    agent = Agent(
        "a",
        prompt="Be verbose." if change == "prompt" else "Be brief.",
        config=scripted,
        tools=[multiply] if change == "tool" else [],
    )
    cached = AG2CacheAdapter(agent, manager)
    options = {"variables": {"user": "ann"}} if change == "variables" else {}
    message = "hello" if change == "message" else "hi"
    assert (await cached.arun(message, **options)).body == "Two."
    assert len(scripted.calls) == 1


async def test_replayed_reply_can_be_continued(manager: CacheManager) -> None:
    """A replayed AgentReply carries its history: ``reply.ask`` continues the conversation."""
    first = fake("Paris")
    await AG2CacheAdapter(Agent("geo", config=first), manager).arun("Capital of France?")
    scripted = fake("About 2 million.")
    replay = await AG2CacheAdapter(Agent("geo", config=scripted), manager).arun(
        "Capital of France?"
    )
    follow = await replay.ask("And its population?")
    assert follow.body == "About 2 million."
    assert len(scripted.calls) == 1
    prompt_texts = [str(e) for e in scripted.calls[0].prompt]
    assert prompt_texts == []  # no system prompt configured


def test_bad_arguments_are_refused(manager: CacheManager) -> None:
    """Wrong types are a clear TypeError."""
    with pytest.raises(TypeError, match=r"ag2\.Agent"):
        AG2CacheAdapter("not an agent", manager)
    with pytest.raises(TypeError, match="ModelConfig"):
        CachedModelConfig("not a config", manager)
    with pytest.raises(TypeError, match="CacheManager"):
        CachedModelConfig(fake("x"), "not a manager")  # type: ignore[arg-type]
