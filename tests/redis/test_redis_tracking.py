"""Tag-checked reads through CLIENT TRACKING: one plain GET, never a stale tagged entry.

The manager's Redis reads validate tag generations against counters each connection of a
dedicated RESP3 pool caches, and Redis's invalidation pushes keep those caches exact (see
backends/_redis_tracking.py). These tests change counters behind a reader's back (another
client's invalidation, a raw DEL, a FLUSHDB, a server restart) and check that the very next
read sees it, with no sleep in between: the push travels on the reader's own connection,
ahead of the reply to its next command.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
import redis

from omnicache_ai import CacheManager
from omnicache_ai.backends import _redis_tracking as trk
from omnicache_ai.backends.redis_backend import AsyncRedisBackend, RedisBackend
from omnicache_ai.core import envelope

if TYPE_CHECKING:
    from _redis_servers import RedisServer

pytestmark = pytest.mark.redis

_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


class CountingConnection(redis.Connection):
    """Counts requests sent: one send is one round trip."""

    sends = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sends += 1
        super().send_packed_command(command, check_health)


@pytest.fixture
def raw(redis_clean_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_clean_url)
    yield client
    client.close()


@pytest.fixture
def pair(redis_clean_url: str) -> Iterator[tuple[CacheManager, CacheManager]]:
    """Two managers on two backends (two pools): a reader and a writer on one Redis."""
    with (
        RedisBackend(redis_clean_url, prefix="trk:", **_TIMEOUTS) as a,
        RedisBackend(redis_clean_url, prefix="trk:", **_TIMEOUTS) as b,
    ):
        yield CacheManager(backend=a), CacheManager(backend=b)


def _cached_counters(backend: RedisBackend) -> dict[bytes, int | None]:
    """The counter cache of the reader's one idle tracked connection."""
    pool = backend._tracked
    assert pool is not None, "no tracked read happened yet"
    (conn,) = pool._available_connections
    gens: dict[bytes, int | None] = getattr(conn, trk.ATTR)
    return gens


def test_another_clients_invalidation_is_seen_by_the_next_read(
    pair: tuple[CacheManager, CacheManager],
) -> None:
    """Reader caches the counter; writer bumps it; the reader's next read misses. 30 rounds."""
    reader, writer = pair
    for i in range(30):
        writer.set("k", f"v{i}", tags=["model:x"])
        assert reader.get("k") == f"v{i}"
        assert reader.get("k") == f"v{i}"  # served from the cached counter
        writer.invalidate("model:x")
        assert reader.get("k") is None, f"round {i}: a stale entry was served"


def test_push_is_applied_while_reading_on_the_same_connection(
    pair: tuple[CacheManager, CacheManager], raw: redis.Redis
) -> None:
    """The invalidation lands on the reader's connection and is applied before the next reply."""
    reader, writer = pair
    writer.set("k", "v", tags=["model:x"])
    assert reader.get("k") == "v"
    backend = reader.backend
    counter = b"trk:" + reader.invalidation.tag_key(reader.scope, "model:x").encode()
    gens = _cached_counters(backend)
    assert counter in gens
    writer.invalidate("model:x")
    (conn,) = backend._tracked._available_connections
    conn.send_command("PING")  # any command: its reply comes after the push
    assert conn.read_response() in (b"PONG", "PONG")
    assert counter not in gens


def test_hits_are_one_round_trip_once_the_counters_are_cached(redis_clean_url: str) -> None:
    """The first read of a tag on a connection fetches its counter; every later hit is one GET."""
    with RedisBackend(
        redis_clean_url, prefix="trk:", connection_class=CountingConnection, **_TIMEOUTS
    ) as b:
        m = CacheManager(backend=b)
        m.set("plain", "v")
        m.set("tagged", "w", tags=["model:x", "tenant:y"])
        assert m.get("plain") == "v"  # opens the tracked connection (handshake not counted)
        before = CountingConnection.sends
        assert m.get("tagged") == "w"
        assert CountingConnection.sends - before == 2  # GET, then CACHING YES + MGET
        before = CountingConnection.sends
        for _ in range(20):
            assert m.get("tagged") == "w"
            assert m.get("plain") == "v"
        assert CountingConnection.sends - before == 40


def test_a_counter_deleted_behind_our_back_retires_its_entries(
    pair: tuple[CacheManager, CacheManager], raw: redis.Redis
) -> None:
    """A lost counter (DEL, eviction) makes the entries that recorded it stale at once."""
    reader, writer = pair
    writer.set("k", "v", tags=["model:x"])
    assert reader.get("k") == "v"
    raw.delete(b"trk:" + reader.invalidation.tag_key(reader.scope, "model:x").encode())
    assert reader.get("k") is None


def test_a_flush_forgets_every_cached_counter(
    pair: tuple[CacheManager, CacheManager], raw: redis.Redis
) -> None:
    """FLUSHDB pushes a null invalidation: an entry planted again after it is stale."""
    reader, writer = pair
    writer.set("k", "v", tags=["model:x"])
    assert reader.get("k") == "v"
    key = b"trk:" + reader.storage_key("k").encode()
    entry = raw.get(key)
    assert entry is not None
    raw.flushdb()
    raw.set(key, entry)  # the entry survived elsewhere; its counter did not
    assert reader.get("k") is None


def test_invalidation_survives_a_restart(private_redis: RedisServer) -> None:
    """Restart without persistence: counters are gone, so a surviving entry is never served."""
    with RedisBackend(private_redis.url, prefix="trk:", **_TIMEOUTS, cooldown=0.05) as b:
        m = CacheManager(backend=b)
        m.set("k", "v", tags=["model:x"])
        assert m.get("k") == "v"
        entry = b.get(m.storage_key("k"))
        assert entry is not None
        private_redis.restart()
        plain = redis.Redis.from_url(private_redis.url)
        plain.set(b"trk:" + m.storage_key("k").encode(), entry)
        plain.close()
        for _ in range(50):  # the first reads may meet the closed socket or the breaker
            if b.breaker.snapshot()["state"] == "closed" and m.get("k", "miss") == "miss":
                break
        assert m.get("k", "miss") == "miss"


def test_the_script_and_tracking_agree(redis_clean_url: str) -> None:
    """Both read modes give the same answers on the same data, tags or not."""
    with (
        RedisBackend(redis_clean_url, prefix="trk:", **_TIMEOUTS) as tracked,
        RedisBackend(redis_clean_url, prefix="trk:", client_tracking=False, **_TIMEOUTS) as script,
    ):
        tracked.set("tag:a", b"5")
        for raw in [
            envelope.encode(b"p", 1, 0, [("tag:a", 5)]),
            envelope.encode(b"p", 1, 0, [("tag:a", 4)]),
            envelope.encode(b"p", 1, 0, [("tag:a", 5), ("tag:missing", 1)]),
            envelope.encode(b"p", 1, 0),
            b"OC\x01\x01\x00\x02\x00\x05ab",
            b"foreign",
        ]:
            tracked.set("e", raw)
            expected = script.get_checked("e") if script.get_checked else None
            tracked.set("e", raw)
            assert tracked.get_checked is not None
            assert tracked.get_checked("e") == expected, raw


def test_a_server_without_tracking_falls_back_to_the_script(
    make_redis: Callable[..., RedisServer], caplog: pytest.LogCaptureFixture
) -> None:
    """A server that refuses HELLO (as Redis 5 does) gets the Lua script, with one warning.

    The backend's own client speaks RESP2 there (``protocol=2``); only the tracked read pool
    asks for RESP3, is refused, and is given up for good.
    """
    server = make_redis("--rename-command", "HELLO", "HELLO_HIDDEN")
    with RedisBackend(server.url, prefix="trk:", protocol=2, **_TIMEOUTS) as b:
        m = CacheManager(backend=b)
        m.set("k", "v", tags=["model:x"])
        with caplog.at_level(logging.WARNING):
            assert m.get("k") == "v"
            assert m.get("k") == "v"
        assert b.client_tracking is False
        assert sum("client tracking unavailable" in r.message for r in caplog.records) == 1
        assert b.breaker.snapshot()["failures"] == 0
        m.invalidate("model:x")
        assert m.get("k") is None


def test_async_twin_sees_invalidations_at_once(redis_clean_url: str) -> None:
    """AsyncRedisBackend: the same tracked read, the same guarantee."""

    async def run() -> None:
        a = AsyncRedisBackend(redis_clean_url, prefix="trk:", **_TIMEOUTS)
        b = AsyncRedisBackend(redis_clean_url, prefix="trk:", **_TIMEOUTS)
        reader, writer = CacheManager(backend=a), CacheManager(backend=b)
        try:
            for i in range(20):
                await writer.aset("k", f"v{i}", tags=["model:x"])
                assert await reader.aget("k") == f"v{i}"
                assert await reader.aget("k") == f"v{i}"
                await writer.ainvalidate("model:x")
                assert await reader.aget("k") is None, f"round {i}: stale entry served"
            assert a._tracked is not None
        finally:
            await a.close()
            await b.close()

    asyncio.run(run())
