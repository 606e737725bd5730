"""CacheWarmer: bulk loading from pairs, CSV, JSONL and computed queries."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from omnicache_ai import CacheManager, CacheWarmer


def test_warm_pairs_and_progress() -> None:
    """Pairs are stored in batches and the progress bar reaches the total."""
    manager = CacheManager()
    stream = io.StringIO()
    report = CacheWarmer(manager, batch_size=7, progress=True, stream=stream).warm(
        {f"k{i}": i for i in range(20)}
    )
    assert report.written == 20
    assert manager.get("k19") == 19
    assert "20/20" in stream.getvalue()


def test_from_csv_and_jsonl(tmp_path: Path) -> None:
    """CSV and JSONL files load by column/field name; a missing column is a clear error."""
    csv_path = tmp_path / "faq.csv"
    csv_path.write_text("question,answer\nhours,9-5\nphone,555\n", encoding="utf-8")
    jsonl_path = tmp_path / "faq.jsonl"
    jsonl_path.write_text(json.dumps({"key": "k", "value": {"nested": [1]}}) + "\n", "utf-8")
    manager = CacheManager()
    warmer = CacheWarmer(manager, progress=False)
    assert warmer.from_csv(csv_path, "question", "answer").written == 2
    assert warmer.from_jsonl(jsonl_path).written == 1
    assert manager.get("hours") == "9-5"
    assert manager.get("k") == {"nested": [1]}
    with pytest.raises(ValueError, match="column"):
        warmer.from_csv(csv_path, "q", "a")


def test_warm_from_computes_only_misses() -> None:
    """warm_from computes only uncached queries and counts failures without stopping."""
    manager = CacheManager()
    manager.set("q:a", "cached")
    computed: list[str] = []

    def compute(q: str) -> str:
        if q == "bad":
            raise RuntimeError("upstream down")
        computed.append(q)
        return q.upper()

    report = CacheWarmer(manager, progress=False).warm_from(
        ["a", "b", "c", "bad"], compute, key=lambda q: f"q:{q}"
    )
    assert computed == ["b", "c"]
    assert (report.written, report.skipped, report.failed) == (2, 1, 1)
    assert manager.get("q:a") == "cached"
    assert manager.get("q:c") == "C"
