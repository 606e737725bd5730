"""CacheManager.incr / count: atomic counters scoped like entries, failing open."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from omnicache_ai import AsyncInMemoryBackend, CacheManager, DiskBackend, InMemoryBackend
from omnicache_ai.core.errors import CacheBackendError
from omnicache_ai.testing.fakes import FlakyBackend


@pytest.mark.parametrize("kind", ["memory", "disk"])
def test_incr_returns_the_new_value_and_count_reads_it(kind: str, tmp_path: Path) -> None:
    """incr adds and returns; count reads without changing; delete removes the counter."""
    backend = InMemoryBackend() if kind == "memory" else DiskBackend(tmp_path)
    manager = CacheManager(backend=backend)
    assert manager.count("c") == 0
    assert manager.incr("c") == 1
    assert manager.incr("c", 5) == 6
    assert manager.count("c") == 6
    assert manager.delete("c")
    assert manager.count("c") == 0


def test_count_never_creates_the_counter() -> None:
    """Reading an absent counter leaves no key behind."""
    manager = CacheManager(backend=InMemoryBackend())
    assert manager.count("absent") == 0
    assert manager.keys() == []


def test_counters_are_tenant_scoped() -> None:
    """Two tenants' counters with one name are independent."""
    manager = CacheManager(backend=InMemoryBackend())
    a, b = manager.for_tenant("a"), manager.for_tenant("b")
    a.incr("n", 3)
    assert b.count("n") == 0
    assert b.incr("n") == 1
    assert a.count("n") == 3


def test_concurrent_increments_are_not_lost() -> None:
    """Eight threads adding 200 each end at 1600."""
    manager = CacheManager(backend=InMemoryBackend())

    def work() -> None:
        for _ in range(200):
            manager.incr("hits")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert manager.count("hits") == 1600


async def test_async_twins_share_the_counter() -> None:
    """aincr and acount see the same counter as incr and count."""
    manager = CacheManager(backend=AsyncInMemoryBackend())
    assert await manager.aincr("c", 2) == 2
    assert manager.incr("c") == 3
    assert await manager.acount("c") == 3
    assert await manager.acount("absent") == 0


def test_backend_failure_is_none_and_zero_not_an_error() -> None:
    """With the backend down incr gives None and count 0, counted as errors."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    flaky.down = True
    assert manager.incr("c") is None
    assert manager.count("c") == 0
    assert manager.metrics.snapshot()["errors"] == 2


def test_strict_mode_raises_on_failure() -> None:
    """In strict mode a failed incr raises CacheBackendError."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky, strict=True)
    flaky.down = True
    with pytest.raises(CacheBackendError):
        manager.incr("c")
