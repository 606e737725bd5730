"""One flat, mergeable picture of the cache statistics, read by every exporter.

A :class:`StatsView` maps tuple keys to numbers::

    ("s", counter, layer, tenant, backend)        a series counter (hits, sets, cost_saved ...)
    ("b", result, layer, tenant, backend, le)      latency observations in one bucket (not
                                                   cumulative; le is repr(bound) or "inf")
    ("B", le)                                      a bucket bound in use (value 0): every
                                                   histogram lists every bound, even empty
    ("t", result, layer, tenant, backend)          summed lookup seconds
    ("e", backend)                                 evictions
    ("x", backend, op)                             backend errors
    ("i",)                                         tag invalidations

Flat keys make the operations the exporters need trivial and obviously correct: adding the
views of several processes is a dict sum, a fork baseline is a dict difference, a tenant
filter is a key filter, and the shape survives a JSON round trip unchanged. Gauges (entries
and bytes a backend reports) are live readings, not counters, so they travel beside the
numbers instead of inside them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from omnicache_ai.core.metrics import SERIES_COUNTERS, CacheMetrics, Histogram

__all__ = ["LatencyRow", "StatsView", "local_view", "storage_figures"]

Key = tuple[str, ...]
_FORMAT = 1


@dataclass(frozen=True)
class LatencyRow:
    """A merged latency histogram for one group of labels.

    Attributes:
        bounds: Finite upper bounds, ascending.
        counts: Observations per bucket (not cumulative), ``len(bounds) + 1`` long; the last
            is the ``+Inf`` bucket.
        sum: Summed seconds.
    """

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    sum: float

    @property
    def count(self) -> int:
        """Number of observations."""
        return sum(self.counts)

    def cumulative(self) -> list[tuple[float, int]]:
        """``(upper bound, observations <= bound)`` pairs, ending with ``(inf, count)``."""
        out, running = [], 0
        for bound, n in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out

    def quantile(self, q: float) -> float:
        """Upper bound of the bucket that holds quantile ``q`` (0 when empty)."""
        total = self.count
        if total == 0:
            return 0.0
        for bound, running in self.cumulative():
            if running >= q * total:
                return bound
        return math.inf  # pragma: no cover - the last cumulative count is the total


def _bound_label(bound: float) -> str:
    return "inf" if math.isinf(bound) else repr(float(bound))


@dataclass
class StatsView:
    """Counters from one process or many, plus live gauges.

    Attributes:
        values: Flat counters (see the module docstring for the keys).
        gauges: ``{gauge name: reading}``, e.g. ``{"backend:DiskBackend": {"entries": 3}}``.
        processes: How many processes contributed.
        updated: Unix time of the newest contribution (0 when unknown).

    Example:
        >>> from omnicache_ai import CacheMetrics
        >>> m = CacheMetrics(); m.record_hit(m.series("response"), 2e-6)
        >>> view = local_view(m)
        >>> (view + view).summary()["hits"]
        2
    """

    values: dict[Key, float] = field(default_factory=dict)
    gauges: dict[str, dict[str, Any]] = field(default_factory=dict)
    processes: int = 1
    updated: float = 0.0

    # ---- algebra ---------------------------------------------------------------------
    def __add__(self, other: StatsView) -> StatsView:
        values = dict(self.values)
        for k, v in other.values.items():
            values[k] = values.get(k, 0) + v
        return StatsView(
            values, {**self.gauges, **other.gauges}, self.processes + other.processes,
            max(self.updated, other.updated),
        )  # fmt: skip

    def __sub__(self, other: StatsView) -> StatsView:
        values = dict(self.values)
        for k, v in other.values.items():
            values[k] = values.get(k, 0) - v
        return StatsView(values, dict(self.gauges), self.processes, self.updated)

    def is_empty(self) -> bool:
        """Whether every counter is zero."""
        return not any(self.values.values())

    def for_tenant(self, tenant: str) -> StatsView:
        """Only the series of one tenant (backend-wide counters are kept)."""
        values = {
            k: v for k, v in self.values.items() if k[0] not in ("s", "b", "t") or k[3] == tenant
        }
        return StatsView(values, dict(self.gauges), self.processes, self.updated)

    # ---- JSON ------------------------------------------------------------------------
    def to_json(self, **meta: Any) -> bytes:
        """Compact JSON of the counters (not the gauges), with ``meta`` beside them.

        Zero counters are left out; bound markers and latency sums stay, so every histogram
        a reader rebuilds lists the same series and bounds as the writer's.
        """
        rows = [[*k, v] for k, v in self.values.items() if v or k[0] in ("B", "t")]
        doc = {"format": _FORMAT, "values": rows, "updated": self.updated, **meta}
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> StatsView:
        """Parse :meth:`to_json` output; raises ``ValueError`` on anything else."""
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise ValueError("not an omnicache stats document")
        values: dict[Key, float] = {}
        for row in doc["values"]:
            *key, value = row
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if not numeric or not all(isinstance(part, str) for part in key):
                raise ValueError(f"bad stats row {row!r}")
            values[tuple(key)] = value
        return cls(values, {}, 1, float(doc.get("updated", 0.0)))

    # ---- grouped reads (what the exporters print) ------------------------------------
    def series(self) -> dict[tuple[str, str, str], dict[str, float]]:
        """``{(layer, tenant, backend): {counter: value}}`` with every counter present."""
        out: dict[tuple[str, str, str], dict[str, float]] = {}
        for k, v in self.values.items():
            if k[0] == "s":
                row = out.setdefault((k[2], k[3], k[4]), dict.fromkeys(SERIES_COUNTERS, 0))
                row[k[1]] = row.get(k[1], 0) + v
        return out

    def latency(self, by: Iterable[str] = ("layer", "backend", "result")) -> dict[Key, LatencyRow]:
        """Latency histograms merged over every label not in ``by``.

        Args:
            by: Labels to keep, from ``result``, ``layer``, ``tenant`` and ``backend``.
        """
        positions = {"result": 1, "layer": 2, "tenant": 3, "backend": 4}
        keep = [positions[name] for name in by]
        counts: dict[Key, dict[float, float]] = {}
        sums: dict[Key, float] = {}
        declared = {float(k[1]) for k in self.values if k[0] == "B"}
        for k, v in self.values.items():
            if k[0] == "b":
                group = tuple(k[i] for i in keep)
                per_bound = counts.setdefault(group, {})
                bound = float(k[5])
                per_bound[bound] = per_bound.get(bound, 0) + v
            elif k[0] == "t":
                group = tuple(k[i] for i in keep)
                sums[group] = sums.get(group, 0.0) + v
        out: dict[Key, LatencyRow] = {}
        for group in sums:
            counts.setdefault(group, {})  # a histogram whose observations all sit at zero
        for group, per_bound in counts.items():
            bounds = tuple(sorted(b for b in declared | set(per_bound) if not math.isinf(b)))
            row = (*(int(per_bound.get(b, 0)) for b in bounds), int(per_bound.get(math.inf, 0)))
            out[group] = LatencyRow(bounds, row, sums.get(group, 0.0))
        return out

    def evictions(self) -> dict[str, int]:
        """Evictions per backend."""
        return {k[1]: int(v) for k, v in self.values.items() if k[0] == "e"}

    def errors(self) -> dict[tuple[str, str], int]:
        """Errors per ``(backend, operation)``."""
        return {(k[1], k[2]): int(v) for k, v in self.values.items() if k[0] == "x"}

    def invalidations(self) -> int:
        """Tag invalidations."""
        return int(self.values.get(("i",), 0))

    def summary(self) -> dict[str, Any]:
        """The shape of :meth:`CacheMetrics.snapshot`: README keys first, then breakdowns."""
        totals = dict.fromkeys(SERIES_COUNTERS, 0.0)
        layers: dict[str, dict[str, Any]] = {}
        tenants: dict[str, dict[str, Any]] = {}
        for (layer, tenant, _backend), row in self.series().items():
            groups = [layers.setdefault(layer, dict.fromkeys(SERIES_COUNTERS, 0.0))]
            if tenant:
                groups.append(tenants.setdefault(tenant, dict.fromkeys(SERIES_COUNTERS, 0.0)))
            for name, v in row.items():
                totals[name] += v
                for g in groups:
                    g[name] += v
        for group in (*layers.values(), *tenants.values()):
            _finish(group)
        hit_latency = self.latency(by=("result",)).get(("hit",))
        out: dict[str, Any] = {
            "hits": int(totals["hits"]),
            "misses": int(totals["misses"]),
            "evictions": sum(self.evictions().values()),
            "sets": int(totals["sets"]),
        }
        out["hit_rate"], out["miss_rate"] = _rates(out["hits"], out["misses"])
        out.update(
            deletes=int(totals["deletes"]),
            errors=int(totals["errors"]),
            coalesced=int(totals["coalesced"]),
            invalidations=self.invalidations(),
            tokens_saved=int(totals["tokens_saved_input"] + totals["tokens_saved_output"]),
            tokens_saved_input=int(totals["tokens_saved_input"]),
            tokens_saved_output=int(totals["tokens_saved_output"]),
            cost_saved_usd=round(totals["cost_saved"], 6),
            provider_cache_read_tokens=int(totals["provider_cache_read_tokens"]),
            provider_cache_write_tokens=int(totals["provider_cache_write_tokens"]),
            provider_cost_saved_usd=round(totals["provider_cost_saved"], 6),
            hit_latency_p50_s=hit_latency.quantile(0.5) if hit_latency else 0.0,
            hit_latency_p99_s=hit_latency.quantile(0.99) if hit_latency else 0.0,
            layers=layers,
            tenants=tenants,
        )
        return out


def _rates(hits: float, misses: float) -> tuple[float, float]:
    total = hits + misses
    return (hits / total, misses / total) if total else (0.0, 0.0)


def _finish(group: dict[str, Any]) -> None:
    for name in SERIES_COUNTERS:
        if name in ("cost_saved", "provider_cost_saved"):
            group[name] = round(group[name], 6)
        else:
            group[name] = int(group[name])
    group["hit_rate"], group["miss_rate"] = _rates(group["hits"], group["misses"])


def local_view(metrics: CacheMetrics, *, gauges: bool = True) -> StatsView:
    """Read a :class:`CacheMetrics` now (hits and misses are read from the histograms, so
    a request count and its latency histogram always agree).

    Args:
        metrics: What to read.
        gauges: Also read the registered gauges (backend ``stats()``; may do I/O).
    """
    values: dict[Key, float] = {}
    for st in metrics.iter_series():
        labels = (st.layer, st.tenant, st.backend)
        for result, counter, hist in (
            ("hit", "hits", st.hit_latency),
            ("miss", "misses", st.miss_latency),
        ):
            _add_histogram(values, result, labels, hist)
            values[("s", counter, *labels)] = hist.count
        for name in SERIES_COUNTERS[2:]:
            values[("s", name, *labels)] = getattr(st, name)
    for backend, n in metrics.evictions().items():
        values[("e", backend)] = n
    for (backend, op), n in metrics.backend_errors().items():
        values[("x", backend, op)] = n
    values[("i",)] = metrics.invalidations()
    for bound in (*metrics.buckets, math.inf):
        values[("B", _bound_label(bound))] = 0
    return StatsView(values, metrics.gauges() if gauges else {}, 1, 0.0)


def _add_histogram(
    values: dict[Key, float], result: str, labels: tuple[str, str, str], hist: Histogram
) -> None:
    for bound, n in zip((*hist.bounds, math.inf), hist.counts, strict=True):
        if n:
            values[("b", result, *labels, _bound_label(bound))] = n
    values[("t", result, *labels)] = hist.sum


def storage_figures(gauges: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """``{backend: {"entries": n, "bytes": n}}`` from backend gauges, where known.

    In-memory and disk backends report ``entries``/``bytes``; Redis reports ``db_keys`` and
    ``used_memory_bytes`` (the whole database, not only this cache's keys).
    """
    out: dict[str, dict[str, float]] = {}
    for name, reading in gauges.items():
        if not name.startswith("backend:"):
            continue
        figures: dict[str, float] = {}
        for target, sources in (("entries", ("entries", "db_keys")),
                                ("bytes", ("bytes", "used_memory_bytes"))):  # fmt: skip
            for source in sources:
                value = reading.get(source)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    figures[target] = float(value)
                    break
        if figures:
            out[name.removeprefix("backend:")] = figures
    return out
