"""The Google ADK adapter: a model-call plugin, partial-stream replay and whole-run replay."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest

from _ci import need

need("google.adk", extra="google-adk")

from google.adk.agents import LlmAgent
from google.adk.agents.run_config import RunConfig, StreamingMode
from google.adk.apps import App
from google.adk.events import Event
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.adk.sessions import InMemorySessionService
from google.adk.tools.agent_tool import AgentTool
from google.genai import types
from pydantic import Field

from omnicache_ai import CacheManager, InMemoryBackend
from omnicache_ai.adapters.google_adk_adapter import (
    CachedLlm,
    GoogleADKCacheAdapter,
    GoogleADKCachePlugin,
)


class FakeLlm(BaseLlm):
    """An offline ADK model: answers from a script, counts its calls, streams word by word."""

    model: str = "fake-llm"
    script: list[Any] = Field(default_factory=list)
    calls: list[LlmRequest] = Field(default_factory=list)

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        """Pop the next scripted step: a text answer or a ``(tool, args)`` call."""
        self.calls.append(llm_request)
        step = self.script.pop(0)
        if isinstance(step, tuple):
            name, args = step
            part = types.Part(function_call=types.FunctionCall(name=name, args=args))
            yield LlmResponse(content=types.Content(role="model", parts=[part]))
            return
        if stream:
            for word in step.split(" "):
                yield LlmResponse(
                    content=types.Content(role="model", parts=[types.Part(text=word + " ")]),
                    partial=True,
                )
        yield LlmResponse(content=types.Content(role="model", parts=[types.Part(text=step)]))


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


@pytest.fixture
def manager() -> CacheManager:
    """A fresh in-memory manager per test."""
    return CacheManager(backend=InMemoryBackend())


def calc_agent(fake: FakeLlm, **changes: Any) -> LlmAgent:
    """A one-tool agent on the fake model."""
    fields: dict[str, Any] = {
        "name": "calc",
        "model": fake,
        "instruction": "Use the tool, answer briefly",
        "tools": [add],
    }
    fields.update(changes)
    return LlmAgent(**fields)


async def test_second_identical_run_is_replayed(manager: CacheManager) -> None:
    """arun() twice: the model is called for the first run only; events come back fresh."""
    fake = FakeLlm(script=[("add", {"a": 1, "b": 2}), "3"])
    cached = GoogleADKCacheAdapter(calc_agent(fake), manager)
    first = await cached.arun("1+2?")
    second = await cached.arun("1+2?")
    assert len(fake.calls) == 2
    assert all(isinstance(e, Event) for e in second)
    assert GoogleADKCacheAdapter.final_text(second) == GoogleADKCacheAdapter.final_text(first)
    assert GoogleADKCacheAdapter.final_text(second) == "3"
    assert [e.author for e in second] == [e.author for e in first]
    assert {e.id for e in second}.isdisjoint({e.id for e in first})
    calls = [e.get_function_calls() for e in second if e.get_function_calls()]
    assert calls[0][0].args == {"a": 1, "b": 2}


def test_sync_run_is_replayed(manager: CacheManager) -> None:
    """run() (sync) twice: one model call."""
    fake = FakeLlm(script=["Quarterly revenue rose"])
    cached = GoogleADKCacheAdapter(calc_agent(fake, tools=[]), manager)
    assert GoogleADKCacheAdapter.final_text(cached.run("Summarise")) == "Quarterly revenue rose"
    assert GoogleADKCacheAdapter.final_text(cached.run("Summarise")) == "Quarterly revenue rose"
    assert len(fake.calls) == 1


@pytest.mark.parametrize("change", ["instruction", "tool", "model", "message"])
async def test_a_changed_run_misses(manager: CacheManager, change: str) -> None:
    """A changed instruction, tool, model or message reaches the model again."""
    fake = FakeLlm(script=["one", "two"])
    await GoogleADKCacheAdapter(calc_agent(fake), manager).arun("hi")
    message = "hi"
    if change == "instruction":
        agent = calc_agent(fake, instruction="Answer at length")
    elif change == "tool":
        agent = calc_agent(fake, tools=[multiply])
    elif change == "model":
        fake.model = "fake-llm-2"
        agent = calc_agent(fake)
    else:
        agent, message = calc_agent(fake), "hello"
    events = await GoogleADKCacheAdapter(agent, manager).arun(message)
    assert GoogleADKCacheAdapter.final_text(events) == "two"
    assert len(fake.calls) == 2


# ADK's own AgentTool hands the parent's plugins to its inner Runner through the deprecated
# runner-level `plugins=` argument; we register ours on the App as ADK asks.
@pytest.mark.filterwarnings("ignore:The `plugins` argument is deprecated:DeprecationWarning")
async def test_plugin_serves_a_repeated_model_call_inside_one_run(manager: CacheManager) -> None:
    """One run asks a helper agent (an AgentTool) the same thing twice: one helper model call."""
    helper_fake = FakeLlm(model="helper", script=["Paris"])  # a second call would fail
    helper = LlmAgent(name="geo", model=helper_fake, instruction="Answer with a city")
    lead_fake = FakeLlm(
        model="lead",
        script=[
            ("geo", {"request": "Capital of France?"}),
            ("geo", {"request": "Capital of France?"}),
            "Paris, twice",
        ],
    )
    lead = LlmAgent(
        name="lead", model=lead_fake, instruction="Use the tool", tools=[AgentTool(helper)]
    )
    plugin = GoogleADKCachePlugin(manager)
    sessions = InMemorySessionService()
    runner = Runner(app=App(name="t", root_agent=lead, plugins=[plugin]), session_service=sessions)
    session = await sessions.create_session(app_name="t", user_id="u")
    message = types.Content(role="user", parts=[types.Part(text="Check twice")])
    events = [
        e async for e in runner.run_async(user_id="u", session_id=session.id, new_message=message)
    ]
    answers = [r.response for e in events for r in e.get_function_responses() if r.name == "geo"]
    assert len(answers) == 2
    assert answers[0] == answers[1]
    assert len(lead_fake.calls) == 3
    assert len(helper_fake.calls) == 1


async def test_plugin_never_stores_partials_or_errors(manager: CacheManager) -> None:
    """after_model_callback stores final responses only."""
    plugin = GoogleADKCachePlugin(manager)
    request = LlmRequest(
        model="m", contents=[types.Content(role="user", parts=[types.Part(text="hi")])]
    )

    class Ctx:
        invocation_id = "inv"
        agent_name = "a"

    ctx: Any = Ctx()
    assert await plugin.before_model_callback(callback_context=ctx, llm_request=request) is None
    partial = LlmResponse(
        content=types.Content(role="model", parts=[types.Part(text="h")]), partial=True
    )
    await plugin.after_model_callback(callback_context=ctx, llm_response=partial)
    await plugin.after_model_callback(
        callback_context=ctx, llm_response=LlmResponse(error_code="500", error_message="boom")
    )
    assert await plugin.before_model_callback(callback_context=ctx, llm_request=request) is None
    final = LlmResponse(content=types.Content(role="model", parts=[types.Part(text="hello")]))
    await plugin.after_model_callback(callback_context=ctx, llm_response=final)
    hit = await plugin.before_model_callback(callback_context=ctx, llm_request=request)
    assert hit is not None
    assert hit.content == final.content


async def test_streamed_run_replays_partial_events(manager: CacheManager) -> None:
    """SSE streaming through CachedLlm: the second run replays the same partial events."""
    fake = FakeLlm(script=["The answer is four"])
    agent = LlmAgent(name="s", model=CachedLlm.wrap(fake, manager), instruction="Be brief")
    sessions = InMemorySessionService()
    runner = Runner(app=App(name="t", root_agent=agent), session_service=sessions)
    config = RunConfig(streaming_mode=StreamingMode.SSE)

    async def run() -> list[tuple[bool, str]]:
        session = await sessions.create_session(app_name="t", user_id="u")
        message = types.Content(role="user", parts=[types.Part(text="2+2?")])
        return [
            (bool(e.partial), e.content.parts[0].text or "")
            async for e in runner.run_async(
                user_id="u", session_id=session.id, new_message=message, run_config=config
            )
            if e.content and e.content.parts
        ]

    live = await run()
    replay = await run()
    assert len(fake.calls) == 1
    assert replay == live
    assert sum(partial for partial, _ in replay) == 4
    assert replay[-1] == (False, "The answer is four")


async def test_cached_llm_non_streamed_call(manager: CacheManager) -> None:
    """CachedLlm without streaming: one final response, cached."""
    fake = FakeLlm(script=["hello"])
    llm = CachedLlm.wrap(fake, manager)
    request = LlmRequest(
        model="fake-llm", contents=[types.Content(role="user", parts=[types.Part(text="hi")])]
    )
    for _ in range(2):
        out = [r async for r in llm.generate_content_async(request)]
        assert out[0].content is not None
        assert out[0].content.parts is not None
        assert out[0].content.parts[0].text == "hello"
    assert len(fake.calls) == 1


def test_bad_agent_is_refused(manager: CacheManager) -> None:
    """Passing something that is not an ADK agent names the problem."""
    with pytest.raises(TypeError, match="BaseAgent"):
        GoogleADKCacheAdapter("agent", manager)  # type: ignore[arg-type]


async def test_a_cache_outage_never_breaks_a_run() -> None:
    """With the backend down, the plugin and the run wrapper fall through to the model."""
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    flaky.down = True
    fake = FakeLlm(script=["hello", "hello"])
    cached = GoogleADKCacheAdapter(calc_agent(fake, tools=[]), CacheManager(backend=flaky))
    for _ in range(2):
        assert GoogleADKCacheAdapter.final_text(await cached.arun("hi")) == "hello"
    assert len(fake.calls) == 2
    assert flaky.failures > 0
