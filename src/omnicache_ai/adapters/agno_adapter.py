"""Agno adapter (``agno`` 2.x/3.x): whole-run replay, streamed or not, and a caching model.

* :class:`AgnoCacheAdapter` replays ``agent.run(...)`` / ``agent.arun(...)`` for an identical
  input and an identical agent: the key holds the model and its settings, the instructions,
  description, system message, expected output, tools (name, description, JSON schema),
  output/input schemas, the context switches (markdown, dates, names, history) and, when
  history is on, the session's prior messages. ``RunOutput`` comes back; with
  ``stream=True`` the run's events are streamed live and replayed as the same event types.
  Runs that ended in error, paused or were cancelled are not stored.
* :func:`CachedAgnoModel.wrap` turns any Agno ``Model`` (OpenAIChat, Claude, Gemini, ...) into
  a caching one: every provider call of the model's tool loop (``invoke`` / ``ainvoke`` /
  ``invoke_stream`` / ``ainvoke_stream``, which ``response`` / ``aresponse`` /
  ``response_stream`` / ``aresponse_stream`` drive) is answered from
  :class:`~omnicache_ai.layers.response_cache.ResponseCache` /
  :class:`~omnicache_ai.layers.streaming_cache.StreamingResponseCache` when seen before,
  while tools still run. The wrapped model keeps every behaviour of its provider class. The
  key holds the model id and provider, the messages (role, content, name, tool calls and
  results, media), the tool definitions, ``tool_choice``, ``response_format`` and the model's
  answer-changing settings (not its API key, client or retry options).

Example:
    >>> from omnicache_ai import CacheManager
    >>> from agno.models.openai import OpenAIChat
    >>> model = CachedAgnoModel.wrap(OpenAIChat(id="gpt-4o", api_key="sk-test"), CacheManager())
    >>> isinstance(model, OpenAIChat), model.id
    (True, 'gpt-4o')
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, ClassVar, Final

from omnicache_ai.adapters._runs import RunCodec, RunReplay
from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.layers.response_cache import ResponseCache
from omnicache_ai.layers.streaming_cache import StreamingResponseCache

try:
    from agno.agent import Agent
    from agno.models.base import Model
    from agno.models.message import Message
    from agno.run.agent import RunOutput, run_output_event_from_dict
    from agno.run.base import RunStatus
    from agno.tools.function import Function
    from agno.tools.toolkit import Toolkit
    from pydantic import BaseModel
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.agno_adapter needs agno; "
        "install it with: pip install 'omnicache-ai[agno]'"
    ) from err

__all__ = ["AgnoCacheAdapter", "CachedAgnoModel"]

#: Model fields that never change an answer: identity keyed apart, transport, secrets, retries.
_MODEL_SKIP: Final = frozenset(
    {
        "id",
        "name",
        "provider",
        "api_key",
        "organization",
        "base_url",
        "timeout",
        "max_retries",
        "default_headers",
        "default_query",
        "http_client",
        "client_params",
        "client",
        "async_client",
        "retries",
        "delay_between_retries",
        "exponential_backoff",
        "retry_with_guidance",
        "retry_with_guidance_limit",
        "cache_response",
        "cache_ttl",
        "cache_dir",
        "user",
        "metadata",
        "store",
        "extra_headers",
        "extra_query",
        "request_params",
    }
)
_MESSAGE_FIELDS: Final = (
    "role",
    "content",
    "name",
    "tool_call_id",
    "tool_calls",
    "tool_name",
    "images",
    "audio",
    "videos",
    "files",
)
_AGENT_FIELDS: Final = (
    "name",
    "system_message",
    "system_message_role",
    "introduction",
    "description",
    "instructions",
    "use_instruction_tags",
    "expected_output",
    "additional_context",
    "markdown",
    "add_name_to_context",
    "add_location_to_context",
    "additional_input",
    "user_message_role",
    "tool_call_limit",
    "tool_choice",
    "input_schema",
    "output_schema",
    "parser_model_prompt",
    "output_model_prompt",
    "parse_response",
    "structured_outputs",
    "use_json_mode",
    "add_history_to_context",
    "num_history_runs",
    "num_history_messages",
    "dependencies",
    "add_dependencies_to_context",
    "session_state",
    "add_session_state_to_context",
    "knowledge_filters",
    "role",
)
_FAILED: Final = frozenset({RunStatus.error, RunStatus.cancelled, RunStatus.paused})


# ---- plain-data descriptions --------------------------------------------------------------
def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Model):
        return describe_model(value)
    if isinstance(value, Function | Toolkit):
        return _tool(value)
    if isinstance(value, type) and issubclass(value, BaseModel):
        return {"schema": value.model_json_schema(), "class": value.__qualname__}
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="json", exclude_none=True))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if callable(value):
        return _tool(value)
    return repr(value)


def _tool(tool: Any) -> Any:
    if isinstance(tool, Toolkit):
        return {"toolkit": tool.name, "functions": [_tool(f) for f in tool.functions.values()]}
    if isinstance(tool, Function):
        return {
            "name": tool.name,
            "description": tool.description,
            "parameters": _plain(tool.parameters),
            "strict": tool.strict,
        }
    if isinstance(tool, Mapping):
        return _plain(tool)
    if callable(tool):  # a plain function: the schema Agno builds from it is what the model sees
        return _tool(Function.from_callable(tool))
    return repr(tool)


def describe_model(model: Any) -> dict[str, Any]:
    """The answer-changing settings of an Agno model (never its key, client or retries)."""
    data: dict[str, Any] = {
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "id": model.id,
        "provider": getattr(model, "provider", None),
    }
    for f in dataclasses.fields(model):
        if f.name in _MODEL_SKIP or f.name.startswith("_"):
            continue
        value = getattr(model, f.name, None)
        if value is not None and not callable(value):
            data[f.name] = _plain(value)
    return data


def _message(message: Message) -> dict[str, Any]:
    data = {name: getattr(message, name, None) for name in _MESSAGE_FIELDS}
    return {k: _plain(v) for k, v in data.items() if v is not None}


def _model_request(
    model: Model,
    messages: list[Message],
    options: Mapping[str, Any],
) -> tuple[list[Any], dict[str, Any]]:
    params = {
        "tools": _plain(options.get("tools")),
        "tool_choice": _plain(options.get("tool_choice")),
        "response_format": options.get("response_format"),
        "compress_tool_results": bool(options.get("compress_tool_results")),
        "agno_model": describe_model(model),
    }
    if isinstance(params["response_format"], Mapping):
        params["response_format"] = _plain(params["response_format"])
    return [_message(m) for m in messages], params


# ---- the model-call hook ------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Caches:
    responses: ResponseCache
    streams: StreamingResponseCache


class CachedAgnoModel:
    """Mixin of the caching Agno models :meth:`wrap` builds (``isinstance`` works on them).

    Each provider call (``invoke``, ``ainvoke``, ``invoke_stream``, ``ainvoke_stream``) of the
    model's tool loop is looked up first; async calls go through the async manager, so a slow
    backend never blocks the loop. Concurrent identical calls share one provider call.
    """

    _omnicache: ClassVar[_Caches]

    @classmethod
    def wrap(cls, model: Model, manager: CacheManager, *, ttl: float | None = None) -> Model:
        """A copy of ``model`` whose provider calls are cached (``model`` is left as it is).

        The copy is an instance of a subclass of ``type(model)``, so everything Agno does with
        the model (formatting, tool loop, deep copies per run) is unchanged. The caches live
        on that subclass, so Agno's per-run deep copies share them.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> from agno.models.openai import OpenAIChat
            >>> cached = CachedAgnoModel.wrap(OpenAIChat(id="gpt-4o"), CacheManager())
            >>> type(cached).__name__
            'CachedOpenAIChat'
        """
        if not isinstance(model, Model):
            raise TypeError(f"model must be an Agno Model, got {type(model).__name__}")
        if not isinstance(manager, CacheManager):
            raise TypeError(f"manager must be a CacheManager, got {type(manager).__name__}")
        base = type(model)
        caches = _Caches(ResponseCache(manager, ttl=ttl), StreamingResponseCache(manager, ttl=ttl))
        subclass: Any = type(
            f"Cached{base.__name__}",
            (cls, base),
            {"_omnicache": caches, "__module__": __name__, "__doc__": base.__doc__},
        )
        # A new instance of the subclass with the model's fields (a shallow copy: the HTTP
        # clients are shared, as Agno's own copies share them).
        clone: Model = object.__new__(subclass)
        clone.__dict__.update(copy.copy(model.__dict__))
        return clone

    def _keyed(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        names = ("messages", "assistant_message", "response_format", "tools", "tool_choice")
        options = dict(zip(names, args, strict=False)) | kwargs
        model: Any = self
        return _model_request(model, list(options["messages"]), options)

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        """The provider call, or its cached ``ModelResponse``."""
        keyed, params = self._keyed(args, kwargs)
        parent: Any = super()
        return self._omnicache.responses.get_or_generate(
            keyed, lambda _m: parent.invoke(*args, **kwargs), model_id=self._id(), params=params
        )

    async def ainvoke(self, *args: Any, **kwargs: Any) -> Any:
        """Async :meth:`invoke` (awaits the manager)."""
        keyed, params = self._keyed(args, kwargs)
        parent: Any = super()

        async def call(_messages: Any) -> Any:
            return await parent.ainvoke(*args, **kwargs)

        return await self._omnicache.responses.aget_or_generate(
            keyed, call, model_id=self._id(), params=params
        )

    def invoke_stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """The provider stream live (stored once complete), or its replay."""
        keyed, params = self._keyed(args, kwargs)
        parent: Any = super()
        return self._omnicache.streams.get_or_stream(
            keyed, lambda _m: parent.invoke_stream(*args, **kwargs), model_id=self._id(),
            params=params,
        )  # fmt: skip

    def ainvoke_stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        """Async :meth:`invoke_stream`."""
        keyed, params = self._keyed(args, kwargs)
        parent: Any = super()
        return self._omnicache.streams.aget_or_stream(
            keyed, lambda _m: parent.ainvoke_stream(*args, **kwargs), model_id=self._id(),
            params=params,
        )  # fmt: skip

    def _id(self) -> str:
        model_id = getattr(self, "id", None)
        return model_id if isinstance(model_id, str) and model_id else type(self).__name__


# ---- whole-run replay ---------------------------------------------------------------------
def _refuse(output: Any) -> str | None:
    if not isinstance(output, RunOutput):
        return f"a {type(output).__name__} is not a RunOutput"
    if output.status in _FAILED:
        return f"the run ended with status {output.status.value}"
    return None


def _encode(output: RunOutput) -> dict[str, Any]:
    return dict(output.to_dict())


_CODEC: Final = RunCodec(encode=_encode, decode=RunOutput.from_dict, refuse=_refuse)


def _event_failed(event: Any) -> bool:
    name = type(event).__name__
    return name.endswith(("ErrorEvent", "CancelledEvent", "PausedEvent"))


class AgnoCacheAdapter:
    """Replay an Agno agent's run (streamed or not) for an identical input and agent.

    Args:
        agent: The ``agno.agent.Agent``.
        manager: The :class:`CacheManager` to store through.
        ttl: Seconds to live (default: the manager's ``response`` TTL).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> AgnoCacheAdapter(object(), CacheManager())
        Traceback (most recent call last):
        ...
        TypeError: AgnoCacheAdapter needs an agno Agent, got object
    """

    def __init__(self, agent: Agent, manager: CacheManager, *, ttl: float | None = None) -> None:
        if not isinstance(agent, Agent):
            raise TypeError(f"AgnoCacheAdapter needs an agno Agent, got {type(agent).__name__}")
        self.agent = agent
        self._runs: RunReplay[RunOutput] = RunReplay(manager, "agno", _CODEC, ttl=ttl)

    # ---- keys ----------------------------------------------------------------------------
    def _context(self, options: Mapping[str, Any], history: list[Message] | None) -> dict[str, Any]:
        agent = self.agent
        context = {name: _plain(getattr(agent, name, None)) for name in _AGENT_FIELDS}
        context["agent"] = f"{type(agent).__module__}.{type(agent).__qualname__}"
        context["tools"] = [_tool(t) for t in agent.tools or ()] if isinstance(
            agent.tools, list
        ) else _plain(agent.tools)  # fmt: skip
        for name in ("parser_model", "output_model", "reasoning_model"):
            value = getattr(agent, name, None)
            context[name] = describe_model(value) if isinstance(value, Model) else _plain(value)
        if getattr(agent, "add_datetime_to_context", False):  # the prompt then carries "now"
            fmt = getattr(agent, "datetime_format", None) or "%Y-%m-%d %H:%M:%S"
            context["now"] = _dt.datetime.now().strftime(fmt)
        context["run"] = {k: _plain(v) for k, v in sorted(options.items())}
        context["history"] = [_message(m) for m in history] if history else None
        return context

    def _uses_history(self, options: Mapping[str, Any]) -> bool:
        flag = options.get("add_history_to_context")
        on = self.agent.add_history_to_context if flag is None else flag
        return bool(on) and self.agent.db is not None

    def _history(self, options: Mapping[str, Any]) -> list[Message] | None:
        if not self._uses_history(options):
            return None
        session_id = options.get("session_id") or self.agent.session_id
        if session_id is None or self.agent.get_session(session_id=session_id) is None:
            return None  # a new session: no prior messages
        return list(
            self.agent.get_session_messages(
                session_id=session_id, last_n_runs=self.agent.num_history_runs
            )
        )

    async def _ahistory(self, options: Mapping[str, Any]) -> list[Message] | None:
        if not self._uses_history(options):
            return None
        session_id = options.get("session_id") or self.agent.session_id
        if session_id is None or await self.agent.aget_session(session_id=session_id) is None:
            return None
        return list(
            await self.agent.aget_session_messages(
                session_id=session_id, last_n_runs=self.agent.num_history_runs
            )
        )

    def _model(self) -> str:
        model = self.agent.model
        return model.id if isinstance(model, Model) else str(model or "unknown")

    def key(self, input: Any, **options: Any) -> str:
        """The key a run of ``input`` with these options is stored under (to debug a miss)."""
        context = self._context(_keyed_options(options), self._history(options))
        return self._runs.key(self._model(), _plain(input), context)

    # ---- runs ----------------------------------------------------------------------------
    def run(self, input: Any, *, stream: bool = False, **options: Any) -> Any:
        """``agent.run(input, ...)``: a ``RunOutput``, or with ``stream=True`` an iterator of
        the run's events; replayed when this run was seen before."""
        context = self._context(_keyed_options(options), self._history(options))
        if stream:
            return self._runs.stream(
                self._model(),
                _plain(input),
                {**context, "stream": True},
                lambda: self.agent.run(input, stream=True, **options),
                encode=_encode_event,
                decode=run_output_event_from_dict,
                refuse=_event_failed,
            )
        return self._runs.run(
            self._model(), _plain(input), context, lambda: self.agent.run(input, **options)
        )

    async def arun(self, input: Any, *, stream: bool = False, **options: Any) -> Any:
        """``agent.arun(input, ...)``; with ``stream=True`` returns an async iterator."""
        context = self._context(_keyed_options(options), await self._ahistory(options))
        if stream:
            return self._runs.astream(
                self._model(),
                _plain(input),
                {**context, "stream": True},
                lambda: self.agent.arun(input, stream=True, **options),
                encode=_encode_event,
                decode=run_output_event_from_dict,
                refuse=_event_failed,
            )
        return await self._runs.arun(
            self._model(), _plain(input), context, lambda: self.agent.arun(input, **options)
        )


#: Run options that never change the run (identity, tracing, debugging).
_RUN_SKIP: Final = frozenset({"run_id", "session_id", "user_id", "metadata", "debug_mode"})


def _keyed_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in _RUN_SKIP}


def _encode_event(event: Any) -> Any:
    return event.to_dict()
