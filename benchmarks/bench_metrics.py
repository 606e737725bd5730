"""What metrics cost on the exact-hit path: ``manager.get`` with and without accounting.

Two managers over the same kind of in-memory backend, one with a normal ``CacheMetrics``
and one with ``CacheMetrics(enabled=False)`` (every ``record_*`` an empty call), are timed
in alternating rounds; the overhead is the median of the per-round differences, as a share
of the fastest round without metrics. Time is process CPU time: preemption on a busy
machine is not counted, while the background folding of latencies into histograms (another
thread) is. The manager reads the clock around every lookup in both cases, so two clock
reads are timed separately and added for an upper bound.
Also printed: the same path with a Prometheus exporter attached (it reads at scrape time,
so it must cost nothing) and with OpenTelemetry spans on (opt-in; costs microseconds).

Run: ``python benchmarks/bench_metrics.py [--rounds 31] [--n 50000]``. The budget is 10%.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from omnicache_ai import CacheManager, CacheMetrics, InMemoryBackend


def _per_call(fn: Callable[[str], object], n: int) -> float:
    key = "bench-key"
    # CPU time of the whole process: preemption on a busy machine is not counted, the
    # background folder's work (in another thread) is.
    t0 = time.process_time()
    for _ in range(n):
        fn(key)
    return (time.process_time() - t0) / n


def _manager(metrics: CacheMetrics) -> CacheManager:
    manager = CacheManager(backend=InMemoryBackend(), metrics=metrics)
    manager.set("bench-key", "a cached answer")
    assert manager.get("bench-key") == "a cached answer"
    return manager


def _rounds(fns: dict[str, Callable[[str], object]], n: int, rounds: int) -> dict[str, list[float]]:
    """Per-round ns/op of every variant; variants alternate (in rotating order) each round,
    so a change in machine load hits them all alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(_per_call(fns[name], n))
    return times


def _best(fns: dict[str, Callable[[str], object]], n: int, rounds: int) -> dict[str, float]:
    return {name: min(ts) for name, ts in _rounds(fns, n, rounds).items()}


def _paired(a: list[float], b: list[float]) -> float:
    """Median of the per-round differences: robust to the rounds a busy machine spoiled."""
    return statistics.median(x - y for x, y in zip(a, b, strict=True))


def _timer_pair(n: int, rounds: int) -> float:
    clock = time.perf_counter

    def two_reads(_key: str) -> object:
        return clock() - clock()

    def nothing(_key: str) -> object:
        return None

    times = _rounds({"clock": two_reads, "empty": nothing}, n, rounds)
    return max(_paired(times["clock"], times["empty"]), 0.0)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--n", type=int, default=50_000, help="lookups per round")
    args = parser.parse_args()

    with_metrics = _manager(CacheMetrics())
    without = _manager(CacheMetrics(enabled=False))
    variants: dict[str, Callable[[str], object]] = {
        "with": with_metrics.get,
        "without": without.get,
    }
    exporter: Any = None
    try:
        from omnicache_ai.observability import PrometheusExporter
    except ImportError:
        print("(install the observability extra to time the exporters too)")
    else:
        exported = _manager(CacheMetrics())
        exporter = PrometheusExporter(exported)
        variants["prometheus"] = exported.get
    times = _rounds(variants, args.n, args.rounds)
    best = {name: min(ts) for name, ts in times.items()}
    overhead = _paired(times["with"], times["without"])
    timers = _timer_pair(args.n, args.rounds)
    share = 100 * overhead / best["without"]
    # Without any metrics the manager would also skip its two clock reads.
    bound = 100 * (overhead + timers) / (best["without"] - timers)

    print(f"exact hit, metrics on        {best['with'] * 1e9:8.0f} ns/op")
    print(f"exact hit, metrics off       {best['without'] * 1e9:8.0f} ns/op")
    print(f"metrics overhead             {overhead * 1e9:8.0f} ns/op  {share:5.1f}%  (budget 10%)")
    print(f"  + two clock reads          {timers * 1e9:8.0f} ns/op  {bound:5.1f}% upper bound")
    hits = with_metrics.metrics.snapshot()["hits"]
    print(f"hits counted (metrics on)    {hits:8d}  (every timed lookup, plus one check)")
    if exporter is None:
        return
    exporter.close()
    scrape_cost = _paired(times["prometheus"], times["with"])
    print(f"exact hit, Prometheus on     {best['prometheus'] * 1e9:8.0f} ns/op  "
          f"({scrape_cost * 1e9:+.0f} ns vs metrics on: it reads at scrape time)")  # fmt: skip
    from opentelemetry.sdk.trace import TracerProvider

    from omnicache_ai.observability import OpenTelemetryExporter

    otel = OpenTelemetryExporter(with_metrics, tracer_provider=TracerProvider(), spans=True)
    traced = _best({"spans": with_metrics.get}, max(args.n // 10, 1000), 3)
    otel.close()
    print(f"exact hit, OTel spans on     {traced['spans'] * 1e9:8.0f} ns/op  (opt-in)")


if __name__ == "__main__":
    main()
