"""Claude Agent SDK adapter: a whole ``query()`` message stream, replayed for the same request.

``ClaudeAgentCacheAdapter(manager).query(prompt, options=...)`` is ``claude_agent_sdk.query``
with a cache in front: the first call streams the SDK's messages live (system, assistant,
user/tool-result and result messages, partial ``StreamEvent`` s when asked for) and keeps a
copy (through the shared run replay, a ``StreamingResponseCache`` underneath); an identical request
replays the same messages, same types and order, without starting Claude Code.

The key covers the prompt, the files the agent can see and every option that changes what
it does: working directory, tools (preset, allowed, disallowed), model and fallback model,
system prompt, permission mode, MCP servers (their configs; an in-process SDK server by name
and type), sub-agents, setting sources, extra directories, turn and budget limits, betas,
skills, sandbox, partial-message and hook-event streaming. Only streams that ran to their end are
stored, and never one whose ``ResultMessage`` reports an error. Messages are stored as plain
data naming their SDK dataclass and rebuilt only as ``claude_agent_sdk.types`` dataclasses,
whatever the manager's serializer.

Files: by default the content of every file under ``cwd`` (the process's working directory
when ``cwd`` is unset) and under each of ``add_dirs`` is part of the key, so a query misses
once a file the agent can read changed. The fingerprint skips ``.git``, virtual
environments, ``node_modules`` and tool caches, re-reads only files whose size or times
changed, runs in a worker thread (never on the event loop) and is bounded: a tree over
5,000 files or 64 MiB is not fingerprinted and its queries run live, uncached (logged
once). ``workspace=Workspace(include=("src/**/*.py", "pyproject.toml"))`` keys only the
files that matter (and lifts the bound's pressure), ``Workspace(max_files=...,
max_bytes=...)`` moves the bound, and ``workspace=False`` keys the paths only (the files are
then yours to account for, e.g. with a TTL).

Example:
    >>> from omnicache_ai import CacheManager
    >>> from omnicache_ai.adapters.claude_agent_adapter import ClaudeAgentCacheAdapter
    >>> adapter = ClaudeAgentCacheAdapter(CacheManager())
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any, Final

from omnicache_ai.adapters._plain import plain
from omnicache_ai.adapters._runs import RunReplay
from omnicache_ai.adapters._workspace import Workspace, WorkspaceFingerprint
from omnicache_ai.core.cache_manager import CacheManager

try:
    import claude_agent_sdk
    from claude_agent_sdk import types as sdk_types
    from claude_agent_sdk.types import ClaudeAgentOptions, Message, ResultMessage
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.claude_agent_adapter needs the Claude Agent SDK; "
        "install it with: pip install 'omnicache-ai[claude-agent]'"
    ) from err

__all__ = ["ClaudeAgentCacheAdapter", "Workspace"]

logger = logging.getLogger("omnicache_ai")

#: The options that change what a run does, in the order they are keyed.
KEYED_OPTIONS: Final = (
    "cwd",
    "tools",
    "allowed_tools",
    "disallowed_tools",
    "model",
    "fallback_model",
    "system_prompt",
    "permission_mode",
    "permission_prompt_tool_name",
    "mcp_servers",
    "strict_mcp_config",
    "agents",
    "setting_sources",
    "settings",
    "add_dirs",
    "max_turns",
    "max_budget_usd",
    "betas",
    "skills",
    "sandbox",
    "include_partial_messages",
    "include_hook_events",
    "forward_subagent_text",
)
# Options that continue an earlier session: its transcript decides the run, and the key
# cannot see it, so such queries always run live.
_SESSION_OPTIONS: Final = ("continue_conversation", "resume", "fork_session", "resume_session_at")

# The SDK's message and content-block dataclasses: the only classes a stored stream rebuilds.
_CLASSES: Final[dict[str, type[Any]]] = {
    name: obj
    for name, obj in vars(sdk_types).items()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj)
}
_TAG: Final = "__claude_sdk__"


def _encode(obj: Any) -> Any:
    """Plain data for a message, naming each SDK dataclass so it can be rebuilt."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        name = type(obj).__name__
        if _CLASSES.get(name) is type(obj):
            fields = {f.name: _encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
            return {_TAG: name, "fields": fields}
        return plain(obj)
    if isinstance(obj, dict):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode(v) for v in obj]
    return plain(obj)


def _decode(data: Any) -> Any:
    if isinstance(data, dict):
        name = data.get(_TAG)
        if isinstance(name, str) and name in _CLASSES:
            fields = {k: _decode(v) for k, v in data["fields"].items()}
            return _CLASSES[name](**fields)
        return {k: _decode(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_decode(v) for v in data]
    return data


def _mcp_spec(servers: Any) -> Any:
    if isinstance(servers, str | Path):
        return str(servers)  # a config file path
    spec: dict[str, Any] = {}
    for name, config in dict(servers).items():
        if isinstance(config, dict) and config.get("type") == "sdk":
            # An in-process server object: its name and type are all a key can hold.
            spec[name] = {"type": "sdk", "name": config.get("name")}
        else:
            spec[name] = plain(config)
    return spec


def _failed(message: Any) -> bool:
    """A run whose result says it failed is never stored."""
    return isinstance(message, ResultMessage) and message.is_error


class ClaudeAgentCacheAdapter:
    """``claude_agent_sdk.query`` with identical requests replayed from the cache.

    Args:
        manager: Where entries live.
        ttl: Seconds to live for each recorded stream.
        workspace: Which files under ``cwd`` and ``add_dirs`` are keyed: ``True`` (default)
            every file outside skipped folders, up to 5,000 files / 64 MiB; a
            :class:`Workspace` to choose globs and bounds; ``False`` to key the paths only.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> adapter = ClaudeAgentCacheAdapter(CacheManager())
        >>> key = adapter.cache_key("Fix the import error in utils.py",
        ...                         ClaudeAgentOptions(cwd="/repo", model="claude-sonnet-4-5"))
        >>> key == adapter.cache_key("Fix the import error in utils.py",
        ...                          ClaudeAgentOptions(cwd="/repo", model="claude-opus-4-1"))
        False
    """

    def __init__(
        self, manager: CacheManager, *, ttl: float | None = None, workspace: Workspace | bool = True
    ) -> None:
        self.manager = manager
        self.runs: RunReplay[Any] = RunReplay(manager, "claude-agent", ttl=ttl)
        if workspace is True:
            workspace = Workspace()
        if workspace is not False and not isinstance(workspace, Workspace):
            raise TypeError(f"workspace must be a Workspace or a bool, got {workspace!r}")
        self.workspace: Workspace | None = workspace or None
        self._prints = WorkspaceFingerprint(workspace) if workspace else None
        self._warned = False

    @staticmethod
    def _options(options: ClaudeAgentOptions | None) -> tuple[str, dict[str, Any]]:
        """``(model, context)`` of a query: the model and every keyed option, as plain data."""
        opts = options or ClaudeAgentOptions()
        params: dict[str, Any] = {}
        for name in KEYED_OPTIONS:
            value = getattr(opts, name, None)
            if name == "mcp_servers":
                value = _mcp_spec(value)
            elif name in {"cwd", "settings"} and value is not None:
                value = str(value)
            params[name] = plain(value)
        return opts.model or "default", params

    def _files(self, options: ClaudeAgentOptions | None) -> dict[str, Any] | None:
        """The fingerprint of the files the agent can see (``None``: over the bound).

        Reads the disk: async callers run it in a worker thread.
        """
        if self._prints is None or self.workspace is None:
            return {"workspace": False}
        opts = options or ClaudeAgentOptions()
        roots = [opts.cwd if opts.cwd is not None else os.getcwd(), *(opts.add_dirs or ())]
        digests = [self._prints.digest(root) for root in roots]
        if any(d is None for d in digests):
            if not self._warned:
                self._warned = True
                logger.warning(
                    "omnicache: Claude agent queries over %s run uncached: the folder tree "
                    "is over the fingerprint bound (%d files / %d bytes); pass "
                    "workspace=Workspace(include=[...globs...]) or larger bounds, or "
                    "workspace=False to key the paths only (logged once)",
                    ", ".join(str(r) for r in roots),
                    self.workspace.max_files,
                    self.workspace.max_bytes,
                )
            return None
        return {"settings": self.workspace.describe(), "trees": digests}

    def _request(self, options: ClaudeAgentOptions | None) -> tuple[str, dict[str, Any]] | None:
        """``(model, context)`` with the files' fingerprint; ``None`` when it cannot be keyed."""
        files = self._files(options)
        if files is None:
            return None
        model, context = self._options(options)
        context["files"] = files
        return model, context

    def cache_key(self, prompt: str, options: ClaudeAgentOptions | None = None) -> str | None:
        """The key a query is stored under (to debug misses); ``None``: it would not be cached.

        Reads the files under ``cwd`` (in this thread) like :meth:`query` does.
        """
        request = self._request(options)
        if request is None:
            return None
        model, context = request
        return self.runs.stream_key(model, prompt, context)

    @staticmethod
    def _live(options: ClaudeAgentOptions | None) -> bool:
        return options is not None and any(getattr(options, n, None) for n in _SESSION_OPTIONS)

    async def query(
        self,
        prompt: str | AsyncIterable[dict[str, Any]],
        *,
        options: ClaudeAgentOptions | None = None,
        transport: Any = None,
    ) -> AsyncIterator[Message]:
        """Stream ``claude_agent_sdk.query(prompt, options)``, or replay an identical one.

        Args:
            prompt: The prompt. A streamed prompt (an async iterable of messages) and options
                that resume or continue a session run live, uncached.
            options: The SDK's ``ClaudeAgentOptions``.
            transport: A custom SDK ``Transport`` for this call (used only on a miss).

        Yields:
            The SDK's messages (``SystemMessage``, ``AssistantMessage``, ``UserMessage``,
            ``ResultMessage``, ...), live or replayed.
        """
        if isinstance(prompt, str) and not prompt:
            raise ValueError("prompt must not be empty")
        request = None
        if isinstance(prompt, str) and not self._live(options):
            # The file fingerprint reads the disk: never on the event loop.
            request = await asyncio.to_thread(self._request, options)
        if request is None or not isinstance(prompt, str):
            async for message in claude_agent_sdk.query(
                prompt=prompt, options=options, transport=transport
            ):
                yield message
            return
        model, context = request
        async for message in self.runs.astream(
            model,
            prompt,
            context,
            lambda: claude_agent_sdk.query(prompt=prompt, options=options, transport=transport),
            encode=_encode,
            decode=_decode,
            refuse=_failed,
        ):
            yield message
