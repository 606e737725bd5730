"""PrometheusExporter: real HTTP scrapes parsed with prometheus_client's own parser."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from _ci import need

need("prometheus_client", extra="observability")

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from omnicache_ai import CacheManager, CacheMetrics, InMemoryBackend
from omnicache_ai.observability import PrometheusExporter
from omnicache_ai.observability.prometheus import OmnicacheCollector, collector_for
from omnicache_ai.testing.fakes import FlakyBackend

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample as ``{(name, labels): value}``."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in out, f"duplicate sample {key}"
            out[key] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    """The one sample called ``name`` whose labels include ``labels``."""
    found = [v for (n, ls), v in samples.items()
             if n == name and set(labels.items()) <= set(ls)]  # fmt: skip
    assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
    return found[0]


def scrape(url: str) -> Samples:
    """GET ``url`` over real HTTP and parse it."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return parse(response.read().decode())


@pytest.fixture
def manager() -> Iterator[CacheManager]:
    """A manager over a bounded in-memory backend (so it can evict)."""
    m = CacheManager(backend=InMemoryBackend(max_size=2))
    yield m
    m.close()


def test_http_scrape_counts_hits_misses_and_savings(manager: CacheManager) -> None:
    """A real scrape of /metrics shows the hits, misses, latency, sets and savings done."""
    with PrometheusExporter(manager, port=0, addr="127.0.0.1") as exporter:
        assert exporter.url is not None
        manager.set("a", "1", layer="response")
        for _ in range(3):
            assert manager.get("a", layer="response") == "1"
        for key in ("x", "y"):
            assert manager.get(key, layer="response") is None
        manager.for_tenant("acme").get("q", layer="embedding")
        manager.record_savings("response", model="gpt-4o", input_tokens=1000, output_tokens=100)
        manager.record_provider_cache("response", model="claude-sonnet-4", read_tokens=10_000,
                                      write_tokens=500)  # fmt: skip
        s = scrape(exporter.url)
    hit = value(s, "omnicache_requests_total", layer="response", result="hit", tenant="")
    miss = value(s, "omnicache_requests_total", layer="response", result="miss", tenant="")
    assert (hit, miss) == (3, 2)
    assert value(s, "omnicache_requests_total", layer="embedding", result="miss",
                 tenant="acme") == 1  # fmt: skip
    backend = manager.backend_name
    assert value(s, "omnicache_lookup_duration_seconds_count", layer="response",
                 backend=backend, result="hit") == 3  # fmt: skip
    total = value(s, "omnicache_lookup_duration_seconds_sum", layer="response",
                  backend=backend, result="hit")  # fmt: skip
    assert 0 < total < 1
    inf_bucket = value(s, "omnicache_lookup_duration_seconds_bucket", layer="response",
                       backend=backend, result="hit", le="+Inf")  # fmt: skip
    assert inf_bucket == 3
    assert value(s, "omnicache_sets_total", layer="response", tenant="") == 1
    assert value(s, "omnicache_tokens_saved_total", layer="response", kind="input") == 1000
    assert value(s, "omnicache_tokens_saved_total", layer="response", kind="output") == 100
    # gpt-4o list price: 2.50 in / 10.00 out per million tokens
    assert value(s, "omnicache_cost_saved_dollars_total", layer="response") == pytest.approx(0.0035)
    read = value(s, "omnicache_provider_cache_tokens_total", layer="response", kind="read")
    write = value(s, "omnicache_provider_cache_tokens_total", layer="response", kind="write")
    assert (read, write) == (10_000, 500)
    # claude-sonnet-4: 3.00 input vs 0.30 cached per million
    assert value(s, "omnicache_provider_cost_saved_dollars_total",
                 layer="response") == pytest.approx(0.027)  # fmt: skip
    assert value(s, "omnicache_entries", backend=backend) == 1
    assert value(s, "omnicache_bytes", backend=backend) > 0
    assert value(s, "omnicache_processes") == 1


def test_histogram_buckets_are_cumulative_and_complete(manager: CacheManager) -> None:
    """Every bucket bound is listed, counts never decrease, +Inf equals the count."""
    with PrometheusExporter(manager, port=0, addr="127.0.0.1") as exporter:
        manager.get("missing")
        assert exporter.url is not None
        s = scrape(exporter.url)
    buckets = sorted(
        (float(dict(ls)["le"]), v) for (n, ls), v in s.items()
        if n == "omnicache_lookup_duration_seconds_bucket" and dict(ls)["result"] == "miss"
    )  # fmt: skip
    assert len(buckets) == len(manager.metrics.buckets) + 1
    counts = [v for _, v in buckets]
    assert counts == sorted(counts)
    assert counts[-1] == 1


def test_values_are_read_live_at_scrape_time(manager: CacheManager) -> None:
    """Activity after a scrape shows up in the next scrape (no snapshot at start)."""
    with PrometheusExporter(manager, port=0, addr="127.0.0.1") as exporter:
        assert exporter.url is not None
        before = scrape(exporter.url)
        assert not any(n == "omnicache_requests_total" for n, _ in before)
        manager.get("k")
        first = value(scrape(exporter.url), "omnicache_requests_total", result="miss")
        manager.get("k")
        manager.get("k")
        second = value(scrape(exporter.url), "omnicache_requests_total", result="miss")
    assert (first, second) == (1, 3)


def test_errors_and_evictions_are_exported() -> None:
    """Backend failures count per (backend, op); evictions count per backend."""
    flaky = FlakyBackend(InMemoryBackend())
    broken = CacheManager(backend=flaky)
    bounded = CacheManager(backend=InMemoryBackend(max_size=2), metrics=broken.metrics)
    with PrometheusExporter(broken, port=0, addr="127.0.0.1") as exporter:
        flaky.down = True
        assert broken.get("k") is None
        broken.set("k", "v")
        flaky.down = False
        for i in range(5):
            bounded.set(f"k{i}", "v")
        assert exporter.url is not None
        s = scrape(exporter.url)
    assert value(s, "omnicache_errors_total", backend=broken.backend_name, op="get") == 1
    assert value(s, "omnicache_errors_total", backend=broken.backend_name, op="set") == 1
    assert value(s, "omnicache_evictions_total", backend=bounded.backend_name) == 3


def test_wsgi_and_asgi_apps_serve_the_same_metrics(manager: CacheManager) -> None:
    """The WSGI and ASGI apps answer with the current exposition text."""
    exporter = PrometheusExporter(manager)
    manager.get("k")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "QUERY_STRING": "",
               "SERVER_NAME": "test", "SERVER_PORT": "80", "wsgi.input": io.BytesIO(),
               "wsgi.url_scheme": "http"}  # fmt: skip
    status: list[str] = []
    body = b"".join(exporter.wsgi_app(environ, lambda st, _h: status.append(st)))
    assert status[0].startswith("200")
    assert value(parse(body.decode()), "omnicache_requests_total", result="miss") == 1

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/metrics", "query_string": b"",
             "headers": []}  # fmt: skip
    asyncio.run(exporter.asgi_app(scope, receive, send))
    assert sent[0]["status"] == 200
    text = b"".join(m.get("body", b"") for m in sent[1:]).decode()
    assert value(parse(text), "omnicache_requests_total", result="miss") == 1
    exporter.close()


def test_two_managers_on_one_registry_use_their_labels() -> None:
    """Managers exported to one registry are told apart by labels, with no clash."""
    registry = CollectorRegistry()
    a, b = CacheManager(), CacheManager()
    ea = PrometheusExporter(a, registry=registry, labels={"cache": "a"})
    eb = PrometheusExporter(b, registry=registry, labels={"cache": "b"})
    a.get("k")
    b.set("k", "v")
    b.get("k")
    s = parse(ea.generate_latest().decode())
    assert value(s, "omnicache_requests_total", cache="a", result="miss") == 1
    assert value(s, "omnicache_requests_total", cache="a", result="hit") == 0
    assert value(s, "omnicache_requests_total", cache="b", result="hit") == 1
    ea.close()
    s = parse(eb.generate_latest().decode())
    assert not any(dict(ls).get("cache") == "a" for _, ls in s)
    assert value(s, "omnicache_requests_total", cache="b", result="hit") == 1
    eb.close()
    assert collector_for(registry) is not ea.collector  # released, then a fresh one


def test_restart_in_one_process_replaces_instead_of_colliding() -> None:
    """A second exporter with the same labels on the global registry replaces the first."""
    old, new = CacheManager(), CacheManager()
    first = PrometheusExporter(old, registry=REGISTRY)
    old.get("k")
    second = PrometheusExporter(new, registry=REGISTRY)  # app restarted without closing
    new.set("k", "v")
    new.get("k")
    s = parse(second.generate_latest().decode())
    assert value(s, "omnicache_requests_total", result="hit") == 1
    assert value(s, "omnicache_requests_total", result="miss") == 0
    first.close()  # closing the stale exporter must not remove the new manager
    s = parse(second.generate_latest().decode())
    assert value(s, "omnicache_requests_total", result="hit") == 1
    second.close()
    third = PrometheusExporter(CacheManager(), registry=REGISTRY)  # no DuplicateTimeseries
    third.close()
    assert not any(f.name.startswith("omnicache_") for f in REGISTRY.collect())


def test_collector_can_be_registered_by_hand_and_clashes_are_detected() -> None:
    """A hand-registered collector works; a second one on the same registry is refused."""
    registry = CollectorRegistry()
    manager = CacheManager()
    collector = OmnicacheCollector()
    collector.add_manager(manager, {"app": "x"})
    registry.register(collector)
    manager.get("k")
    names = {f.name for f in registry.collect()}
    assert {"omnicache_requests", "omnicache_lookup_duration_seconds"} <= names
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        registry.register(OmnicacheCollector())


def test_a_failing_source_does_not_break_the_scrape(caplog: pytest.LogCaptureFixture) -> None:
    """One source that raises is skipped (and logged); the others are still served."""
    registry = CollectorRegistry()
    manager = CacheManager()
    exporter = PrometheusExporter(manager, registry=registry, labels={"cache": "ok"})

    def broken() -> Any:
        raise RuntimeError("source bug")

    exporter.collector.add(broken, {"cache": "broken"})
    manager.get("k")
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        s = parse(exporter.generate_latest().decode())
    assert value(s, "omnicache_requests_total", cache="ok", result="miss") == 1
    assert "source bug" in caplog.text
    exporter.close()


def test_failing_backend_gauges_do_not_break_the_scrape() -> None:
    """A backend whose stats() raises loses its gauges, not the scrape."""
    metrics = CacheMetrics()
    manager = CacheManager(metrics=metrics)

    def dead() -> dict[str, Any]:
        raise ConnectionError("down")

    metrics.register_gauge("backend:dead", dead)
    manager.get("k")
    with PrometheusExporter(manager) as exporter:
        s = parse(exporter.generate_latest().decode())
    assert value(s, "omnicache_requests_total", result="miss") == 1
    assert not any(dict(ls).get("backend") == "dead" for _, ls in s)


def test_port_range_gives_each_worker_its_own_port() -> None:
    """With port_range, a second exporter on a taken port takes the next free one."""
    a = PrometheusExporter(CacheManager(), port=0, addr="127.0.0.1")
    assert a.port is not None
    b = PrometheusExporter(CacheManager(), port=a.port, addr="127.0.0.1", port_range=20)
    try:
        assert b.port is not None
        assert a.port < b.port < a.port + 20
        assert b.url is not None
        scrape(b.url)
    finally:
        a.close()
        b.close()


def test_taken_port_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    """An exporter that cannot bind logs an error and keeps the app (and cache) running."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        manager = CacheManager()
        with caplog.at_level(logging.ERROR, logger="omnicache_ai"):
            exporter = PrometheusExporter(manager, port=port, addr="127.0.0.1")
        assert exporter.port is None
        assert exporter.url is None
        assert "could not listen" in caplog.text
        manager.set("k", "v")
        assert manager.get("k") == "v"
        assert b"omnicache_requests_total" in exporter.generate_latest()
        exporter.close()


def test_close_stops_the_server_and_frees_the_port() -> None:
    """After close() nothing listens; a new exporter can take the same port."""
    first = PrometheusExporter(CacheManager(), port=0, addr="127.0.0.1")
    port = first.port
    assert port is not None
    first.close()
    first.close()  # idempotent
    with pytest.raises(urllib.error.URLError, match="refused"):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
    second = PrometheusExporter(CacheManager(), port=port, addr="127.0.0.1")
    assert second.port == port
    second.close()


def test_pricing_override_from_environment_reaches_the_exporter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OMNICACHE_PRICING prices a custom model; its savings are exported in dollars."""
    monkeypatch.setenv("OMNICACHE_PRICING", '{"house-model": {"input": 4.0, "output": 8.0}}')
    manager = CacheManager()
    manager.record_savings("response", model="house-model-v2", input_tokens=500_000,
                           output_tokens=250_000)  # fmt: skip
    with PrometheusExporter(manager) as exporter:
        s = parse(exporter.generate_latest().decode())
    assert value(s, "omnicache_cost_saved_dollars_total", layer="response") == pytest.approx(4.0)
    assert manager.metrics.snapshot()["cost_saved_usd"] == pytest.approx(4.0)


def test_shared_mode_serves_the_sum_over_worker_processes(disk_path: str) -> None:
    """shared=True: any worker's /metrics shows every worker's counts (gunicorn story)."""
    from obs_helpers import run_child

    from omnicache_ai import DiskBackend

    worker = f"""
        from omnicache_ai import CacheManager, DiskBackend
        from omnicache_ai.observability import SharedStats
        manager = CacheManager(backend=DiskBackend({disk_path!r}))
        SharedStats(manager, flush_interval=60)
        manager.set("k", "v", layer="response")
        for _ in range({{hits}}):
            manager.get("k", layer="response")
        manager.get("absent", layer="response")
    """
    run_child(worker.format(hits=4))
    run_child(worker.format(hits=6))
    manager = CacheManager(backend=DiskBackend(disk_path))
    with PrometheusExporter(manager, port=0, addr="127.0.0.1", shared=True) as exporter:
        manager.get("k", layer="response")  # this process counts too
        assert exporter.url is not None
        s = scrape(exporter.url)
        assert exporter.shared is not None
    assert exporter.shared.closed  # owned by the exporter, closed with it
    assert value(s, "omnicache_requests_total", layer="response", result="hit") == 11
    assert value(s, "omnicache_requests_total", layer="response", result="miss") == 2
    assert value(s, "omnicache_lookup_duration_seconds_count", layer="response",
                 result="hit") == 11  # fmt: skip
    assert value(s, "omnicache_processes") == 3
    les = [dict(ls)["le"] for (n, ls), _ in s.items() if n.endswith("_bucket")
           and dict(ls)["result"] == "hit"]  # fmt: skip
    assert len(les) == len(manager.metrics.buckets) + 1  # complete after the JSON round trip
    assert value(s, "omnicache_entries", backend="DiskBackend") >= 1


async def _coalesce(manager: CacheManager, key: str, followers: int) -> None:
    """One leader computes ``key`` while exactly ``followers`` tasks wait on its flight."""
    shield = manager.stampede
    gate = asyncio.Event()

    async def compute() -> str:
        await gate.wait()
        return "v"

    tasks = [asyncio.create_task(manager.aget_or_set(key, compute)) for _ in range(followers + 1)]
    skey = manager._skey(key)
    # Event-driven: release the leader only once every follower is parked on the flight.
    while True:
        flight = shield._flights.get(skey)
        if flight is not None and len(flight.waiters) == followers:
            break
        await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*tasks) == ["v"] * (followers + 1)


def test_deletes_invalidations_and_coalesced_counters_are_exact() -> None:
    """A scrape after known operations shows exactly the deletes, invalidations and
    coalesced followers that happened, per layer and tenant."""
    manager = CacheManager(backend=InMemoryBackend())
    acme = manager.for_tenant("acme")
    with PrometheusExporter(manager, port=0, addr="127.0.0.1") as exporter:
        assert exporter.url is not None
        for key in ("a", "b", "c"):
            manager.set(key, 1, layer="response")
        manager.delete("a", layer="response")
        manager.delete("b", layer="response")
        manager.set("x", 1, layer="embedding")
        manager.delete_many(["x"], layer="embedding")
        acme.set("t", 1)
        acme.delete("t")
        manager.invalidate("docs")
        manager.invalidate("docs")
        acme.invalidate("docs")
        asyncio.run(_coalesce(manager, "hot", followers=3))
        asyncio.run(_coalesce(acme, "hot", followers=2))
        s = scrape(exporter.url)
    assert value(s, "omnicache_deletes_total", layer="response", tenant="") == 2
    assert value(s, "omnicache_deletes_total", layer="embedding", tenant="") == 1
    assert value(s, "omnicache_deletes_total", layer="default", tenant="acme") == 1
    assert value(s, "omnicache_invalidations_total") == 3
    assert value(s, "omnicache_stampede_coalesced_total", layer="default", tenant="") == 3
    assert value(s, "omnicache_stampede_coalesced_total", layer="default", tenant="acme") == 2
