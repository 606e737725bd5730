"""Hostile entries: bytes a foreign writer planted in a shared store, read by every path.

:class:`HostileEntries` is a test class to subclass with a ``backend`` fixture (as
``BackendConformance`` is): tests/core runs it on the embedded backends, tests/redis on a
real ``redis-server``. Whatever the stored bytes, no read path of the manager or of a layer
may raise, crash or run code: an undecodable entry is a miss, counted and logged once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import decimal
import gzip
import logging
import pickle
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnicache_ai import CacheManager
from omnicache_ai.core import envelope
from omnicache_ai.core._ops import sync_ops
from omnicache_ai.core.cache_manager import MISSING
from omnicache_ai.core.serializer import MAX_DEPTH, PickleSerializer, SafeSerializer

KEY = "planted"
_SAFE = SafeSerializer()


@dataclasses.dataclass
class Point:
    """A dataclass a reader has imported, so its stored records are rebuilt."""

    x: int
    y: int


def _safe_env(packed: bytes, tags: list[tuple[str, int]] | None = None) -> bytes:
    """A well-framed SafeSerializer envelope around a msgpack body."""
    return envelope.encode(b"m" + packed, SafeSerializer.format_id, 0, tags or [])


def _ext(code: int, body: Any) -> msgpack.ExtType:
    return msgpack.ExtType(code, msgpack.packb(body))


def nested_tuples(depth: int) -> bytes:
    """A SafeSerializer envelope of ``depth`` tuples nested in each other (a few hundred bytes)."""
    packed = msgpack.packb([1])
    for _ in range(depth):
        packed = msgpack.packb([msgpack.ExtType(2, packed)])
    return _safe_env(packed)


#: Entries that used to raise into the caller or kill the process, by name.
CORRUPT_SHAPES: dict[str, bytes] = {
    "header truncated to 3 bytes": b"OC\x01",
    "header truncated to 6 bytes": b"OC\x01\x01\x00\x00",
    "header with one tag truncated": b"OC\x01\x01\x00\x01\x00",
    "bad Decimal": _safe_env(msgpack.packb(msgpack.ExtType(7, b"1.2.3"))),
    "timedelta out of range": _safe_env(msgpack.packb(_ext(13, [10**12, 0, 0]))),
    "empty numpy scalar": _safe_env(msgpack.packb(_ext(11, ["<f8", b""]))),
    "object record with a non-string name": _safe_env(msgpack.packb(_ext(9, ["dc", 5, {}]))),
    "object record of the wrong shape": _safe_env(msgpack.packb(_ext(9, 7))),
    "numpy object dtype": _safe_env(
        msgpack.packb(
            msgpack.ExtType(
                1, len(h := msgpack.packb(["|O", [1]])).to_bytes(4, "big") + h + b"\0" * 8
            )
        )
    ),
    # One level past the bound: refused, yet shallow enough that even an unbounded decoder
    # would not crash this process. The deep payload that used to (SIGSEGV) is read in a
    # subprocess by tests/core/test_hostile_entries.py, so a crash shows as a failure.
    "extensions nested past MAX_DEPTH": nested_tuples(MAX_DEPTH + 1),
    "invalid UTF-8 string": envelope.encode(b"s\xff\xfe", SafeSerializer.format_id),
    "corrupt gzip": envelope.encode(b"\x1f\x8bnot gzip", SafeSerializer.format_id, 1),
    "unknown codec": envelope.encode(b"sx", SafeSerializer.format_id, 77),
    "corrupt JSON": envelope.encode(b"{nope", 2),
    "unknown format": envelope.encode(b"x", 200),
    "bigint past the digit limit": _safe_env(msgpack.packb(msgpack.ExtType(10, b"9" * 5000))),
}


# A tag key that is not UTF-8: a miss where the reader parses tags itself, a hit where the
# server checked the generation on the raw bytes (Redis get_checked); never an exception.
_ODD_TAG = envelope.encode(b"sx", SafeSerializer.format_id, 0, [("t", 0)])
ODD_SHAPES = [_ODD_TAG[:8] + b"\xff" + _ODD_TAG[9:]]


def _valid_bases() -> list[bytes]:
    """Valid envelopes of every kind the default manager writes (mutated by the fuzz test)."""
    values: list[Any] = [
        "an answer",
        b"raw",
        {"answer": 42, "tags": ("a", ("b", frozenset({1})))},
        [1.5, None, True, {"k": {2, 3}}],
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.float64(2.5),
        decimal.Decimal("1.25"),
        uuid.UUID(int=7),
        Point(1, 2),
        10**40,
    ]
    out = [envelope.encode(_SAFE.dumps(v), 1) for v in values]
    out.append(envelope.encode(_SAFE.dumps({"x": [1, 2]}), 1, 0, [("__omnicache__:t:a", 0)]))
    out.append(envelope.encode(gzip.compress(_SAFE.dumps("z" * 600)), 1, 1))
    out.append(envelope.encode(b'{"a": [1, 2]}', 2))
    return out


VALID_BASES = _valid_bases()


@st.composite
def hostile_bytes(draw: st.DrawFn, bases: list[bytes] | None = None) -> bytes:
    """Arbitrary bytes, a known corrupt shape, or a valid envelope flipped/cut/extended."""
    kind = draw(st.sampled_from(["arbitrary", "shape", "mutated", "mutated", "mutated"]))
    if kind == "arbitrary":
        prefix = draw(st.sampled_from([b"", b"OC", b"OC\x01", b"OC\x01\x01\x00"]))
        return prefix + draw(st.binary(max_size=48))
    if kind == "shape":
        return draw(st.sampled_from([*CORRUPT_SHAPES.values(), *ODD_SHAPES]))
    data = bytearray(draw(st.sampled_from(bases or VALID_BASES)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "truncate", "extend", "insert"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "truncate":
            del data[at:]
        elif op == "extend":
            data += draw(st.binary(min_size=1, max_size=16))
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


_PWNED: list[str] = []


def _pwn(path: str) -> None:
    """What a planted pickle runs when unpickled: leave a file and a flag behind."""
    Path(path).write_text("pwned")
    _PWNED.append(path)


class _Exploit:
    """An object whose unpickling calls :func:`_pwn`."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Callable[[str], None], tuple[str]]:
        return (_pwn, (self.path,))


def _read_paths(manager: CacheManager) -> dict[str, Callable[[], Any]]:
    """Every manager read of ``KEY``, each returning the value read (or MISSING)."""

    async def agm() -> Any:
        return (await manager.aget_many([KEY])).get(KEY, MISSING)

    async def aex() -> Any:
        return MISSING if not await manager.aexists(KEY) else "present"

    return {
        "get": lambda: manager.get(KEY, MISSING),
        "get_many": lambda: manager.get_many([KEY]).get(KEY, MISSING),
        "exists": lambda: MISSING if not manager.exists(KEY) else "present",
        "get_or_set": lambda: manager.get_or_set(KEY, lambda: "fresh"),
        "aget": lambda: asyncio.run(manager.aget(KEY, MISSING)),
        "aget_many": lambda: asyncio.run(agm()),
        "aexists": lambda: asyncio.run(aex()),
        "aget_or_set": lambda: asyncio.run(manager.aget_or_set(KEY, lambda: "fresh")),
    }


class HostileEntries:
    """Planted bytes are misses on every read path; subclass with a ``backend`` fixture."""

    fuzz_examples = 60

    @pytest.fixture
    def backend(self) -> Iterator[Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def manager(self, backend: Any) -> CacheManager:
        return CacheManager(backend=backend)

    @staticmethod
    def plant(manager: CacheManager, raw: bytes, key: str = KEY) -> None:
        """Write ``raw`` straight into the backend under the storage key of ``key``."""
        sync_ops(manager.backend).set(manager._skey(key), raw, None)

    @pytest.mark.parametrize("shape", list(CORRUPT_SHAPES))
    def test_corrupt_entry_is_a_counted_miss_everywhere(
        self, manager: CacheManager, shape: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A corrupt entry is a miss on every path (get_or_set recomputes), counted, logged once."""
        caplog.set_level(logging.WARNING, logger="omnicache_ai")
        for name, read in _read_paths(manager).items():
            self.plant(manager, CORRUPT_SHAPES[shape])
            errors = manager.metrics.snapshot()["errors"]
            got = read()
            expected = "fresh" if name.endswith("get_or_set") else MISSING
            assert got == expected, f"{name} read {got!r} from a corrupt entry ({shape})"
            assert manager.metrics.snapshot()["errors"] > errors, f"{name} did not count it"
        decode_logs = [r for r in caplog.records if ".decode failed" in r.getMessage()]
        assert len(decode_logs) == 1, [r.getMessage() for r in decode_logs]

    def test_unsigned_pickle_never_runs_in_a_default_manager(
        self, manager: CacheManager, tmp_path: Path
    ) -> None:
        """A planted pickle (format 3; format 4 unsigned or forged) is never unpickled."""
        target = tmp_path / "pwned"
        body = pickle.dumps(_Exploit(str(target)))
        planted = [
            envelope.encode(body, 3),  # unsigned PickleSerializer format
            envelope.encode(body, 4),  # "signed" format without a signature
            envelope.encode(b"\0" * 32 + body, 4),  # forged signature
            envelope.encode(PickleSerializer(secret="attacker").dumps(_Exploit(str(target))), 4),
        ]
        other = CacheManager(backend=manager.backend, serializer=PickleSerializer(secret="ours"))
        for reader in (manager, other):
            for raw in planted:
                for name, read in _read_paths(reader).items():
                    self.plant(reader, raw)
                    errors = reader.metrics.snapshot()["errors"]
                    got = read()
                    assert got == ("fresh" if name.endswith("get_or_set") else MISSING), name
                    assert reader.metrics.snapshot()["errors"] > errors, name
        assert not target.exists()
        assert str(target) not in _PWNED

    def test_signed_pickle_still_reads_with_the_same_secret(self, backend: Any) -> None:
        """The matching PickleSerializer(secret=...) still reads its own entries (control)."""
        ours = CacheManager(backend=backend, serializer=PickleSerializer(secret="ours"))
        ours.set(KEY, Point(3, 4))
        assert ours.get(KEY) == Point(3, 4)

    def test_lone_surrogates_behave_the_same_on_every_backend(self, manager: CacheManager) -> None:
        """Values and messages with lone surrogates round-trip; keys and tags get a ValueError."""
        from omnicache_ai.layers import ContextCache, ResponseCache

        odd = "cut \ud83d"
        manager.set("plain", {"text": odd, "t": (odd,)})
        assert manager.get("plain") == {"text": odd, "t": (odd,)}
        assert manager.get_many(["plain"]) == {"plain": {"text": odd, "t": (odd,)}}
        assert asyncio.run(manager.aget("plain")) == {"text": odd, "t": (odd,)}
        for bad in (
            lambda: manager.set(odd, 1),
            lambda: manager.get(odd),
            lambda: manager.get_many([odd]),
            lambda: manager.set("k", 1, tags=[odd]),
            lambda: manager.invalidate(odd),
            lambda: asyncio.run(manager.aset(odd, 1)),
            lambda: asyncio.run(manager.aget(odd)),
            lambda: asyncio.run(manager.ainvalidate(odd)),
        ):
            with pytest.raises(ValueError, match="lone surrogate"):
                bad()
        assert manager.metrics.snapshot()["errors"] == 0
        responses = ResponseCache(manager)
        msgs = [{"role": "user", "content": odd}]
        responses.set(msgs, {"content": odd}, model_id="m")
        assert responses.get(msgs, model_id="m") == {"content": odd}
        assert asyncio.run(responses.aget(msgs, model_id="m")) == {"content": odd}
        assert responses.get([{"role": "user", "content": "cut "}], model_id="m") is None
        turns = ContextCache(manager)
        turns.set("s", 0, msgs)
        assert turns.get("s", 0) == msgs

    def test_fuzzed_bytes_never_escape_a_manager_read(self, manager: CacheManager) -> None:
        """Arbitrary and mutated-valid bytes under a real key: no manager read path raises."""
        paths = list(_read_paths(manager).values())

        @settings(
            max_examples=self.fuzz_examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(raw=hostile_bytes())
        def run(raw: bytes) -> None:
            for read in paths:
                self.plant(manager, raw)
                read()

        run()

    def test_fuzzed_bytes_never_escape_a_layer_read(self, manager: CacheManager) -> None:
        """Layers reading fuzzed and mutated copies of their own entries never raise."""
        layers = _LayerSet(manager)
        keys = layers.write_all()
        assert keys, "the layers wrote nothing"
        bases = [raw for raw in keys.values() if isinstance(raw, bytes)]

        @settings(
            max_examples=max(self.fuzz_examples // 2, 10),
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(raw=hostile_bytes(bases))
        def run(raw: bytes) -> None:
            for read in layers.reads():
                for key in keys:
                    self.plant(manager, raw, key)
                read()

        run()


class _LayerSet:
    """One of each layer on a manager, with their read paths."""

    def __init__(self, manager: CacheManager) -> None:
        from omnicache_ai.embedders import HashingEmbedder
        from omnicache_ai.layers import (
            ContextCache,
            EmbeddingCache,
            ResponseCache,
            RetrievalCache,
            SemanticCache,
            StreamingResponseCache,
        )

        self.m = manager
        self.resp = ResponseCache(manager)
        self.emb = EmbeddingCache(manager)
        self.ret = RetrievalCache(manager)
        self.ctx = ContextCache(manager)
        self.stream = StreamingResponseCache(manager)
        self.sem = SemanticCache(manager, embedder=HashingEmbedder(dim=64))

    MSGS: ClassVar[list[dict[str, str]]] = [{"role": "user", "content": "hi"}]

    def write_all(self) -> dict[str, Any]:
        """Write one entry per layer; the storage keys written and their raw bytes."""
        before = set(self.m.keys())
        self.resp.set(self.MSGS, {"content": "hello"}, model_id="m")
        self.emb.set("text", np.ones(4, dtype=np.float32), model_id="e")
        self.ret.set("query", [{"id": 1, "text": "doc"}], retriever_id="r")
        self.ctx.set("s1", 0, [{"role": "user", "content": "hi"}])
        self.stream.set(self.MSGS, ["he", "llo"], model_id="m")
        self.sem.set("what is entropy", "disorder")
        ops = sync_ops(self.m.backend)
        return {k: ops.get(k) for k in set(self.m.keys()) - before}

    def reads(self) -> list[Callable[[], Any]]:
        """Every layer read path (sync and async) over the entries of :meth:`write_all`."""
        resp, emb, ret, ctx, stream, sem, msgs = (
            self.resp, self.emb, self.ret, self.ctx, self.stream, self.sem, self.MSGS,
        )  # fmt: skip

        async def every_async() -> None:
            await resp.aget(msgs, model_id="m")
            await resp.aget_or_generate(msgs, lambda _r: {"content": "x"}, model_id="m")
            await emb.aget("text", model_id="e")
            await emb.aget_many(["text"], model_id="e")
            await ret.aget("query", retriever_id="r")
            await ctx.aget("s1", 0)
            await ctx.aget_history("s1")
            await ctx.alatest_turn("s1")
            await stream.aget(msgs, model_id="m")
            await sem.alookup("what is entropy")
            await sem.aget_or_set("what is entropy", lambda: "again")

        return [
            lambda: resp.get(msgs, model_id="m"),
            lambda: resp.get_or_generate(msgs, lambda _r: {"content": "x"}, model_id="m"),
            lambda: emb.get("text", model_id="e"),
            lambda: emb.get_many(["text"], model_id="e"),
            lambda: emb.get_or_compute("text", lambda _t: np.ones(4, np.float32), model_id="e"),
            lambda: ret.get("query", retriever_id="r"),
            lambda: ret.get_or_retrieve("query", lambda _q: [{"id": 2}], retriever_id="r"),
            lambda: ctx.get("s1", 0),
            lambda: ctx.get_turns("s1"),
            lambda: ctx.get_history("s1"),
            lambda: ctx.latest_turn("s1"),
            lambda: stream.get(msgs, model_id="m"),
            lambda: list(stream.get_or_stream(msgs, lambda _r: iter(["a"]), model_id="m")),
            lambda: sem.lookup("what is entropy"),
            lambda: sem.get_or_set("what is entropy", lambda: "again"),
            lambda: asyncio.run(every_async()),
        ]
