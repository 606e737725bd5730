"""Fixtures for the layer tests: managers over sync and async in-memory backends."""

from __future__ import annotations

import pytest

from omnicache_ai import AsyncInMemoryBackend, CacheKeyBuilder, CacheManager, InMemoryBackend


@pytest.fixture
def manager() -> CacheManager:
    """A manager over a fresh in-memory backend."""
    return CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("test"))


@pytest.fixture(params=["sync-backend", "async-backend"])
def any_manager(request: pytest.FixtureRequest) -> CacheManager:
    """A manager over a sync or an async backend (the layers must not care)."""
    backend = InMemoryBackend() if request.param == "sync-backend" else AsyncInMemoryBackend()
    return CacheManager(backend=backend, key_builder=CacheKeyBuilder("test"))
