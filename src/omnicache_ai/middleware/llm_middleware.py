"""LLMMiddleware and AsyncLLMMiddleware: put a ResponseCache in front of any LLM callable.

The wrapped function keeps its signature. Its messages are the first positional argument,
or the ``messages=`` (or ``prompt=``) keyword; the model is the call's ``model=`` keyword or
the middleware's ``model_id``; every other argument goes into the key as a request
parameter, normalised like :class:`~omnicache_ai.layers.response_cache.ResponseCache`
parameters (so ``stream``, ``timeout``, ``user`` ... are ignored and defaults dropped).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

from omnicache_ai.core.cache_manager import RequestConfig
from omnicache_ai.core.key_builder import CacheKeyBuilder
from omnicache_ai.layers.response_cache import ResponseCache
from omnicache_ai.middleware._callables import callable_kind

__all__ = ["AsyncLLMMiddleware", "LLMMiddleware"]

P = ParamSpec("P")
R = TypeVar("R")

_MESSAGE_KWARGS = ("messages", "prompt")


class _LLMMiddlewareBase:
    """Configuration and call splitting shared by the sync and async middleware."""

    def __init__(
        self,
        response_cache: ResponseCache,
        key_builder: CacheKeyBuilder | None = None,
        model_id: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> None:
        if not isinstance(response_cache, ResponseCache):
            raise TypeError(
                f"{type(self).__name__} needs a ResponseCache, got {type(response_cache).__name__}"
            )
        if model_id is not None and (type(model_id) is not str or not model_id):
            raise ValueError(f"model_id must be a non-empty string or None, got {model_id!r}")
        self.cache = (
            response_cache if key_builder is None else response_cache.with_key_builder(key_builder)
        )
        self.model_id = model_id
        self.params = dict(params or {})
        self.ttl = ttl
        self.tags = None if tags is None else list(tags)
        self.config = config

    def _split(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, str | None, dict[str, Any]]:
        """(messages, model, key parameters) of one call."""
        if args:
            messages, rest = args[0], args[1:]
        else:
            rest = ()
            name = next((n for n in _MESSAGE_KWARGS if n in kwargs), None)
            if name is None:
                raise TypeError(
                    "the wrapped LLM call got no messages: pass them as the first positional "
                    "argument or as messages=..."
                )
            messages = kwargs[name]
        params = {**self.params}
        for k, v in kwargs.items():
            if k not in _MESSAGE_KWARGS and k != "model":
                params[k] = v
        if rest:
            params["positional_args"] = list(rest)
        model = kwargs.get("model", self.model_id)
        return messages, model, params


class LLMMiddleware(_LLMMiddlewareBase):
    """Cache a synchronous LLM callable's answers (stampede-safe).

    Args:
        response_cache: Where answers are cached.
        key_builder: Build keys with this builder instead of the manager's (e.g. a separate
            namespace for this call site).
        model_id: The model, when calls do not pass ``model=``.
        params: Fixed request parameters of this call site, added to every key.
        ttl: Seconds to live for answers cached through this middleware.
        tags: Extra tags for them.
        config: Per-call overrides applied to every call.

    Example:
        >>> from omnicache_ai import CacheManager, CacheKeyBuilder, ResponseCache
        >>> manager = CacheManager()
        >>> middleware = LLMMiddleware(ResponseCache(manager), CacheKeyBuilder(), model_id="gpt-4o")
        >>> calls = []
        >>> @middleware
        ... def call_llm(messages, temperature=0.0):
        ...     calls.append(messages)
        ...     return "4"
        >>> q = [{"role": "user", "content": "2+2?"}]
        >>> call_llm(q), call_llm(q), call_llm(q, temperature=0.7), len(calls)
        ('4', '4', '4', 2)
    """

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Wrap ``fn``; the wrapper has ``fn``'s signature."""
        kind = callable_kind(fn)
        if kind != "sync":
            hint = (
                "AsyncLLMMiddleware"
                if kind == "async"
                else "StreamingResponseCache or @cached(...)"
            )
            raise TypeError(f"LLMMiddleware wraps plain functions; {fn!r} is {kind}: use {hint}")

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            messages, model, params = self._split(args, kwargs)
            result: R = self.cache.get_or_generate(
                messages,
                lambda _m: fn(*args, **kwargs),
                model_id=model,
                params=params,
                ttl=self.ttl,
                tags=self.tags,
                config=self.config,
            )
            return result

        return wrapper


class AsyncLLMMiddleware(_LLMMiddlewareBase):
    """Cache an async LLM callable's answers (stampede-safe across tasks and threads).

    Takes the same arguments as :class:`LLMMiddleware`.

    Example:
        >>> import asyncio
        >>> from omnicache_ai import CacheManager, CacheKeyBuilder, ResponseCache
        >>> rc = ResponseCache(CacheManager())
        >>> @AsyncLLMMiddleware(rc, CacheKeyBuilder(), model_id="gpt-4o")
        ... async def call_llm_async(messages):
        ...     return "Paris"
        >>> asyncio.run(call_llm_async([{"role": "user", "content": "Capital of France?"}]))
        'Paris'
    """

    def __call__(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Wrap the coroutine function ``fn``; the wrapper has ``fn``'s signature."""
        kind = callable_kind(fn)
        if kind != "async":
            hint = "LLMMiddleware" if kind == "sync" else "StreamingResponseCache or @cached(...)"
            raise TypeError(
                f"AsyncLLMMiddleware wraps coroutine functions; {fn!r} is {kind}: use {hint}"
            )

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            messages, model, params = self._split(args, kwargs)
            result: R = await self.cache.aget_or_generate(
                messages,
                lambda _m: fn(*args, **kwargs),
                model_id=model,
                params=params,
                ttl=self.ttl,
                tags=self.tags,
                config=self.config,
            )
            return result

        return wrapper
