"""AG2 classic adapter (package ``ag2`` 0.x, module ``autogen``: ``ConversableAgent``).

This is the README's "AutoGen 0.2.x" API, maintained as AG2; ``AutoGenCacheAdapter(agent,
manager)`` hands a ``ConversableAgent`` to :class:`AG2ClassicCacheAdapter`. AG2 1.x (module
``ag2``) has its own adapter, :mod:`omnicache_ai.adapters.ag2_adapter`.

* :class:`AG2ClassicCache` is AG2's ``AbstractCache`` protocol over a :class:`CacheManager`:
  pass it as ``cache=`` (``initiate_chat(..., cache=...)``, ``OpenAIWrapper.create(cache=...)``)
  or set it as ``agent.client_cache`` for ``generate_reply``. AG2 builds the key (a JSON-able
  dict of the whole request: model, messages, tools, settings, credentials dropped) and
  caches each model call, tool-loop steps included. Values are the client's responses, kept
  in a form the safe serializer writes (pydantic models and dataclasses as such,
  ``SimpleNamespace`` trees as plain data) and rebuilt on read.
* :class:`AG2ClassicCacheAdapter` replays ``generate_reply`` / ``a_generate_reply`` for an
  identical conversation, system message, ``llm_config`` and tool/function schemas.

Example:
    >>> from autogen import ConversableAgent
    >>> from omnicache_ai import CacheManager
    >>> agent = ConversableAgent("greeter", llm_config=False)
    >>> agent.register_reply([ConversableAgent, None], lambda *args, **kw: (True, "Hello!"))
    >>> AG2ClassicCacheAdapter(agent, CacheManager()).generate_reply(
    ...     messages=[{"role": "user", "content": "Hi"}]
    ... )
    'Hello!'
"""

from __future__ import annotations

import dataclasses
import logging
import types
from collections.abc import Mapping
from typing import Any, Final

from omnicache_ai.adapters._plain import describe_callable, plain
from omnicache_ai.adapters._runs import RunCodec, RunReplay
from omnicache_ai.core.cache_manager import MISSING, CacheManager
from omnicache_ai.layers._admit import Uncacheable

try:
    from autogen import ConversableAgent
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.ag2_classic_adapter needs AG2 classic (ag2 0.x, module "
        "`autogen`); install it with: pip install 'omnicache-ai[ag2-classic]'"
    ) from err

__all__ = ["AG2ClassicCache", "AG2ClassicCacheAdapter"]

logger = logging.getLogger("omnicache_ai")

#: Key type segment of the entries :class:`AG2ClassicCache` writes.
KEY_TYPE: Final = "ag2-cache"


def _check_manager(manager: Any) -> CacheManager:
    if not isinstance(manager, CacheManager):
        raise TypeError(f"manager must be a CacheManager, got {type(manager).__name__}")
    return manager


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# ---- the AbstractCache protocol -------------------------------------------------------------
def _classic_value(value: Any) -> Any:
    """A client response in a form the safe serializer writes; raises Uncacheable otherwise."""
    if isinstance(value, types.SimpleNamespace):
        return {"__namespace__": {k: _classic_value(v) for k, v in vars(value).items()}}
    if isinstance(value, list | tuple):
        return [_classic_value(v) for v in value]
    if isinstance(value, Mapping):
        return {"__mapping__": {str(k): _classic_value(v) for k, v in value.items()}}
    if value is None or isinstance(value, str | int | float | bool | bytes):
        return value
    if (dataclasses.is_dataclass(value) and not isinstance(value, type)) or callable(
        getattr(value, "model_dump", None)
    ):
        return value  # the safe serializer stores and rebuilds these itself
    raise Uncacheable(value, f"a {type(value).__qualname__} response cannot be stored safely")


def _classic_restore(data: Any) -> Any:
    if isinstance(data, list):
        return [_classic_restore(v) for v in data]
    if isinstance(data, Mapping):
        if "__namespace__" in data:
            return types.SimpleNamespace(
                **{k: _classic_restore(v) for k, v in data["__namespace__"].items()}
            )
        if "__mapping__" in data:
            return {k: _classic_restore(v) for k, v in data["__mapping__"].items()}
    return data


class AG2ClassicCache:
    """AG2 classic's ``AbstractCache`` (``get``/``set``/``close`` + context manager) on a manager.

    AG2 builds the key itself (a JSON-able dict of the whole request: model, messages, tools,
    settings, with credentials dropped) and stores the client's response. Responses are kept
    in a safe form (pydantic models and dataclasses as such, ``SimpleNamespace`` trees as
    plain data, rebuilt as ``SimpleNamespace`` on read); a response of any other type is
    not stored (logged once). A backend failure is a miss. AG2 calls this synchronously from
    its client wrapper (in a worker thread for ``a_generate_reply``).

    Args:
        manager: The :class:`CacheManager` to store through.
        ttl: Seconds to live (default: the manager's ``response`` TTL).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> cache = AG2ClassicCache(CacheManager())
        >>> with cache as c:
        ...     c.set({"model": "m", "messages": [{"role": "user", "content": "hi"}]}, "hello")
        >>> cache.get({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        'hello'
        >>> cache.get({"model": "other"}, "default")
        'default'
    """

    def __init__(self, manager: CacheManager, *, ttl: float | None = None) -> None:
        self.manager = _check_manager(manager)
        self.ttl = ttl
        self._warned = False

    def _key(self, key: Any) -> str:
        if key is None or (isinstance(key, str | Mapping) and not key):
            raise TypeError(f"AbstractCache keys are non-empty strings or dicts, got {key!r}")
        return self.manager.key_builder.build(KEY_TYPE, plain(key))

    def get(self, key: Any, default: Any = None) -> Any:
        """The stored response for ``key``, or ``default``."""
        value = self.manager.get(self._key(key), MISSING, layer="response")
        if value is MISSING:
            return default
        return _classic_restore(value)

    def set(self, key: Any, value: Any) -> None:
        """Store ``value`` (a client response) under ``key``."""
        try:
            entry = _classic_value(value)
        except Uncacheable as skipped:
            if not self._warned:
                self._warned = True
                logger.warning("omnicache: AG2 response not cached: %s (logged once)", skipped)
            return
        tags = None
        if isinstance(key, Mapping) and isinstance(key.get("model"), str):
            tags = [f"model:ag2/{key['model']}"]
        self.manager.set(self._key(key), entry, self.ttl, tags=tags, layer="response")

    def close(self) -> None:
        """Nothing to release: the manager owns the backend."""

    def __enter__(self) -> AG2ClassicCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- ConversableAgent.generate_reply replay --------------------------------------------------
_VOLATILE_CONFIG: Final = frozenset({"api_key", "base_url", "api_version", "azure_ad_token"})


def _llm_config_data(llm_config: Any) -> Any:
    if llm_config is False or llm_config is None:
        return llm_config
    data = llm_config.model_dump(mode="json") if hasattr(llm_config, "model_dump") else llm_config
    return _scrub_config(plain(data))


def _scrub_config(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {k: _scrub_config(v) for k, v in data.items() if k not in _VOLATILE_CONFIG}
    if isinstance(data, list):
        return [_scrub_config(v) for v in data]
    return data


def _classic_describe(agent: Any) -> tuple[str, dict[str, Any]]:
    llm_config = _llm_config_data(getattr(agent, "llm_config", None))
    model = "unknown"
    if isinstance(llm_config, Mapping):
        entries = llm_config.get("config_list") or [llm_config]
        models = [e.get("model") for e in entries if isinstance(e, Mapping) and e.get("model")]
        if models:
            model = "|".join(str(m) for m in models)
    context = {
        "agent": _qualified(type(agent)),
        "name": agent.name,
        "system_message": agent.system_message,
        "llm_config": llm_config,
        "tools": plain(getattr(agent, "tools", None) and [t.tool_schema for t in agent.tools]),
        "functions": plain(_registered_schemas(agent)),
        "human_input_mode": getattr(agent, "human_input_mode", None),
        "replies": [describe_callable(r["reply_func"]) for r in agent._reply_func_list],
    }
    return model, context


def _registered_schemas(agent: Any) -> Any:
    config = getattr(agent, "llm_config", None)
    if not config:
        return None
    getter = config.get if hasattr(config, "get") else lambda k, d=None: getattr(config, k, d)
    return {"tools": getter("tools", None), "functions": getter("functions", None)}


def _classic_reply_encode(reply: Any) -> Any:
    if reply is None or isinstance(reply, str | Mapping):
        return {"reply": plain(reply)}
    raise Uncacheable(reply, f"a {type(reply).__qualname__} reply cannot be stored safely")


def _classic_reply_refuse(reply: Any) -> str | None:
    if reply is None:
        return "no reply"
    if not isinstance(reply, str | Mapping):
        return f"a {type(reply).__qualname__} reply cannot be stored safely"
    return None


class AG2ClassicCacheAdapter:
    """Replay an AG2 classic ``ConversableAgent.generate_reply`` for an identical conversation.

    The key holds the agent's class, name, system message, ``llm_config`` (credentials and
    endpoints left out), tool and function schemas, human-input mode, its registered reply
    functions and the messages. A reply that is ``None`` (nothing to say) is not stored.
    ``AutoGenCacheAdapter(conversable_agent, manager)`` hands out this class.

    Args:
        agent: An ``autogen.ConversableAgent`` (or a subclass: ``AssistantAgent``, ...).
        manager: The :class:`CacheManager` to store through.
        ttl: Seconds to live (default: the manager's ``response`` TTL).

    Example:
        >>> from autogen import ConversableAgent
        >>> from omnicache_ai import CacheManager
        >>> agent = ConversableAgent("greeter", llm_config=False)
        >>> agent.register_reply([ConversableAgent, None], lambda *args, **kw: (True, "Hello!"))
        >>> cached = AG2ClassicCacheAdapter(agent, CacheManager())
        >>> cached.generate_reply(messages=[{"role": "user", "content": "Hi"}])
        'Hello!'
    """

    def __init__(self, agent: Any, manager: CacheManager, *, ttl: float | None = None) -> None:
        if not isinstance(agent, ConversableAgent):
            raise TypeError(
                f"AG2ClassicCacheAdapter needs an autogen.ConversableAgent, "
                f"got {type(agent).__name__}"
            )
        self.agent = agent
        self.runs: RunReplay[Any] = RunReplay(
            _check_manager(manager),
            "ag2-classic",
            RunCodec(
                encode=_classic_reply_encode,
                decode=lambda data: data["reply"],
                refuse=_classic_reply_refuse,
            ),
            ttl=ttl,
        )

    def _input(self, messages: Any, sender: Any) -> Any:
        if messages is None and sender is not None:
            messages = self.agent.chat_messages.get(sender, [])
        if messages is None:
            raise TypeError("generate_reply needs messages (or a sender with a conversation)")
        return {
            "messages": plain(list(messages)),
            "sender": None if sender is None else getattr(sender, "name", None),
        }

    def _request(
        self, messages: Any, sender: Any, options: Mapping[str, Any]
    ) -> tuple[str, Any, dict[str, Any]]:
        """``(model, input, context)`` of one ``generate_reply`` call, as plain data."""
        model, context = _classic_describe(self.agent)
        context["options"] = plain(dict(options))
        return model, self._input(messages, sender), context

    def key(self, messages: Any = None, sender: Any = None, **kwargs: Any) -> str:
        """The key these messages would be stored under now (to debug a miss)."""
        return self.runs.key(*self._request(messages, sender, kwargs))

    def generate_reply(
        self,
        messages: list[dict[str, Any]] | None = None,
        sender: Any = None,
        **kwargs: Any,
    ) -> Any:
        """``agent.generate_reply(messages, sender, ...)``, or its replay."""
        return self.runs.run(
            *self._request(messages, sender, kwargs),
            lambda: self.agent.generate_reply(messages=messages, sender=sender, **kwargs),
        )

    async def a_generate_reply(
        self,
        messages: list[dict[str, Any]] | None = None,
        sender: Any = None,
        **kwargs: Any,
    ) -> Any:
        """``await agent.a_generate_reply(...)``, or its replay."""

        async def call() -> Any:
            return await self.agent.a_generate_reply(messages=messages, sender=sender, **kwargs)

        return await self.runs.arun(*self._request(messages, sender, kwargs), call)
