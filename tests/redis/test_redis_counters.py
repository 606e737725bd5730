"""CacheManager.incr over a real redis-server: INCRBY across processes, TTL on creation."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from typing import Any

import pytest
import redis
import redis.asyncio

from omnicache_ai.backends.redis_backend import AsyncRedisBackend, RedisBackend
from omnicache_ai.core.cache_manager import CacheManager

pytestmark = pytest.mark.redis

TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
PER_WORKER = 200


def _incr_worker(url: str, n: int, barrier: Any) -> None:
    with RedisBackend(url, **TIMEOUTS, prefix="ctr:") as backend:
        m = CacheManager(backend=backend).for_tenant("acme")
        barrier.wait(60)
        for i in range(n):
            assert m.incr("hits", ttl=60 if i % 2 else None) is not None


@pytest.mark.slow
def test_four_processes_lose_no_increment(redis_clean_url: str) -> None:
    """4 processes x 200 incr on one Redis counter sum to exactly 800."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(4)
    procs = [
        ctx.Process(target=_incr_worker, args=(redis_clean_url, PER_WORKER, barrier))
        for _ in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with RedisBackend(redis_clean_url, **TIMEOUTS, prefix="ctr:") as backend:
        m = CacheManager(backend=backend)
        assert m.for_tenant("acme").incr("hits", 0) == 4 * PER_WORKER
        assert m.for_tenant("other").incr("hits", 0) == 0


def test_ttl_is_set_on_creation_and_kept(redis_clean_url: str) -> None:
    """A new counter gets the TTL (PTTL > 0); later increments neither reset nor extend it."""
    raw = redis.Redis.from_url(redis_clean_url)
    with RedisBackend(redis_clean_url, **TIMEOUTS, prefix="t:") as backend:
        m = CacheManager(backend=backend)
        assert m.incr("n", 2, ttl=30) == 2
        key = b"t:" + m._skey("n").encode()
        first = raw.pttl(key)
        assert 0 < first <= 30_000
        assert m.incr("n", 3, ttl=1000) == 5
        assert 0 < raw.pttl(key) <= first
        assert m.incr("plain", ttl=0) == 1
        assert raw.pttl(b"t:" + m._skey("plain").encode()) == -1


def test_async_redis_counter(redis_clean_url: str) -> None:
    """aincr over AsyncRedisBackend: concurrent tasks sum exactly and the TTL is applied."""

    async def run() -> tuple[int | None, int]:
        async with AsyncRedisBackend(redis_clean_url, **TIMEOUTS, prefix="a:") as backend:
            m = CacheManager(backend=backend).for_tenant("t")
            await asyncio.gather(*(m.aincr("n", ttl=30) for _ in range(50)))
            raw = redis.asyncio.Redis.from_url(redis_clean_url)
            pttl = await raw.pttl(b"a:" + m._skey("n").encode())
            await raw.aclose()
            return await m.aincr("n", 0), pttl

    total, pttl = asyncio.run(run())
    assert total == 50
    assert 0 < pttl <= 30_000


def test_redis_down_is_a_miss(dead_url: str) -> None:
    """With nothing listening, incr returns None and counts an error instead of raising."""
    with RedisBackend(dead_url, socket_timeout=0.2, socket_connect_timeout=0.2) as backend:
        m = CacheManager(backend=backend)
        assert m.incr("n") is None
        assert m.metrics.snapshot()["errors"] == 1


def test_cluster_counter_with_ttl(cluster_clean_url: str) -> None:
    """On a Redis Cluster, incr with a TTL counts and sets the expiry (sync and async)."""
    with RedisBackend(cluster_clean_url, **TIMEOUTS, cluster=True) as backend:
        m = CacheManager(backend=backend, strict=True)
        assert [m.incr(f"n{i}", 2, ttl=30) for i in range(3)] == [2, 2, 2]
        assert m.incr("n0", 1, ttl=30) == 3

    async def run() -> int | None:
        async with AsyncRedisBackend(cluster_clean_url, **TIMEOUTS, cluster=True) as backend:
            m = CacheManager(backend=backend, strict=True)
            await m.aincr("a", 4, ttl=30)
            return await m.aincr("a", 1, ttl=30)

    assert asyncio.run(run()) == 5
