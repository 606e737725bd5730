"""Vector stores for the semantic cache: one protocol, several engines.

:class:`NumpyBackend` needs nothing beyond numpy; the others are imported on first use so
that a missing extra only matters to the code that asks for it:

==================  ====================================  ======================
class               engine                                extra
==================  ====================================  ======================
``NumpyBackend``    exact brute force (numpy)             none
``FAISSBackend``    FAISS: exact, HNSW or IVF, in-process ``vector-faiss``
``ChromaBackend``   Chroma: embedded or over HTTP         ``vector-chroma``
``QdrantBackend``   Qdrant: local (path / memory) or URL  ``vector-qdrant``
==================  ====================================  ======================

Example:
    >>> from omnicache_ai.backends.vector import NumpyBackend, VectorBackend
    >>> isinstance(NumpyBackend(dim=384), VectorBackend)
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omnicache_ai.backends.vector._numpy_backend import NumpyBackend
from omnicache_ai.backends.vector.base import (
    EXPIRES_AT,
    BaseVectorBackend,
    FilterValue,
    MetadataValue,
    VectorBackend,
    VectorHit,
)

if TYPE_CHECKING:
    from omnicache_ai.backends.vector.chroma_backend import ChromaBackend
    from omnicache_ai.backends.vector.faiss_backend import FAISSBackend
    from omnicache_ai.backends.vector.qdrant_backend import QdrantBackend
    from omnicache_ai.backends.vector.weaviate_backend import WeaviateBackend

__all__ = [
    "EXPIRES_AT",
    "BaseVectorBackend",
    "ChromaBackend",
    "FAISSBackend",
    "FilterValue",
    "MetadataValue",
    "NumpyBackend",
    "QdrantBackend",
    "VectorBackend",
    "VectorHit",
    "WeaviateBackend",
]

_LAZY = {
    "FAISSBackend": "omnicache_ai.backends.vector.faiss_backend",
    "ChromaBackend": "omnicache_ai.backends.vector.chroma_backend",
    "QdrantBackend": "omnicache_ai.backends.vector.qdrant_backend",
    # Not provided (it raises and says why); importable so 0.3.0 code fails with a reason.
    "WeaviateBackend": "omnicache_ai.backends.vector.weaviate_backend",
}


def __getattr__(name: str) -> Any:
    # Lazy so that importing this package never needs an optional extra.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
