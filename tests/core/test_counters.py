"""CacheManager.incr / aincr: atomic, tenant-scoped, fail-open counters."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

import pytest

from omnicache_ai import AsyncInMemoryBackend, CacheManager, DiskBackend, InMemoryBackend
from omnicache_ai.core.errors import CacheBackendError
from omnicache_ai.testing import FlakyBackend

WORKERS = 4
PER_WORKER = 300


def _disk_incr(path: str, tenant: str, n: int, barrier: Any) -> None:
    manager = CacheManager(backend=DiskBackend(path)).for_tenant(tenant)
    barrier.wait(60)  # all start together, so the increments really interleave
    for _ in range(n):
        assert manager.incr("turns", ttl=0) is not None
    manager.close()


@pytest.mark.slow
def test_disk_counter_loses_nothing_across_processes(tmp_path: Path) -> None:
    """4 processes x 300 manager.incr on one disk directory sum exactly."""
    path = str(tmp_path / "shared")
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    procs = [
        ctx.Process(target=_disk_incr, args=(path, "acme", PER_WORKER, barrier))
        for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    manager = CacheManager(backend=DiskBackend(path))
    assert manager.for_tenant("acme").incr("turns", 0) == WORKERS * PER_WORKER
    assert manager.for_tenant("other").incr("turns", 0) == 0
    manager.close()


def test_incr_counts_and_reads_with_zero_delta() -> None:
    """incr returns the new value; delta 0 reads it; negative deltas subtract."""
    m = CacheManager(backend=InMemoryBackend())
    assert [m.incr("n"), m.incr("n", 5), m.incr("n", -2), m.incr("n", 0)] == [1, 6, 4, 4]


def test_counters_are_tenant_scoped() -> None:
    """Two tenants' counters under one key never add up; the unscoped one is separate too."""
    m = CacheManager(backend=InMemoryBackend())
    a, b = m.for_tenant("a"), m.for_tenant("b")
    a.incr("n", 3)
    b.incr("n", 10)
    assert (a.incr("n", 0), b.incr("n", 0), m.incr("n", 0)) == (3, 10, 0)
    b.clear()
    assert (a.incr("n", 0), b.incr("n", 0)) == (3, 0)


def test_counter_key_uses_the_tenant_prefix_like_set() -> None:
    """The counter lives under exactly the key set() would use for the same tenant and key."""
    backend = InMemoryBackend()
    m = CacheManager(backend=backend).for_tenant("acme")
    m.incr("hits", 2)
    assert m._skey("hits") in list(backend.keys())


@pytest.mark.parametrize("make", [InMemoryBackend, "disk"])
def test_ttl_applies_on_creation_only(make: object, tmp_path: Path) -> None:
    """A counter created with a TTL expires and restarts at 0; increments do not extend it."""
    backend = DiskBackend(str(tmp_path / "d")) if make == "disk" else InMemoryBackend()
    m = CacheManager(backend=backend)
    assert m.incr("n", ttl=0.3) == 1
    assert m.incr("n", ttl=60) == 2  # an existing counter keeps its first deadline
    time.sleep(0.4)
    assert m.incr("n", ttl=60) == 1
    assert m.incr("forever", ttl=0) == 1  # ttl 0: never expires (policy semantics)


def test_backend_failure_is_a_counted_logged_none(caplog: pytest.LogCaptureFixture) -> None:
    """A down backend makes incr return None, counted in metrics and logged once per burst."""
    flaky = FlakyBackend(InMemoryBackend())
    m = CacheManager(backend=flaky)
    m.incr("n")
    flaky.down = True
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        assert m.incr("n") is None
        assert m.incr("n") is None
    assert m.metrics.snapshot()["errors"] == 2
    assert sum("incr failed" in r.getMessage() for r in caplog.records) == 1
    flaky.down = False
    assert m.incr("n", 0) == 1


def test_strict_manager_raises() -> None:
    """In strict mode a backend failure in incr raises CacheBackendError."""
    flaky = FlakyBackend(InMemoryBackend())
    flaky.down = True
    with pytest.raises(CacheBackendError):
        CacheManager(backend=flaky, strict=True).incr("n")


def test_bad_input_is_a_clear_error() -> None:
    """A non-int delta or a reserved key is the caller's error, not a silent miss."""
    m = CacheManager(backend=InMemoryBackend())
    with pytest.raises(TypeError, match="delta must be an int"):
        m.incr("n", 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="delta must be an int"):
        m.incr("n", True)
    with pytest.raises(ValueError, match="reserved"):
        m.incr("@other:n")


def test_aincr_shares_the_logic_on_async_and_sync_backends() -> None:
    """aincr counts, scopes by tenant and fails open exactly like incr."""

    async def run() -> tuple[list[int | None], int | None, int | None]:
        am = CacheManager(backend=AsyncInMemoryBackend()).for_tenant("t")
        values = [await am.aincr("n"), await am.aincr("n", 4), await am.aincr("n", 0, ttl=5)]
        flaky = FlakyBackend(InMemoryBackend())
        sm = CacheManager(backend=flaky)
        await sm.aincr("n", 2)
        flaky.down = True
        down = await sm.aincr("n")
        flaky.down = False
        return values, down, await sm.aincr("n", 0)

    values, down, after = asyncio.run(run())
    assert values == [1, 5, 5]
    assert down is None
    assert after == 2


def test_async_concurrent_increments_lose_nothing() -> None:
    """200 concurrent aincr tasks on one counter sum exactly."""

    async def run() -> int | None:
        m = CacheManager(backend=AsyncInMemoryBackend())
        await asyncio.gather(*(m.aincr("n") for _ in range(200)))
        return await m.aincr("n", 0)

    assert asyncio.run(run()) == 200
