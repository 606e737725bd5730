"""Serializers: how a value becomes bytes and back.

The default, :class:`SafeSerializer`, never runs code on the way back: it writes strings and
bytes as they are and everything else as MessagePack with typed extensions (numpy arrays,
tuples, sets, datetimes, decimals, UUIDs, dataclasses and pydantic models). Reading a
dataclass or pydantic model rebuilds it only when its class is already imported in the
reading process (or registered with :meth:`SafeSerializer.register`): stored data can never
make a reader import a module.

:class:`PickleSerializer` handles anything picklable, but unpickling runs code chosen by
whoever wrote the bytes, so it is opt-in, and with a ``secret`` every payload carries an
HMAC-SHA256 tag that is checked before a byte is unpickled; without a secret it must be
asked for by name (``allow_unsigned=True``).

Every serializer has a ``format_id`` (one byte in the envelope), so a reader always knows
how an entry was written; built-in ids are below 64, user serializers take 64-255.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import functools
import hashlib
import hmac
import importlib
import math
import os
import pickle
import sys
import uuid
import warnings
from collections.abc import Callable
from typing import Any, Final, Protocol, TypeVar, runtime_checkable

import msgpack
import orjson

from omnicache_ai.core.errors import ConfigurationError, IntegrityError, SerializationError

__all__ = [
    "JsonSerializer",
    "PickleSerializer",
    "SafeSerializer",
    "Serializer",
]

T = TypeVar("T")


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
        self._hook0 = functools.partial(self._ext_hook, 0)
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
            return b"m" + self._pack(value, 0)
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
                    memoryview(data)[1:],
                    ext_hook=self._hook0,
                    strict_map_key=False,
                    unicode_errors="surrogatepass",
                )
            except IntegrityError:
                raise
            except Exception as err:  # stored bytes are untrusted input
                # Whatever the bytes make a decoder raise (InvalidOperation, OverflowError,
                # IndexError, RecursionError, MemoryError, ...) means one thing to the
                # reader: this entry is unreadable. One error type lets the manager count
                # it as a miss without catching everything at each call site.
                raise IntegrityError(
                    f"corrupt SafeSerializer payload: {type(err).__name__}: {err}"
                ) from err
        raise IntegrityError(f"unknown SafeSerializer payload kind {kind:#x}")

    # -- encoding ----------------------------------------------------------------------
    def _default(self, depth: int, obj: Any) -> Any:
        def pack(inner: Any) -> bytes:
            if depth >= MAX_DEPTH:
                # A reader refuses it (see _unpack): never write what cannot be read.
                raise SerializationError(
                    "SafeSerializer cannot serialize a value nesting tuples, sets, dataclasses "
                    f"or similar types deeper than {MAX_DEPTH} levels"
                )
            return self._pack(inner, depth + 1)

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

    def _pack(self, obj: Any, depth: int) -> bytes:
        # surrogatepass: lone surrogates in text round-trip, as in the top-level str form.
        packed: bytes = msgpack.packb(
            obj,
            default=functools.partial(self._default, depth),
            strict_types=True,
            unicode_errors="surrogatepass",
        )
        return packed

    # -- decoding ----------------------------------------------------------------------
    def _unpack(self, data: bytes, depth: int) -> Any:
        """Decode the msgpack inside an extension, one nesting level down.

        ``msgpack.unpackb`` keeps its whole parse stack (tens of KiB) on the C stack, so a
        payload nesting extensions a few hundred deep overflows it and kills the process
        (SIGSEGV, not an exception). A streaming ``Unpacker`` keeps that state on the heap,
        and ``MAX_DEPTH`` bounds how many levels a stored value may nest at all.
        """
        if depth > MAX_DEPTH:
            raise IntegrityError(f"payload nests extension types deeper than {MAX_DEPTH} levels")
        unpacker = msgpack.Unpacker(
            None,
            ext_hook=functools.partial(self._ext_hook, depth),
            strict_map_key=False,
            unicode_errors="surrogatepass",
            max_buffer_size=max(len(data), 1),
        )
        unpacker.feed(data)
        value = unpacker.unpack()
        if unpacker.tell() != len(data):
            raise IntegrityError("extension payload has trailing bytes")
        return value

    def _ext_hook(self, depth: int, code: int, data: bytes) -> Any:
        depth += 1
        if code == _EXT_TUPLE:
            return tuple(_expect(self._unpack(data, depth), list))
        if code == _EXT_SET:
            return set(_expect(self._unpack(data, depth), list))
        if code == _EXT_FROZENSET:
            return frozenset(_expect(self._unpack(data, depth), list))
        if code == _EXT_BIGINT:
            return int(data.decode())
        if code == _EXT_DATETIME:
            return _dt.datetime.fromisoformat(data.decode())
        if code == _EXT_DATE:
            return _dt.date.fromisoformat(data.decode())
        if code == _EXT_TIME:
            return _dt.time.fromisoformat(data.decode())
        if code == _EXT_TIMEDELTA:
            days, seconds, micros = _expect(self._unpack(data, depth), list)
            return _dt.timedelta(days=days, seconds=seconds, microseconds=micros)
        if code == _EXT_DECIMAL:
            return decimal.Decimal(data.decode())
        if code == _EXT_UUID:
            return uuid.UUID(bytes=bytes(data))
        if code == _EXT_NDARRAY:
            import numpy as np

            hlen = int.from_bytes(data[:4], "big")
            dtype, shape = _expect(self._unpack(data[4 : 4 + hlen], depth), list)
            dt = _plain_dtype(np, dtype)
            arr = np.frombuffer(data, dtype=dt, offset=4 + hlen)
            # frombuffer views the (immutable) payload: copy once so callers own a
            # writable array and can never alias what the cache holds.
            return arr.reshape(_expect(shape, list)).copy()
        if code == _EXT_NPSCALAR:
            import numpy as np

            dtype, raw = _expect(self._unpack(data, depth), list)
            return np.frombuffer(_expect(raw, bytes), dtype=_plain_dtype(np, dtype))[0]
        if code == _EXT_OBJECT:
            kind, name, fields = _expect(self._unpack(data, depth), list)
            cls = self._resolve(_expect(name, str))
            if kind == "pd":
                return cls.model_validate(fields)  # type: ignore[attr-defined]
            return cls(**_expect(fields, dict))
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


def _non_finite(value: Any, path: str) -> str | None:
    """Where in ``value`` a NaN or infinity sits (``"value['a'][0] = nan"``), or ``None``."""
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} = {value!r}"
    if isinstance(value, dict):
        for k, v in value.items():
            found = _non_finite(v, f"{path}[{k!r}]")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = _non_finite(v, f"{path}[{i}]")
            if found:
                return found
    else:
        np = sys.modules.get("numpy")
        if np is not None and isinstance(value, np.ndarray | np.floating):
            arr = np.asarray(value)
            if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
                return f"{path} (a numpy value holding NaN or infinity)"
    return None


#: How deeply extension types (tuples, sets, dataclasses, ...) may nest in a stored value.
MAX_DEPTH: Final = 64


def _expect(value: Any, kind: type[T]) -> T:
    """``value`` if it is a ``kind``; stored bytes of another shape are corrupt."""
    if not isinstance(value, kind):
        raise IntegrityError(f"expected {kind.__name__} in payload, found {type(value).__name__}")
    return value


def _plain_dtype(np: Any, spec: Any) -> Any:
    """The numpy dtype a payload names, refusing object dtypes (raw pointers in the bytes)."""
    dt = np.dtype(_expect(spec, str))
    if dt.hasobject:
        raise IntegrityError("stored numpy payload declares an object dtype; refusing it")
    return dt


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
            data: bytes = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
        except TypeError as err:
            raise SerializationError(
                f"JsonSerializer cannot serialize a value of type {_qualified_name(type(value))}"
                f": {err}"
            ) from err
        # orjson writes NaN and infinities as null: the value would come back changed.
        # Only output holding a null can hide one, so the walk runs only then.
        if b"null" in data:
            where = _non_finite(value, "value")
            if where is not None:
                raise SerializationError(
                    f"JsonSerializer cannot store {where}: JSON has no NaN or infinity (it "
                    "would come back as null); use SafeSerializer or replace the number"
                )
        return data

    def loads(self, data: bytes) -> Any:
        """Decode JSON."""
        try:
            return orjson.loads(data)
        except Exception as err:  # stored bytes are untrusted input
            raise IntegrityError(f"corrupt JSON payload: {err}") from err


# ---- PickleSerializer -----------------------------------------------------------------
_SIG_LEN = 32


class PickleSerializer:
    """Pickle, for values nothing else can encode: opt-in, and signed when given a secret.

    Unpickling executes code chosen by whoever wrote the bytes. With ``secret`` (or the
    ``OMNICACHE_PICKLE_SECRET`` environment variable) each payload is prefixed with an
    HMAC-SHA256 of its bytes, and a payload whose tag does not verify is rejected before
    ``pickle.loads`` sees it. Without a secret the serializer is refused unless
    ``allow_unsigned=True`` says, loudly, that no one else can ever write to the store.

    Args:
        secret: HMAC key shared by every process that reads and writes the cache.
        protocol: Pickle protocol.
        allow_unsigned: Accept running without a secret: any writer of the store can then
            run code in every reader. Emits a warning.

    Raises:
        ConfigurationError: No secret and no ``allow_unsigned=True``.

    Example:
        >>> s = PickleSerializer(secret="k3y")
        >>> s.loads(s.dumps({1, 2}))
        {1, 2}
    """

    def __init__(
        self,
        secret: str | bytes | None = None,
        protocol: int = pickle.HIGHEST_PROTOCOL,
        *,
        allow_unsigned: bool = False,
    ) -> None:
        if secret is None:
            secret = os.environ.get("OMNICACHE_PICKLE_SECRET") or None
        if not secret:
            if not allow_unsigned:
                raise ConfigurationError(
                    "PickleSerializer needs a secret (secret=... or OMNICACHE_PICKLE_SECRET): "
                    "unsigned pickle lets anyone who can write the store run code in every "
                    "reader; pass allow_unsigned=True only for a store no one else can write"
                )
            warnings.warn(
                "PickleSerializer(allow_unsigned=True): entries are unpickled without a "
                "signature check; anyone who can write the store can run code in this process",
                UserWarning,
                stacklevel=2,
            )
            secret = None
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
        try:
            return pickle.loads(data)  # noqa: S301 - opt-in, and verified above when signed
        except Exception as err:  # e.g. a class this process cannot import
            raise IntegrityError(f"cannot unpickle payload: {type(err).__name__}: {err}") from err


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


_NORMALIZED: Final = (SafeSerializer, JsonSerializer, PickleSerializer)


def checked_loads(serializer: Serializer) -> Callable[[bytes], Any]:
    """``serializer.loads``, raising only :class:`IntegrityError` for bytes it cannot decode.

    Stored bytes are untrusted input, and a reader treats every decoding failure the same
    way (a counted miss). The built-in serializers already normalize their errors; a user
    serializer's ``loads`` is wrapped so whatever it raises becomes an ``IntegrityError``.

    Example:
        >>> checked_loads(SafeSerializer())(b"s")
        ''
    """
    if type(serializer) in _NORMALIZED:
        return serializer.loads
    loads = serializer.loads
    name = type(serializer).__name__

    def guarded(data: bytes) -> Any:
        try:
            return loads(data)
        except IntegrityError:
            raise
        except Exception as err:  # stored bytes are untrusted input
            raise IntegrityError(
                f"{name} cannot decode the entry: {type(err).__name__}: {err}"
            ) from err

    return guarded


def import_string(path: str) -> Callable[..., Any]:
    """Import ``module:attr`` (used only for settings chosen by the operator, never data)."""
    module_name, _, attr = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    result: Callable[..., Any] = obj
    return result
