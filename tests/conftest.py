"""Shared fixtures: the test suite never touches the user's real cache directories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point OMNICACHE_DISK_PATH at a temp dir and drop other OMNICACHE_* settings."""
    for var in [v for v in os.environ if v.startswith("OMNICACHE_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("OMNICACHE_DISK_PATH", str(tmp_path / "omnicache-disk"))
    return
