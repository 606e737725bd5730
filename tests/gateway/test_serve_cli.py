"""``omnicache serve`` as a user runs it: two gateway processes sharing one disk cache."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from _ports import free_ports
from omnicache_ai.testing.fake_provider import Upstream

QUESTION = [{"role": "user", "content": "What is 2+2?"}]


def _start(upstream: Upstream, port: int, cache_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OMNICACHE_BACKEND": "disk",
        "OMNICACHE_DISK_PATH": str(cache_dir),
        "OMNICACHE_GATEWAY_ADMIN_TOKEN": "t0ken",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "omnicache_ai", "serve", "--upstream", upstream.url,
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("gateway did not become ready")


def test_two_gateway_processes_share_one_cache(upstream: Upstream, tmp_path: Path) -> None:
    """A miss served by one gateway process is a hit on the other; SIGTERM exits cleanly."""
    ports = free_ports(2)
    procs = [_start(upstream, port, tmp_path / "cache") for port in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            _wait_ready(port, proc)
        body = {"model": "gpt-4o", "messages": QUESTION}
        auth = {"Authorization": "Bearer sk-shared-user"}
        first = httpx.post(f"http://127.0.0.1:{ports[0]}/v1/chat/completions", json=body,
                           headers=auth, timeout=30)  # fmt: skip
        second = httpx.post(f"http://127.0.0.1:{ports[1]}/v1/chat/completions", json=body,
                            headers=auth, timeout=30)  # fmt: skip
        assert first.headers["x-omnicache-status"] == "MISS"
        assert second.headers["x-omnicache-status"] == "HIT"
        assert second.json()["choices"] == first.json()["choices"]
        assert upstream.count() == 1
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=60) for proc in procs]
        for proc in procs:
            if proc.stdout is not None:
                proc.stdout.close()
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why
    assert set(codes) <= {0, -signal.SIGTERM}


def test_serve_without_upstream_is_a_one_line_error() -> None:
    """A missing upstream names the flag and the variable, without a traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNICACHE_GATEWAY_")}
    result = subprocess.run(
        [sys.executable, "-m", "omnicache_ai", "serve"], env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "OMNICACHE_GATEWAY_UPSTREAM" in result.stderr
    assert "Traceback" not in result.stderr
