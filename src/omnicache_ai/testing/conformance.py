"""The backend conformance suite: one set of tests every backend must pass.

Subclass :class:`BackendConformance` in a test module and provide a ``backend`` fixture that
yields a fresh, empty backend; pytest collects every ``test_*`` method for it. Async
backends are exercised through the same tests (driven on a private event loop) and through
the manager's async API.

Example:
    .. code-block:: python

        import pytest
        from omnicache_ai.testing import BackendConformance

        class TestMyBackend(BackendConformance):
            @pytest.fixture
            def backend(self):
                b = MyBackend()
                yield b
                b.close()
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from omnicache_ai.backends.base import AsyncCacheBackend, CacheBackend
from omnicache_ai.core._ops import SyncOps, async_ops, is_async_backend, sync_ops
from omnicache_ai.core.cache_manager import CacheManager

__all__ = ["BackendConformance"]


class BackendConformance:
    """Mix-in of conformance tests; subclasses supply the ``backend`` fixture.

    Attributes:
        ttl_resolution: Seconds of expiry precision the backend promises; TTL tests sleep a
            few multiples of it.
        can_list_keys: Whether ``keys``/``delete_prefix`` must work.
        threads: Threads used by the concurrency tests.
    """

    ttl_resolution: float = 0.1
    can_list_keys: bool = True
    threads: int = 8

    @pytest.fixture
    def backend(self) -> Iterator[Any]:  # pragma: no cover - must be overridden
        """A fresh, empty backend (override in the subclass)."""
        raise NotImplementedError("subclasses provide a `backend` fixture")

    @pytest.fixture
    def ops(self, backend: Any) -> SyncOps:
        """The backend behind the full synchronous operation set."""
        return sync_ops(backend)

    @pytest.fixture
    def manager(self, backend: Any) -> CacheManager:
        """A manager over the backend."""
        return CacheManager(backend=backend)

    # ---- protocol -----------------------------------------------------------------------
    def test_satisfies_protocol(self, backend: Any) -> None:
        """The backend is a CacheBackend or an AsyncCacheBackend by structure."""
        assert isinstance(backend, CacheBackend | AsyncCacheBackend)

    # ---- primitives ---------------------------------------------------------------------
    def test_get_missing_returns_none(self, ops: SyncOps) -> None:
        """A key never written reads as None."""
        assert ops.get("conformance:absent") is None

    def test_bytes_round_trip(self, ops: SyncOps) -> None:
        """Arbitrary bytes (NUL, high bytes) come back identical."""
        payload = bytes(range(256)) * 4
        ops.set("conformance:bytes", payload)
        assert ops.get("conformance:bytes") == payload

    def test_large_value_round_trip(self, ops: SyncOps) -> None:
        """A 2 MiB value is stored and read back whole."""
        payload = b"x" * (2 * 2**20)
        ops.set("conformance:large", payload)
        assert ops.get("conformance:large") == payload

    def test_overwrite_replaces(self, ops: SyncOps) -> None:
        """A second set replaces the first value."""
        ops.set("conformance:k", b"one")
        ops.set("conformance:k", b"two")
        assert ops.get("conformance:k") == b"two"

    def test_delete_and_exists(self, ops: SyncOps) -> None:
        """delete removes a key; exists tracks presence."""
        ops.set("conformance:d", b"v")
        assert ops.exists("conformance:d")
        ops.delete("conformance:d")
        assert not ops.exists("conformance:d")
        assert ops.get("conformance:d") is None
        ops.delete("conformance:never")  # deleting a missing key is not an error

    def test_ttl_expires(self, ops: SyncOps) -> None:
        """An entry with a TTL is served before it expires and never after."""
        ttl = 3 * self.ttl_resolution
        ops.set("conformance:ttl", b"v", ttl)
        ops.set("conformance:forever", b"v", None)
        assert ops.get("conformance:ttl") == b"v"
        time.sleep(ttl + 2 * self.ttl_resolution)
        assert ops.get("conformance:ttl") is None
        assert not ops.exists("conformance:ttl")
        assert ops.get("conformance:forever") == b"v"

    def test_clear_removes_everything(self, ops: SyncOps) -> None:
        """clear leaves no entry behind."""
        for i in range(20):
            ops.set(f"conformance:c{i}", b"v")
        ops.clear()
        assert all(ops.get(f"conformance:c{i}") is None for i in range(20))

    # ---- batch --------------------------------------------------------------------------
    def test_batch_operations(self, ops: SyncOps) -> None:
        """set_many/get_many/delete_many keep order, report misses and count deletions."""
        items = {f"conformance:b{i}": str(i).encode() for i in range(10)}
        ops.set_many(items, None)
        keys = [*items, "conformance:b-missing"]
        assert ops.get_many(keys) == [*items.values(), None]
        assert ops.delete_many(["conformance:b0", "conformance:b1", "conformance:nope"]) == 2
        assert ops.get_many(["conformance:b0", "conformance:b2"]) == [None, b"2"]

    def test_batch_ttl(self, ops: SyncOps) -> None:
        """set_many applies its TTL to every item."""
        ttl = 3 * self.ttl_resolution
        ops.set_many({"conformance:bt1": b"1", "conformance:bt2": b"2"}, ttl)
        time.sleep(ttl + 2 * self.ttl_resolution)
        assert ops.get_many(["conformance:bt1", "conformance:bt2"]) == [None, None]

    def test_incr(self, ops: SyncOps) -> None:
        """incr starts from 0, adds deltas (negative too) and returns the new value."""
        assert ops.incr("conformance:n") == 1
        assert ops.incr("conformance:n", 5) == 6
        assert ops.incr("conformance:n", -2) == 4

    def test_add_only_when_absent(self, ops: SyncOps) -> None:
        """add stores only when the key is absent."""
        assert ops.add("conformance:a", b"first") is True
        assert ops.add("conformance:a", b"second") is False
        assert ops.get("conformance:a") == b"first"

    def test_keys_and_delete_prefix(self, ops: SyncOps) -> None:
        """keys lists by prefix; delete_prefix removes exactly that prefix."""
        if not self.can_list_keys:
            pytest.skip("backend declares it cannot list keys")
        for i in range(5):
            ops.set(f"conformance:p:{i}", b"v")
            ops.set(f"conformance:q:{i}", b"v")
        ops.set("conformance:p*[glob]?", b"v")
        assert sorted(ops.keys("conformance:p:")) == [f"conformance:p:{i}" for i in range(5)]
        assert list(ops.keys("conformance:p*[glob]")) == ["conformance:p*[glob]?"]
        assert ops.delete_prefix("conformance:p:") == 5
        assert ops.get("conformance:q:0") == b"v"
        assert ops.get("conformance:p*[glob]?") == b"v"

    # ---- concurrency --------------------------------------------------------------------
    def test_concurrent_incr_loses_nothing(self, ops: SyncOps) -> None:
        """Increments from several threads all land (the counter is atomic)."""
        per_thread = 50

        def work() -> None:
            for _ in range(per_thread):
                ops.incr("conformance:counter")

        workers = [threading.Thread(target=work) for _ in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert ops.incr("conformance:counter", 0) == self.threads * per_thread

    def test_concurrent_writers_and_readers(self, ops: SyncOps) -> None:
        """Threads writing and reading their own keys never see another's or a torn value."""
        errors: list[str] = []

        def work(t: int) -> None:
            for i in range(40):
                key, value = f"conformance:t{t}:{i}", f"{t}:{i}".encode() * 10
                ops.set(key, value)
                got = ops.get(key)
                if got != value:
                    errors.append(f"{key}: {got!r}")

        workers = [threading.Thread(target=work, args=(t,)) for t in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert errors == []

    # ---- through the manager ------------------------------------------------------------
    def test_manager_values_round_trip(self, manager: CacheManager) -> None:
        """Values of every safe type survive the manager's envelope on this backend."""
        values: dict[str, Any] = {
            "str": "héllo",
            "dict": {"a": [1, 2.5, None, True], "b": {"nested": "x"}},
            "tuple": (1, "two"),
            "bytes": b"\x00\xff",
            "none": None,
        }
        for k, v in values.items():
            manager.set(f"conf:{k}", v)
        for k, v in values.items():
            assert manager.get(f"conf:{k}", default="MISS") == v

    def test_manager_tags_invalidate(self, manager: CacheManager) -> None:
        """A tag invalidation retires exactly the tagged entries."""
        manager.set("conf:t1", "a", tags=["model:x"])
        manager.set("conf:t2", "b", tags=["model:x", "env:prod"])
        manager.set("conf:t3", "c", tags=["env:prod"])
        assert manager.invalidate("model:x") == 2
        assert manager.get("conf:t1") is None
        assert manager.get("conf:t2") is None
        assert manager.get("conf:t3") == "c"
        manager.set("conf:t1", "fresh", tags=["model:x"])
        assert manager.get("conf:t1") == "fresh"

    def test_manager_tenant_isolation(self, manager: CacheManager) -> None:
        """Tenants never read, list, invalidate or clear each other's entries."""
        a, b = manager.for_tenant("a"), manager.for_tenant("b")
        a.set("k", "for-a", tags=["t"])
        b.set("k", "for-b", tags=["t"])
        assert (a.get("k"), b.get("k")) == ("for-a", "for-b")
        a.invalidate("t")
        assert (a.get("k"), b.get("k")) == (None, "for-b")
        a.set("k2", "x")
        if self.can_list_keys:
            assert b.keys() == ["k"]
            a.clear()
            assert b.get("k") == "for-b"

    def test_manager_get_or_set_single_flight(self, manager: CacheManager) -> None:
        """Concurrent get_or_set on one missing key computes it once."""
        calls = 0
        lock = threading.Lock()
        barrier = threading.Barrier(self.threads)

        def compute() -> str:
            nonlocal calls
            with lock:
                calls += 1
            time.sleep(0.2)
            return "value"

        results: list[str] = []

        def work() -> None:
            barrier.wait()
            results.append(manager.get_or_set("conf:single", compute))

        workers = [threading.Thread(target=work) for _ in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert calls == 1
        assert results == ["value"] * self.threads

    def test_manager_async_api(self, backend: Any) -> None:
        """The manager's async twins work on this backend without blocking the loop."""
        manager = CacheManager(backend=backend)

        async def scenario() -> None:
            await manager.aset("conf:async", {"v": 1}, tags=["g"])
            assert await manager.aget("conf:async") == {"v": 1}
            assert await manager.ainvalidate("g") == 1
            assert await manager.aget("conf:async") is None
            assert await manager.aget_or_set("conf:async2", _async_value) == "computed"

        _runner(backend)(scenario())

    def test_async_ops_match_sync(self, backend: Any) -> None:
        """The async view of the backend sees what the sync view wrote, and vice versa."""
        aops = async_ops(backend)
        sops = sync_ops(backend)
        run = _runner(backend)
        run(aops.set("conformance:x", b"from-async", None))
        assert sops.get("conformance:x") == b"from-async"
        sops.set("conformance:y", b"from-sync")
        assert run(aops.get("conformance:y")) == b"from-sync"
        assert run(aops.get_many(["conformance:x", "conformance:none"])) == [b"from-async", None]


def _runner(backend: Any) -> Any:
    """Run coroutines where the backend lives: the bridge loop for async backends."""
    if is_async_backend(backend):
        from omnicache_ai.core._ops import _LoopThread

        return _LoopThread.get().run
    return asyncio.run


async def _async_value() -> str:
    await asyncio.sleep(0)
    return "computed"
