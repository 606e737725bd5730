"""Real ``redis-server`` processes for the Redis tests (the fixtures in ``redis/conftest.py``).

A module of its own, so a test can import :class:`RedisServer` by a name no other
directory's ``conftest`` shadows.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from _ci import unavailable
from _ports import free_ports

_READY_TIMEOUT = 15.0


def _missing(what: str) -> None:
    message = f"{what} not found on PATH; install Redis (e.g. apt-get install redis-server)"
    unavailable(message)


def redis_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        _missing(name)
    assert path is not None
    return path


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


_START_ATTEMPTS = 5


class _PortTaken(RuntimeError):
    """redis-server exited because a port it was given is in use."""


class RedisServer:
    """One ``redis-server`` process that a test can kill, pause, resume and restart.

    With ``cluster_bus=True`` the server also listens on a cluster bus port, picked with its
    own port so the two differ (the default, port + 10000, may be taken). A port picked
    here can still be taken by another process before the server binds it; the first
    :meth:`start` then tries fresh ports, a few times.
    """

    def __init__(
        self, workdir: Path, *extra: str, port: int | None = None, cluster_bus: bool = False
    ) -> None:
        self.binary = redis_binary("redis-server")
        self.workdir = workdir
        self.extra = extra
        self.cluster_bus = cluster_bus
        self.fixed_port = port is not None
        self.port, self.bus_port = self._pick_ports(port)
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_once = False

    def _pick_ports(self, port: int | None) -> tuple[int, int | None]:
        picked = free_ports(2)
        main = port if port is not None else picked[0]
        bus = (picked[1] if picked[1] != main else picked[0]) if self.cluster_bus else None
        return main, bus

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def logfile(self) -> Path:
        return self.workdir / f"redis-{self.port}.log"

    def start(self) -> RedisServer:
        """Start on ``self.port`` and wait until it answers PING.

        On the first start of a server whose ports were picked here, a port taken meanwhile
        ("Address already in use") means new ports and another try; a restart keeps its port.
        """
        attempts = 1 if (self.started_once or self.fixed_port) else _START_ATTEMPTS
        for attempt in range(attempts):
            try:
                self._launch()
                break
            except _PortTaken:
                if attempt == attempts - 1:
                    raise
                self.port, self.bus_port = self._pick_ports(None)
        self.started_once = True
        return self

    def _launch(self) -> None:
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
        if self.bus_port is not None:
            args += ["--cluster-port", str(self.bus_port)]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.workdir
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                log = self.logfile.read_text() if self.logfile.exists() else ""
                error = _PortTaken if "Address already in use" in log else RuntimeError
                raise error(f"redis-server on {self.port} exited:\n{log[-2000:]}")
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
