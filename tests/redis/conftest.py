"""Real Redis servers for the Redis tests: the suite starts its own, never a system one.

Fixtures:

* ``redis_server`` / ``redis_url`` (session): one ``redis-server`` on a free port, no
  persistence, in a temporary directory.
* ``redis_clean_url`` (function): the session server, flushed before the test.
* ``private_redis`` (function): a fresh server owned by one test, which may kill, pause
  (``SIGSTOP``), resume or restart it on the same port.
* ``redis_cluster`` / ``cluster_clean_url``: a 3-master Redis Cluster (session), flushed
  per test.
* ``dead_url``: a URL where nothing listens.

Without a ``redis-server`` binary on ``PATH`` the tests are skipped, except when ``CI=true``:
there a missing binary is a failure, so a broken CI image cannot pass by skipping.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from _ports import free_port
from _redis_servers import RedisCluster, RedisServer, raw_command, redis_binary


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server for the whole session."""
    server = RedisServer(tmp_path_factory.mktemp("redis-session")).start()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """URL of the session server."""
    return redis_server.url


@pytest.fixture
def redis_clean_url(redis_server: RedisServer) -> str:
    """URL of the session server, flushed before the test."""
    assert raw_command(redis_server.port, "FLUSHALL").startswith(b"+OK")
    return redis_server.url


@pytest.fixture
def dead_url() -> str:
    """A redis:// URL on a local port where nothing listens."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def make_redis(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """Start private redis-servers with extra arguments (``make_redis("--maxmemory", "1mb")``)."""
    servers: list[RedisServer] = []

    def make(*extra: str) -> RedisServer:
        server = RedisServer(tmp_path / f"r{len(servers)}", *extra)
        server.workdir.mkdir()
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.kill()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server that this test alone may kill, pause or restart."""
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A 3-master Redis Cluster on free ports, torn down at the end of the session."""
    cli = redis_binary("redis-cli")
    nodes: list[RedisServer] = []
    try:
        for i in range(3):
            workdir = tmp_path_factory.mktemp(f"redis-cluster-{i}")
            nodes.append(
                RedisServer(
                    workdir,
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    str(workdir / "nodes.conf"),
                    "--cluster-node-timeout",
                    "5000",
                    cluster_bus=True,
                ).start()
            )
        subprocess.run(
            [
                cli,
                "--cluster",
                "create",
                *(f"127.0.0.1:{n.port}" for n in nodes),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while not all(b"cluster_state:ok" in raw_command(n.port, "CLUSTER", "INFO") for n in nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")
            time.sleep(0.05)
        yield RedisCluster(nodes)
    finally:
        for node in nodes:
            node.kill()


@pytest.fixture
def cluster_clean_url(redis_cluster: RedisCluster) -> str:
    """URL of a node of the session cluster, every master flushed before the test."""
    redis_cluster.flush()
    return redis_cluster.url
