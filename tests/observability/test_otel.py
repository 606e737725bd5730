"""OpenTelemetryExporter: in-memory metric reader and span exporter from the real SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from _ci import need

need("opentelemetry.sdk", extra="observability")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from omnicache_ai import CacheManager, InMemoryBackend
from omnicache_ai.embedders import HashingEmbedder
from omnicache_ai.layers._guards import GuardConfig
from omnicache_ai.layers.semantic_cache import SemanticCache
from omnicache_ai.observability import OpenTelemetryExporter

Points = dict[str, list[tuple[dict[str, Any], float]]]


def points(reader: InMemoryMetricReader) -> Points:
    """``{instrument name: [(attributes, value), ...]}`` of one collection."""
    out: Points = {}
    data = reader.get_metrics_data()
    assert data is not None
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for p in metric.data.data_points:
                    out.setdefault(metric.name, []).append((dict(p.attributes or {}),
                                                            p.value))  # type: ignore[union-attr]  # fmt: skip
    return out


def one(found: Points, name: str, **attrs: Any) -> float:
    """The value of the one point of ``name`` whose attributes include ``attrs``."""
    matches = [v for a, v in found.get(name, []) if attrs.items() <= a.items()]
    assert len(matches) == 1, f"{name}{attrs}: {matches}"
    return matches[0]


@pytest.fixture
def reader() -> InMemoryMetricReader:
    """An in-memory metric reader."""
    return InMemoryMetricReader()


@pytest.fixture
def meter_provider(reader: InMemoryMetricReader) -> Iterator[MeterProvider]:
    """A meter provider that feeds ``reader``."""
    provider = MeterProvider(metric_readers=[reader])
    yield provider
    provider.shutdown()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """Where finished spans land."""
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(spans: InMemorySpanExporter) -> TracerProvider:
    """A tracer provider exporting synchronously into ``spans``."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return provider


def test_metrics_reflect_activity_after_the_exporter_was_created(
    reader: InMemoryMetricReader, meter_provider: MeterProvider
) -> None:
    """Observable instruments read live: lookups made after creation are collected."""
    manager = CacheManager(backend=InMemoryBackend())
    exporter = OpenTelemetryExporter(manager, meter_provider)
    manager.set("a", "1", layer="response")
    manager.get("a", layer="response")
    manager.get("a", layer="response")
    manager.get("b", layer="response")
    manager.record_savings("response", model="gpt-4o", input_tokens=2000, output_tokens=0)
    found = points(reader)
    attrs = {"cache.layer": "response", "cache.tenant": ""}
    assert one(found, "omnicache.requests", **attrs, **{"cache.result": "hit"}) == 2
    assert one(found, "omnicache.requests", **attrs, **{"cache.result": "miss"}) == 1
    assert one(found, "omnicache.sets", **attrs) == 1
    assert one(found, "omnicache.tokens_saved", **attrs, **{"cache.token.kind": "input"}) == 2000
    assert one(found, "omnicache.cost_saved", **attrs) == pytest.approx(0.005)
    backend = {"cache.backend": manager.backend_name}
    assert one(found, "omnicache.entries", **backend) == 1
    assert one(found, "omnicache.bytes", **backend) > 0
    hit_time = one(found, "omnicache.lookup.time", **{"cache.result": "hit"}, **backend)
    assert 0 < hit_time < 1
    inf = one(found, "omnicache.lookup.duration.bucket", le="+Inf",
              **{"cache.result": "hit", "cache.layer": "response"})  # fmt: skip
    assert inf == 2

    manager.get("a", layer="response")  # later activity shows in the next collection
    found = points(reader)
    assert one(found, "omnicache.requests", **attrs, **{"cache.result": "hit"}) == 3
    exporter.close()


def test_errors_evictions_and_invalidations_are_observed(
    reader: InMemoryMetricReader, meter_provider: MeterProvider
) -> None:
    """Backend errors, evictions and tag invalidations become counters."""
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend(max_size=1))
    manager = CacheManager(backend=flaky)
    bounded = CacheManager(backend=InMemoryBackend(max_size=1), metrics=manager.metrics)
    exporter = OpenTelemetryExporter(manager, meter_provider)
    flaky.down = True
    manager.get("k")
    flaky.down = False
    for i in range(3):
        bounded.set(f"k{i}", "v")
    bounded.set("t", "v", tags=["model:x"])
    bounded.invalidate("model:x")
    found = points(reader)
    assert one(found, "omnicache.errors", **{"cache.backend": manager.backend_name,
                                             "cache.operation": "get"}) == 1  # fmt: skip
    assert one(found, "omnicache.evictions", **{"cache.backend": bounded.backend_name}) >= 2
    assert one(found, "omnicache.invalidations") == 1
    exporter.close()


def test_two_exporters_on_one_meter_provider_are_both_observed(
    reader: InMemoryMetricReader, meter_provider: MeterProvider
) -> None:
    """A shared meter serves every exporter, told apart by their attributes."""
    a, b = CacheManager(), CacheManager()
    ea = OpenTelemetryExporter(a, meter_provider, attributes={"cache.name": "a"})
    eb = OpenTelemetryExporter(b, meter_provider, attributes={"cache.name": "b"})
    a.get("k")
    b.get("k")
    b.get("k")
    found = points(reader)
    assert one(found, "omnicache.requests", **{"cache.name": "a", "cache.result": "miss"}) == 1
    assert one(found, "omnicache.requests", **{"cache.name": "b", "cache.result": "miss"}) == 2
    ea.close()
    found = points(reader)
    assert not [p for p, _ in found.get("omnicache.requests", []) if p["cache.name"] == "a"]
    eb.close()


def test_spans_nest_in_the_callers_trace_with_cache_attributes(
    tracer_provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    """Each lookup is a child span of the caller's span, timed like the lookup."""
    manager = CacheManager()
    manager.set("k", "v", layer="response")
    exporter = OpenTelemetryExporter(manager, tracer_provider=tracer_provider, spans=True)
    tracer = tracer_provider.get_tracer("user-app")
    with tracer.start_as_current_span("handle-request") as parent:
        assert manager.get("k", layer="response") == "v"
        assert manager.for_tenant("acme").get("nope", layer="embedding") is None
    exporter.close()
    finished = {s.name: s for s in spans.get_finished_spans() if s.name != "omnicache.lookup"}
    lookups: list[ReadableSpan] = [s for s in spans.get_finished_spans()
                                   if s.name == "omnicache.lookup"]  # fmt: skip
    assert len(lookups) == 2
    user = finished["handle-request"]
    for span in lookups:
        assert span.parent is not None
        assert span.parent.span_id == parent.get_span_context().span_id
        assert span.context.trace_id == user.context.trace_id
        assert span.start_time is not None
        assert span.end_time is not None
        assert user.start_time is not None
        assert user.end_time is not None
        assert user.start_time <= span.start_time < span.end_time <= user.end_time
    hit, miss = lookups
    assert hit.attributes is not None
    assert miss.attributes is not None
    assert hit.attributes["cache.hit"] is True
    assert hit.attributes["cache.layer"] == "response"
    assert hit.attributes["cache.backend"] == manager.backend_name
    assert miss.attributes["cache.hit"] is False
    assert miss.attributes["cache.tenant"] == "acme"
    assert "cache.similarity" not in hit.attributes


def test_span_duration_is_the_recorded_lookup_latency(
    tracer_provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    """A span lasts as long as the latency the metrics recorded for that lookup."""
    manager = CacheManager()
    manager.set("k", "v")
    exporter = OpenTelemetryExporter(manager, tracer_provider=tracer_provider, spans=True)
    manager.get("k")
    exporter.close()
    (span,) = spans.get_finished_spans()
    assert span.start_time is not None
    assert span.end_time is not None
    recorded = manager.metrics.series("default", "", manager.backend_name).hit_latency.sum
    assert abs((span.end_time - span.start_time) - recorded * 1e9) <= 1


def _semantic_cache(manager: CacheManager) -> SemanticCache:
    return SemanticCache(manager, embedder=HashingEmbedder(dim=256), threshold=0.5,
                         guards=GuardConfig.off())  # fmt: skip


def _only_span_with_similarity(spans: InMemorySpanExporter) -> ReadableSpan:
    found = [s for s in spans.get_finished_spans()
             if s.attributes is not None and "cache.similarity" in s.attributes]  # fmt: skip
    assert len(found) == 1, [dict(s.attributes or {}) for s in spans.get_finished_spans()]
    return found[0]


def test_real_semantic_hit_sets_cache_similarity(
    tracer_provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    """A real SemanticCache hit produces a hit span carrying the match's cache.similarity."""
    manager = CacheManager()
    cache = _semantic_cache(manager)
    cache.set("how do I reset my password", "use the reset link")
    exporter = OpenTelemetryExporter(manager, tracer_provider=tracer_provider, spans=True)
    result = cache.lookup("how can I reset my password")
    exporter.close()
    assert (result.hit, result.tier) == (True, "semantic")
    assert result.similarity is not None
    assert 0.5 <= result.similarity < 1.0
    span = _only_span_with_similarity(spans)
    assert span.attributes is not None
    assert span.attributes["cache.similarity"] == pytest.approx(result.similarity)
    assert span.attributes["cache.hit"] is True
    assert span.attributes["cache.layer"] == "semantic"


async def test_real_async_semantic_hit_sets_cache_similarity(
    tracer_provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    """The async lookup path sets cache.similarity on its hit span too."""
    manager = CacheManager()
    cache = _semantic_cache(manager)
    await cache.aset("how do I reset my password", "use the reset link")
    exporter = OpenTelemetryExporter(manager, tracer_provider=tracer_provider, spans=True)
    result = await cache.alookup("how can I reset my password")
    exporter.close()
    assert result.tier == "semantic"
    span = _only_span_with_similarity(spans)
    assert span.attributes is not None
    assert span.attributes["cache.similarity"] == pytest.approx(result.similarity)


def test_exact_hits_and_plain_lookups_carry_no_similarity(
    tracer_provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    """Exact-tier hits and ordinary manager lookups set no cache.similarity."""
    manager = CacheManager()
    cache = _semantic_cache(manager)
    cache.set("how do I reset my password", "use the reset link")
    manager.set("k", "v")
    exporter = OpenTelemetryExporter(manager, tracer_provider=tracer_provider, spans=True)
    assert cache.lookup("how do I reset my password").tier == "exact"
    assert manager.get("k") == "v"
    exporter.close()
    finished = spans.get_finished_spans()
    assert len(finished) == 2
    assert all("cache.similarity" not in (s.attributes or {}) for s in finished)


def test_backend_errors_become_events_on_the_current_span(
    tracer_provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    """A fail-open backend error is recorded as an event on the caller's span."""
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    exporter = OpenTelemetryExporter(manager, tracer_provider=tracer_provider, spans=True)
    flaky.down = True
    with tracer_provider.get_tracer("app").start_as_current_span("work"):
        assert manager.get("k") is None
    exporter.close()
    work = next(s for s in spans.get_finished_spans() if s.name == "work")
    (event,) = work.events
    assert event.name == "omnicache.error"
    assert event.attributes is not None
    assert event.attributes["cache.operation"] == "get"


def test_spans_off_installs_nothing_on_the_hot_path(
    tracer_provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    """Without spans no listener or hook is installed; closing removes what spans added."""
    manager = CacheManager()
    plain = OpenTelemetryExporter(manager, tracer_provider=tracer_provider)
    assert not manager.metrics.has_listeners
    assert "record_hit" not in vars(manager.metrics)
    traced = OpenTelemetryExporter(manager, tracer_provider=tracer_provider, spans=True)
    assert manager.metrics.has_listeners
    assert "record_hit" in vars(manager.metrics)
    traced.close()
    plain.close()
    assert not manager.metrics.has_listeners
    assert "record_hit" not in vars(manager.metrics)
    manager.get("k")
    assert spans.get_finished_spans() == ()


def test_a_broken_tracer_never_breaks_a_cache_call() -> None:
    """If span creation raises, the lookup still returns and is still counted."""

    class BrokenTracerProvider(TracerProvider):
        def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
            class Broken:
                def start_span(self, *a: Any, **k: Any) -> Any:
                    raise RuntimeError("exporter down")

            return Broken()

    manager = CacheManager()
    manager.set("k", "v")
    exporter = OpenTelemetryExporter(manager, tracer_provider=BrokenTracerProvider(), spans=True)
    assert manager.get("k") == "v"
    assert manager.get("missing") is None
    assert manager.metrics.snapshot()["hits"] == 1
    exporter.close()


def test_global_providers_are_used_by_default() -> None:
    """Without providers the exporter uses the global (no-op until configured) ones."""
    manager = CacheManager()
    exporter = OpenTelemetryExporter(manager, spans=True)
    manager.set("k", "v")
    assert manager.get("k") == "v"
    exporter.close()


def test_shared_mode_observes_the_sum_over_processes(
    disk_path: str, reader: InMemoryMetricReader, meter_provider: MeterProvider
) -> None:
    """shared=True: the instruments report every process's flushed counts."""
    from obs_helpers import run_child

    from omnicache_ai import DiskBackend

    run_child(f"""
        from omnicache_ai import CacheManager, DiskBackend
        from omnicache_ai.observability import SharedStats
        manager = CacheManager(backend=DiskBackend({disk_path!r}))
        SharedStats(manager)
        for _ in range(5):
            manager.get("absent")
    """)
    manager = CacheManager(backend=DiskBackend(disk_path))
    exporter = OpenTelemetryExporter(manager, meter_provider, shared=True)
    manager.get("absent")
    found = points(reader)
    assert one(found, "omnicache.requests", **{"cache.result": "miss"}) == 6
    exporter.close()
    assert exporter.shared is not None
    assert exporter.shared.closed
