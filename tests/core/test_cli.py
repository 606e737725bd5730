"""The omnicache CLI against a disk backend configured through OMNICACHE_* variables."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omnicache_ai import CacheManager, DiskBackend


def _installed(distribution: str) -> bool:
    # By distribution, not module: tests/redis would pass for a `redis` module on sys.path.
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


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
    assert "0.89" in threshold  # the effective value, not None
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


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("omnicache: error: ")
    return lines[0]


def test_config_redacts_redis_password_and_secret(disk_env: dict[str, str]) -> None:
    """config never prints the Redis URL's password or the pickle secret."""
    env = {
        **disk_env,
        "OMNICACHE_REDIS_URL": "redis://app:hunter2@cache.internal:6380/1",
        "OMNICACHE_SERIALIZER": "pickle",
        "OMNICACHE_PICKLE_SECRET": "s3cr3t-key",
    }
    result = _run(["config"], env)
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout
    assert "s3cr3t-key" not in result.stdout
    assert "'redis://app:***@cache.internal:6380/1'" in result.stdout
    assert "'<set>'" in result.stdout


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("OMNICACHE_PRICING", "{not json"),
        ("OMNICACHE_DISK_PATH", "/proc/nope/cache"),
        ("OMNICACHE_MAX_ENTRIES", "0"),
        ("OMNICACHE_DEFAULT_TTL", "1e20"),
        ("OMNICACHE_SERIALIZER", "pickle"),
    ],
)
def test_bad_setting_is_one_line_exit_2(disk_env: dict[str, str], var: str, value: str) -> None:
    """A bad variable prints one line naming it and exits 2, without a traceback."""
    result = _run(["stats"], {**disk_env, var: value})
    assert result.returncode == 2
    assert var in _one_error_line(result)


# tests/core also runs in the core-only environment, where the redis extra is absent by design;
# the full run always runs this test.
@pytest.mark.skipif(
    not _installed("redis"),
    reason="core-only environment: the redis extra is not installed (the full run tests it)",
)
def test_inspect_down_redis_is_one_line_exit_3() -> None:
    """inspect against an unreachable Redis says so in one line and exits 3."""
    env = {"OMNICACHE_BACKEND": "redis", "OMNICACHE_REDIS_URL": "redis://:pw@127.0.0.1:1/0"}
    result = _run(["inspect", "k"], env)
    assert result.returncode == 3
    line = _one_error_line(result)
    assert "RedisBackend" in line
    assert "pw@" not in line


def test_inspect_tenant_storage_key_explains(disk_env: dict[str, str]) -> None:
    """inspect of a tenant's storage key explains the --tenant form instead of a traceback."""
    result = _run(["inspect", "@acme:greeting"], disk_env)
    assert result.returncode == 2
    assert "--tenant acme greeting" in _one_error_line(result)


def test_inspect_tenant_entry(disk_env: dict[str, str]) -> None:
    """inspect --tenant finds the tenant's entry."""
    manager = CacheManager(backend=DiskBackend(disk_env["OMNICACHE_DISK_PATH"]))
    manager.for_tenant("acme").set("greeting", "hi")
    manager.close()
    result = _run(["inspect", "--tenant", "acme", "greeting"], disk_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["value_preview"] == "'hi'"


@pytest.mark.parametrize("cut", [3, 6, 9])
def test_inspect_corrupt_entry(disk_env: dict[str, str], cut: int) -> None:
    """inspect of a truncated entry reports it invalid (exit 1) rather than a traceback."""
    backend = DiskBackend(disk_env["OMNICACHE_DISK_PATH"])
    manager = CacheManager(backend=backend)
    manager.set("k", {"text": "hello"}, tags=["t"])
    stored = manager.storage_key("k")  # the key the backend really holds (namespace scope)
    raw = backend.get(stored)
    assert isinstance(raw, bytes)
    backend.set(stored, raw[:cut])
    backend.close()
    result = _run(["inspect", "k"], disk_env)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert json.loads(result.stdout)["valid"] is False
