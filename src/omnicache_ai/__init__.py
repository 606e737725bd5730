"""omnicache-ai: one caching framework in front of everything an AI pipeline pays for twice.

The names below are the public API; each lives in a submodule that can also be imported
directly (``omnicache_ai.core.cache_manager.CacheManager``). Layers and middleware are
imported on first use, so ``import omnicache_ai`` needs only the core dependencies.

Example:
    >>> from omnicache_ai import CacheManager, InMemoryBackend, CacheKeyBuilder
    >>> manager = CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("myapp"))
    >>> manager.set("my_key", {"result": 42}, ttl=60)
    >>> manager.get("my_key")
    {'result': 42}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from omnicache_ai._version import __version__
from omnicache_ai.backends.async_memory_backend import AsyncInMemoryBackend
from omnicache_ai.backends.base import AsyncCacheBackend, CacheBackend
from omnicache_ai.backends.disk_backend import DiskBackend
from omnicache_ai.backends.memory_backend import InMemoryBackend
from omnicache_ai.backends.null_backend import NullBackend
from omnicache_ai.backends.tiered_backend import TieredBackend
from omnicache_ai.config.settings import OmnicacheSettings
from omnicache_ai.core.cache_manager import MISSING, CacheManager, RequestConfig
from omnicache_ai.core.compressor import Compressor, GzipCompressor, NoopCompressor, ZstdCompressor
from omnicache_ai.core.errors import (
    CacheBackendError,
    ConfigurationError,
    IntegrityError,
    OmnicacheError,
    SerializationError,
)
from omnicache_ai.core.invalidation import InvalidationEngine
from omnicache_ai.core.key_builder import CacheKeyBuilder
from omnicache_ai.core.metrics import CacheMetrics
from omnicache_ai.core.policies import EvictionPolicy, TTLPolicy
from omnicache_ai.core.serializer import (
    JsonSerializer,
    PickleSerializer,
    SafeSerializer,
    Serializer,
)
from omnicache_ai.core.stampede import StampedeShield
from omnicache_ai.core.warmer import CacheWarmer

if TYPE_CHECKING:  # pragma: no cover
    from omnicache_ai.layers.context_cache import ContextCache
    from omnicache_ai.layers.embedding_cache import EmbeddingCache
    from omnicache_ai.layers.prompt_cache import PromptCacheLayer
    from omnicache_ai.layers.response_cache import ResponseCache
    from omnicache_ai.layers.retrieval_cache import RetrievalCache
    from omnicache_ai.layers.semantic_cache import AdaptiveSemanticCache, SemanticCache
    from omnicache_ai.layers.streaming_cache import StreamingResponseCache
    from omnicache_ai.middleware.decorators import cached
    from omnicache_ai.middleware.embedding_middleware import EmbeddingMiddleware
    from omnicache_ai.middleware.llm_middleware import AsyncLLMMiddleware, LLMMiddleware
    from omnicache_ai.middleware.retriever_middleware import RetrieverMiddleware
    from omnicache_ai.observability.otel import OpenTelemetryExporter
    from omnicache_ai.observability.prometheus import PrometheusExporter

# name -> module, imported on first attribute access (PEP 562).
_LAZY = {
    "AdaptiveSemanticCache": "omnicache_ai.layers.semantic_cache",
    "AsyncLLMMiddleware": "omnicache_ai.middleware.llm_middleware",
    "ContextCache": "omnicache_ai.layers.context_cache",
    "EmbeddingCache": "omnicache_ai.layers.embedding_cache",
    "EmbeddingMiddleware": "omnicache_ai.middleware.embedding_middleware",
    "LLMMiddleware": "omnicache_ai.middleware.llm_middleware",
    "OpenTelemetryExporter": "omnicache_ai.observability.otel",
    "PrometheusExporter": "omnicache_ai.observability.prometheus",
    "PromptCacheLayer": "omnicache_ai.layers.prompt_cache",
    "ResponseCache": "omnicache_ai.layers.response_cache",
    "RetrievalCache": "omnicache_ai.layers.retrieval_cache",
    "RetrieverMiddleware": "omnicache_ai.middleware.retriever_middleware",
    "SemanticCache": "omnicache_ai.layers.semantic_cache",
    "StreamingResponseCache": "omnicache_ai.layers.streaming_cache",
    "cached": "omnicache_ai.middleware.decorators",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'omnicache_ai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "MISSING",
    "AdaptiveSemanticCache",
    "AsyncCacheBackend",
    "AsyncInMemoryBackend",
    "AsyncLLMMiddleware",
    "CacheBackend",
    "CacheBackendError",
    "CacheKeyBuilder",
    "CacheManager",
    "CacheMetrics",
    "CacheWarmer",
    "Compressor",
    "ConfigurationError",
    "ContextCache",
    "DiskBackend",
    "EmbeddingCache",
    "EmbeddingMiddleware",
    "EvictionPolicy",
    "GzipCompressor",
    "InMemoryBackend",
    "IntegrityError",
    "InvalidationEngine",
    "JsonSerializer",
    "LLMMiddleware",
    "NoopCompressor",
    "NullBackend",
    "OmnicacheError",
    "OmnicacheSettings",
    "OpenTelemetryExporter",
    "PickleSerializer",
    "PrometheusExporter",
    "PromptCacheLayer",
    "RequestConfig",
    "ResponseCache",
    "RetrievalCache",
    "RetrieverMiddleware",
    "SafeSerializer",
    "SemanticCache",
    "SerializationError",
    "Serializer",
    "StampedeShield",
    "StreamingResponseCache",
    "TTLPolicy",
    "TieredBackend",
    "ZstdCompressor",
    "__version__",
    "cached",
]
