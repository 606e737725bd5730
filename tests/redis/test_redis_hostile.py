"""Hostile entries planted in a real Redis: every read path misses, nothing escapes or runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from _hostile import HostileEntries
from omnicache_ai import InMemoryBackend, TieredBackend
from omnicache_ai.backends.redis_backend import RedisBackend

pytestmark = pytest.mark.redis

# Room for a loaded 2-core box; these tests are about decoding, not about latency.
_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


class TestHostileRedis(HostileEntries):
    """RedisBackend (server-side tag check through get_checked)."""

    fuzz_examples = 40

    @pytest.fixture
    def backend(self, redis_clean_url: str) -> Iterator[Any]:
        with RedisBackend(redis_clean_url, **_TIMEOUTS, prefix="hostile:") as b:
            yield b


class TestHostileTieredRedis(HostileEntries):
    """TieredBackend(memory, Redis)."""

    fuzz_examples = 30

    @pytest.fixture
    def backend(self, redis_clean_url: str) -> Iterator[Any]:
        l2 = RedisBackend(redis_clean_url, **_TIMEOUTS, prefix="hostile:")
        b = TieredBackend(l1=InMemoryBackend(max_size=100), l2=l2)
        yield b
        b.close()
