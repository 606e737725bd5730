"""Real Redis servers for the adapter tests: the fixtures of ``tests/redis/conftest.py``.

That file is loaded by path (``tests/redis`` would shadow the ``redis`` package if imported
by name) and its server fixtures are re-exported here, so an adapter test asks for
``redis_clean_url`` exactly like a Redis test does. The session server here is separate
from the one ``tests/redis`` starts when both directories run in one session.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parent.parent / "redis" / "conftest.py"
_spec = importlib.util.spec_from_file_location("_omnicache_redis_fixtures", _PATH)
assert _spec is not None
assert _spec.loader is not None
_redis_fixtures = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _redis_fixtures
_spec.loader.exec_module(_redis_fixtures)

RedisServer = _redis_fixtures.RedisServer
redis_server = _redis_fixtures.redis_server
redis_clean_url = _redis_fixtures.redis_clean_url
raw_command = _redis_fixtures.raw_command

__all__ = ["RedisServer", "raw_command", "redis_clean_url", "redis_server"]
