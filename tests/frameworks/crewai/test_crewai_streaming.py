"""CrewAI adapter: streaming kickoffs (``Crew(stream=True)``) recorded once and replayed.

The model is a small ``BaseLLM`` subclass answering from a script; when CrewAI turns streaming
on for the crew's LLMs it emits each answer word by word as CrewAI stream-chunk events, the
way a provider LLM does. Every test counts the calls that reach it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from _ci import need

need("crewai", extra="crewai")

from crewai import Agent, Crew, Task
from crewai.crews.crew_output import CrewOutput
from crewai.llms.base_llm import BaseLLM
from crewai.tools import tool
from crewai.types.streaming import CrewStreamingOutput, StreamChunk
from pydantic import Field

from omnicache_ai import CacheKeyBuilder, CacheManager, DiskBackend
from omnicache_ai.adapters.crewai_adapter import CrewAICacheAdapter

FINAL = "Thought: I now know the final answer\nFinal Answer: {}"
USE_WEATHER = 'Thought: I should check.\nAction: get_weather\nAction Input: {{"city": "{}"}}'
WEATHER_CALLS: list[str] = []


class StreamingLLM(BaseLLM):
    """An offline LLM: answers from ``script``; streams each answer when CrewAI asks it to."""

    script: list[str]
    calls: list[Any] = Field(default_factory=list)
    fail: bool = False

    def call(  # noqa: PLR0917 - BaseLLM.call's signature
        self,
        messages: Any,
        tools: Any = None,
        callbacks: Any = None,
        available_functions: Any = None,
        from_task: Any = None,
        from_agent: Any = None,
        response_model: Any = None,
    ) -> str:
        """The next scripted answer, emitted word by word as stream chunks when streaming."""
        self.calls.append(messages)
        if self.fail:
            raise ConnectionError("model down")
        if len(self.calls) > len(self.script):
            raise AssertionError(f"unexpected model call #{len(self.calls)}")
        text = self.script[len(self.calls) - 1]
        if self.stream:
            for word in text.split(" "):
                self._emit_stream_chunk_event(
                    f"{word} ", from_task=from_task, from_agent=from_agent
                )
        return text

    async def acall(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        """Async twin of call()."""
        return self.call(messages, *args, **kwargs)


@tool("get_weather")
def get_weather(city: str) -> str:
    """Tell the weather in a city."""
    WEATHER_CALLS.append(city)
    return f"sunny in {city}"


@pytest.fixture
def manager(tmp_path: Path) -> CacheManager:
    """A manager over a disk backend, so every chunk goes through the serializer."""
    WEATHER_CALLS.clear()
    return CacheManager(backend=DiskBackend(tmp_path / "disk"), key_builder=CacheKeyBuilder("t"))


def make_crew(llm: BaseLLM, *, tools: list[Any] | None = None) -> Crew:
    """A one-agent, one-task streaming crew over ``llm``."""
    agent = Agent(
        role="Researcher",
        goal="Answer questions about {topic}.",
        backstory="You are careful.",
        llm=llm,
        tools=tools or [],
        allow_delegation=False,
        max_iter=4,
        max_retry_limit=0,
    )
    task = Task(description="Tell me about {topic}.", expected_output="One sentence.", agent=agent)
    return Crew(agents=[agent], tasks=[task], verbose=False, stream=True)


def text(chunks: list[StreamChunk]) -> str:
    """The streamed text."""
    return "".join(c.content for c in chunks)


def test_streamed_kickoff_is_replayed_without_the_model(manager: CacheManager) -> None:
    """A streamed tool run recorded once; a fresh crew gets the same chunks and CrewOutput."""
    script = [USE_WEATHER.format("Oslo"), FINAL.format("Sunny in Oslo.")]
    llm = StreamingLLM(model="gpt-4o", script=script)
    live = CrewAICacheAdapter(make_crew(llm, tools=[get_weather]), manager).kickoff(
        inputs={"topic": "Oslo"}
    )
    assert isinstance(live, CrewStreamingOutput)
    live_chunks = list(live)
    assert live.result.raw == "Sunny in Oslo."
    assert (len(llm.calls), WEATHER_CALLS) == (2, ["Oslo"])
    assert "Final Answer: Sunny in Oslo." in text(live_chunks)

    again_llm = StreamingLLM(model="gpt-4o", script=[])
    crew = make_crew(again_llm, tools=[get_weather])
    replay = CrewAICacheAdapter(crew, manager).kickoff(inputs={"topic": "Oslo"})
    assert isinstance(replay, CrewStreamingOutput)
    chunks = list(replay)
    assert (again_llm.calls, WEATHER_CALLS) == ([], ["Oslo"])
    assert all(isinstance(c, StreamChunk) for c in chunks)
    assert [(c.content, c.chunk_type, c.agent_role) for c in chunks] == [
        (c.content, c.chunk_type, c.agent_role) for c in live_chunks
    ]
    # Agent ids are new with every crew: a replay names this crew's agent.
    assert {c.agent_id for c in chunks} == {str(crew.agents[0].id)}
    assert isinstance(replay.result, CrewOutput)
    assert replay.result.raw == "Sunny in Oslo."
    assert [t.raw for t in replay.result.tasks_output] == ["Sunny in Oslo."]
    assert replay.get_full_text() == live.get_full_text()


@pytest.mark.parametrize("method", ["kickoff_async", "akickoff"])
async def test_async_streamed_kickoffs_are_replayed(manager: CacheManager, method: str) -> None:
    """kickoff_async / akickoff with stream=True: async chunks live, then replayed."""
    llm = StreamingLLM(model="gpt-4o", script=[FINAL.format("Forty two.")])
    live = await getattr(CrewAICacheAdapter(make_crew(llm), manager), method)(
        inputs={"topic": "life"}
    )
    live_chunks = [c async for c in live]
    assert live.result.raw == "Forty two."

    again = StreamingLLM(model="gpt-4o", script=[])
    replay = await getattr(CrewAICacheAdapter(make_crew(again), manager), method)(
        inputs={"topic": "life"}
    )
    chunks = [c async for c in replay]
    assert again.calls == []
    assert [c.content for c in chunks] == [c.content for c in live_chunks]
    assert replay.result.raw == "Forty two."


def test_another_input_misses(manager: CacheManager) -> None:
    """A streamed kickoff with other inputs runs live."""
    first = StreamingLLM(model="gpt-4o", script=[FINAL.format("Paris.")])
    list(CrewAICacheAdapter(make_crew(first), manager).kickoff(inputs={"topic": "France"}))
    llm = StreamingLLM(model="gpt-4o", script=[FINAL.format("Madrid.")])
    streaming = CrewAICacheAdapter(make_crew(llm), manager).kickoff(inputs={"topic": "Spain"})
    list(streaming)
    assert (streaming.result.raw, len(llm.calls)) == ("Madrid.", 1)


def test_a_stream_left_early_is_not_stored(manager: CacheManager) -> None:
    """A consumer that closes the stream after one chunk stores nothing: the next is live."""
    llm = StreamingLLM(model="gpt-4o", script=[FINAL.format("Paris is the capital.")])
    streaming = CrewAICacheAdapter(make_crew(llm), manager).kickoff(inputs={"topic": "France"})
    first = next(iter(streaming))
    streaming.close()
    assert isinstance(first, StreamChunk)

    again = StreamingLLM(model="gpt-4o", script=[FINAL.format("Paris is the capital.")])
    streaming = CrewAICacheAdapter(make_crew(again), manager).kickoff(inputs={"topic": "France"})
    list(streaming)
    assert (streaming.result.raw, len(again.calls)) == ("Paris is the capital.", 1)


def test_a_failed_streamed_kickoff_is_not_stored(manager: CacheManager) -> None:
    """The model fails: iterating raises as with CrewAI alone, and nothing is stored."""
    broken = StreamingLLM(model="gpt-4o", script=[], fail=True)
    streaming = CrewAICacheAdapter(make_crew(broken), manager).kickoff(inputs={"topic": "x"})
    with pytest.raises(ConnectionError):
        list(streaming)

    llm = StreamingLLM(model="gpt-4o", script=[FINAL.format("Fine now.")])
    streaming = CrewAICacheAdapter(make_crew(llm), manager).kickoff(inputs={"topic": "x"})
    list(streaming)
    assert (streaming.result.raw, len(llm.calls)) == ("Fine now.", 1)


def test_streamed_and_plain_kickoffs_do_not_share_entries(manager: CacheManager) -> None:
    """A plain kickoff's stored CrewOutput never answers a streaming crew (and back)."""
    plain_llm = StreamingLLM(model="gpt-4o", script=[FINAL.format("Plain.")])
    plain = make_crew(plain_llm)
    plain.stream = False
    assert CrewAICacheAdapter(plain, manager).kickoff(inputs={"topic": "x"}).raw == "Plain."

    llm = StreamingLLM(model="gpt-4o", script=[FINAL.format("Streamed.")])
    streaming = CrewAICacheAdapter(make_crew(llm), manager).kickoff(inputs={"topic": "x"})
    assert text(list(streaming)).strip().endswith("Streamed.")
    assert (streaming.result.raw, len(llm.calls)) == ("Streamed.", 1)


@tool("get_weather")
def broken_weather(city: str) -> str:
    """Tell the weather in a city."""
    raise RuntimeError("weather service down")


def test_a_streamed_kickoff_whose_tool_failed_is_not_stored(manager: CacheManager) -> None:
    """The stream ends with a result, but a tool failed on the way: returned, not stored."""
    script = [USE_WEATHER.format("Oslo"), FINAL.format("No weather today.")]
    llm = StreamingLLM(model="gpt-4o", script=script)
    streaming = CrewAICacheAdapter(make_crew(llm, tools=[broken_weather]), manager).kickoff(
        inputs={"topic": "Oslo"}
    )
    list(streaming)
    assert streaming.result.raw == "No weather today."
    assert streaming.result.tool_failures

    again = StreamingLLM(model="gpt-4o", script=script)
    streaming = CrewAICacheAdapter(make_crew(again, tools=[broken_weather]), manager).kickoff(
        inputs={"topic": "Oslo"}
    )
    list(streaming)
    assert len(again.calls) == 2
