"""AsyncRedisBackend against a real redis-server and a real 3-master Redis Cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis
import redis.asyncio

from omnicache_ai.backends.base import AsyncCacheBackend
from omnicache_ai.backends.redis_backend import (
    AsyncRedisBackend,
    BackendDataError,
    BackendError,
)

# Functional tests run on a loaded 2-core CI box: give connections room. The fault tests
# keep the production default (0.25 s) to measure fail-fast behaviour.
FUNCTIONAL_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


pytestmark = pytest.mark.redis


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
async def backend(url: str, mode: str) -> AsyncIterator[AsyncRedisBackend]:
    """An AsyncRedisBackend with a prefix, closed after the test."""
    async with AsyncRedisBackend(
        url, **FUNCTIONAL_TIMEOUTS, prefix="t:", cluster=mode == "cluster"
    ) as b:
        assert isinstance(b, AsyncRedisBackend)
        yield b


async def test_satisfies_the_async_protocol(backend: AsyncRedisBackend) -> None:
    """The async backend is an AsyncCacheBackend and does not block the loop."""
    assert isinstance(backend, AsyncCacheBackend)
    assert backend.blocking is False


async def test_round_trip_and_delete(backend: AsyncRedisBackend) -> None:
    """Bytes round-trip; delete and exists agree."""
    assert await backend.get("k") is None
    await backend.set("k", b"\x00\xffv")
    assert await backend.get("k") == b"\x00\xffv"
    assert await backend.exists("k")
    assert await backend.delete("k") is True
    assert await backend.delete("k") is False


async def test_ttl_has_millisecond_precision(backend: AsyncRedisBackend) -> None:
    """ttl=0.2 expires after 200 ms; ttl <= 0 removes."""
    await backend.set("k", b"v", ttl=0.2)
    pttl = await backend.client.pttl(b"t:k")
    assert 0 < pttl <= 200
    await asyncio.sleep(0.3)
    assert await backend.get("k") is None
    await backend.set("k2", b"v")
    await backend.set("k2", b"v", ttl=0)
    assert await backend.get("k2") is None


async def test_non_bytes_values_are_rejected(backend: AsyncRedisBackend) -> None:
    """Only bytes are stored."""
    with pytest.raises(TypeError, match="str"):
        await backend.set("k", "text")


async def test_batch_operations(backend: AsyncRedisBackend) -> None:
    """get_many keeps order; set_many applies the TTL; delete_many counts."""
    items = {f"k{i}": f"v{i}".encode() for i in range(1500)}
    await backend.set_many(items, ttl=30)
    assert await backend.get_many(["nope", *items]) == [None, *items.values()]
    assert 0 < await backend.client.pttl(b"t:k3") <= 30_000
    assert await backend.get_many([]) == []
    assert await backend.delete_many(list(items)) == 1500
    await backend.set_many({"a": b"1"})
    await backend.set_many({"a": b"2"}, ttl=-1)
    assert await backend.get("a") is None


async def test_clear_only_touches_its_prefix(url: str, mode: str) -> None:
    """clear() leaves other prefixes and foreign keys alone; no prefix refuses."""
    cluster = mode == "cluster"
    async with (
        AsyncRedisBackend(url, **FUNCTIONAL_TIMEOUTS, prefix="one:", cluster=cluster) as one,
        AsyncRedisBackend(url, **FUNCTIONAL_TIMEOUTS, prefix="two:", cluster=cluster) as two,
        AsyncRedisBackend(url, **FUNCTIONAL_TIMEOUTS, cluster=cluster) as bare,
    ):
        assert isinstance(one, AsyncRedisBackend)
        assert isinstance(two, AsyncRedisBackend)
        assert isinstance(bare, AsyncRedisBackend)
        await one.set_many({f"k{i}": b"1" for i in range(1200)})
        await two.set("k", b"2")
        await bare.set("foreign", b"3")
        await one.clear()
        assert await one.keys() == []
        assert await two.get("k") == b"2"
        assert await bare.get("foreign") == b"3"
        with pytest.raises(BackendError, match="refusing"):
            await bare.clear()


async def test_incr_is_atomic_under_gather(backend: AsyncRedisBackend) -> None:
    """500 concurrent increments lose none."""
    await asyncio.gather(*(backend.incr("c") for _ in range(500)))
    assert await backend.get("c") == b"500"
    assert await backend.incr("c", -500) == 0


async def test_add_has_exactly_one_winner(backend: AsyncRedisBackend) -> None:
    """Concurrent add() on one key: one True; the value is the winner's."""
    results = await asyncio.gather(*(backend.add("k", str(i).encode()) for i in range(20)))
    assert results.count(True) == 1
    assert await backend.get("k") == str(results.index(True)).encode()
    assert await backend.add("k", b"again") is False


async def test_keys_and_delete_prefix_with_glob_characters(backend: AsyncRedisBackend) -> None:
    """Glob characters in the prefix are literal for keys() and delete_prefix()."""
    for k in ["a*b:1", "a*bc", "aXb", "a?b", "a[b]"]:
        await backend.set(k, b"v")
    assert sorted(await backend.keys("a*b")) == ["a*b:1", "a*bc"]
    assert sorted(await backend.keys("a[")) == ["a[b]"]
    assert await backend.delete_prefix("a*b") == 2
    assert sorted(await backend.keys()) == sorted(["a?b", "a[b]", "aXb"])


async def test_a_list_at_the_key_is_a_data_error(backend: AsyncRedisBackend) -> None:
    """A LIST at the key raises BackendDataError; the breaker stays closed."""
    await backend.client.rpush(b"t:list", b"x")
    with pytest.raises(BackendDataError, match="WRONGTYPE"):
        await backend.get("list")
    assert backend.breaker.state == "closed"


async def test_stats_and_ping(backend: AsyncRedisBackend) -> None:
    """stats() reports server figures; ping() is True."""
    await backend.set("a", b"1")
    stats = await backend.stats()
    assert stats["db_keys"] == 1
    assert stats["used_memory_bytes"] > 0
    assert await backend.ping() is True


async def test_existing_client_is_not_closed(redis_clean_url: str) -> None:
    """client= is used as is and left open by close()."""
    client = redis.asyncio.Redis.from_url(redis_clean_url)
    try:
        backend = AsyncRedisBackend(client=client, prefix="c:")
        await backend.set("k", b"v")
        await backend.close()
        assert await client.get(b"c:k") == b"v"
    finally:
        await client.aclose()


async def test_decode_responses_client_is_rejected(redis_clean_url: str) -> None:
    """A str-decoding async client is refused up front."""
    client = redis.asyncio.Redis.from_url(redis_clean_url, decode_responses=True)
    try:
        with pytest.raises(ValueError, match="decode_responses"):
            AsyncRedisBackend(client=client)
    finally:
        await client.aclose()


async def test_aget_checked(redis_clean_url: str) -> None:
    """The async twin validates tag generations in one script call, like the sync one."""
    from omnicache_ai.core import envelope

    async with AsyncRedisBackend(redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="g:") as b:
        assert isinstance(b, AsyncRedisBackend)
        check = b.aget_checked
        assert check is not None
        entry = envelope.encode(b"p", 1, 0, [("tag:a", 1)])
        await b.set("e", entry)
        assert await check("e") is None  # counter 0, recorded 1: stale
        await b.set("e", entry)
        await b.incr("tag:a")
        assert await check("e") == entry
        await b.client.script_flush()
        assert await check("e") == entry


async def test_async_cluster_offers_no_aget_checked(cluster_clean_url: str) -> None:
    """No single-script tag check on a cluster."""
    async with AsyncRedisBackend(cluster_clean_url, **FUNCTIONAL_TIMEOUTS, cluster=True) as b:
        assert isinstance(b, AsyncRedisBackend)
        assert b.aget_checked is None
