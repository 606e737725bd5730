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

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from _ci import unavailable

_READY_TIMEOUT = 15.0


def _missing(what: str) -> None:
    message = f"{what} not found on PATH; install Redis (e.g. apt-get install redis-server)"
    unavailable(message)


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        _missing(name)
    assert path is not None
    return path


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _encode_command(*args: str) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        raw = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


def raw_command(port: int, *args: str, timeout: float = 1.0) -> bytes:
    """Send one command over a fresh socket and return the raw reply (no redis-py)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(_encode_command(*args))
        reply = b""
        while True:
            chunk = sock.recv(65536)
            reply += chunk
            if not chunk:
                return reply
            header, sep, body = reply.partition(b"\r\n")
            if not sep:
                continue
            if not header.startswith(b"$"):
                return reply  # simple string, error or integer: one line
            if int(header[1:]) < 0 or len(body) >= int(header[1:]) + 2:
                return reply


class RedisServer:
    """One ``redis-server`` process that a test can kill, pause, resume and restart."""

    def __init__(self, workdir: Path, *extra: str, port: int | None = None) -> None:
        self.binary = _binary("redis-server")
        self.workdir = workdir
        self.port = port or free_port()
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def logfile(self) -> Path:
        return self.workdir / f"redis-{self.port}.log"

    def start(self) -> RedisServer:
        """Start on ``self.port`` and wait until it answers PING."""
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--logfile",
            str(self.logfile),
            *self.extra,
        ]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.workdir
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                log = self.logfile.read_text() if self.logfile.exists() else ""
                raise RuntimeError(f"redis-server on {self.port} exited:\n{log[-2000:]}")
            try:
                if raw_command(self.port, "PING", timeout=0.5).startswith(b"+PONG"):
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} did not answer PING in time")

    def kill(self) -> None:
        """SIGKILL the server and reap it (works on a paused server too)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def pause(self) -> None:
        """SIGSTOP: the socket stays open, the server stops answering."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def restart(self) -> None:
        """Kill (if running) and start again on the same port, with an empty dataset."""
        self.kill()
        self.start()


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


class RedisCluster:
    """Three master nodes with all 16384 slots assigned."""

    def __init__(self, nodes: list[RedisServer]) -> None:
        self.nodes = nodes

    @property
    def url(self) -> str:
        """URL of the first node; cluster clients discover the others."""
        return self.nodes[0].url.removesuffix("/0")

    def flush(self) -> None:
        for node in self.nodes:
            assert raw_command(node.port, "FLUSHALL").startswith(b"+OK")


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A 3-master Redis Cluster on free ports, torn down at the end of the session."""
    cli = _binary("redis-cli")
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
                    # The bus port defaults to port + 10000, which may be taken.
                    "--cluster-port",
                    str(free_port()),
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
