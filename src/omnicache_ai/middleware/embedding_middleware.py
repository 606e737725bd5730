"""EmbeddingMiddleware: put an EmbeddingCache in front of any sync or async embed function.

The wrapped function receives either one text or a list of texts as its first argument:

* a ``str`` is looked up and, on a miss, embedded with one call;
* a list is looked up in one batch read and only the distinct misses are passed to the
  function, in one call; the results come back in input order.

Other arguments (``dimensions=256``, ...) are part of the key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from omnicache_ai.core.cache_manager import RequestConfig
from omnicache_ai.core.key_builder import CacheKeyBuilder
from omnicache_ai.layers.embedding_cache import EmbeddingCache
from omnicache_ai.middleware._callables import callable_kind

__all__ = ["EmbeddingMiddleware"]


class EmbeddingMiddleware:
    """Cache an embedding function's vectors, one text or a batch at a time.

    Args:
        embedding_cache: Where vectors are cached.
        key_builder: Build keys with this builder instead of the manager's.
        model_id: The embedding model (part of every key).
        params: Fixed parameters of this call site (e.g. ``{"dimensions": 256}``).
        ttl: Seconds to live for vectors cached through this middleware.
        config: Per-call overrides applied to every call.

    Example:
        >>> import numpy as np
        >>> from omnicache_ai import CacheManager, EmbeddingCache
        >>> batches = []
        >>> @EmbeddingMiddleware(EmbeddingCache(CacheManager()), model_id="tiny-embed")
        ... def embed(texts):
        ...     batches.append(texts)
        ...     if isinstance(texts, str):
        ...         return np.array([len(texts)], dtype=np.float32)
        ...     return np.array([[len(t)] for t in texts], dtype=np.float32)
        >>> [v.tolist() for v in embed(["hi", "hello", "hi"])], embed("hello").tolist()
        ([[2.0], [5.0], [2.0]], [5.0])
        >>> batches
        [['hi', 'hello']]
    """

    def __init__(
        self,
        embedding_cache: EmbeddingCache,
        key_builder: CacheKeyBuilder | None = None,
        model_id: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        config: RequestConfig | None = None,
    ) -> None:
        if not isinstance(embedding_cache, EmbeddingCache):
            raise TypeError(
                f"EmbeddingMiddleware needs an EmbeddingCache, got {type(embedding_cache).__name__}"
            )
        if type(model_id) is not str or not model_id:
            raise ValueError(f"model_id must be the embedding model's name, got {model_id!r}")
        self.cache = (
            embedding_cache
            if key_builder is None
            else embedding_cache.with_key_builder(key_builder)
        )
        self.model_id = model_id
        self.params = dict(params or {})
        self.ttl = ttl
        self.config = config

    def _split(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        if not args:
            raise TypeError("the wrapped embed function takes the text(s) as first argument")
        params = {**self.params, **kwargs}
        if len(args) > 1:
            params["positional_args"] = list(args[1:])
        return args[0], params

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap ``fn`` (sync or async); the wrapper keeps its signature."""
        kind = callable_kind(fn)
        if kind in ("generator", "async_generator"):
            raise TypeError(
                "EmbeddingMiddleware wraps functions that return vectors, not generators"
            )
        cache = self.cache
        opts: dict[str, Any] = {"model_id": self.model_id, "ttl": self.ttl, "config": self.config}

        if kind == "async":

            @functools.wraps(fn)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                inputs, params = self._split(args, kwargs)
                call = functools.partial(_call_with, fn, args[1:], kwargs)
                if isinstance(inputs, str):
                    return await cache.aget_or_compute(inputs, call, params=params, **opts)
                return await cache.aget_or_compute_many(inputs, call, params=params, **opts)

            return awrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            inputs, params = self._split(args, kwargs)
            call = functools.partial(_call_with, fn, args[1:], kwargs)
            if isinstance(inputs, str):
                return cache.get_or_compute(inputs, call, params=params, **opts)
            return cache.get_or_compute_many(inputs, call, params=params, **opts)

        return wrapper


def _call_with(
    fn: Callable[..., Any], rest: tuple[Any, ...], kwargs: dict[str, Any], first: Any
) -> Any:
    return fn(first, *rest, **kwargs)
