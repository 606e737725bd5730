"""Shared semantic index across processes: propagation delay, start-up rebuild, no lost writes.

Usage::

    python benchmarks/bench_semantic_shared.py                  # disk and (if found) Redis
    python benchmarks/bench_semantic_shared.py --sizes 10000 100000 --backends redis

For each backend (a disk directory; a private ``redis-server`` on a free port when the binary
is on PATH):

* ``propagation``: one process adds an entry every 5 ms, another polls the log
  (``poll_interval=0``, 1 ms sleep between polls); the delay is from the writer's clock before
  ``add`` to the reader's clock when the entry is in its replica (p50/p99);
* ``rebuild``: time for a new process's ``SharedVectorIndex`` to replay N entries from the
  log, then (after one ``compact()``) to load them from a snapshot, and the replica's
  memory per entry (numpy, float32);
* ``4 writers``: four processes add 500 entries each at once; a later replica must hold 2000.

Vectors are random (dimension 384, like MiniLM) so no model load dominates.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from typing import Any

import numpy as np

from omnicache_ai import CacheManager, DiskBackend
from omnicache_ai.layers.semantic_index import SharedVectorIndex

DIM = 384


def open_manager(where: str) -> CacheManager:
    if where.startswith("redis://"):
        from omnicache_ai.backends.redis_backend import RedisBackend

        return CacheManager(backend=RedisBackend(where, socket_timeout=5.0))
    return CacheManager(backend=DiskBackend(where))


class _Timed(SharedVectorIndex):
    """Records, for each add it replays, the delay since the writer stamped it."""

    delays: list[float]

    def _apply(self, records: list[dict[str, Any]]) -> int:
        now = time.time()
        for r in records:
            if r.get("o") == "a":
                self.delays.append(now - float(r["m"]["t"]))
        return super()._apply(records)


def _writer(where: str, n: int, start: Any, name: str) -> None:
    manager = open_manager(where)
    index = SharedVectorIndex(manager, dim=DIM, name=name, poll_interval=3600)
    rng = np.random.default_rng(0)
    start.wait(60)
    for i in range(n):
        index.add([f"p{i}"], rng.standard_normal((1, DIM)), [{"t": time.time()}])
        time.sleep(0.005)
    manager.close()


def propagation(where: str, n: int = 300) -> list[float]:
    manager = open_manager(where)
    reader = _Timed.__new__(_Timed)
    reader.delays = []
    SharedVectorIndex.__init__(reader, manager, dim=DIM, name="prop", poll_interval=0)
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(2)
    p = ctx.Process(target=_writer, args=(where, n, start, "prop"))
    p.start()
    start.wait(60)
    deadline = time.monotonic() + 120
    while len(reader.delays) < n and time.monotonic() < deadline:
        reader.catch_up(force=True)
        time.sleep(0.001)
    p.join(60)
    manager.close()
    return reader.delays


def rebuild(where: str, size: int) -> tuple[float, float, float]:
    """Seconds to rebuild ``size`` entries from the log, then from a snapshot; bytes/entry."""
    manager = open_manager(where)
    name = f"rebuild{size}"
    writer = SharedVectorIndex(manager, dim=DIM, name=name, compact_every=0)
    rng = np.random.default_rng(1)
    for start in range(0, size, 1000):
        ids = [f"r{i}" for i in range(start, min(size, start + 1000))]
        writer.add(ids, rng.standard_normal((len(ids), DIM)), [{"p": "x"}] * len(ids))
    t0 = time.perf_counter()
    fresh = SharedVectorIndex(manager, dim=DIM, name=name, compact_every=0)
    from_log = time.perf_counter() - t0
    assert fresh.count() == size, (fresh.count(), size)
    matrix = getattr(fresh.local, "_vecs", None)
    per_entry = matrix.nbytes / size if isinstance(matrix, np.ndarray) else 4.0 * DIM
    assert writer.compact()
    t0 = time.perf_counter()
    fresh = SharedVectorIndex(manager, dim=DIM, name=name, compact_every=0)
    from_snapshot = time.perf_counter() - t0
    assert fresh.count() == size, (fresh.count(), size)
    assert fresh.stats.get("snapshot_loads") == 1
    manager.close()
    return from_log, from_snapshot, per_entry


def _bulk_writer(where: str, worker: int, n: int, start: Any) -> None:
    manager = open_manager(where)
    index = SharedVectorIndex(manager, dim=DIM, name="four", poll_interval=3600, compact_every=0)
    rng = np.random.default_rng(worker)
    start.wait(60)
    for i in range(n):
        index.add([f"w{worker}:{i}"], rng.standard_normal((1, DIM)))
    manager.close()


def four_writers(where: str, n: int = 500) -> int:
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(4)
    procs = [ctx.Process(target=_bulk_writer, args=(where, w, n, start)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    manager = open_manager(where)
    count = SharedVectorIndex(manager, dim=DIM, name="four").count()
    manager.close()
    return count


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(workdir: str) -> tuple[subprocess.Popen[bytes], str] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    for _ in range(200):
        try:
            if redis.Redis(port=port).ping():
                return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.02)
    proc.kill()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--backends", nargs="+", default=["disk", "redis"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        targets: list[tuple[str, str]] = []
        server = None
        if "disk" in args.backends:
            targets.append(("disk", os.path.join(tmp, "disk")))
        if "redis" in args.backends:
            server = start_redis(tmp)
            if server is None:
                print("redis: redis-server not found, skipped")
            else:
                targets.append(("redis", server[1]))
        try:
            for label, where in targets:
                delays = sorted(propagation(where))
                ms = [d * 1e3 for d in delays]
                p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
                print(f"{label:5s} propagation: n={len(ms)} p50={statistics.median(ms):.2f} ms "
                      f"p99={p99:.2f} ms")  # fmt: skip
                for size in args.sizes:
                    from_log, from_snapshot, per_entry = rebuild(where, size)
                    print(f"{label:5s} rebuild {size:>7,} entries: from the log {from_log:.2f} s, "
                          f"from a snapshot {from_snapshot:.2f} s "
                          f"(replica {per_entry:.0f} B/entry)")  # fmt: skip
                got = four_writers(where)
                print(f"{label:5s} 4 writers x 500: replica holds {got} of 2000 "
                      f"({'nothing lost' if got == 2000 else 'LOST ENTRIES'})")  # fmt: skip
        finally:
            if server is not None:
                server[0].kill()
                server[0].wait(10)


if __name__ == "__main__":
    main()
