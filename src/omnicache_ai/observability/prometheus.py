"""Prometheus export: ``/metrics`` over HTTP, as a WSGI or ASGI app, or on your own registry.

Nothing is copied into ``prometheus_client`` metric objects: a custom collector reads the
:class:`~omnicache_ai.CacheMetrics` at scrape time, so the hot path pays nothing for
Prometheus and a scrape always sees the current values. One collector serves every manager
exported to the same registry, each under its own labels; adding a manager whose labels are
already taken replaces the older one (a restarted app in the same process), and closing an
exporter removes only its own manager, so nothing ever raises ``Duplicated timeseries``.

Several worker processes (gunicorn, uvicorn ``--workers``) each count their own hits. Two
ways to scrape them, both tested:

* ``shared=True``: every worker flushes its counters into the shared backend (Redis or
  disk, see :class:`~omnicache_ai.observability.shared_stats.SharedStats`) and every
  worker's ``/metrics`` serves the sum over all workers; scrape any one of them, e.g. the
  app's own ``/metrics`` route mounted with :attr:`PrometheusExporter.asgi_app`.
* ``port_range=N``: each worker serves its own counters on the first free port of
  ``port .. port + N - 1``; list every port as a scrape target and sum in PromQL.

``prometheus_client``'s multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) aggregates only its
own metric objects, never custom collectors, so it does not see these metrics; use one of
the two ways above beside it.
"""

from __future__ import annotations

import errno
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

try:
    from prometheus_client import CollectorRegistry, generate_latest, start_http_server
    from prometheus_client.asgi import make_asgi_app
    from prometheus_client.exposition import make_wsgi_app
    from prometheus_client.metrics_core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
        Metric,
    )
except ImportError as err:  # pragma: no cover - exercised by the no-extras CI job
    raise ImportError(
        "PrometheusExporter needs prometheus-client; install it with: "
        "pip install 'omnicache-ai[observability]'"
    ) from err

from omnicache_ai.observability._view import StatsView, local_view, storage_figures
from omnicache_ai.observability.shared_stats import SharedStats

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from omnicache_ai.core.cache_manager import CacheManager

__all__ = ["OmnicacheCollector", "PrometheusExporter", "collector_for"]

logger = logging.getLogger("omnicache_ai")

Source = Callable[[], StatsView]
_LabelSet = tuple[tuple[str, str], ...]

# name, type, documentation, labels (before the exporter's own labels)
_FAMILIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("omnicache_requests", "counter", "Cache lookups by result (hit or miss).",
     ("layer", "result", "tenant")),
    ("omnicache_lookup_duration_seconds", "histogram",
     "Time a lookup took, backend round trip and decoding included.",
     ("layer", "backend", "result")),
    ("omnicache_sets", "counter", "Entries stored.", ("layer", "tenant")),
    ("omnicache_deletes", "counter", "Entries deleted by callers.", ("layer", "tenant")),
    ("omnicache_errors", "counter",
     "Backend or decoding failures, served as misses (fail-open).", ("backend", "op")),
    ("omnicache_evictions", "counter", "Entries a backend evicted to stay within its bounds.",
     ("backend",)),
    ("omnicache_invalidations", "counter", "Tag invalidations.", ()),
    ("omnicache_stampede_coalesced", "counter",
     "Callers served by another caller's in-flight computation.", ("layer", "tenant")),
    ("omnicache_tokens_saved", "counter",
     "Tokens of upstream calls that hits made unnecessary.", ("layer", "tenant", "kind")),
    ("omnicache_cost_saved_dollars", "counter",
     "US dollars of upstream calls that hits made unnecessary (pricing table).",
     ("layer", "tenant")),
    ("omnicache_provider_cache_tokens", "counter",
     "Provider prompt-cache tokens (kind=read: billed at the cached rate; write).",
     ("layer", "tenant", "kind")),
    ("omnicache_provider_cost_saved_dollars", "counter",
     "US dollars the provider prompt-cache discount saved.", ("layer", "tenant")),
    ("omnicache_entries", "gauge", "Entries the backend holds, where it knows.", ("backend",)),
    ("omnicache_bytes", "gauge", "Bytes the backend holds, where it knows.", ("backend",)),
    ("omnicache_processes", "gauge",
     "Processes whose counters these figures add up (1 unless shared).", ()),
)  # fmt: skip

_UNITS = {"omnicache_lookup_duration_seconds": "seconds"}


def _family(name: str, kind: str, doc: str, labels: list[str]) -> Metric:
    unit = _UNITS.get(name, "")
    if kind == "counter":
        return CounterMetricFamily(name, doc, labels=labels, unit=unit)
    if kind == "gauge":
        return GaugeMetricFamily(name, doc, labels=labels, unit=unit)
    return HistogramMetricFamily(name, doc, labels=labels, unit=unit)


class OmnicacheCollector:
    """A ``prometheus_client`` collector over any number of cache statistics sources.

    Register it yourself, or let :class:`PrometheusExporter` (or :func:`collector_for`)
    share one per registry.

    Example:
        >>> from prometheus_client import CollectorRegistry, generate_latest
        >>> from omnicache_ai import CacheManager
        >>> manager = CacheManager(); _ = manager.get("k")
        >>> collector = OmnicacheCollector()
        >>> _ = collector.add_manager(manager, {"app": "demo"})
        >>> registry = CollectorRegistry(); registry.register(collector)
        >>> b'omnicache_requests_total{app="demo",layer="default",result="miss",tenant=""} 1.0' \\
        ...     in generate_latest(registry)
        True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[_LabelSet, tuple[object, Source]] = {}
        self._last_warning = float("-inf")  # the first failure is always logged

    def add(self, source: Source, labels: Mapping[str, str] | None = None) -> object:
        """Serve ``source()`` under ``labels``; returns a token for :meth:`remove`.

        A source already registered with the same labels is replaced.
        """
        key = _label_set(labels)
        token = object()
        with self._lock:
            if key in self._sources:
                logger.info("omnicache: replacing the Prometheus source with labels %s", dict(key))
            self._sources[key] = (token, source)
        return token

    def add_manager(self, manager: CacheManager, labels: Mapping[str, str] | None = None) -> object:
        """Serve ``manager``'s metrics (every tenant and layer of its :class:`CacheMetrics`)."""
        metrics = manager.metrics
        return self.add(lambda: local_view(metrics), labels)

    def remove(self, token: object) -> None:
        """Stop serving the source that :meth:`add` returned ``token`` for (if still there)."""
        with self._lock:
            for key, (tok, _) in list(self._sources.items()):
                if tok is token:
                    del self._sources[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._sources)

    def describe(self) -> list[Metric]:
        """The metric families, without samples (lets a registry detect name clashes)."""
        return [_family(name, kind, doc, list(labels)) for name, kind, doc, labels in _FAMILIES]

    def collect(self) -> list[Metric]:
        """Read every source now and build the metric families."""
        with self._lock:
            sources = [(dict(key), source) for key, (_, source) in self._sources.items()]
        views: list[tuple[dict[str, str], StatsView]] = []
        for labels, source in sources:
            try:
                views.append((labels, source()))
            except Exception as err:  # noqa: BLE001 - one broken source must not break a scrape
                now = time.monotonic()
                if now - self._last_warning > 60:
                    self._last_warning = now
                    logger.warning("omnicache: a Prometheus source failed: %s: %s",
                                   type(err).__name__, err)  # fmt: skip
        return _build_families(views)


def _le(bound: float) -> str:
    # The exposition format spells the last bucket "+Inf"; repr() is Go's shortest form.
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def _label_set(labels: Mapping[str, str] | None) -> _LabelSet:
    return tuple(sorted((str(k), str(v)) for k, v in (labels or {}).items()))


def _build_families(views: Iterable[tuple[Mapping[str, str], StatsView]]) -> list[Metric]:
    """Prometheus metric families for several labelled views."""
    views = list(views)
    extra = sorted({name for labels, _ in views for name in labels})
    # Any: add_metric differs per family type and Metric declares none.
    families: dict[str, Any] = {
        name: _family(name, kind, doc, [*extra, *labels]) for name, kind, doc, labels in _FAMILIES
    }
    for own, view in views:
        _add_view(families, [own.get(name, "") for name in extra], view)
    return list(families.values())


def _add_view(families: dict[str, Any], head: list[str], view: StatsView) -> None:
    def add(name: str, labels: Iterable[str], value: float) -> None:
        families[name].add_metric([*head, *labels], value)

    by_layer_tenant: dict[tuple[str, str], dict[str, float]] = {}
    for (layer, tenant, _backend), row in view.series().items():
        acc = by_layer_tenant.setdefault((layer, tenant), {})
        for k, v in row.items():
            acc[k] = acc.get(k, 0) + v
    for (layer, tenant), row in sorted(by_layer_tenant.items()):
        lt = (layer, tenant)
        add("omnicache_requests", (layer, "hit", tenant), row["hits"])
        add("omnicache_requests", (layer, "miss", tenant), row["misses"])
        add("omnicache_sets", lt, row["sets"])
        add("omnicache_deletes", lt, row["deletes"])
        add("omnicache_stampede_coalesced", lt, row["coalesced"])
        add("omnicache_tokens_saved", (*lt, "input"), row["tokens_saved_input"])
        add("omnicache_tokens_saved", (*lt, "output"), row["tokens_saved_output"])
        add("omnicache_cost_saved_dollars", lt, row["cost_saved"])
        add("omnicache_provider_cache_tokens", (*lt, "read"), row["provider_cache_read_tokens"])
        add("omnicache_provider_cache_tokens", (*lt, "write"), row["provider_cache_write_tokens"])
        add("omnicache_provider_cost_saved_dollars", lt, row["provider_cost_saved"])
    for (layer, backend, result), lat in sorted(view.latency().items()):
        buckets = [(_le(b), float(n)) for b, n in lat.cumulative()]
        families["omnicache_lookup_duration_seconds"].add_metric(
            [*head, layer, backend, result], buckets, lat.sum
        )
    for (backend, op), n in sorted(view.errors().items()):
        add("omnicache_errors", (backend, op), n)
    for backend, n in sorted(view.evictions().items()):
        add("omnicache_evictions", (backend,), n)
    add("omnicache_invalidations", (), view.invalidations())
    for backend, fig in sorted(storage_figures(view.gauges).items()):
        if "entries" in fig:
            add("omnicache_entries", (backend,), fig["entries"])
        if "bytes" in fig:
            add("omnicache_bytes", (backend,), fig["bytes"])
    add("omnicache_processes", (), view.processes)


_collectors: weakref.WeakKeyDictionary[CollectorRegistry, OmnicacheCollector] = (
    weakref.WeakKeyDictionary()
)
_collectors_lock = threading.Lock()


def collector_for(registry: CollectorRegistry) -> OmnicacheCollector:
    """The one :class:`OmnicacheCollector` of ``registry`` (registered on first use).

    Example:
        >>> from prometheus_client import CollectorRegistry
        >>> r = CollectorRegistry()
        >>> collector_for(r) is collector_for(r)
        True
    """
    with _collectors_lock:
        collector = _collectors.get(registry)
        if collector is None:
            collector = OmnicacheCollector()
            registry.register(collector)
            _collectors[registry] = collector
        return collector


def _release(registry: CollectorRegistry, collector: OmnicacheCollector) -> None:
    with _collectors_lock:
        if len(collector) == 0 and _collectors.get(registry) is collector:
            del _collectors[registry]
            registry.unregister(collector)


class PrometheusExporter:
    """Export a manager's metrics to Prometheus.

    Args:
        manager: Whose :class:`CacheMetrics` to export (all its layers and tenants).
        port: Serve ``/metrics`` over HTTP on this port (``0``: any free port, see
            :attr:`port`). ``None``: no server; mount :attr:`wsgi_app` / :attr:`asgi_app`
            or scrape ``registry`` yourself.
        addr: Address to bind.
        registry: Register on this ``prometheus_client`` registry (e.g. the global
            ``prometheus_client.REGISTRY``) instead of a private one.
        labels: Labels added to every sample, to tell several managers apart.
        port_range: Try ``port, port + 1, ... port + port_range - 1`` until one is free: one
            exporter per worker process without configuring each worker.
        shared: Serve the sum over every process that shares the backend: ``True`` starts a
            :class:`SharedStats` (closed with the exporter), or pass your own.
        flush_interval: Flush interval of the ``SharedStats`` that ``shared=True`` starts.

    A port that cannot be bound is logged, not raised (the app keeps running; :attr:`port`
    is ``None``).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> manager = CacheManager()
        >>> with PrometheusExporter(manager, port=0, addr="127.0.0.1") as exporter:
        ...     exporter.url.endswith("/metrics")
        True
    """

    def __init__(
        self,
        manager: CacheManager,
        port: int | None = None,
        addr: str = "0.0.0.0",  # Prometheus scrapes from another host
        registry: CollectorRegistry | None = None,
        *,
        labels: Mapping[str, str] | None = None,
        port_range: int = 1,
        shared: bool | SharedStats = False,
        flush_interval: float = 10.0,
    ) -> None:
        if port_range < 1:
            raise ValueError("port_range must be >= 1")
        self.manager = manager
        self.registry = registry if registry is not None else CollectorRegistry()
        self.labels = dict(labels or {})
        self._owns_shared = shared is True
        self.shared: SharedStats | None
        if isinstance(shared, SharedStats):
            self.shared = shared
        elif shared:
            self.shared = SharedStats(manager, flush_interval=flush_interval)
        else:
            self.shared = None
        self.collector = collector_for(self.registry)
        self._token = self.collector.add(self._source(), self.labels)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None
        self.addr = addr
        self.closed = False
        self.wsgi_app: Callable[..., Any] = make_wsgi_app(self.registry)
        """A WSGI app serving the metrics (mount it at ``/metrics``)."""
        self.asgi_app: Callable[..., Any] = make_asgi_app(self.registry)
        """An ASGI app serving the metrics (mount it at ``/metrics``)."""
        if port is not None:
            self._serve(port, addr, port_range)

    def _source(self) -> Source:
        metrics = self.manager.metrics
        shared = self.shared
        if shared is None:
            return lambda: local_view(metrics)

        def read_shared() -> StatsView:
            view = shared.read()
            view.gauges = metrics.gauges()
            return view

        return read_shared

    def _serve(self, port: int, addr: str, port_range: int) -> None:
        last: OSError | None = None
        for candidate in range(port, port + port_range) if port else [0]:
            try:
                self._server, self._thread = start_http_server(
                    candidate, addr=addr, registry=self.registry
                )
            except OSError as err:
                last = err
                if err.errno == errno.EADDRINUSE:
                    continue
                break
            self.port = int(self._server.server_port)
            return
        logger.error(
            "omnicache: Prometheus exporter could not listen on %s:%s%s: %s; metrics are "
            "still available through the registry and the WSGI/ASGI apps",
            addr, port, f"-{port + port_range - 1}" if port_range > 1 else "", last,
        )  # fmt: skip

    @property
    def url(self) -> str | None:
        """``http://host:port/metrics`` of the running server, or ``None``."""
        if self.port is None:
            return None
        host = "127.0.0.1" if self.addr in ("0.0.0.0", "") else self.addr
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/metrics"

    def generate_latest(self) -> bytes:
        """The exposition text a scrape would get now."""
        return bytes(generate_latest(self.registry))

    def close(self) -> None:
        """Stop serving and unregister this manager (idempotent)."""
        if self.closed:
            return
        self.closed = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
        self.collector.remove(self._token)
        _release(self.registry, self.collector)
        if self._owns_shared and self.shared is not None:
            self.shared.close()

    def __enter__(self) -> PrometheusExporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.url or "no HTTP server"
        return f"PrometheusExporter({self.manager.backend_name}, {where})"
