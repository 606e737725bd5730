"""The shipped conformance suite on every Redis flavour and on TieredBackend(memory, Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from omnicache_ai.backends.memory_backend import InMemoryBackend
from omnicache_ai.backends.redis_backend import AsyncRedisBackend, RedisBackend
from omnicache_ai.backends.redis_coherence import RedisCoherence
from omnicache_ai.backends.tiered_backend import TieredBackend
from omnicache_ai.core._ops import sync_ops
from omnicache_ai.testing import BackendConformance

# Functional tests run on a loaded 2-core CI box: give connections room. The fault tests
# keep the production default (0.25 s) to measure fail-fast behaviour.
FUNCTIONAL_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


pytestmark = pytest.mark.redis


class TestRedisBackend(BackendConformance):
    """RedisBackend on a standalone server."""

    ttl_resolution = 0.05

    @pytest.fixture
    def backend(self, redis_clean_url: str) -> Iterator[Any]:
        """A prefixed backend on the flushed session server."""
        with RedisBackend(redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="conf:") as b:
            yield b


class TestRedisClusterBackend(BackendConformance):
    """RedisBackend on a 3-master cluster."""

    ttl_resolution = 0.05

    @pytest.fixture
    def backend(self, cluster_clean_url: str) -> Iterator[Any]:
        """A prefixed cluster backend on the flushed session cluster."""
        with RedisBackend(
            cluster_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="conf:", cluster=True
        ) as b:
            yield b


class TestAsyncRedisBackend(BackendConformance):
    """AsyncRedisBackend on a standalone server, driven through the suite's loop bridge."""

    ttl_resolution = 0.05

    @pytest.fixture
    def backend(self, redis_clean_url: str) -> Iterator[Any]:
        """A prefixed async backend; closed on the loop that used it."""
        b = AsyncRedisBackend(redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="conf:")
        yield b
        sync_ops(b).close()


class TestAsyncRedisClusterBackend(BackendConformance):
    """AsyncRedisBackend on the cluster."""

    ttl_resolution = 0.05

    @pytest.fixture
    def backend(self, cluster_clean_url: str) -> Iterator[Any]:
        """A prefixed async cluster backend."""
        b = AsyncRedisBackend(
            cluster_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="conf:", cluster=True
        )
        yield b
        sync_ops(b).close()


class TestTieredMemoryRedis(BackendConformance):
    """TieredBackend(InMemoryBackend, RedisBackend) with pub/sub coherence."""

    ttl_resolution = 0.05

    @pytest.fixture
    def backend(self, redis_clean_url: str) -> Iterator[Any]:
        """L1 in memory, L2 on Redis, L1s kept coherent through Redis pub/sub."""
        tiered = TieredBackend(
            l1=InMemoryBackend(max_size=1000),
            l2=RedisBackend(redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="conf:"),
            l1_ttl=30,
            coherence=RedisCoherence(redis_clean_url, socket_timeout=2.0, channel="conf:l1"),
        )
        yield tiered
        tiered.close()
