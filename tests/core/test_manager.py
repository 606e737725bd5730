"""CacheManager behaviour: the README's examples, per-call config, fail-open, tenants."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from omnicache_ai import (
    MISSING,
    AsyncInMemoryBackend,
    CacheBackend,
    CacheBackendError,
    CacheKeyBuilder,
    CacheManager,
    ConfigurationError,
    GzipCompressor,
    InMemoryBackend,
    InvalidationEngine,
    JsonSerializer,
    PickleSerializer,
    RequestConfig,
    SerializationError,
    TTLPolicy,
)
from omnicache_ai.testing import FlakyBackend, RecordingBackend, capture_cache_events


def test_readme_quick_start() -> None:
    """The README quick start stores and returns a dict."""
    manager = CacheManager(
        backend=InMemoryBackend(), key_builder=CacheKeyBuilder(namespace="myapp")
    )
    manager.set("my_key", {"result": 42}, ttl=60)
    assert manager.get("my_key") == {"result": 42}


def test_readme_metrics_snapshot() -> None:
    """snapshot() starts with the README's keys and values."""
    manager = CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder())
    manager.get("key")
    manager.set("key", "val")
    manager.get("key")
    snap = manager.metrics.snapshot()
    assert list(snap)[:6] == ["hits", "misses", "evictions", "sets", "hit_rate", "miss_rate"]
    assert {k: snap[k] for k in list(snap)[:6]} == {
        "hits": 1, "misses": 1, "evictions": 0, "sets": 1, "hit_rate": 0.5, "miss_rate": 0.5,
    }  # fmt: skip


def test_readme_tags() -> None:
    """The README's tag example removes both entries and reports 2."""
    manager = CacheManager(
        backend=InMemoryBackend(),
        key_builder=CacheKeyBuilder(),
        invalidation_engine=InvalidationEngine(InMemoryBackend()),
    )
    manager.set("key1", "v1", tags=["model:gpt-4o", "env:prod"])
    manager.set("key2", "v2", tags=["model:gpt-4o"])
    assert manager.invalidate("model:gpt-4o") == 2
    assert manager.get("key1") is None
    assert manager.get("key2") is None


def test_readme_custom_backend_protocol() -> None:
    """A class with the six methods is a CacheBackend and drives a manager."""

    class MyBackend:
        def __init__(self) -> None:
            self.d: dict[str, Any] = {}

        def get(self, key: str) -> Any | None:
            return self.d.get(key)

        def set(self, key: str, value: Any, ttl: int | None = None) -> None:
            self.d[key] = value

        def delete(self, key: str) -> None:
            self.d.pop(key, None)

        def exists(self, key: str) -> bool:
            return key in self.d

        def clear(self) -> None:
            self.d.clear()

        def close(self) -> None:
            pass

    backend = MyBackend()
    assert isinstance(backend, CacheBackend)
    manager = CacheManager(backend=backend)
    manager.set("a", [1, 2], tags=["t"])
    assert manager.get("a") == [1, 2]
    assert manager.invalidate("t") == 1
    assert manager.get("a") is None


def test_cached_none_is_distinguishable_with_missing() -> None:
    """A cached None reads as None; default=MISSING tells it from a miss."""
    manager = CacheManager()
    manager.set("n", None)
    assert manager.get("n", default="x") is None
    assert manager.get("absent", default=MISSING) is MISSING
    assert manager.get_or_set("n", lambda: "recomputed") is None


def test_request_config_overrides() -> None:
    """skip_cache bypasses, refresh recomputes and overwrites, no_store does not write."""
    manager = CacheManager()
    manager.set("k", "old")
    assert manager.get("k", config=RequestConfig(skip_cache=True)) is None
    assert manager.get_or_set("k", lambda: "new", config=RequestConfig(skip_cache=True)) == "new"
    assert manager.get("k") == "old"
    assert manager.get_or_set("k", lambda: "fresh", config=RequestConfig(refresh=True)) == "fresh"
    assert manager.get("k") == "fresh"
    assert manager.get_or_set("n", lambda: "v", config=RequestConfig(no_store=True)) == "v"
    assert manager.get("n") is None
    manager.set("t", "short", config=RequestConfig(ttl=0.1, tags=("grp",)))
    assert manager.invalidate("grp") == 1


def test_ttl_policy_per_layer_and_per_call() -> None:
    """Per-call TTL beats the layer's, which beats the default; 0 means no expiry."""
    manager = CacheManager(ttl_policy=TTLPolicy(default_ttl=600, per_layer={"fast": 0.1}))
    manager.set("layered", "v", layer="fast")
    manager.set("default", "v")
    manager.set("forever", "v", layer="fast", ttl=0)
    time.sleep(0.25)
    assert manager.get("layered", layer="fast") is None
    assert manager.get("default") == "v"
    assert manager.get("forever") == "v"


def test_fail_open_counts_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    """A dead backend turns every call into a miss, counted, and logged once per burst."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    manager.set("k", "v")
    flaky.down = True
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        for _ in range(20):
            assert manager.get("k") is None
            manager.set("k", "v2")
        assert manager.get_or_set("x", lambda: "computed") == "computed"
        assert manager.invalidate("tag") == 0
    assert manager.metrics.snapshot()["errors"] >= 40
    get_logs = [r for r in caplog.records if "FlakyBackend.get failed" in r.getMessage()]
    assert len(get_logs) == 1
    flaky.down = False
    assert manager.get("k") == "v"  # the old value is still there: nothing was corrupted


async def test_fail_open_async() -> None:
    """The async API fails open too."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    flaky.down = True
    assert await manager.aget("k") is None
    await manager.aset("k", "v")
    assert await manager.aget_or_set("k", lambda: "computed") == "computed"


def test_strict_mode_raises() -> None:
    """With strict=True a backend failure raises CacheBackendError with the cause chained."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky, strict=True)
    flaky.down = True
    with pytest.raises(CacheBackendError) as info:
        manager.get("k")
    assert isinstance(info.value.__cause__, ConnectionError)


def test_corrupt_entry_is_a_miss() -> None:
    """Garbage bytes in the backend read as a miss and count as an error."""
    backend = InMemoryBackend()
    manager = CacheManager(backend=backend)
    backend.set(manager.storage_key("k"), b"\x00garbage")
    # a valid header over invalid msgpack:
    backend.set(manager.storage_key("k2"), b"OC\x01\x01\x00\x00m\xc1")
    assert manager.get("k", default="miss") == "miss"
    assert manager.get("k2", default="miss") == "miss"
    assert manager.metrics.snapshot()["errors"] == 2


@pytest.mark.parametrize(
    "raw",
    [
        b"OC\x01\x01\x00\x01\x00\x05t:a",  # one tag, cut inside its generation
        b"OC\x01\x01\x00\x01\x00\x03\xff\xfe\xfd" + bytes(8) + b"sx",  # tag key not UTF-8
        b"OC\x01\x01\x00\x02\x00\x01t" + bytes(8),  # says two tags, holds one
        b"OC\x01\x01\x00\x00s\xff\xfe",  # a str payload that is not UTF-8
        b"OC\x01\x01\x00\x01\x00\x01t" + bytes(8) + b"s\xff",  # the same behind a tag
    ],
)
def test_corrupt_tagged_entries_are_misses(raw: bytes) -> None:
    """Damaged tag sections and payloads read as a counted miss, never an exception."""
    backend = InMemoryBackend()
    manager = CacheManager(backend=backend)
    backend.set(manager.storage_key("k"), raw)
    backend.set("t", 0)  # the counter of tag "t" holds the recorded generation
    assert manager.get("k", default="miss") == "miss"
    assert manager.get_many(["k"]) == {}
    assert asyncio.run(manager.aget("k", default="miss")) == "miss"
    assert manager.metrics.snapshot()["errors"] == 3


def test_single_and_multi_tag_entries_go_stale_on_invalidation() -> None:
    """The one-tag fast path and the general path agree on what a stale entry is."""
    manager = CacheManager()
    manager.set("one", "a", tags=["model:x"])
    manager.set("two", {"v": 2}, tags=["model:x", "team:y"])
    manager.set("other", "c", tags=["model:z"])
    assert manager.get("one") == "a"
    assert manager.get("two") == {"v": 2}
    assert manager.invalidate("model:x") == 2
    assert manager.get("one") is None
    assert manager.get("two") is None
    assert manager.get("other") == "c"
    manager.set("one", "again", tags=["model:x"])  # written under the new generation
    assert manager.get("one") == "again"
    assert asyncio.run(manager.aget("one")) == "again"


def test_unserializable_value_raises_clear_error() -> None:
    """A value the serializer cannot encode raises SerializationError naming its type."""
    manager = CacheManager()
    with pytest.raises(SerializationError, match="_thread:lock"):
        manager.set("k", __import__("threading").Lock())
    with pytest.raises(SerializationError, match="set"):
        manager.set("k", {1, 2}, serializer=JsonSerializer())


def test_bad_keys_get_clear_errors() -> None:
    """Non-string, empty and reserved keys are rejected with a message naming the problem."""
    manager = CacheManager()
    with pytest.raises(TypeError, match="must be str"):
        manager.get(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        manager.set("", "v")
    with pytest.raises(ValueError, match="reserved"):
        manager.get("@tenant:k")
    with pytest.raises(ConfigurationError, match="tenant id"):
        manager.for_tenant("a:b")


def test_pickle_entries_need_opt_in_and_signature() -> None:
    """Pickled entries are read only by a manager configured with the same signed serializer."""
    backend = InMemoryBackend()
    writer = CacheManager(backend=backend, serializer=PickleSerializer(secret="s3cret"))
    writer.set("k", {"a": frozenset({1})})
    assert writer.get("k") == {"a": frozenset({1})}
    safe_reader = CacheManager(backend=backend)
    assert safe_reader.get("k", default="miss") == "miss"
    wrong_secret = CacheManager(backend=backend, serializer=PickleSerializer(secret="other"))
    assert wrong_secret.get("k", default="miss") == "miss"
    assert wrong_secret.metrics.snapshot()["errors"] == 1


def test_compressed_entries_readable_by_any_manager() -> None:
    """Compression is recorded per entry, so a manager without a compressor still reads it."""
    backend = InMemoryBackend()
    writer = CacheManager(backend=backend, compressor=GzipCompressor(level=6, min_size=100))
    text = "the same sentence again. " * 200
    writer.set("big", text)
    writer.set("small", "tiny")
    assert len(backend.get(writer.storage_key("big"))) < len(text) // 5
    reader = CacheManager(backend=backend)
    assert reader.get("big") == text
    assert reader.get("small") == "tiny"


def test_tenant_isolation_and_listing() -> None:
    """Tenants see only their own keys; the root scope does not list tenant entries."""
    root = CacheManager()
    a, b = root.for_tenant("acme"), root.for_tenant("globex")
    a.set("shared-name", "acme's")
    b.set("shared-name", "globex's")
    root.set("root-key", "root's")
    assert a.get("shared-name") == "acme's"
    assert b.get("shared-name") == "globex's"
    assert root.get("shared-name") is None
    assert a.keys() == ["shared-name"]
    assert root.keys() == ["root-key"]
    a.clear()
    assert a.get("shared-name") is None
    assert b.get("shared-name") == "globex's"
    assert root.get("root-key") == "root's"
    snap = root.metrics.snapshot()
    assert set(snap["tenants"]) == {"acme", "globex"}


def test_batch_operations_with_tags() -> None:
    """get_many returns only valid hits, honouring tag invalidation."""
    manager = CacheManager()
    manager.set_many({"a": 1, "b": 2})
    manager.set("c", 3, tags=["t"])
    manager.set("d", 4, tags=["u"])
    manager.invalidate("t")
    assert manager.get_many(["a", "b", "c", "d", "e"]) == {"a": 1, "b": 2, "d": 4}
    assert manager.delete_many(["a", "zz"]) == 1


async def test_async_manager_over_async_backend() -> None:
    """The async API runs natively on an async backend; the sync API bridges to it."""
    manager = CacheManager(backend=AsyncInMemoryBackend())
    await manager.aset("k", {"v": 1}, tags=["t"])
    assert await manager.aget("k") == {"v": 1}
    assert await manager.aexists("k")
    assert await manager.akeys() == ["k"]
    assert await manager.ainvalidate("t") == 1
    assert await manager.aget("k") is None
    await manager.aset_many({"x": 1, "y": 2})
    assert await manager.aget_many(["x", "y", "z"]) == {"x": 1, "y": 2}
    assert await manager.adelete("x") is True
    await manager.aclear()
    assert await manager.aget("y") is None


def test_sync_api_over_async_backend() -> None:
    """Sync calls on a manager with an async backend work (run on the bridge loop)."""
    manager = CacheManager(backend=AsyncInMemoryBackend())
    manager.set("k", "v")
    assert manager.get("k") == "v"
    assert asyncio.run(manager.aget("k")) == "v"


def test_async_get_or_set_does_not_block_the_loop() -> None:
    """While one task computes a value, other tasks on the loop keep running."""
    manager = CacheManager()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        for _ in range(10):
            await asyncio.sleep(0.01)
            ticks += 1

    async def compute() -> str:
        await asyncio.sleep(0.15)
        return "v"

    async def main() -> None:
        await asyncio.gather(ticker(), manager.aget_or_set("k", compute))

    asyncio.run(main())
    assert ticks == 10


def test_events_capture() -> None:
    """capture_cache_events records hits, misses and sets in order."""
    manager = CacheManager()
    with capture_cache_events(manager) as seen:
        manager.get_or_set("k", lambda: 1)
        manager.get("k")
    assert [e.kind for e in seen.events] == ["miss", "set", "hit"]
    assert (seen.hits, seen.misses) == (1, 1)


def test_stale_tagged_entry_is_deleted_lazily() -> None:
    """After invalidation the stale entry is removed from the backend on its next read."""
    backend = RecordingBackend()
    manager = CacheManager(backend=backend)
    manager.set("k", "v", tags=["t"])
    manager.invalidate("t")
    assert manager.get("k") is None
    assert ("delete", manager.storage_key("k")) in backend.calls
    assert backend.get(manager.storage_key("k")) is None


def test_invalidation_visible_across_managers_sharing_a_backend() -> None:
    """Tag counters live in the backend: another manager over it sees the invalidation."""
    backend = InMemoryBackend()
    one, two = CacheManager(backend=backend), CacheManager(backend=backend)
    one.set("k", "v", tags=["t"])
    assert two.get("k") == "v"
    two.invalidate("t")
    assert one.get("k") is None
