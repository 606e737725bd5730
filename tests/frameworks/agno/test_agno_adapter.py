"""Agno adapter: whole-run replay (plain and streamed) and the caching model, on real Agno agents.

The model is Agno's own ``OpenAIChat`` over an ``httpx.MockTransport`` that answers from a
script of OpenAI chat-completion payloads; every test counts the requests that reach it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from _ci import need

need("agno", extra="agno")
need("openai", extra="agno")

import httpx
from agno.agent import Agent
from agno.models.openai import OpenAIChat
from agno.run.agent import RunContentEvent, RunOutput
from agno.run.base import RunStatus

from omnicache_ai import CacheKeyBuilder, CacheManager, DiskBackend
from omnicache_ai.adapters.agno_adapter import AgnoCacheAdapter, CachedAgnoModel

WEATHER_CALLS: list[str] = []


def get_weather(city: str) -> str:
    """Tell the weather in a city.

    Args:
        city: The city.
    """
    WEATHER_CALLS.append(city)
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """Tell the local time in a city.

    Args:
        city: The city.
    """
    return f"noon in {city}"


def text(content: str) -> dict[str, Any]:
    """A chat-completion payload answering ``content``."""
    return {"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}


def tool_call(city: str) -> dict[str, Any]:
    """A chat-completion payload calling the weather tool."""
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
    }
    return {
        "message": {"role": "assistant", "content": None, "tool_calls": [call]},
        "finish_reason": "tool_calls",
    }


class FakeOpenAI:
    """An OpenAI-compatible endpoint over httpx.MockTransport answering from a script."""

    def __init__(self, script: list[dict[str, Any]]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []

    def _next(self, request: httpx.Request) -> dict[str, Any]:
        body = json.loads(request.content)
        self.requests.append(body)
        if len(self.requests) > len(self.script):
            raise AssertionError(f"unexpected model call #{len(self.requests)}")
        return body | {"answer": self.script[len(self.requests) - 1]}

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request: a JSON completion, or an SSE stream when asked to stream."""
        call = self._next(request)
        answer = call["answer"]
        if call.get("stream"):
            return httpx.Response(200, headers={"content-type": "text/event-stream"},
                                  content=_sse(answer))  # fmt: skip
        payload = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": call["model"],
            "choices": [{"index": 0, **answer}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
        }
        return httpx.Response(200, json=payload)

    def model(self, model_id: str = "gpt-4o", *, is_async: bool = False) -> OpenAIChat:
        """An OpenAIChat whose HTTP client talks to this fake."""
        transport = httpx.MockTransport(self.handle)
        client: Any = (
            httpx.AsyncClient(transport=transport)
            if is_async
            else httpx.Client(transport=transport)
        )
        return OpenAIChat(id=model_id, api_key="sk-test", http_client=client)


def _sse(answer: dict[str, Any]) -> bytes:
    words = (answer["message"]["content"] or "").split(" ")
    pieces = [w + " " for w in words[:-1]] + words[-1:]
    chunks: list[dict[str, Any]] = [
        {"index": 0, "delta": {"role": "assistant", "content": p}, "finish_reason": None}
        for p in pieces
    ]
    chunks.append({"index": 0, "delta": {}, "finish_reason": answer["finish_reason"]})
    lines = [
        "data: " + json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1,
                               "model": "gpt-4o", "choices": [c]})
        for c in chunks
    ]  # fmt: skip
    return ("\n\n".join([*lines, "data: [DONE]"]) + "\n\n").encode()


@pytest.fixture
def manager(tmp_path: Path) -> CacheManager:
    """A manager over a disk backend, so every entry goes through the serializer."""
    WEATHER_CALLS.clear()
    return CacheManager(backend=DiskBackend(tmp_path / "disk"), key_builder=CacheKeyBuilder("t"))


def make_agent(
    model: Any,
    *,
    instructions: str = "Be terse.",
    tools: list[Callable[..., Any]] | None = None,
) -> Agent:
    """An Agno agent with telemetry off (also off by AGNO_TELEMETRY in the conftest)."""
    return Agent(model=model, instructions=instructions, tools=tools or [], telemetry=False)


def test_second_identical_run_is_replayed_without_the_model(manager: CacheManager) -> None:
    """A fresh agent with the same config and input gets the stored RunOutput, no request."""
    first_fake = FakeOpenAI([text("Paris.")])
    first = AgnoCacheAdapter(make_agent(first_fake.model()), manager).run("Capital of France?")
    assert (first.content, len(first_fake.requests)) == ("Paris.", 1)

    again_fake = FakeOpenAI([])
    again = AgnoCacheAdapter(make_agent(again_fake.model()), manager).run("Capital of France?")
    assert again_fake.requests == []
    assert isinstance(again, RunOutput)
    assert again.content == "Paris."
    assert [m.role for m in again.messages or []] == [m.role for m in first.messages or []]


async def test_arun_replays_too(manager: CacheManager) -> None:
    """arun shares the logic: a second identical async run sends no request."""
    fake = FakeOpenAI([text("4")])
    agent = make_agent(fake.model(is_async=True))
    assert (await AgnoCacheAdapter(agent, manager).arun("2+2?")).content == "4"
    again = FakeOpenAI([])
    result = await AgnoCacheAdapter(make_agent(again.model(is_async=True)), manager).arun("2+2?")
    assert (result.content, again.requests) == ("4", [])


@pytest.mark.parametrize(
    "change",
    [{"instructions": "Be verbose."}, {"model": "gpt-4.1"}, {"tools": [get_time]}],
    ids=["instruction", "model", "tool"],
)
def test_a_changed_instruction_model_or_tool_misses(
    manager: CacheManager, change: dict[str, Any]
) -> None:
    """Changing the instructions, the model or a tool sends the request again."""
    base = FakeOpenAI([text("Sunny.")])
    AgnoCacheAdapter(make_agent(base.model(), tools=[get_weather]), manager).run("Oslo?")
    fake = FakeOpenAI([text("Again.")])
    agent = make_agent(
        fake.model(change.get("model", "gpt-4o")),
        instructions=change.get("instructions", "Be terse."),
        tools=change.get("tools", [get_weather]),
    )
    result = AgnoCacheAdapter(agent, manager).run("Oslo?")
    assert (result.content, len(fake.requests)) == ("Again.", 1)


def test_streamed_run_is_replayed_as_the_same_events(manager: CacheManager) -> None:
    """stream=True streams live once, then replays the same event types and text."""
    fake = FakeOpenAI([text("Hello there friend")])
    live = list(AgnoCacheAdapter(make_agent(fake.model()), manager).run("Hi", stream=True))
    again_fake = FakeOpenAI([])
    replayed = list(
        AgnoCacheAdapter(make_agent(again_fake.model()), manager).run("Hi", stream=True)
    )
    assert again_fake.requests == []
    assert [type(e) for e in replayed] == [type(e) for e in live]
    words = [e.content for e in replayed if isinstance(e, RunContentEvent) and e.content]
    assert "".join(words) == "Hello there friend"


async def test_async_streamed_run_is_replayed(manager: CacheManager) -> None:
    """arun(stream=True) replays the stored events without a request."""
    fake = FakeOpenAI([text("One two")])
    adapter = AgnoCacheAdapter(make_agent(fake.model(is_async=True)), manager)
    live = [e async for e in await adapter.arun("Count", stream=True)]
    again = FakeOpenAI([])
    adapter2 = AgnoCacheAdapter(make_agent(again.model(is_async=True)), manager)
    replayed = [e async for e in await adapter2.arun("Count", stream=True)]
    assert ([type(e) for e in replayed], again.requests) == ([type(e) for e in live], [])


def test_model_calls_of_a_tool_run_are_served_by_the_hook(manager: CacheManager) -> None:
    """Each provider call of a tool run is cached; a repeat sends 0 requests, tools still run."""
    fake = FakeOpenAI([tool_call("Oslo"), text("Sunny in Oslo.")])
    model = CachedAgnoModel.wrap(fake.model(), manager)
    first = make_agent(model, tools=[get_weather]).run("Weather in Oslo?")
    assert (first.content, len(fake.requests), WEATHER_CALLS) == ("Sunny in Oslo.", 2, ["Oslo"])

    again = FakeOpenAI([])
    second = make_agent(CachedAgnoModel.wrap(again.model(), manager), tools=[get_weather]).run(
        "Weather in Oslo?"
    )
    assert (second.content, again.requests) == ("Sunny in Oslo.", [])
    assert WEATHER_CALLS == ["Oslo", "Oslo"]


def test_hook_serves_the_repeated_step_and_calls_the_model_for_the_new_one(
    manager: CacheManager,
) -> None:
    """Same first call (served), a different tool result: only the second call is sent."""
    fake = FakeOpenAI([tool_call("Oslo"), text("Sunny in Oslo.")])
    make_agent(CachedAgnoModel.wrap(fake.model(), manager), tools=[get_weather]).run("Oslo?")

    def rainy(city: str) -> str:
        """Tell the weather in a city.

        Args:
            city: The city.
        """
        return f"rain in {city}"

    rainy.__name__ = "get_weather"
    other = FakeOpenAI([text("Rain in Oslo.")])
    result = make_agent(CachedAgnoModel.wrap(other.model(), manager), tools=[rainy]).run("Oslo?")
    assert (result.content, len(other.requests)) == ("Rain in Oslo.", 1)


def test_hook_replays_a_streamed_model_call(manager: CacheManager) -> None:
    """A streaming agent over the cached model: the second run streams from the cache."""
    fake = FakeOpenAI([text("a b c")])
    events = list(make_agent(CachedAgnoModel.wrap(fake.model(), manager)).run("x", stream=True))
    again = FakeOpenAI([])
    replayed = list(make_agent(CachedAgnoModel.wrap(again.model(), manager)).run("x", stream=True))
    assert again.requests == []

    def text_of(evts: list[Any]) -> str:
        return "".join(e.content for e in evts if isinstance(e, RunContentEvent) and e.content)

    assert text_of(replayed) == text_of(events) == "a b c"


def test_hook_key_holds_the_model_settings(manager: CacheManager) -> None:
    """A different temperature is a different call."""
    fake = FakeOpenAI([text("one"), text("two")])
    cool = CachedAgnoModel.wrap(fake.model(), manager)
    assert make_agent(cool).run("q").content == "one"
    warm = fake.model()
    warm.temperature = 0.9
    assert make_agent(CachedAgnoModel.wrap(warm, manager)).run("q").content == "two"
    assert len(fake.requests) == 2


def test_errored_runs_are_not_stored(manager: CacheManager) -> None:
    """A run whose model call fails (Agno returns status ERROR) is not stored nor replayed."""

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": "bad request", "type": "x"}})

    model = OpenAIChat(
        id="gpt-4o",
        api_key="sk-test",
        http_client=httpx.Client(transport=httpx.MockTransport(broken)),
    )
    failed = AgnoCacheAdapter(make_agent(model), manager).run("q")
    assert failed.status == RunStatus.error
    fake = FakeOpenAI([text("fine")])
    assert AgnoCacheAdapter(make_agent(fake.model()), manager).run("q").content == "fine"


def test_adapter_rejects_what_is_not_an_agent(manager: CacheManager) -> None:
    """A clear TypeError when the first argument is not an Agno agent."""
    with pytest.raises(TypeError, match="agno Agent"):
        AgnoCacheAdapter(object(), manager)  # type: ignore[arg-type]


def test_prior_session_messages_are_part_of_the_key(manager: CacheManager) -> None:
    """With history on, the same input after an earlier turn is a new run; a fresh session hits."""
    from agno.db.in_memory import InMemoryDb

    fake = FakeOpenAI([text("Hello."), text("Hello again.")])
    agent = Agent(model=fake.model(), db=InMemoryDb(), add_history_to_context=True, telemetry=False)
    adapter = AgnoCacheAdapter(agent, manager)
    assert adapter.run("hi", session_id="s1").content == "Hello."
    # Same session, same input, one more turn of history: the model is asked again.
    assert adapter.run("hi", session_id="s1").content == "Hello again."
    assert len(fake.requests) == 2
    # A fresh session has the first turn's (empty) history: replayed.
    assert adapter.run("hi", session_id="s2").content == "Hello."
    assert len(fake.requests) == 2


def test_a_cache_outage_is_a_miss_not_an_error() -> None:
    """With the backend down, the run and its model calls still go through and succeed."""
    from omnicache_ai import InMemoryBackend
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    flaky.down = True
    manager = CacheManager(backend=flaky)
    fake = FakeOpenAI([text("Still works.")])
    agent = make_agent(CachedAgnoModel.wrap(fake.model(), manager))
    result = AgnoCacheAdapter(agent, manager).run("q")
    assert (result.content, len(fake.requests)) == ("Still works.", 1)
    assert flaky.failures > 0
