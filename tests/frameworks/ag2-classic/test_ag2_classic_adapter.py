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
    """A ``ModelClient``: answers with the next scripted text, records each request."""

    def __init__(self, config: dict[str, Any], *, script: Iterator[str], calls: list[Any]) -> None:
        self.model = config["model"]
        self.script = script
        self.calls = calls

    def create(self, params: dict[str, Any]) -> Any:
        self.calls.append(params)
        message = types.SimpleNamespace(content=next(self.script), tool_calls=None)
        choice = types.SimpleNamespace(message=message, finish_reason="stop")
        return types.SimpleNamespace(choices=[choice], model=self.model, cost=0.0)

    def message_retrieval(self, response: Any) -> list[str]:
        return [c.message.content for c in response.choices]

    def cost(self, response: Any) -> float:
        return 0.0

    @staticmethod
    def get_usage(response: Any) -> dict[str, Any]:
        return {"model": response.model, "cost": 0.0}


def assistant(
    *answers: str,
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
