"""Fixtures for the observability tests: disk paths, a private redis-server, child processes.

The Redis fixture starts its own ``redis-server`` on a free port (never the system one).
Without the binary the Redis tests skip, except when ``CI=true``: there they fail, so a
broken CI image cannot pass by skipping.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from _ci import unavailable
from _ports import free_port


@pytest.fixture
def disk_path(tmp_path: Path) -> str:
    """A fresh directory for a DiskBackend shared by this test's processes."""
    path = tmp_path / "shared-disk"
    path.mkdir()
    return str(path)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a private redis-server for this session (no persistence)."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server not found on PATH"
        unavailable(message)
    workdir = tmp_path_factory.mktemp("obs-redis")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {port} did not start")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def redis_clean_url(redis_url: str) -> str:
    """The session server, emptied before the test."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()
    return redis_url
