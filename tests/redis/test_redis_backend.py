"""RedisBackend against a real redis-server and a real 3-master Redis Cluster."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.cluster

from omnicache_ai.backends.redis_backend import (
    BackendDataError,
    BackendError,
    RedisBackend,
)

# Functional tests run on a loaded 2-core CI box: give connections room. The fault tests
# keep the production default (0.25 s) to measure fail-fast behaviour.
FUNCTIONAL_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


pytestmark = pytest.mark.redis

GLOB_KEYS = ["a*b:1", "a*bc", "a?b", "a[b]", "a\\b", "aXb:1", "ab"]


def raw_client(backend: RedisBackend) -> redis.Redis | redis.cluster.RedisCluster:
    """The redis-py client behind a backend, to look at what it really stored."""
    client: redis.Redis | redis.cluster.RedisCluster = backend.client
    return client


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
def backend(url: str, mode: str) -> Iterator[RedisBackend]:
    """A RedisBackend with a prefix, closed after the test."""
    with RedisBackend(url, **FUNCTIONAL_TIMEOUTS, prefix="t:", cluster=mode == "cluster") as b:
        yield b


@pytest.fixture
def bare(url: str, mode: str) -> Iterator[RedisBackend]:
    """A RedisBackend without a prefix."""
    with RedisBackend(url, **FUNCTIONAL_TIMEOUTS, cluster=mode == "cluster") as b:
        yield b


def test_round_trip(backend: RedisBackend) -> None:
    """Bytes come back identical; a missing key is None; set replaces."""
    payload = bytes(range(256)) * 10
    assert backend.get("k") is None
    backend.set("k", payload)
    assert backend.get("k") == payload
    backend.set("k", b"")
    assert backend.get("k") == b""
    backend.set("k", bytearray(b"ba"))
    assert backend.get("k") == b"ba"
    backend.set("k", memoryview(b"mv"))
    assert backend.get("k") == b"mv"


def test_keys_carry_the_prefix_in_redis(backend: RedisBackend) -> None:
    """The stored key is prefix + key, UTF-8 encoded."""
    backend.set("clé", b"v")
    assert raw_client(backend).get("t:clé".encode()) == b"v"
    assert backend.get("clé") == b"v"


def test_exists_and_delete(backend: RedisBackend) -> None:
    """exists tracks presence; delete says whether something was removed."""
    assert not backend.exists("k")
    backend.set("k", b"v")
    assert backend.exists("k")
    assert backend.delete("k") is True
    assert backend.delete("k") is False
    assert not backend.exists("k")


def test_ttl_has_millisecond_precision(backend: RedisBackend) -> None:
    """ttl=0.2 is sent as PX 200 and the entry is gone shortly after."""
    backend.set("k", b"v", ttl=0.2)
    pttl = raw_client(backend).pttl(b"t:k")
    assert 0 < pttl <= 200  # stored, with the TTL in milliseconds (-2 would mean absent)
    time.sleep(0.3)
    assert backend.get("k") is None
    assert not backend.exists("k")


def test_no_ttl_means_no_expiry(backend: RedisBackend) -> None:
    """ttl=None stores without expiry and replaces an earlier TTL."""
    backend.set("k", b"v", ttl=10)
    backend.set("k", b"v")
    assert raw_client(backend).pttl(b"t:k") == -1


def test_sub_millisecond_ttl_rounds_up(backend: RedisBackend) -> None:
    """A positive TTL under 1 ms still stores (PX 1) rather than failing."""
    backend.set("k", b"v", ttl=0.0004)
    time.sleep(0.01)
    assert backend.get("k") is None


@pytest.mark.parametrize("ttl", [0, -1, -0.5])
def test_non_positive_ttl_removes(backend: RedisBackend, ttl: float) -> None:
    """A TTL <= 0 means expired on arrival: the old value is removed, nothing stored."""
    backend.set("k", b"old")
    backend.set("k", b"new", ttl=ttl)
    assert backend.get("k") is None


@pytest.mark.parametrize(
    ("ttl", "error"), [(float("nan"), ValueError), (float("inf"), ValueError), ("1", TypeError)]
)
def test_bad_ttl_is_rejected(backend: RedisBackend, ttl: object, error: type[Exception]) -> None:
    """NaN, infinity and non-numbers are caller errors, named as such."""
    with pytest.raises(error, match="ttl"):
        backend.set("k", b"v", ttl=ttl)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["text", 3, 1.5, None, {"a": 1}])
def test_non_bytes_values_are_rejected(backend: RedisBackend, value: object) -> None:
    """Only bytes are stored; anything else is a TypeError naming the type."""
    with pytest.raises(TypeError, match=type(value).__name__):
        backend.set("k", value)


def test_non_str_keys_are_rejected(backend: RedisBackend) -> None:
    """Keys must be str."""
    with pytest.raises(TypeError, match="keys must be str"):
        backend.get(b"k")  # type: ignore[arg-type]


def test_batch_operations(backend: RedisBackend) -> None:
    """get_many keeps order with None for misses; set_many applies one TTL; delete_many counts."""
    items = {f"k{i}": f"v{i}".encode() for i in range(2500)}
    backend.set_many(items, ttl=30)
    keys = ["missing", *items, "also-missing"]
    values = backend.get_many(keys)
    assert values == [None, *items.values(), None]
    assert 0 < raw_client(backend).pttl(b"t:k7") <= 30_000
    assert backend.get_many([]) == []
    assert backend.delete_many([*items, "missing"]) == 2500
    assert backend.get_many(["k0", "k2499"]) == [None, None]
    assert backend.delete_many([]) == 0
    backend.set_many({})


def test_set_many_with_expired_ttl_removes(backend: RedisBackend) -> None:
    """set_many with ttl <= 0 removes the keys, like set."""
    backend.set_many({"a": b"1", "b": b"2"})
    backend.set_many({"a": b"3", "b": b"4"}, ttl=0)
    assert backend.get_many(["a", "b"]) == [None, None]


def test_clear_only_touches_its_prefix(url: str, mode: str) -> None:
    """clear() removes this backend's keys and leaves other prefixes and foreign keys."""
    cluster = mode == "cluster"
    with (
        RedisBackend(url, **FUNCTIONAL_TIMEOUTS, prefix="one:", cluster=cluster) as one,
        RedisBackend(url, **FUNCTIONAL_TIMEOUTS, prefix="two:", cluster=cluster) as two,
    ):
        one.set_many({f"k{i}": b"1" for i in range(1500)})
        two.set("k", b"2")
        raw_client(one).set(b"foreign", b"3")
        one.clear()
        assert list(one.keys()) == []
        assert two.get("k") == b"2"
        assert raw_client(one).get(b"foreign") == b"3"


def test_clear_without_prefix_refuses(bare: RedisBackend) -> None:
    """Without a prefix and without owns_db, clear() refuses instead of wiping the db."""
    bare.set("k", b"v")
    with pytest.raises(BackendError, match="refusing to clear"):
        bare.clear()
    assert bare.get("k") == b"v"


def test_clear_with_owns_db_flushes(url: str, mode: str) -> None:
    """owns_db=True and no prefix: clear() empties the whole database."""
    with RedisBackend(url, **FUNCTIONAL_TIMEOUTS, owns_db=True, cluster=mode == "cluster") as b:
        b.set_many({"x": b"1", "y": b"2", "z": b"3"})
        b.clear()
        deadline = time.monotonic() + 2
        while b.get_many(["x", "y", "z"]) != [None, None, None]:
            assert time.monotonic() < deadline
            time.sleep(0.01)


def test_incr_is_atomic_across_threads(backend: RedisBackend) -> None:
    """8 threads x 250 increments lose none; the counter reads back as ASCII bytes."""

    def worker() -> None:
        for _ in range(250):
            backend.incr("counter")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert backend.get("counter") == b"2000"
    assert backend.incr("counter", -1000) == 1000
    assert backend.incr("fresh", 5) == 5


def test_incr_rejects_non_int_delta(backend: RedisBackend) -> None:
    """A float or bool delta is a caller error."""
    with pytest.raises(TypeError, match="delta"):
        backend.incr("c", 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="delta"):
        backend.incr("c", True)


def test_add_is_set_if_absent(backend: RedisBackend) -> None:
    """add stores only when absent, and may store again once the TTL expired."""
    assert backend.add("k", b"first", ttl=600) is True
    assert backend.add("k", b"second") is False
    assert backend.get("k") == b"first"
    raw_client(backend).pexpire(b"t:k", 1)  # expire it now rather than race a short TTL
    time.sleep(0.05)
    assert backend.add("k", b"third") is True
    assert backend.get("k") == b"third"
    assert backend.add("k", b"x", ttl=0) is False
    assert backend.add("gone", b"x", ttl=0) is True
    assert backend.get("gone") is None


def test_add_has_exactly_one_winner(backend: RedisBackend) -> None:
    """Concurrent add() calls on one key: exactly one returns True."""
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        wins.append(backend.add("lock", str(i).encode()))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


def test_keys_and_delete_prefix_treat_glob_characters_literally(backend: RedisBackend) -> None:
    """A prefix with * ? [ ] \\ matches only keys starting with those exact characters."""
    for k in GLOB_KEYS:
        backend.set(k, b"v")
    assert sorted(backend.keys("a*b")) == ["a*b:1", "a*bc"]
    assert sorted(backend.keys("a?")) == ["a?b"]
    assert sorted(backend.keys("a[")) == ["a[b]"]
    assert sorted(backend.keys("a\\")) == ["a\\b"]
    assert sorted(backend.keys()) == sorted(GLOB_KEYS)
    assert backend.delete_prefix("a*b") == 2
    assert sorted(backend.keys()) == sorted(set(GLOB_KEYS) - {"a*b:1", "a*bc"})
    assert backend.delete_prefix("nothing-here") == 0


def test_glob_characters_in_the_backend_prefix(url: str, mode: str) -> None:
    """A backend prefix full of glob characters still scopes keys() and clear()."""
    cluster = mode == "cluster"
    with (
        RedisBackend(url, **FUNCTIONAL_TIMEOUTS, prefix="p*[?]\\:", cluster=cluster) as odd,
        RedisBackend(url, **FUNCTIONAL_TIMEOUTS, prefix="pX[?]\\:", cluster=cluster) as near,
    ):
        odd.set("k", b"1")
        near.set("k", b"2")
        assert list(odd.keys()) == ["k"]
        odd.clear()
        assert near.get("k") == b"2"
        assert odd.get("k") is None


def test_unicode_keys_survive_keys(backend: RedisBackend) -> None:
    """Non-ASCII keys round-trip through keys()."""
    names = ["日本", "ключ", "emoji-\N{GRINNING FACE}"]
    for n in names:
        backend.set(n, b"v")
    assert sorted(backend.keys()) == sorted(names)


def test_a_list_at_the_key_is_a_data_error(backend: RedisBackend) -> None:
    """A key holding a LIST (written by someone else) raises BackendDataError, not a crash."""
    raw_client(backend).rpush(b"t:list", b"a", b"b")
    with pytest.raises(BackendDataError, match="WRONGTYPE"):
        backend.get("list")
    with pytest.raises(BackendDataError):
        backend.incr("list")
    assert backend.get_many(["list"]) == [None]
    assert backend.exists("list")
    assert backend.breaker.state == "closed"


def test_a_non_integer_counter_is_a_data_error(backend: RedisBackend) -> None:
    """incr on a non-numeric value raises BackendDataError."""
    backend.set("c", b"not a number")
    with pytest.raises(BackendDataError):
        backend.incr("c")


def test_stats(backend: RedisBackend) -> None:
    """stats() reports the server's key count, memory and the breaker state."""
    backend.set_many({"a": b"1", "b": b"2"})
    stats = backend.stats()
    assert stats["db_keys"] == 2
    assert stats["used_memory_bytes"] > 0
    assert stats["evicted_keys"] == 0
    assert stats["breaker"]["state"] == "closed"
    assert stats["prefix"] == "t:"


def test_ping(backend: RedisBackend) -> None:
    """ping() is True against a live server."""
    assert backend.ping() is True


def test_cluster_spreads_keys_and_never_crossslots(cluster_clean_url: str) -> None:
    """In a cluster, keys land on all masters and batch ops span slots without CROSSSLOT."""
    with RedisBackend(cluster_clean_url, **FUNCTIONAL_TIMEOUTS, cluster=True) as b:
        assert b.cluster
        items = {f"key-{i}": str(i).encode() for i in range(300)}
        b.set_many(items)
        assert b.get_many(list(items)) == list(items.values())
        per_node = [
            n.redis_connection.dbsize()
            for n in raw_client(b).get_primaries()  # type: ignore[union-attr]
        ]
        assert len(per_node) == 3
        assert all(count > 0 for count in per_node)
        assert b.delete_many(list(items)) == 300


def test_hash_tag_prefix_puts_keys_in_one_slot(cluster_clean_url: str) -> None:
    """A prefix with a {hash tag} keeps all of a backend's keys on one slot."""
    with RedisBackend(cluster_clean_url, **FUNCTIONAL_TIMEOUTS, cluster=True, prefix="{app}:") as b:
        b.set_many({f"k{i}": b"v" for i in range(50)})
        client = raw_client(b)
        slots = {client.keyslot(f"{{app}}:k{i}") for i in range(50)}  # type: ignore[union-attr]
        assert len(slots) == 1
        assert len(list(b.keys())) == 50


def test_existing_client_is_used_and_not_closed(redis_clean_url: str) -> None:
    """client= is used as is, and close() leaves it open for its owner."""
    with redis.Redis.from_url(redis_clean_url) as client:
        backend = RedisBackend(client=client, prefix="c:")
        backend.set("k", b"v")
        backend.close()
        backend.close()
        assert client.get(b"c:k") == b"v"


def test_decode_responses_client_is_rejected(redis_clean_url: str) -> None:
    """A client that decodes replies to str would corrupt bytes values: refused up front."""
    with (
        redis.Redis.from_url(redis_clean_url, decode_responses=True) as client,
        pytest.raises(ValueError, match="decode_responses"),
    ):
        RedisBackend(client=client)


def test_from_url_and_arguments(redis_clean_url: str) -> None:
    """from_url builds a working backend; url and client together are refused."""
    with RedisBackend.from_url(redis_clean_url, prefix="f:") as b:
        b.set("k", b"v")
        assert b.get("k") == b"v"
        assert "f:" in repr(b)
    with (
        redis.Redis.from_url(redis_clean_url) as client,
        pytest.raises(ValueError, match="either"),
    ):
        RedisBackend(redis_clean_url, **FUNCTIONAL_TIMEOUTS, client=client)
    with pytest.raises(TypeError, match="prefix"):
        RedisBackend(redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix=b"x")  # type: ignore[arg-type]


def test_password_is_not_in_error_messages(redis_clean_url: str) -> None:
    """The backend's name in messages shows host and port, never credentials."""
    url = redis_clean_url.replace("redis://", "redis://user:s3cret@")
    with RedisBackend(url, **FUNCTIONAL_TIMEOUTS) as b:
        assert "s3cret" not in repr(b)
        assert "s3cret" not in str(b.stats())


def test_missing_redis_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without redis-py, importing the module says which extra to install."""
    import omnicache_ai.backends.redis_backend as module

    monkeypatch.setitem(sys.modules, "redis", None)
    spec = importlib.util.spec_from_file_location("_redis_backend_copy", Path(module.__file__))
    assert spec is not None
    assert spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    with pytest.raises(ImportError, match=r"pip install 'omnicache-ai\[redis\]'"):
        spec.loader.exec_module(copy)


# ---- get_checked: tag generations validated in the read's one round trip --------------


@pytest.fixture(params=[True, False], ids=["tracked", "script"])
def tracking(request: pytest.FixtureRequest) -> bool:
    """Run a test with each read mode: tracked counters (default) and the Lua script."""
    return bool(request.param)


def test_get_checked_validates_tag_generations(redis_clean_url: str, tracking: bool) -> None:
    """Served while every recorded generation matches its counter; stale entries vanish."""
    from omnicache_ai.core import envelope

    with RedisBackend(
        redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="g:", client_tracking=tracking
    ) as b:
        check = b.get_checked
        assert check is not None
        fresh = envelope.encode(b"payload", 1, 0, [("tag:a", 0), ("tag:b", 2)])
        b.set("e", fresh)
        b.incr("tag:b", 2)
        b.incr("tag:a", 0)
        assert check("e") == fresh  # tag:a is 0, tag:b is 2
        b.incr("tag:a")
        assert check("e") is None
        assert b.get("e") is None  # the stale entry was deleted on the spot
        assert check("missing") is None


def test_get_checked_treats_a_lost_counter_as_stale(redis_clean_url: str, tracking: bool) -> None:
    """A counter that vanished (restart without persistence) retires the entries recording it."""
    from omnicache_ai.core import envelope

    with RedisBackend(
        redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="g:", client_tracking=tracking
    ) as b:
        assert b.get_checked is not None
        entry = envelope.encode(b"payload", 1, 0, [("tag:a", 0)])
        b.set("e", entry)
        assert b.get_checked("e") is None
        assert b.get("e") is None


@pytest.mark.parametrize(
    "raw",
    [b"plain bytes", b"OC\x01\x01\x00\x00untagged", b"OC\x01\x01\x00\x02\x00\x05ab", b"O"],
    ids=["foreign", "untagged", "truncated", "short"],
)
def test_get_checked_returns_non_tagged_bytes_as_is(
    redis_clean_url: str, raw: bytes, tracking: bool
) -> None:
    """Foreign, untagged or truncated bytes come back unchanged for the manager to judge."""
    with RedisBackend(
        redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="g:", client_tracking=tracking
    ) as b:
        b.set("e", raw)
        assert b.get_checked is not None
        assert b.get_checked("e") == raw


def test_get_checked_survives_a_script_flush(redis_clean_url: str) -> None:
    """After SCRIPT FLUSH (or a restart) the script is loaded again transparently."""
    with RedisBackend(
        redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="g:", client_tracking=False
    ) as b:
        b.set("e", b"v")
        assert b.get_checked is not None
        assert b.get_checked("e") == b"v"
        raw_client(b).script_flush()
        assert b.get_checked("e") == b"v"


def test_get_checked_on_a_list_is_a_data_error(redis_clean_url: str, tracking: bool) -> None:
    """A foreign LIST at the key surfaces as BackendDataError from the script too."""
    with RedisBackend(
        redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="g:", client_tracking=tracking
    ) as b:
        raw_client(b).rpush(b"g:e", b"x")
        assert b.get_checked is not None
        with pytest.raises(BackendDataError):
            b.get_checked("e")


def test_cluster_offers_no_get_checked(cluster_clean_url: str) -> None:
    """Tag counters live in other slots, so a cluster backend leaves the check to the manager."""
    with RedisBackend(cluster_clean_url, **FUNCTIONAL_TIMEOUTS, cluster=True) as b:
        assert b.get_checked is None


class CountingConnection(redis.Connection):
    """Counts requests sent: one send is one round trip."""

    sends = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sends += 1
        super().send_packed_command(command, check_health)


def test_manager_hit_is_one_round_trip_even_with_tags(redis_clean_url: str, tracking: bool) -> None:
    """A CacheManager hit on a tagged entry costs exactly one request to Redis."""
    from omnicache_ai.core.cache_manager import CacheManager

    with RedisBackend(
        redis_clean_url,
        **FUNCTIONAL_TIMEOUTS,
        prefix="g:",
        connection_class=CountingConnection,
        client_tracking=tracking,
    ) as b:
        manager = CacheManager(backend=b)
        manager.set("plain", "v")
        manager.set("tagged", {"answer": 42}, tags=["model:x", "tenant:y"])
        assert manager.get("tagged") == {"answer": 42}
        before = CountingConnection.sends
        for _ in range(50):
            assert manager.get("tagged") == {"answer": 42}
            assert manager.get("plain") == "v"
        assert CountingConnection.sends - before == 100
        manager.invalidate("model:x")
        assert manager.get("tagged") is None


@pytest.mark.parametrize("kind", ["redis", "tiered"])
def test_settings_build_a_working_redis_manager(redis_clean_url: str, kind: str) -> None:
    """OmnicacheSettings(backend=redis|tiered) wires a manager that round-trips on Redis."""
    from omnicache_ai.config.settings import OmnicacheSettings
    from omnicache_ai.core.cache_manager import CacheManager

    settings = OmnicacheSettings(backend=kind, redis_url=redis_clean_url)  # type: ignore[arg-type]
    with CacheManager.from_settings(settings) as manager:
        manager.set("k", {"v": 1}, tags=["t"])
        assert manager.get("k") == {"v": 1}
        manager.invalidate("t")
        assert manager.get("k") is None
