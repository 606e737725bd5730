"""Middleware: decorators that put a cache layer in front of any sync or async callable.

Example:
    >>> from omnicache_ai import CacheManager
    >>> from omnicache_ai.middleware import cached
    >>> @cached(CacheManager())
    ... def square(x):
    ...     return x * x
    >>> square(12)
    144
"""

from omnicache_ai.middleware.decorators import cached
from omnicache_ai.middleware.embedding_middleware import EmbeddingMiddleware
from omnicache_ai.middleware.llm_middleware import AsyncLLMMiddleware, LLMMiddleware
from omnicache_ai.middleware.retriever_middleware import RetrieverMiddleware

__all__ = [
    "AsyncLLMMiddleware",
    "EmbeddingMiddleware",
    "LLMMiddleware",
    "RetrieverMiddleware",
    "cached",
]
