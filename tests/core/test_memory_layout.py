"""The in-memory store's compact layout: one-call tag checks and per-TTL expiry queues."""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicache_ai import AsyncInMemoryBackend, CacheManager, InMemoryBackend
from omnicache_ai.backends.memory_backend import _size_of


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


# ---- timed tagged entries that share one tag section (_Split) ---------------------------
def _split_keys(backend: InMemoryBackend | AsyncInMemoryBackend) -> set[str]:
    """Keys whose entry is held apart from its (shared) tag section."""
    from omnicache_ai.backends.memory_backend import _Split

    return {k for k, item in backend._store._data.items() if type(item) is _Split}


def test_entries_with_the_same_tags_share_one_section_and_read_back_whole() -> None:
    """From the second entry on, a tag section is shared; every read still sees the entry
    as written: get() the whole envelope, get_checked() a decodable one, the manager the
    value."""
    from omnicache_ai.core.envelope import parse

    backend = InMemoryBackend()
    manager = CacheManager(backend=backend)
    for i in range(4):
        manager.set(f"k{i}", f"answer {i}", ttl=60, tags=["model:x"])
    skey = manager.storage_key
    assert _split_keys(backend) == {skey(f"k{i}") for i in (1, 2, 3)}  # the first is inline
    sections = {id(backend._store._data[skey(f"k{i}")].section) for i in (1, 2, 3)}
    assert len(sections) == 1
    inline, shared = backend.get(skey("k0")), backend.get(skey("k1"))
    assert parse(inline).tags == parse(shared).tags  # the same section, rebuilt in place
    assert parse(shared).payload == parse(inline).payload.replace(b"0", b"1")
    assert parse(backend.get_checked(skey("k1"))).tags == ()  # checked: section dropped
    for i in range(4):
        assert manager.get(f"k{i}") == f"answer {i}"
        assert general_get(manager, f"k{i}") == f"answer {i}"
    # max_bytes charges a shared entry its whole envelope, as if it were inline.
    assert backend.stats()["bytes"] == sum(_size_of(backend.get(k)) for k in backend.keys(""))
    manager.clear()
    assert backend.stats()["bytes"] == 0


def test_set_many_shares_sections_and_keeps_bytes_exact_over_rewrites() -> None:
    """A batch write (set_many, the bulk path) shares tag sections as set() does, charges
    the same bytes, and a rewrite of a shared entry by either path releases exactly what it
    held; invalidating the tag then drops every entry of the batch."""
    backend = InMemoryBackend()
    manager = CacheManager(backend=backend)
    manager.set_many({f"k{i}": f"answer {i}" for i in range(6)}, ttl=60, tags=["model:x"])
    skey = manager.storage_key
    assert _split_keys(backend) >= {skey(f"k{i}") for i in range(1, 6)}

    def exact() -> None:
        stored = sum(_size_of(backend.get(k)) for k in backend.keys(""))
        assert backend.stats()["bytes"] == stored

    exact()
    manager.set_many({f"k{i}": f"again {i}" for i in range(3)}, ttl=60, tags=["model:x"])
    manager.set("k4", "single rewrite", ttl=60, tags=["model:x"])
    exact()
    assert [manager.get(f"k{i}") for i in range(6)] == [
        "again 0", "again 1", "again 2", "answer 3", "single rewrite", "answer 5"
    ]  # fmt: skip
    manager.invalidate("model:x")
    assert all(manager.get(f"k{i}") is None for i in range(6))
    manager.clear()
    assert backend.stats()["bytes"] == 0


def general_get(manager: CacheManager, key: str) -> object:
    """The general CacheManager.get, bypassing the lean one bound on the instance."""
    return CacheManager.get(manager, key)


def test_invalidating_a_tag_spares_entries_whose_shared_section_lacks_it() -> None:
    """Entries tagged [model] and [model, team] hold two sections; invalidating the team
    retires only the second kind, and a model invalidation retires both."""
    backend = InMemoryBackend()
    manager = CacheManager(backend=backend)
    for i in range(3):
        manager.set(f"m{i}", f"m{i}", ttl=60, tags=["model:x"])
        manager.set(f"t{i}", f"t{i}", ttl=60, tags=["model:x", "team:y"])
    assert len(_split_keys(backend)) == 4
    manager.invalidate("team:y")
    assert [manager.get(f"m{i}") for i in range(3)] == ["m0", "m1", "m2"]
    assert [manager.get(f"t{i}") for i in range(3)] == [None, None, None]
    assert all(backend.get(manager.storage_key(f"t{i}")) is None for i in range(3))  # deleted
    # New entries after the invalidation carry the new generation: a new shared section.
    for i in range(3):
        manager.set(f"n{i}", f"n{i}", ttl=60, tags=["model:x", "team:y"])
    assert [manager.get(f"n{i}") for i in range(3)] == ["n0", "n1", "n2"]
    manager.invalidate("model:x")
    assert all(manager.get(k) is None for k in ("m0", "m1", "m2", "n0", "n1", "n2"))
    assert _split_keys(backend) == set()


def test_a_shared_section_is_checked_against_a_lost_counter() -> None:
    """A shared entry whose tag counter vanished is stale, like an inline one."""
    backend = InMemoryBackend()
    manager = CacheManager(backend=backend)
    manager.set("a", "1", ttl=60, tags=["t"])
    manager.set("b", "2", ttl=60, tags=["t"])
    assert _split_keys(backend) == {manager.storage_key("b")}
    for k in [k for k in list(backend.keys()) if "__omnicache__:tag:" in k]:
        backend.delete(k)
    assert manager.get("b") is None
    assert backend.get(manager.storage_key("b")) is None


def test_shared_entries_expire_and_are_swept() -> None:
    """A shared entry keeps its own deadline: it reads as a miss, then the sweep drops it."""
    backend = InMemoryBackend()
    manager = CacheManager(backend=backend)
    manager.set("short0", "s", ttl=0.05, tags=["model:x"])
    manager.set("short1", "s", ttl=0.05, tags=["model:x"])
    manager.set("long", "l", ttl=60, tags=["model:x"])
    assert manager.storage_key("short1") in _split_keys(backend)
    assert manager.storage_key("long") in _split_keys(backend)
    assert (manager.get("short1"), manager.get("long")) == ("s", "l")
    time.sleep(0.08)
    assert manager.get("short1") is None
    assert backend.get(manager.storage_key("short1")) is None
    assert not backend.exists(manager.storage_key("short0"))
    assert manager.get("long") == "l"
    manager.set("trigger", "x", ttl=0.05)  # a write sweeps what is due
    assert backend.stats()["expirations"] == 2
    assert [k for k in backend.keys(manager.scope) if "__omnicache__" not in k] == [
        manager.storage_key("long"),
        manager.storage_key("trigger"),
    ]


def test_a_bounded_store_evicts_shared_entries_one_by_one() -> None:
    """Evicting one entry of a shared section leaves the others served; bytes stay exact."""
    backend = InMemoryBackend(max_size=6)  # 2 counters (tag, write count) + 4 entries
    manager = CacheManager(backend=backend)
    for i in range(4):
        manager.set(f"k{i}", f"v{i}", ttl=60, tags=["model:x"])
    assert manager.get("k0") == "v0"  # the least recently used is now k1
    manager.set("k4", "v4", ttl=60, tags=["model:x"])
    assert manager.get("k1") is None
    assert [manager.get(f"k{i}") for i in (0, 2, 3, 4)] == ["v0", "v2", "v3", "v4"]
    assert backend.stats()["evictions"] == 1
    for i in range(5):
        manager.delete(f"k{i}")
    counters = [k for k in backend.keys("") if "__omnicache__" in k]
    backend.delete_many(counters)
    assert backend.stats()["bytes"] == 0


def test_one_off_sections_stay_inline_and_the_section_table_is_bounded() -> None:
    """Entries with tags no other entry carries keep them inline (no shared object), and
    the table of recently seen sections never outgrows its bound."""
    from omnicache_ai.backends.memory_backend import _MAX_SECTIONS

    backend = InMemoryBackend()
    manager = CacheManager(backend=backend)
    for i in range(_MAX_SECTIONS + 50):
        manager.set(f"k{i}", f"v{i}", ttl=60, tags=[f"user:{i}"])
    assert _split_keys(backend) == set()
    assert len(backend._store._sections) == _MAX_SECTIONS
    assert manager.get("k0") == "v0"
    manager.invalidate("user:0")
    assert manager.get("k0") is None
    assert manager.get("k1") == "v1"


def test_tenants_never_share_a_section() -> None:
    """Two tenants' entries with the same tag hold different sections; one tenant's
    invalidation leaves the other's entries."""
    backend = InMemoryBackend()
    root = CacheManager(backend=backend)
    a, b = root.for_tenant("acme"), root.for_tenant("globex")
    for i in range(3):
        a.set(f"k{i}", f"a{i}", ttl=60, tags=["model:x"])
        b.set(f"k{i}", f"b{i}", ttl=60, tags=["model:x"])
    data = backend._store._data
    a_sections = {id(data[a.storage_key(f"k{i}")].section) for i in (1, 2)}
    b_sections = {id(data[b.storage_key(f"k{i}")].section) for i in (1, 2)}
    assert len(a_sections) == len(b_sections) == 1
    assert a_sections.isdisjoint(b_sections)
    a.invalidate("model:x")
    assert [a.get(f"k{i}") for i in range(3)] == [None, None, None]
    assert [b.get(f"k{i}") for i in range(3)] == ["b0", "b1", "b2"]


def test_async_reads_of_shared_entries_check_their_section() -> None:
    """aget on both in-memory backends serves shared entries and drops invalidated ones."""

    async def run(backend: InMemoryBackend | AsyncInMemoryBackend) -> list[object]:
        manager = CacheManager(backend=backend)
        for i in range(3):
            await manager.aset(f"k{i}", {"n": i}, ttl=60, tags=["model:x"])
        assert len(_split_keys(backend)) == 2
        before = [await manager.aget(f"k{i}") for i in range(3)]
        await manager.ainvalidate("model:x")
        return before + [await manager.aget(f"k{i}") for i in range(3)]

    expected = [{"n": 0}, {"n": 1}, {"n": 2}, None, None, None]
    assert asyncio.run(run(InMemoryBackend())) == expected
    assert asyncio.run(run(AsyncInMemoryBackend())) == expected


_SECTIONS = ([("s::__omnicache__:tag:a", 1 << 41)], [("s::__omnicache__:tag:a", 7), ("b", 9)])


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["set", "set", "get", "delete"]),
            st.integers(0, 9),
            st.integers(0, 2),  # which tag section, or 2: untagged
            st.integers(0, 99),
        ),
        max_size=80,
    ),
    max_size=st.integers(1, 6),
)
def test_shared_entries_evict_and_read_back_exactly_like_inline_ones(
    ops: list[tuple[str, int, int, int]], max_size: int
) -> None:
    """A bounded store mixing inline and shared timed envelopes: same victims as an LRU,
    and get() returns each envelope byte for byte as written."""
    from collections import OrderedDict

    from omnicache_ai.core.envelope import encode

    backend = InMemoryBackend(max_size=max_size)
    model: OrderedDict[str, bytes] = OrderedDict()
    for op, k, section, v in ops:
        key = f"k{k}"
        if op == "set":
            env = encode(b"s" + str(v).encode(), 1, 0, _SECTIONS[section] if section < 2 else ())
            backend.set(key, env, ttl=60)
            model.pop(key, None)
            model[key] = env
            while len(model) > max_size:
                model.popitem(last=False)
        elif op == "get":
            if key in model:
                model.move_to_end(key)
            assert backend.get(key) == model.get(key)
        else:
            backend.delete(key)
            model.pop(key, None)
        assert sorted(backend.keys()) == sorted(model)
    assert {k: backend.get(k) for k in model} == dict(model)
    assert backend.stats()["bytes"] == sum(_size_of(v) for v in model.values())


def test_shared_entries_read_whole_by_a_manager_whose_counters_live_elsewhere() -> None:
    """With tag counters in another backend the manager reads through get() and checks the
    generations itself: a shared entry comes back as its whole envelope and goes stale."""
    from omnicache_ai.core.invalidation import InvalidationEngine

    backend = InMemoryBackend()
    manager = CacheManager(
        backend=backend, invalidation_engine=InvalidationEngine(InMemoryBackend())
    )
    for i in range(3):
        manager.set(f"k{i}", f"v{i}", ttl=60, tags=["model:x"])
        manager.set(f"u{i}", f"u{i}", ttl=60, tags=["other"])
    assert len(_split_keys(backend)) == 4
    assert [manager.get(f"k{i}") for i in range(3)] == ["v0", "v1", "v2"]
    manager.invalidate("model:x")
    assert [manager.get(f"k{i}") for i in range(3)] == [None, None, None]
    assert [manager.get(f"u{i}") for i in range(3)] == ["u0", "u1", "u2"]
