"""Deprecated module path of omnicache-ai 0.3.0: import from :mod:`omnicache_ai.backends.vector`.

``from omnicache_ai.backends.vector_backend import FAISSBackend`` keeps working (with a
``DeprecationWarning``); the classes are the same objects as in the new package.
"""

from __future__ import annotations

import warnings
from typing import Any

warnings.warn(
    "omnicache_ai.backends.vector_backend is deprecated: import from omnicache_ai.backends.vector",
    DeprecationWarning,
    stacklevel=2,
)

_NAMES = frozenset(
    {"ChromaBackend", "FAISSBackend", "QdrantBackend", "VectorBackend", "WeaviateBackend"}
)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from omnicache_ai.backends import vector

    return getattr(vector, name)
