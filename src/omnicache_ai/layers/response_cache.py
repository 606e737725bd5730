"""ResponseCache: exact-match cache of LLM answers, keyed by model + messages + parameters.

The key holds the model, the messages and every parameter that changes the answer, after
normalisation (see :mod:`omnicache_ai.layers._request`: ``stream``, ``user``, timeouts and
other transport options are ignored, and explicit defaults equal omitted ones). Answers may
be strings, dicts or SDK objects (``openai.types.chat.ChatCompletion``,
``anthropic.types.Message``): tool calls and structured outputs round-trip intact.

Errors, empty answers, truncated answers (finish reason ``length`` / stop reason
``max_tokens``, unless ``cache_truncated=True``) and refusals are handed back but never
stored. Each hit adds the tokens and dollars the original call cost to the manager's
savings metrics.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Final

from omnicache_ai.core.cache_manager import MISSING, CacheManager, RequestConfig
from omnicache_ai.core.errors import ConfigurationError
from omnicache_ai.core.serializer import SafeSerializer, Serializer
from omnicache_ai.layers._admit import Admission, Uncacheable
from omnicache_ai.layers._base import (
    RequestLayer,
    check_id,
    refreshing,
    require_sync_result,
    with_tags,
)
from omnicache_ai.layers._request import RequestKeyer
from omnicache_ai.layers._usage import TokenUsage, extract_usage

__all__ = ["ResponseCache"]

_LAYER: Final = "response"


def pack_entry(value: Any, usage: TokenUsage | None) -> Any:
    """The stored form of an answer: a bare string, or ``[value, usage record]``."""
    if usage is None and type(value) is str:
        return value  # the commonest answer keeps the serializer's string fast path
    return [value, usage.to_record() if usage is not None else None]


def unpack_entry(raw: Any) -> tuple[Any, Any]:
    """``(value, usage record)`` of a stored entry, or ``(MISSING, None)`` if not one of ours."""
    if type(raw) is str:
        return raw, None
    if type(raw) is list and len(raw) == 2:
        return raw[0], raw[1]
    return MISSING, None


def count_savings(manager: CacheManager, layer: str, model: str, record: Any) -> None:
    """Add what a hit saved, from the usage recorded when the answer was computed."""
    # Unpacked by hand rather than through TokenUsage: this runs on every hit.
    if type(record) is not list or len(record) != 5:
        return
    fresh, output, read, write, reported = record
    if not (
        type(fresh) is int and type(output) is int and type(read) is int and type(write) is int
    ):
        return
    priced = reported if type(reported) is str and reported else model
    cost = manager.pricing.cost(priced, fresh, output, read, write)
    manager.record_savings(
        layer, model=priced, input_tokens=fresh + read + write, output_tokens=output, cost=cost
    )


class ResponseCache(RequestLayer):
    """Cache LLM answers by model + messages + every parameter that changes the answer.

    Args:
        manager: The :class:`CacheManager` to store through.
        serializer: Serializer for this layer's entries (e.g. ``JsonSerializer()``).
        ttl: Default seconds to live (default: the manager's ``response`` TTL, 600 s).
        cache_truncated: Also cache answers cut off by the token limit.
        is_refusal: ``predicate(answer) -> bool`` marking further answers as refusals, which
            are never cached (OpenAI ``message.refusal`` and ``content_filter`` are built in).
        param_defaults: Parameter defaults to normalise away (default:
            :data:`~omnicache_ai.layers._request.DEFAULT_PARAMS`, the values OpenAI and
            Anthropic share); pass your provider's table when its defaults differ.
        ignored_params: Parameters left out of the key (default:
            :data:`~omnicache_ai.layers._request.IGNORED_PARAMS`).
        tag_models: Tag entries ``model:<id>`` so :meth:`invalidate_model` works. A tagged
            entry costs the manager a tag-generation check on every hit; ``False`` skips
            it (about half the hit latency on the in-memory backend) and disables
            ``invalidate_model``.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> cache = ResponseCache(CacheManager())
        >>> messages = [{"role": "user", "content": "What is 2+2?"}]
        >>> cache.set(messages, "4", model_id="gpt-4o")
        True
        >>> cache.get(messages, model_id="gpt-4o")
        '4'
        >>> cache.get(messages, model_id="gpt-4o", params={"temperature": 1.0, "stream": True})
        '4'
    """

    layer = _LAYER
    key_type = "response"

    def __init__(
        self,
        manager: CacheManager,
        *,
        serializer: Serializer | None = None,
        ttl: float | None = None,
        cache_truncated: bool = False,
        is_refusal: Callable[[Any], bool] | None = None,
        param_defaults: Mapping[str, Any] | None = None,
        ignored_params: Iterable[str] | None = None,
        tag_models: bool = True,
    ) -> None:
        super().__init__(manager, serializer=serializer, ttl=ttl)
        self.tag_models = tag_models
        self.admission = Admission(cache_truncated=cache_truncated, is_refusal=is_refusal)
        self._keyer = RequestKeyer(param_defaults, ignored_params)

    # ---- pure helpers shared by the sync and async methods ---------------------------------
    def cache_key(
        self, messages: Any, model_id: str | None = None, params: Mapping[str, Any] | None = None
    ) -> str:
        """The key a request is stored under (useful to debug misses).

        Example:
            >>> from omnicache_ai import CacheManager
            >>> rc = ResponseCache(CacheManager())
            >>> m = [{"role": "user", "content": "hi"}]
            >>> rc.cache_key(m, model_id="gpt-4o", params={"n": 1, "user": "u1"}) == (
            ...     rc.cache_key(m, model_id="gpt-4o"))
            True
        """
        return self._request(messages, model_id, params)[0]

    def _tags(self, model: str, tags: Iterable[str] | None) -> list[str]:
        own = with_tags(f"model:{model}", tags)
        return own if self.tag_models else own[1:]

    def _model_tag(self, model_id: str) -> str:
        if not self.tag_models:
            raise ConfigurationError(
                "invalidate_model needs model tags: this ResponseCache was built with "
                "tag_models=False"
            )
        return f"model:{check_id('model_id', model_id)}"

    def _entry(self, value: Any, usage: TokenUsage | None) -> Any:
        """The stored form of ``value``; raises :class:`Uncacheable` for a bad answer."""
        why = self.admission.problem(value)
        if why is not None:
            raise Uncacheable(value, why)
        self._remember_generic(value)
        return pack_entry(value, usage if usage is not None else extract_usage(value))

    def _remember_generic(self, value: Any) -> None:
        # Structured outputs come back as a parametrized generic (ParsedChatCompletion[T]),
        # a class no module attribute names, so the safe serializer could not find it again
        # on read. Registering the class this process just produced lets it be rebuilt.
        meta = getattr(type(value), "__pydantic_generic_metadata__", None)
        if meta and meta.get("origin") is not None:
            ser = self.serializer or self.manager.serializer
            if isinstance(ser, SafeSerializer):
                ser.register(type(value))

    def _hit(self, raw: Any, model: str, default: Any) -> Any:
        """The answer in a stored entry (savings counted), or ``default``.

        Callers return a bare string entry themselves (``raw if type(raw) is str``): the
        commonest hit then costs no call here.
        """
        value, record = unpack_entry(raw)
        if value is MISSING:
            return default
        if record is not None:
            count_savings(self.manager, self.layer, model, record)
        return value

    def _served(self, raw: Any, model: str, computed: bool) -> Any:
        value, record = unpack_entry(raw)
        if not computed and record is not None:
            count_savings(self.manager, self.layer, model, record)
        return value

    # ---- sync API ---------------------------------------------------------------------------
    def get(
        self,
        messages: Any,
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        config: RequestConfig | None = None,
        default: Any = None,
    ) -> Any:
        """The cached answer for this request, or ``default`` on a miss.

        Args:
            messages: The chat messages (or a prompt string).
            model_id: The model (or give it as ``params["model"]``).
            params: Request parameters (``temperature``, ``tools``, ...); a whole request
                dict works too, ignored parameters are dropped.
            config: Per-call overrides (``skip_cache``, ``refresh``, ...).
            default: Returned on a miss.
        """
        key, model = self._request(messages, model_id, params)
        raw = self.manager.get(
            key, MISSING, layer=self.layer, config=config, serializer=self.serializer
        )
        return raw if type(raw) is str else self._hit(raw, model, default)

    def set(
        self,
        messages: Any,
        response: Any,
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        usage: TokenUsage | None = None,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> bool:
        """Store ``response`` for this request, unless it is an error, empty, cut or a refusal.

        Args:
            messages: The chat messages (or a prompt string).
            response: The answer: a string, a dict or an SDK response object.
            model_id: The model (or give it as ``params["model"]``).
            params: Request parameters.
            usage: Token usage of the call (default: read from ``response``).
            ttl: Seconds to live (default: the layer's).
            tags: Extra tags (``model:<id>`` is always added).
            config: Per-call overrides.

        Returns:
            Whether the answer was admitted (it may still be skipped by ``config``).
        """
        key, model = self._request(messages, model_id, params)
        try:
            entry = self._entry(response, usage)
        except Uncacheable:
            return False
        self.manager.set(
            key,
            entry,
            self._ttl(ttl),
            tags=self._tags(model, tags),
            layer=self.layer,
            config=config,
            serializer=self.serializer,
        )
        return True

    def delete(
        self, messages: Any, model_id: str | None = None, params: Mapping[str, Any] | None = None
    ) -> bool:
        """Remove this request's answer; returns whether one was stored."""
        key, _ = self._request(messages, model_id, params)
        return self.manager.delete(key, layer=self.layer)

    def get_or_generate(
        self,
        messages: Any,
        generate_fn: Callable[[Any], Any],
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> Any:
        """The cached answer, or ``generate_fn(messages)`` computed once and cached.

        Stampede-safe: concurrent callers missing the same request wait for one call. An
        exception from ``generate_fn`` reaches every waiter and nothing is cached; so does an
        answer that must not be cached (it is returned, not stored).

        Example:
            >>> from omnicache_ai import CacheManager
            >>> rc = ResponseCache(CacheManager())
            >>> calls = []
            >>> def llm(msgs):
            ...     calls.append(msgs)
            ...     return "Paris"
            >>> q = [{"role": "user", "content": "Capital of France?"}]
            >>> rc.get_or_generate(q, llm, model_id="gpt-4o"), rc.get_or_generate(q, llm,
            ...                                                                  model_id="gpt-4o")
            ('Paris', 'Paris')
            >>> len(calls)
            1
        """
        key, model = self._request(messages, model_id, params)
        computed = False

        def produce() -> Any:
            nonlocal computed
            computed = True
            result = require_sync_result(generate_fn(messages), "generate_fn", "aget_or_generate")
            return self._entry(result, None)

        try:
            raw = self.manager.get_or_set(
                key,
                produce,
                self._ttl(ttl),
                tags=self._tags(model, tags),
                layer=self.layer,
                config=config,
                serializer=self.serializer,
            )
        except Uncacheable as skipped:
            return skipped.value
        value = self._served(raw, model, computed)
        if value is MISSING:  # a foreign entry sits under our key: replace it
            return self.get_or_generate(
                messages,
                generate_fn,
                model_id=model,
                params=params,
                ttl=ttl,
                tags=tags,
                config=refreshing(config),
            )
        return value

    def invalidate_model(self, model_id: str) -> int:
        """Retire every cached answer of ``model_id`` (responses and streams)."""
        return self.manager.invalidate(self._model_tag(model_id))

    # ---- async API (same logic, awaited manager) ----------------------------------------------
    async def aget(
        self,
        messages: Any,
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        config: RequestConfig | None = None,
        default: Any = None,
    ) -> Any:
        """Async :meth:`get`."""
        key, model = self._request(messages, model_id, params)
        raw = await self.manager.aget(
            key, MISSING, layer=self.layer, config=config, serializer=self.serializer
        )
        return raw if type(raw) is str else self._hit(raw, model, default)

    async def aset(
        self,
        messages: Any,
        response: Any,
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        usage: TokenUsage | None = None,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> bool:
        """Async :meth:`set`."""
        key, model = self._request(messages, model_id, params)
        try:
            entry = self._entry(response, usage)
        except Uncacheable:
            return False
        await self.manager.aset(
            key,
            entry,
            self._ttl(ttl),
            tags=self._tags(model, tags),
            layer=self.layer,
            config=config,
            serializer=self.serializer,
        )
        return True

    async def adelete(
        self, messages: Any, model_id: str | None = None, params: Mapping[str, Any] | None = None
    ) -> bool:
        """Async :meth:`delete`."""
        key, _ = self._request(messages, model_id, params)
        return await self.manager.adelete(key, layer=self.layer)

    async def aget_or_generate(
        self,
        messages: Any,
        generate_fn: Callable[[Any], Awaitable[Any] | Any],
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> Any:
        """Async :meth:`get_or_generate`; ``generate_fn`` may be async or plain."""
        key, model = self._request(messages, model_id, params)
        computed = False

        async def produce() -> Any:
            nonlocal computed
            computed = True
            result = generate_fn(messages)
            if inspect.isawaitable(result):
                result = await result
            return self._entry(result, None)

        try:
            raw = await self.manager.aget_or_set(
                key,
                produce,
                self._ttl(ttl),
                tags=self._tags(model, tags),
                layer=self.layer,
                config=config,
                serializer=self.serializer,
            )
        except Uncacheable as skipped:
            return skipped.value
        value = self._served(raw, model, computed)
        if value is MISSING:  # a foreign entry sits under our key: replace it
            return await self.aget_or_generate(
                messages,
                generate_fn,
                model_id=model,
                params=params,
                ttl=ttl,
                tags=tags,
                config=refreshing(config),
            )
        return value

    async def ainvalidate_model(self, model_id: str) -> int:
        """Async :meth:`invalidate_model`."""
        return await self.manager.ainvalidate(self._model_tag(model_id))
