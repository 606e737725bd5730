"""Weaviate: named by the omnicache-ai 0.3.0 README, not provided.

Every vector backend we ship is tested against the real engine (FAISS and numpy in process,
Chroma and Qdrant embedded or as a local server). Weaviate has no embedded engine that runs
without downloading a server binary at run time, so a backend for it could not be tested here,
and we do not ship code we cannot test. ``pip install 'omnicache-ai[vector-weaviate]'`` still
works (it installs nothing extra), and constructing :class:`WeaviateBackend` says what to use.
"""

from __future__ import annotations

from typing import Any, NoReturn

from omnicache_ai.core.errors import ConfigurationError

__all__ = ["WeaviateBackend"]

_WHY = (
    "omnicache-ai has no Weaviate backend: it could not be tested against a real Weaviate "
    "engine, and only tested backends ship. Use QdrantBackend ('omnicache-ai[vector-qdrant]', "
    "local or a server URL), ChromaBackend ('omnicache-ai[vector-chroma]') or FAISSBackend "
    "('omnicache-ai[vector-faiss]'), or wrap your Weaviate client in a class that implements "
    "omnicache_ai.backends.vector.VectorBackend and prove it with the shipped conformance "
    "suite (omnicache_ai.backends.vector.conformance)."
)


class WeaviateBackend:
    """Placeholder that explains why there is no Weaviate backend (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _refuse()


def _refuse() -> NoReturn:
    raise ConfigurationError(_WHY)
