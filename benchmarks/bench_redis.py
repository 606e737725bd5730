"""CacheManager hits on Redis versus a bare redis-py GET of the same bytes.

Starts its own redis-server on a free port (or uses ``--url``) and prints:

* latency of one hit: bare ``redis.Redis.get``, ``RedisBackend.get``, ``CacheManager.get``
  on an untagged entry and on an entry with two tags, with the ratio to the bare GET
  (goal: <= 1.1x untagged, <= 1.3x tagged), for both ways of checking tags: the default
  tracked read (a plain GET, counters cached per connection and kept exact by CLIENT
  TRACKING) and the Lua script (``client_tracking=False``);
* network round trips per hit, counted on the client's connections (goal: 1, tags
  included; the server-side script's inner reads are not round trips);
* throughput of 8 threads doing the same hits.

Usage::

    python benchmarks/bench_redis.py [--url redis://host:port/db] [--n 20000]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis

from omnicache_ai.backends.redis_backend import RedisBackend
from omnicache_ai.core.cache_manager import CacheManager

VALUE = "The capital of France is Paris. " * 8  # ~250 bytes, a typical short answer


@contextlib.contextmanager
def local_server() -> Iterator[str]:
    """A throwaway redis-server on a free port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found on PATH (or pass --url)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            client = redis.Redis(port=port)
            for _ in range(200):
                with contextlib.suppress(redis.ConnectionError):
                    if client.ping():
                        break
                time.sleep(0.02)
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.kill()
            proc.wait()


class CountingConnection(redis.Connection):
    """A redis-py connection that counts what it sends: one send is one round trip."""

    sends = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sends += 1
        super().send_packed_command(command, check_health)


def per_call_us(
    cases: list[tuple[str, Callable[[], Any]]], n: int, rounds: int = 7
) -> list[tuple[float, float]]:
    """(wall, client CPU) microseconds per call of each case: medians over rounds that
    interleave the cases, so that noise from other processes hits every case alike. The
    CPU figure (this process only) is what the library itself costs, unaffected by the
    scheduler on a busy machine."""
    for _, fn in cases:
        for _ in range(2000):  # warm up connections, caches, scripts
            fn()
    wall: list[list[float]] = [[] for _ in cases]
    cpu: list[list[float]] = [[] for _ in cases]
    per_round = n // rounds
    for _ in range(rounds):
        for i, (_, fn) in enumerate(cases):
            start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
            for _ in range(per_round):
                fn()
            wall[i].append((time.perf_counter_ns() - start) / per_round / 1000)
            cpu[i].append((time.process_time_ns() - start_cpu) / per_round / 1000)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(wall, cpu, strict=True)]


def server_us(raw: redis.Redis, fn: Callable[[], Any], n: int = 2000) -> float:
    """Server CPU microseconds per call (INFO commandstats, every command the calls ran; a
    script's inner reads are part of its EVALSHA time, so they are not added again)."""
    raw.config_resetstat()
    for _ in range(n):
        fn()
    stats = raw.info("commandstats")
    scripted = stats.get("cmdstat_evalsha", {}).get("calls", 0) > 0
    total = 0.0
    for name, row in stats.items():
        if name in ("cmdstat_config", "cmdstat_info"):
            continue
        if scripted and name in ("cmdstat_get", "cmdstat_del"):
            continue  # run inside the script: already in EVALSHA's time
        total += float(row.get("usec", 0))
    return total / n


def round_trips_per_call(fn: Callable[[], Any], n: int = 1000) -> float:
    """Requests sent to Redis per call of ``fn``."""
    before = CountingConnection.sends
    for _ in range(n):
        fn()
    return (CountingConnection.sends - before) / n


def throughput(fn: Callable[[], Any], threads: int = 8, seconds: float = 2.0) -> float:
    """Calls per second from ``threads`` threads calling ``fn`` in a loop."""
    stop = threading.Event()
    counts = [0] * threads
    barrier = threading.Barrier(threads + 1)

    def work(i: int) -> None:
        barrier.wait()
        n = 0
        while not stop.is_set():
            fn()
            n += 1
        counts[i] = n

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="use this Redis instead of starting one")
    parser.add_argument("--n", type=int, default=20_000, help="calls per timing round")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(local_server())
        raw = stack.enter_context(redis.Redis.from_url(url, connection_class=CountingConnection))
        backend = stack.enter_context(
            RedisBackend(url, prefix="bench:", connection_class=CountingConnection)
        )
        scripted = stack.enter_context(
            RedisBackend(
                url, prefix="bench:", client_tracking=False, connection_class=CountingConnection
            )
        )
        manager = CacheManager(backend=backend)
        by_script = CacheManager(backend=scripted)
        manager.set("plain", VALUE)
        manager.set("tagged", VALUE, tags=["model:gpt-4o", "tenant:acme"])
        assert manager.get("plain") == VALUE
        assert manager.get("tagged") == VALUE
        plain_key, tagged_key = manager.storage_key("plain"), manager.storage_key("tagged")
        stored = backend.get(plain_key)
        assert stored is not None
        checked = backend.get_checked
        assert checked is not None
        raw.set(b"bare", stored)  # a bare GET reads exactly the bytes the manager reads

        cases: list[tuple[str, Callable[[], Any]]] = [
            ("redis-py GET (bare)", lambda: raw.get(b"bare")),
            ("RedisBackend.get", lambda: backend.get(plain_key)),
            ("RedisBackend.get_checked", lambda: checked(tagged_key)),
            ("CacheManager.get", lambda: manager.get("plain")),
            ("CacheManager.get, 2 tags", lambda: manager.get("tagged")),
            ("  same, Lua script read", lambda: by_script.get("plain")),
            ("  same, 2 tags, script", lambda: by_script.get("tagged")),
        ]
        print(f"Redis {raw.info('server')['redis_version']} at {url}, value {len(stored)} B")
        print(
            f"{'case':<28}{'wall us':>9}{'vs bare':>9}{'client CPU':>12}{'vs bare':>9}"
            f"{'server us':>11}{'trips':>7}{'8 threads':>13}"
        )
        timings = per_call_us(cases, args.n)
        wall0, cpu0 = timings[0]
        for (name, fn), (wall, cpu) in zip(cases, timings, strict=True):
            trips = round_trips_per_call(fn)
            srv = server_us(raw, fn)
            ops = throughput(fn)
            print(
                f"{name:<28}{wall:>9.1f}{wall / wall0:>8.2f}x{cpu:>12.1f}{cpu / cpu0:>8.2f}x"
                f"{srv:>11.2f}{trips:>7.2f}{ops:>10,.0f}/s"
            )


if __name__ == "__main__":
    main()
