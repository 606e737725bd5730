"""Worker functions for the multi-process tests (importable by spawned children)."""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import redis

from omnicache_ai.backends.memory_backend import InMemoryBackend
from omnicache_ai.backends.redis_backend import RedisBackend
from omnicache_ai.backends.redis_coherence import RedisCoherence
from omnicache_ai.backends.tiered_backend import TieredBackend
from omnicache_ai.core.cache_manager import CacheManager

# Functional tests run on a loaded 2-core CI box: give connections room. The fault tests
# keep the production default (0.25 s) to measure fail-fast behaviour.
FUNCTIONAL_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


BARRIER_TIMEOUT = 60


def _report(queue: Any, body: Callable[[], Any]) -> None:
    try:
        queue.put(("ok", body()))
    except Exception:  # noqa: BLE001 - any failure goes back to the parent test
        queue.put(("error", traceback.format_exc()))


def compute_once(url: str, keys: list[str], threads: int, barrier: Any, queue: Any) -> None:
    """Threads of this process call get_or_set on shared keys; Redis counts computations."""

    def body() -> list[str]:
        raw = redis.Redis.from_url(url)
        backend = RedisBackend(url, **FUNCTIONAL_TIMEOUTS, prefix="mp:")
        manager = CacheManager(backend=backend)
        wrong: list[str] = []

        def compute(key: str) -> str:
            raw.incr(f"computed:{key}")
            time.sleep(0.05)  # wide window for a duplicate computation to sneak in
            return f"value-{key}"

        def work(seed: int) -> None:
            order = list(keys)
            random.Random(seed).shuffle(order)
            for key in order:
                got = manager.get_or_set(key, lambda key=key: compute(key))
                if got != f"value-{key}":
                    wrong.append(f"{key}: {got!r}")

        barrier.wait(BARRIER_TIMEOUT)
        pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        backend.close()
        raw.close()
        return wrong

    _report(queue, body)


def write_many(url: str, worker: int, n: int, barrier: Any, queue: Any) -> None:
    """Write n own keys through a manager and bump one shared counter n times."""

    def body() -> int:
        backend = RedisBackend(url, **FUNCTIONAL_TIMEOUTS, prefix="mp:")
        manager = CacheManager(backend=backend)
        barrier.wait(BARRIER_TIMEOUT)
        for i in range(n):
            manager.set(f"w{worker}:{i}", {"worker": worker, "i": i})
            backend.incr("shared-counter")
        backend.close()
        return n

    _report(queue, body)


def coherent_reader(url: str, worker: int, barrier: Any, queue: Any) -> None:
    """Tiered L1 + Redis with pub/sub coherence; worker 0 writes, everyone reads."""

    def body() -> dict[str, float]:
        tiered = TieredBackend(
            l1=InMemoryBackend(max_size=1000),
            l2=RedisBackend(url, **FUNCTIONAL_TIMEOUTS, prefix="mp:"),
            l1_ttl=60,  # far beyond the test: only coherence can evict
            coherence=RedisCoherence(url, socket_timeout=2.0, channel="mp:l1"),
        )
        manager = CacheManager(backend=tiered)
        out: dict[str, float] = {}
        if worker == 0:
            manager.set("cfg", "v1", tags=["release"])
            manager.set("plain", "p1")
        barrier.wait(BARRIER_TIMEOUT)
        # Phase 2: everyone reads, so every L1 holds the old values.
        assert manager.get("cfg") == "v1"
        assert manager.get("plain") == "p1"
        assert tiered.l1.get(manager.storage_key("plain")) is not None
        barrier.wait(BARRIER_TIMEOUT)
        if worker == 0:
            manager.invalidate("release")
            manager.set("plain", "p2")
        barrier.wait(BARRIER_TIMEOUT)
        # Phase 4: the tag invalidation is visible at once (generations live in Redis).
        assert manager.get("cfg") is None, "tag invalidation not seen"
        start = time.monotonic()
        while True:
            value = manager.get("plain")
            if value == "p2":
                break
            assert value == "p1", f"unexpected {value!r}"
            assert time.monotonic() - start < 1.0, "stale L1 copy not evicted within 1 s"
            time.sleep(0.001)
        out["stale_after_barrier_s"] = time.monotonic() - start
        # Once the new value is seen, the old one never comes back.
        for _ in range(50):
            assert manager.get("plain") == "p2"
        out["received"] = float(tiered.coherence.received)  # type: ignore[union-attr]
        tiered.close()
        return out

    _report(queue, body)
