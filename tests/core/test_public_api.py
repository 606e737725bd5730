"""The public API is small, pinned, and importable without any extra installed."""

from __future__ import annotations

import re
import subprocess
import sys

import omnicache_ai

EXPECTED = [
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


def test_exported_names_are_pinned() -> None:
    """__all__ is exactly the documented list, sorted."""
    assert omnicache_ai.__all__ == EXPECTED
    assert sorted(EXPECTED, key=str.lower) == sorted(omnicache_ai.__all__, key=str.lower)


def test_import_needs_only_core_dependencies() -> None:
    """`import omnicache_ai` loads no optional dependency."""
    code = (
        "import sys, omnicache_ai;"
        "bad = [m for m in ('redis', 'faiss', 'chromadb', 'qdrant_client', 'prometheus_client',"
        " 'opentelemetry', 'onnxruntime', 'zstandard', 'pydantic') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_version() -> None:
    """The package reports a PEP 440 version later than 0.3.0, the release it upgrades from."""
    match = re.fullmatch(
        r"(\d+)\.(\d+)\.(\d+)((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", omnicache_ai.__version__
    )
    assert match is not None, omnicache_ai.__version__
    assert tuple(int(part) for part in match.groups()[:3]) > (0, 3, 0)
