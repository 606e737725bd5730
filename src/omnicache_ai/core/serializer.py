"""Serializers: how a value becomes bytes and back.

The default, :class:`SafeSerializer`, never runs code on the way back: it writes strings and
bytes as they are and everything else as MessagePack with typed extensions (numpy arrays,
tuples, sets, datetimes, decimals, UUIDs, dataclasses and pydantic models). Reading a
dataclass or pydantic model rebuilds it only when its class is already imported in the
reading process (or registered with :meth:`SafeSerializer.register`): stored data can never
make a reader import a module.

:class:`PickleSerializer` handles anything picklable, but unpickling runs code chosen by
whoever wrote the bytes, so it is opt-in, and with a ``secret`` every payload carries an
HMAC-SHA256 tag that is checked before a byte is unpickled. Use a secret whenever the store
is shared (disk, Redis).

Every serializer has a ``format_id`` (one byte in the envelope), so a reader always knows
how an entry was written; built-in ids are below 64, user serializers take 64-255.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import hashlib
import hmac
import importlib
import os
import pickle
import sys
import uuid
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import msgpack
import orjson

from omnicache_ai.core.errors import IntegrityError, SerializationError

__all__ = [
    "JsonSerializer",
    "PickleSerializer",
    "SafeSerializer",
    "Serializer",
]


@runtime_checkable
class Serializer(Protocol):
    """Turns values into bytes and back.

    Attributes:
        format_id: One byte stored in each envelope naming this format (64-255 for
            user-defined serializers).
    """

    format_id: int

    def dumps(self, value: Any) -> bytes:
        """Encode ``value``; raise :class:`SerializationError` naming the type if impossible."""
        ...

    def loads(self, data: bytes) -> Any:
        """Decode bytes written by :meth:`dumps`."""
        ...


# ---- SafeSerializer -------------------------------------------------------------------
# First payload byte says how the rest is encoded; str and bytes skip msgpack entirely,
# which keeps the hot path for the commonest LLM answer (a string) to one decode call.
_STR, _BYTES, _PACK = 0x73, 0x62, 0x6D  # "s", "b", "m"
_P_STR, _P_BYTES = b"s", b"b"

# msgpack extension type codes
_EXT_NDARRAY = 1
_EXT_TUPLE = 2
_EXT_SET = 3
_EXT_FROZENSET = 4
_EXT_DATETIME = 5
_EXT_DATE = 6
_EXT_DECIMAL = 7
_EXT_UUID = 8
_EXT_OBJECT = 9
_EXT_BIGINT = 10
_EXT_NPSCALAR = 11
_EXT_TIME = 12
_EXT_TIMEDELTA = 13


class SafeSerializer:
    """The default serializer: no pickle, no code execution on read.

    Handles ``str``, ``bytes``, ``int`` (any size), ``float``, ``bool``, ``None``, lists,
    tuples, dicts, sets, numpy arrays and scalars (exact dtype and shape), ``datetime``,
    ``date``, ``time``, ``timedelta``, ``Decimal``, ``UUID``, dataclasses and pydantic models.

    Example:
        >>> s = SafeSerializer()
        >>> s.loads(s.dumps({"answer": 42, "tags": ("a", "b")}))
        {'answer': 42, 'tags': ('a', 'b')}
    """

    format_id = 1

    def __init__(self, types: list[type] | None = None) -> None:
        self._registered: dict[str, type] = {}
        for cls in types or ():
            self.register(cls)

    def register(self, cls: type) -> type:
        """Allow ``cls`` (a dataclass or pydantic model) to be rebuilt on read."""
        self._registered[_qualified_name(cls)] = cls
        return cls

    def dumps(self, value: Any) -> bytes:
        """Encode ``value``."""
        t = type(value)
        if t is str:
            return _P_STR + str.encode(value, "utf-8", "surrogatepass")
        if t is bytes:
            return _P_BYTES + bytes(value)
        try:
            return b"m" + self._pack(value)
        except SerializationError:
            raise
        except (TypeError, ValueError, OverflowError) as err:
            raise SerializationError(
                f"SafeSerializer cannot serialize a value of type {_qualified_name(t)}: {err}"
            ) from err

    def loads(self, data: bytes) -> Any:
        """Decode bytes written by :meth:`dumps`."""
        if not data:
            raise IntegrityError("empty payload")
        kind = data[0]
        if kind == _STR:
            return data[1:].decode("utf-8", "surrogatepass")
        if kind == _BYTES:
            return data[1:]
        if kind == _PACK:
            try:
                return msgpack.unpackb(
                    memoryview(data)[1:], ext_hook=self._ext_hook, strict_map_key=False
                )
            except (ValueError, msgpack.UnpackException, TypeError) as err:
                raise IntegrityError(f"corrupt msgpack payload: {err}") from err
        raise IntegrityError(f"unknown SafeSerializer payload kind {kind:#x}")

    # -- encoding ----------------------------------------------------------------------
    def _default(self, obj: Any) -> Any:
        pack = self._pack
        if isinstance(obj, tuple):
            return msgpack.ExtType(_EXT_TUPLE, pack(list(obj)))
        if isinstance(obj, frozenset):
            return msgpack.ExtType(_EXT_FROZENSET, pack(list(obj)))
        if isinstance(obj, set):
            return msgpack.ExtType(_EXT_SET, pack(list(obj)))
        if isinstance(obj, int) and not isinstance(obj, bool):
            if type(obj) is not int:  # IntEnum & co: store the plain value
                return int(obj)
            return msgpack.ExtType(_EXT_BIGINT, str(obj).encode())
        if isinstance(obj, str):
            return str(obj)
        if isinstance(obj, float):
            return float(obj)
        if isinstance(obj, bytes | bytearray | memoryview):
            return bytes(obj)
        if isinstance(obj, dict):  # dict subclasses (OrderedDict, defaultdict)
            return dict(obj)
        if isinstance(obj, list):
            return list(obj)
        if isinstance(obj, _dt.datetime):
            return msgpack.ExtType(_EXT_DATETIME, obj.isoformat().encode())
        if isinstance(obj, _dt.date):
            return msgpack.ExtType(_EXT_DATE, obj.isoformat().encode())
        if isinstance(obj, _dt.time):
            return msgpack.ExtType(_EXT_TIME, obj.isoformat().encode())
        if isinstance(obj, _dt.timedelta):
            return msgpack.ExtType(_EXT_TIMEDELTA, pack([obj.days, obj.seconds, obj.microseconds]))
        if isinstance(obj, decimal.Decimal):
            return msgpack.ExtType(_EXT_DECIMAL, str(obj).encode())
        if isinstance(obj, uuid.UUID):
            return msgpack.ExtType(_EXT_UUID, obj.bytes)
        np = sys.modules.get("numpy")
        if np is not None:
            if isinstance(obj, np.ndarray):
                if obj.dtype.hasobject:
                    raise SerializationError(
                        "SafeSerializer cannot serialize numpy arrays of dtype=object"
                    )
                arr = np.ascontiguousarray(obj)
                header = pack([arr.dtype.str, list(arr.shape)])
                return msgpack.ExtType(
                    _EXT_NDARRAY, len(header).to_bytes(4, "big") + header + arr.tobytes()
                )
            if isinstance(obj, np.generic):
                return msgpack.ExtType(_EXT_NPSCALAR, pack([obj.dtype.str, obj.tobytes()]))
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}
            return msgpack.ExtType(_EXT_OBJECT, pack(["dc", _qualified_name(type(obj)), fields]))
        if callable(getattr(obj, "model_dump", None)) and callable(
            getattr(type(obj), "model_validate", None)
        ):
            data = obj.model_dump(mode="python", round_trip=True)
            return msgpack.ExtType(_EXT_OBJECT, pack(["pd", _qualified_name(type(obj)), data]))
        raise SerializationError(
            f"SafeSerializer cannot serialize a value of type {_qualified_name(type(obj))}; "
            "convert it to str/bytes/dict/list/numpy, make it a dataclass or pydantic model, "
            "or configure PickleSerializer(secret=...) explicitly"
        )

    def _pack(self, obj: Any) -> bytes:
        packed: bytes = msgpack.packb(obj, default=self._default, strict_types=True)
        return packed

    # -- decoding ----------------------------------------------------------------------
    def _unpack(self, data: bytes) -> Any:
        return msgpack.unpackb(data, ext_hook=self._ext_hook, strict_map_key=False)

    def _ext_hook(self, code: int, data: bytes) -> Any:
        if code == _EXT_TUPLE:
            return tuple(self._unpack(data))
        if code == _EXT_SET:
            return set(self._unpack(data))
        if code == _EXT_FROZENSET:
            return frozenset(self._unpack(data))
        if code == _EXT_BIGINT:
            return int(data.decode())
        if code == _EXT_DATETIME:
            return _dt.datetime.fromisoformat(data.decode())
        if code == _EXT_DATE:
            return _dt.date.fromisoformat(data.decode())
        if code == _EXT_TIME:
            return _dt.time.fromisoformat(data.decode())
        if code == _EXT_TIMEDELTA:
            days, seconds, micros = self._unpack(data)
            return _dt.timedelta(days=days, seconds=seconds, microseconds=micros)
        if code == _EXT_DECIMAL:
            return decimal.Decimal(data.decode())
        if code == _EXT_UUID:
            return uuid.UUID(bytes=bytes(data))
        if code == _EXT_NDARRAY:
            import numpy as np

            hlen = int.from_bytes(data[:4], "big")
            dtype, shape = self._unpack(data[4 : 4 + hlen])
            arr = np.frombuffer(data, dtype=np.dtype(dtype), offset=4 + hlen)
            # frombuffer views the (immutable) payload: copy once so callers own a
            # writable array and can never alias what the cache holds.
            return arr.reshape(shape).copy()
        if code == _EXT_NPSCALAR:
            import numpy as np

            dtype, raw = self._unpack(data)
            return np.frombuffer(raw, dtype=np.dtype(dtype))[0]
        if code == _EXT_OBJECT:
            kind, name, fields = self._unpack(data)
            cls = self._resolve(name)
            if kind == "pd":
                return cls.model_validate(fields)  # type: ignore[attr-defined]
            return cls(**fields)
        raise IntegrityError(f"unknown msgpack extension code {code}")

    def _resolve(self, name: str) -> type:
        cls = self._registered.get(name)
        if cls is not None:
            return cls
        module_name, _, qualname = name.partition(":")
        module = sys.modules.get(module_name)  # never import on behalf of stored data
        obj: Any = module
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        if isinstance(obj, type) and (
            dataclasses.is_dataclass(obj) or callable(getattr(obj, "model_validate", None))
        ):
            return obj
        raise IntegrityError(
            f"stored value is a {name} but that class is not imported in this process; "
            "import it or register it with SafeSerializer.register(cls)"
        )


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


# ---- JsonSerializer -------------------------------------------------------------------
class JsonSerializer:
    """Plain JSON (via orjson): readable by any language, safe to read from a shared store.

    Only JSON types round-trip (tuples come back as lists); numpy arrays are written as
    nested lists. Anything else raises :class:`SerializationError` naming its type.

    Example:
        >>> JsonSerializer().loads(JsonSerializer().dumps({"a": [1, 2]}))
        {'a': [1, 2]}
    """

    format_id = 2

    def dumps(self, value: Any) -> bytes:
        """Encode ``value`` as JSON."""
        try:
            return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
        except TypeError as err:
            raise SerializationError(
                f"JsonSerializer cannot serialize a value of type {_qualified_name(type(value))}"
                f": {err}"
            ) from err

    def loads(self, data: bytes) -> Any:
        """Decode JSON."""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as err:
            raise IntegrityError(f"corrupt JSON payload: {err}") from err


# ---- PickleSerializer -----------------------------------------------------------------
_SIG_LEN = 32


class PickleSerializer:
    """Pickle, for values nothing else can encode: opt-in, and signed when given a secret.

    Unpickling executes code chosen by whoever wrote the bytes. With ``secret`` (or the
    ``OMNICACHE_PICKLE_SECRET`` environment variable) each payload is prefixed with an
    HMAC-SHA256 of its bytes, and a payload whose tag does not verify is rejected before
    ``pickle.loads`` sees it. Without a secret, only use it on a store no one else can write.

    Args:
        secret: HMAC key shared by every process that reads and writes the cache.
        protocol: Pickle protocol.

    Example:
        >>> s = PickleSerializer(secret="k3y")
        >>> s.loads(s.dumps({1, 2}))
        {1, 2}
    """

    def __init__(
        self, secret: str | bytes | None = None, protocol: int = pickle.HIGHEST_PROTOCOL
    ) -> None:
        if secret is None:
            secret = os.environ.get("OMNICACHE_PICKLE_SECRET") or None
        self._key = secret.encode() if isinstance(secret, str) else secret
        self._protocol = protocol
        self.format_id = 4 if self._key else 3

    @property
    def signed(self) -> bool:
        """Whether payloads are HMAC-signed."""
        return self._key is not None

    def dumps(self, value: Any) -> bytes:
        """Pickle (and sign) ``value``."""
        try:
            data = pickle.dumps(value, protocol=self._protocol)
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            raise SerializationError(
                f"PickleSerializer cannot pickle a value of type {_qualified_name(type(value))}"
                f": {err}"
            ) from err
        if self._key is None:
            return data
        return hmac.new(self._key, data, hashlib.sha256).digest() + data

    def loads(self, data: bytes) -> Any:
        """Verify the signature (when signed), then unpickle."""
        if self._key is not None:
            tag, body = data[:_SIG_LEN], data[_SIG_LEN:]
            expected = hmac.new(self._key, body, hashlib.sha256).digest()
            if len(tag) != _SIG_LEN or not hmac.compare_digest(tag, expected):
                raise IntegrityError("pickle payload signature does not verify; refusing it")
            data = body
        return pickle.loads(data)  # noqa: S301 - opt-in, and verified above when signed


# Built-in formats a reader may always decode without running stored code.
_SAFE_DEFAULT = SafeSerializer()
_JSON = JsonSerializer()


def builtin_safe_serializer(format_id: int) -> Serializer | None:
    """The shared instance of a safe built-in format, or ``None`` for other ids."""
    if format_id == SafeSerializer.format_id:
        return _SAFE_DEFAULT
    if format_id == JsonSerializer.format_id:
        return _JSON
    return None


def import_string(path: str) -> Callable[..., Any]:
    """Import ``module:attr`` (used only for settings chosen by the operator, never data)."""
    module_name, _, attr = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    result: Callable[..., Any] = obj
    return result
