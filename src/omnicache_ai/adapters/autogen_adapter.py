"""AutoGen adapter (``autogen-agentchat`` / ``autogen-core`` / ``autogen-ext`` 0.7).

Three pieces, from the coarsest to the finest:

* :class:`AutoGenCacheAdapter` replays a whole ``agent.run(task=...)``: the ``TaskResult``
  comes back, and the agent's state (its model context) is moved to where the live run left it,
  so the next turn continues exactly as it would have. The key holds everything that changes
  the run: the agent's type, name, description, system message, tool schemas, handoffs,
  model and client settings, run options, its state before the run (prior turns) and the task
  (message ids and timestamps left out). ``run_stream(task=...)`` does the same for
  ``agent.run_stream``: a miss streams the agent's (or team's) events live and records them; an
  identical run replays the same events and messages, then the ``TaskResult``. Only a stream
  that ran to its ``TaskResult`` is stored (not one the consumer left early or that raised).
* :class:`CachedChatCompletionClient` wraps any ``ChatCompletionClient``: each model call of a
  multi-step run (tool calls included) is answered from
  :class:`~omnicache_ai.layers.response_cache.ResponseCache` /
  :class:`~omnicache_ai.layers.streaming_cache.StreamingResponseCache` through the manager's
  async API. Its key holds the model, the messages, the tool schemas, ``tool_choice``,
  ``json_output``, ``extra_create_args`` and the client's own create settings; AutoGen's
  ``ChatCompletionCache`` leaves the model and ``tool_choice`` out.
* :class:`AutoGenCacheStore` is an ``autogen_core.CacheStore`` over the manager, for users of
  ``autogen_ext.models.cache.ChatCompletionCache``. ``CacheStore.get``/``set`` are synchronous
  and ``ChatCompletionCache`` calls them on the event loop, so each call blocks the loop for
  one backend round trip: fine for the memory or disk backend, not for a slow remote one. Use
  :class:`CachedChatCompletionClient` there: it awaits the async manager and never blocks.

Example:
    >>> from omnicache_ai import CacheManager
    >>> from autogen_agentchat.agents import AssistantAgent
    >>> from autogen_ext.models.replay import ReplayChatCompletionClient
    >>> manager = CacheManager()
    >>> model = CachedChatCompletionClient(ReplayChatCompletionClient(["4"]), manager)
    >>> agent = AssistantAgent("assistant", model_client=model)
    >>> cached = AutoGenCacheAdapter(agent, manager)
    >>> cached.run("What is 2+2?").messages[-1].content
    '4'
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias

from omnicache_ai.adapters._runs import RunCodec, RunReplay
from omnicache_ai.core.cache_manager import MISSING, CacheManager
from omnicache_ai.layers._admit import Uncacheable
from omnicache_ai.layers.response_cache import ResponseCache
from omnicache_ai.layers.streaming_cache import StreamingResponseCache

try:
    from autogen_agentchat.base import TaskResult
    from autogen_agentchat.messages import BaseAgentEvent, BaseChatMessage, MessageFactory
    from autogen_core import CacheStore, CancellationToken
    from autogen_core.models import (
        ChatCompletionClient,
        CreateResult,
        LLMMessage,
        ModelCapabilities,
        ModelInfo,
        RequestUsage,
    )
    from autogen_core.tools import Tool, ToolSchema
    from pydantic import BaseModel
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.autogen_adapter needs autogen-agentchat, autogen-core and "
        "autogen-ext 0.7; install it with: pip install 'omnicache-ai[autogen]'"
    ) from err

__all__ = ["AutoGenCacheAdapter", "AutoGenCacheStore", "CachedChatCompletionClient"]

#: Key type segment of the entries AutoGenCacheStore writes.
STORE_KEY_TYPE: Final = "autogen-store"
_VOLATILE: Final = frozenset({"id", "created_at"})
_UNFINISHED: Final = frozenset({"length", "content_filter"})
_ToolChoice: TypeAlias = "Tool | Literal['auto', 'required', 'none']"
_NO_ARGS: Final[Mapping[str, Any]] = MappingProxyType({})  # no shared mutable default
#: What ``run_stream`` yields: the run's events and messages, then the ``TaskResult``.
StreamItem: TypeAlias = "BaseAgentEvent | BaseChatMessage | TaskResult"


# ---- describing a client and a request as plain data --------------------------------------
def _inner(client: Any) -> Any:
    """The client under our wrapper or AutoGen's ChatCompletionCache."""
    while isinstance(client, CachedChatCompletionClient) or (
        type(client).__name__ == "ChatCompletionCache" and hasattr(client, "client")
    ):
        client = client.client
    return client


def client_model(client: Any) -> str:
    """The model a ``ChatCompletionClient`` calls (its ``model`` setting, else its family)."""
    client = _inner(client)
    for attr in ("_create_args", "_raw_config"):
        settings = getattr(client, attr, None)
        if isinstance(settings, Mapping) and isinstance(settings.get("model"), str):
            return str(settings["model"])
    info = client.model_info
    return f"{type(client).__name__}:{info.get('family', 'unknown')}"


def client_settings(client: Any) -> dict[str, Any]:
    """What else about a client changes answers: its class, model info and create settings."""
    client = _inner(client)
    create = getattr(client, "_create_args", None)
    settings = (
        {k: v for k, v in create.items() if k != "model"} if isinstance(create, Mapping) else {}
    )
    return {
        "client": f"{type(client).__module__}.{type(client).__qualname__}",
        "model_info": dict(client.model_info),
        "create": settings,
    }


def _tool_schema(tool: Tool | ToolSchema) -> Any:
    return dict(tool.schema) if isinstance(tool, Tool) else dict(tool)


def _json_output(json_output: bool | type[BaseModel] | None) -> Any:
    if isinstance(json_output, type) and issubclass(json_output, BaseModel):
        return {"schema": json_output.model_json_schema()}
    return json_output


def _request(  # noqa: PLR0917 - one private call site, mirrors create()'s arguments
    client: Any,
    messages: Sequence[LLMMessage],
    tools: Sequence[Tool | ToolSchema],
    tool_choice: _ToolChoice,
    json_output: bool | type[BaseModel] | None,
    extra_create_args: Mapping[str, Any],
) -> tuple[list[Any], dict[str, Any]]:
    params: dict[str, Any] = dict(extra_create_args)
    params["tools"] = [_tool_schema(t) for t in tools]
    params["tool_choice"] = tool_choice.name if isinstance(tool_choice, Tool) else tool_choice
    if json_output is not None:
        params["json_output"] = _json_output(json_output)
    params["autogen_client"] = client_settings(client)
    return [m.model_dump(mode="json") for m in messages], params


def _as_cached(result: Any) -> CreateResult:
    # A serializer that keeps no classes (JsonSerializer) hands back the plain dict.
    if isinstance(result, Mapping):
        result = CreateResult.model_validate(result)
    return result.model_copy(update={"cached": True})


# ---- the model-call hook ----------------------------------------------------------------------
class CachedChatCompletionClient(ChatCompletionClient):
    """A ``ChatCompletionClient`` that answers repeated model calls from the cache.

    Every call goes through the async manager (``aget_or_generate`` / ``aget_or_stream``), so
    a slow backend never blocks the event loop; concurrent identical calls share one upstream
    call. Everything else (usage, token counting, model info) is the wrapped client's.

    Args:
        client: The client to wrap (OpenAI, Azure, Anthropic, Ollama, a replay client, ...).
        manager: The :class:`CacheManager` to store through.
        model_id: The model named in keys (default: read from the client's settings).
        ttl: Seconds to live (default: the manager's ``response`` / ``streaming`` TTL).

    Example:
        >>> import asyncio
        >>> from autogen_core.models import UserMessage
        >>> from autogen_ext.models.replay import ReplayChatCompletionClient
        >>> from omnicache_ai import CacheManager
        >>> inner = ReplayChatCompletionClient(["4"])
        >>> client = CachedChatCompletionClient(inner, CacheManager())
        >>> ask = [UserMessage(content="2+2?", source="user")]
        >>> first = asyncio.run(client.create(ask))
        >>> again = asyncio.run(client.create(ask))  # the replay client has no answer left
        >>> first.content, again.content, again.cached
        ('4', '4', True)
    """

    def __init__(
        self,
        client: ChatCompletionClient,
        manager: CacheManager,
        *,
        model_id: str | None = None,
        ttl: float | None = None,
    ) -> None:
        if not isinstance(client, ChatCompletionClient):
            raise TypeError(f"client must be an AutoGen ChatCompletionClient, got {type(client)}")
        self.client = client
        self.model_id = model_id or client_model(client)
        self._responses = ResponseCache(manager, ttl=ttl)
        self._streams = StreamingResponseCache(manager, ttl=ttl)

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: _ToolChoice = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = _NO_ARGS,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """``client.create(...)``, or the cached result of the same call (``cached=True``)."""
        keyed, params = _request(
            self.client, messages, tools, tool_choice, json_output, extra_create_args
        )
        fresh: list[CreateResult] = []

        async def call(_messages: Any) -> Any:
            result: CreateResult = await self.client.create(
                messages,
                tools=tools,
                tool_choice=tool_choice,
                json_output=json_output,
                extra_create_args=extra_create_args,
                cancellation_token=cancellation_token,
            )
            fresh.append(result)
            if result.finish_reason in _UNFINISHED:  # a cut or filtered answer must not stick
                raise Uncacheable(result, str(result.finish_reason))
            # Stored as plain data, so any serializer (JsonSerializer too) can hold it.
            return result.model_dump(mode="json")

        served = await self._responses.aget_or_generate(
            keyed, call, model_id=self.model_id, params=params
        )
        if fresh:
            return fresh[0]
        return _as_cached(served)

    def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: _ToolChoice = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = _NO_ARGS,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """``client.create_stream(...)`` live (stored when complete), or its replay."""
        keyed, params = _request(
            self.client, messages, tools, tool_choice, json_output, extra_create_args
        )

        def source(_messages: Any) -> Any:
            return self.client.create_stream(
                messages,
                tools=tools,
                tool_choice=tool_choice,
                json_output=json_output,
                extra_create_args=extra_create_args,
                cancellation_token=cancellation_token,
            )

        async def replay() -> AsyncGenerator[str | CreateResult, None]:
            async for chunk in self._streams.aget_or_stream(
                keyed, source, model_id=self.model_id, params=params
            ):
                yield chunk

        return replay()

    async def close(self) -> None:
        """Close the wrapped client."""
        await self.client.close()

    def actual_usage(self) -> RequestUsage:
        """The wrapped client's usage (cache hits add nothing)."""
        return self.client.actual_usage()

    def total_usage(self) -> RequestUsage:
        """The wrapped client's total usage (cache hits add nothing)."""
        return self.client.total_usage()

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()
    ) -> int:
        """The wrapped client's token count."""
        return int(self.client.count_tokens(messages, tools=tools))

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()
    ) -> int:
        """The wrapped client's remaining tokens."""
        return int(self.client.remaining_tokens(messages, tools=tools))

    @property
    def capabilities(self) -> ModelCapabilities:
        """The wrapped client's (deprecated) capabilities."""
        return self.client.capabilities

    @property
    def model_info(self) -> ModelInfo:
        """The wrapped client's model info."""
        return self.client.model_info


# ---- AutoGen's own cache hook ------------------------------------------------------------------
class AutoGenCacheStore(CacheStore[Any]):
    """An ``autogen_core.CacheStore`` for ``autogen_ext.models.cache.ChatCompletionCache``.

    Values are stored as plain JSON-able data (``CreateResult.model_dump``), which
    ``ChatCompletionCache`` rebuilds itself, so any serializer works. ``get``/``set`` are
    synchronous (AutoGen's protocol): each blocks the event loop for one backend call; prefer
    :class:`CachedChatCompletionClient` with a remote backend. A backend failure is a miss.

    Args:
        manager: The :class:`CacheManager` to store through.
        ttl: Seconds to live (default: the manager's ``response`` TTL).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> store = AutoGenCacheStore(CacheManager())
        >>> store.set("k", ["chunk"])
        >>> store.get("k"), store.get("missing", "default")
        (['chunk'], 'default')
    """

    def __init__(self, manager: CacheManager, *, ttl: float | None = None) -> None:
        if not isinstance(manager, CacheManager):
            raise TypeError(f"manager must be a CacheManager, got {type(manager).__name__}")
        self.manager = manager
        self.ttl = ttl

    def _key(self, key: str) -> str:
        if not isinstance(key, str) or not key:
            raise TypeError(f"CacheStore keys are non-empty strings, got {key!r}")
        return self.manager.key_builder.build(STORE_KEY_TYPE, key)

    def get(self, key: str, default: Any = None) -> Any:
        """The stored value, or ``default``."""
        value = self.manager.get(self._key(key), MISSING, layer="response")
        return default if value is MISSING else value

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` (a ``CreateResult`` or a streamed list of ``str``/``CreateResult``)."""
        self.manager.set(self._key(key), _plain(value), self.ttl, layer="response")


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# ---- whole-run replay ---------------------------------------------------------------------------
def _scrub(data: Any) -> Any:
    """Drop message ids and timestamps (new on every run) from a dumped message."""
    if isinstance(data, Mapping):
        return {k: _scrub(v) for k, v in data.items() if k not in _VOLATILE}
    if isinstance(data, list | tuple):
        return [_scrub(v) for v in data]
    return data


def _task_data(task: Any) -> Any:
    if task is None or isinstance(task, str):
        return task
    if isinstance(task, BaseChatMessage):
        return _scrub(task.dump())
    if isinstance(task, Sequence):
        return [_scrub(m.dump()) for m in task]
    raise TypeError(f"task must be a str, a chat message or a list of them, got {type(task)}")


async def _describe(agent: Any) -> tuple[str, dict[str, Any]]:
    """``(model, context)``: everything about ``agent`` that changes a run, as plain data."""
    context: dict[str, Any] = {
        "agent": f"{type(agent).__module__}.{type(agent).__qualname__}",
        "name": getattr(agent, "name", None),
        "description": getattr(agent, "description", None),
    }
    model = "unknown"
    client = getattr(agent, "_model_client", None)
    if client is not None:
        model = client_model(client)
        context["model"] = client_settings(client)
    if hasattr(agent, "_system_messages"):  # AssistantAgent
        context["system"] = [m.model_dump(mode="json") for m in agent._system_messages]
        context["tools"] = [
            [dict(t) for t in await wb.list_tools()] for wb in agent._workbench or ()
        ]
        context["handoffs"] = {
            name: h.model_dump(mode="json") for name, h in (agent._handoffs or {}).items()
        }
        factory = agent._structured_message_factory
        context["options"] = {
            "stream": agent._model_client_stream,
            "reflect_on_tool_use": agent._reflect_on_tool_use,
            "max_tool_iterations": agent._max_tool_iterations,
            "tool_call_summary_format": agent._tool_call_summary_format,
            "output": factory.ContentModel.model_json_schema() if factory else None,
        }
    elif callable(getattr(agent, "dump_component", None)):  # other agents, teams
        context["config"] = agent.dump_component().model_dump(mode="json")
    else:
        raise TypeError(
            f"AutoGenCacheAdapter needs an AutoGen agent or team, got {type(agent).__name__}"
        )
    context["state"] = _scrub(dict(await agent.save_state()))
    return model, context


def _encode(ran: tuple[TaskResult, Mapping[str, Any]]) -> dict[str, Any]:
    result, state = ran
    return {
        "messages": [dict(m.dump()) for m in result.messages],
        "stop_reason": result.stop_reason,
        "state": dict(state),
    }


def _decode(stored: Mapping[str, Any]) -> tuple[TaskResult, Mapping[str, Any]]:
    factory = MessageFactory()
    messages = [factory.create(m) for m in stored["messages"]]
    return TaskResult(messages=messages, stop_reason=stored["stop_reason"]), stored["state"]


def _is_ag2_classic(agent: Any) -> bool:
    """Whether ``agent`` is an AG2 classic ``ConversableAgent`` (never imports AG2)."""
    module = sys.modules.get("autogen")
    cls = getattr(module, "ConversableAgent", None) if module is not None else None
    return isinstance(cls, type) and isinstance(agent, cls)


@dataclass(frozen=True, slots=True)
class _Ended:
    """The last item of a recorded stream: the run's result and the state it left behind."""

    result: TaskResult
    state: Mapping[str, Any]


def _encode_item(item: BaseAgentEvent | BaseChatMessage | _Ended) -> dict[str, Any]:
    if isinstance(item, _Ended):
        return {"ended": _encode((item.result, item.state))}
    return {"event": dict(item.dump())}


def _decode_item(stored: Mapping[str, Any]) -> BaseAgentEvent | BaseChatMessage | _Ended:
    if "ended" in stored:
        return _Ended(*_decode(stored["ended"]))
    return MessageFactory().create(stored["event"])


def _same_objects(result: TaskResult, seen: Mapping[str, Any]) -> TaskResult:
    """``result`` whose messages are the very objects replayed before it (as in a live run)."""
    messages = [seen.get(m.id, m) for m in result.messages]
    return TaskResult(messages=messages, stop_reason=result.stop_reason)


class AutoGenCacheAdapter:
    """Replay an AutoGen agent's (or team's) whole run for an identical task and state.

    A hit returns the stored ``TaskResult`` (same message types and contents) and loads the
    state the live run left the agent in, without calling the model. :meth:`run_stream`
    replays ``agent.run_stream`` the same way, event by event.

    Args:
        agent: An ``AssistantAgent`` (or another agent/team with ``run``/``save_state``). An
            AG2 classic ``ConversableAgent`` (module ``autogen``) gets an
            :class:`~omnicache_ai.adapters.ag2_classic_adapter.AG2ClassicCacheAdapter`
            (``generate_reply`` / ``a_generate_reply``) instead.
        manager: The :class:`CacheManager` to store through.
        ttl: Seconds to live (default: the manager's ``response`` TTL).

    Example:
        >>> import asyncio
        >>> from omnicache_ai import CacheManager
        >>> from autogen_agentchat.agents import AssistantAgent
        >>> from autogen_ext.models.replay import ReplayChatCompletionClient
        >>> manager = CacheManager()
        >>> agent = AssistantAgent("a", model_client=ReplayChatCompletionClient(["Paris"]))
        >>> result = asyncio.run(AutoGenCacheAdapter(agent, manager).arun("Capital of France?"))
        >>> result.messages[-1].content
        'Paris'
    """

    def __new__(cls, agent: Any, manager: CacheManager, *, ttl: float | None = None) -> Any:
        # AG2 classic's ConversableAgent (module `autogen`, the README's generate_reply form)
        # is served by the AG2 classic adapter, which has generate_reply/a_generate_reply.
        if _is_ag2_classic(agent):
            from omnicache_ai.adapters.ag2_classic_adapter import AG2ClassicCacheAdapter

            return AG2ClassicCacheAdapter(agent, manager, ttl=ttl)
        return super().__new__(cls)

    def __init__(self, agent: Any, manager: CacheManager, *, ttl: float | None = None) -> None:
        if not callable(getattr(agent, "run", None)) or not callable(
            getattr(agent, "save_state", None)
        ):
            raise TypeError(
                f"AutoGenCacheAdapter needs an AutoGen agent or team, got {type(agent).__name__}"
            )
        self.agent = agent
        self._runs: RunReplay[tuple[TaskResult, Mapping[str, Any]]] = RunReplay(
            manager, "autogen", RunCodec(encode=_encode, decode=_decode), ttl=ttl
        )

    async def key(self, task: Any = None) -> str:
        """The key this task would be stored under now (to debug a miss)."""
        model, context = await _describe(self.agent)
        return self._runs.key(model, _task_data(task), context)

    async def arun(
        self,
        task: Any = None,
        *,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> TaskResult:
        """``await agent.run(task=...)``, or its replay."""
        model, context = await _describe(self.agent)
        context["output_task_messages"] = output_task_messages
        live = False

        async def call() -> tuple[TaskResult, Mapping[str, Any]]:
            nonlocal live
            live = True
            result = await self.agent.run(
                task=task,
                cancellation_token=cancellation_token,
                output_task_messages=output_task_messages,
            )
            return result, await self.agent.save_state()

        result, state = await self._runs.arun(model, _task_data(task), context, call)
        if not live:  # a replay: leave the agent where the live run left it
            await self.agent.load_state(state)
        return result

    def run(
        self,
        task: Any = None,
        *,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> TaskResult:
        """Sync :meth:`arun` (runs its own event loop; inside a running loop, await ``arun``).

        Raises:
            RuntimeError: Called from a running event loop.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(
                self.arun(
                    task,
                    cancellation_token=cancellation_token,
                    output_task_messages=output_task_messages,
                )
            )
        raise RuntimeError("AutoGenCacheAdapter.run() cannot run inside an event loop; use arun()")

    def run_stream(
        self,
        task: Any = None,
        *,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> AsyncGenerator[StreamItem, None]:
        """``agent.run_stream(task=...)``, or its replay: events and messages, then the result.

        A miss streams the agent's (or team's) items live, as they come, and records them; an
        identical run (same agent, state and task) replays the same sequence, as AutoGen's own
        message and event types, ending with the ``TaskResult``, and moves the agent to the
        state the live run left it in, without calling the model. A stream is stored only once
        the run produced its ``TaskResult`` and ended (before that result is handed over, so a
        consumer that stops at the result still leaves a complete entry); a run that raised,
        was cancelled or was left early by its consumer is not stored.

        Example:
            >>> import asyncio
            >>> from omnicache_ai import CacheManager
            >>> from autogen_agentchat.agents import AssistantAgent
            >>> from autogen_ext.models.replay import ReplayChatCompletionClient
            >>> manager = CacheManager()
            >>> def adapter(answers):
            ...     agent = AssistantAgent("a", model_client=ReplayChatCompletionClient(answers))
            ...     return AutoGenCacheAdapter(agent, manager)
            >>> async def types(cached):
            ...     return [type(item).__name__ async for item in cached.run_stream("Hi")]
            >>> asyncio.run(types(adapter(["Hello"])))
            ['TextMessage', 'TextMessage', 'TaskResult']
            >>> asyncio.run(types(adapter([])))  # replayed: this model has nothing to say
            ['TextMessage', 'TextMessage', 'TaskResult']
        """
        return self._stream(task, cancellation_token, output_task_messages)

    async def _stream(
        self,
        task: Any,
        cancellation_token: CancellationToken | None,
        output_task_messages: bool,
    ) -> AsyncGenerator[StreamItem, None]:
        model, context = await _describe(self.agent)
        context["output_task_messages"] = output_task_messages
        live = False

        async def call() -> AsyncIterator[BaseAgentEvent | BaseChatMessage | _Ended]:
            nonlocal live
            live = True
            result: TaskResult | None = None
            events = self.agent.run_stream(
                task=task,
                cancellation_token=cancellation_token,
                output_task_messages=output_task_messages,
            )
            async with aclosing(events) as items:
                async for item in items:
                    if isinstance(item, TaskResult):
                        result = item  # the last item; let the run finish its cleanup first
                    else:
                        yield item
            if result is not None:  # a stream without a result is left unstored
                yield _Ended(result, await self.agent.save_state())

        ended: _Ended | None = None
        seen: dict[str, Any] = {}
        recorded = self._runs.astream(
            model,
            _task_data(task),
            context,
            call,
            encode=_encode_item,
            decode=_decode_item,
        )
        async with aclosing(recorded) as items:
            async for item in items:
                if isinstance(item, _Ended):
                    # Held back until the recorded stream ends (and is stored).
                    ended = item
                    continue
                if not live:
                    seen[item.id] = item
                yield item
        if ended is None:  # the run ended without a result (AutoGen always sends one)
            return
        if live:
            yield ended.result
            return
        await self.agent.load_state(ended.state)
        yield _same_objects(ended.result, seen)
