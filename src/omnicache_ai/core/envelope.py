"""The envelope: the bytes a backend stores for one cache entry.

Layout (all integers big-endian)::

    offset  size  field
    0       2     magic b"OC"
    2       1     version (1)
    3       1     serializer format_id (see core/serializer.py)
    4       1     compressor codec_id (0 = stored as is)
    5       1     number of tags T (0-255)
    6       ...   T times: u16 length L, L bytes of the tag's generation-counter key,
                  u64 generation the tag had when the entry was written
    ...           payload (serialized, then compressed when codec_id != 0)

The tag section is what makes O(1) tag invalidation work across processes: invalidating a
tag increments its counter, and an entry whose recorded generation is behind the counter is
stale. Because the counter keys are spelled out in the header, a server-side script (Redis
Lua, see backends/redis_backend.py) can validate an entry in the same round trip that reads
it: a backend may implement ``get_checked(key)`` that returns the entry only when every
recorded generation equals the counter's current value (a missing counter makes the entry
stale: counters are created at a random origin, so a lost one never matches again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from omnicache_ai.core.errors import IntegrityError

__all__ = ["MAGIC", "VERSION", "Envelope", "encode", "parse", "split_tags"]

MAGIC = b"OC"
VERSION = 1
_HEAD = MAGIC + bytes([VERSION])
_HEAD_LEN = 6


class Envelope(NamedTuple):
    """A parsed envelope."""

    format_id: int
    codec_id: int
    tags: tuple[tuple[str, int], ...]
    payload: bytes


def encode(
    payload: bytes, format_id: int, codec_id: int = 0, tags: Sequence[tuple[str, int]] = ()
) -> bytes:
    """Frame ``payload`` with its format, codec and tag generations.

    Example:
        >>> parse(encode(b"hi", 1, 0, [("t:a", 3)])).tags
        (('t:a', 3),)
    """
    if not tags:
        return b"".join((_HEAD, bytes((format_id, codec_id, 0)), payload))
    if len(tags) > 255:
        raise ValueError(f"an entry can carry at most 255 tags, got {len(tags)}")
    parts = [_HEAD, bytes((format_id, codec_id, len(tags)))]
    for key, gen in tags:
        kb = key.encode()
        parts.append(len(kb).to_bytes(2, "big"))
        parts.append(kb)
        parts.append(gen.to_bytes(8, "big"))
    parts.append(payload)
    return b"".join(parts)


def split_tags(raw: bytes) -> tuple[list[str], list[int], int]:
    """The tag section of an envelope: ``(counter keys, recorded generations, payload offset)``.

    The read path's half of :func:`parse`: it checks the magic but leaves the payload where it
    is (no copy), which is what a cache hit wants.

    Raises:
        IntegrityError: Bad magic, a truncated or undecodable tag section.

    Example:
        >>> split_tags(encode(b"hi", 1, 0, [("t:a", 3)]))
        (['t:a'], [3], 19)
    """
    if len(raw) < _HEAD_LEN or raw[:3] != _HEAD:
        raise IntegrityError("stored bytes are not an omnicache envelope (bad magic/version)")
    keys: list[str] = []
    gens: list[int] = []
    pos = _HEAD_LEN
    try:
        for _ in range(raw[5]):
            end = pos + 2 + ((raw[pos] << 8) | raw[pos + 1])
            keys.append(raw[pos + 2 : end].decode())
            pos = end + 8
            gens.append(int.from_bytes(raw[end:pos], "big"))
    except (IndexError, UnicodeDecodeError) as err:
        raise IntegrityError("corrupt tag section in envelope") from err
    if pos > len(raw):
        raise IntegrityError("truncated envelope")
    return keys, gens, pos


def parse(raw: bytes) -> Envelope:
    """Split stored bytes into an :class:`Envelope`; raise :class:`IntegrityError` if bad."""
    keys, gens, pos = split_tags(raw)
    return Envelope(raw[3], raw[4], tuple(zip(keys, gens, strict=True)), raw[pos:])
