"""OpenTelemetry export: the cache's counters as observable instruments, and optional spans.

Every instrument is asynchronous: its callback reads the live
:class:`~omnicache_ai.CacheMetrics` at each collection, so the values are current (never a
snapshot taken at start) and the hot path pays nothing for OpenTelemetry. OpenTelemetry has
no asynchronous histogram, so lookup latency is exported as two observable counters,
``omnicache.lookup.time`` (seconds spent) and ``omnicache.lookup.duration.bucket``
(cumulative observations per upper bound ``le``), the same figures a Prometheus histogram
carries.

With ``spans=True`` every counted lookup becomes an ``omnicache.lookup`` span, started at
the moment the lookup began and ended when it finished, as a child of whatever span is
current in the caller (so it nests in the user's trace), with the attributes ``cache.hit``,
``cache.layer``, ``cache.backend``, ``cache.tenant`` and, for semantic hits,
``cache.similarity``. Spans cost a few microseconds per lookup, which is why they are off by
default; the metrics cost nothing until collected.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

try:
    from opentelemetry import metrics as otel_metrics
    from opentelemetry import trace as otel_trace
    from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation
    from opentelemetry.trace import Tracer, TracerProvider
except ImportError as err:  # pragma: no cover - exercised by the no-extras CI job
    raise ImportError(
        "OpenTelemetryExporter needs opentelemetry-api; install it with: "
        "pip install 'omnicache-ai[observability]'"
    ) from err

from omnicache_ai._version import __version__
from omnicache_ai.core.metrics import CacheEvent, SeriesStats
from omnicache_ai.observability._view import StatsView, local_view, storage_figures
from omnicache_ai.observability.shared_stats import SharedStats

if TYPE_CHECKING:
    from omnicache_ai.core.cache_manager import CacheManager
    from omnicache_ai.core.metrics import CacheMetrics

__all__ = ["OpenTelemetryExporter"]

_SCOPE = "omnicache_ai"
_Attrs = dict[str, str | bool | float | int]
Source = Callable[[bool], StatsView]  # argument: also read gauges
_Reader = Callable[[StatsView], Iterable[tuple[float, _Attrs]]]


def _per_layer(view: StatsView) -> dict[tuple[str, str], dict[str, float]]:
    out: dict[tuple[str, str], dict[str, float]] = {}
    for (layer, tenant, _backend), row in view.series().items():
        acc = out.setdefault((layer, tenant), {})
        for k, v in row.items():
            acc[k] = acc.get(k, 0) + v
    return out


def _lt(layer: str, tenant: str) -> _Attrs:
    return {"cache.layer": layer, "cache.tenant": tenant}


def _series_reader(
    *fields: tuple[str, _Attrs],
) -> _Reader:
    def read(view: StatsView) -> Iterable[tuple[float, _Attrs]]:
        for (layer, tenant), row in sorted(_per_layer(view).items()):
            for name, extra in fields:
                yield row[name], {**_lt(layer, tenant), **extra}

    return read


def _requests(view: StatsView) -> Iterable[tuple[float, _Attrs]]:
    for (layer, tenant), row in sorted(_per_layer(view).items()):
        yield row["hits"], {**_lt(layer, tenant), "cache.result": "hit"}
        yield row["misses"], {**_lt(layer, tenant), "cache.result": "miss"}


def _lookup_time(view: StatsView) -> Iterable[tuple[float, _Attrs]]:
    for (layer, backend, result), lat in sorted(view.latency().items()):
        yield lat.sum, {"cache.layer": layer, "cache.backend": backend, "cache.result": result}


def _lookup_buckets(view: StatsView) -> Iterable[tuple[float, _Attrs]]:
    for (layer, backend, result), lat in sorted(view.latency().items()):
        for bound, n in lat.cumulative():
            yield n, {"cache.layer": layer, "cache.backend": backend, "cache.result": result,
                      "le": "+Inf" if bound == float("inf") else repr(bound)}  # fmt: skip


def _errors(view: StatsView) -> Iterable[tuple[float, _Attrs]]:
    for (backend, op), n in sorted(view.errors().items()):
        yield n, {"cache.backend": backend, "cache.operation": op}


def _evictions(view: StatsView) -> Iterable[tuple[float, _Attrs]]:
    for backend, n in sorted(view.evictions().items()):
        yield n, {"cache.backend": backend}


def _storage(figure: str) -> _Reader:
    def read(view: StatsView) -> Iterable[tuple[float, _Attrs]]:
        for backend, fig in sorted(storage_figures(view.gauges).items()):
            if figure in fig:
                yield fig[figure], {"cache.backend": backend}

    return read


# name, kind, unit, description, reader, needs gauges
_INSTRUMENTS: tuple[tuple[str, str, str, str, _Reader, bool], ...] = (
    ("omnicache.requests", "counter", "{request}", "Cache lookups by result.", _requests, False),
    ("omnicache.lookup.time", "counter", "s", "Seconds spent in cache lookups.",
     _lookup_time, False),
    ("omnicache.lookup.duration.bucket", "counter", "{lookup}",
     "Lookups that took at most `le` seconds (cumulative histogram buckets).",
     _lookup_buckets, False),
    ("omnicache.sets", "counter", "{entry}", "Entries stored.",
     _series_reader(("sets", {})), False),
    ("omnicache.deletes", "counter", "{entry}", "Entries deleted by callers.",
     _series_reader(("deletes", {})), False),
    ("omnicache.stampede.coalesced", "counter", "{call}",
     "Callers served by another caller's in-flight computation.",
     _series_reader(("coalesced", {})), False),
    ("omnicache.errors", "counter", "{error}",
     "Backend or decoding failures, served as misses.", _errors, False),
    ("omnicache.evictions", "counter", "{entry}", "Entries evicted by a backend.",
     _evictions, False),
    ("omnicache.invalidations", "counter", "{invalidation}", "Tag invalidations.",
     lambda view: [(view.invalidations(), {})], False),
    ("omnicache.tokens_saved", "counter", "{token}",
     "Tokens of upstream calls that hits made unnecessary.",
     _series_reader(("tokens_saved_input", {"cache.token.kind": "input"}),
                    ("tokens_saved_output", {"cache.token.kind": "output"})), False),
    ("omnicache.cost_saved", "counter", "USD",
     "US dollars of upstream calls that hits made unnecessary.",
     _series_reader(("cost_saved", {})), False),
    ("omnicache.provider_cache.tokens", "counter", "{token}",
     "Provider prompt-cache tokens read (billed at the cached rate) and written.",
     _series_reader(("provider_cache_read_tokens", {"cache.token.kind": "read"}),
                    ("provider_cache_write_tokens", {"cache.token.kind": "write"})), False),
    ("omnicache.provider_cache.cost_saved", "counter", "USD",
     "US dollars the provider prompt-cache discount saved.",
     _series_reader(("provider_cost_saved", {})), False),
    ("omnicache.entries", "gauge", "{entry}", "Entries the backend holds, where known.",
     _storage("entries"), True),
    ("omnicache.bytes", "gauge", "By", "Bytes the backend holds, where known.",
     _storage("bytes"), True),
)  # fmt: skip


class _Hub:
    """One set of instruments per meter, fed by every exporter that uses that meter.

    An OpenTelemetry meter keeps the first instrument registered under a name and ignores
    the callbacks of later registrations, so exporters that share a meter share this hub.
    """

    def __init__(self, meter: Meter) -> None:
        self._lock = threading.Lock()
        self._sources: dict[object, tuple[_Attrs, Source]] = {}
        for name, kind, unit, description, reader, gauges in _INSTRUMENTS:
            callback = self._callback(reader, gauges)
            if kind == "counter":
                meter.create_observable_counter(
                    name, callbacks=[callback], unit=unit, description=description
                )
            else:
                meter.create_observable_gauge(
                    name, callbacks=[callback], unit=unit, description=description
                )

    def _callback(
        self, reader: _Reader, gauges: bool
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            with self._lock:
                sources = list(self._sources.values())
            out: list[Observation] = []
            for attrs, source in sources:
                try:
                    view = source(gauges)
                    out.extend(Observation(v, {**attrs, **a}) for v, a in reader(view))
                except Exception:  # noqa: BLE001, S112 - a broken source must not stop export
                    continue
            return out

        return observe

    def add(self, attrs: _Attrs, source: Source) -> object:
        token = object()
        with self._lock:
            self._sources[token] = (attrs, source)
        return token

    def remove(self, token: object) -> None:
        with self._lock:
            self._sources.pop(token, None)


_hubs: weakref.WeakKeyDictionary[Meter, _Hub] = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def _hub_for(meter: Meter) -> _Hub:
    with _hubs_lock:
        hub = _hubs.get(meter)
        if hub is None:
            hub = _hubs[meter] = _Hub(meter)
        return hub


class _SpanRecorder:
    """Turns counted lookups into spans in the caller's current trace context."""

    # A lookup's duration comes from the metrics hook, its facts (similarity ...) from the
    # event the manager emits right after it, in the same thread; pair them only when they
    # are that close, so a lookup that emits no event never lends its duration to another.
    _PAIRING_WINDOW = 0.005

    def __init__(self, tracer: Tracer, metrics: CacheMetrics) -> None:
        self._tracer = tracer
        self._local = threading.local()
        self._remove_hook = metrics.add_lookup_hook(self._on_lookup)
        self._unsubscribe = metrics.subscribe(self._on_event)

    def _on_lookup(self, st: SeriesStats, hit: bool, seconds: float) -> None:
        self._local.last = (st.layer, st.tenant, st.backend, hit, seconds, time.perf_counter())

    def _on_event(self, event: CacheEvent) -> None:
        if event.kind in ("hit", "miss"):
            self._lookup_span(event)
        elif event.kind == "error":
            span = otel_trace.get_current_span()
            if span.is_recording():
                detail = event.detail or {}
                span.add_event("omnicache.error", {
                    "cache.layer": event.layer,
                    "cache.operation": str(detail.get("op", "")),
                    "exception.message": str(detail.get("error", "")),
                })  # fmt: skip

    def _lookup_span(self, event: CacheEvent) -> None:
        hit = event.kind == "hit"
        last = getattr(self._local, "last", None)
        self._local.last = None
        seconds, backend = 0.0, ""
        if (
            last is not None
            and last[:2] == (event.layer, event.tenant)
            and last[3] == hit
            and time.perf_counter() - last[5] < self._PAIRING_WINDOW
        ):
            backend, seconds = last[2], last[4]
        detail = event.detail or {}
        if isinstance(detail.get("seconds"), int | float):
            seconds = float(detail["seconds"])
        attrs: _Attrs = {"cache.hit": hit, "cache.layer": event.layer}
        if backend:
            attrs["cache.backend"] = backend
        if event.tenant:
            attrs["cache.tenant"] = event.tenant
        similarity = detail.get("similarity")
        if isinstance(similarity, int | float) and not isinstance(similarity, bool):
            attrs["cache.similarity"] = float(similarity)
        end = time.time_ns()
        span = self._tracer.start_span(
            "omnicache.lookup", start_time=end - int(seconds * 1e9), attributes=attrs
        )
        span.end(end_time=end)

    def close(self) -> None:
        self._remove_hook()
        self._unsubscribe()


class OpenTelemetryExporter:
    """Export a manager's metrics (and optionally lookup spans) through OpenTelemetry.

    Args:
        manager: Whose :class:`CacheMetrics` to export (all its layers and tenants).
        meter_provider: Where the instruments live (default: the global provider).
        tracer_provider: Where spans go (default: the global provider).
        spans: Record an ``omnicache.lookup`` span for every counted lookup.
        attributes: Attributes added to every observation, to tell managers apart.
        shared: Observe the sum over every process sharing the backend (``True`` starts a
            :class:`SharedStats`, closed with the exporter; or pass your own).

    Example:
        >>> from opentelemetry.sdk.metrics import MeterProvider
        >>> from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        >>> from omnicache_ai import CacheManager
        >>> reader = InMemoryMetricReader()
        >>> manager = CacheManager()
        >>> exporter = OpenTelemetryExporter(manager, MeterProvider(metric_readers=[reader]))
        >>> _ = manager.get("k")
        >>> names = [m.name for rm in reader.get_metrics_data().resource_metrics
        ...          for sm in rm.scope_metrics for m in sm.metrics]
        >>> "omnicache.requests" in names
        True
        >>> exporter.close()
    """

    def __init__(
        self,
        manager: CacheManager,
        meter_provider: MeterProvider | None = None,
        tracer_provider: TracerProvider | None = None,
        *,
        spans: bool = False,
        attributes: Mapping[str, str] | None = None,
        shared: bool | SharedStats = False,
    ) -> None:
        self.manager = manager
        self.closed = False
        provider = meter_provider or otel_metrics.get_meter_provider()
        self.meter = provider.get_meter(_SCOPE, __version__)
        self._owns_shared = shared is True
        self.shared: SharedStats | None
        if isinstance(shared, SharedStats):
            self.shared = shared
        elif shared:
            self.shared = SharedStats(manager)
        else:
            self.shared = None
        self._hub = _hub_for(self.meter)
        self._token = self._hub.add(dict(attributes or {}), self._source())
        self._spans: _SpanRecorder | None = None
        if spans:
            tracer_source = tracer_provider or otel_trace.get_tracer_provider()
            tracer = tracer_source.get_tracer(_SCOPE, __version__)
            self._spans = _SpanRecorder(tracer, manager.metrics)

    def _source(self) -> Source:
        metrics = self.manager.metrics
        shared = self.shared

        def read(gauges: bool) -> StatsView:
            if shared is not None:
                view = shared.read()
                if gauges:
                    view.gauges = metrics.gauges()
                return view
            return local_view(metrics, gauges=gauges)

        return read

    def close(self) -> None:
        """Stop observing this manager and stop recording spans (idempotent).

        OpenTelemetry cannot delete instruments; they stay and report nothing for it.
        """
        if self.closed:
            return
        self.closed = True
        self._hub.remove(self._token)
        if self._spans is not None:
            self._spans.close()
        if self._owns_shared and self.shared is not None:
            self.shared.close()

    def __enter__(self) -> OpenTelemetryExporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"OpenTelemetryExporter({self.manager.backend_name}, spans={self._spans is not None})"
        )
