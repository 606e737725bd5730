"""InMemoryBackend bounds, eviction order, expiry sweeping and copy semantics."""

from __future__ import annotations

import threading
import time

import pytest

from omnicache_ai import CacheManager, ConfigurationError, EvictionPolicy, InMemoryBackend


def test_lru_evicts_least_recently_used() -> None:
    """Reading an entry protects it from eviction under the LRU strategy."""
    b = InMemoryBackend(max_size=3)
    for k in "abc":
        b.set(k, k)
    b.get("a")
    b.set("d", "d")
    assert [k for k in "abcd" if b.get(k) is not None] == ["a", "c", "d"]
    assert b.stats()["evictions"] == 1


@pytest.mark.parametrize("via_manager", [False, True])
def test_reads_between_writes_keep_their_order(via_manager: bool) -> None:
    """Several reads between two writes (logged, then replayed by the next write while the
    store has never evicted) rank the keys by their last read, as an LRU does: the
    victims are the never-read key, then the keys in the order they were last read."""
    b = InMemoryBackend(max_size=4)
    m = CacheManager(backend=b)
    put, get = (m.set, m.get) if via_manager else (b.set, b.get)
    for k in "abcd":
        put(k, k)
    for k in "cbacab":  # last reads: c, a, b (d never read)
        assert get(k) == k
    put("e", "e")  # evicts d, the least recently used
    put("f", "f")  # evicts c
    put("g", "g")  # evicts a
    assert [k for k in "abcdefg" if get(k) is not None] == ["b", "e", "f", "g"]
    assert b.stats()["evictions"] == 3


def test_ttl_strategy_does_not_reorder_on_read() -> None:
    """The TTL-only strategy evicts the oldest write even if it was just read."""
    b = InMemoryBackend(eviction_policy=EvictionPolicy("ttl", max_entries=3))
    for k in "abc":
        b.set(k, k)
    b.get("a")
    b.set("d", "d")
    assert b.get("a") is None
    assert b.get("b") == "b"


def test_byte_bound() -> None:
    """The store never holds more bytes than max_bytes."""
    b = InMemoryBackend(max_bytes=10_000)
    for i in range(100):
        b.set(f"k{i}", b"x" * 1000)
    assert b.stats()["bytes"] <= 10_000
    assert b.get("k99") == b"x" * 1000
    assert b.get("k0") is None


def test_expired_entries_are_swept_on_write() -> None:
    """Expired entries leave the store as later writes happen, not only when read."""
    b = InMemoryBackend()
    for i in range(50):
        b.set(f"short{i}", b"v", ttl=0.05)
    time.sleep(0.1)
    b.set("trigger", b"v")
    assert len(b) == 1
    assert b.stats()["expirations"] == 50


def test_mutable_values_are_copied() -> None:
    """A caller mutating what it stored or read cannot change the cached value."""
    b = InMemoryBackend()
    value = {"list": [1, 2]}
    b.set("k", value)
    value["list"].append(3)
    got = b.get("k")
    assert got == {"list": [1, 2]}
    got["list"].append(99)
    assert b.get("k") == {"list": [1, 2]}


def test_evictions_reach_manager_metrics() -> None:
    """Evictions made by the backend are counted in the manager's metrics."""
    manager = CacheManager(backend=InMemoryBackend(max_size=10))
    for i in range(25):
        manager.set(f"k{i}", i)
    assert manager.metrics.snapshot()["evictions"] == 15


def test_concurrent_readers_and_writers_keep_bounds() -> None:
    """Heavy concurrent reads, writes and deletes keep the size bound and never crash."""
    b = InMemoryBackend(max_size=100)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for i in range(2000):
                k = f"k{(i * seed) % 300}"
                b.set(k, i)
                b.get(k)
                if i % 7 == 0:
                    b.delete(k)
                if i % 97 == 0:
                    list(b.keys())
        except BaseException as err:  # noqa: BLE001 - collected and asserted empty
            errors.append(err)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(b) <= 100


def test_policy_validation() -> None:
    """Bad bounds and strategies raise ConfigurationError."""
    with pytest.raises(ConfigurationError):
        EvictionPolicy("random")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        EvictionPolicy(max_entries=0)
    with pytest.raises(ConfigurationError):
        InMemoryBackend(max_size=5, eviction_policy=EvictionPolicy())


@pytest.mark.parametrize(
    "bounds",
    [
        {"max_size": 7},
        {"max_bytes": 700},
        {"eviction_policy": EvictionPolicy("ttl", max_entries=7)},
    ],
)
def test_set_many_keeps_the_entries_and_bytes_of_one_set_per_item(bounds: dict) -> None:
    """A batch write leaves the entries, order and bytes of writing each item, one by one.

    It may count fewer evictions: an entry the batch itself rewrites is updated in place
    rather than evicted by an earlier item and written again.
    """
    one, batch = InMemoryBackend(**bounds), InMemoryBackend(**bounds)
    for b in (one, batch):
        for k in "abcd":
            b.set(k, f"old-{k}" * 3)
        b.get("a")  # read before the batch: LRU order must count it
    items = {"c": "new-c", **{f"n{i}": "v" * (10 * i) for i in range(9)}, "a": "new-a"}
    for k, v in items.items():
        one.set(k, v, None)
    batch.set_many(items, None)
    order = list(one.keys())
    assert list(batch.keys()) == order
    assert [batch.get(k) for k in order] == [one.get(k) for k in order]
    for field in ("bytes", "entries"):
        assert batch.stats()[field] == one.stats()[field], field
    assert 0 < batch.stats()["evictions"] <= one.stats()["evictions"]


def test_set_many_ttl_entries_expire_and_are_swept() -> None:
    """Every entry of a batch written with a TTL expires, and later writes sweep them."""
    b = InMemoryBackend()
    b.set_many({f"short{i}": b"v" for i in range(50)}, 0.05)
    b.set_many({f"long{i}": b"v" for i in range(5)}, 60)
    assert b.get("short0") == b"v"
    time.sleep(0.1)
    b.set("trigger", b"v")
    assert len(b) == 6
    assert b.stats()["expirations"] == 50
    assert b.get("long4") == b"v"


def test_manager_set_many_envelopes_read_like_single_sets() -> None:
    """Batch-framed entries (tagged, untagged, compressed) read and invalidate like set()."""
    from omnicache_ai.core.compressor import GzipCompressor

    for comp in (None, GzipCompressor(min_size=10)):
        m = CacheManager(**({"compressor": comp} if comp else {}))
        values = {"t": "text", "d": {"k": [1, 2]}, "b": b"raw", "big": "x" * 5000}
        m.set_many(values, tags=["v1", "v2"])
        m.set_many({f"u-{k}": v for k, v in values.items()})
        for k, v in values.items():
            m.set(f"s-{k}", v, tags=["v1", "v2"])
            assert m.backend.get(m._skey(k)) == m.backend.get(m._skey(f"s-{k}")), k
            assert m.get(k) == v
            assert m.get(f"u-{k}") == v
        m.invalidate("v2")
        assert m.get_many(list(values)) == {}
        assert m.get_many([f"u-{k}" for k in values]) == {f"u-{k}": v for k, v in values.items()}
