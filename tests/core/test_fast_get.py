"""The in-memory fast path of CacheManager.get, and values an in-memory store holds as is.

With an in-memory backend a manager binds a lean ``get`` (``CacheManager._bind_fast_get``)
and keeps immutable values as themselves instead of envelope bytes (``_encode``). Every
test here compares it with the general ``CacheManager.get`` on the same store, or pins a
behaviour (expiry, recency, tags, tenants, metrics, failures) the lean path must keep.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import threading
import time
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicache_ai import AsyncInMemoryBackend, CacheManager, InMemoryBackend
from omnicache_ai.backends.memory_backend import READS_KEPT, _size_of
from omnicache_ai.core.cache_manager import MISSING, RequestConfig
from omnicache_ai.core.compressor import GzipCompressor
from omnicache_ai.core.errors import CacheBackendError
from omnicache_ai.core.serializer import JsonSerializer


@dataclasses.dataclass
class Point:
    x: int
    y: list[int]


VALUES: list[Any] = [
    "plain text",
    "",
    "héllo wörld ✓",
    "lone \udc80 surrogate",
    2.5,
    math.inf,
    ("a", 1, 2.0, True, None, b"raw"),
    frozenset({"x", "y"}),
    (("nested",), "tuple"),
    ("has", ["a list"]),
    {"answer": 42, "items": [1, 2]},
    [1, "two", 3.0],
    b"bytes value",
    7,
    True,
    None,
    Point(1, [2, 3]),
]


def general_get(manager: CacheManager, key: str, **kw: Any) -> Any:
    """The general CacheManager.get, bypassing the lean one bound on the instance."""
    return CacheManager.get(manager, key, **kw)


def fresh(**kw: Any) -> CacheManager:
    from omnicache_ai import SafeSerializer

    serializer = SafeSerializer()
    serializer.register(Point)
    return CacheManager(backend=InMemoryBackend(**kw), serializer=serializer)


def test_the_lean_get_is_bound_only_where_it_applies() -> None:
    assert "get" in fresh().__dict__
    assert "get" in fresh(max_size=10).__dict__
    assert "get" in fresh().for_tenant("acme").__dict__
    # Not with another serializer, a compressor, or a subclass that overrides get().
    assert "get" not in CacheManager(serializer=JsonSerializer()).__dict__
    assert "get" not in CacheManager(compressor=GzipCompressor()).__dict__

    class Custom(CacheManager):
        def get(self, key: str, default: Any = None, **kw: Any) -> Any:
            return "custom"

    assert Custom().get("k") == "custom"


@pytest.mark.parametrize("shared", [False, True], ids=["first", "shared"])
@pytest.mark.parametrize("bounded", [False, True], ids=["dict", "lru"])
@pytest.mark.parametrize("ttl", [None, 0, 60], ids=["default-ttl", "no-ttl", "ttl"])
@pytest.mark.parametrize("tags", [None, ["t"], ["t", "u"]], ids=["untagged", "1-tag", "2-tags"])
@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_lean_and_general_get_agree(
    value: Any, tags: Any, ttl: Any, bounded: bool, shared: bool
) -> None:
    """Same value, same type, for every value shape and entry layout (a timed tagged entry
    written after another with the same tags shares its tag section)."""
    manager = fresh(max_size=100) if bounded else fresh()
    if shared:
        manager.set("first", "x", ttl=ttl, tags=tags)
    manager.set("k", value, ttl=ttl, tags=tags)
    lean = manager.get("k", MISSING)
    general = general_get(manager, "k", default=MISSING)
    if value is None:
        assert lean is None
        assert general is None
        return
    assert lean == general == value
    assert type(lean) is type(general) is type(value)
    stored = manager.backend.get(manager.storage_key("k"))
    flat = {str, bytes, int, float, bool, type(None)}
    as_is = not tags and (
        type(value) in (str, float)
        or (type(value) in (tuple, frozenset) and all(type(v) in flat for v in value))
    )
    if as_is:
        assert stored is value  # held as itself: no encoding, no copy
    else:
        assert type(stored) is bytes  # an envelope
    snap = manager.metrics.snapshot()
    assert snap["hits"] == 2
    assert snap["misses"] == 0


def test_values_that_are_not_flat_or_immutable_are_serialized() -> None:
    m = fresh()
    for key, value in (("nested", (("a",), "b")), ("list-in", ("a", [1])), ("int", 5)):
        m.set(key, value)
        assert type(m.backend.get(m.storage_key(key))) is bytes, key
        assert m.get(key) == value


@pytest.mark.parametrize("value", [{"a": [1, 2]}, [1, [2]], Point(1, [2])], ids=repr)
def test_mutating_a_returned_value_never_changes_the_cache(value: Any) -> None:
    m = fresh()
    m.set("k", value)
    got = m.get("k")
    assert got == value
    assert got is not value
    if isinstance(got, dict):
        got["a"].append(99)
        got["new"] = 1
    elif isinstance(got, list):
        got[1].append(99)
        got.append("x")
    else:
        got.y.append(99)
    value_after = m.get("k")
    assert value_after == value
    assert value_after is not got


def test_lean_get_keeps_lru_recency() -> None:
    m = fresh(max_size=2)
    m.set("a", "A")
    m.set("b", "B")
    assert m.get("a") == "A"  # lean path: "a" becomes the most recent
    m.set("c", "C")
    assert m.get("b") is None
    assert m.get("a") == "A"
    assert m.get("c") == "C"


def test_lean_get_expires_entries() -> None:
    m = fresh()
    m.set("k", "short-lived", ttl=0.05)
    assert m.get("k") == "short-lived"
    time.sleep(0.08)
    assert m.get("k") is None
    assert m.get("k", MISSING) is MISSING
    snap = m.metrics.snapshot()
    assert (snap["hits"], snap["misses"]) == (1, 2)


def test_lean_get_drops_entries_whose_tag_was_invalidated() -> None:
    m = fresh()
    m.set("one-tag", "v1", tags=["model"])
    m.set("two-tags", "v2", tags=["model", "team"])
    m.set("obj", {"v": 3}, tags=["model"])
    assert [m.get(k) for k in ("one-tag", "two-tags", "obj")] == ["v1", "v2", {"v": 3}]
    m.invalidate("model")
    assert [m.get(k) for k in ("one-tag", "two-tags", "obj")] == [None, None, None]
    assert m.backend.get(m.storage_key("one-tag")) is None  # deleted, not only hidden


def test_tenants_stay_apart_on_the_lean_path() -> None:
    root = fresh()
    a, b = root.for_tenant("acme"), root.for_tenant("globex")
    a.set("k", "for acme")
    b.set("k", "for globex")
    root.set("k", "for root")
    assert (a.get("k"), b.get("k"), root.get("k")) == ("for acme", "for globex", "for root")
    with pytest.raises(ValueError, match="reserved"):
        a.get("@globex:k")
    with pytest.raises(ValueError, match="reserved"):
        root.get("__omnicache__:tag:x")
    with pytest.raises(TypeError):
        root.get(b"k")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        root.get("")


def test_every_hit_is_counted_and_the_histogram_agrees() -> None:
    m = fresh()
    m.set("s", "text")
    m.set("d", {"x": 1})
    for _ in range(1000):
        assert m.get("s") == "text"
    for _ in range(10):
        assert m.get("d") == {"x": 1}
    for _ in range(5):
        assert m.get("absent") is None
    st = m.metrics.series("default", "", m.backend_name)
    assert st.hits == 1010
    assert st.misses == 5
    assert st.hit_latency.count == 1010
    assert 0 < st.hit_latency.sum < 1.0  # sampled latencies, not zeros


def test_listeners_and_hooks_see_every_lookup() -> None:
    m = fresh()
    m.set("k", "v")
    events: list[str] = []
    unsubscribe = m.metrics.subscribe(lambda e: events.append(e.kind))
    hooked: list[bool] = []
    remove = m.metrics.add_lookup_hook(lambda st, hit, s: hooked.append(hit))
    assert m.get("k") == "v"
    assert m.get("nope") is None
    assert events == ["hit", "miss"]
    assert hooked == [True, False]
    unsubscribe()
    remove()
    assert m.metrics.bare_lookups
    assert m.get("k") == "v"
    assert events == ["hit", "miss"]
    assert hooked == [True, False]


def test_disabled_metrics_count_nothing() -> None:
    from omnicache_ai import CacheMetrics

    m = CacheManager(backend=InMemoryBackend(), metrics=CacheMetrics(enabled=False))
    m.set("k", "v")
    for _ in range(100):
        assert m.get("k") == "v"
    assert m.metrics.snapshot()["hits"] == 0
    assert all(st.pending() == 0 for st in m.metrics.iter_series())


def test_a_corrupt_entry_is_a_counted_miss_or_raises_in_strict_mode() -> None:
    for strict in (False, True):
        m = CacheManager(backend=InMemoryBackend(), strict=strict)
        m.set("ok", "v")  # creates the series: the lean path is taken
        # A tagged envelope whose tag section is cut short: the store refuses it.
        m.backend.set(m.storage_key("bad"), b"OC\x01\x01\x00\x02\x00\xff")
        m.backend.set(m.storage_key("bad-text"), b"OC\x01\x01\x00\x00s\xff\xfe")
        for key in ("bad", "bad-text"):
            if strict:
                with pytest.raises(CacheBackendError):
                    m.get(key)
            else:
                assert m.get(key) is None
        if not strict:
            snap = m.metrics.snapshot()
            assert snap["misses"] == 2
            assert snap["errors"] == 2


def test_a_failing_read_fails_open() -> None:
    class Flaky(InMemoryBackend):
        fail = False

        def __init__(self) -> None:
            super().__init__()
            inner = self.get_checked

            def get_checked(key: str) -> Any:
                if self.fail:
                    raise ConnectionError("down")
                return inner(key)

            self.get_checked = get_checked  # type: ignore[method-assign]

    backend = Flaky()
    m = CacheManager(backend=backend)
    m.set("k", "v")
    assert m.get("k") == "v"
    backend.fail = True
    assert m.get("k", "fallback") == "fallback"
    assert m.metrics.snapshot()["errors"] == 1


def test_other_reads_serve_values_held_as_is() -> None:
    m = fresh()
    m.set("s", "text")
    m.set("t", ("a", 1))
    m.set_many({"f": 1.5, "d": {"k": [1]}})
    assert m.get_many(["s", "t", "f", "d", "nope"]) == {
        "s": "text", "t": ("a", 1), "f": 1.5, "d": {"k": [1]},
    }  # fmt: skip
    assert m.exists("s")
    assert not m.exists("nope")
    assert m.get_or_set("s", lambda: "computed") == "text"
    assert m.get_or_set("new", lambda: "computed") == "computed"
    assert m.backend.get(m.storage_key("new")) == "computed"

    async def run() -> tuple[Any, ...]:
        am = CacheManager(backend=AsyncInMemoryBackend())
        await am.aset("s", "async text")
        await am.aset("t", ("x",))
        return (
            await am.aget("s"),
            await am.aget("t"),
            await am.aget_or_set("s", lambda: "no"),
            await am.aget_many(["s", "t"]),
            await am.backend.get(am.storage_key("s")),
        )

    assert asyncio.run(run()) == (
        "async text", ("x",), "async text", {"s": "async text", "t": ("x",)}, "async text",
    )  # fmt: skip


def test_counters_never_count_on_a_cached_value() -> None:
    """As with envelope bytes, incr/count on a key holding a cached value fail open."""
    m = fresh()
    for value in ("42", 2.5, ("1",)):
        m.set("k", value)
        assert m.incr("k") is None
        assert m.count("k") == 0
        assert m.get("k") == value
        assert type(m.get("k")) is type(value)
    assert m.incr("counter", 2) == 2
    assert m.count("counter") == 2

    async def run() -> tuple[Any, Any, Any]:
        await m.aset("k", "7")
        return await m.aincr("k"), await m.acount("k"), await m.aget("k")

    assert asyncio.run(run()) == (None, 0, "7")


def test_max_bytes_charges_values_held_as_is_like_their_envelopes() -> None:
    ascii_text = "x" * 300
    assert _size_of(ascii_text) == _size_of(ascii_text.encode())
    wide = "✓" * 100
    assert _size_of(wide) == _size_of(wide.encode())
    big = ("y" * 10_000, "z" * 10_000)
    assert _size_of(big) > 20_000  # the elements count, not the tuple's pointers
    m = CacheManager(backend=InMemoryBackend(max_bytes=5_000))
    for i in range(40):
        m.set(f"k{i}", f"{i:03d}" + "v" * 297)
    stats = m.backend.stats()
    assert stats["bytes"] <= 5_000
    assert stats["entries"] == 5_000 // (300 + 64)
    m.set("tuple", big)  # larger than the whole budget: evicted at once
    assert m.backend.stats()["bytes"] <= 5_000
    m.clear()
    assert m.backend.stats()["bytes"] == 0


# ---- LRU order in a bounded store that has not filled yet (plain dict + read log) ------
class ModelLRU:
    """Reference LRU: an OrderedDict moved on every read and write."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.data: OrderedDict[str, Any] = OrderedDict()

    def set(self, key: str, value: Any) -> None:
        self.data.pop(key, None)
        self.data[key] = value
        while len(self.data) > self.max_size:
            self.data.popitem(last=False)

    def get(self, key: str) -> Any:
        if key in self.data:
            self.data.move_to_end(key)
            return self.data[key]
        return None

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


OPS = st.lists(
    st.tuples(st.sampled_from(["set", "get", "get", "delete"]), st.integers(0, 11), st.integers()),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(ops=OPS, max_size=st.integers(1, 8))
def test_bounded_store_evicts_exactly_like_an_lru(ops: list[Any], max_size: int) -> None:
    """Before and after the first eviction (plain dict, then OrderedDict), same victims."""
    backend = InMemoryBackend(max_size=max_size)
    model = ModelLRU(max_size)
    for op, k, v in ops:
        key = f"k{k}"
        if op == "set":
            backend.set(key, v)
            model.set(key, v)
        elif op == "get":
            assert backend.get(key) == model.get(key)
        else:
            backend.delete(key)
            model.delete(key)
        assert sorted(backend.keys()) == sorted(model.data)
    store = backend._store
    with store._lock:
        store._replay_touched()  # what the next write would do
    assert list(store._data) == list(model.data)  # same recency order


def test_a_store_that_never_fills_keeps_a_plain_dict_and_a_bounded_log() -> None:
    backend = InMemoryBackend(max_size=100)
    store = backend._store
    for i in range(50):
        backend.set(f"k{i}", f"v{i}")
    for _ in range(5000):
        assert backend.get("k0") == "v0"
    assert type(store._data) is dict
    assert len(store._touched) <= 2 * READS_KEPT
    backend.set("k1", "v1")  # a write replays the log, before its own key moves last
    assert list(store._data)[-2:] == ["k0", "k1"]
    for i in range(50, 101):
        backend.set(f"k{i}", f"v{i}")
    assert type(store._data) is OrderedDict  # the first eviction switched the layout
    assert backend.get("k2") is None  # the oldest written, never read
    assert backend.get("k0") == "v0"
    assert store._touched == []


def test_a_long_run_of_reads_keeps_the_last_reads_in_exact_order() -> None:
    """More reads than the log keeps between two writes: the log stays bounded, the older
    reads are forgotten, and the keys read among the last READS_KEPT reads end up last, in
    the order of their last read, when the next write replays the log."""
    n = 3 * READS_KEPT
    backend = InMemoryBackend(max_size=n + 10)
    store = backend._store
    keys = [f"k{i}" for i in range(n)]
    for k in keys:
        backend.set(k, k)
    early = keys[: READS_KEPT // 2]  # read first, then pushed out of the log
    late = list(reversed(keys[READS_KEPT : 2 * READS_KEPT]))  # the last READS_KEPT reads
    for k in early + keys[2 * READS_KEPT :] + late:
        assert backend.get(k) == k
        assert len(store._touched) <= 2 * READS_KEPT
    backend.set("new", "v")
    order = list(store._data)
    assert order[-1] == "new"
    assert order[-1 - len(late) : -1] == late  # exact LRU among the recent reads
    # What the bounded log gives up: the early reads were forgotten, so those keys kept
    # their write-time place, ahead of every key read since (exact LRU would agree on the
    # latter) and in write order among the unread ones.
    assert order[: len(early)] == early


def test_a_full_store_evicts_a_key_read_long_ago_before_one_read_recently() -> None:
    """The bargain seen from the outside: after a long run of reads, a write that evicts
    takes the entry whose last read was forgotten, never one read recently."""
    n = 2 * READS_KEPT
    backend = InMemoryBackend(max_size=n)
    keys = [f"k{i}" for i in range(n)]
    for k in keys:
        backend.set(k, k)
    for k in keys:  # every key read once, in write order: k0 is the least recently read
        backend.get(k)
    for _ in range(3 * READS_KEPT):  # a hot key read and read again pushes them out
        backend.get(keys[-1])
    backend.set("extra", "v")  # the first eviction
    assert backend.get("k0") is None
    assert backend.get(keys[1]) == keys[1]
    assert backend.get(keys[-1]) == keys[-1]


def test_reads_racing_writes_lose_no_entry() -> None:
    """Threads reading (logging) while others write and evict: bounds and values hold."""
    backend = InMemoryBackend(max_size=300)
    for i in range(200):
        backend.set(f"k{i}", i)
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for n in range(20_000):
                value = backend.get(f"k{n % 200}")
                assert value is None or value == n % 200
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    def writer() -> None:
        try:
            for n in range(2_000):
                backend.set(f"w{n}", n)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(backend) == 300
    assert backend.stats()["entries"] == len(list(backend.keys()))


def test_the_managers_hits_keep_the_read_log_bounded_too() -> None:
    """The manager reads through ``get_checked`` (its own inlined log append): same bound."""
    m = CacheManager(backend=InMemoryBackend(max_size=100))
    store = m.backend._store
    for i in range(50):
        m.set(f"k{i}", f"v{i}")
    for n in range(3 * READS_KEPT):
        assert m.get(f"k{n % 50}") == f"v{n % 50}"
        assert len(store._touched) <= 2 * READS_KEPT
    m.set("k0", "again")  # the replay: the last reads, in order, then the write
    last = [f"k{(3 * READS_KEPT - d) % 50}" for d in (2, 1)] + ["k0"]
    assert list(store._data)[-3:] == [m.storage_key(k) for k in last]


# ---- the lean aget: the lean get behind an async def, for a store that never blocks ------
def test_aget_on_an_in_memory_store_is_the_lean_get_with_the_same_answers() -> None:
    m = CacheManager()
    assert "aget" in m.__dict__  # bound, like the lean get
    m.set("k", "v", tags=["t"])
    m.set("n", {"nested": [1, 2]}, layer="embedding")

    async def run() -> tuple[Any, ...]:
        hit = await m.aget("k")
        other = await m.aget("n", layer="embedding")
        miss = await m.aget("absent", "dflt")
        skipped = await m.aget("k", "dflt", config=RequestConfig(skip_cache=True))
        m.invalidate("t")
        stale = await m.aget("k", "gone")
        return hit, other, miss, skipped, stale

    assert asyncio.run(run()) == ("v", {"nested": [1, 2]}, "dflt", "dflt", "gone")
    default = m.metrics.series("default", "", m.backend_name)
    assert default.hits == 1
    assert m.metrics.series("embedding", "", m.backend_name).hits == 1  # the layer counts
    assert default.misses == 2  # absent, then invalidated (skip_cache is not a lookup)


def test_a_tenant_views_lean_aget_reads_its_own_scope() -> None:
    root = CacheManager()
    a, b = root.for_tenant("acme"), root.for_tenant("globex")
    a.set("k", "for acme")

    async def run() -> tuple[Any, Any, Any]:
        return await a.aget("k"), await b.aget("k"), await root.aget("k")

    assert asyncio.run(run()) == ("for acme", None, None)


def test_a_blocking_store_keeps_the_general_aget(tmp_path: Any) -> None:
    from omnicache_ai.backends.disk_backend import DiskBackend

    m = CacheManager(backend=DiskBackend(str(tmp_path / "d")))
    assert "aget" not in m.__dict__  # its reads go to a worker thread, never inline
    m.set("k", "v")
    assert asyncio.run(m.aget("k")) == "v"


def test_an_in_memory_store_that_says_it_blocks_keeps_the_general_aget() -> None:
    # The lean get still serves its sync hits, but an awaited read of a store that declares
    # it may block goes through the store's own async read, where such a store does its I/O
    # without holding the event loop, never through the sync read inline.
    class Guarded(InMemoryBackend):
        blocking = True

        def __init__(self) -> None:
            super().__init__()
            self.async_reads = 0

        async def aget_checked(self, key: str) -> Any:
            self.async_reads += 1
            return await super().aget_checked(key)

    store = Guarded()
    m = CacheManager(backend=store)
    assert "get" in m.__dict__
    assert "aget" not in m.__dict__
    m.set("k", "v")
    assert asyncio.run(m.aget("k")) == "v"
    assert store.async_reads == 1
