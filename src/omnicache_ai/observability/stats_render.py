"""What ``omnicache stats`` prints: a table for people, ``--json`` for machines.

The figures are the shared stats in the manager's backend (every process that ran a
:class:`~omnicache_ai.observability.shared_stats.SharedStats`), plus this process's own
counters when it does not flush them itself, plus live backend gauges (entries, bytes).
Reading never raises for a backend outage: the report says what it could not read.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from omnicache_ai.observability._view import StatsView, local_view, storage_figures
from omnicache_ai.observability.shared_stats import attached, read_shared

if TYPE_CHECKING:
    from omnicache_ai.core.cache_manager import CacheManager

__all__ = ["collect_stats", "render_stats"]

_COLUMNS = ("hits", "misses", "hit rate", "sets", "errors", "tokens saved", "saved (USD)")


def collect_stats(manager: CacheManager) -> dict[str, Any]:
    """Every figure ``omnicache stats`` shows, as one JSON-ready dict.

    The keys of :meth:`CacheMetrics.snapshot` come first (``hits``, ``misses``,
    ``evictions``, ``sets``, ``hit_rate``, ``miss_rate`` ...), summed over processes; then
    ``source`` (backend, namespace, tenant, processes, age of the newest flush), ``storage``
    (entries and bytes per backend, where known), ``errors_by_operation`` and ``notes``.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> m = CacheManager(); m.set("k", "v"); _ = m.get("k")
        >>> collect_stats(m)["hits"]
        1
    """
    notes: list[str] = []
    shared = attached(manager.metrics)
    flushed = False
    try:
        if shared is not None:
            flushed = shared.flush()
            if not flushed:
                notes.append("this process's latest counters could not be written")
        view = read_shared(manager)
    except Exception as err:  # noqa: BLE001 - report the outage, do not crash the command
        notes.append(f"shared stats unreadable: {type(err).__name__}: {err}")
        view = StatsView(processes=0)
    if not flushed and (shared is None or view.processes == 0):
        local = local_view(manager.metrics, gauges=False)
        if not local.is_empty():
            view = view + local
    if view.processes == 0:
        notes.append(
            "no process has written shared stats to this backend and namespace yet: run "
            "SharedStats(manager) in the application (docs/observability.md)"
        )
    if manager.tenant:
        view = view.for_tenant(manager.tenant)
    report = view.summary()
    report["source"] = {
        "backend": manager.backend_name,
        "namespace": manager.key_builder.namespace,
        "tenant": manager.tenant or None,
        "processes": view.processes,
        "last_flush_age_s": round(time.time() - view.updated, 1) if view.updated else None,
    }
    report["storage"] = storage_figures(manager.metrics.gauges())
    report["errors_by_operation"] = {
        f"{backend}.{op}": n for (backend, op), n in sorted(view.errors().items())
    }
    report["notes"] = notes
    return report


def render_stats(manager: CacheManager, as_json: bool = False) -> str:
    """The text of ``omnicache stats`` (``as_json``: ``omnicache stats --json``).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> m = CacheManager(); _ = m.get("k", layer="response")
        >>> "response" in render_stats(m)
        True
    """
    report = collect_stats(manager)
    if as_json:
        return json.dumps(_json_safe(report), indent=2, allow_nan=False, default=str)
    return _table(report)


def _json_safe(value: Any) -> Any:
    # A p99 beyond the last bucket is +inf, which strict JSON cannot carry; Prometheus
    # spells that bucket "+Inf", so do the same.
    if isinstance(value, float) and math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _table(r: dict[str, Any]) -> str:
    src = r["source"]
    head = f"omnicache stats: {src['backend']}, namespace {src['namespace']!r}"
    if src["tenant"]:
        head += f", tenant {src['tenant']!r}"
    procs = src["processes"]
    head += f", {procs} process{'es' if procs != 1 else ''}"
    if src["last_flush_age_s"] is not None:
        head += f", last flush {_age(src['last_flush_age_s'])} ago"
    lines = [head, ""]
    lines += _grid("layer", r["layers"], r)
    if r["tenants"] and not src["tenant"]:
        lines += ["", *_grid("tenant", r["tenants"], None)]
    lines.append("")
    facts = [
        ("hit latency", f"p50 <= {_seconds(r['hit_latency_p50_s'])}, "
                        f"p99 <= {_seconds(r['hit_latency_p99_s'])}"),
        ("coalesced", f"{r['coalesced']:,} callers served by another caller's computation"),
        ("evictions", f"{r['evictions']:,}   invalidations {r['invalidations']:,}"),
        ("tokens saved", f"{r['tokens_saved_input']:,} input + "
                         f"{r['tokens_saved_output']:,} output"),
        ("provider cache", f"{r['provider_cache_read_tokens']:,} tokens read, "
                           f"{r['provider_cache_write_tokens']:,} written, "
                           f"saved ${_usd(r['provider_cost_saved_usd'])}"),
    ]  # fmt: skip
    for backend, fig in r["storage"].items():
        parts = []
        if "entries" in fig:
            parts.append(f"{int(fig['entries']):,} entries")
        if "bytes" in fig:
            parts.append(_bytes(fig["bytes"]))
        facts.append(("storage", f"{backend}: {', '.join(parts)}"))
    for where, n in r["errors_by_operation"].items():
        facts.append(("errors", f"{where}: {n:,}"))
    for note in r["notes"]:
        facts.append(("note", note))
    width = max(len(name) for name, _ in facts)
    lines += [f"{name:<{width}}  {text}" for name, text in facts]
    return "\n".join(lines)


def _grid(title: str, groups: dict[str, dict[str, Any]], total: dict[str, Any] | None) -> list[str]:
    rows = [(name or "(none)", _cells(g)) for name, g in sorted(groups.items())]
    if not rows:
        rows = [("(no lookups yet)", [""] * len(_COLUMNS))]
    elif total is not None:
        rows.append(("total", _cells(total)))
    first = max(len(title), *(len(name) for name, _ in rows))
    widths = [max(len(col), *(len(c[i]) for _, c in rows)) for i, col in enumerate(_COLUMNS)]

    def line(name: str, cells: Iterable[str]) -> str:
        padded = (c.rjust(w) for c, w in zip(cells, widths, strict=True))
        return "  ".join([name.ljust(first), *padded])

    out = [line(title, _COLUMNS)]
    for name, cells in rows:
        if name == "total":
            out.append("-" * len(out[0]))
        out.append(line(name, cells))
    return out


def _cells(g: dict[str, Any]) -> list[str]:
    tokens = g.get("tokens_saved", g["tokens_saved_input"] + g["tokens_saved_output"])
    cost = g.get("cost_saved_usd", g.get("cost_saved", 0.0))
    return [
        f"{g['hits']:,}",
        f"{g['misses']:,}",
        f"{100 * g['hit_rate']:.1f}%",
        f"{g['sets']:,}",
        f"{g['errors']:,}",
        f"{tokens:,}",
        _usd(cost),
    ]


def _usd(amount: float) -> str:
    # Embedding savings are fractions of a cent: keep them visible instead of "0.0000".
    return f"{amount:,.4f}" if amount >= 0.01 or amount == 0 else f"{amount:.6f}"


def _seconds(s: float) -> str:
    if s == 0:
        return "0"
    if math.isinf(s):
        return "inf"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:g}{unit}"
    return f"{s / 1e-9:g}ns"


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover - the loop returns at GB


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}min"
    return f"{seconds / 3600:.1f}h"
