"""The suite's network guard: loopback works, anything else is refused before a packet leaves."""

from __future__ import annotations

import socket

import pytest

import _netguard


def test_loopback_connect_is_allowed() -> None:
    """A server on 127.0.0.1 can be reached."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        with socket.create_connection(("localhost", port), timeout=2):
            pass


def test_guard_is_installed() -> None:
    """The root conftest installed the guard before any test ran."""
    assert _netguard.is_installed()


# Documentation-only addresses (RFC 5737): never routable, even if the guard were missing.
@pytest.mark.parametrize("address", [("192.0.2.1", 443), ("198.51.100.7", 80)])
def test_outside_address_is_refused(address: tuple[str, int]) -> None:
    """Connecting outside loopback raises NetworkBlocked (no packet is sent)."""
    assert _netguard.is_installed()
    with socket.socket() as sock, pytest.raises(_netguard.NetworkBlocked):
        sock.connect(address)


def test_dns_lookup_is_refused() -> None:
    """A look-up of a public name raises instead of querying a resolver."""
    assert _netguard.is_installed()
    with pytest.raises(_netguard.NetworkBlocked):
        socket.getaddrinfo("example.invalid", 443)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("10.1.2.3", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    """Only loopback addresses and localhost count as local."""
    assert _netguard.is_loopback(host) is expected
