"""Free loopback ports for the servers the suite starts (Redis, Chroma, gateways, exporters).

Import it by name (``from _ports import free_port, free_ports``); pytest puts ``tests/`` on
``sys.path`` through the root ``conftest.py``.
"""

from __future__ import annotations

import socket

__all__ = ["free_port", "free_ports"]


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that nobody listens on right now.

    The sockets are bound together and closed together, so the kernel cannot hand out one
    port twice; two separate one-port calls can return the same number (a CI run once gave
    a Redis Cluster node the same port for clients and for its bus).
    """
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def free_port() -> int:
    """One TCP port on 127.0.0.1 that nobody listens on right now."""
    return free_ports(1)[0]
