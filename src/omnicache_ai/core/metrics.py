"""Thread-safe cache metrics: counters and latency histograms per layer, tenant and backend.

Every :class:`~omnicache_ai.CacheManager` owns a :class:`CacheMetrics` (several managers may
share one). Counters are kept per ``(layer, tenant, backend)`` series so the exporters
(Prometheus, OpenTelemetry) can label them, and :meth:`CacheMetrics.snapshot` folds them into
the flat dictionary the README shows, with per-layer and per-tenant breakdowns beside it.

Latency histograms use fixed bucket bounds (seconds) chosen for caches: from a microsecond
(an in-memory hit) to ten seconds (a cold LLM call measured by a layer).

The hit and miss path is the hottest code in the package (an exact in-memory hit costs about
a microsecond and a half in total), so recording one is a single atomic ``list.append`` of
its latency: no lock, no bucket search, no lost update. A daemon thread (one per process,
``omnicache-metrics``) folds the appended latencies into the histogram counts ten times a
second, and every read folds first, so what a reader sees is exact. Hooks for tracing are
installed by swapping the recording methods on the instance, so they cost nothing while
nobody traces. ``CacheMetrics(enabled=False)`` records nothing at all.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
import weakref
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_BUCKETS",
    "SERIES_COUNTERS",
    "CacheEvent",
    "CacheMetrics",
    "Histogram",
    "LookupHook",
    "SeriesStats",
    "current_lookup_detail",
    "lookup_detail",
]

# Facts a layer knows about the lookup it is about to make through the manager (the
# similarity of a semantic candidate): the manager attaches them to that lookup's event.
# A context variable, so threads and asyncio tasks never see each other's facts.
_LOOKUP_DETAIL: ContextVar[dict[str, Any] | None] = ContextVar("omnicache_lookup_detail",
                                                               default=None)  # fmt: skip


@contextlib.contextmanager
def lookup_detail(facts: Mapping[str, Any]) -> Iterator[None]:
    """Attach ``facts`` to the hit/miss event of every manager lookup made inside the block.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> from omnicache_ai.testing import capture_cache_events
        >>> m = CacheManager(); m.set("k", "v")
        >>> with capture_cache_events(m) as seen, lookup_detail({"similarity": 0.9}):
        ...     _ = m.get("k")
        >>> seen.events[0].detail
        {'similarity': 0.9}
    """
    token = _LOOKUP_DETAIL.set(dict(facts))
    try:
        yield
    finally:
        _LOOKUP_DETAIL.reset(token)


def current_lookup_detail() -> dict[str, Any] | None:
    """The facts :func:`lookup_detail` set for the current thread or task, if any."""
    return _LOOKUP_DETAIL.get()


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


class SeriesStats:
    """Counters of one ``(layer, tenant, backend)`` series.

    Recording a hit or a miss (the hot path) is one ``list.append`` of its latency: atomic
    under the GIL, and per-object locked on free-threaded builds, so it needs no lock and
    loses nothing. Appended latencies are *folded* into the histogram counts by a
    background thread a few times a second and before every read, so readers always see
    every lookup. Everything else is updated under the metrics lock.
    """

    __slots__ = (
        "_bounds", "_fold_lock", "_hit_counts", "_hit_pending", "_hit_sum", "_miss_counts",
        "_miss_pending", "_miss_sum", "backend", "coalesced", "cost_saved", "deletes", "errors",
        "layer", "provider_cache_read_tokens", "provider_cache_write_tokens",
        "provider_cost_saved", "sets", "tenant", "tokens_saved_input", "tokens_saved_output",
    )  # fmt: skip

    def __init__(self, layer: str, tenant: str, backend: str, bounds: Sequence[float]) -> None:
        self.layer, self.tenant, self.backend = layer, tenant, backend
        self._bounds = tuple(bounds)
        self._fold_lock = threading.Lock()
        self._hit_pending: list[float] = []
        self._miss_pending: list[float] = []
        self._hit_counts = [0] * (len(self._bounds) + 1)
        self._miss_counts = [0] * (len(self._bounds) + 1)
        self._hit_sum = self._miss_sum = 0.0
        self.sets = self.deletes = self.errors = self.coalesced = 0
        self.tokens_saved_input = self.tokens_saved_output = 0
        self.provider_cache_read_tokens = self.provider_cache_write_tokens = 0
        self.cost_saved = self.provider_cost_saved = 0.0

    def fold(self) -> None:
        """Move appended latencies into the histogram counts (safe from any thread)."""
        with self._fold_lock:
            self._fold(self._hit_pending, self._hit_counts, hit=True)
            self._fold(self._miss_pending, self._miss_counts, hit=False)

    def _fold(self, pending: list[float], counts: list[int], *, hit: bool) -> None:
        n = len(pending)
        if not n:
            return
        # Writers only ever append at the end, so the first n items are stable: copy them,
        # count them, then delete exactly them. Readers hold _fold_lock, so they never see
        # the counts updated while the items are still pending.
        chunk = pending[:n]
        total = _bucketize(chunk, self._bounds, counts)
        if hit:
            self._hit_sum += total
        else:
            self._miss_sum += total
        del pending[:n]

    def _histogram(self, hit: bool) -> Histogram:
        h = Histogram(self._bounds)
        with self._fold_lock:
            if hit:
                self._fold(self._hit_pending, self._hit_counts, hit=True)
                h.counts, h.sum = list(self._hit_counts), self._hit_sum
            else:
                self._fold(self._miss_pending, self._miss_counts, hit=False)
                h.counts, h.sum = list(self._miss_counts), self._miss_sum
        return h

    @property
    def hits(self) -> int:
        """Hits so far."""
        return self._histogram(True).count

    @property
    def misses(self) -> int:
        """Misses so far."""
        return self._histogram(False).count

    @property
    def hit_latency(self) -> Histogram:
        """Lookup latency of hits (a copy)."""
        return self._histogram(True)

    @property
    def miss_latency(self) -> Histogram:
        """Lookup latency of misses (a copy)."""
        return self._histogram(False)

    def pending(self) -> int:
        """Lookups recorded but not folded yet (bounded by the background folder)."""
        return len(self._hit_pending) + len(self._miss_pending)


#: A tracing hook: ``hook(series, hit, seconds)`` after every counted lookup.
LookupHook = Callable[[SeriesStats, bool, float], None]

#: The counters every series keeps, in the order exporters list them.
SERIES_COUNTERS: tuple[str, ...] = (
    "hits", "misses", "sets", "deletes", "errors", "coalesced", "tokens_saved_input",
    "tokens_saved_output", "cost_saved", "provider_cache_read_tokens",
    "provider_cache_write_tokens", "provider_cost_saved",
)  # fmt: skip
_COUNTERS = SERIES_COUNTERS


def _ignore(*_args: Any, **_kwargs: Any) -> None:
    """The recorder of a disabled :class:`CacheMetrics`."""


def _ignore_lookup(_st: SeriesStats, _seconds: float) -> None:
    """``record_hit``/``record_miss`` of a disabled :class:`CacheMetrics` (exact arity: the
    cheapest possible call, so the benchmark's baseline is not inflated)."""


# ---- the background folder -------------------------------------------------------------
# Seconds between folds: at a million lookups a second (more than one Python thread can
# make) the pending lists hold at most ~100k floats, about 3 MB.
_FOLD_INTERVAL = 0.1
# Pending lookups at which a miss folds inline, should the folder thread be gone.
_FOLD_BACKSTOP = 1 << 20
_live: weakref.WeakSet[CacheMetrics] = weakref.WeakSet()
_folder_lock = threading.Lock()
_folder_pid: int | None = None


def _fold_forever() -> None:
    try:
        while True:
            time.sleep(_FOLD_INTERVAL)
            for metrics in list(_live):
                metrics.fold()
    except Exception:  # noqa: BLE001 - interpreter shutdown tears modules down under us
        return  # readers still fold, and record_miss's backstop bounds memory


def _ensure_folder() -> None:
    global _folder_pid
    pid = os.getpid()
    if _folder_pid == pid:
        return
    with _folder_lock:
        if _folder_pid != pid:
            threading.Thread(target=_fold_forever, name="omnicache-metrics", daemon=True).start()
            _folder_pid = pid


def _after_fork_in_child() -> None:
    global _folder_lock
    # Threads do not survive a fork, and the parent's lock may have been held.
    _folder_lock = threading.Lock()
    if len(_live):
        _ensure_folder()


os.register_at_fork(after_in_child=_after_fork_in_child)


_SMALL_CHUNK = 64  # below this, numpy's fixed cost exceeds a Python loop's


def _bucketize(values: list[float], bounds: tuple[float, ...], counts: list[int]) -> float:
    """Add ``values`` to the non-cumulative ``counts`` ("le" buckets); return their sum."""
    if len(values) < _SMALL_CHUNK:
        for v in values:
            counts[bisect_left(bounds, v)] += 1  # first bound >= v: v <= bound
        return math.fsum(values)
    # numpy (a core dependency, imported on first use so `import omnicache_ai` stays light)
    # buckets a whole chunk in ~30 ns per value, a fifth of a sort-and-scan in Python.
    import numpy as np

    arr = np.asarray(values, dtype=np.float64)
    per_bucket = np.bincount(
        np.searchsorted(np.asarray(bounds), arr, side="left"), minlength=len(bounds) + 1
    )
    for i, c in enumerate(per_bucket.tolist()):
        counts[i] += c
    return float(arr.sum())


def _rates(hits: int, misses: int) -> tuple[float, float]:
    total = hits + misses
    if total == 0:
        return 0.0, 0.0
    return hits / total, misses / total


class CacheMetrics:
    """Hit/miss/set/error/eviction counters, latency histograms and savings.

    Args:
        buckets: Latency histogram upper bounds in seconds.
        enabled: ``False`` turns every ``record_*`` method into a no-op (listeners still
            work): the baseline of the metrics-overhead benchmark, or for a user who wants
            no accounting at all.

    Example:
        >>> m = CacheMetrics()
        >>> s = m.series("response")
        >>> m.record_hit(s, 2e-6); m.record_miss(s, 1e-5)
        >>> m.snapshot()["hit_rate"]
        0.5
        >>> CacheMetrics(enabled=False).enabled
        False
    """

    _RECORDERS = (
        "record_hit", "record_miss", "record_set", "record_delete", "record_coalesced",
        "record_error", "record_eviction", "record_invalidation", "record_savings",
        "record_provider_cache",
    )  # fmt: skip

    def __init__(self, buckets: Sequence[float] = DEFAULT_BUCKETS, *, enabled: bool = True) -> None:
        self.buckets = tuple(buckets)
        self.enabled = enabled
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str, str], SeriesStats] = {}
        self._evictions: dict[str, int] = {}
        self._backend_errors: dict[tuple[str, str], int] = {}
        self._invalidations = 0
        self._listeners: list[Callable[[CacheEvent], None]] = []
        self._gauges: dict[str, Callable[[], dict[str, Any]]] = {}
        self._lookup_hooks: list[LookupHook] = []
        #: True while someone listens: the manager checks it before building events.
        self.has_listeners = False
        #: True while a hit may be counted by appending its latency to the series directly
        #: (enabled, no lookup hook, no listener): the manager's in-memory fast path
        #: checks this one flag instead of three.
        self.bare_lookups = enabled
        if not enabled:
            # Instance attributes shadow the methods: callers pay one empty call.
            for name in self._RECORDERS:
                setattr(self, name, _ignore)
            setattr(self, "record_hit", _ignore_lookup)  # noqa: B010 - shadow the method
            setattr(self, "record_miss", _ignore_lookup)  # noqa: B010
        else:
            _live.add(self)
            _ensure_folder()

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

    def fold(self) -> None:
        """Fold every series' appended latencies into its histograms (readers do this)."""
        for st in self.iter_series():
            st.fold()

    # ---- recording (hot path: no lock, a few increments) -----------------------------
    def record_hit(self, st: SeriesStats, seconds: float) -> None:
        """Count a hit and its lookup latency (lock-free: one atomic append)."""
        st._hit_pending.append(seconds)

    def record_miss(self, st: SeriesStats, seconds: float) -> None:
        """Count a miss and its lookup latency (lock-free: one atomic append)."""
        st._miss_pending.append(seconds)
        # Misses are off the hit budget and precede real work: a cheap backstop that
        # bounds the pending lists even if the background folder could not run.
        if len(st._miss_pending) + len(st._hit_pending) > _FOLD_BACKSTOP:
            st.fold()

    def add_lookup_hook(self, hook: LookupHook) -> Callable[[], None]:
        """Call ``hook(series, hit, seconds)`` after every counted hit or miss.

        Tracing uses this to learn each lookup's duration. While no hook is installed the
        recording methods are the plain ones, so hooks cost nothing until used. A hook that
        raises is ignored. Returns a function that removes the hook.

        Example:
            >>> m = CacheMetrics(); seen = []
            >>> remove = m.add_lookup_hook(lambda st, hit, s: seen.append((st.layer, hit)))
            >>> m.record_hit(m.series("response"), 1e-6); remove(); seen
            [('response', True)]
        """
        with self._lock:
            self._lookup_hooks.append(hook)
            self._install_hooks()

        def remove() -> None:
            with self._lock:
                if hook in self._lookup_hooks:
                    self._lookup_hooks.remove(hook)
                self._install_hooks()

        return remove

    def _install_hooks(self) -> None:
        self._update_bare()
        if not self.enabled:
            return
        hooks = tuple(self._lookup_hooks)
        if not hooks:
            self.__dict__.pop("record_hit", None)
            self.__dict__.pop("record_miss", None)
            return
        cls = type(self)
        plain_hit = cls.record_hit.__get__(self, cls)
        plain_miss = cls.record_miss.__get__(self, cls)

        def call_hooks(st: SeriesStats, hit: bool, seconds: float) -> None:
            for hook in hooks:
                try:
                    hook(st, hit, seconds)
                except Exception:  # noqa: BLE001, S112 - tracing must never break a cache call
                    continue

        def record_hit(st: SeriesStats, seconds: float) -> None:
            plain_hit(st, seconds)
            call_hooks(st, True, seconds)

        def record_miss(st: SeriesStats, seconds: float) -> None:
            plain_miss(st, seconds)
            call_hooks(st, False, seconds)

        self.__dict__["record_hit"] = record_hit
        self.__dict__["record_miss"] = record_miss

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
            self._update_bare()

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
                self.has_listeners = bool(self._listeners)
                self._update_bare()

        return unsubscribe

    def _update_bare(self) -> None:
        self.bare_lookups = self.enabled and not self._lookup_hooks and not self._listeners

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

    def invalidations(self) -> int:
        """Tag invalidations so far."""
        return self._invalidations

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
                # Shards are per thread and lock-free; dropping them is the only safe reset.
                st.__init__(st.layer, st.tenant, st.backend, self.buckets)  # type: ignore[misc]
            self._evictions.clear()
            self._backend_errors.clear()
            self._invalidations = 0
