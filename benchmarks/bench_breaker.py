"""What a call costs while the Redis circuit breaker is open (goal: p99 well under 1 ms).

The fault tests in tests/redis/test_redis_faults.py assert that an open breaker refuses
every call without touching the socket; this script measures how fast that refusal is, a
figure that belongs on a quiet machine rather than in an assert on a shared CI box.
It needs no server: the address is a local port nobody listens on.

Usage::

    python benchmarks/bench_breaker.py [--n 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import statistics
import time
from collections.abc import Callable

from omnicache_ai.backends.redis_backend import AsyncRedisBackend, RedisBackend
from omnicache_ai.core.cache_manager import CacheManager


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def report(label: str, samples: list[float]) -> None:
    q = statistics.quantiles(samples, n=100)
    print(f"{label:<34} p50 {q[49] * 1e6:7.1f} us   p99 {q[98] * 1e6:7.1f} us   "
          f"max {max(samples) * 1e6:8.1f} us")  # fmt: skip


def timed(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        with contextlib.suppress(Exception):  # the refusal is what is timed
            call()
        out.append(time.perf_counter() - start)
    return out


async def atimed(backend: AsyncRedisBackend, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        with contextlib.suppress(Exception):
            await backend.get("k")
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    url = dead_url()
    with RedisBackend(url, failure_threshold=1, cooldown=3600) as backend:
        timed(lambda: backend.get("k"), 3)  # open it
        assert backend.breaker.state == "open"
        report("RedisBackend.get, breaker open", timed(lambda: backend.get("k"), args.n))
        manager = CacheManager(backend=backend)
        report("CacheManager.get (miss), open", timed(lambda: manager.get("k"), args.n))

    async def run_async() -> None:
        async with AsyncRedisBackend(url, failure_threshold=1, cooldown=3600) as backend:
            await atimed(backend, 3)
            report("AsyncRedisBackend.get, open", await atimed(backend, args.n))

    asyncio.run(run_async())


if __name__ == "__main__":
    main()
