"""The in-memory store's compact layout: one-call tag checks and per-TTL expiry queues."""

from __future__ import annotations

import asyncio
import time

import pytest

from omnicache_ai import AsyncInMemoryBackend, CacheManager, InMemoryBackend


def test_get_checked_serves_current_and_drops_stale_tagged_entries() -> None:
    """A tagged entry reads through get_checked until its tag moves on, then is deleted."""
    backend = InMemoryBackend()
    manager = CacheManager(backend=backend)
    manager.set("one", "a", tags=["model:x"])
    manager.set("two", {"v": 2}, tags=["model:x", "team:y"])
    manager.set("plain", "p")
    skey = manager.storage_key
    assert backend.get_checked(skey("one")) == backend.get(skey("one"))
    assert backend.get_checked(skey("plain")) == backend.get(skey("plain"))
    assert manager.get("one") == "a"
    assert manager.get("two") == {"v": 2}
    manager.invalidate("model:x")
    assert backend.get_checked(skey("one")) is None
    assert backend.get_checked(skey("two")) is None
    assert backend.get(skey("one")) is None  # deleted, not only hidden
    assert backend.get(skey("two")) is None
    assert manager.get("plain") == "p"


def test_get_checked_treats_a_lost_counter_as_stale() -> None:
    """An entry whose tag counter vanished is never served again (the counter was lost)."""
    backend = InMemoryBackend()
    manager = CacheManager(backend=backend)
    manager.set("k", "v", tags=["t"])
    counters = [k for k in list(backend.keys()) if "__omnicache__:tag:" in k]
    assert counters
    for k in counters:
        backend.delete(k)
    assert manager.get("k") is None
    assert manager.metrics.snapshot()["misses"] == 1


def test_the_manager_reads_tagged_memory_entries_in_one_call() -> None:
    """A tagged in-memory hit is one backend call, served by get_checked."""
    backend = InMemoryBackend()
    calls: list[str] = []
    checked = backend.get_checked

    def counting(key: str) -> object:
        calls.append(key)
        return checked(key)

    # Patched before the manager is built: its lean get() binds the read at construction.
    backend.get_checked = counting  # type: ignore[method-assign]
    manager = CacheManager(backend=backend)
    manager.set("k", "v", tags=["t"])
    for _ in range(3):  # the lean path (and its timed samples) and the general one alike
        calls.clear()
        assert manager.get("k") == "v"
        assert calls == [manager.storage_key("k")]
    calls.clear()
    assert manager.get("k", layer="new") == "v"  # a first lookup in a layer: general path
    assert calls == [manager.storage_key("k")]


def test_async_twins_check_tags_too() -> None:
    """aget on both in-memory backends drops entries whose tag was invalidated."""

    async def run(backend: object) -> tuple[object, object]:
        manager = CacheManager(backend=backend)
        await manager.aset("k", "v", tags=["t"])
        before = await manager.aget("k")
        await manager.ainvalidate("t")
        return before, await manager.aget("k")

    assert asyncio.run(run(InMemoryBackend())) == ("v", None)
    assert asyncio.run(run(AsyncInMemoryBackend())) == ("v", None)


def test_a_rewrite_with_a_longer_ttl_outlives_its_first_record() -> None:
    """The sweep checks the entry itself, so an old expiry record never removes a rewrite."""
    b = InMemoryBackend()
    b.set("k", b"first", ttl=0.05)
    b.set("k", b"second", ttl=60)
    time.sleep(0.08)
    b.set("trigger", b"x", ttl=0.05)  # sweeps the due record of the first write
    assert b.get("k") == b"second"
    assert b.stats()["expirations"] == 0


def test_many_distinct_ttls_still_expire_and_are_swept() -> None:
    """TTLs beyond the per-TTL queues (a heap takes them) expire and leave on writes."""
    b = InMemoryBackend()
    for i in range(40):
        b.set(f"k{i}", b"v", ttl=0.02 + i * 0.001)
    b.set("keep", b"v", ttl=60)
    time.sleep(0.1)
    assert b.get("k39") is None
    b.set("trigger", b"v")
    assert len(b) == 2
    assert b.stats()["expirations"] == 40


def test_rewrites_do_not_grow_expiry_records_without_bound() -> None:
    """Rewriting one key keeps the expiry records within a constant of the live entries."""
    b = InMemoryBackend()
    for _ in range(1000):
        b.set("hot", b"v", ttl=60)
    store = b._store
    assert store._records <= 2 * len(b) + 64
    assert b.get("hot") == b"v"
    assert store.deadlines()
    assert all(d > time.monotonic() for d in store.deadlines())


@pytest.mark.parametrize("bounded", [False, True])
def test_counters_keep_their_deadline_and_bytes_stay_exact(bounded: bool) -> None:
    """incr keeps the creation deadline, and the byte count returns to zero when emptied."""
    b = InMemoryBackend(max_size=100) if bounded else InMemoryBackend()
    assert b.incr("c", 1, ttl=60) == 1
    assert b.incr("c", 5) == 6
    (deadline,) = b._store.deadlines()
    assert 50 < deadline - time.monotonic() <= 60
    b.set("s", "text", ttl=30)
    b.set("t", (1, "x"))
    b.delete("c")
    b.delete_many(["s", "t"])
    assert b.stats()["bytes"] == 0


def test_a_rewrite_makes_an_entry_the_newest_in_a_bounded_store() -> None:
    """Under a bound, rewriting a key protects it from the next eviction (LRU and FIFO)."""
    from omnicache_ai import EvictionPolicy

    for policy in (EvictionPolicy("lru", max_entries=3), EvictionPolicy("ttl", max_entries=3)):
        b = InMemoryBackend(eviction_policy=policy)
        for k in "abc":
            b.set(k, k)
        b.set("a", "A")
        b.set("d", "d")
        assert [k for k in "abcd" if b.get(k) is not None] == ["a", "c", "d"]
