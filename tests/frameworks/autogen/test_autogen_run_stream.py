"""AutoGen adapter: ``run_stream`` recorded once and replayed, through real AutoGen agents/teams.

The model is AutoGen's offline ``ReplayChatCompletionClient``; every test counts the calls that
reach it (``create_calls``). A replay must give the same sequence of AutoGen events and messages
(types, contents, order) and the final ``TaskResult``, without the model.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from _ci import need

need("autogen_agentchat", extra="autogen")
need("autogen_ext.models.replay", extra="autogen")

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.base import TaskResult
from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.messages import (
    ModelClientStreamingChunkEvent,
    TextMessage,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
)
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import FunctionCall
from autogen_core.models import CreateResult, ModelInfo, RequestUsage

from omnicache_ai import CacheKeyBuilder, CacheManager, DiskBackend
from omnicache_ai.adapters.autogen_adapter import AutoGenCacheAdapter

USAGE = RequestUsage(prompt_tokens=3, completion_tokens=2)
INFO = ModelInfo(
    vision=False,
    function_calling=True,
    json_output=False,
    family="gpt-4o",
    structured_output=False,
)
WEATHER_CALLS: list[str] = []


async def get_weather(city: str) -> str:
    """The weather in a city."""
    WEATHER_CALLS.append(city)
    return f"sunny in {city}"


def tool_call(city: str) -> CreateResult:
    """A model answer asking for the weather tool."""
    call = FunctionCall(id="call_1", arguments=f'{{"city": "{city}"}}', name="get_weather")
    return CreateResult(finish_reason="function_calls", content=[call], usage=USAGE, cached=False)


@pytest.fixture
def manager(tmp_path: Path) -> CacheManager:
    """A manager over a disk backend, so every stored event goes through the serializer."""
    WEATHER_CALLS.clear()
    return CacheManager(backend=DiskBackend(tmp_path / "disk"), key_builder=CacheKeyBuilder("t"))


def make_agent(
    answers: Sequence[Any], *, tools: list[Any] | None = None, stream: bool = False
) -> tuple[AssistantAgent, Any]:
    """An AssistantAgent over a replay client; returns the agent and the client to count."""
    from autogen_ext.models.replay import ReplayChatCompletionClient

    fake = ReplayChatCompletionClient(list(answers), model_info=INFO)
    agent = AssistantAgent(
        "assistant",
        model_client=fake,
        system_message="You are terse.",
        tools=tools,
        reflect_on_tool_use=bool(tools),
        model_client_stream=stream,
    )
    return agent, fake


async def collect(stream: AsyncGenerator[Any, None]) -> list[Any]:
    """Every item of a run_stream."""
    return [item async for item in stream]


def shape(items: list[Any]) -> list[tuple[str, Any]]:
    """Type name and content of each item (a TaskResult by its messages' contents)."""
    out: list[tuple[str, Any]] = []
    for item in items:
        if isinstance(item, TaskResult):
            out.append(("TaskResult", [str(m.content) for m in item.messages]))
        else:
            out.append((type(item).__name__, str(item.content)))
    return out


async def test_identical_run_stream_is_replayed_without_the_model(manager: CacheManager) -> None:
    """A tool run streamed live once; a fresh agent gets the same events, results and state."""
    agent, fake = make_agent([tool_call("Oslo"), "Sunny in Oslo."], tools=[get_weather])
    live = await collect(AutoGenCacheAdapter(agent, manager).run_stream(task="Weather in Oslo?"))
    assert len(fake.create_calls) == 2
    assert WEATHER_CALLS == ["Oslo"]

    again_agent, again_fake = make_agent([], tools=[get_weather])
    replay = await collect(
        AutoGenCacheAdapter(again_agent, manager).run_stream(task="Weather in Oslo?")
    )
    assert again_fake.create_calls == []
    assert WEATHER_CALLS == ["Oslo"]  # the whole run is replayed: the tool does not run again
    assert shape(replay) == shape(live)
    assert [type(i) for i in replay] == [type(i) for i in live]
    assert isinstance(replay[1], ToolCallRequestEvent)
    assert isinstance(replay[2], ToolCallExecutionEvent)
    result = replay[-1]
    assert isinstance(result, TaskResult)
    assert result.stop_reason == live[-1].stop_reason
    # The result holds the very messages replayed before it, as in a live run.
    assert all(any(m is i for i in replay[:-1]) for m in result.messages)
    # The replay leaves the agent where the live run left the first one.
    assert await again_agent.save_state() == await agent.save_state()


async def test_model_stream_chunks_are_replayed(manager: CacheManager) -> None:
    """With model_client_stream=True, the token chunk events come back too, in order."""
    agent, _ = make_agent(["hello there"], stream=True)
    live = await collect(AutoGenCacheAdapter(agent, manager).run_stream(task="Say hi"))
    chunks = [i.content for i in live if isinstance(i, ModelClientStreamingChunkEvent)]
    assert chunks == ["hello ", "there"]

    again, fake = make_agent([], stream=True)
    replay = await collect(AutoGenCacheAdapter(again, manager).run_stream(task="Say hi"))
    assert fake.create_calls == []
    assert shape(replay) == shape(live)


async def test_message_ids_and_timestamps_are_not_keyed(manager: CacheManager) -> None:
    """A task given as messages (new ids and timestamps each time) still replays."""
    agent, _ = make_agent(["4"])
    task = [TextMessage(content="2+2?", source="user")]
    await collect(AutoGenCacheAdapter(agent, manager).run_stream(task=task))
    again, fake = make_agent([])
    task2 = [TextMessage(content="2+2?", source="user")]
    assert task2[0].id != task[0].id
    replay = await collect(AutoGenCacheAdapter(again, manager).run_stream(task=task2))
    assert (fake.create_calls, replay[-1].messages[-1].content) == ([], "4")


async def test_a_changed_task_or_prior_turn_misses(manager: CacheManager) -> None:
    """Another task, or the same task after a different earlier turn, runs live."""
    agent, _ = make_agent(["4"])
    await collect(AutoGenCacheAdapter(agent, manager).run_stream(task="2+2?"))
    other, fake = make_agent(["6"])
    await collect(AutoGenCacheAdapter(other, manager).run_stream(task="3+3?"))
    assert len(fake.create_calls) == 1

    later, later_fake = make_agent(["hi", "4"])
    cached = AutoGenCacheAdapter(later, manager)
    await collect(cached.run_stream(task="hello"))
    await collect(cached.run_stream(task="2+2?"))  # its state now holds the "hello" turn
    assert len(later_fake.create_calls) == 2


async def test_a_stream_left_early_is_not_stored(manager: CacheManager) -> None:
    """A consumer that stops after the first item leaves nothing: the next run is live."""
    agent, _ = make_agent(["4"])
    stream = AutoGenCacheAdapter(agent, manager).run_stream(task="2+2?")
    first = await anext(stream)
    await stream.aclose()
    assert isinstance(first, TextMessage)

    again, fake = make_agent(["4"])
    items = await collect(AutoGenCacheAdapter(again, manager).run_stream(task="2+2?"))
    assert len(fake.create_calls) == 1
    assert items[-1].messages[-1].content == "4"


async def test_a_consumer_stopping_at_the_result_still_stores(manager: CacheManager) -> None:
    """The entry is written before the TaskResult is handed over: breaking there is fine."""
    agent, _ = make_agent(["4"])
    # Closed at once (as `async with` does), so no other reader can finish the live stream.
    async with aclosing(AutoGenCacheAdapter(agent, manager).run_stream(task="2+2?")) as stream:
        async for item in stream:
            if isinstance(item, TaskResult):
                break
    again, fake = make_agent([])
    items = await collect(AutoGenCacheAdapter(again, manager).run_stream(task="2+2?"))
    assert (fake.create_calls, items[-1].messages[-1].content) == ([], "4")


async def test_a_run_that_raises_is_not_stored(manager: CacheManager) -> None:
    """The model fails mid-run: the error reaches the caller and nothing is stored."""
    from autogen_ext.models.replay import ReplayChatCompletionClient

    class Broken(ReplayChatCompletionClient):
        async def create(self, *args: Any, **kwargs: Any) -> CreateResult:
            raise ConnectionError("model down")

    broken = AssistantAgent(
        "assistant",
        model_client=Broken([], model_info=INFO),
        system_message="You are terse.",
    )
    with pytest.raises(ConnectionError):
        await collect(AutoGenCacheAdapter(broken, manager).run_stream(task="2+2?"))

    again, fake = make_agent(["4"])
    await collect(AutoGenCacheAdapter(again, manager).run_stream(task="2+2?"))
    assert len(fake.create_calls) == 1


async def test_a_team_run_stream_is_replayed(manager: CacheManager) -> None:
    """A RoundRobinGroupChat's stream (two agents, two turns) replays without either model."""

    def team() -> tuple[RoundRobinGroupChat, list[Any]]:
        from autogen_ext.models.replay import ReplayChatCompletionClient

        fakes = [
            ReplayChatCompletionClient(["Draft: a poem."], model_info=INFO),
            ReplayChatCompletionClient(["Looks good."], model_info=INFO),
        ]
        writer = AssistantAgent("writer", model_client=fakes[0], system_message="Write.")
        critic = AssistantAgent("critic", model_client=fakes[1], system_message="Review.")
        return RoundRobinGroupChat(
            [writer, critic], termination_condition=MaxMessageTermination(3)
        ), fakes

    first, first_fakes = team()
    live = await collect(AutoGenCacheAdapter(first, manager).run_stream(task="A poem"))
    assert [len(f.create_calls) for f in first_fakes] == [1, 1]

    second, fakes = team()
    replay = await collect(AutoGenCacheAdapter(second, manager).run_stream(task="A poem"))
    assert [len(f.create_calls) for f in fakes] == [0, 0]
    assert shape(replay) == shape(live)
    assert replay[-1].stop_reason == live[-1].stop_reason
    # The team continues from the replayed state exactly as from the live one.
    assert await second.save_state() == await first.save_state()
