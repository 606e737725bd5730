"""The gateway over a real Redis that dies mid-test: requests keep being answered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _gateway_servers import Served

from _ci import need
from omnicache_ai import CacheManager
from omnicache_ai.gateway import GatewayConfig, create_app
from omnicache_ai.testing.fake_provider import Upstream

need("redis", extra="redis")
openai = need("openai", extra="openai")

from omnicache_ai.backends.redis_backend import RedisBackend

QUESTION = [{"role": "user", "content": "What is 2+2?"}]


@pytest.fixture
def redis_gateway(upstream: Upstream, private_redis: Any) -> Iterator[tuple[Served, Any]]:
    """A gateway whose cache is a private redis-server the test may kill."""
    backend = RedisBackend(private_redis.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    app = create_app(GatewayConfig(upstream=upstream.url), CacheManager(backend=backend))
    with Served(app) as served:
        yield served, private_redis
    backend.close()


def test_redis_killed_mid_test_still_answers(
    redis_gateway: tuple[Served, Any], upstream: Upstream
) -> None:
    """Hits come from Redis; once it is killed every request still gets a 200 from upstream."""
    gateway, server = redis_gateway
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="sk-r", max_retries=0)
    create = client.chat.completions.with_raw_response.create
    try:
        _answers_through_a_dead_redis(create, server, upstream)
    finally:
        client.close()


def _answers_through_a_dead_redis(create: Any, server: Any, upstream: Upstream) -> None:
    assert create(model="gpt-4o", messages=QUESTION).headers["x-omnicache-status"] == "MISS"
    assert create(model="gpt-4o", messages=QUESTION).headers["x-omnicache-status"] == "HIT"
    assert upstream.count() == 1
    server.kill()
    for i in range(4):  # the breaker opens after a few failures; none of them is a 5xx
        reply = create(model="gpt-4o", messages=[{"role": "user", "content": f"q{i}"}])
        assert reply.status_code == 200
        assert reply.headers["x-omnicache-status"] == "MISS"
    again = create(model="gpt-4o", messages=QUESTION)
    assert again.status_code == 200
    assert upstream.count() == 6  # the cached answer is gone with Redis: upstream answered
