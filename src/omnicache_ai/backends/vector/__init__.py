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

:func:`default_vector_backend` is what a semantic cache built without a ``vector_backend``
uses: the engine that scales best among those installed.

Example:
    >>> from omnicache_ai.backends.vector import NumpyBackend, VectorBackend
    >>> isinstance(NumpyBackend(dim=384), VectorBackend)
    True
"""

from __future__ import annotations

import os
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
    "DEFAULT_ANN_THRESHOLD",
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
    "default_vector_backend",
]

#: Entries from which the default index answers approximately (when FAISS is installed).
DEFAULT_ANN_THRESHOLD = 10_000


def default_vector_backend(
    dim: int,
    *,
    path: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> VectorBackend:
    """The zero-configuration vector index: FAISS when it is installed, else numpy.

    Both are in-process and exact while small. The numpy store scans every row of the
    searched partition, so a lookup grows linearly with the cache (about 7 ms at 100k
    384-d entries on an idle core, far more on a busy one). With the ``vector-faiss``
    extra installed, a :class:`FAISSBackend` in ``"auto"`` mode is used instead: exact up to
    :data:`DEFAULT_ANN_THRESHOLD` entries, then an IVF index built in the background, or
    inline by a bulk add such as ``SemanticCache.set_many`` of a large batch, so the next
    lookup already uses it (sub-millisecond at 100k; ``benchmarks/bench_semantic_scale.py``
    prints its recall@1 against an exact scan next to the latency). Pass a backend
    explicitly to choose.

    Args:
        dim: Vector dimension.
        path: Directory to persist to (``None``: in memory).
        threads: Threads one search may use (default 1: see
            :func:`~omnicache_ai.backends.vector.base.search_threads`).

    Example:
        >>> store = default_vector_backend(8)
        >>> type(store).__name__ in ("FAISSBackend", "NumpyBackend"), store.dim
        (True, 8)
    """
    try:
        from omnicache_ai.backends.vector.faiss_backend import FAISSBackend
    except ImportError:
        return NumpyBackend(dim, path=path, threads=threads)
    return FAISSBackend(
        dim, index="auto", path=path, ann_threshold=DEFAULT_ANN_THRESHOLD, threads=threads
    )


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
