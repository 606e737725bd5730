"""Observability: Prometheus and OpenTelemetry exporters, shared stats, ``omnicache stats``.

The exporters need the ``observability`` extra and are imported on first use, so importing
this package (or :mod:`omnicache_ai`) never imports ``prometheus_client`` or
``opentelemetry``. :class:`SharedStats` and :func:`render_stats` need nothing extra.

Example:
    >>> from omnicache_ai import CacheManager
    >>> from omnicache_ai.observability import PrometheusExporter
    >>> manager = CacheManager()
    >>> exporter = PrometheusExporter(manager)  # mount exporter.asgi_app at /metrics
    >>> exporter.close()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from omnicache_ai.observability.shared_stats import SharedStats, read_shared
from omnicache_ai.observability.stats_render import collect_stats, render_stats

if TYPE_CHECKING:  # pragma: no cover
    from omnicache_ai.observability.otel import OpenTelemetryExporter
    from omnicache_ai.observability.prometheus import OmnicacheCollector, PrometheusExporter

__all__ = [
    "OmnicacheCollector",
    "OpenTelemetryExporter",
    "PrometheusExporter",
    "SharedStats",
    "collect_stats",
    "read_shared",
    "render_stats",
]

_LAZY = {
    "OmnicacheCollector": "omnicache_ai.observability.prometheus",
    "OpenTelemetryExporter": "omnicache_ai.observability.otel",
    "PrometheusExporter": "omnicache_ai.observability.prometheus",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
