"""A fake OpenAI/Anthropic upstream and the gateway, both real HTTP servers on loopback.

The upstream counts every request it receives (by path) and records their bodies, so the
tests can tell a cache hit (nothing reached it) from a miss.
"""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _ci import need

need("starlette", extra="gateway")
need("uvicorn", extra="gateway")

import uvicorn

# The Redis fixtures of tests/redis/conftest.py, loaded by path (a `tests/redis` package name
# would shadow the `redis` client), for the test that kills the gateway's Redis mid-test.
_PATH = Path(__file__).resolve().parent.parent / "redis" / "conftest.py"
_spec = importlib.util.spec_from_file_location("_omnicache_gateway_redis_fixtures", _PATH)
assert _spec is not None
assert _spec.loader is not None
_redis_fixtures = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _redis_fixtures
_spec.loader.exec_module(_redis_fixtures)
private_redis = _redis_fixtures.private_redis


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """An ASGI app served by uvicorn in a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


from omnicache_ai.testing.fake_provider import Upstream, upstream_app


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A fake provider on loopback that counts requests."""
    seen = Upstream()
    with Served(upstream_app(seen)) as served:
        seen.url = served.url
        yield seen
