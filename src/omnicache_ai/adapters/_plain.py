"""Plain (JSON-shaped) forms of host-framework objects, for cache keys and stored records.

Agent frameworks hand us pydantic models, dataclasses, enums and protobuf messages. A cache
key must be built from what changes the answer, in a canonical form, and a stored record must
survive the safe serializer without pickle; both start from the same plain form: dicts, lists,
strings, numbers, booleans and ``None``.

Shared by the agent adapters so each one translates its host's types and nothing more.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
from collections.abc import Mapping
from typing import Any

__all__ = ["describe_callable", "plain"]


def plain(obj: Any, *, _depth: int = 0) -> Any:
    """The JSON-shaped form of ``obj``; objects with no data form become their type name.

    Pydantic models dump by alias (the wire names the provider sees) without ``None`` fields;
    dataclasses dump their fields; protobuf messages their JSON form; enums their value.

    Example:
        >>> import dataclasses
        >>> @dataclasses.dataclass
        ... class Tool:
        ...     name: str
        ...     strict: bool = True
        >>> plain({"tools": [Tool("add")], "n": (1, 2)})
        {'tools': [{'name': 'add', 'strict': True}], 'n': [1, 2]}
    """
    if _depth > 32:  # a cyclic or absurdly deep object: its type is all a key can hold
        return f"<{type(obj).__qualname__}>"
    d = _depth + 1
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, enum.Enum):
        return plain(obj.value, _depth=d)
    if isinstance(obj, bytes | bytearray):
        return bytes(obj).hex()
    if isinstance(obj, Mapping):
        return {str(k): plain(v, _depth=d) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        items = [plain(v, _depth=d) for v in obj]
        return sorted(items, key=repr) if isinstance(obj, set | frozenset) else items
    dump = getattr(obj, "model_dump", None)
    if callable(dump) and not isinstance(obj, type):
        return plain(dump(mode="json", by_alias=True, exclude_none=True), _depth=d)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: plain(getattr(obj, f.name), _depth=d)
            for f in dataclasses.fields(obj)
            if not f.name.startswith("_")
        }
    descriptor = getattr(obj, "DESCRIPTOR", None)
    if descriptor is not None and hasattr(obj, "SerializeToString"):
        # protobuf is the host's dependency, not ours: reached only when it handed us a message.
        json_format = importlib.import_module("google.protobuf.json_format")
        return plain(json_format.MessageToDict(obj), _depth=d)
    if callable(obj):
        return describe_callable(obj)
    return f"<{type(obj).__qualname__}>"


def describe_callable(fn: Any) -> str:
    """A stable name for a callable: its module and qualified name (never its address).

    Example:
        >>> describe_callable(len)
        'builtins.len'
    """
    module = getattr(fn, "__module__", None) or type(fn).__module__
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}.{name}"
