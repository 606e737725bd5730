"""RetrievalCache: retrieved documents keyed by query + retriever id + top-k + filters.

Documents may be dicts, dataclasses or pydantic models (LangChain ``Document``, LlamaIndex
nodes): the safe serializer rebuilds them as their own class, metadata included, in the
process that imports that class. ``None`` is never cached, and neither is an empty result
unless ``cache_empty=True``: an empty answer often means the index was not loaded yet.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from omnicache_ai.core.cache_manager import MISSING, CacheManager, RequestConfig
from omnicache_ai.core.serializer import Serializer
from omnicache_ai.layers._admit import Uncacheable
from omnicache_ai.layers._base import (
    LayerBase,
    check_id,
    refreshing,
    require_sync_result,
    with_tags,
)
from omnicache_ai.layers._request import fast_canonical_bytes

__all__ = ["RetrievalCache"]

_ENTRY_TAG = "docs"


class RetrievalCache(LayerBase):
    """Cache retriever results by query + retriever id + top-k + filters.

    Args:
        manager: The :class:`CacheManager` to store through.
        serializer: Serializer for this layer's entries.
        ttl: Default seconds to live (default: the manager's ``retrieval`` TTL, 3600 s).
        cache_empty: Also cache empty results.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> rc = RetrievalCache(CacheManager())
        >>> search = lambda q: [{"text": "RAG = retrieval + generation", "metadata": {"p": 1}}]
        >>> docs = rc.get_or_retrieve(query="What is RAG?", retrieve_fn=search,
        ...                           retriever_id="my-vectorstore", top_k=5)
        >>> rc.get(query="What is RAG?", retriever_id="my-vectorstore", top_k=5) == docs
        True
    """

    layer = "retrieval"
    key_type = "retrieval"

    def __init__(
        self,
        manager: CacheManager,
        *,
        serializer: Serializer | None = None,
        ttl: float | None = None,
        cache_empty: bool = False,
    ) -> None:
        super().__init__(manager, serializer=serializer, ttl=ttl)
        self.cache_empty = cache_empty

    # ---- pure helpers -----------------------------------------------------------------------
    def _key(
        self,
        query: Any,
        retriever_id: str,
        top_k: int | None,
        filters: Mapping[str, Any] | None,
    ) -> str:
        if type(query) is not str:
            raise TypeError(f"query must be a str, got {type(query).__name__}")
        check_id("retriever_id", retriever_id)
        if top_k is not None and (type(top_k) is not int or top_k < 1):
            raise ValueError(f"top_k must be a positive int or None, got {top_k!r}")
        if filters is not None and not isinstance(filters, Mapping):
            raise TypeError(f"filters must be a mapping or None, got {type(filters).__name__}")
        payload = [retriever_id, query, top_k, dict(filters) if filters else None]
        return self._key_of(fast_canonical_bytes(payload))

    def _entry(self, documents: Any) -> list[Any]:
        """Stored form; raises :class:`Uncacheable` for ``None`` or (by default) no documents."""
        if documents is None or isinstance(documents, BaseException):
            raise Uncacheable(documents, "error")
        if isinstance(documents, str | bytes) or not isinstance(documents, Iterable):
            raise TypeError(f"retrieved documents must be a list, got {type(documents).__name__}")
        docs = documents if isinstance(documents, list) else list(documents)
        if not docs and not self.cache_empty:
            raise Uncacheable(docs, "empty")
        return [_ENTRY_TAG, docs]

    @staticmethod
    def _docs(raw: Any) -> Any:
        if type(raw) is list and len(raw) == 2 and raw[0] == _ENTRY_TAG:
            return raw[1]
        return MISSING

    # ---- sync API ---------------------------------------------------------------------------
    def get(
        self,
        query: str,
        *,
        retriever_id: str,
        top_k: int | None = None,
        filters: Mapping[str, Any] | None = None,
        config: RequestConfig | None = None,
    ) -> list[Any] | None:
        """The cached documents for this query, or ``None``."""
        key = self._key(query, retriever_id, top_k, filters)
        raw = self.manager.get(
            key, MISSING, layer=self.layer, config=config, serializer=self.serializer
        )
        docs = self._docs(raw)
        return None if docs is MISSING else docs

    def set(
        self,
        query: str,
        documents: Any,
        *,
        retriever_id: str,
        top_k: int | None = None,
        filters: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> bool:
        """Store ``documents`` for this query; returns ``False`` when they may not be cached."""
        key = self._key(query, retriever_id, top_k, filters)
        try:
            entry = self._entry(documents)
        except Uncacheable:
            return False
        self.manager.set(
            key,
            entry,
            self._ttl(ttl),
            tags=with_tags(f"retriever:{retriever_id}", tags),
            layer=self.layer,
            config=config,
            serializer=self.serializer,
        )
        return True

    def delete(
        self,
        query: str,
        *,
        retriever_id: str,
        top_k: int | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> bool:
        """Remove the cached documents of this query."""
        key = self._key(query, retriever_id, top_k, filters)
        return self.manager.delete(key, layer=self.layer)

    def get_or_retrieve(
        self,
        query: str,
        retrieve_fn: Callable[[str], Any],
        *,
        retriever_id: str,
        top_k: int | None = None,
        filters: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> list[Any]:
        """The cached documents, or ``retrieve_fn(query)`` run once (stampede-safe) and cached."""
        key = self._key(query, retriever_id, top_k, filters)

        def produce() -> list[Any]:
            result = require_sync_result(retrieve_fn(query), "retrieve_fn", "aget_or_retrieve")
            return self._entry(result)

        try:
            raw = self.manager.get_or_set(
                key,
                produce,
                self._ttl(ttl),
                tags=with_tags(f"retriever:{retriever_id}", tags),
                layer=self.layer,
                config=config,
                serializer=self.serializer,
            )
        except Uncacheable as skipped:
            return skipped.value  # type: ignore[no-any-return]
        docs = self._docs(raw)
        if docs is MISSING:  # a foreign entry sits under our key: replace it
            return self.get_or_retrieve(
                query,
                retrieve_fn,
                retriever_id=retriever_id,
                top_k=top_k,
                filters=filters,
                ttl=ttl,
                tags=tags,
                config=refreshing(config),
            )
        return docs  # type: ignore[no-any-return]

    def invalidate_retriever(self, retriever_id: str) -> int:
        """Retire every cached result of ``retriever_id`` (e.g. after re-indexing)."""
        return self.manager.invalidate(f"retriever:{check_id('retriever_id', retriever_id)}")

    # ---- async API --------------------------------------------------------------------------
    async def aget(
        self,
        query: str,
        *,
        retriever_id: str,
        top_k: int | None = None,
        filters: Mapping[str, Any] | None = None,
        config: RequestConfig | None = None,
    ) -> list[Any] | None:
        """Async :meth:`get`."""
        key = self._key(query, retriever_id, top_k, filters)
        raw = await self.manager.aget(
            key, MISSING, layer=self.layer, config=config, serializer=self.serializer
        )
        docs = self._docs(raw)
        return None if docs is MISSING else docs

    async def aset(
        self,
        query: str,
        documents: Any,
        *,
        retriever_id: str,
        top_k: int | None = None,
        filters: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> bool:
        """Async :meth:`set`."""
        key = self._key(query, retriever_id, top_k, filters)
        try:
            entry = self._entry(documents)
        except Uncacheable:
            return False
        await self.manager.aset(
            key,
            entry,
            self._ttl(ttl),
            tags=with_tags(f"retriever:{retriever_id}", tags),
            layer=self.layer,
            config=config,
            serializer=self.serializer,
        )
        return True

    async def adelete(
        self,
        query: str,
        *,
        retriever_id: str,
        top_k: int | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> bool:
        """Async :meth:`delete`."""
        key = self._key(query, retriever_id, top_k, filters)
        return await self.manager.adelete(key, layer=self.layer)

    async def aget_or_retrieve(
        self,
        query: str,
        retrieve_fn: Callable[[str], Awaitable[Any] | Any],
        *,
        retriever_id: str,
        top_k: int | None = None,
        filters: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> list[Any]:
        """Async :meth:`get_or_retrieve`; ``retrieve_fn`` may be async or plain."""
        key = self._key(query, retriever_id, top_k, filters)

        async def produce() -> list[Any]:
            result = retrieve_fn(query)
            if inspect.isawaitable(result):
                result = await result
            return self._entry(result)

        try:
            raw = await self.manager.aget_or_set(
                key,
                produce,
                self._ttl(ttl),
                tags=with_tags(f"retriever:{retriever_id}", tags),
                layer=self.layer,
                config=config,
                serializer=self.serializer,
            )
        except Uncacheable as skipped:
            return skipped.value  # type: ignore[no-any-return]
        docs = self._docs(raw)
        if docs is MISSING:  # a foreign entry sits under our key: replace it
            return await self.aget_or_retrieve(
                query,
                retrieve_fn,
                retriever_id=retriever_id,
                top_k=top_k,
                filters=filters,
                ttl=ttl,
                tags=tags,
                config=refreshing(config),
            )
        return docs  # type: ignore[no-any-return]

    async def ainvalidate_retriever(self, retriever_id: str) -> int:
        """Async :meth:`invalidate_retriever`."""
        return await self.manager.ainvalidate(f"retriever:{check_id('retriever_id', retriever_id)}")
