"""A fake OpenAI/Anthropic upstream and the gateway, both real HTTP servers on loopback.

The upstream counts every request it receives (by path) and records their bodies, so the
tests can tell a cache hit (nothing reached it) from a miss.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from _ci import need

need("starlette", extra="gateway")
need("uvicorn", extra="gateway")

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


from _gateway_servers import Served

from omnicache_ai.testing.fake_provider import Upstream, upstream_app


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A fake provider on loopback that counts requests."""
    seen = Upstream()
    with Served(upstream_app(seen)) as served:
        seen.url = served.url
        yield seen
