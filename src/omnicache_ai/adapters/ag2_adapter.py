"""AG2 1.x adapter (package ``ag2`` 1.x, module ``ag2``).

AG2 classic (the ``ag2`` 0.x line, module ``autogen``, ``ConversableAgent``) has its own
adapter, :mod:`omnicache_ai.adapters.ag2_classic_adapter`: the two forms are one package name
at two majors and never share an environment.

* :class:`CachedModelConfig` wraps any ``ModelConfig`` (``OpenAIConfig``, ``AnthropicConfig``,
  ``TestConfig``, ...). Every model call an agent makes through it (each step of a tool loop
  included) is answered from :class:`~omnicache_ai.layers.response_cache.ResponseCache` when an
  identical call was made before. The key holds what the provider client is handed: the
  conversation events (fields AG2 itself does not compare, such as ids and timestamps, left
  out), the system prompt, the tool schemas, the response schema, and the config's class,
  provider, model and answer-changing settings (``temperature``, ``seed``, ``base_url``, ...;
  never the API key or connection options). The events the client published while answering
  (the message, reasoning, streamed ``ModelMessageChunk`` s) are stored with the response and
  published again, in order, on a hit, so stream subscribers see the same turn.

  Why a config wrapper and not a ``BaseMiddleware.on_llm_call`` middleware: a middleware is
  handed the events and the ``ConversationContext`` only. The context carries the system
  prompt and (under ``context.dependencies``) the model config, but the tool schemas and the
  response schema reach the client as keyword arguments bound inside ``call_next``, where no
  public API shows them. A key without the tools would hand one agent's tool calls to
  another, so the hook sits where everything is visible: the client the config creates.
* :class:`AG2CacheAdapter` replays a whole ``agent.ask(...)`` (the README wrapper: ``run`` /
  ``arun``) for an identical message and agent; a hit returns an ``AgentReply`` without
  calling the model.

Example:
    >>> import asyncio
    >>> from ag2 import Agent
    >>> from ag2.testing import TestConfig
    >>> from omnicache_ai import CacheManager
    >>> config = CachedModelConfig(TestConfig("4"), CacheManager())
    >>> asyncio.run(Agent("calc", config=config).ask("2+2?")).body
    '4'
    >>> asyncio.run(Agent("calc", config=config).ask("2+2?")).body  # the script is spent
    '4'
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import logging
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from omnicache_ai.adapters._loops import run_apart
from omnicache_ai.adapters._plain import describe_callable, plain
from omnicache_ai.adapters._runs import RunCodec, RunReplay
from omnicache_ai.core.cache_manager import CacheManager, RequestConfig
from omnicache_ai.layers._admit import Uncacheable
from omnicache_ai.layers._base import refreshing
from omnicache_ai.layers.response_cache import ResponseCache

try:
    from ag2 import Agent
    from ag2.agent import AgentReply
    from ag2.context import ConversationContext
    from ag2.events import ModelRequest
    from ag2.stream import MemoryStream
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.ag2_adapter needs AG2 1.x (module `ag2`); install it with: "
        "pip install 'omnicache-ai[ag2]'"
    ) from err

__all__ = ["AG2CacheAdapter", "CachedModelConfig"]

logger = logging.getLogger("omnicache_ai")

#: Version of the stored model-call form; bump it when the stored shape changes.
_FORMAT: Final = 1
_UNFINISHED: Final = frozenset({"length", "content_filter", "max_tokens"})
# Config fields that reach the provider's connection, not the answer (or hold secrets).
_CONNECTION: Final = frozenset(
    {
        "api_key", "http_client", "timeout", "max_retries", "default_headers",
        "default_query", "organization", "project", "websocket_base_url", "user", "metadata",
        "safety_identifier", "prompt_cache_key", "prompt_cache_options", "store",
        "credentials", "azure_ad_token", "azure_ad_token_provider", "client", "api_version",
        "aws_access_key", "aws_secret_key", "aws_session_token", "aws_profile_name",
    }
)  # fmt: skip


def _check_manager(manager: Any) -> CacheManager:
    if not isinstance(manager, CacheManager):
        raise TypeError(f"manager must be a CacheManager, got {type(manager).__name__}")
    return manager


# ==== AG2 1.x: events as key data and as stored data =============================================
def _is_event(value: Any) -> bool:
    return hasattr(type(value), "_event_fields_")


def _event_fields(cls: type) -> Iterable[tuple[str, Any]]:
    """``(name, FieldInfo)`` of every field of an event class, base classes first."""
    seen: set[str] = set()
    for klass in reversed(cls.__mro__):
        for name, info in getattr(klass, "_event_fields_", {}).items():
            if name not in seen:
                seen.add(name)
                yield name, info


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def keyed(value: Any, *, _depth: int = 0) -> Any:
    """The key form of an AG2 event (or anything inside one): the fields AG2 compares.

    AG2 marks the fields that do not make two events different (``created_at``, a request's
    id, the ``model`` a response reports) with ``compare=False``; they are left out, so the
    same conversation gives the same key in every run.

    Example:
        >>> from ag2.events import ModelMessage
        >>> keyed(ModelMessage("hi")) == keyed(ModelMessage("hi"))  # other created_at
        True
    """
    if _depth > 32:
        return f"<{type(value).__qualname__}>"
    d = _depth + 1
    if _is_event(value):
        out: dict[str, Any] = {"event": type(value).__qualname__}
        for name, info in _event_fields(type(value)):
            if getattr(info, "compare", True) and not name.startswith("_"):
                out[name] = keyed(getattr(value, name, None), _depth=d)
        return out
    if isinstance(value, Mapping):
        return {str(k): keyed(v, _depth=d) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [keyed(v, _depth=d) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: keyed(getattr(value, f.name), _depth=d)
            for f in dataclasses.fields(value)
            if not f.name.startswith("_")
        }
    return plain(value)


def _innermost(config: Any) -> Any:
    """The config under wrappers that keep theirs as ``.config`` (``TrackingConfig``, ours)."""
    for _ in range(8):
        inner = getattr(config, "config", None)
        if inner is None or not callable(getattr(inner, "create", None)):
            break
        config = inner
    return config


def _omitted(value: Any) -> bool:
    # openai's `omit` / `NOT_GIVEN` sentinels: "not set", the same as leaving the field out.
    return type(value).__name__ in {"Omit", "NotGiven"}


def config_settings(config: Any) -> dict[str, Any]:
    """What about an AG2 ``ModelConfig`` changes answers, as plain data.

    Its class, provider and model, and (for the dataclass configs AG2 ships) every field but
    the credentials and connection options (API key, HTTP client, timeouts, retries, headers,
    ``user``/``metadata`` tags).

    Example:
        >>> from ag2.testing import TestConfig
        >>> config_settings(TestConfig("hi", model="m1"))["model"]
        'm1'
    """
    config = _innermost(config)
    out: dict[str, Any] = {"config": _qualified(type(config))}
    for attr in ("provider", "model"):
        try:
            out[attr] = plain(getattr(config, attr))
        except (NotImplementedError, AttributeError):
            out[attr] = None
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        out["settings"] = {
            f.name: plain(getattr(config, f.name))
            for f in dataclasses.fields(config)
            if f.name not in _CONNECTION
            and not f.name.startswith("_")
            and not _omitted(getattr(config, f.name))
        }
    return out


def _model_label(config: Any) -> str:
    settings = config_settings(config)
    model, provider = settings.get("model"), settings.get("provider")
    if model is None:
        return f"{type(config).__name__}"
    return f"{provider}/{model}" if provider else str(model)


def _response_schema(schema: Any) -> Any:
    if schema is None:
        return None
    return {
        "name": getattr(schema, "name", None),
        "json_schema": plain(getattr(schema, "json_schema", None)),
        "system_prompt": getattr(schema, "system_prompt", None),
    }


def stored(event: Any) -> dict[str, Any]:
    """An AG2 event as plain data (AG2's own ``to_dict`` form plus its class name)."""
    return {"__event__": _qualified(type(event)), **event.to_dict()}


def _resolve(name: Any) -> type:
    """An AG2 class named by stored data: already imported, inside ``ag2``, never imported."""
    if not isinstance(name, str) or not name.startswith("ag2."):
        raise ValueError(f"stored data names a class outside ag2: {name!r}")
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:i]))
        if module is None:
            continue
        obj: Any = module
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
        if isinstance(obj, type):
            return obj
    raise ValueError(f"stored data names {name!r}, which is not imported in this process")


def restored(data: Any) -> Any:
    """Rebuild what :func:`stored` wrote (events, enums, dataclasses, bytes, UUIDs).

    Only classes of the ``ag2`` package that this process has already imported are rebuilt;
    stored data never makes the reader import a module. Timestamps are new (``created_at``
    is dropped), as for an event the client publishes now.
    """
    if isinstance(data, list):
        return [restored(v) for v in data]
    if not isinstance(data, Mapping):
        return data
    if "__event__" in data:
        cls = _resolve(data["__event__"])
        if not hasattr(cls, "_event_fields_"):
            raise ValueError(f"{data['__event__']!r} is not an AG2 event")
        known = {name for name, _ in _event_fields(cls)}
        kwargs = {k: restored(v) for k, v in data.items() if k in known and k not in {"created_at"}}
        return cls(**kwargs)
    if "__dataclass__" in data:
        cls = _resolve(data["__dataclass__"])
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"{data['__dataclass__']!r} is not a dataclass")
        return cls(**{k: restored(v) for k, v in data.get("data", {}).items()})
    if "__pydantic__" in data:
        cls = _resolve(data["__pydantic__"])
        validate = getattr(cls, "model_validate", None)
        if not callable(validate):
            raise ValueError(f"{data['__pydantic__']!r} is not a pydantic model")
        return validate(restored(data.get("data", {})))
    if "__enum__" in data:
        cls = _resolve(data["__enum__"])
        if not issubclass(cls, enum.Enum):
            raise ValueError(f"{data['__enum__']!r} is not an enum")
        return cls(data["value"])
    if "__bytes__" in data:
        return base64.b64decode(data["__bytes__"])
    if "__uuid__" in data:
        return uuid.UUID(data["__uuid__"])
    if "__exception__" in data:
        return Exception(data.get("message", ""))
    return {k: restored(v) for k, v in data.items()}


# ==== AG2 1.x: the model-call hook ================================================================
class _RecordingContext(ConversationContext):
    """A ``ConversationContext`` sharing another's state whose ``send`` also records events."""

    __slots__ = ("_sink",)
    _sink: list[Any]

    async def send(self, event: Any) -> None:
        self._sink.append(event)
        await super().send(event)


def _recording_context(context: Any, sink: list[Any]) -> Any:
    """A copy of ``context`` (same stream, variables, prompt, ...) recording into ``sink``."""
    fields = {f.name: getattr(context, f.name) for f in dataclasses.fields(context) if f.init}
    recording = _RecordingContext(**fields)
    recording._sink = sink
    return recording


class _CachedClient:
    """The ``LLMClient`` a :class:`CachedModelConfig` creates (one per agent turn)."""

    def __init__(self, client: Any, owner: CachedModelConfig) -> None:
        self.client = client
        self.owner = owner

    def _request(
        self,
        messages: Sequence[Any],
        context: Any,
        tools: Iterable[Any],
        schema: Any,
        extra: Mapping[str, Any] | None = None,
    ) -> tuple[list[Any], dict[str, Any]]:
        params = {
            "prompt": [str(p) for p in context.prompt],
            "tools": [keyed(t) for t in tools],
            "response_schema": _response_schema(schema),
            "ag2_config": config_settings(self.owner.config),
            # any other argument a future AG2 hands the client (none in 1.2)
            "extra": keyed(dict(extra or {})),
            "format": _FORMAT,
        }
        return [keyed(m) for m in messages], params

    async def __call__(
        self,
        messages: Sequence[Any],
        context: Any,
        *,
        tools: Iterable[Any] = (),
        response_schema: Any = None,
        serializer: Any = None,
        **kwargs: Any,
    ) -> Any:
        tools = list(tools)
        keyed_messages, params = self._request(messages, context, tools, response_schema, kwargs)
        config: RequestConfig | None = None
        while True:
            fresh: list[Any] = []

            async def call(_messages: Any, fresh: list[Any] = fresh) -> Any:
                published: list[Any] = []
                response = await self.client(
                    messages,
                    _recording_context(context, published),
                    tools=tools,
                    response_schema=response_schema,
                    serializer=serializer,
                    **kwargs,
                )
                fresh.append(response)
                if response.finish_reason in _UNFINISHED:  # a cut or filtered answer must not stick
                    raise Uncacheable(response, str(response.finish_reason))
                return {
                    "format": _FORMAT,
                    "published": [stored(e) for e in published],
                    "response": stored(response),
                }

            served = await self.owner.responses.aget_or_generate(
                keyed_messages,
                call,
                model_id=_model_label(self.owner.config),
                params=params,
                config=config,
            )
            if fresh:  # the live call (its events already went out): the live response
                return fresh[0]
            try:
                published = restored(served["published"])
                response = restored(served["response"])
            except Exception as err:  # noqa: BLE001 - a bad entry is a miss, never an error
                # Written by another version, or naming a class this process lacks: call the
                # model again and overwrite the entry.
                self.owner.warn_once(err)
                config = refreshing(None)
                continue
            for event in published:  # what the live client published, in order (chunks too)
                await context.send(event)
            return response


class CachedModelConfig:
    """An AG2 1.x ``ModelConfig`` whose clients answer repeated model calls from the cache.

    Give it to an agent (``Agent(..., config=CachedModelConfig(OpenAIConfig(...), m))``) or to
    one call (``agent.ask(..., config=...)``). Calls go through the manager's async API (the
    event loop is never blocked), identical concurrent calls share one upstream call, and a
    backend outage is a miss. Answers cut short (``finish_reason`` ``length`` or
    ``content_filter``) and failed calls are not stored.

    Args:
        config: The ``ModelConfig`` to wrap.
        manager: The :class:`CacheManager` to store through.
        ttl: Seconds to live (default: the manager's ``response`` TTL).

    Example:
        >>> import asyncio
        >>> from ag2 import Agent
        >>> from ag2.testing import TestConfig, TrackingConfig
        >>> from omnicache_ai import CacheManager
        >>> fake = TrackingConfig(TestConfig("Paris", "Paris again"))
        >>> config = CachedModelConfig(fake, CacheManager())
        >>> agent = Agent("geo", prompt="Answer with a city", config=config)
        >>> [asyncio.run(agent.ask("Capital of France?")).body for _ in range(2)]
        ['Paris', 'Paris']
        >>> len(fake.calls)  # the second ask was served from the cache
        1
    """

    def __init__(
        self,
        config: Any,
        manager: CacheManager,
        *,
        ttl: float | None = None,
        _responses: ResponseCache | None = None,
    ) -> None:
        if not callable(getattr(config, "create", None)):
            raise TypeError(f"config must be an AG2 ModelConfig, got {type(config).__name__}")
        self.config = config
        self.manager = _check_manager(manager)
        self.ttl = ttl
        self.responses = _responses or ResponseCache(manager, ttl=ttl)
        self._warned = False

    @property
    def provider(self) -> Any:
        """The wrapped config's provider."""
        return self.config.provider

    @property
    def model(self) -> str:
        """The wrapped config's model."""
        return str(self.config.model)

    def copy(self, **overrides: Any) -> CachedModelConfig:
        """A copy of the wrapped config (with ``overrides``), cached through the same layer."""
        return CachedModelConfig(
            self.config.copy(**overrides), self.manager, ttl=self.ttl, _responses=self.responses
        )

    def create(self) -> Any:
        """The wrapped config's client, behind the cache."""
        return _CachedClient(self.config.create(), self)

    def create_files_client(self) -> Any:
        """The wrapped config's Files API client (not cached)."""
        return self.config.create_files_client()

    def warn_once(self, err: Exception) -> None:
        """Log (once) that a stored model call could not be rebuilt; it is made again."""
        if not self._warned:
            self._warned = True
            logger.warning(
                "omnicache: a stored AG2 model call could not be rebuilt (%s: %s); calling the "
                "model again and overwriting it (logged once)",
                type(err).__name__,
                err,
            )


# ==== AG2 1.x: whole-run replay ==================================================================
class AG2CacheAdapter:
    """Replay an AG2 1.x agent's whole ``ask`` for an identical message and agent.

    The key holds the agent's class, name, system prompt (static and dynamic), variables,
    tool schemas, response schema and model config (as :class:`CachedModelConfig` keys it),
    the run options, the prior history of a given ``stream`` and the message. A hit returns
    an ``AgentReply`` (AG2's own type) over a stream holding the live run's history, so
    ``body``, ``response``, ``history``, ``usage()`` and follow-up ``reply.ask(...)`` work as
    after the live run; the model is not called. Pair it with :class:`CachedModelConfig` to
    also cache each model call of runs that miss.

    Args:
        agent: An ``ag2.Agent``.
        manager: The :class:`CacheManager` to store through.
        ttl: Seconds to live (default: the manager's ``response`` TTL).

    Example:
        >>> import asyncio
        >>> from ag2 import Agent
        >>> from ag2.testing import TestConfig
        >>> from omnicache_ai import CacheManager
        >>> cached = AG2CacheAdapter(Agent("a", config=TestConfig("Paris")), CacheManager())
        >>> asyncio.run(cached.arun("Capital of France?")).body
        'Paris'
        >>> cached.run("Capital of France?").body  # replayed: TestConfig has no answer left
        'Paris'
    """

    def __init__(self, agent: Any, manager: CacheManager, *, ttl: float | None = None) -> None:
        if not isinstance(agent, Agent):
            raise TypeError(f"AG2CacheAdapter needs an ag2.Agent, got {type(agent).__name__}")
        self.agent = agent
        self.runs: RunReplay[Any] = RunReplay(
            _check_manager(manager),
            "ag2",
            RunCodec(encode=self._encode, decode=_restore_run, refuse=self._refuse),
            ttl=ttl,
        )

    # ---- describing a run ---------------------------------------------------------------------
    async def _describe(
        self, msg: Sequence[Any], config: Any, options: Mapping[str, Any]
    ) -> tuple[str, Any, dict[str, Any]]:
        agent = self.agent
        config = _unwrap(config or agent.config)
        stream = options.get("stream")
        prior = [] if stream is None else list(await stream.history.get_events())
        context: dict[str, Any] = {
            "agent": _qualified(type(agent)),
            "name": agent.name,
            "prompt": [str(p) for p in agent.system_prompt],
            "dynamic_prompt": [describe_callable(p) for p in agent.dynamic_prompt],
            "variables": plain(dict(agent.variables)),
            "tools": [_tool_data(t) for t in agent.tools],
            "response_schema": _response_schema(agent.response_schema),
            "config": None if config is None else config_settings(config),
            "options": {
                k: [_tool_data(t) for t in v] if k == "tools" else plain(v)
                for k, v in options.items()
                if k != "stream"
            },
            "history": [keyed(e) for e in prior],
        }
        model = "unknown" if config is None else _model_label(config)
        return model, keyed(ModelRequest.ensure_request(msg)), context

    async def key(self, *msg: Any, config: Any = None, **options: Any) -> str:
        """The key this message would be stored under now (to debug a miss)."""
        return self.runs.key(*(await self._describe(msg, config, options)))

    # ---- codec --------------------------------------------------------------------------------
    @staticmethod
    def _refuse(ran: tuple[Any, list[Any]]) -> str | None:
        reason = getattr(ran[0].response, "finish_reason", None)
        return str(reason) if reason in _UNFINISHED else None

    @staticmethod
    def _encode(ran: tuple[Any, list[Any]]) -> dict[str, Any]:
        reply, history = ran
        return {"response": stored(reply.response), "history": [stored(e) for e in history]}

    # ---- run ----------------------------------------------------------------------------------
    async def arun(self, *msg: Any, config: Any = None, **options: Any) -> Any:
        """``await agent.ask(*msg, ...)``, or its replay (an ``AgentReply`` either way).

        ``options`` are ``ask``'s (``variables``, ``dependencies``, ``prompt``, ``tools``,
        ``stream``, ...); they are part of the key.
        """
        model, run_input, context = await self._describe(msg, config, options)
        live = False

        async def call() -> tuple[Any, list[Any]]:
            nonlocal live
            live = True
            kwargs = dict(options)
            if config is not None:
                kwargs["config"] = config
            reply = await self.agent.ask(*msg, **kwargs)
            return reply, list(await reply.history.get_events())

        reply, history = await self.runs.arun(model, run_input, context, call)
        if live:
            return reply
        return await self._rebuild(reply, history, config, options)

    async def _rebuild(
        self, response: Any, history: list[Any], config: Any, options: Mapping[str, Any]
    ) -> Any:
        """An ``AgentReply`` for a replayed run, over a stream holding its history."""
        agent = self.agent
        stream = options.get("stream") or MemoryStream()
        await stream.history.replace(history)
        context = ConversationContext(
            stream=stream,
            dependency_provider=agent.dependency_provider,
            variables={**agent.variables, **(options.get("variables") or {})},
            dependencies={**agent.dependencies, **(options.get("dependencies") or {})},
            prompt=[*agent.system_prompt, *(options.get("prompt") or ())],
        )
        config = config or agent.config
        return AgentReply(
            response,
            context=context,
            client=config.create(),
            agent=agent,
            provider=agent.dependency_provider,
            response_schema=agent.response_schema,
        )

    def run(self, *msg: Any, config: Any = None, **options: Any) -> Any:
        """Sync :meth:`arun` (on a private event loop; inside a running loop, await ``arun``)."""
        return run_apart(self.arun(*msg, config=config, **options))


def _restore_run(data: Mapping[str, Any]) -> tuple[Any, list[Any]]:
    return restored(data["response"]), restored(data["history"])


def _unwrap(config: Any) -> Any:
    return config.config if isinstance(config, CachedModelConfig) else config


def _tool_data(tool: Any) -> Any:
    schema = getattr(tool, "schema", None)
    if schema is not None and not callable(schema):
        return keyed(schema)
    return {"tool": describe_callable(tool), "name": getattr(tool, "name", None)}
