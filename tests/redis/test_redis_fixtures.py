"""The suite's own Redis fixtures: ports are picked so that two servers never collide.

A CI run once failed because two ``free_port()`` calls returned the same number: a cluster
node was given it as its port and as its bus port, and exited with "Address already in use".
"""

from __future__ import annotations

import socket
from pathlib import Path

from _ports import free_ports
from _redis_servers import RedisServer, raw_command


def test_free_ports_are_distinct() -> None:
    for _ in range(50):
        ports = free_ports(4)
        assert len(set(ports)) == 4


def test_cluster_bus_port_differs_from_the_server_port(tmp_path: Path) -> None:
    for _ in range(50):
        server = RedisServer(tmp_path, cluster_bus=True)
        assert server.bus_port is not None
        assert server.bus_port != server.port


def test_a_port_taken_before_the_first_start_means_new_ports(tmp_path: Path) -> None:
    """The picked port is taken by someone else before the server binds: it moves on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = int(squatter.getsockname()[1])
        server = RedisServer(tmp_path)
        server.port = taken  # as if the kernel had handed out this port just before
        try:
            server.start()
            assert server.port != taken
            assert raw_command(server.port, "PING").startswith(b"+PONG")
        finally:
            server.kill()
