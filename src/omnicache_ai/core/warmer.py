"""CacheWarmer: pre-populate a cache in bulk before traffic arrives.

Sources: any iterable of ``(key, value)`` pairs or a mapping, a CSV file, a JSONL file, or
a list of queries plus a function that computes each answer (only the queries not cached
yet are computed). Writes go out in batches through ``set_many`` so a remote backend sees
one round trip per batch. A progress bar is drawn on stderr when it is a terminal.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from omnicache_ai.core.cache_manager import CacheManager

__all__ = ["CacheWarmer", "WarmReport"]

Q = TypeVar("Q")


@dataclass
class WarmReport:
    """What a warm-up did.

    Attributes:
        written: Entries stored.
        skipped: Entries already cached (``compute`` mode) or rows without a key.
        failed: Entries whose value could not be computed or serialized.
    """

    written: int = 0
    skipped: int = 0
    failed: int = 0


class _Progress:
    def __init__(self, total: int | None, enabled: bool, stream: IO[str]) -> None:
        self.total, self.enabled, self.stream, self.done = total, enabled, stream, 0

    def advance(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self.total:
            width = 30
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\rwarming [{bar}] {self.done}/{self.total}")
        else:
            self.stream.write(f"\rwarming {self.done} entries")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class CacheWarmer:
    """Bulk loader for a :class:`CacheManager`.

    Args:
        manager: Where entries go (a tenant view works too).
        layer: Layer label for metrics and TTL policy.
        batch_size: Entries per ``set_many`` call.
        progress: Draw a progress bar (default: when stderr is a terminal).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> m = CacheManager()
        >>> CacheWarmer(m, progress=False).warm({"faq:hours": "9-5", "faq:phone": "555"}).written
        2
    """

    def __init__(
        self,
        manager: CacheManager,
        *,
        layer: str = "default",
        batch_size: int = 500,
        progress: bool | None = None,
        stream: IO[str] | None = None,
    ) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.manager = manager
        self.layer = layer
        self.batch_size = batch_size
        self._stream = stream or sys.stderr
        self._progress = self._stream.isatty() if progress is None else progress

    def warm(
        self,
        items: Mapping[str, Any] | Iterable[tuple[str, Any]],
        ttl: float | None = None,
        *,
        total: int | None = None,
    ) -> WarmReport:
        """Store every ``(key, value)`` pair; returns counts."""
        pairs: Iterable[tuple[str, Any]] = items.items() if isinstance(items, Mapping) else items
        if total is None and hasattr(pairs, "__len__"):
            total = len(pairs)  # type: ignore[arg-type]
        report = WarmReport()
        bar = _Progress(total, self._progress, self._stream)
        it = iter(pairs)
        try:
            while batch := list(islice(it, self.batch_size)):
                self.manager.set_many(dict(batch), ttl, layer=self.layer)
                report.written += len(batch)
                bar.advance(len(batch))
        finally:
            bar.close()
        return report

    def warm_from(
        self,
        queries: Iterable[Q],
        compute: Callable[[Q], Any],
        key: Callable[[Q], str],
        ttl: float | None = None,
    ) -> WarmReport:
        """Compute and store the answer of each query that is not cached yet.

        A query whose ``compute`` raises is counted in ``failed`` and skipped: one bad row
        does not stop a warm-up.
        """
        items = list(queries)
        report = WarmReport()
        bar = _Progress(len(items), self._progress, self._stream)
        try:
            for start in range(0, len(items), self.batch_size):
                chunk = items[start : start + self.batch_size]
                keys = [key(q) for q in chunk]
                cached = self.manager.get_many(keys, layer=self.layer)
                fresh: dict[str, Any] = {}
                for q, k in zip(chunk, keys, strict=True):
                    if k in cached:
                        report.skipped += 1
                        continue
                    try:
                        fresh[k] = compute(q)
                    except Exception:  # noqa: BLE001 - counted; the warm-up goes on
                        report.failed += 1
                if fresh:
                    self.manager.set_many(fresh, ttl, layer=self.layer)
                    report.written += len(fresh)
                bar.advance(len(chunk))
        finally:
            bar.close()
        return report

    def from_csv(
        self,
        path: str | Path,
        key_column: str = "key",
        value_column: str = "value",
        ttl: float | None = None,
    ) -> WarmReport:
        """Load ``key_column``/``value_column`` pairs from a CSV file with a header row."""
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = {key_column, value_column} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{path}: CSV has no column(s) {sorted(missing)}")
            return self.warm(self._rows(reader, key_column, value_column), ttl)

    def from_jsonl(
        self,
        path: str | Path,
        key_field: str = "key",
        value_field: str = "value",
        ttl: float | None = None,
    ) -> WarmReport:
        """Load one JSON object per line; values may be any JSON."""
        with open(path, encoding="utf-8") as fh:
            rows = (json.loads(line) for line in fh if line.strip())
            return self.warm(self._rows(rows, key_field, value_field), ttl)

    @staticmethod
    def _rows(
        rows: Iterable[Mapping[str, Any]], key_field: str, value_field: str
    ) -> Iterator[tuple[str, Any]]:
        for n, row in enumerate(rows, 1):
            if key_field not in row or value_field not in row:
                raise ValueError(f"row {n} lacks {key_field!r} or {value_field!r}: {row!r}")
            yield str(row[key_field]), row[value_field]
