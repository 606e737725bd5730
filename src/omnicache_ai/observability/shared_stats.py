"""Statistics that several processes add up, persisted in the cache's own backend.

Counters live in each process's memory (:class:`~omnicache_ai.CacheMetrics`). To see the
totals of a gunicorn pool, of a fleet of workers or of yesterday's runs, every process that
runs a :class:`SharedStats` writes its counters into the backend it caches in (disk or
Redis) under reserved keys, and ``omnicache stats`` (or :func:`read_shared`) adds them up.

Layout, under ``__omnicache__:stats:<namespace>:`` (reserved keys: the manager never lists,
returns or expires them)::

    slots      an integer; each process takes the next number with one atomic ``incr``
    slot:<n>   JSON of process n's counters (absolute totals, rewritten at every flush)

A process writes only its own slot, and writes absolute totals rather than increments, so a
flush that fails or runs twice never miscounts: the next one simply writes newer totals.
A reader needs one ``get`` and one ``get_many``; it never scans the key space. Slots of
finished processes keep their final totals, which is what makes the sums survive restarts.
``omnicache flush`` (a full clear of the backend) resets them too.

A process that forks (gunicorn's pre-fork model) hands its slot to the parent: the child
takes a fresh slot and reports only what happened after the fork.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import time
import weakref
from typing import TYPE_CHECKING
from urllib.parse import quote

from omnicache_ai.observability._view import StatsView, local_view

if TYPE_CHECKING:
    from omnicache_ai.core.cache_manager import CacheManager
    from omnicache_ai.core.metrics import CacheMetrics

__all__ = ["SharedStats", "attached", "read_shared", "stats_prefix"]

logger = logging.getLogger("omnicache_ai")

_PREFIX = "__omnicache__:stats:"
_LOG_EVERY = 300.0  # seconds between repeated flush-failure warnings

_attached: weakref.WeakKeyDictionary[CacheMetrics, SharedStats] = weakref.WeakKeyDictionary()
_alive: weakref.WeakSet[SharedStats] = weakref.WeakSet()
_registry_lock = threading.Lock()


def stats_prefix(manager: CacheManager) -> str:
    """The reserved key prefix of ``manager``'s namespace, e.g. ``__omnicache__:stats:app:``."""
    return f"{_PREFIX}{quote(manager.key_builder.namespace, safe='')}:"


def attached(metrics: CacheMetrics) -> SharedStats | None:
    """The running :class:`SharedStats` that flushes ``metrics``, if any."""
    with _registry_lock:
        shared = _attached.get(metrics)
    return shared if shared is not None and not shared.closed else None


def read_shared(manager: CacheManager) -> StatsView:
    """The sum of every process's flushed counters in ``manager``'s backend.

    ``processes`` of the result counts the slots found; ``updated`` is the newest flush.
    Raises whatever the backend raises (callers decide how to report an outage).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> read_shared(CacheManager()).processes
        0
    """
    ops = manager._sync
    prefix = stats_prefix(manager)
    raw_count = ops.get(prefix + "slots")
    count = int(raw_count) if raw_count is not None else 0
    total = StatsView(processes=0)
    if count <= 0:
        return total
    blobs = ops.get_many([f"{prefix}slot:{n}" for n in range(1, count + 1)])
    for n, blob in enumerate(blobs, start=1):
        if blob is None:
            continue  # a slot taken but never written (the process died first)
        try:
            total = total + StatsView.from_json(blob)
        except (ValueError, TypeError, KeyError) as err:
            logger.warning("omnicache: ignoring unreadable stats slot %d: %s", n, err)
    return total


class SharedStats:
    """Flush this process's counters into the backend so ``omnicache stats`` sees them.

    A daemon thread writes every ``flush_interval`` seconds, and once more at interpreter
    exit. Flushing never raises: a backend outage is logged (at most every five minutes)
    and the next flush writes the totals again. One instance per :class:`CacheMetrics`;
    creating a second one for the same metrics replaces the first.

    Args:
        manager: The manager whose metrics are flushed, into its backend and namespace.
        flush_interval: Seconds between flushes (``0``: only at :meth:`flush`, scrape and
            exit).
        start: Start the background thread now.

    Example:
        >>> import tempfile
        >>> from omnicache_ai import CacheManager, DiskBackend
        >>> manager = CacheManager(backend=DiskBackend(tempfile.mkdtemp()))
        >>> shared = SharedStats(manager, flush_interval=5)
        >>> manager.get("missing")
        >>> shared.flush()
        True
        >>> read_shared(manager).summary()["misses"]
        1
        >>> shared.close()
    """

    def __init__(
        self, manager: CacheManager, *, flush_interval: float = 10.0, start: bool = True
    ) -> None:
        if flush_interval < 0:
            raise ValueError("flush_interval must be >= 0")
        self.manager = manager
        self.flush_interval = flush_interval
        self.prefix = stats_prefix(manager)
        self.closed = False
        self._slot: int | None = None
        self._baseline = StatsView(processes=0)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_warning = float("-inf")  # the first failure is always logged
        self._started = time.time()
        with _registry_lock:
            previous = _attached.get(manager.metrics)
            _attached[manager.metrics] = self
            _alive.add(self)
        if previous is not None and previous is not self:
            previous.close()
        atexit.register(self._at_exit)
        if start and flush_interval > 0:
            self._start_thread()

    @property
    def slot(self) -> int | None:
        """This process's slot number (``None`` until the first flush with data)."""
        return self._slot

    def _start_thread(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name="omnicache-shared-stats", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()

    def local(self) -> StatsView:
        """What this process reports: its counters since start (or since the fork)."""
        return local_view(self.manager.metrics, gauges=False) - self._baseline

    def flush(self) -> bool:
        """Write this process's totals now; returns whether the backend took them."""
        if self.closed:
            return False
        with self._lock:
            try:
                view = self.local()
                if self._slot is None:
                    if view.is_empty():
                        return True  # nothing to report: do not take a slot
                    self._slot = int(self.manager._sync.incr(self.prefix + "slots", 1))
                view.updated = time.time()
                blob = view.to_json(
                    pid=os.getpid(), host=socket.gethostname(), started=self._started
                )
                self.manager._sync.set(f"{self.prefix}slot:{self._slot}", blob, None)
            except Exception as err:  # noqa: BLE001 - statistics must never break the app
                now = time.monotonic()
                if now - self._last_warning >= _LOG_EVERY:
                    self._last_warning = now
                    logger.warning(
                        "omnicache: could not flush shared stats to %s: %s: %s",
                        self.manager.backend_name, type(err).__name__, err,
                    )  # fmt: skip
                return False
        return True

    def read(self) -> StatsView:
        """Flush, then return the totals of every process (this one included)."""
        self.flush()
        return read_shared(self.manager)

    def close(self) -> None:
        """Stop the thread and write a last flush (idempotent)."""
        if self.closed:
            return
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.flush()
        self.closed = True
        atexit.unregister(self._at_exit)
        with _registry_lock:
            if _attached.get(self.manager.metrics) is self:
                del _attached[self.manager.metrics]

    def _at_exit(self) -> None:
        self._stop.set()
        self.flush()

    def _after_fork_in_child(self) -> None:
        # The parent keeps reporting what happened before the fork under its slot.
        self._lock = threading.Lock()
        self._slot = None
        self._started = time.time()
        self._baseline = local_view(self.manager.metrics, gauges=False)
        self._baseline.processes = 0
        if self._thread is not None and not self.closed:
            self._start_thread()

    def __enter__(self) -> SharedStats:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"every {self.flush_interval:g}s"
        return f"SharedStats({self.manager.backend_name}, slot={self._slot}, {state})"


def _reinit_after_fork() -> None:
    global _registry_lock
    _registry_lock = threading.Lock()  # another thread may have held it at the fork
    for shared in list(_alive):
        if not shared.closed:
            shared._after_fork_in_child()


os.register_at_fork(after_in_child=_reinit_after_fork)
