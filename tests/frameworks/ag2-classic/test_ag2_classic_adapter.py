"""The AG2 classic adapter (ag2 0.x, module ``autogen``): ``cache=`` and ``generate_reply``.

The offline fake is a custom ``ModelClient`` registered on the agent
(``register_model_client``): it answers from a script and records every request it gets.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import pytest

from _ci import need

need("autogen", extra="ag2-classic")

from autogen import ConversableAgent

from omnicache_ai import CacheManager, InMemoryBackend
from omnicache_ai.adapters.ag2_classic_adapter import AG2ClassicCache, AG2ClassicCacheAdapter


class ScriptedClient:
    """A ``ModelClient``: answers with the next scripted turn, records each request.

    A turn is a text or a message dict (an assistant message with ``tool_calls``).
    """

    def __init__(
        self, config: dict[str, Any], *, script: Iterator[str | dict[str, Any]], calls: list[Any]
    ) -> None:
        self.model = config["model"]
        self.script = script
        self.calls = calls

    def create(self, params: dict[str, Any]) -> Any:
        self.calls.append(params)
        turn = next(self.script)
        fields = turn if isinstance(turn, dict) else {"content": turn, "tool_calls": None}
        message = types.SimpleNamespace(**fields)
        choice = types.SimpleNamespace(message=message, finish_reason="stop")
        # AG2 finds the client's message_retrieval for a response by its id.
        response_id = f"{self.model}-{len(self.calls)}"
        return types.SimpleNamespace(id=response_id, choices=[choice], model=self.model, cost=0.0)

    def message_retrieval(self, response: Any) -> list[Any]:
        out: list[Any] = []
        for choice in response.choices:
            message = choice.message
            if getattr(message, "tool_calls", None):
                calls = message.tool_calls
                out.append({"role": "assistant", "content": message.content, "tool_calls": calls})
            else:
                out.append(message.content)
        return out

    def cost(self, response: Any) -> float:
        return 0.0

    @staticmethod
    def get_usage(response: Any) -> dict[str, Any]:
        return {"model": response.model, "cost": 0.0}


def tool_turn(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """A scripted assistant turn that calls one tool."""
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    return {"content": None, "tool_calls": [call]}


def assistant(
    *answers: str | dict[str, Any],
    system: str = "You are terse.",
    model: str = "fake-1",
    tools: list[dict[str, Any]] | None = None,
) -> tuple[ConversableAgent, list[Any]]:
    """An LLM agent on the scripted client, and the list its requests land in."""
    entry: dict[str, Any] = {"model": model, "model_client_cls": "ScriptedClient"}
    llm_config: dict[str, Any] = {"config_list": [entry]}
    if tools:
        llm_config["tools"] = tools
    agent = ConversableAgent(
        "assistant", system_message=system, llm_config=llm_config, human_input_mode="NEVER"
    )
    calls: list[Any] = []
    agent.register_model_client(ScriptedClient, script=iter(answers), calls=calls)
    return agent, calls


TOOL = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}
ASK = [{"role": "user", "content": "What is 2+3?"}]


@pytest.fixture
def manager() -> CacheManager:
    """A fresh in-memory manager per test."""
    return CacheManager(backend=InMemoryBackend())


def test_generate_reply_is_replayed(manager: CacheManager) -> None:
    """The README form: AutoGenCacheAdapter(ConversableAgent, m).generate_reply replays."""
    from omnicache_ai.adapters.autogen_adapter import AutoGenCacheAdapter

    agent, calls = assistant("5")
    cached = AutoGenCacheAdapter(agent, manager)
    assert isinstance(cached, AG2ClassicCacheAdapter)
    assert cached.generate_reply(messages=ASK) == "5"
    again, again_calls = assistant("never")
    assert AutoGenCacheAdapter(again, manager).generate_reply(messages=ASK) == "5"
    assert len(calls) == 1
    assert again_calls == []


async def test_a_generate_reply_is_replayed(manager: CacheManager) -> None:
    """The async twin replays too (the model call runs where AG2 puts it)."""
    agent, calls = assistant("5")
    cached = AG2ClassicCacheAdapter(agent, manager)
    assert await cached.a_generate_reply(messages=ASK) == "5"
    assert await cached.a_generate_reply(messages=ASK) == "5"
    assert len(calls) == 1


@pytest.mark.parametrize("change", ["system", "model", "tools", "messages"])
def test_a_changed_reply_misses(manager: CacheManager, change: str) -> None:
    """A changed system message, model, tool schema or conversation reaches the model."""
    first, _ = assistant("5")
    AG2ClassicCacheAdapter(first, manager).generate_reply(messages=ASK)
    agent, calls = assistant(
        "five",
        system="You are chatty." if change == "system" else "You are terse.",
        model="fake-2" if change == "model" else "fake-1",
        tools=[TOOL] if change == "tools" else None,
    )
    ask = [{"role": "user", "content": "What is 3+2?"}] if change == "messages" else ASK
    assert AG2ClassicCacheAdapter(agent, manager).generate_reply(messages=ask) == "five"
    assert len(calls) == 1


def test_abstract_cache_serves_model_calls_in_a_chat(manager: CacheManager) -> None:
    """AG2ClassicCache as ``cache=``: a second identical chat makes no model call."""
    cache = AG2ClassicCache(manager)

    def chat(answers: tuple[str, ...]) -> tuple[list[str], list[Any]]:
        agent, calls = assistant(*answers)
        user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
        result = user.initiate_chat(agent, message="Hi", max_turns=1, cache=cache, silent=True)
        return [m["content"] for m in result.chat_history], calls

    history, calls = chat(("Hello!",))
    assert history == ["Hi", "Hello!"]
    assert len(calls) == 1
    history, calls = chat(("never",))
    assert history == ["Hi", "Hello!"]
    assert calls == []


GEO_TOOL = {
    "type": "function",
    "function": {
        "name": "ask_geo",
        "description": "Ask the geography agent.",
        "parameters": {
            "type": "object",
            "properties": {"question": {"type": "string"}},
            "required": ["question"],
        },
    },
}


def test_cache_serves_a_repeated_model_call_inside_one_chat(manager: CacheManager) -> None:
    """One multi-step chat calls a tool that asks a helper agent the same question twice."""
    helper, helper_calls = assistant("Paris", "never")  # a second model call says "never"
    helper.client_cache = AG2ClassicCache(manager)

    def ask_geo(question: str) -> str:
        return str(helper.generate_reply(messages=[{"role": "user", "content": question}]))

    args = '{"question": "Capital of France?"}'
    lead, lead_calls = assistant(
        tool_turn("c1", "ask_geo", args),
        tool_turn("c2", "ask_geo", args),
        "Paris, twice.",
        tools=[GEO_TOOL],
    )
    executor = ConversableAgent("executor", llm_config=False, human_input_mode="NEVER")
    executor.register_function(function_map={"ask_geo": ask_geo})
    result = executor.initiate_chat(lead, message="Check twice", max_turns=3, silent=True)
    tool_outputs = [
        r["content"] for m in result.chat_history for r in m.get("tool_responses") or []
    ]
    assert tool_outputs == ["Paris", "Paris"]
    assert result.chat_history[-1]["content"] == "Paris, twice."
    assert len(lead_calls) == 3
    assert len(helper_calls) == 1  # the repeated helper call was served by the cache


def test_second_identical_tool_chat_makes_no_model_call(manager: CacheManager) -> None:
    """A tool-using chat through ``cache=``, run twice: the second makes no model call."""
    cache = AG2ClassicCache(manager)

    def add(a: int, b: int) -> int:
        return a + b

    def chat(*turns: str | dict[str, Any]) -> tuple[list[Any], list[Any]]:
        lead, calls = assistant(*turns, tools=[TOOL])
        executor = ConversableAgent("executor", llm_config=False, human_input_mode="NEVER")
        executor.register_function(function_map={"add": add})
        result = executor.initiate_chat(
            lead, message="What is 2+3?", max_turns=2, cache=cache, silent=True
        )
        return [m.get("content") for m in result.chat_history], calls

    live, calls = chat(tool_turn("c1", "add", '{"a": 2, "b": 3}'), "It is 5.")
    assert len(calls) == 2
    replay, replay_calls = chat("never", "never")
    assert replay == live
    assert "It is 5." in replay
    assert replay_calls == []


def test_abstract_cache_keys_are_the_whole_request(manager: CacheManager) -> None:
    """AG2's own dict key covers model and messages: a changed model misses."""
    cache = AG2ClassicCache(manager)
    agent, calls = assistant("one")
    agent.client_cache = cache
    assert agent.generate_reply(messages=ASK) == "one"
    other, other_calls = assistant("two", model="fake-2")
    other.client_cache = cache
    assert other.generate_reply(messages=ASK) == "two"
    same, same_calls = assistant("never")
    same.client_cache = cache
    assert same.generate_reply(messages=ASK) == "one"
    assert (len(calls), len(other_calls), len(same_calls)) == (1, 1, 0)


def test_abstract_cache_values_round_trip_safely(manager: CacheManager) -> None:
    """SimpleNamespace responses come back as SimpleNamespace; unsafe types are not stored."""
    cache = AG2ClassicCache(manager)
    response = types.SimpleNamespace(
        choices=[types.SimpleNamespace(message=types.SimpleNamespace(content="x"))], cost=0.5
    )
    key = {"model": "m", "messages": ASK}
    cache.set(key, response)
    back = cache.get(key)
    assert isinstance(back, types.SimpleNamespace)
    assert back.choices[0].message.content == "x"
    assert back.cost == 0.5

    class Opaque:
        pass

    cache.set({"model": "m", "messages": []}, Opaque())
    assert cache.get({"model": "m", "messages": []}, "absent") == "absent"
    with pytest.raises(TypeError, match="non-empty"):
        cache.get({})


def test_a_cache_outage_never_breaks_a_reply() -> None:
    """With the backend down, replies come from the model and succeed."""
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    flaky.down = True
    manager = CacheManager(backend=flaky)
    agent, calls = assistant("5", "5")
    agent.client_cache = AG2ClassicCache(manager)
    cached = AG2ClassicCacheAdapter(agent, manager)
    assert [cached.generate_reply(messages=ASK) for _ in range(2)] == ["5", "5"]
    assert len(calls) == 2
    assert flaky.failures > 0


def test_bad_agent_is_refused(manager: CacheManager) -> None:
    """Not a ConversableAgent: a clear TypeError."""
    with pytest.raises(TypeError, match="ConversableAgent"):
        AG2ClassicCacheAdapter("not an agent", manager)


def test_autogen_name_falls_back_to_ag2_classic_without_agentchat() -> None:
    """With only [ag2-classic] (no autogen-agentchat), the package's AutoGenCacheAdapter is ours."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['autogen_agentchat'] = None\n"
        "from omnicache_ai.adapters import AutoGenCacheAdapter\n"
        "print(AutoGenCacheAdapter.__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "AG2ClassicCacheAdapter"
