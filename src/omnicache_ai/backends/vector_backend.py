"""The README's import path for the vector stores: ``omnicache_ai.backends.vector_backend``.

Each class is imported on first access, so ``from omnicache_ai.backends.vector_backend import
FAISSBackend`` needs only the FAISS extra, and a missing extra raises an ``ImportError`` that
names the ``pip install`` to run.

Example:
    >>> from omnicache_ai.backends.vector_backend import VectorBackend
    >>> VectorBackend.__name__
    'VectorBackend'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omnicache_ai.backends.vector import (
    NumpyBackend,
    VectorBackend,
    VectorHit,
)

if TYPE_CHECKING:
    from omnicache_ai.backends.vector import (
        ChromaBackend,
        FAISSBackend,
        QdrantBackend,
        WeaviateBackend,
    )

__all__ = [
    "ChromaBackend",
    "FAISSBackend",
    "NumpyBackend",
    "QdrantBackend",
    "VectorBackend",
    "VectorHit",
    "WeaviateBackend",
]


def __getattr__(name: str) -> Any:
    if name in ("FAISSBackend", "ChromaBackend", "QdrantBackend", "WeaviateBackend"):
        from omnicache_ai.backends import vector

        return getattr(vector, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
