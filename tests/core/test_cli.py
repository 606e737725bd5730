"""The omnicache CLI against a disk backend configured through OMNICACHE_* variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omnicache_ai import CacheManager, DiskBackend


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omnicache_ai", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def disk_env(tmp_path: Path) -> dict[str, str]:
    """Environment selecting a fresh disk backend."""
    return {"OMNICACHE_BACKEND": "disk", "OMNICACHE_DISK_PATH": str(tmp_path / "cache")}


def test_inspect_shows_entry(disk_env: dict[str, str]) -> None:
    """inspect prints format, tags, validity and a preview of a cached value."""
    manager = CacheManager(backend=DiskBackend(disk_env["OMNICACHE_DISK_PATH"]))
    manager.set("greeting", {"text": "hello"}, tags=["lang:en"])
    manager.close()
    result = _run(["inspect", "greeting"], disk_env)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["valid"] is True
    assert info["value_preview"] == "{'text': 'hello'}"
    assert list(info["tags"]) == ["omnicache::__omnicache__:tag:lang:en"]
    assert _run(["inspect", "absent"], disk_env).returncode == 1


def test_flush_needs_confirmation(disk_env: dict[str, str]) -> None:
    """flush refuses without --yes when stdin is not a terminal, and empties with it."""
    manager = CacheManager(backend=DiskBackend(disk_env["OMNICACHE_DISK_PATH"]))
    manager.set("k", "v")
    manager.close()
    refused = _run(["flush"], disk_env)
    assert refused.returncode == 2
    assert CacheManager(backend=DiskBackend(disk_env["OMNICACHE_DISK_PATH"])).get("k") == "v"
    assert _run(["flush", "--yes"], disk_env).returncode == 0
    assert CacheManager(backend=DiskBackend(disk_env["OMNICACHE_DISK_PATH"])).get("k") is None


def test_flush_tenant_only(disk_env: dict[str, str]) -> None:
    """flush --tenant removes that tenant's entries and nothing else."""
    manager = CacheManager(backend=DiskBackend(disk_env["OMNICACHE_DISK_PATH"]))
    manager.for_tenant("a").set("k", "a")
    manager.for_tenant("b").set("k", "b")
    manager.close()
    assert _run(["flush", "--yes", "--tenant", "a"], disk_env).returncode == 0
    after = CacheManager(backend=DiskBackend(disk_env["OMNICACHE_DISK_PATH"]))
    assert after.for_tenant("a").get("k") is None
    assert after.for_tenant("b").get("k") == "b"


def test_config_and_bad_setting(disk_env: dict[str, str]) -> None:
    """config prints effective settings; a bad value exits 2 naming the variable."""
    result = _run(["config"], disk_env)
    assert result.returncode == 0
    assert "OMNICACHE_BACKEND" in result.stdout
    assert "'disk'" in result.stdout
    threshold = next(ln for ln in result.stdout.splitlines() if "SEMANTIC_THRESHOLD" in ln)
    assert "0.68" in threshold  # the effective value, not None
    assert "calibrated" in threshold
    chosen = _run(["config"], {**disk_env, "OMNICACHE_SEMANTIC_THRESHOLD": "0.9"})
    assert "0.9   (from environment)" in chosen.stdout
    bad = _run(["stats"], {**disk_env, "OMNICACHE_DEFAULT_TTL": "forever"})
    assert bad.returncode == 2
    assert "OMNICACHE_DEFAULT_TTL" in bad.stderr


def test_stats_runs(disk_env: dict[str, str]) -> None:
    """stats prints a table, and JSON with --json."""
    assert _run(["stats"], disk_env).returncode == 0
    result = _run(["stats", "--json"], disk_env)
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), dict)


def test_demo_reports_measured_figures(tmp_path: Path) -> None:
    """The demo runs on the embedded default and reports calls, hits and savings."""
    result = _run(["demo", "--requests", "40", "--latency-scale", "0"], {})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    calls = int(out.split("LLM calls made")[1].split()[0])
    assert 0 < calls < 40
    assert "response layer" in out
    assert "money saved" in out
