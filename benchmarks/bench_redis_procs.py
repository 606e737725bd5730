"""Multi-process Redis throughput: N worker processes serving hits from one redis-server.

Starts its own redis-server on a free port (or uses ``--url``), fills it with ``--keys``
entries, then for each read path and each N (1, 2, 4 by default) starts N processes that
read the entries in turn for ``--seconds``, all at once behind a barrier, and prints:

* hits/s of all workers together;
* client CPU per hit (each worker's own CPU time, summed, over its hits);
* server CPU per hit and the server's CPU use in % of one core (``INFO CPU``, sampled at the
  start and end of the timed window);
* where the bottleneck is: the server when it is near one full core (Redis runs commands on
  one thread), else the clients (on a machine where workers and server share few cores,
  CPU spent per hit on each side says who is eating the cores).

Read paths: a bare redis-py ``GET`` loop (the baseline), ``CacheManager.get`` on untagged
and on tagged entries (2 tags) with the default tracked read, and the same two with the Lua
script read (``RedisBackend(client_tracking=False)``).

Usage::

    python benchmarks/bench_redis_procs.py [--url redis://host:port/db] [--procs 1 2 4]
        [--seconds 3] [--keys 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import statistics
import time
from typing import Any

import redis
from bench_redis import local_server

from omnicache_ai.backends.redis_backend import RedisBackend
from omnicache_ai.core.cache_manager import CacheManager

VALUE = "The capital of France is Paris. " * 8  # ~250 bytes, a typical short answer
PREFIX = "procs:"
TIMEOUT = 5.0
TAGS = ["model:gpt-4o", "tenant:acme"]
#: name -> (how entries are stored, client_tracking)
PATHS: dict[str, tuple[str, bool]] = {
    "redis-py GET (bare)": ("bare", True),
    "CacheManager.get": ("plain", True),
    "CacheManager.get, 2 tags": ("tagged", True),
    "  same, Lua script read": ("plain", False),
    "  same, 2 tags, script": ("tagged", False),
}


def _key(kind: str, i: int) -> str:
    return f"{kind}:{i}"


def fill(url: str, keys: int) -> None:
    """Store ``keys`` entries of each kind: manager entries with and without tags, bare bytes."""
    raw = redis.Redis.from_url(url)
    with RedisBackend(url, prefix=PREFIX) as backend:
        manager = CacheManager(backend=backend)
        for i in range(keys):
            manager.set(_key("plain", i), VALUE, ttl=0)
            manager.set(_key("tagged", i), VALUE, ttl=0, tags=TAGS)
            stored = backend.get(manager.storage_key(_key("plain", i)))
            assert stored is not None
            raw.set(f"bare:{i}".encode(), stored)  # the very bytes the manager reads
    raw.close()


def worker(url: str, path: str, keys: int, sync: tuple[Any, Any, Any]) -> None:
    """One process: read entries of ``path`` in turn until ``stop``; report hits and CPU."""
    start, stop, out = sync
    kind, tracking = PATHS[path]
    if kind == "bare":
        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT)
        names: list[Any] = [f"bare:{i}".encode() for i in range(keys)]
        read = client.get
    else:
        # A generous timeout: on a busy machine a 0.25 s stall is a scheduling hiccup, and
        # this measures throughput, not fault tolerance.
        backend = RedisBackend(url, prefix=PREFIX, client_tracking=tracking, socket_timeout=TIMEOUT)
        manager = CacheManager(backend=backend)
        names = [_key(kind, i) for i in range(keys)]
        read = manager.get
    for name in names:  # warm up: connections, scripts, counter caches
        read(name)
    start.wait()
    cpu0 = time.process_time()
    calls = misses = i = 0
    while not stop.is_set():  # checked every 64 reads: an Event costs a lock
        for _ in range(64):
            if read(names[i]) is None:
                misses += 1
            i = i + 1 if i + 1 < keys else 0
        calls += 64
    out.put((calls - misses, misses, time.process_time() - cpu0))


def server_cpu(client: redis.Redis) -> float:
    """Seconds of CPU the redis-server process has used (user + system)."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores (``/proc/stat``)."""
    try:
        with open("/proc/stat") as f:
            fields = [float(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return (sum(fields) - idle) / tick, sum(fields) / tick


def run(url: str, path: str, procs: int, seconds: float, keys: int) -> dict[str, float]:
    """One cell: ``procs`` workers on ``path`` for ``seconds``; the figures of the window."""
    # fork: workers build their clients after the fork; the parent holds none at that point
    ctx = mp.get_context("fork")
    start = ctx.Barrier(procs + 1)
    stop = ctx.Event()
    out = ctx.Queue()
    workers = [
        ctx.Process(target=worker, args=(url, path, keys, (start, stop, out))) for _ in range(procs)
    ]
    for w in workers:
        w.start()
    probe = redis.Redis.from_url(url)
    start.wait(timeout=120)
    srv0, t0, (busy0, all0) = server_cpu(probe), time.perf_counter(), machine_cpu()
    time.sleep(seconds)
    stop.set()
    busy1, all1 = machine_cpu()
    results = [out.get(timeout=60) for _ in workers]
    wall, srv = time.perf_counter() - t0, server_cpu(probe) - srv0
    for w in workers:
        w.join(timeout=30)
    probe.close()
    hits = sum(h for h, _, _ in results)
    client_cpu = sum(c for _, _, c in results)
    return {
        "hits_s": hits / wall,
        "client_us": client_cpu / hits * 1e6,
        "server_us": srv / hits * 1e6,
        "server_pct": srv / wall * 100,
        "client_pct": client_cpu / wall * 100,
        "misses": sum(m for _, m, _ in results),
        # CPU of the whole machine used by other processes than ours, in % of one core
        "others_pct": max(0.0, (busy1 - busy0) - srv - client_cpu)
        / max(all1 - all0, 1e-9)
        * 100
        * (os.cpu_count() or 1),
    }


def verdict(cell: dict[str, float]) -> str:
    """Which side limits throughput, from the CPU each side spent."""
    if cell["server_pct"] >= 85:
        return "server (its one core is busy)"
    cores = os.cpu_count() or 1
    used = cell["server_pct"] + cell["client_pct"] + cell["others_pct"]
    side = "clients" if cell["client_us"] > cell["server_us"] else "server"
    if used >= 85 * cores:
        return f"CPU: cores full ({cell['others_pct']:.0f}% not ours); {side} use most per hit"
    return f"latency (cores not full); {side} use most per hit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="use this Redis instead of starting one")
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=3.0, help="timed window per cell")
    parser.add_argument("--keys", type=int, default=1000, help="distinct entries per path")
    parser.add_argument("--repeats", type=int, default=1, help="runs per cell (median)")
    parser.add_argument("--paths", nargs="+", choices=list(PATHS), default=list(PATHS))
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(local_server())
        fill(url, args.keys)
        probe = redis.Redis.from_url(url)
        version = probe.info("server")["redis_version"]
        probe.close()
        load = os.getloadavg()
        print(
            f"Redis {version} at {url}; {os.cpu_count()} cores; load average "
            f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start; {args.keys} keys per path, "
            f"{args.seconds:g}s per cell, median of {args.repeats}"
        )
        print(
            f"{'read path':<28}{'procs':>6}{'hits/s':>10}{'vs bare':>9}{'client us/hit':>15}"
            f"{'server us/hit':>15}{'server CPU':>12}  bottleneck"
        )
        samples: dict[tuple[str, int], list[dict[str, float]]] = {}
        for _ in range(args.repeats):  # repeats interleave, so bursts of load hit every cell
            for path in args.paths:
                for n in args.procs:
                    samples.setdefault((path, n), []).append(
                        run(url, path, n, args.seconds, args.keys)
                    )
        bare: dict[int, float] = {}
        for (path, n), cells in samples.items():
            cell = {k: statistics.median(c[k] for c in cells) for k in cells[0]}
            if PATHS[path][0] == "bare":
                bare[n] = cell["hits_s"]
            ratio = f"{cell['hits_s'] / bare[n]:>8.2f}x" if n in bare else f"{'':>9}"
            print(
                f"{path:<28}{n:>6}{cell['hits_s']:>10,.0f}{ratio}{cell['client_us']:>15.1f}"
                f"{cell['server_us']:>15.2f}{cell['server_pct']:>11.0f}%  {verdict(cell)}"
                + (f" ({cell['misses']:.0f} misses: timeouts)" if cell["misses"] else "")
            )
        load = os.getloadavg()
        print(f"load average at end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
