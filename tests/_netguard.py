"""No test reaches beyond this machine: outbound connections go to loopback only.

Installed for the whole run by the root ``conftest.py``. A connection to any
other address, or a DNS look-up of a name other than ``localhost``, raises
:class:`NetworkBlocked`, so a framework that tries to phone home (telemetry, a model hub, a
real API) fails the test loudly instead of leaking traffic.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

__all__ = ["NetworkBlocked", "install", "is_installed", "is_loopback"]

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}


class NetworkBlocked(OSError):
    """A test tried to reach an address outside loopback."""


def is_loopback(host: object) -> bool:
    """True for loopback IPs, ``localhost`` and Unix-socket paths."""
    if isinstance(host, bytes | bytearray):
        return True  # abstract/path Unix sockets
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback or name in {"0.0.0.0", "::"}
    except ValueError:
        return False


def _check_address(family: int, address: Any) -> None:
    if family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_loopback(host):
        raise NetworkBlocked(f"test tried to connect to {address!r}: only loopback is allowed")


_real: dict[str, Any] = {}


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_address(self.family, address)
    return _real["connect"](self, address)  # type: ignore[no-any-return]


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self.family, address)
    return _real["connect_ex"](self, address)  # type: ignore[no-any-return]


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not is_loopback(name):
        raise NetworkBlocked(f"test tried to resolve {host!r}: only loopback is allowed")
    return _real["getaddrinfo"](host, *args, **kwargs)


def is_installed() -> bool:
    """True while ``socket`` is patched by :func:`install`."""
    return socket.socket.connect is _guarded_connect and socket.getaddrinfo is _guarded_getaddrinfo


def install() -> None:
    """Patch ``socket`` so connects and look-ups outside loopback raise; idempotent.

    Call it again whenever something may have restored ``socket`` (pytest-socket, installed
    as a dependency of langchain-tests, puts the original ``connect`` back after every test):
    the root conftest does so before each test.
    """
    if is_installed():
        return
    _real.setdefault("connect", socket.socket.connect)
    _real.setdefault("connect_ex", socket.socket.connect_ex)
    _real.setdefault("getaddrinfo", socket.getaddrinfo)
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo
