"""CrewAI adapter: whole-crew replay and the caching LLM, driven through real CrewAI crews.

The model is a small ``BaseLLM`` subclass answering from a script (ReAct text, as CrewAI
expects from an LLM without native tool calling); every test counts the calls that reach it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from _ci import need

need("crewai", extra="crewai")

from crewai import Agent, Crew, Task
from crewai.crews.crew_output import CrewOutput
from crewai.llms.base_llm import BaseLLM, call_stop_override
from crewai.tools import tool
from pydantic import BaseModel, Field

from omnicache_ai import CacheKeyBuilder, CacheManager, DiskBackend
from omnicache_ai.adapters.crewai_adapter import CachedCrewLLM, CrewAICacheAdapter

FINAL = "Thought: I now know the final answer\nFinal Answer: {}"
USE_WEATHER = 'Thought: I should check.\nAction: get_weather\nAction Input: {{"city": "{}"}}'
WEATHER_CALLS: list[str] = []


class ScriptedLLM(BaseLLM):
    """An offline LLM: answers from ``script`` in order and records every call."""

    script: list[str]
    calls: list[Any] = Field(default_factory=list)

    def call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        """The next scripted answer (fails the run when the script is used up)."""
        self.calls.append(messages)
        if len(self.calls) > len(self.script):
            raise AssertionError(f"unexpected model call #{len(self.calls)}: {messages!r}")
        return self.script[len(self.calls) - 1]

    async def acall(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        """Async twin of call()."""
        return self.call(messages)


@tool("get_weather")
def get_weather(city: str) -> str:
    """Tell the weather in a city."""
    WEATHER_CALLS.append(city)
    return f"sunny in {city}"


@tool("get_time")
def get_time(city: str) -> str:
    """Tell the local time in a city."""
    return f"noon in {city}"


class Answer(BaseModel):
    """A structured crew answer."""

    city: str
    weather: str


@pytest.fixture
def manager(tmp_path: Path) -> CacheManager:
    """A manager over a disk backend, so every entry goes through the serializer."""
    WEATHER_CALLS.clear()
    return CacheManager(backend=DiskBackend(tmp_path / "disk"), key_builder=CacheKeyBuilder("t"))


def make_crew(
    llm: BaseLLM,
    *,
    goal: str = "Answer questions about {topic}.",
    tools: list[Any] | None = None,
    output_pydantic: type[BaseModel] | None = None,
) -> Crew:
    """A one-agent, one-task crew over ``llm``."""
    agent = Agent(
        role="Researcher",
        goal=goal,
        backstory="You are careful.",
        llm=llm,
        tools=tools or [],
        allow_delegation=False,
        max_iter=4,
    )
    task = Task(
        description="Tell me about {topic}.",
        expected_output="One sentence.",
        agent=agent,
        output_pydantic=output_pydantic,
    )
    return Crew(agents=[agent], tasks=[task], verbose=False)


def test_second_identical_kickoff_is_replayed_without_the_model(manager: CacheManager) -> None:
    """A new crew with the same config and inputs gets the stored CrewOutput, no model call."""
    first_llm = ScriptedLLM(model="gpt-4o", script=[FINAL.format("Paris is the capital.")])
    first = CrewAICacheAdapter(make_crew(first_llm), manager).kickoff(inputs={"topic": "France"})
    assert len(first_llm.calls) == 1

    again_llm = ScriptedLLM(model="gpt-4o", script=[])
    again = CrewAICacheAdapter(make_crew(again_llm), manager).kickoff(inputs={"topic": "France"})
    assert again_llm.calls == []
    assert isinstance(again, CrewOutput)
    assert again.raw == first.raw == "Paris is the capital."
    assert [t.raw for t in again.tasks_output] == [t.raw for t in first.tasks_output]
    assert again.tasks_output[0].agent == "Researcher"


async def test_kickoff_async_replays_too(manager: CacheManager) -> None:
    """kickoff_async shares the logic: a second identical run does not reach the model."""
    llm = ScriptedLLM(model="gpt-4o", script=[FINAL.format("42.")])
    await CrewAICacheAdapter(make_crew(llm), manager).kickoff_async(inputs={"topic": "life"})
    again_llm = ScriptedLLM(model="gpt-4o", script=[])
    result = await CrewAICacheAdapter(make_crew(again_llm), manager).kickoff_async(
        inputs={"topic": "life"}
    )
    assert (result.raw, again_llm.calls) == ("42.", [])


def test_pydantic_output_round_trips(manager: CacheManager) -> None:
    """A task's structured (pydantic) output comes back as the same model class."""
    text = '{"city": "Oslo", "weather": "sunny"}'
    llm = ScriptedLLM(model="gpt-4o", script=[FINAL.format(text)])
    CrewAICacheAdapter(make_crew(llm, output_pydantic=Answer), manager).kickoff(
        inputs={"topic": "Oslo"}
    )
    again = CrewAICacheAdapter(
        make_crew(ScriptedLLM(model="gpt-4o", script=[]), output_pydantic=Answer), manager
    ).kickoff(inputs={"topic": "Oslo"})
    assert again.pydantic == Answer(city="Oslo", weather="sunny")


@pytest.mark.parametrize(
    "change",
    [
        {"goal": "Answer briefly about {topic}."},
        {"model": "gpt-4.1"},
        {"tools": [get_time]},
        {"inputs": {"topic": "Spain"}},
    ],
    ids=["instruction", "model", "tool", "input"],
)
def test_a_changed_instruction_model_tool_or_input_misses(
    manager: CacheManager, change: dict[str, Any]
) -> None:
    """Changing the goal, the model, a tool or the inputs runs the crew again."""
    base = ScriptedLLM(model="gpt-4o", script=[FINAL.format("Paris.")])
    CrewAICacheAdapter(make_crew(base, tools=[get_weather]), manager).kickoff(
        inputs={"topic": "France"}
    )
    llm = ScriptedLLM(model=change.get("model", "gpt-4o"), script=[FINAL.format("Again.")])
    crew = make_crew(
        llm,
        goal=change.get("goal", "Answer questions about {topic}."),
        tools=change.get("tools", [get_weather]),
    )
    result = CrewAICacheAdapter(crew, manager).kickoff(
        inputs=change.get("inputs", {"topic": "France"})
    )
    assert (result.raw, len(llm.calls)) == ("Again.", 1)


def test_model_calls_of_a_tool_run_are_served_by_the_hook(manager: CacheManager) -> None:
    """Each step of a ReAct run with a tool is cached; a repeat reaches the model 0 times."""
    script = [USE_WEATHER.format("Oslo"), FINAL.format("Sunny in Oslo.")]
    fake = ScriptedLLM(model="gpt-4o", script=script)
    crew = make_crew(CachedCrewLLM(fake, manager), tools=[get_weather])
    assert crew.kickoff(inputs={"topic": "Oslo"}).raw == "Sunny in Oslo."
    assert (len(fake.calls), WEATHER_CALLS) == (2, ["Oslo"])

    again = ScriptedLLM(model="gpt-4o", script=[])
    crew2 = make_crew(CachedCrewLLM(again, manager), tools=[get_weather])
    assert crew2.kickoff(inputs={"topic": "Oslo"}).raw == "Sunny in Oslo."
    assert again.calls == []
    assert WEATHER_CALLS == ["Oslo", "Oslo"]  # the tool still runs: only model calls are cached


def test_hook_serves_the_repeated_step_and_calls_the_model_for_the_new_one(
    manager: CacheManager,
) -> None:
    """Same first step (served by the hook), a different tool result: only step two is live."""
    script = [USE_WEATHER.format("Oslo"), FINAL.format("Sunny in Oslo.")]
    make_crew(CachedCrewLLM(ScriptedLLM(model="gpt-4o", script=script), manager),
              tools=[get_weather]).kickoff(inputs={"topic": "Oslo"})  # fmt: skip

    @tool("get_weather")
    def rainy_weather(city: str) -> str:
        """Tell the weather in a city."""
        return f"rain in {city}"

    fake = ScriptedLLM(model="gpt-4o", script=[FINAL.format("Rain in Oslo.")])
    result = make_crew(CachedCrewLLM(fake, manager), tools=[rainy_weather]).kickoff(
        inputs={"topic": "Oslo"}
    )
    assert (result.raw, len(fake.calls)) == ("Rain in Oslo.", 1)


def test_hook_key_holds_model_and_stop_words(manager: CacheManager) -> None:
    """The same messages to another model, or with other stop words, reach the model."""
    fake = ScriptedLLM(model="gpt-4o", script=["a", "b", "c"])
    llm = CachedCrewLLM(fake, manager)
    assert (llm.call("hi"), llm.call("hi"), len(fake.calls)) == ("a", "a", 1)
    other = ScriptedLLM(model="gpt-4.1", script=["other"])
    assert CachedCrewLLM(other, manager).call("hi") == "other"
    # CrewAI's agent loop scopes its ReAct stop words to the call (call_stop_override).
    with call_stop_override(llm, ["Observation:"]):
        assert llm.call("hi") == "b"
    assert len(fake.calls) == 2


async def test_hook_acall_shares_the_entries_of_call(manager: CacheManager) -> None:
    """acall() is keyed like call(): an answer stored by one is served by the other."""
    fake = ScriptedLLM(model="gpt-4o", script=["x"])
    llm = CachedCrewLLM(fake, manager)
    assert llm.call([{"role": "user", "content": "q"}]) == "x"
    assert await llm.acall([{"role": "user", "content": "q"}]) == "x"
    assert len(fake.calls) == 1


def test_calls_that_run_tools_inside_the_llm_pass_through(manager: CacheManager) -> None:
    """With available_functions the LLM may run tools itself: never served from the cache."""
    fake = ScriptedLLM(model="gpt-4o", script=["r1", "r2"])
    llm = CachedCrewLLM(fake, manager)
    functions = {"get_weather": lambda city: city}
    assert llm.call("q", available_functions=functions) == "r1"
    assert llm.call("q", available_functions=functions) == "r2"


def test_adapter_rejects_what_is_not_a_crew(manager: CacheManager) -> None:
    """A clear TypeError when the first argument is not a crewai.Crew."""
    with pytest.raises(TypeError, match=r"crewai\.Crew"):
        CrewAICacheAdapter(object(), manager)  # type: ignore[arg-type]


def test_a_cache_outage_is_a_miss_not_an_error() -> None:
    """With the backend down, the kickoff and its model calls still run and succeed."""
    from omnicache_ai import InMemoryBackend
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    flaky.down = True
    manager = CacheManager(backend=flaky)
    fake = ScriptedLLM(model="gpt-4o", script=[FINAL.format("Still works.")])
    result = CrewAICacheAdapter(make_crew(CachedCrewLLM(fake, manager)), manager).kickoff(
        inputs={"topic": "x"}
    )
    assert (result.raw, len(fake.calls)) == ("Still works.", 1)
    assert flaky.failures > 0
