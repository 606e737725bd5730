"""Canonical, injective cache keys: ``namespace:type:digest``.

Two requests that mean the same thing must share a key, and two that differ must not. The
request is first brought to a canonical form, then encoded with sorted keys and hashed:

* dict order never matters (keys are sorted after encoding);
* ``1`` and ``1.0`` are the same number (Python itself says ``1 == 1.0``), ``-0.0`` is ``0``,
  and NaN/infinity are encoded explicitly instead of JSON's lossy ``null``;
* strings are brought to Unicode NFC, so a precomposed ``"é"`` and ``"e" + U+0301`` match;
* values JSON cannot tell apart (bytes vs str, tuples of pairs vs dicts with int keys, sets,
  numpy arrays, big ints) are wrapped in a tagged list whose first item starts with NUL. A
  user string that itself starts with NUL is escaped by doubling it, so a tag can never be
  forged by data: the encoding stays injective.

The digest is BLAKE2b-128 (32 hex characters): collision odds stay negligible (~1e-20 at a
billion keys) where the README's 64-bit ``sha256[:16]`` would not.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import decimal
import enum
import hashlib
import math
import unicodedata
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from omnicache_ai.core.errors import ConfigurationError, SerializationError

__all__ = ["CacheKeyBuilder", "canonical_bytes", "escape_segment"]

_TAG = "\x00"
_MAX_SAFE_INT = 2**63 - 1
_NFC = unicodedata.normalize
_is_nfc = unicodedata.is_normalized


def _norm_str(s: str) -> str:
    # ASCII is always NFC; the check is a C loop, far cheaper than normalizing.
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates (text cut mid-pair by a JS client, say) are not UTF-8, so no
            # JSON encoder writes them. Key them by their surrogatepass bytes, tagged so
            # no real string can produce the same form.
            return _TAG + "u" + s.encode("utf-8", "surrogatepass").hex()
        if not _is_nfc("NFC", s):
            s = _NFC("NFC", s)
    if s.startswith(_TAG):
        s = _TAG + s  # escape: data may not impersonate a type tag
    return s


def _norm_float(x: float) -> Any:
    if math.isfinite(x):
        if x.is_integer() and abs(x) <= 2**53:
            return int(x)
        return x
    return [_TAG + "f", repr(x)]


def _sort_key(item: Any) -> bytes:
    return orjson.dumps(item, option=orjson.OPT_SORT_KEYS)


def _normalize(obj: Any) -> Any:
    """Return a JSON-encodable structure that encodes ``obj`` canonically and injectively."""
    t = type(obj)
    if t is str:
        return _norm_str(obj)
    if t is int:
        return obj if -_MAX_SAFE_INT <= obj <= _MAX_SAFE_INT else [_TAG + "i", str(obj)]
    if obj is None or t is bool:
        return obj
    if t is float:
        return _norm_float(obj)
    if t is dict or isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            if type(k) is not str:
                return _normalize_mapping_with_odd_keys(obj)
            out[_norm_str(k)] = _normalize(v)
        return out
    if t is list or t is tuple:
        return [_normalize(v) for v in obj]
    return _normalize_other(obj)


def _normalize_mapping_with_odd_keys(obj: Mapping[Any, Any]) -> Any:
    pairs = [[_normalize(k), _normalize(v)] for k, v in obj.items()]
    pairs.sort(key=lambda p: _sort_key(p[0]))
    return [_TAG + "m", pairs]


def _normalize_other(obj: Any) -> Any:
    if isinstance(obj, bool | int):  # subclasses such as IntEnum are handled below
        if isinstance(obj, enum.Enum):
            return [_TAG + "e", type(obj).__qualname__, _normalize(obj.value)]
        return _normalize(int(obj))
    if isinstance(obj, float):
        return _norm_float(float(obj))
    if isinstance(obj, str):
        return _norm_str(str(obj))
    if isinstance(obj, bytes | bytearray | memoryview):
        return [_TAG + "b", base64.b64encode(bytes(obj)).decode("ascii")]
    if isinstance(obj, set | frozenset):
        items = [_normalize(v) for v in obj]
        items.sort(key=_sort_key)
        return [_TAG + "s", items]
    if isinstance(obj, enum.Enum):
        return [_TAG + "e", type(obj).__qualname__, _normalize(obj.value)]
    if isinstance(obj, _dt.datetime | _dt.date | _dt.time):
        return [_TAG + "t", obj.isoformat()]
    if isinstance(obj, decimal.Decimal | uuid.UUID):
        return [_TAG + "x", type(obj).__name__, str(obj)]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        return [_TAG + "o", type(obj).__qualname__, _normalize(fields)]
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump):  # pydantic v2 models (OpenAI/Anthropic SDK types among them)
        return [_TAG + "o", type(obj).__qualname__, _normalize(model_dump(mode="json"))]
    tobytes = getattr(obj, "tobytes", None)
    if callable(tobytes) and hasattr(obj, "dtype") and hasattr(obj, "shape"):  # numpy
        raw = tobytes()
        return [_TAG + "a", str(obj.dtype), list(obj.shape), hashlib.blake2b(raw).hexdigest()]
    item = getattr(obj, "item", None)
    if callable(item) and hasattr(obj, "dtype"):  # numpy scalar
        return _normalize(item())
    raise SerializationError(
        f"cannot build a cache key from a value of type {type(obj).__module__}."
        f"{type(obj).__qualname__}; pass str, numbers, bytes, lists, dicts, sets, dataclasses, "
        "pydantic models or numpy arrays"
    )


def canonical_bytes(obj: Any) -> bytes:
    """Encode ``obj`` to bytes that are equal exactly when the inputs mean the same thing.

    Example:
        >>> canonical_bytes({"b": 1.0, "a": "x"}) == canonical_bytes({"a": "x", "b": 1})
        True
    """
    return orjson.dumps(_normalize(obj), option=orjson.OPT_SORT_KEYS)


def escape_segment(segment: str) -> str:
    """Escape ``%`` and ``:`` so a namespace or type segment cannot fake a key boundary.

    Example:
        >>> escape_segment("team:a")
        'team%3Aa'
    """
    if "%" in segment or ":" in segment:
        return segment.replace("%", "%25").replace(":", "%3A")
    return segment


class CacheKeyBuilder:
    """Build ``namespace:type:digest`` keys from arbitrary request payloads.

    Args:
        namespace: The first key segment; separates applications sharing one backend.
        digest_size: Bytes of BLAKE2b digest (16 gives 32 hex characters).

    Example:
        >>> kb = CacheKeyBuilder(namespace="myapp")
        >>> key = kb.build("response", {"model": "gpt-4o", "messages": [{"role": "user",
        ...                                                             "content": "hi"}]})
        >>> key.startswith("myapp:response:")
        True
    """

    __slots__ = ("_digest_size", "_prefix", "namespace")

    def __init__(self, namespace: str = "omnicache", digest_size: int = 16) -> None:
        if not isinstance(namespace, str) or not namespace:
            raise ConfigurationError(f"namespace must be a non-empty string, got {namespace!r}")
        if not 8 <= digest_size <= 64:
            raise ConfigurationError(f"digest_size must be between 8 and 64, got {digest_size}")
        self.namespace = namespace
        self._digest_size = digest_size
        self._prefix = escape_segment(namespace) + ":"

    @property
    def digest_size(self) -> int:
        """Bytes of BLAKE2b digest in each key (its hex form has twice as many characters)."""
        return self._digest_size

    def digest(self, payload: Any) -> str:
        """Hex digest of the canonical encoding of ``payload``."""
        data = payload if type(payload) is bytes else canonical_bytes(payload)
        return hashlib.blake2b(data, digest_size=self._digest_size).hexdigest()

    def build(self, type_: str, payload: Any, extra: Mapping[str, Any] | None = None) -> str:
        """Return ``namespace:type:digest`` for ``payload``.

        Args:
            type_: What is cached (``"response"``, ``"embedding"`` ...); a key segment.
            payload: Anything :func:`canonical_bytes` accepts: the request that determines
                the answer.
            extra: More fields that change the answer (``{"model": "gpt-4o"}``), kept apart
                from ``payload``: ``build(t, p, extra=e)`` never equals ``build(t, x)`` for a
                non-bytes ``x`` (the form omnicache-ai 0.3.0 used; putting everything in
                ``payload`` works as well).

        Example:
            >>> kb = CacheKeyBuilder(namespace="myapp")
            >>> kb.build("embedding", "hi", extra={"model": "a"}) != kb.build(
            ...     "embedding", "hi", extra={"model": "b"})
            True
        """
        if extra is None:
            return f"{self._prefix}{escape_segment(type_)}:{self.digest(payload)}"
        if not isinstance(extra, Mapping):
            raise TypeError(f"extra must be a mapping of fields, got {type(extra).__name__}")
        # canonical_bytes is JSON: it never holds a raw NUL, so the separator keeps the pair
        # (payload, extra) apart from every single payload and from every other split.
        data = canonical_bytes(payload) + b"\x00" + canonical_bytes(extra)
        return f"{self._prefix}{escape_segment(type_)}:{self.digest(data)}"

    def prefix(self, type_: str | None = None) -> str:
        """The key prefix of this namespace, or of one ``type_`` inside it."""
        return self._prefix if type_ is None else f"{self._prefix}{escape_segment(type_)}:"

    def __repr__(self) -> str:
        return f"CacheKeyBuilder(namespace={self.namespace!r})"
