"""Anthropic SDK adapter: the real ``anthropic`` client, with its answers served from the cache.

* :class:`AnthropicCacheAdapter` (the README's API): ``adapter.messages_create(**kwargs)`` /
  ``await adapter.amessages_create(**kwargs)``, and ``messages_stream`` / ``amessages_stream``;
* the drop-ins :class:`CachedAnthropic` / :class:`AsyncCachedAnthropic`, whose
  ``client.messages.create(...)`` and ``client.messages.stream(...)`` keep the SDK's
  signatures and types; every other attribute is the wrapped client's own (not cached).

A call returns the SDK's ``Message``; ``stream=True`` an SDK-``Stream``-like iterator of the
raw events (``RawMessageStartEvent``, ``RawContentBlockDeltaEvent`` ...), and
``messages.stream(...)`` the SDK's own ``MessageStreamManager``, fed the same events, so
``text_stream``, ``get_final_message()`` and the helper events work on a replay as on a
live stream. A cached event sequence is replayed in order; a live one is passed through and
stored only once it reached ``message_stop``.

The adapter is wired to :class:`~omnicache_ai.layers.prompt_cache.PromptCacheLayer`: every
answer that reached Anthropic has its ``usage.cache_read_input_tokens`` /
``cache_creation_input_tokens`` counted in the manager's metrics (layer ``"prompt"``), and
``auto_cache_control=True`` adds ``cache_control`` breakpoints to the stable prefix (tools,
system prompt, long documents) of what is sent, never to the caller's request, nor to the key.

Example:
    >>> import anthropic
    >>> from omnicache_ai import CacheManager
    >>> from omnicache_ai.adapters.anthropic_adapter import CachedAnthropic
    >>> sdk = anthropic.Anthropic(api_key="sk-ant-test")
    >>> client = CachedAnthropic(sdk, CacheManager())
    >>> client.models is sdk.models  # not intercepted: the SDK's own
    True
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Final

from omnicache_ai.adapters._sdk import (
    CacheInfo,
    Proxy,
    SdkCache,
    SdkRequest,
    arun,
    cache_info,
    client_for,
    run,
    sdk_request,
)
from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.layers.prompt_cache import PromptCacheLayer
from omnicache_ai.layers.semantic_cache import SemanticCache

try:
    import anthropic
    from anthropic.lib.streaming import AsyncMessageStreamManager, MessageStreamManager
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.anthropic_adapter needs the anthropic SDK; "
        "install it with: pip install 'omnicache-ai[anthropic]'"
    ) from err

__all__ = [
    "AnthropicCacheAdapter",
    "AsyncCachedAnthropic",
    "CacheInfo",
    "CachedAnthropic",
    "cache_info",
    "wrap",
]

_MESSAGES: Final = "anthropic.messages"


class AnthropicCacheAdapter:
    """Cache an ``anthropic.Anthropic`` / ``anthropic.AsyncAnthropic`` client's Messages calls.

    Keyed by the model, the messages and every argument that changes the answer
    (``max_tokens``, ``system``, ``tools``, ``tool_choice``, ``thinking``, sampling,
    ``stop_sequences``, ``output_config``, ``extra_body`` ...); never by ``metadata``,
    timeouts, ``extra_headers``, ``service_tier`` or the top-level ``cache_control``.

    Args:
        client: The SDK client (sync methods need ``Anthropic``, ``a``-methods
            ``AsyncAnthropic``).
        manager: The :class:`CacheManager` to store through (a tenant view for tenants).
        semantic: Opt-in :class:`SemanticCache` consulted after an exact miss.
        ttl: Seconds to live of answers and streams (default: the manager's layer TTLs).
        cache_truncated: Also cache answers cut off by ``max_tokens``.
        prompt_cache: The :class:`PromptCacheLayer` that places breakpoints and counts the
            provider's cache usage (default: one on ``manager``).
        auto_cache_control: Add ``cache_control`` breakpoints to what is sent upstream.

    Example:
        >>> import anthropic
        >>> from omnicache_ai import CacheManager
        >>> adapter = AnthropicCacheAdapter(anthropic.Anthropic(api_key="k"), CacheManager())
        >>> adapter.is_async, adapter.auto_cache_control
        (False, False)
    """

    def __init__(
        self,
        client: anthropic.Anthropic | anthropic.AsyncAnthropic,
        manager: CacheManager,
        *,
        semantic: SemanticCache | None = None,
        ttl: float | None = None,
        cache_truncated: bool = False,
        prompt_cache: PromptCacheLayer | None = None,
        auto_cache_control: bool = False,
    ) -> None:
        if not isinstance(client, anthropic.Anthropic | anthropic.AsyncAnthropic):
            raise TypeError(
                "client must be an anthropic.Anthropic or anthropic.AsyncAnthropic, "
                f"got {type(client).__name__}"
            )
        self.client: Any = client
        self.is_async = isinstance(client, anthropic.AsyncAnthropic)
        self.cache = SdkCache(
            manager,
            semantic=semantic,
            ttl=ttl,
            cache_truncated=cache_truncated,
            prompt_cache=prompt_cache,
        )
        self.auto_cache_control = bool(auto_cache_control)

    @property
    def manager(self) -> CacheManager:
        """The manager answers are stored through."""
        return self.cache.manager

    def rebind(self, client: anthropic.Anthropic | anthropic.AsyncAnthropic) -> Any:
        """This adapter's caches in front of another client (e.g. ``client.with_options()``)."""
        twin = copy.copy(self)
        twin.client = client
        twin.is_async = isinstance(client, anthropic.AsyncAnthropic)
        return twin

    def _check(self, method: str, want_async: bool) -> None:
        if self.is_async != want_async:
            other = method[1:] if want_async else f"a{method}"
            kind = "anthropic.AsyncAnthropic" if self.is_async else "anthropic.Anthropic"
            raise TypeError(f"{method}() cannot call an {kind} client; use {other}() instead")

    def _request(self, kwargs: dict[str, Any], *, stream: bool) -> tuple[SdkRequest, Any]:
        req, send = sdk_request(_MESSAGES, kwargs)
        if stream:
            send["stream"] = True
        if self.auto_cache_control:
            send = self.cache.prompt.prepare(send)
        return req, functools.partial(self.client.messages.create, **send)

    # ---- messages.create ----------------------------------------------------------------------
    def messages_create(self, **kwargs: Any) -> Any:
        """``client.messages.create(**kwargs)``, answered from the cache when it can.

        Returns:
            A ``Message``, or with ``stream=True`` a stream of the raw SSE events.

        Example:
            >>> import anthropic
            >>> from omnicache_ai import CacheManager
            >>> a = AnthropicCacheAdapter(anthropic.AsyncAnthropic(api_key="k"), CacheManager())
            >>> a.messages_create(model="claude-sonnet-4-6", max_tokens=8, messages=[])
            Traceback (most recent call last):
            ...
            TypeError: messages_create() cannot call an anthropic.AsyncAnthropic client; use amessages_create() instead
        """  # noqa: E501
        self._check("messages_create", want_async=False)
        stream = bool(kwargs.get("stream"))
        req, fetch = self._request(kwargs, stream=stream)
        if stream:
            return self.cache.stream(req, fetch)
        return run(self.cache.complete(req, fetch))

    async def amessages_create(self, **kwargs: Any) -> Any:
        """Async :meth:`messages_create` (an ``AsyncAnthropic`` client)."""
        self._check("amessages_create", want_async=True)
        stream = bool(kwargs.get("stream"))
        req, fetch = self._request(kwargs, stream=stream)
        if stream:
            return await self.cache.astream(req, fetch)
        return await arun(self.cache.complete(req, fetch))

    # ---- messages.stream ----------------------------------------------------------------------
    def messages_stream(self, **kwargs: Any) -> Any:
        """``client.messages.stream(**kwargs)``: the SDK's ``MessageStreamManager``.

        The request is made on ``with ... as stream:``, as with the SDK. A call with
        ``output_format`` (parsed structured output) goes to the SDK uncached.

        Example:
            >>> import anthropic
            >>> from omnicache_ai import CacheManager
            >>> a = AnthropicCacheAdapter(anthropic.Anthropic(api_key="k"), CacheManager())
            >>> type(a.messages_stream(model="claude-sonnet-4-6", max_tokens=8,
            ...                        messages=[{"role": "user", "content": "hi"}])).__name__
            'MessageStreamManager'
        """
        self._check("messages_stream", want_async=False)
        if kwargs.get("output_format") is not None:
            return self.client.messages.stream(**kwargs)
        req, fetch = self._request(kwargs, stream=True)
        # The SDK's manager takes any stand-in for its Stream: it only iterates and closes it.
        open_stream: Any = functools.partial(self.cache.stream, req, fetch)
        return MessageStreamManager(open_stream, output_format=anthropic.NOT_GIVEN)

    def amessages_stream(self, **kwargs: Any) -> Any:
        """Async :meth:`messages_stream`: ``async with adapter.amessages_stream(...) as s``."""
        self._check("amessages_stream", want_async=True)
        if kwargs.get("output_format") is not None:
            return self.client.messages.stream(**kwargs)
        req, fetch = self._request(kwargs, stream=True)
        opening: Any = self.cache.astream(req, fetch)
        return AsyncMessageStreamManager(opening, output_format=anthropic.NOT_GIVEN)


# ---- drop-in clients ----------------------------------------------------------------------


class _CachedClient(Proxy):
    """A client proxy whose ``messages.create`` and ``messages.stream`` are cached."""

    _async: bool = False

    def __init__(self, client: Any, cache: AnthropicCacheAdapter) -> None:
        create, stream = (
            (cache.amessages_create, cache.amessages_stream)
            if self._async
            else (cache.messages_create, cache.messages_stream)
        )
        super().__init__(
            client, cache=cache, messages=Proxy(client.messages, create=create, stream=stream)
        )

    def with_options(self, **kwargs: Any) -> Any:
        """The SDK's ``with_options`` / ``copy``, still cached (same caches)."""
        new = object.__getattribute__(self, "_target").with_options(**kwargs)
        twin = type(self).__new__(type(self))
        _CachedClient.__init__(twin, new, self.cache.rebind(new))
        return twin

    copy = with_options


class CachedAnthropic(_CachedClient):
    """A drop-in ``anthropic.Anthropic`` whose ``messages.create`` / ``stream`` are cached.

    Args:
        client: The client to wrap (default: ``anthropic.Anthropic(**client_kwargs)``).
        manager: Where answers are stored (default: a new in-memory ``CacheManager``).
        semantic: Opt-in :class:`SemanticCache`.
        ttl: Seconds to live of answers and streams.
        cache_truncated: Also cache answers cut off by ``max_tokens``.
        auto_cache_control: Add ``cache_control`` breakpoints to what is sent.
        **client_kwargs: ``anthropic.Anthropic`` arguments when ``client`` is not given.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> client = CachedAnthropic(manager=CacheManager(), api_key="sk-ant-test")
        >>> type(client.cache).__name__
        'AnthropicCacheAdapter'
    """

    def __init__(
        self,
        client: anthropic.Anthropic | None = None,
        manager: CacheManager | None = None,
        *,
        semantic: SemanticCache | None = None,
        ttl: float | None = None,
        cache_truncated: bool = False,
        auto_cache_control: bool = False,
        **client_kwargs: Any,
    ) -> None:
        real = client_for("CachedAnthropic", anthropic.Anthropic, client, client_kwargs)
        adapter = AnthropicCacheAdapter(
            real,
            manager or CacheManager(),
            semantic=semantic,
            ttl=ttl,
            cache_truncated=cache_truncated,
            auto_cache_control=auto_cache_control,
        )
        super().__init__(real, adapter)


class AsyncCachedAnthropic(_CachedClient):
    """A drop-in ``anthropic.AsyncAnthropic``: ``await client.messages.create(...)``.

    Same arguments as :class:`CachedAnthropic`.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> client = AsyncCachedAnthropic(manager=CacheManager(), api_key="sk-ant-test")
        >>> client.cache.is_async
        True
    """

    _async = True

    def __init__(
        self,
        client: anthropic.AsyncAnthropic | None = None,
        manager: CacheManager | None = None,
        *,
        semantic: SemanticCache | None = None,
        ttl: float | None = None,
        cache_truncated: bool = False,
        auto_cache_control: bool = False,
        **client_kwargs: Any,
    ) -> None:
        real = client_for("AsyncCachedAnthropic", anthropic.AsyncAnthropic, client, client_kwargs)
        adapter = AnthropicCacheAdapter(
            real,
            manager or CacheManager(),
            semantic=semantic,
            ttl=ttl,
            cache_truncated=cache_truncated,
            auto_cache_control=auto_cache_control,
        )
        super().__init__(real, adapter)


def wrap(
    client: anthropic.Anthropic | anthropic.AsyncAnthropic,
    manager: CacheManager | None = None,
    **options: Any,
) -> CachedAnthropic | AsyncCachedAnthropic:
    """The drop-in matching ``client``: :class:`CachedAnthropic` or :class:`AsyncCachedAnthropic`.

    Example:
        >>> import anthropic
        >>> from omnicache_ai import CacheManager
        >>> type(wrap(anthropic.AsyncAnthropic(api_key="k"), CacheManager())).__name__
        'AsyncCachedAnthropic'
    """
    if isinstance(client, anthropic.AsyncAnthropic):
        return AsyncCachedAnthropic(client, manager, **options)
    return CachedAnthropic(client, manager, **options)
