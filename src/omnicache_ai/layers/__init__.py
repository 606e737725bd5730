"""Cache layers: what is cached (responses, embeddings, retrievals, context, streams, prompts).

Every layer reads and writes through a :class:`~omnicache_ai.core.cache_manager.CacheManager`
and never touches a backend; each method has an ``a``-prefixed async twin.

Example:
    >>> from omnicache_ai import CacheManager
    >>> from omnicache_ai.layers import ResponseCache
    >>> cache = ResponseCache(CacheManager())
    >>> cache.set([{"role": "user", "content": "2+2?"}], "4", model_id="gpt-4o")
    True
"""

from __future__ import annotations

import importlib
from typing import Any

from omnicache_ai.layers._request import DEFAULT_PARAMS, IGNORED_PARAMS
from omnicache_ai.layers._usage import TokenUsage
from omnicache_ai.layers.cached_embedder import CachedEmbedder
from omnicache_ai.layers.context_cache import ContextCache
from omnicache_ai.layers.embedding_cache import EmbeddingCache
from omnicache_ai.layers.prompt_cache import PromptCacheLayer, ProviderCacheUsage
from omnicache_ai.layers.response_cache import ResponseCache
from omnicache_ai.layers.retrieval_cache import RetrievalCache
from omnicache_ai.layers.streaming_cache import StreamingResponseCache

# The semantic layers live in their own module with their own dependencies; import on use.
_LAZY = {
    "AdaptiveSemanticCache": "omnicache_ai.layers.semantic_cache",
    "SemanticCache": "omnicache_ai.layers.semantic_cache",
    "SharedVectorIndex": "omnicache_ai.layers.semantic_index",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'omnicache_ai.layers' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "DEFAULT_PARAMS",
    "IGNORED_PARAMS",
    "AdaptiveSemanticCache",
    "CachedEmbedder",
    "ContextCache",
    "EmbeddingCache",
    "PromptCacheLayer",
    "ProviderCacheUsage",
    "ResponseCache",
    "RetrievalCache",
    "SemanticCache",
    "SharedVectorIndex",
    "StreamingResponseCache",
    "TokenUsage",
]
