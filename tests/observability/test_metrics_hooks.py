"""CacheMetrics additions for observability: disabled mode, lookup hooks, lazy imports."""

from __future__ import annotations

import threading

import pytest
from obs_helpers import run_child

from omnicache_ai import CacheManager, CacheMetrics
from omnicache_ai.core.metrics import SeriesStats


def test_disabled_metrics_record_nothing_and_cache_still_works() -> None:
    """enabled=False: every record_* is a no-op; the cache behaves the same."""
    metrics = CacheMetrics(enabled=False)
    manager = CacheManager(metrics=metrics)
    manager.set("k", "v")
    assert manager.get("k") == "v"
    assert manager.get("missing") is None
    manager.record_savings("response", model="gpt-4o", input_tokens=1000)
    manager.invalidate("tag")
    snap = metrics.snapshot()
    assert (snap["hits"], snap["misses"], snap["sets"], snap["invalidations"]) == (0, 0, 0, 0)
    assert snap["cost_saved_usd"] == 0


def test_lookup_hook_sees_every_counted_lookup_and_can_be_removed() -> None:
    """A hook gets (series, hit, seconds) for each hit and miss until it is removed."""
    manager = CacheManager()
    manager.set("k", "v")
    seen: list[tuple[str, bool, float]] = []

    def hook(st: SeriesStats, hit: bool, seconds: float) -> None:
        seen.append((st.layer, hit, seconds))

    remove = manager.metrics.add_lookup_hook(hook)
    manager.get("k", layer="response")
    manager.get("nope")
    remove()
    manager.get("k")
    assert [(layer, hit) for layer, hit, _ in seen] == [("response", True), ("default", False)]
    assert all(0 <= s < 1 for _, _, s in seen)
    assert manager.metrics.snapshot()["hits"] == 2


def test_a_raising_hook_is_ignored() -> None:
    """A hook that raises never reaches the caller, and counting still happens."""
    manager = CacheManager()

    def bad(_st: SeriesStats, _hit: bool, _s: float) -> None:
        raise RuntimeError("tracing bug")

    remove = manager.metrics.add_lookup_hook(bad)
    assert manager.get("k") is None
    remove()
    assert manager.metrics.snapshot()["misses"] == 1


def test_hooks_cost_nothing_once_removed() -> None:
    """With no hook left, the plain class methods are used again (no wrapper)."""
    metrics = CacheMetrics()
    assert "record_hit" not in vars(metrics)
    remove_a = metrics.add_lookup_hook(lambda *_: None)
    remove_b = metrics.add_lookup_hook(lambda *_: None)
    assert "record_hit" in vars(metrics)
    remove_a()
    assert "record_hit" in vars(metrics)
    remove_b()
    assert "record_hit" not in vars(metrics)
    assert "record_miss" not in vars(metrics)


def test_counts_from_finished_threads_are_kept() -> None:
    """Lookups recorded by threads that have exited stay in the totals and the histogram."""
    metrics = CacheMetrics()
    st = metrics.series("x")

    def work() -> None:
        for _ in range(1000):
            metrics.record_hit(st, 1e-6)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert st.hits == 4000
    assert st.hit_latency.count == 4000
    assert st.hit_latency.sum == pytest.approx(4000e-6)
    assert st.hit_latency.counts[0] == 4000  # 1e-6 falls in the first (le=1e-06) bucket


def test_background_folder_bounds_the_pending_latencies() -> None:
    """Recorded latencies are folded into histograms without any reader asking."""
    import time

    metrics = CacheMetrics()
    st = metrics.series("x")
    for _ in range(1000):
        metrics.record_hit(st, 2e-6)
    deadline = time.monotonic() + 10
    while st.pending():
        assert time.monotonic() < deadline, "the background folder never ran"
        time.sleep(0.01)
    assert st.hits == 1000


def test_bucket_edges_are_inclusive() -> None:
    """A latency equal to a bound counts in that bound's bucket (Prometheus "le")."""
    metrics = CacheMetrics(buckets=(1.0, 2.0))
    st = metrics.series("x")
    for v in (0.5, 1.0, 1.5, 2.0, 3.0):
        metrics.record_miss(st, v)
    assert st.miss_latency.counts == [2, 2, 1]
    assert st.miss_latency.cumulative() == [(1.0, 2), (2.0, 4), (float("inf"), 5)]
    assert st.miss_latency.sum == pytest.approx(8.0)


def test_import_does_not_load_optional_exporter_dependencies() -> None:
    """`import omnicache_ai` (and its observability package) imports no prometheus/otel."""
    out = run_child("""
        import sys
        import omnicache_ai
        import omnicache_ai.observability
        from omnicache_ai.observability import SharedStats, render_stats
        loaded = [m for m in sys.modules if m.startswith(("prometheus_client", "opentelemetry"))]
        print(loaded)
    """)
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "blocked"),
    [("prometheus", "prometheus_client"), ("otel", "opentelemetry")],
)
def test_missing_extra_names_the_install_command(module: str, blocked: str) -> None:
    """Without the extra, importing an exporter says how to install it."""
    out = run_child(f"""
        import sys
        sys.modules[{blocked!r}] = None  # as if the package were not installed
        try:
            import omnicache_ai.observability.{module}
        except ImportError as err:
            print(err, "|", type(err.__cause__).__name__)
    """)
    assert "pip install 'omnicache-ai[observability]'" in out
    assert out.split("|")[1].strip() in ("ImportError", "ModuleNotFoundError")  # chained
