"""Fixtures for the semantic-cache tests: the real default embedder and the vector stores.

The default embedder is loaded once per session (it is local and offline). Where the meaning
of the text matters the tests use it; where it does not they use ``HashingEmbedder``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from _ci import need, unavailable
from omnicache_ai.backends.vector import NumpyBackend, VectorBackend
from omnicache_ai.embedders import Embedder, HashingEmbedder


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The shipped default embedder (skipped locally, failing under CI, when not installed)."""
    from omnicache_ai.embedders import get_default_embedder

    try:
        return get_default_embedder()
    except ImportError as err:
        unavailable(f"default embedder not installed: {err}")


@pytest.fixture
def hashing() -> HashingEmbedder:
    """A deterministic embedder for tests where meaning does not matter."""
    return HashingEmbedder(dim=64)


@pytest.fixture(params=["numpy", "faiss"])
def make_store(request: pytest.FixtureRequest) -> Callable[[int], VectorBackend]:
    """A factory of real vector stores: NumpyBackend and FAISSBackend."""
    if request.param == "faiss":
        need("faiss", extra="faiss")
        from omnicache_ai.backends.vector import FAISSBackend

        return lambda dim: FAISSBackend(dim=dim)
    return lambda dim: NumpyBackend(dim=dim)
