"""RetrieverMiddleware: put a RetrievalCache in front of any sync or async retriever.

The query is the first argument. ``k=``/``top_k=`` (or the middleware's ``top_k``) is the
result count; every other argument (``filter=...``, a namespace, ...) is keyed as a filter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from omnicache_ai.core.cache_manager import RequestConfig
from omnicache_ai.core.key_builder import CacheKeyBuilder
from omnicache_ai.layers.retrieval_cache import RetrievalCache
from omnicache_ai.middleware._callables import callable_kind

__all__ = ["RetrieverMiddleware"]

_TOP_K_NAMES = ("k", "top_k")


class RetrieverMiddleware:
    """Cache a retriever's documents by query + retriever id + top-k + other arguments.

    Args:
        retrieval_cache: Where documents are cached.
        key_builder: Build keys with this builder instead of the manager's.
        retriever_id: Names the index; :meth:`RetrievalCache.invalidate_retriever` uses it.
        top_k: Result count when calls do not pass ``k=``/``top_k=``.
        ttl: Seconds to live for results cached through this middleware.
        tags: Extra tags for them.
        config: Per-call overrides applied to every call.

    Example:
        >>> from omnicache_ai import CacheManager, RetrievalCache
        >>> searches = []
        >>> @RetrieverMiddleware(RetrievalCache(CacheManager()), retriever_id="faq", top_k=2)
        ... def search(query, k=2):
        ...     searches.append(query)
        ...     return [{"text": f"doc about {query}", "metadata": {"rank": i}} for i in range(k)]
        >>> len(search("refunds")), len(search("refunds")), len(search("refunds", k=3))
        (2, 2, 3)
        >>> searches
        ['refunds', 'refunds']
    """

    def __init__(
        self,
        retrieval_cache: RetrievalCache,
        key_builder: CacheKeyBuilder | None = None,
        retriever_id: str | None = None,
        top_k: int | None = None,
        *,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> None:
        if not isinstance(retrieval_cache, RetrievalCache):
            raise TypeError(
                f"RetrieverMiddleware needs a RetrievalCache, got {type(retrieval_cache).__name__}"
            )
        if type(retriever_id) is not str or not retriever_id:
            raise ValueError(f"retriever_id must name the retriever, got {retriever_id!r}")
        self.cache = (
            retrieval_cache
            if key_builder is None
            else retrieval_cache.with_key_builder(key_builder)
        )
        self.retriever_id = retriever_id
        self.top_k = top_k
        self.ttl = ttl
        self.tags = None if tags is None else list(tags)
        self.config = config

    def _split(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, int | None, dict[str, Any] | None]:
        """(query, top_k, filters) of one call."""
        if not args:
            raise TypeError("the wrapped retriever takes the query as first argument")
        top_k = next((kwargs[n] for n in _TOP_K_NAMES if n in kwargs), self.top_k)
        filters = {k: v for k, v in kwargs.items() if k not in _TOP_K_NAMES}
        if len(args) > 1:
            filters["positional_args"] = list(args[1:])
        return args[0], top_k, filters or None

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap ``fn`` (sync or async); the wrapper keeps its signature."""
        kind = callable_kind(fn)
        if kind in ("generator", "async_generator"):
            raise TypeError("RetrieverMiddleware wraps functions that return documents")
        cache = self.cache
        opts: dict[str, Any] = {
            "retriever_id": self.retriever_id,
            "ttl": self.ttl,
            "tags": self.tags,
            "config": self.config,
        }

        if kind == "async":

            @functools.wraps(fn)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                query, top_k, filters = self._split(args, kwargs)
                return await cache.aget_or_retrieve(
                    query, lambda _q: fn(*args, **kwargs), top_k=top_k, filters=filters, **opts
                )

            return awrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            query, top_k, filters = self._split(args, kwargs)
            return cache.get_or_retrieve(
                query, lambda _q: fn(*args, **kwargs), top_k=top_k, filters=filters, **opts
            )

        return wrapper
