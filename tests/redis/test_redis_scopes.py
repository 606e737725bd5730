"""Scopes on a real Redis (standalone and Cluster): a namespace clears and lists its own keys only.

Also: tag generations survive a Redis restart without persistence (a tiered backend without
coherence never serves an invalidated entry from its L1 again).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import redis
import redis.cluster

from omnicache_ai import CacheKeyBuilder, CacheManager, InMemoryBackend, OmnicacheSettings
from omnicache_ai.backends.redis_backend import AsyncRedisBackend, BackendError, RedisBackend
from omnicache_ai.backends.tiered_backend import TieredBackend
from omnicache_ai.core.invalidation import LOST

if TYPE_CHECKING:
    from _redis_servers import RedisServer

pytestmark = pytest.mark.redis

TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
FOREIGN = {b"app:foreign": b"theirs", b"app:b:x": b"theirs too", b"myapp:session:1": b"s"}


@pytest.fixture(params=["standalone", "cluster"])
def mode(request: pytest.FixtureRequest) -> str:
    """Run a test once per deployment."""
    return str(request.param)


@pytest.fixture
def url(mode: str, request: pytest.FixtureRequest) -> str:
    """A flushed server (or cluster) for the current mode."""
    fixture = "redis_clean_url" if mode == "standalone" else "cluster_clean_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def raw(url: str, mode: str) -> Iterator[redis.Redis | redis.cluster.RedisCluster]:
    """A plain redis-py client holding the foreign keys, to check they survive."""
    client: redis.Redis | redis.cluster.RedisCluster = (
        redis.cluster.RedisCluster.from_url(url) if mode == "cluster" else redis.Redis.from_url(url)
    )
    for k, v in FOREIGN.items():
        client.set(k, v)
    yield client
    client.close()


def _assert_foreign_intact(raw: redis.Redis | redis.cluster.RedisCluster) -> None:
    for k, v in FOREIGN.items():
        assert raw.get(k) == v, k


def test_readme_form_without_prefix_clears_exactly_its_namespace(
    url: str, mode: str, raw: redis.Redis | redis.cluster.RedisCluster
) -> None:
    """RedisBackend(url) + namespace 'myapp': keys() lists and clear() removes only its keys."""
    with RedisBackend(url, **TIMEOUTS, cluster=mode == "cluster") as backend:
        mine = CacheManager(backend=backend, key_builder=CacheKeyBuilder(namespace="myapp"))
        other = CacheManager(backend=backend, key_builder=CacheKeyBuilder(namespace="myapp:b"))
        layer_key = mine.key_builder.build("response", {"q": "hi"})
        for i in range(30):  # spread over the cluster's slots
            mine.set(f"k{i}", i)
            other.set(f"k{i}", -i)
        mine.set(layer_key, "answer", tags=["model:x"])
        mine.for_tenant("acme").set("k0", "tenant")
        assert sorted(mine.keys()) == sorted([f"k{i}" for i in range(30)] + [layer_key])
        assert mine.for_tenant("acme").keys() == ["k0"]

        mine.clear()

        assert mine.keys() == []
        assert mine.get("k1") is None
        assert mine.get(layer_key) is None
        assert mine.for_tenant("acme").get("k0") is None
        assert other.get("k1") == -1
        assert len(other.keys()) == 30
        _assert_foreign_intact(raw)


def test_settings_built_namespaces_do_not_overlap(
    redis_clean_url: str, raw: redis.Redis | redis.cluster.RedisCluster
) -> None:
    """Settings-built managers for 'app' and 'app:b' on one db: clearing 'app' spares 'app:b'."""
    app = CacheManager.from_settings(
        OmnicacheSettings(backend="redis", redis_url=redis_clean_url, namespace="app")
    )
    app_b = CacheManager.from_settings(
        OmnicacheSettings(backend="redis", redis_url=redis_clean_url, namespace="app:b")
    )
    app.set("k", "a", tags=["t"])
    app_b.set("k", "b", tags=["t"])
    assert app.keys() == ["k"]
    assert app_b.keys() == ["k"]
    app.clear()
    assert app.get("k") is None
    assert app_b.get("k") == "b"
    _assert_foreign_intact(raw)
    app.close()
    app_b.close()


def test_tenant_views_on_redis(url: str, mode: str) -> None:
    """A tenant's keys()/clear() cover its own entries only, root and peers untouched."""
    with RedisBackend(url, **TIMEOUTS, cluster=mode == "cluster") as backend:
        root = CacheManager(backend=backend, key_builder=CacheKeyBuilder("app"))
        a, b = root.for_tenant("a"), root.for_tenant("b")
        root.set("k", "root")
        a.set("k", "a", tags=["x"])
        b.set("k", "b", tags=["x"])
        assert (a.keys(), b.keys(), root.keys()) == (["k"], ["k"], ["k"])
        a.clear()
        assert a.get("k") is None
        assert (root.get("k"), b.get("k")) == ("root", "b")


def test_async_redis_clear_is_scoped(url: str, mode: str) -> None:
    """aclear/akeys on AsyncRedisBackend follow the same scope."""

    async def main() -> None:
        backend = AsyncRedisBackend(url, **TIMEOUTS, cluster=mode == "cluster")
        try:
            mine = CacheManager(backend=backend, key_builder=CacheKeyBuilder("myapp"))
            other = CacheManager(backend=backend, key_builder=CacheKeyBuilder("other"))
            await mine.aset("k", 1)
            await other.aset("k", 2)
            assert await mine.akeys() == ["k"]
            await mine.aclear()
            assert await mine.aget("k") is None
            assert await other.aget("k") == 2
        finally:
            await backend.close()

    asyncio.run(main())


def test_invalidation_survives_a_restart_without_persistence(private_redis: RedisServer) -> None:
    """Tiered without coherence: after Redis restarts empty, an L1 copy is never served again."""
    url = private_redis.url

    def tiered() -> TieredBackend:
        return TieredBackend(l1=InMemoryBackend(), l2=RedisBackend(url, **TIMEOUTS), l1_ttl=600)

    reader = CacheManager(backend=tiered())
    writer = CacheManager(backend=tiered())
    writer.set("doc", "v1", tags=["docs"])
    assert reader.get("doc") == "v1"  # the reader's L1 now holds it
    assert writer.invalidate("docs") == 1
    private_redis.restart()  # counters and entries in Redis are gone; the reader's L1 is not
    for m in (reader, writer):
        _until_reachable(m.backend.l2)
    errors = reader.metrics.snapshot()["errors"]

    assert reader.get("doc") is None  # the L1 copy recorded a counter that no longer exists
    assert reader.metrics.snapshot()["errors"] == errors  # a stale miss, not a Redis error
    assert reader.invalidation.generations(reader._tag_keys(["docs"])) == [LOST]
    writer.set("doc", "v2", tags=["docs"])
    assert reader.get("doc") == "v2"
    reader.close()
    writer.close()


def _until_reachable(backend: RedisBackend) -> None:
    """Ping until the restarted server answers (the breaker may need its cooldown first)."""
    for _ in range(200):
        try:
            if backend.ping():
                return
        except BackendError:
            threading.Event().wait(0.05)
    raise AssertionError("the restarted Redis never answered")
