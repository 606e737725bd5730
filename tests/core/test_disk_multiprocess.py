"""DiskBackend shared by several processes: nothing lost, nothing corrupted, tags coherent."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from omnicache_ai import CacheManager, DiskBackend

pytestmark = pytest.mark.slow

WORKERS = 4
KEYS_PER_WORKER = 150


def _writer(path: str, worker: int) -> None:
    manager = CacheManager(backend=DiskBackend(path))
    for i in range(KEYS_PER_WORKER):
        manager.set(f"w{worker}:k{i}", {"worker": worker, "i": i, "pad": "x" * (i % 50)},
                    tags=[f"worker:{worker}", "all"])  # fmt: skip
        manager.backend.incr("shared-counter")
        if i % 25 == 0:
            manager.invalidate(f"scratch:{worker}")
    manager.close()


def _computer(path: str, key: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    manager = CacheManager(backend=DiskBackend(path))
    value = manager.get_or_set(key, lambda: manager.backend.incr("computations") and "v")
    out.put(value)
    manager.close()


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    """Four processes writing, counting and invalidating at once lose no entry or increment."""
    path = str(tmp_path / "shared")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    manager = CacheManager(backend=DiskBackend(path))
    for w in range(WORKERS):
        for i in range(KEYS_PER_WORKER):
            value = manager.get(f"w{w}:k{i}")
            assert value == {"worker": w, "i": i, "pad": "x" * (i % 50)}, (w, i)
    assert manager.backend.incr("shared-counter", 0) == WORKERS * KEYS_PER_WORKER
    assert manager.metrics.snapshot()["errors"] == 0


def test_invalidation_in_one_process_seen_by_others(tmp_path: Path) -> None:
    """A tag invalidated by another process makes this process's next read miss."""
    path = str(tmp_path / "shared")
    ctx = mp.get_context("spawn")
    p = ctx.Process(target=_writer, args=(path, 0))
    p.start()
    p.join(120)
    reader = CacheManager(backend=DiskBackend(path))
    assert reader.get("w0:k3") is not None
    other = ctx.Process(target=_invalidate, args=(path, "worker:0"))
    other.start()
    other.join(60)
    assert other.exitcode == 0
    assert reader.get("w0:k3") is None


def _invalidate(path: str, tag: str) -> None:
    CacheManager(backend=DiskBackend(path)).invalidate(tag)
