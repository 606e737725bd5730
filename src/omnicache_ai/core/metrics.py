"""Thread-safe cache metrics: counters and latency histograms per layer, tenant and backend.

Every :class:`~omnicache_ai.CacheManager` owns a :class:`CacheMetrics` (several managers may
share one). Counters are kept per ``(layer, tenant, backend)`` series so the exporters
(Prometheus, OpenTelemetry) can label them, and :meth:`CacheMetrics.snapshot` folds them into
the flat dictionary the README shows, with per-layer and per-tenant breakdowns beside it.

Latency histograms use fixed bucket bounds (seconds) chosen for caches: from a microsecond
(an in-memory hit) to ten seconds (a cold LLM call measured by a layer).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from threading import get_ident
from typing import Any

__all__ = ["DEFAULT_BUCKETS", "CacheEvent", "CacheMetrics", "Histogram", "SeriesStats"]

DEFAULT_BUCKETS: tuple[float, ...] = (
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
    1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


@dataclass(frozen=True)
class CacheEvent:
    """One cache event, as delivered to :meth:`CacheMetrics.subscribe` listeners.

    Attributes:
        kind: ``"hit"``, ``"miss"``, ``"set"``, ``"delete"``, ``"error"``, ``"invalidate"``
            or ``"eviction"``.
        key: The caller's key (without tenant scope), or the tag for ``"invalidate"``.
        layer: Layer that made the call (``"default"`` for direct manager use).
        tenant: Tenant id, or ``""``.
        detail: Extra facts (error text, similarity of a semantic hit ...).
    """

    kind: str
    key: str
    layer: str
    tenant: str
    detail: dict[str, Any] | None = None


class Histogram:
    """Cumulative-friendly latency histogram: counts per upper bound, plus sum and count."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # last slot is +Inf
        self.sum = 0.0

    @property
    def count(self) -> int:
        """Number of observations."""
        return sum(self.counts)

    def cumulative(self) -> list[tuple[float, int]]:
        """``(upper_bound, observations <= bound)`` pairs, ending with ``(inf, count)``."""
        out, running = [], 0
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out

    def quantile(self, q: float) -> float:
        """Upper bound of the bucket holding quantile ``q`` (0 when empty)."""
        total = self.count
        if total == 0:
            return 0.0
        rank, running = q * total, 0
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += n
            if running >= rank:
                return bound
        return float("inf")  # pragma: no cover


class _Shard:
    """Hit/miss counters and latency sums written by one thread only: no lock needed."""

    __slots__ = ("hit_counts", "hit_sum", "hits", "miss_counts", "miss_sum", "misses")

    def __init__(self, nbuckets: int) -> None:
        self.hits = self.misses = 0
        self.hit_sum = self.miss_sum = 0.0
        self.hit_counts = [0] * nbuckets
        self.miss_counts = [0] * nbuckets


class SeriesStats:
    """Counters of one ``(layer, tenant, backend)`` series.

    Hits, misses and lookup latencies (the hot path) are kept in per-thread shards, so
    recording them takes no lock and loses no increment; everything else is updated under
    the metrics lock.
    """

    __slots__ = (
        "_bounds", "_shards", "backend", "coalesced", "cost_saved", "deletes", "errors", "layer",
        "provider_cache_read_tokens", "provider_cache_write_tokens", "provider_cost_saved",
        "sets", "tenant", "tokens_saved_input", "tokens_saved_output",
    )  # fmt: skip

    def __init__(self, layer: str, tenant: str, backend: str, bounds: Sequence[float]) -> None:
        self.layer, self.tenant, self.backend = layer, tenant, backend
        self._bounds = tuple(bounds)
        self._shards: dict[int, _Shard] = {}
        self.sets = self.deletes = self.errors = self.coalesced = 0
        self.tokens_saved_input = self.tokens_saved_output = 0
        self.provider_cache_read_tokens = self.provider_cache_write_tokens = 0
        self.cost_saved = self.provider_cost_saved = 0.0

    def shard(self) -> _Shard:
        """This thread's shard (created on first use)."""
        ident = get_ident()
        sh = self._shards.get(ident)
        if sh is None:
            sh = self._shards.setdefault(ident, _Shard(len(self._bounds) + 1))
        return sh

    def _shard_list(self) -> list[_Shard]:
        return list(self._shards.values())

    @property
    def hits(self) -> int:
        """Hits so far."""
        return sum(sh.hits for sh in self._shard_list())

    @property
    def misses(self) -> int:
        """Misses so far."""
        return sum(sh.misses for sh in self._shard_list())

    def _histogram(self, hit: bool) -> Histogram:
        h = Histogram(self._bounds)
        for sh in self._shard_list():
            counts = sh.hit_counts if hit else sh.miss_counts
            for i, n in enumerate(counts):
                h.counts[i] += n
            h.sum += sh.hit_sum if hit else sh.miss_sum
        return h

    @property
    def hit_latency(self) -> Histogram:
        """Lookup latency of hits (a merged copy)."""
        return self._histogram(True)

    @property
    def miss_latency(self) -> Histogram:
        """Lookup latency of misses (a merged copy)."""
        return self._histogram(False)


_COUNTERS = (
    "hits", "misses", "sets", "deletes", "errors", "coalesced", "tokens_saved_input",
    "tokens_saved_output", "cost_saved", "provider_cache_read_tokens",
    "provider_cache_write_tokens", "provider_cost_saved",
)  # fmt: skip


def _rates(hits: int, misses: int) -> tuple[float, float]:
    total = hits + misses
    if total == 0:
        return 0.0, 0.0
    return hits / total, misses / total


class CacheMetrics:
    """Hit/miss/set/error/eviction counters, latency histograms and savings.

    Args:
        buckets: Latency histogram upper bounds in seconds.

    Example:
        >>> m = CacheMetrics()
        >>> s = m.series("response")
        >>> m.record_hit(s, 2e-6); m.record_miss(s, 1e-5)
        >>> m.snapshot()["hit_rate"]
        0.5
    """

    def __init__(self, buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        self.buckets = tuple(buckets)
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str, str], SeriesStats] = {}
        self._evictions: dict[str, int] = {}
        self._backend_errors: dict[tuple[str, str], int] = {}
        self._invalidations = 0
        self._listeners: list[Callable[[CacheEvent], None]] = []
        self._gauges: dict[str, Callable[[], dict[str, Any]]] = {}
        #: True while someone listens: the manager checks it before building events.
        self.has_listeners = False

    # ---- series ----------------------------------------------------------------------
    def series(self, layer: str = "default", tenant: str = "", backend: str = "") -> SeriesStats:
        """The stats object for one series (created on first use); cache it, it is stable."""
        key = (layer, tenant, backend)
        st = self._series.get(key)
        if st is None:
            with self._lock:
                st = self._series.setdefault(key, SeriesStats(layer, tenant, backend, self.buckets))
        return st

    def iter_series(self) -> Iterator[SeriesStats]:
        """Every series seen so far (for exporters)."""
        with self._lock:
            items = list(self._series.values())
        yield from items

    # ---- recording (hot path: one lock, a few increments) ----------------------------
    def record_hit(self, st: SeriesStats, seconds: float) -> None:
        """Count a hit and its lookup latency (lock-free: a per-thread shard)."""
        sh = st._shards.get(get_ident()) or st.shard()
        sh.hits += 1
        sh.hit_counts[bisect_left(self.buckets, seconds)] += 1
        sh.hit_sum += seconds

    def record_miss(self, st: SeriesStats, seconds: float) -> None:
        """Count a miss and its lookup latency (lock-free: a per-thread shard)."""
        sh = st._shards.get(get_ident()) or st.shard()
        sh.misses += 1
        sh.miss_counts[bisect_left(self.buckets, seconds)] += 1
        sh.miss_sum += seconds

    def record_set(self, st: SeriesStats, n: int = 1) -> None:
        """Count stored entries."""
        with self._lock:
            st.sets += n

    def record_delete(self, st: SeriesStats, n: int = 1) -> None:
        """Count deleted entries."""
        with self._lock:
            st.deletes += n

    def record_coalesced(self, st: SeriesStats) -> None:
        """Count a caller served by another caller's in-flight computation."""
        with self._lock:
            st.coalesced += 1

    def record_error(self, st: SeriesStats, op: str) -> None:
        """Count a backend error (the caller saw a miss instead)."""
        with self._lock:
            st.errors += 1
            key = (st.backend, op)
            self._backend_errors[key] = self._backend_errors.get(key, 0) + 1

    def record_eviction(self, backend: str = "", n: int = 1) -> None:
        """Count entries a backend evicted to stay within its bounds."""
        with self._lock:
            self._evictions[backend] = self._evictions.get(backend, 0) + n

    def record_invalidation(self) -> None:
        """Count a tag invalidation."""
        with self._lock:
            self._invalidations += 1

    def record_savings(
        self,
        st: SeriesStats,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost: float = 0.0,
    ) -> None:
        """Add what a hit saved: the tokens the upstream call would have used, and money."""
        with self._lock:
            st.tokens_saved_input += input_tokens
            st.tokens_saved_output += output_tokens
            st.cost_saved += cost

    def record_provider_cache(
        self, st: SeriesStats, *, read_tokens: int = 0, write_tokens: int = 0, cost: float = 0.0
    ) -> None:
        """Add provider prompt-cache usage (OpenAI cached tokens, Anthropic cache reads)."""
        with self._lock:
            st.provider_cache_read_tokens += read_tokens
            st.provider_cache_write_tokens += write_tokens
            st.provider_cost_saved += cost

    # ---- listeners and gauges ---------------------------------------------------------
    def subscribe(self, listener: Callable[[CacheEvent], None]) -> Callable[[], None]:
        """Call ``listener`` for every event; returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)
            self.has_listeners = True

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
                self.has_listeners = bool(self._listeners)

        return unsubscribe

    def emit(self, event: CacheEvent) -> None:
        """Deliver ``event`` to listeners (a failing listener is ignored)."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001, S112 - a listener must never break a cache call
                continue

    def register_gauge(self, name: str, read: Callable[[], dict[str, Any]]) -> None:
        """Register a live reading (e.g. a backend's entries and bytes) for exporters."""
        with self._lock:
            self._gauges[name] = read

    def gauges(self) -> dict[str, dict[str, Any]]:
        """Current values of registered gauges (failing readers are skipped)."""
        out: dict[str, dict[str, Any]] = {}
        for name, read in list(self._gauges.items()):
            try:
                out[name] = dict(read())
            except Exception:  # noqa: BLE001, S112 - a dead backend must not break stats
                continue
        return out

    # ---- reading ---------------------------------------------------------------------
    def evictions(self) -> dict[str, int]:
        """Evictions per backend."""
        with self._lock:
            return dict(self._evictions)

    def backend_errors(self) -> dict[tuple[str, str], int]:
        """Errors per ``(backend, operation)``."""
        with self._lock:
            return dict(self._backend_errors)

    def snapshot(self) -> dict[str, Any]:
        """A plain-dict summary.

        The first keys are the README's (``hits``, ``misses``, ``evictions``, ``sets``,
        ``hit_rate``, ``miss_rate``); then errors, savings and per-layer / per-tenant
        breakdowns.
        """
        with self._lock:
            series = list(self._series.values())
            totals = dict.fromkeys(_COUNTERS, 0)
            layers: dict[str, dict[str, Any]] = {}
            tenants: dict[str, dict[str, Any]] = {}
            for st in series:
                for name in _COUNTERS:
                    v = getattr(st, name)
                    totals[name] += v
                    for group, label in ((layers, st.layer), (tenants, st.tenant)):
                        if group is tenants and not label:
                            continue
                        g = group.setdefault(label, dict.fromkeys(_COUNTERS, 0))
                        g[name] += v
            evictions = sum(self._evictions.values())
            invalidations = self._invalidations
            hit_lat = Histogram(self.buckets)
            for st in series:
                h = st.hit_latency
                for i, n in enumerate(h.counts):
                    hit_lat.counts[i] += n
                hit_lat.sum += h.sum
        hit_rate, miss_rate = _rates(int(totals["hits"]), int(totals["misses"]))
        for group in (layers, tenants):
            for g in group.values():
                g["hit_rate"], g["miss_rate"] = _rates(g["hits"], g["misses"])
        return {
            "hits": totals["hits"],
            "misses": totals["misses"],
            "evictions": evictions,
            "sets": totals["sets"],
            "hit_rate": hit_rate,
            "miss_rate": miss_rate,
            "deletes": totals["deletes"],
            "errors": totals["errors"],
            "coalesced": totals["coalesced"],
            "invalidations": invalidations,
            "tokens_saved": totals["tokens_saved_input"] + totals["tokens_saved_output"],
            "cost_saved_usd": round(float(totals["cost_saved"]), 6),
            "provider_cache_read_tokens": totals["provider_cache_read_tokens"],
            "provider_cost_saved_usd": round(float(totals["provider_cost_saved"]), 6),
            "hit_latency_p50_s": hit_lat.quantile(0.5),
            "hit_latency_p99_s": hit_lat.quantile(0.99),
            "layers": layers,
            "tenants": tenants,
        }

    def reset(self) -> None:
        """Forget every counter (listeners and gauges stay)."""
        with self._lock:
            # Zero in place: managers hold references to their series objects.
            for st in self._series.values():
                st.__init__(st.layer, st.tenant, st.backend, self.buckets)  # type: ignore[misc]
                # Shards are per thread and lock-free; dropping them is the only safe reset.
            self._evictions.clear()
            self._backend_errors.clear()
            self._invalidations = 0
