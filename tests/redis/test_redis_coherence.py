"""L1 coherence over Redis pub/sub between two independent tiered backends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
import redis

from omnicache_ai.backends.memory_backend import InMemoryBackend
from omnicache_ai.backends.redis_backend import RedisBackend
from omnicache_ai.backends.redis_coherence import RedisCoherence
from omnicache_ai.backends.tiered_backend import TieredBackend
from omnicache_ai.core.cache_manager import CacheManager

if TYPE_CHECKING:
    from _redis_servers import RedisServer

# Functional tests run on a loaded 2-core CI box: give connections room. The fault tests
# keep the production default (0.25 s) to measure fail-fast behaviour.
FUNCTIONAL_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


pytestmark = pytest.mark.redis


def tiered(url: str, **coherence_kwargs: object) -> TieredBackend:
    """One 'process': own L1, own Redis connections, own subscriber."""
    return TieredBackend(
        l1=InMemoryBackend(max_size=100),
        l2=RedisBackend(url, **FUNCTIONAL_TIMEOUTS, prefix="co:"),
        l1_ttl=60,  # far beyond each test: only coherence evicts
        coherence=RedisCoherence(url, socket_timeout=2.0, channel="co:l1", **coherence_kwargs),  # type: ignore[arg-type]
    )


def wait_for(condition: Callable[[], bool], limit: float = 2.0) -> float:
    """Poll until ``condition()``; return the seconds it took (fails after ``limit``)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < limit, "condition not reached in time"
        time.sleep(0.0005)
    return time.monotonic() - start


@pytest.fixture
def pair(redis_clean_url: str) -> Iterator[tuple[TieredBackend, TieredBackend]]:
    """Two tiered backends sharing one Redis, as two processes would."""
    a, b = tiered(redis_clean_url), tiered(redis_clean_url)
    yield a, b
    a.close()
    b.close()


def test_set_elsewhere_evicts_the_stale_l1_copy(pair: tuple[TieredBackend, TieredBackend]) -> None:
    """A's overwrite reaches B's L1 within the stated bound; B then reads the new value."""
    a, b = pair
    seen = b.coherence.received  # type: ignore[union-attr]
    a.set("k", b"v1")
    # B must not promote a value read while a change notice for it was in flight (the
    # race guard in TieredBackend), so let A's notice land before B reads.
    wait_for(lambda: b.coherence.received > seen)  # type: ignore[union-attr]
    assert b.get("k") == b"v1"
    assert b.l1.get("k") == b"v1"
    delays = []
    for i in range(2, 22):
        new = f"v{i}".encode()
        a.set("k", new)
        delays.append(wait_for(lambda: b.l1.get("k") is None))
        assert b.get("k") == new
    delays.sort()
    print(f"\nL1 eviction delay over pub/sub: p50={delays[10] * 1e3:.3f}ms "
          f"max={delays[-1] * 1e3:.3f}ms")  # fmt: skip
    assert delays[-1] < 0.5


def test_delete_and_clear_propagate(pair: tuple[TieredBackend, TieredBackend]) -> None:
    """delete, delete_many and clear in A empty the matching L1 entries in B."""
    a, b = pair
    a.set_many({"x": b"1", "y": b"2", "z": b"3"})
    assert b.get_many(["x", "y", "z"]) == [b"1", b"2", b"3"]
    a.delete("x")
    wait_for(lambda: b.l1.get("x") is None)
    assert b.get("x") is None
    a.delete_many(["y"])
    wait_for(lambda: b.l1.get("y") is None)
    a.clear()
    wait_for(lambda: b.l1.get("z") is None)
    assert b.get("z") is None


def test_own_messages_are_ignored(pair: tuple[TieredBackend, TieredBackend]) -> None:
    """The writer keeps its fresh L1 copy: it does not evict on its own message."""
    a, b = pair
    a.set("k", b"v")
    wait_for(lambda: b.coherence is not None and b.coherence.received >= 1)  # type: ignore[attr-defined]
    assert a.l1.get("k") == b"v"
    assert a.coherence.received == 0  # type: ignore[union-attr]


def test_tag_invalidation_is_seen_at_once(pair: tuple[TieredBackend, TieredBackend]) -> None:
    """Tag generations live in Redis: B misses right after A invalidates, no wait needed."""
    a, b = pair
    ma, mb = CacheManager(backend=a), CacheManager(backend=b)
    ma.set("answer", {"v": 1}, tags=["model:x"])
    assert mb.get("answer") == {"v": 1}
    assert ma.invalidate("model:x") == 1
    assert mb.get("answer") is None


def test_malformed_messages_do_not_kill_the_subscriber(
    redis_clean_url: str, pair: tuple[TieredBackend, TieredBackend]
) -> None:
    """Garbage on the channel is ignored; later valid messages still apply."""
    a, b = pair
    with redis.Redis.from_url(redis_clean_url) as raw:
        for junk in [b"not json", b"[1,2]", b'{"from": "x"}', b"\xff\xfe"]:
            raw.publish("co:l1", junk)
    a.set("k", b"v1")
    assert b.get("k") == b"v1"
    a.set("k", b"v2")
    wait_for(lambda: b.l1.get("k") is None)


def test_reconnect_clears_the_l1(private_redis: RedisServer) -> None:
    """Messages missed while disconnected cannot be replayed, so reconnecting clears L1."""
    b = tiered(private_redis.url, reconnect_delay=0.05)
    try:
        b.set("k", b"v")
        assert b.l1.get("k") == b"v"
        private_redis.kill()
        coherence = b.coherence
        assert isinstance(coherence, RedisCoherence)
        wait_for(lambda: not coherence.connected, limit=3)
        private_redis.start()
        wait_for(lambda: coherence.connected, limit=5)
        assert coherence.reconnects == 1
        assert b.l1.get("k") is None
    finally:
        b.close()


def test_publish_never_raises_when_redis_is_down(dead_url: str) -> None:
    """publish() on a dead server counts the error instead of raising."""
    channel = RedisCoherence(dead_url, socket_timeout=2.0)
    try:
        channel.publish(["k"])
        channel.publish([])
        assert channel.publish_errors == 2
    finally:
        channel.close()


def test_constructor_checks(redis_clean_url: str) -> None:
    """url and client are exclusive; the channel must be named; subscribe only once."""
    with pytest.raises(ValueError, match="exactly one"):
        RedisCoherence()
    with pytest.raises(ValueError, match="channel"):
        RedisCoherence(redis_clean_url, socket_timeout=2.0, channel="")
    channel = RedisCoherence(redis_clean_url, socket_timeout=2.0)
    try:
        channel.subscribe(lambda keys: None)
        with pytest.raises(RuntimeError, match="once"):
            channel.subscribe(lambda keys: None)
    finally:
        channel.close()
