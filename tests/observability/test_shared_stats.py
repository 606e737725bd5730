"""SharedStats: counters of several processes add up in a disk or Redis backend."""

from __future__ import annotations

import logging
import os
import warnings

import pytest
from obs_helpers import run_child

from _ci import need
from omnicache_ai import CacheManager, DiskBackend, InMemoryBackend
from omnicache_ai.observability import SharedStats, read_shared
from omnicache_ai.observability._view import StatsView, local_view
from omnicache_ai.observability.shared_stats import attached, stats_prefix
from omnicache_ai.testing.fakes import FlakyBackend

# A worker: hits, misses and savings, flushed only by the exit hook (no explicit flush).
# Functional tests run on a loaded 2-core CI box: give connections room. The fault tests
# keep the production default (0.25 s) to measure fail-fast behaviour.
FUNCTIONAL_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


WORKER = """
import sys
from omnicache_ai import CacheManager
from omnicache_ai.observability import SharedStats
{backend_setup}
manager = CacheManager(backend=backend)
SharedStats(manager, flush_interval=60)
manager.set("shared-key", "v", layer="response")
for _ in range({hits}):
    assert manager.get("shared-key", layer="response") == "v"
for i in range({misses}):
    manager.get(f"absent-{{i}}", layer="response")
manager.record_savings("response", model="gpt-4o", input_tokens=100, output_tokens=10)
"""


def disk_worker(path: str, hits: int, misses: int) -> str:
    """Worker code over a DiskBackend at ``path``."""
    setup = f"from omnicache_ai import DiskBackend\nbackend = DiskBackend({path!r})"
    return WORKER.format(backend_setup=setup, hits=hits, misses=misses)


def test_flush_writes_absolute_totals_so_repeats_never_double_count(disk_path: str) -> None:
    """Flushing twice (or after a failure) writes totals, not increments."""
    manager = CacheManager(backend=DiskBackend(disk_path))
    shared = SharedStats(manager, flush_interval=0)
    manager.get("a")
    assert shared.flush()
    assert shared.flush()
    manager.get("b")
    assert shared.flush()
    view = read_shared(manager)
    assert (view.processes, view.summary()["misses"]) == (1, 2)
    assert view.updated > 0
    shared.close()


def test_idle_process_takes_no_slot(disk_path: str) -> None:
    """A process with nothing to report (e.g. the CLI) does not add a slot."""
    manager = CacheManager(backend=DiskBackend(disk_path))
    shared = SharedStats(manager, flush_interval=0)
    assert shared.flush()
    assert shared.slot is None
    assert read_shared(manager).processes == 0
    shared.close()


def test_worker_processes_add_up_on_disk(disk_path: str) -> None:
    """Three processes' hits, misses and savings are summed, flushed at their exit."""
    for hits, misses in ((5, 1), (7, 2), (11, 3)):
        run_child(disk_worker(disk_path, hits, misses))
    manager = CacheManager(backend=DiskBackend(disk_path))
    snap = read_shared(manager).summary()
    assert snap["hits"] == 23
    assert snap["misses"] == 6
    assert snap["sets"] == 3
    assert snap["tokens_saved"] == 3 * 110
    assert snap["cost_saved_usd"] == pytest.approx(3 * 0.00035)
    assert read_shared(manager).processes == 3


def test_reserved_keys_stay_hidden_from_callers(disk_path: str) -> None:
    """Stats keys are reserved: manager.keys() never lists them, callers cannot write them."""
    manager = CacheManager(backend=DiskBackend(disk_path))
    manager.set("visible", "v")
    manager.get("visible")
    with SharedStats(manager, flush_interval=0) as shared:
        assert shared.flush()
    assert manager.keys() == ["visible"]
    assert stats_prefix(manager).startswith("__omnicache__:stats:")
    with pytest.raises(ValueError, match="reserved"):
        manager.set(stats_prefix(manager) + "slots", 0)


def test_namespaces_are_kept_apart(disk_path: str) -> None:
    """Two apps on one backend (different namespaces) do not mix their stats."""
    from omnicache_ai import CacheKeyBuilder

    a = CacheManager(backend=DiskBackend(disk_path), key_builder=CacheKeyBuilder("app-a"))
    b = CacheManager(backend=DiskBackend(disk_path), key_builder=CacheKeyBuilder("app-b"))
    a.get("k")
    with SharedStats(a, flush_interval=0):
        pass  # close() flushes
    assert read_shared(a).summary()["misses"] == 1
    assert read_shared(b).processes == 0


def test_background_thread_flushes_on_its_own(disk_path: str) -> None:
    """With a flush interval the thread writes without being asked."""
    import time

    manager = CacheManager(backend=DiskBackend(disk_path))
    shared = SharedStats(manager, flush_interval=0.05)
    manager.get("k")
    deadline = time.monotonic() + 10
    while read_shared(manager).summary()["misses"] != 1:
        assert time.monotonic() < deadline, "no background flush"
        time.sleep(0.02)
    shared.close()


def test_backend_outage_is_logged_once_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failing backend makes flush() return False (logged once); the cache keeps working."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    shared = SharedStats(manager, flush_interval=0)
    manager.get("k")
    flaky.down = True
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        assert shared.flush() is False
        assert shared.flush() is False
        assert manager.get("k") is None  # fail-open, and no exception
    assert caplog.text.count("could not flush shared stats") == 1
    flaky.down = False
    assert shared.flush() is True
    assert read_shared(manager).summary()["misses"] == 2
    shared.close()


def test_a_corrupt_slot_is_skipped(disk_path: str, caplog: pytest.LogCaptureFixture) -> None:
    """An unreadable slot is logged and ignored; the others still add up."""
    backend = DiskBackend(disk_path)
    manager = CacheManager(backend=backend)
    manager.get("k")
    with SharedStats(manager, flush_interval=0):
        pass
    prefix = stats_prefix(manager)
    slot = int(backend.incr(prefix + "slots", 1))
    backend.set(f"{prefix}slot:{slot}", b"not json")
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        view = read_shared(manager)
    assert view.summary()["misses"] == 1
    assert "unreadable stats slot" in caplog.text


def test_second_shared_stats_replaces_the_first(disk_path: str) -> None:
    """One SharedStats per metrics: a new one closes (and flushes) the old one."""
    manager = CacheManager(backend=DiskBackend(disk_path))
    first = SharedStats(manager, flush_interval=0)
    manager.get("k")
    second = SharedStats(manager, flush_interval=0)
    assert first.closed
    assert attached(manager.metrics) is second
    second.close()
    assert attached(manager.metrics) is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_reports_only_what_it_did(disk_path: str) -> None:
    """After a fork the child takes its own slot; pre-fork counts are the parent's."""
    manager = CacheManager(backend=DiskBackend(disk_path))
    shared = SharedStats(manager, flush_interval=0)
    manager.get("before-fork")
    assert shared.flush()
    with warnings.catch_warnings():
        # 3.12+ warns about fork() in a process with threads; this child only counts and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            for _ in range(4):
                manager.get("in-child")
            code = 0 if shared.flush() and shared.slot != 1 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    view = read_shared(manager)
    assert view.processes == 2
    assert view.summary()["misses"] == 5  # 1 before the fork + 4 in the child
    shared.close()


def test_view_algebra_round_trips_through_json() -> None:
    """A view survives to_json/from_json (zeros left out); adding and subtracting are exact."""
    manager = CacheManager()
    manager.set("k", "v", layer="response")
    manager.get("k", layer="response")
    manager.record_savings("response", input_tokens=3, output_tokens=4, cost=0.125)
    view = local_view(manager.metrics, gauges=False)
    back = StatsView.from_json(view.to_json(pid=1))
    nonzero = {k: v for k, v in view.values.items() if v}
    assert {k: v for k, v in back.values.items() if v} == nonzero
    assert back.summary() == view.summary()
    assert back.latency() == view.latency()
    (row,) = [r for (_, _, result), r in back.latency().items() if result == "hit"]
    assert len(row.counts) == len(manager.metrics.buckets) + 1  # empty buckets listed too
    assert {k: v for k, v in (back + back - back).values.items() if v} == nonzero
    assert (back + back).summary()["cost_saved_usd"] == 0.25
    with pytest.raises(ValueError, match="not an omnicache stats document"):
        StatsView.from_json(b'{"format": 99}')


@pytest.mark.redis
def test_worker_processes_add_up_in_redis(redis_clean_url: str) -> None:
    """Processes sharing a Redis backend add up, as on disk."""
    need("redis", extra="redis")
    from omnicache_ai.backends.redis_backend import RedisBackend

    setup = ("from omnicache_ai.backends.redis_backend import RedisBackend\n"
             f"backend = RedisBackend({redis_clean_url!r}, prefix='obs:')")  # fmt: skip
    for hits, misses in ((3, 1), (4, 2)):
        run_child(WORKER.format(backend_setup=setup, hits=hits, misses=misses))
    manager = CacheManager(
        backend=RedisBackend(redis_clean_url, **FUNCTIONAL_TIMEOUTS, prefix="obs:")
    )
    view = read_shared(manager)
    assert view.processes == 2
    snap = view.summary()
    assert (snap["hits"], snap["misses"], snap["tokens_saved"]) == (7, 3, 220)
    manager.close()
