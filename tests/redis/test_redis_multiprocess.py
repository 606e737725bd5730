"""Several processes sharing one Redis: exactly-once computation, no lost write, coherence."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

import _redis_workers as workers
import pytest
import redis

from omnicache_ai.backends.redis_backend import RedisBackend
from omnicache_ai.core.cache_manager import CacheManager

# Functional tests run on a loaded 2-core CI box: give connections room. The fault tests
# keep the production default (0.25 s) to measure fail-fast behaviour.
FUNCTIONAL_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


pytestmark = [pytest.mark.redis, pytest.mark.slow]

PROCESSES = 4
DEADLINE = 90


def run_processes(
    target: Callable[..., None], args_for: Callable[[int, Any, Any], tuple[Any, ...]]
) -> list[Any]:
    """Start PROCESSES spawned children, collect their results, fail on any error."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=target, args=args_for(i, barrier, queue), daemon=True)
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    results = []
    try:
        for _ in procs:
            status, payload = queue.get(timeout=DEADLINE)
            assert status == "ok", payload
            results.append(payload)
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join()
        queue.close()
        queue.join_thread()
    return results


def test_each_missing_key_is_computed_exactly_once(redis_clean_url: str) -> None:
    """4 processes x 3 threads get_or_set 12 shared keys: Redis counts one computation each."""
    keys = [f"key-{i}" for i in range(12)]
    results = run_processes(workers.compute_once, lambda i, b, q: (redis_clean_url, keys, 3, b, q))
    assert results == [[]] * PROCESSES  # every caller got the right value
    with redis.Redis.from_url(redis_clean_url) as raw:
        counts = {k: int(raw.get(f"computed:{k}") or 0) for k in keys}
    assert counts == dict.fromkeys(keys, 1)


def test_no_write_is_lost(redis_clean_url: str) -> None:
    """4 processes write 300 keys each and bump one counter: everything arrives."""
    n = 300
    run_processes(workers.write_many, lambda i, b, q: (redis_clean_url, i, n, b, q))
    with RedisBackend(redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="mp:") as backend:
        manager = CacheManager(backend=backend)
        assert backend.get("shared-counter") == str(PROCESSES * n).encode()
        for w in range(PROCESSES):
            values = manager.get_many([f"w{w}:{i}" for i in range(n)])
            assert values == {f"w{w}:{i}": {"worker": w, "i": i} for i in range(n)}


def test_invalidation_in_one_process_reaches_every_l1(redis_clean_url: str) -> None:
    """After worker 0 invalidates a tag and rewrites a key, no process serves the old value."""
    results = run_processes(workers.coherent_reader, lambda i, b, q: (redis_clean_url, i, b, q))
    stale = [r["stale_after_barrier_s"] for r in results]
    print(
        f"\nL1 staleness after the writer's barrier, per process: "
        f"{[f'{s * 1e3:.2f}ms' for s in stale]}"
    )
    assert max(stale) < 1.0
    # The three readers each heard the writer's messages (the writer ignores its own).
    assert sorted(r["received"] > 0 for r in results).count(True) >= PROCESSES - 1
