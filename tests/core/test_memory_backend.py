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
