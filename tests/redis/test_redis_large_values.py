"""Large values on a real Redis: oversize writes are skipped, oversize reads are cut short."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis

from omnicache_ai import CacheManager, OmnicacheSettings
from omnicache_ai.backends.redis_backend import (
    DEFAULT_MAX_VALUE_BYTES,
    AsyncRedisBackend,
    RedisBackend,
)

pytestmark = pytest.mark.redis

LIMIT = 64 * 1024
_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


@pytest.fixture
def raw(redis_clean_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_clean_url)
    yield client
    client.close()


@pytest.fixture
def backend(redis_clean_url: str) -> Iterator[RedisBackend]:
    with RedisBackend(redis_clean_url, prefix="big:", max_value_bytes=LIMIT, **_TIMEOUTS) as b:
        yield b


def _raw_key(m: CacheManager, key: str) -> bytes:
    """The Redis key ``m`` stores ``key`` under: the backend prefix + the namespace scope."""
    return b"big:" + m.storage_key(key).encode()


def _net_out(client: redis.Redis) -> int:
    return int(client.info("stats")["total_net_output_bytes"])


def test_oversize_write_is_skipped_and_counted(backend: RedisBackend, raw: redis.Redis) -> None:
    """A value over max_value_bytes is not stored, counted as a set error, never raised."""
    m = CacheManager(backend=backend)
    m.set("big", b"x" * (LIMIT * 2))
    asyncio.run(m.aset("big2", b"x" * (LIMIT * 2)))
    m.set_many({"big3": b"x" * (LIMIT * 2)})
    m.set("small", b"x" * 100)
    assert m.get("small") == b"x" * 100  # the scope helper below addresses real keys
    assert raw.exists(_raw_key(m, "small")) == 1
    assert raw.exists(_raw_key(m, "big"), _raw_key(m, "big2"), _raw_key(m, "big3")) == 0
    assert m.get("big") is None
    assert m.get("small") == b"x" * 100
    errors = m.metrics.backend_errors()
    assert errors[("RedisBackend", "set")] == 2
    assert errors[("RedisBackend", "set_many")] == 1
    assert backend.breaker.snapshot()["failures"] == 0


def test_direct_oversize_write_raises_backend_data_error(backend: RedisBackend) -> None:
    """Driving the backend directly, an oversize set/add/set_many raises before any I/O."""
    from omnicache_ai.backends._circuit import BackendDataError

    for call in (
        lambda: backend.set("k", b"x" * (LIMIT + 1)),
        lambda: backend.add("k", b"x" * (LIMIT + 1)),
        lambda: backend.set_many({"a": b"1", "k": b"x" * (LIMIT + 1)}),
    ):
        with pytest.raises(BackendDataError, match="max_value_bytes=65536"):
            call()
    assert backend.get("a") is None
    backend.set("k", b"x" * LIMIT)  # the bound is inclusive
    assert backend.get("k") == b"x" * LIMIT


@pytest.mark.parametrize("tracking", [True, False], ids=["tracked", "script"])
def test_oversize_stored_value_is_cut_short_and_leaves_the_breaker_alone(
    redis_clean_url: str, raw: redis.Redis, tracking: bool, request: pytest.FixtureRequest
) -> None:
    """A huge value planted by another writer reads as a counted miss; the breaker stays shut.

    The tracked read (``GETRANGE 0 max_value_bytes``) receives at most ``LIMIT + 1`` bytes
    of it, the script none: either way far less than the value, and never more than a
    legitimate entry of the largest allowed size.
    """
    backend = RedisBackend(
        redis_clean_url, prefix="big:", max_value_bytes=LIMIT, client_tracking=tracking, **_TIMEOUTS
    )
    request.addfinalizer(backend.close)
    m = CacheManager(backend=backend)
    m.set("healthy", "still served")
    raw.set(_raw_key(m, "huge"), b"OC\x01\x01\x00\x00s" + b"x" * (1024 * 1024))
    before = _net_out(raw)
    for _ in range(5):  # more than failure_threshold (3)
        assert m.get("huge", "miss") == "miss"
        assert asyncio.run(m.aget("huge", "miss")) == "miss"
    sent = _net_out(raw) - before
    bound = 10 * (LIMIT + 1 + 1024) if tracking else LIMIT  # 10 reads, + INFO replies
    assert sent < bound, f"the server sent {sent} bytes for reads it should have refused"
    snap = backend.breaker.snapshot()
    assert snap["state"] == "closed"
    assert snap["failures"] == 0
    assert m.get("healthy") == "still served"
    assert m.metrics.backend_errors()[("RedisBackend", "get")] == 10
    assert raw.strlen(_raw_key(m, "huge")) > LIMIT  # a miss, not a delete: not ours


def test_async_backend_applies_the_same_bounds(redis_clean_url: str, raw: redis.Redis) -> None:
    """AsyncRedisBackend refuses oversize writes and never reads oversize values either."""
    b = AsyncRedisBackend(redis_clean_url, prefix="big:", max_value_bytes=LIMIT, **_TIMEOUTS)
    m = CacheManager(backend=b)
    raw.set(_raw_key(m, "huge"), b"OC\x01\x01\x00\x00s" + b"x" * (LIMIT * 4))

    async def run() -> tuple[object, object]:
        try:
            await m.aset("big", b"x" * (LIMIT * 2))
            await m.aset("ok", "fine")
            return await m.aget("huge", "miss"), await m.aget("ok")
        finally:
            await b.close()

    assert asyncio.run(run()) == ("miss", "fine")
    assert raw.exists(_raw_key(m, "big")) == 0
    assert raw.exists(_raw_key(m, "ok")) == 1
    assert b.breaker.snapshot()["failures"] == 0


def test_settings_carry_the_limit(redis_clean_url: str) -> None:
    """OMNICACHE_MAX_VALUE_BYTES reaches the settings-built Redis backend (0 = no limit)."""
    base = {"OMNICACHE_BACKEND": "redis", "OMNICACHE_REDIS_URL": redis_clean_url}
    for env, expected in (
        ({}, DEFAULT_MAX_VALUE_BYTES),
        ({"OMNICACHE_MAX_VALUE_BYTES": "1234"}, 1234),
        ({"OMNICACHE_MAX_VALUE_BYTES": "0"}, None),
    ):
        b = OmnicacheSettings.from_env({**base, **env}).build_backend()
        try:
            assert b.max_value_bytes == expected
        finally:
            b.close()


def test_batch_reads_skip_oversize_values(backend: RedisBackend, raw: redis.Redis) -> None:
    """get_many serves the other keys and reads an oversize value as a miss, without sending it."""
    m = CacheManager(backend=backend)
    m.set_many({"a": "one", "b": "two"})
    raw.set(_raw_key(m, "huge"), b"OC\x01\x01\x00\x00s" + b"x" * (1024 * 1024))
    before = _net_out(raw)
    for _ in range(5):
        assert m.get_many(["a", "huge", "b"]) == {"a": "one", "b": "two"}
        assert asyncio.run(m.aget_many(["huge", "a"])) == {"a": "one"}
    assert _net_out(raw) - before < LIMIT
    assert backend.stats()["oversize_reads"] == 10
    assert backend.breaker.snapshot()["failures"] == 0
