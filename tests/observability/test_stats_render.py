"""``omnicache stats``: the table and JSON built from shared stats, through the real CLI."""

from __future__ import annotations

import json

import pytest
from obs_helpers import run_child

from omnicache_ai import CacheManager, DiskBackend, InMemoryBackend
from omnicache_ai.observability import SharedStats, collect_stats, render_stats
from omnicache_ai.testing.fakes import FlakyBackend

WORK = """
from omnicache_ai import CacheManager, DiskBackend, InMemoryBackend
from omnicache_ai.observability import SharedStats
manager = CacheManager(backend=DiskBackend({path!r}))
SharedStats(manager)
manager.set("q", "answer", layer="response")
for _ in range({hits}):
    manager.get("q", layer="response")
manager.get("other", layer="embedding")
acme = manager.for_tenant("acme")
acme.get("t", layer="response")
manager.record_savings("response", model="gpt-4o-mini", input_tokens=1_000_000,
                       output_tokens=0)
"""


def test_cli_stats_json_sums_processes(disk_path: str) -> None:
    """`python -m omnicache_ai stats --json` adds up what two worker processes did."""
    run_child(WORK.format(path=disk_path, hits=3))
    run_child(WORK.format(path=disk_path, hits=4))
    env = {"OMNICACHE_BACKEND": "disk", "OMNICACHE_DISK_PATH": disk_path}
    out = run_child("from omnicache_ai.cli import main; raise SystemExit(main(['stats', "
                    "'--json']))", env=env)  # fmt: skip
    report = json.loads(out)
    assert report["hits"] == 7
    assert report["misses"] == 4
    assert report["sets"] == 2
    assert report["cost_saved_usd"] == pytest.approx(0.30)  # 2 x 1M tokens at $0.15
    assert report["layers"]["response"]["hits"] == 7
    assert report["tenants"]["acme"]["misses"] == 2
    assert report["source"]["processes"] == 2
    assert report["source"]["backend"] == "DiskBackend"
    assert report["storage"]["DiskBackend"]["entries"] >= 1


def test_cli_stats_table_and_tenant_filter(disk_path: str) -> None:
    """The table lists layers, totals and savings; --tenant keeps one tenant's rows."""
    run_child(WORK.format(path=disk_path, hits=2))
    env = {"OMNICACHE_BACKEND": "disk", "OMNICACHE_DISK_PATH": disk_path}
    table = run_child("from omnicache_ai.cli import main; raise SystemExit(main(['stats']))",
                      env=env)  # fmt: skip
    lines = table.splitlines()
    assert lines[0].startswith("omnicache stats: DiskBackend")
    response = next(line for line in lines if line.startswith("response"))
    assert response.split()[:3] == ["response", "2", "1"]  # acme's miss is a response lookup
    total = next(line for line in lines if line.startswith("total"))
    assert total.split()[1:4] == ["2", "2", "50.0%"]
    assert "0.1500" in total
    assert any(line.startswith("acme") for line in lines)
    tenant = run_child("from omnicache_ai.cli import main; "
                       "raise SystemExit(main(['stats', '--json', '--tenant', 'acme']))",
                       env=env)  # fmt: skip
    report = json.loads(tenant)
    assert (report["hits"], report["misses"]) == (0, 1)
    assert report["source"]["tenant"] == "acme"


def test_local_counters_count_once(disk_path: str) -> None:
    """In-process: unflushed local counters are added, flushed ones are not doubled."""
    manager = CacheManager(backend=DiskBackend(disk_path))
    manager.get("k")
    assert collect_stats(manager)["misses"] == 1  # local only, nothing shared yet
    shared = SharedStats(manager, flush_interval=0)
    manager.get("k")
    assert collect_stats(manager)["misses"] == 2  # flushed first, local not added again
    assert collect_stats(manager)["source"]["processes"] == 1
    shared.close()


def test_backend_outage_is_reported_not_raised() -> None:
    """When the backend is down the report says so and still shows local counters."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    manager.get("k")
    flaky.down = True
    report = collect_stats(manager)
    assert report["misses"] == 1
    assert any("unreadable" in note for note in report["notes"])
    text = render_stats(manager)
    assert "note" in text
    assert "unreadable" in text


def test_empty_cache_renders() -> None:
    """A fresh manager renders a table and valid JSON without data."""
    manager = CacheManager()
    assert "(no lookups yet)" in render_stats(manager)
    assert json.loads(render_stats(manager, as_json=True))["hits"] == 0


def test_json_stays_strict_when_latency_exceeds_the_last_bucket() -> None:
    """A p99 above the largest bucket is written as "+Inf", never as bare Infinity."""
    manager = CacheManager()
    st = manager.metrics.series("response", "", manager.backend_name)
    manager.metrics.record_hit(st, 60.0)  # beyond the 10 s bucket
    out = render_stats(manager, as_json=True)
    report = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert report["hit_latency_p99_s"] == "+Inf"
    assert "p99 <= inf" in render_stats(manager)


def test_an_unconfigured_backend_says_how_to_get_shared_stats(disk_path: str) -> None:
    """With no slots and no local activity the report explains what to run."""
    report = collect_stats(CacheManager(backend=DiskBackend(disk_path)))
    assert report["source"]["processes"] == 0
    assert any("SharedStats(manager)" in note for note in report["notes"])
