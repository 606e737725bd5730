"""Shared fixtures: the suite never touches the user's real cache directories nor the network.

Every test runs with outbound connections limited to loopback (``_netguard``): a framework that
tries to reach a hub, a telemetry endpoint or a real API fails the test instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import _netguard

_netguard.install()


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
