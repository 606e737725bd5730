"""The shipped conformance suite, run against every embedded backend and wrapper."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omnicache_ai import AsyncInMemoryBackend, DiskBackend, InMemoryBackend, TieredBackend
from omnicache_ai.testing import BackendConformance, FlakyBackend


class TestInMemory(BackendConformance):
    """InMemoryBackend conforms."""

    @pytest.fixture
    def backend(self) -> Iterator[Any]:
        return InMemoryBackend()


class TestInMemoryFifo(BackendConformance):
    """InMemoryBackend with the TTL-only (no reorder) strategy conforms."""

    @pytest.fixture
    def backend(self) -> Iterator[Any]:
        from omnicache_ai import EvictionPolicy

        return InMemoryBackend(eviction_policy=EvictionPolicy("ttl", max_entries=10_000))


class TestAsyncInMemory(BackendConformance):
    """AsyncInMemoryBackend conforms (through the sync bridge and the async manager)."""

    @pytest.fixture
    def backend(self) -> Iterator[Any]:
        return AsyncInMemoryBackend()


class TestDisk(BackendConformance):
    """DiskBackend conforms."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[Any]:
        b = DiskBackend(path=tmp_path / "disk")
        yield b
        b.close()


class TestTiered(BackendConformance):
    """TieredBackend(memory, disk) conforms."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[Any]:
        b = TieredBackend(l1=InMemoryBackend(max_size=100), l2=DiskBackend(tmp_path / "l2"))
        yield b
        b.close()


class TestFlakyWrapperWhileUp(BackendConformance):
    """A pass-through wrapper with only the six primitives conforms via the loop fallbacks."""

    @pytest.fixture
    def backend(self) -> Iterator[Any]:
        return FlakyBackend(InMemoryBackend())
