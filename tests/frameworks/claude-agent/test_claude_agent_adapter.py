"""The Claude Agent SDK adapter: query() message streams recorded once, replayed after."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from _ci import need

need("claude_agent_sdk", extra="claude-agent")

from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ResultMessage,
    SystemMessage,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    Transport,
    UserMessage,
)

from omnicache_ai import CacheManager, InMemoryBackend
from omnicache_ai.adapters.claude_agent_adapter import ClaudeAgentCacheAdapter


def assistant(*blocks: dict[str, Any]) -> dict[str, Any]:
    """An assistant turn in the CLI's stream-json form."""
    return {
        "type": "assistant",
        "message": {"role": "assistant", "model": "claude-test", "content": list(blocks)},
        "session_id": "s-1",
        "parent_tool_use_id": None,
    }


def result(text: str, *, is_error: bool = False) -> dict[str, Any]:
    """The closing result message."""
    return {
        "type": "result",
        "subtype": "error_during_execution" if is_error else "success",
        "duration_ms": 12,
        "duration_api_ms": 10,
        "is_error": is_error,
        "num_turns": 2,
        "session_id": "s-1",
        "result": text,
        "total_cost_usd": 0.0012,
        "usage": {"input_tokens": 30, "output_tokens": 7},
    }


def tool_run(answer: str = "Fixed the import") -> list[dict[str, Any]]:
    """A multi-step run: init, a Read tool call, its result, the answer, the result."""
    return [
        {"type": "system", "subtype": "init", "session_id": "s-1", "model": "claude-test"},
        assistant({"type": "tool_use", "id": "tu-1", "name": "Read", "input": {"path": "u.py"}}),
        {
            "type": "user",
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "tu-1", "content": "import x"}],
            },
            "parent_tool_use_id": None,
        },
        assistant({"type": "text", "text": answer}),
        result(answer),
    ]


class ScriptedTransport(Transport):
    """The CLI's side of the stream-json protocol, in process: answers `initialize`, then
    plays a scripted run for the prompt. Never starts Claude Code."""

    def __init__(self, script: list[dict[str, Any]]) -> None:
        self.script = script
        self.prompts: list[Any] = []
        self._out: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._ready = False

    async def connect(self) -> None:
        """Nothing to start."""
        self._ready = True

    async def write(self, data: str) -> None:
        """Answer control requests; a user message starts the scripted run."""
        for line in data.splitlines():
            msg = json.loads(line)
            if msg["type"] == "control_request":
                await self._out.put(
                    {
                        "type": "control_response",
                        "response": {
                            "subtype": "success",
                            "request_id": msg["request_id"],
                            "response": {},
                        },
                    }
                )
            elif msg["type"] == "user":
                self.prompts.append(msg["message"]["content"])
                for item in self.script:
                    await self._out.put(item)
                await self._out.put(None)

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        """What the CLI would print, until the run ends."""
        while (item := await self._out.get()) is not None:
            yield item

    async def close(self) -> None:
        """Stop reading."""
        self._ready = False
        self._out.put_nowait(None)

    def is_ready(self) -> bool:
        """Connected and not closed."""
        return self._ready

    async def end_input(self) -> None:
        """No stdin to close."""


@pytest.fixture
def manager() -> CacheManager:
    """A fresh in-memory manager per test."""
    return CacheManager(backend=InMemoryBackend())


OPTIONS = ClaudeAgentOptions(
    cwd="/repo",
    model="claude-sonnet-4-5",
    allowed_tools=["Read", "Edit"],
    system_prompt="You fix Python code",
    permission_mode="acceptEdits",
)


async def collect(
    adapter: ClaudeAgentCacheAdapter,
    transport: ScriptedTransport,
    prompt: str = "Fix the import error in utils.py",
    options: ClaudeAgentOptions = OPTIONS,
) -> list[Any]:
    """Every message of one adapter.query()."""
    return [m async for m in adapter.query(prompt, options=options, transport=transport)]


async def test_second_identical_query_is_replayed(manager: CacheManager) -> None:
    """The same prompt and options again: the transport is not used; same messages, same types."""
    adapter = ClaudeAgentCacheAdapter(manager)
    first_transport, second_transport = ScriptedTransport(tool_run()), ScriptedTransport([])
    live = await collect(adapter, first_transport)
    replay = await collect(adapter, second_transport)
    assert len(first_transport.prompts) == 1
    assert second_transport.prompts == []
    assert [type(m) for m in live] == [
        SystemMessage,
        AssistantMessage,
        UserMessage,
        AssistantMessage,
        ResultMessage,
    ]
    assert replay == live
    assert isinstance(replay[1].content[0], ToolUseBlock)
    assert isinstance(replay[2].content[0], ToolResultBlock)
    assert isinstance(replay[3].content[0], TextBlock)
    assert replay[-1].result == "Fixed the import"


def changed(option: str) -> ClaudeAgentOptions:
    """OPTIONS with one keyed option changed."""
    values: dict[str, Any] = {
        "cwd": "/other",
        "allowed_tools": ["Read"],
        "model": "claude-opus-4-1",
        "system_prompt": "You write tests",
        "permission_mode": "plan",
        "mcp_servers": {"docs": {"type": "stdio", "command": "docs-server"}},
    }
    fields = {
        "cwd": OPTIONS.cwd,
        "model": OPTIONS.model,
        "allowed_tools": OPTIONS.allowed_tools,
        "system_prompt": OPTIONS.system_prompt,
        "permission_mode": OPTIONS.permission_mode,
    }
    fields[option] = values[option]
    return ClaudeAgentOptions(**fields)


@pytest.mark.parametrize(
    "option",
    ["cwd", "allowed_tools", "model", "system_prompt", "permission_mode", "mcp_servers"],
)
async def test_a_changed_option_misses(manager: CacheManager, option: str) -> None:
    """Changing cwd, tools, model, system prompt, permission mode or MCP servers runs live."""
    adapter = ClaudeAgentCacheAdapter(manager)
    await collect(adapter, ScriptedTransport(tool_run()))
    transport = ScriptedTransport(tool_run("other answer"))
    messages = await collect(adapter, transport, options=changed(option))
    assert len(transport.prompts) == 1
    assert messages[-1].result == "other answer"


async def test_a_changed_prompt_misses(manager: CacheManager) -> None:
    """Another prompt runs live."""
    adapter = ClaudeAgentCacheAdapter(manager)
    await collect(adapter, ScriptedTransport(tool_run()))
    transport = ScriptedTransport(tool_run())
    await collect(adapter, transport, prompt="Fix the typo in main.py")
    assert len(transport.prompts) == 1


async def test_failed_runs_are_not_replayed(manager: CacheManager) -> None:
    """A run whose result is an error is streamed but never stored."""
    adapter = ClaudeAgentCacheAdapter(manager)
    failing = [*tool_run()[:-1], result("crashed", is_error=True)]
    await collect(adapter, ScriptedTransport(failing))
    transport = ScriptedTransport(tool_run())
    await collect(adapter, transport)
    assert len(transport.prompts) == 1


async def test_resumed_sessions_run_live(manager: CacheManager) -> None:
    """A query resuming a session is never answered from the cache."""
    adapter = ClaudeAgentCacheAdapter(manager)
    resumed = ClaudeAgentOptions(model="claude-sonnet-4-5", resume="s-1")
    for _ in range(2):
        transport = ScriptedTransport(tool_run())
        await collect(adapter, transport, options=resumed)
        assert len(transport.prompts) == 1


async def test_replay_is_a_stream(manager: CacheManager) -> None:
    """A consumer can stop a replay early, and the entry stays intact for the next one."""
    adapter = ClaudeAgentCacheAdapter(manager)
    await collect(adapter, ScriptedTransport(tool_run()))
    stream = adapter.query(
        "Fix the import error in utils.py", options=OPTIONS, transport=ScriptedTransport([])
    )
    first = await anext(stream)
    await stream.aclose()
    assert isinstance(first, SystemMessage)
    assert len(await collect(adapter, ScriptedTransport([]))) == 5


def test_cache_key_ignores_nothing_that_matters(manager: CacheManager) -> None:
    """Env and stderr callbacks do not change the key; the MCP server list does."""
    adapter = ClaudeAgentCacheAdapter(manager)
    base = adapter.cache_key("p", OPTIONS)
    same = ClaudeAgentOptions(**{**OPTIONS.__dict__, "env": {"X": "1"}, "stderr": print})
    assert adapter.cache_key("p", same) == base
    assert adapter.cache_key("p", changed("mcp_servers")) != base


async def test_a_cache_outage_never_breaks_a_query() -> None:
    """With the backend down, every query streams live."""
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    flaky.down = True
    adapter = ClaudeAgentCacheAdapter(CacheManager(backend=flaky))
    for _ in range(2):
        transport = ScriptedTransport(tool_run())
        assert (await collect(adapter, transport))[-1].result == "Fixed the import"
        assert len(transport.prompts) == 1
    assert flaky.failures > 0
