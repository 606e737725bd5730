"""Serializers and compressors: safe by default, exact round trips, clear errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import uuid
from typing import Any

import numpy as np
import pydantic
import pytest

from omnicache_ai import (
    GzipCompressor,
    IntegrityError,
    JsonSerializer,
    PickleSerializer,
    SafeSerializer,
    SerializationError,
    ZstdCompressor,
)


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Answer(pydantic.BaseModel):
    text: str
    score: float
    tags: list[str] = []


@pytest.mark.parametrize(
    "value",
    [
        "plain", "", "ünïcødé \ud83d\ude00"[:9], b"\x00\xff", 0, -1, 2**100, 1.5, True, None,
        [1, [2, [3]]], {"a": {"b": None}}, (1, (2, "x")), {1, 2}, frozenset({"a"}),
        {1: "int key"}, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), dt.date(2026, 1, 2),
        dt.time(1, 2, 3), dt.timedelta(days=1, seconds=5), decimal.Decimal("1.10"),
        uuid.UUID(int=7), Point(1, 2), Answer(text="hi", score=0.5, tags=["a"]),
        np.float32(1.25), np.int64(3),
    ],
)  # fmt: skip
def test_safe_round_trip(value: object) -> None:
    """SafeSerializer returns an equal value of the same type."""
    s = SafeSerializer()
    out = s.loads(s.dumps(value))
    assert out == value
    assert type(out) is type(value)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "uint16", "bool", "complex64"])
def test_numpy_arrays_exact(dtype: str) -> None:
    """Arrays keep dtype, shape and bytes, and come back writable and unaliased."""
    s = SafeSerializer()
    arr = (np.arange(24) % 3).astype(dtype).reshape(2, 3, 4)
    out = s.loads(s.dumps(arr))
    assert out.dtype == arr.dtype
    assert out.shape == arr.shape
    assert np.array_equal(out, arr)
    out[0, 0, 0] = 1  # writable
    fortran = np.asfortranarray(np.arange(6, dtype="f8").reshape(2, 3))
    assert np.array_equal(s.loads(s.dumps(fortran)), fortran)


def test_safe_refuses_unknown_types_and_object_arrays() -> None:
    """Types with no safe encoding raise SerializationError naming the type."""
    s = SafeSerializer()
    with pytest.raises(SerializationError, match="object"):
        s.dumps(object())
    with pytest.raises(SerializationError, match="dtype=object"):
        s.dumps(np.array([object()]))


def test_safe_never_imports_on_read() -> None:
    """A stored class whose module is not imported is refused instead of imported."""
    s = SafeSerializer()
    data = s.dumps(Point(1, 2)).replace(
        b"test_serializer", b"not_a_module_xy"
    )  # same length: msgpack strings are length-prefixed
    with pytest.raises(IntegrityError, match="not imported"):
        s.loads(data)


def test_registered_types_are_rebuilt() -> None:
    """A class registered with the serializer is rebuilt on read."""
    s = SafeSerializer(types=[Point])
    assert s.loads(s.dumps(Point(3, 4))) == Point(3, 4)


def test_json_serializer() -> None:
    """JsonSerializer handles JSON types and numpy, and names what it cannot encode."""
    j = JsonSerializer()
    assert j.loads(j.dumps({"a": [1, 2.5, None]})) == {"a": [1, 2.5, None]}
    assert j.loads(j.dumps(np.arange(3))) == [0, 1, 2]
    with pytest.raises(SerializationError, match="set"):
        j.dumps({1, 2})
    with pytest.raises(IntegrityError):
        j.loads(b"{not json")


def test_pickle_signed_rejects_tampering() -> None:
    """A signed pickle payload that was altered is refused before unpickling."""
    p = PickleSerializer(secret="k")
    data = bytearray(p.dumps({"x": 1}))
    assert p.loads(bytes(data)) == {"x": 1}
    data[-2] ^= 0xFF
    with pytest.raises(IntegrityError, match="signature"):
        p.loads(bytes(data))
    with pytest.raises(IntegrityError):
        PickleSerializer(secret="other").loads(p.dumps(1))
    assert p.signed
    with pytest.warns(UserWarning, match="without a signature check"):
        assert not PickleSerializer(allow_unsigned=True).signed


def test_pickle_unsigned_and_errors() -> None:
    """Unsigned pickle (allowed by name) round-trips; unpicklable values: SerializationError."""
    with pytest.warns(UserWarning, match="allow_unsigned"):
        p = PickleSerializer(allow_unsigned=True)
    assert p.loads(p.dumps({1: {2}})) == {1: {2}}
    with pytest.raises(SerializationError, match="lambda"):
        p.dumps(lambda: 1)


try:
    import zstandard  # noqa: F401
except ImportError:  # the core-only environment runs these tests without the zstd extra
    HAVE_ZSTD = False
else:
    HAVE_ZSTD = True


@pytest.mark.parametrize(
    "make",
    [
        lambda: GzipCompressor(level=1),
        pytest.param(
            lambda: ZstdCompressor(level=3),
            marks=pytest.mark.skipif(not HAVE_ZSTD, reason="zstd extra not installed"),
        ),
    ],
    ids=["gzip", "zstd"],
)
def test_compressors_round_trip_and_reject_garbage(make: Any) -> None:
    """Compressors round-trip and raise IntegrityError on corrupt input."""
    comp = make()
    data = b"abc" * 1000
    packed = comp.compress(data)
    assert len(packed) < len(data) // 10
    assert comp.decompress(packed) == data
    with pytest.raises(IntegrityError):
        comp.decompress(b"\x00\x01garbage")
