"""Hostile entries on the embedded backends, and the decoder's own bounds."""

from __future__ import annotations

import gzip
import importlib.util
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest

from _hostile import CORRUPT_SHAPES, HostileEntries, nested_tuples
from omnicache_ai import AsyncInMemoryBackend, DiskBackend, InMemoryBackend, TieredBackend
from omnicache_ai.core import compressor
from omnicache_ai.core.errors import IntegrityError
from omnicache_ai.core.serializer import MAX_DEPTH, JsonSerializer, SafeSerializer


class TestHostileInMemory(HostileEntries):
    """InMemoryBackend."""

    @pytest.fixture
    def backend(self) -> Iterator[Any]:
        return InMemoryBackend()


class TestHostileAsyncInMemory(HostileEntries):
    """AsyncInMemoryBackend (sync calls go through the bridge loop)."""

    @pytest.fixture
    def backend(self) -> Iterator[Any]:
        return AsyncInMemoryBackend()


class TestHostileDisk(HostileEntries):
    """DiskBackend."""

    fuzz_examples = 40

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[Any]:
        b = DiskBackend(path=tmp_path / "disk")
        yield b
        b.close()


class TestHostileTiered(HostileEntries):
    """TieredBackend(memory, disk)."""

    fuzz_examples = 40

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[Any]:
        b = TieredBackend(l1=InMemoryBackend(max_size=100), l2=DiskBackend(tmp_path / "l2"))
        yield b
        b.close()


def test_nesting_within_the_bound_round_trips() -> None:
    """Values nested up to MAX_DEPTH extension levels still decode."""
    value: Any = (1,)
    for _ in range(MAX_DEPTH - 1):
        value = (value,)
    s = SafeSerializer()
    assert s.loads(s.dumps(value)) == value


def test_writing_past_the_bound_is_refused() -> None:
    """A value a reader would refuse (MAX_DEPTH + 1 levels) is refused at write time instead."""
    from omnicache_ai.core.errors import SerializationError

    value: Any = (1,)
    for _ in range(MAX_DEPTH):
        value = (value,)
    with pytest.raises(SerializationError, match="deeper than"):
        SafeSerializer().dumps(value)


def test_nesting_past_the_bound_is_an_integrity_error() -> None:
    """One level past MAX_DEPTH is refused with IntegrityError, not a crash."""
    packed = msgpack.packb([1])
    for _ in range(MAX_DEPTH + 1):
        packed = msgpack.packb([msgpack.ExtType(2, packed)])
    with pytest.raises(IntegrityError, match="deeper than"):
        SafeSerializer().loads(b"m" + packed)


@pytest.mark.parametrize("shape", list(CORRUPT_SHAPES))
def test_every_corrupt_shape_is_an_integrity_error_at_the_decoder(shape: str) -> None:
    """Each corrupt shape raises IntegrityError (the one type the manager treats as a miss)."""
    from omnicache_ai import CacheManager

    m = CacheManager()

    def decode() -> Any:
        opened = m._open(CORRUPT_SHAPES[shape], None, False)
        if type(opened).__name__ == "_Tagged":
            return m._resolve_tagged(opened, opened.gens, None)
        return opened

    with pytest.raises(IntegrityError):
        decode()


def test_user_serializer_errors_are_normalized() -> None:
    """Whatever a user serializer's loads raises becomes IntegrityError (a counted miss)."""
    from omnicache_ai import CacheManager

    class Fragile:
        format_id = 99

        def dumps(self, value: Any) -> bytes:
            return repr(value).encode()

        def loads(self, data: bytes) -> Any:
            raise KeyError("boom")

    m = CacheManager(serializer=Fragile())
    m.set("k", 1)
    assert m.get("k", "miss") == "miss"
    assert m.metrics.snapshot()["errors"] == 1


def test_json_loads_normalizes_errors() -> None:
    """JsonSerializer.loads raises only IntegrityError on bad bytes."""
    with pytest.raises(IntegrityError):
        JsonSerializer().loads(b"[" * 5000)


def test_gzip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gzip payload expanding past MAX_DECOMPRESSED_BYTES is refused, not inflated."""
    monkeypatch.setattr(compressor, "MAX_DECOMPRESSED_BYTES", 1000)
    c = compressor.GzipCompressor()
    assert c.decompress(c.compress(b"x" * 1000)) == b"x" * 1000
    with pytest.raises(IntegrityError, match="expands past"):
        c.decompress(gzip.compress(b"\0" * 100_000))
    with pytest.raises(IntegrityError, match="truncated"):
        c.decompress(c.compress(b"x" * 1000)[:-6])


# tests/core also runs in the core-only environment (no extras): there zstd is absent by
# design; the full run, where the extra is installed, always runs this test.
@pytest.mark.skipif(
    importlib.util.find_spec("zstandard") is None,
    reason="core-only environment: the zstd extra is not installed (the full run tests it)",
)
def test_zstd_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A zstd frame claiming more than MAX_DECOMPRESSED_BYTES is refused before allocation."""
    monkeypatch.setattr(compressor, "MAX_DECOMPRESSED_BYTES", 1000)
    c = compressor.ZstdCompressor()
    assert c.decompress(c.compress(b"x" * 1000)) == b"x" * 1000
    with pytest.raises(IntegrityError, match="claims"):
        c.decompress(c.compress(b"\0" * 100_000))


_READER = textwrap.dedent(
    """
    import asyncio
    import sys
    from omnicache_ai import CacheManager, DiskBackend
    m = CacheManager(backend=DiskBackend(sys.argv[1]))
    print("get", m.get("planted", "miss"))
    print("get_many", m.get_many(["planted"]))
    print("exists", m.exists("planted"))
    print("aget", asyncio.run(m.aget("planted", "miss")))
    print("get_or_set", m.get_or_set("planted", lambda: "fresh"))
    """
)


def test_nested_payload_does_not_crash_a_reader_process(tmp_path: Path) -> None:
    """The 200-deep nested payload is a miss in a separate reader process (a crash fails here)."""
    store = tmp_path / "shared"
    b = DiskBackend(store)
    raw = nested_tuples(200)
    assert len(raw) < 1000
    b.set("planted", raw)
    b.close()
    proc = subprocess.run(
        [sys.executable, "-c", _READER, str(store)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.splitlines() == [
        "get miss",
        "get_many {}",
        "exists False",
        "aget miss",
        "get_or_set fresh",
    ]


def test_nested_payload_does_not_crash_inspect(tmp_path: Path) -> None:
    """`omnicache inspect` on the nested payload exits without a signal (no SIGSEGV)."""
    store = tmp_path / "shared"
    b = DiskBackend(store)
    b.set("planted", nested_tuples(200))
    b.close()
    env = {**os.environ, "OMNICACHE_BACKEND": "disk", "OMNICACHE_DISK_PATH": str(store)}
    proc = subprocess.run(
        [sys.executable, "-m", "omnicache_ai", "inspect", "planted"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}: {proc.stderr[-500:]}"
