"""Shared fixtures: the suite never touches the user's real cache directories nor the network.

Every test runs with outbound connections limited to loopback (``_netguard``): a framework that
tries to reach a hub, a telemetry endpoint or a real API fails the test instead.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import _netguard

_netguard.install()

_FRAMEWORKS = Path(__file__).resolve().parent / "frameworks"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect tests/frameworks only when asked for by path.

    Each agent framework is tested in its own locked environment (requirements/fw-*.txt, run by
    scripts/test.sh as ``pytest tests/frameworks/<name>``); a plain ``pytest`` in the main
    environment, where those frameworks are not installed, leaves them out.
    """
    if not _inside(collection_path, _FRAMEWORKS):
        return None
    base = config.invocation_params.dir
    asked = [(base / arg.split("::", 1)[0]).resolve() for arg in config.args]
    return None if any(_inside(a, _FRAMEWORKS) for a in asked) else True


_REDIS_FIXTURES = frozenset(
    {"redis_server", "redis_url", "redis_clean_url", "private_redis", "make_redis", "redis_cluster"}
)


@pytest.fixture(autouse=True)
def _redis_garbage_fails_its_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Collect a Redis test's garbage at its own boundary, so a leak fails the test that leaked.

    A ``redis.asyncio`` connection left for the garbage collector is finalized whenever a
    collection happens to run: usually in a later, unrelated test, after the leaker's event
    loop is closed, where its ResourceWarning ("unclosed Connection", "Event loop is closed")
    fails that test under ``filterwarnings = error``. Collecting here, with the suite's warning
    filters untouched, reports it (``PytestUnraisableExceptionWarning``) in the teardown of the
    Redis test that leaked instead; run with ``PYTHONTRACEMALLOC=20`` to see where the object
    was allocated. The leak that prompted this (the stampede lock's short-lived asyncio
    clients) is fixed and pinned by ``tests/redis/test_redis_lock.py``.
    """
    yield
    if not _REDIS_FIXTURES.isdisjoint(request.fixturenames):
        gc.collect()


@pytest.fixture(autouse=True)
def _loopback_only() -> None:
    """Re-arm the network guard before every test (a plugin may have restored ``socket``)."""
    _netguard.install()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point OMNICACHE_DISK_PATH at a temp dir and drop other OMNICACHE_* settings."""
    for var in [v for v in os.environ if v.startswith("OMNICACHE_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("OMNICACHE_DISK_PATH", str(tmp_path / "omnicache-disk"))
    return
