"""CacheMetrics: exact under threads, per layer and tenant, listeners."""

from __future__ import annotations

import threading

from omnicache_ai import CacheManager, CacheMetrics


def test_counts_are_exact_under_threads() -> None:
    """8 threads x 5000 hits and misses are all counted (no lost increments)."""
    manager = CacheManager()
    manager.set("k", "v")

    def work() -> None:
        for _ in range(5000):
            manager.get("k")
            manager.get("absent")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = manager.metrics.snapshot()
    assert snap["hits"] == 40_000
    assert snap["misses"] == 40_000
    assert snap["hit_rate"] == 0.5


def test_per_layer_and_tenant_breakdown() -> None:
    """Layers and tenants get their own counters; a shared CacheMetrics sums them."""
    metrics = CacheMetrics()
    root = CacheManager(metrics=metrics)
    t = root.for_tenant("t1")
    t.set("a", 1, layer="response")
    t.get("a", layer="response")
    root.get("missing", layer="embedding")
    snap = metrics.snapshot()
    assert snap["layers"]["response"]["hits"] == 1
    assert snap["layers"]["embedding"]["misses"] == 1
    assert snap["tenants"]["t1"]["hits"] == 1
    assert snap["hit_latency_p50_s"] > 0


def test_latency_histogram_and_reset() -> None:
    """Latency histograms count every observation; reset zeroes everything."""
    metrics = CacheMetrics()
    st = metrics.series("x")
    for v in (1e-6, 3e-6, 2.0):
        metrics.record_hit(st, v)
    h = st.hit_latency
    assert h.count == 3
    assert h.cumulative()[-1] == (float("inf"), 3)
    assert h.quantile(0.5) == 5e-6
    metrics.reset()
    assert metrics.snapshot()["hits"] == 0
    metrics.record_hit(st, 1e-6)
    assert metrics.snapshot()["hits"] == 1


def test_failing_listener_does_not_break_calls() -> None:
    """A listener that raises is ignored; the cache call succeeds."""
    manager = CacheManager()

    def bad(_event: object) -> None:
        raise RuntimeError("listener bug")

    manager.metrics.subscribe(bad)
    manager.set("k", "v")
    assert manager.get("k") == "v"


def test_savings_accounting() -> None:
    """record_savings prices tokens from the pricing table; unknown models cost nothing."""
    manager = CacheManager()
    assert manager.record_savings("response", model="gpt-4o", input_tokens=1000,
                                  output_tokens=1000) == 0.0125  # fmt: skip
    assert manager.record_savings("response", model="unknown-model", input_tokens=10) == 0.0
    snap = manager.metrics.snapshot()
    assert snap["tokens_saved"] == 2010
    assert snap["cost_saved_usd"] == 0.0125
