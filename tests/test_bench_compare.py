"""Smoke tests of benchmarks/bench_compare.py: it runs, reports, and refuses a mis-wired cache.

The figures themselves are never asserted (speed lives in benchmarks/, not in timed tests);
what is checked is that a run with only this checkout works end to end, that every timed hit
is verified to return the stored value first, and that missing peers are skipped with a reason.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_compare.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_compare", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny(bench: ModuleType, tmp_path: Path) -> dict[str, Any]:
    params: dict[str, Any] = bench.sizes(quick=True)
    params.update(calls=200, distinct=[64, 300], entries=300, tmp=str(tmp_path))
    return params


def test_quick_run_with_ours_only(tmp_path: Path) -> None:
    """`--quick --contenders ours` runs in seconds, prints the machine and a markdown table."""
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--contenders", "ours", "--only", "2",
         "--markdown", "--json", str(out)],
        check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "cores" in result.stdout
    assert "load average" in result.stdout
    assert "| row | variant | baseline | omnicache-ai (this checkout) |" in result.stdout
    data = json.loads(out.read_text())
    assert data["machine"]["cores"] >= 1
    assert data["contenders"]["ours"]["version"].endswith(sys.version.split()[0])
    cells = data["results"]["2"]["ours"]
    assert [c["variant"] for c in cells] == ["1 key repeated", "2,000 distinct keys in turn"]
    for c in cells:
        assert c["value"] > 0
        assert c["base"] > 0


def test_response_row_in_process(bench: ModuleType, tmp_path: Path) -> None:
    """Row 1 on ours: every variant is measured against its own baseline."""
    cells = bench.row_response("ours", tiny(bench, tmp_path))
    assert [c["variant"] for c in cells] == [
        "1 request repeated",
        "64 distinct in turn",
        "300 distinct in turn",
    ]
    assert all(c["value"] > 0 and c["base"] > 0 for c in cells)


def test_a_miswired_cache_is_refused(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lookup that does not return the stored value stops the row before anything is timed."""
    import omnicache_ai

    real_get = omnicache_ai.CacheManager.get

    def off_by_one(self: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        found = real_get(self, key, *args, **kwargs)
        return None if key.endswith(":7:answer") else found

    monkeypatch.setattr(omnicache_ai.CacheManager, "get", off_by_one)
    with pytest.raises(AssertionError, match="mis-wired"):
        bench.row_kv("ours", tiny(bench, tmp_path))


def test_missing_peer_is_skipped_with_a_reason(bench: ModuleType) -> None:
    python, why = bench.probe("ref", ".venv-does-not-exist", "omnicache_ai")
    assert python is None
    assert "scripts/bench_envs.sh" in why


def test_slow_peers_are_sampled_fast_ones_are_not(bench: ModuleType) -> None:
    items = list(range(1000))
    assert bench.budgeted(lambda i: i, items, budget=0.01) == items

    def slow(i: int) -> int:  # burns CPU (the probe times CPU, so sleeping would be "fast")
        return sum(range(50_000 + i))

    sampled = bench.budgeted(slow, items, budget=0.001)
    assert len(sampled) == 50  # the floor: never fewer than 50 distinct items
    assert len(set(sampled)) == 50
    assert sampled[-1] > 900  # spread over the whole range, not the first 50


def test_table_shows_skips_errors_and_ratios(bench: ModuleType) -> None:
    results = {
        "2": {
            "ours": [bench.variant("1 key repeated", 3.0, 1.5, "us")],
            "ref": [{"variant": "(all)", "error": "worker failed (1): boom"}],
        },
        "5": {"ours": [{"variant": "numpy store", "skipped": "no numpy store"}]},
    }
    labels = {"ours": "ours", "ref": "ref"}
    text = bench.render(bench.table(results, ["ours", "ref"], labels), markdown=True)
    assert "| 2. in-memory get hit vs dict[sha256(key)] | 1 key repeated | 1.50 us |" in text
    assert "2.00x (3.00 us)" in text
    assert "error: worker failed (1): boom" in text
    assert "n/a: no numpy store" in text


def test_only_rejects_unknown_rows(bench: ModuleType) -> None:
    assert bench.parse_rows("3,1,3") == [3, 1]  # in the order given, once each
    with pytest.raises(SystemExit, match="rows are 1-8"):
        bench.parse_rows("9")
