"""Tag-checked reads with one plain ``GET``: tag generations cached per connection.

The manager's hit path on Redis must tell whether a tagged entry is still valid (every tag
counter it recorded still holds the same generation) in one round trip. Running a Lua
script on every read does it, but costs the server about six times a ``GET`` and the client
the packing of a seven-argument ``EVALSHA``. This module does the same check with a plain
read, using Redis client-side caching (``CLIENT TRACKING``, Redis >= 6, RESP3):

* Each connection of a dedicated read pool speaks RESP3 and has tracking on, in ``OPTIN``
  mode: only the tag counters it reads (after ``CLIENT CACHING YES``) are tracked, never the
  cache entries themselves.
* The connection keeps the counters it read in a small dict. When any client changes,
  deletes, expires or evicts one of them (or flushes the database), the server pushes an
  ``invalidate`` message **on that same connection**, queued before the reply to any
  command the connection sends afterwards.
* A read sends one ``GET`` of the entry. An untagged entry is served at once. A tagged
  entry's counters are looked up in the dict: the reply to the ``GET`` came after every
  invalidation of a counter changed before the ``GET`` ran, so a counter still in the
  dict holds exactly the value the server had when it read the entry: the same guarantee
  as the script's atomic check. A counter not in the dict is fetched (``MGET``, in the same
  send as ``CLIENT CACHING YES``): one extra round trip per connection and counter, after
  which that counter costs nothing until it changes.
* A reconnect (server restart, timeout) starts an empty dict: counters are never trusted
  across connections. A lost counter reads as missing, which retires the entries that
  recorded it, as with the script.

Everything here is pure (no I/O): the sync and async backends call the same functions and
differ only in how they send and receive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from omnicache_ai.core import envelope as _env

__all__ = [
    "ATTR",
    "MAX_COUNTERS",
    "TrackingUnsupported",
    "counters",
    "forget",
    "fresh",
    "read_command",
    "remember",
    "sized",
    "unknown",
]

#: Attribute of a tracked connection holding its counter cache.
ATTR: Final = "_omnicache_tag_gens"
#: Counters kept per connection; past this the dict is emptied (the server keeps
#: tracking them, so a stale value can never be served, only refetched).
MAX_COUNTERS: Final = 10_000
#: The commands a tracked connection runs once, right after connecting.
TRACKING_ON: Final = ("CLIENT", "TRACKING", "ON", "OPTIN")
CACHING_YES: Final = ("CLIENT", "CACHING", "YES")

_HEAD: Final = _env.MAGIC + bytes([_env.VERSION])
_HEAD_LEN: Final = 6


class TrackingUnsupported(Exception):
    """The server or client cannot track keys (no RESP3 / ``CLIENT TRACKING``)."""


def read_command(raw_key: bytes, limit: int | None) -> bytes:
    """The packed command reading one entry: ``GET``, or ``GETRANGE 0 limit`` with a bound.

    ``GETRANGE`` sends at most ``limit + 1`` bytes, so an oversize value planted by another
    writer is recognised (longer than ``limit``) without being sent whole.

    Example:
        >>> read_command(b"k", None)
        b'*2\\r\\n$3\\r\\nGET\\r\\n$1\\r\\nk\\r\\n'
    """
    if limit is None:
        return b"*2\r\n$3\r\nGET\r\n$%d\r\n%b\r\n" % (len(raw_key), raw_key)
    end = b"%d" % limit
    return b"*4\r\n$8\r\nGETRANGE\r\n$%d\r\n%b\r\n$1\r\n0\r\n$%d\r\n%b\r\n" % (
        len(raw_key),
        raw_key,
        len(end),
        end,
    )


def sized(reply: Any, limit: int | None) -> Any:
    """The read's answer as the script gave it: ``None`` (missing), bytes, or a length (too big).

    ``GETRANGE`` answers ``b""`` for a missing key; an empty value is no envelope either, so
    both read as missing.

    Example:
        >>> sized(b"", 10), sized(b"abc", 10), sized(b"x" * 11, 10)
        (None, b'abc', 11)
    """
    if limit is None or type(reply) is not bytes:
        return reply
    if not reply:
        return None
    return len(reply) if len(reply) > limit else reply


def counters(raw: bytes, prefix: bytes) -> list[tuple[bytes, int]] | None:
    """``(counter key, recorded generation)`` of each tag of an envelope, else ``None``.

    ``None`` also for anything that is not a well-formed tagged envelope (untagged, foreign,
    truncated): it is served as is and the manager's parser judges it.

    Example:
        >>> counters(_env.encode(b"p", 1, 0, [("t:a", 7)]), b"app:")
        [(b'app:t:a', 7)]
    """
    size = len(raw)
    if size <= _HEAD_LEN or not raw[5] or raw[:3] != _HEAD:
        return None
    out: list[tuple[bytes, int]] = []
    pos = _HEAD_LEN
    for _ in range(raw[5]):
        if pos + 2 > size:
            return None
        end = pos + 2 + ((raw[pos] << 8) | raw[pos + 1])
        if end + 8 > size:
            return None
        out.append((prefix + raw[pos + 2 : end], int.from_bytes(raw[end : end + 8], "big")))
        pos = end + 8
    return out


def unknown(pairs: Sequence[tuple[bytes, int]], gens: dict[bytes, int | None]) -> list[bytes]:
    """Counter keys of ``pairs`` not in the connection's cache (each once)."""
    missing = [key for key, _ in pairs if key not in gens]
    return list(dict.fromkeys(missing)) if len(missing) > 1 else missing


def remember(gens: dict[bytes, int | None], keys: Sequence[bytes], values: Sequence[Any]) -> None:
    """Cache the counters just read (tracked from now on); ``None``: missing or not a number."""
    if len(gens) + len(keys) > MAX_COUNTERS:
        gens.clear()
    for key, value in zip(keys, values, strict=True):
        try:
            gens[key] = int(value) if value is not None else None
        except (TypeError, ValueError):
            gens[key] = None


def fresh(pairs: Sequence[tuple[bytes, int]], gens: dict[bytes, int | None]) -> bool:
    """Whether every recorded generation equals its counter's cached value.

    Example:
        >>> pairs = [(b"c", 3)]
        >>> fresh(pairs, {b"c": 3}), fresh(pairs, {b"c": 4}), fresh(pairs, {b"c": None})
        (True, False, False)
    """
    return all(gens.get(key) == gen for key, gen in pairs)


def forget(gens: dict[bytes, int | None], push: Any) -> None:
    """Apply an ``invalidate`` push: drop the keys it names (``None``: a flush, drop all)."""
    keys = push[1] if isinstance(push, list | tuple) and len(push) > 1 else None
    if not isinstance(keys, list | tuple):
        gens.clear()
        return
    for key in keys:
        gens.pop(key.encode() if isinstance(key, str) else key, None)
