"""AutoGen adapter: whole-run replay, the caching model client and the CacheStore, on real AutoGen.

The model is AutoGen's own offline fake, ``ReplayChatCompletionClient``; every test counts the
calls that reach it (``create_calls``, or the scripted answers it has left).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from _ci import need

need("autogen_agentchat", extra="autogen")
need("autogen_ext.models.replay", extra="autogen")

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.base import TaskResult
from autogen_agentchat.messages import TextMessage, ToolCallExecutionEvent
from autogen_core import FunctionCall
from autogen_core.models import CreateResult, ModelInfo, RequestUsage, UserMessage
from autogen_ext.models.cache import ChatCompletionCache
from autogen_ext.models.replay import ReplayChatCompletionClient

from omnicache_ai import CacheKeyBuilder, CacheManager, DiskBackend
from omnicache_ai.adapters.autogen_adapter import (
    AutoGenCacheAdapter,
    AutoGenCacheStore,
    CachedChatCompletionClient,
)

USAGE = RequestUsage(prompt_tokens=3, completion_tokens=2)


def info(family: str = "gpt-4o") -> ModelInfo:
    """Model info of a tool-calling model of ``family``."""
    return ModelInfo(
        vision=False,
        function_calling=True,
        json_output=False,
        family=family,
        structured_output=False,
    )


def tool_call(city: str) -> CreateResult:
    """A model answer asking for the weather tool."""
    call = FunctionCall(id="call_1", arguments=f'{{"city": "{city}"}}', name="get_weather")
    return CreateResult(finish_reason="function_calls", content=[call], usage=USAGE, cached=False)


WEATHER_CALLS: list[str] = []


async def get_weather(city: str) -> str:
    """The weather in a city."""
    WEATHER_CALLS.append(city)
    return f"sunny in {city}"


async def get_time(city: str) -> str:
    """The local time in a city."""
    return f"noon in {city}"


@pytest.fixture
def manager(tmp_path: Path) -> CacheManager:
    """A manager over a disk backend, so every entry goes through the serializer."""
    WEATHER_CALLS.clear()
    return CacheManager(backend=DiskBackend(tmp_path / "disk"), key_builder=CacheKeyBuilder("t"))


def make_agent(
    answers: list[Any],
    *,
    system: str = "You are terse.",
    family: str = "gpt-4o",
    tools: list[Any] | None = None,
    wrap: CacheManager | None = None,
) -> tuple[AssistantAgent, ReplayChatCompletionClient]:
    """An AssistantAgent over a replay client (optionally behind the caching client)."""
    fake = ReplayChatCompletionClient(answers, model_info=info(family))
    client: Any = fake if wrap is None else CachedChatCompletionClient(fake, wrap)
    agent = AssistantAgent(
        "assistant",
        model_client=client,
        system_message=system,
        tools=tools,
        reflect_on_tool_use=bool(tools),
    )
    return agent, fake


async def test_second_identical_run_is_replayed_without_the_model(manager: CacheManager) -> None:
    """A fresh agent with the same config and task gets the stored TaskResult, no model call."""
    first_agent, first_fake = make_agent(["Paris"])
    first = await AutoGenCacheAdapter(first_agent, manager).arun("Capital of France?")
    assert len(first_fake.create_calls) == 1

    again_agent, again_fake = make_agent(["never served"])
    again = await AutoGenCacheAdapter(again_agent, manager).arun("Capital of France?")

    assert again_fake.create_calls == []
    assert isinstance(again, TaskResult)
    assert [type(m) for m in again.messages] == [type(m) for m in first.messages]
    assert [m.content for m in again.messages] == ["Capital of France?", "Paris"]
    # The replay leaves the agent where the live run left the first one.
    assert await again_agent.save_state() == await first_agent.save_state()


def test_sync_run_replays_too(manager: CacheManager) -> None:
    """The sync run() shares arun()'s logic: the second call does not reach the model."""
    agent, fake = make_agent(["4"])
    assert AutoGenCacheAdapter(agent, manager).run("2+2?").messages[-1].content == "4"
    agent2, fake2 = make_agent(["never served"])
    assert AutoGenCacheAdapter(agent2, manager).run("2+2?").messages[-1].content == "4"
    assert (len(fake.create_calls), len(fake2.create_calls)) == (1, 0)


@pytest.mark.parametrize(
    "change",
    [
        {"system": "You are verbose."},
        {"family": "gpt-4.1"},
        {"tools": [get_time]},
    ],
    ids=["instruction", "model", "tool"],
)
async def test_a_changed_instruction_model_or_tool_misses(
    manager: CacheManager, change: dict[str, Any]
) -> None:
    """Changing the system message, the model or a tool runs the model again."""
    base: dict[str, Any] = {"tools": [get_weather]}
    agent, _ = make_agent([tool_call("Oslo"), "Sunny."], **base)
    await AutoGenCacheAdapter(agent, manager).arun("Weather in Oslo?")

    changed, fake = make_agent([tool_call("Oslo"), "Sunny."], **{**base, **change})
    await AutoGenCacheAdapter(changed, manager).arun("Weather in Oslo?")
    assert len(fake.create_calls) == 2


async def test_prior_turns_are_part_of_the_key(manager: CacheManager) -> None:
    """The same task after a different earlier turn is a different run: it misses."""
    agent, _ = make_agent(["A", "B"])
    cached = AutoGenCacheAdapter(agent, manager)
    await cached.arun("hello")
    key_after_turn = await cached.key("again")
    other, _ = make_agent(["C"])
    assert await AutoGenCacheAdapter(other, manager).key("again") != key_after_turn


async def test_message_ids_do_not_change_the_key(manager: CacheManager) -> None:
    """Two TextMessage tasks with the same text (new ids, new timestamps) share one key."""
    agent, _ = make_agent(["x"])
    cached = AutoGenCacheAdapter(agent, manager)
    one = await cached.key(TextMessage(content="hi", source="user"))
    two = await cached.key(TextMessage(content="hi", source="user"))
    assert one == two


async def test_model_calls_of_a_tool_run_are_served_by_the_hook(manager: CacheManager) -> None:
    """Each model call of a multi-step tool run is cached; a repeat reaches the model 0 times."""
    answers = [tool_call("Oslo"), "Sunny in Oslo."]
    agent, fake = make_agent(answers, tools=[get_weather], wrap=manager)
    first = await agent.run(task="Weather in Oslo?")
    assert len(fake.create_calls) == 2
    assert any(isinstance(m, ToolCallExecutionEvent) for m in first.messages)

    again, again_fake = make_agent(["never served"], tools=[get_weather], wrap=manager)
    second = await again.run(task="Weather in Oslo?")
    assert again_fake.create_calls == []
    assert second.messages[-1].content == "Sunny in Oslo."
    assert WEATHER_CALLS == ["Oslo", "Oslo"]  # tools still run: only model calls are cached


async def test_hook_serves_the_step_that_repeats_and_calls_the_model_for_the_new_one(
    manager: CacheManager,
) -> None:
    """Same first step (served), different tool output (the reflection call is new)."""
    agent, _ = make_agent([tool_call("Oslo"), "Sunny."], tools=[get_weather], wrap=manager)
    await agent.run(task="Weather in Oslo?")

    async def get_weather_rainy(city: str) -> str:
        """The weather in a city."""
        return f"rain in {city}"

    get_weather_rainy.__name__ = "get_weather"
    other, fake = make_agent(["Rainy."], tools=[get_weather_rainy], wrap=manager)
    result = await other.run(task="Weather in Oslo?")
    assert len(fake.create_calls) == 1  # only the reflection on the new tool output
    assert result.messages[-1].content == "Rainy."


async def test_hook_key_holds_model_and_tool_choice(manager: CacheManager) -> None:
    """AutoGen's own cache ignores model and tool_choice; ours keys them."""
    ask = [UserMessage(content="2+2?", source="user")]
    fake = ReplayChatCompletionClient(["4", "four", "IV"], model_info=info())
    client = CachedChatCompletionClient(fake, manager)
    await client.create(ask)
    hit = await client.create(ask)
    assert (hit.content, hit.cached, len(fake.create_calls)) == ("4", True, 1)
    assert (await client.create(ask, tool_choice="none")).content == "four"
    other_model = CachedChatCompletionClient(fake, manager, model_id="gpt-4.1")
    assert (await other_model.create(ask)).content == "IV"
    assert len(fake.create_calls) == 3


async def test_hook_replays_a_stream(manager: CacheManager) -> None:
    """create_stream runs live once, then replays the chunks and the final CreateResult."""
    ask = [UserMessage(content="Say hi", source="user")]
    fake = ReplayChatCompletionClient(["hello there"], model_info=info())
    client = CachedChatCompletionClient(fake, manager)
    live = [c async for c in client.create_stream(ask)]
    replayed = [c async for c in client.create_stream(ask)]
    assert [c for c in replayed if isinstance(c, str)] == ["hello ", "there"]
    assert isinstance(replayed[-1], CreateResult)
    assert replayed[-1].content == live[-1].content == "hello there"
    assert fake._current_index == 1  # one live stream only


async def test_cache_store_backs_autogens_chat_completion_cache(manager: CacheManager) -> None:
    """AutoGen's ChatCompletionCache over our CacheStore: the second call is a hit."""
    ask = [UserMessage(content="2+2?", source="user")]
    fake = ReplayChatCompletionClient(["4"], model_info=info())
    cache = ChatCompletionCache(fake, AutoGenCacheStore(manager))
    first = await cache.create(ask)
    second = await cache.create(ask)
    assert (first.content, second.content, second.cached) == ("4", "4", True)
    assert len(fake.create_calls) == 1
    # A fresh ChatCompletionCache over the same manager (another process) hits too.
    other = ChatCompletionCache(ReplayChatCompletionClient([]), AutoGenCacheStore(manager))
    assert (await other.create(ask)).content == "4"


def test_adapter_rejects_what_is_not_an_agent(manager: CacheManager) -> None:
    """A clear TypeError names the problem when the first argument is not an AutoGen agent."""
    with pytest.raises(TypeError, match="AutoGen agent"):
        AutoGenCacheAdapter(object(), manager)


async def test_a_cache_outage_is_a_miss_not_an_error() -> None:
    """With the backend down, runs and model calls still reach the model and succeed."""
    from omnicache_ai import InMemoryBackend
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    flaky.down = True
    manager = CacheManager(backend=flaky)
    agent, fake = make_agent(["Paris"], wrap=manager)
    result = await AutoGenCacheAdapter(agent, manager).arun("Capital of France?")
    assert (result.messages[-1].content, len(fake.create_calls)) == ("Paris", 1)
    assert flaky.failures > 0


async def test_hook_works_with_a_json_serializer() -> None:
    """With JsonSerializer (no classes kept) a hit is still a CreateResult."""
    from omnicache_ai import InMemoryBackend, JsonSerializer

    manager = CacheManager(backend=InMemoryBackend(), serializer=JsonSerializer())
    fake = ReplayChatCompletionClient(["4"], model_info=info())
    client = CachedChatCompletionClient(fake, manager)
    ask = [UserMessage(content="2+2?", source="user")]
    await client.create(ask)
    hit = await client.create(ask)
    assert isinstance(hit, CreateResult)
    assert (hit.content, hit.cached, len(fake.create_calls)) == ("4", True, 1)


async def test_hook_does_not_store_a_truncated_answer(manager: CacheManager) -> None:
    """A CreateResult cut by the token limit is returned but the next call asks again."""
    cut = CreateResult(finish_reason="length", content="Par", usage=USAGE, cached=False)
    fake = ReplayChatCompletionClient([cut, "Paris"], model_info=info())
    client = CachedChatCompletionClient(fake, manager)
    ask = [UserMessage(content="Capital?", source="user")]
    assert (await client.create(ask)).content == "Par"
    assert (await client.create(ask)).content == "Paris"
    assert len(fake.create_calls) == 2
