"""In-process LRU backend: the fastest store, bounded by entries and by bytes.

The store behind :class:`InMemoryBackend` and :class:`AsyncInMemoryBackend` is one
thread-safe dict (ordered, when bounded). Expiry is checked on read and swept from
per-TTL queues of deadlines as entries are written, so expired entries neither answer nor
linger. Per entry it keeps little beyond the dict slot (see :class:`_Store`), so 100k
entries of 300 bytes cost within 20% of a plain dict holding the same values, and entries
that carry the same tags (a ResponseCache's model tag) share one copy of their tag section.

Driven by a :class:`~omnicache_ai.CacheManager`, the backend holds envelope bytes
(immutable). Used on its own it holds any Python value; mutable values are deep-copied on
the way in and out so no caller can change what the cache holds.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import struct
import sys
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

from omnicache_ai.backends.base import BaseBackend
from omnicache_ai.core.envelope import MAGIC, VERSION, split_tags
from omnicache_ai.core.errors import ConfigurationError, IntegrityError
from omnicache_ai.core.policies import EvictionPolicy

__all__ = ["InMemoryBackend"]

# The envelope header (core/envelope.py): magic + version, then format, codec, tag count.
_ENVELOPE_HEAD: Final = MAGIC + bytes([VERSION])
_TAGS_AT: Final = 5
# A tag generation: 8 bytes big-endian (struct reads it in place, no slice, unlike
# int.from_bytes, which costs a hit more than the dict lookups around it).
_GEN: Final = struct.Struct(">Q")
_IMMUTABLE = (bytes, str, int, float, bool, type(None), complex, frozenset)
_now = time.monotonic
_INF: Final = float("inf")
# Distinct TTLs that get a queue of their own; entries with any further TTL share a heap.
_MAX_QUEUES: Final = 16
# Tag sections remembered to be shared between entries (see _Store._split); a bound, so
# entries with one-off tags never grow the table.
_MAX_SECTIONS: Final = 256
# Reads a bounded store's read log keeps for the next write to replay (see _Store). The log
# is trimmed to this many when it reaches twice as many.
READS_KEPT: Final = 4096


def _size_of(value: Any) -> int:
    """Bytes charged to ``max_bytes`` for a stored value (the same on the way in and out).

    Its length plus 64 for the slot and bookkeeping, for bytes and for text (its UTF-8
    length, as its envelope would have: a manager stores text as itself), elements included
    for tuples and frozensets, and ``sys.getsizeof`` + 64 for anything else.
    """
    t = type(value)
    if t is bytes:
        return len(value) + 64
    if t is str:
        if value.isascii():  # O(1): a flag of the string object
            return len(value) + 64
        return len(value.encode("utf-8", "surrogatepass")) + 64
    if t is tuple or t is frozenset:
        return sys.getsizeof(value) + 64 + sum(_size_of(v) - 64 for v in value)
    return sys.getsizeof(value) + 64


def _frozen(value: Any) -> bool:
    t = type(value)
    if t in _IMMUTABLE:
        return True
    if t is tuple:
        return all(_frozen(v) for v in value)
    return False


class _Deadline(float):
    """A stored entry with a deadline: the float *is* its ``time.monotonic()`` deadline.

    Entries without a TTL are stored as the bare value, so they cost nothing beyond the
    dict slot. A timed entry needs value and deadline in one object; a float subclass with
    slots is that object at 48 bytes, where a ``(value, deadline)`` tuple plus its float
    take 80. Being their own types, the two kinds below cannot be confused with a tuple or
    float a caller stored.
    """

    __slots__ = ()

    @property
    def value(self) -> Any:
        """The value the entry was written with."""
        raise NotImplementedError  # pragma: no cover - each kind below defines it


class _Timed(_Deadline):
    """A timed entry: the value as written, and its deadline (48 bytes)."""

    __slots__ = ("value",)

    value: Any

    @classmethod
    def of(cls, value: Any, deadline: float) -> _Timed:
        timed = cls(deadline)
        timed.value = value
        return timed


class _Section:
    """The tag section of envelopes written with the same tags at the same generations.

    Every entry a ResponseCache writes for one model carries the same tag section (the
    model tag's counter key and generation, about 50 bytes) until that tag is invalidated.
    Entries that share it point to one of these instead of holding a copy, and a hit
    checks the parsed keys and generations without decoding any bytes.
    """

    __slots__ = ("gen", "gens", "key", "keys", "raw")

    def __init__(self, raw: bytes, keys: list[str], gens: list[int]) -> None:
        self.raw = raw  # the section as it sits in the envelope: after the tag count
        self.keys = tuple(keys)  # the tags' generation-counter keys
        self.gens = tuple(gens)  # the generations they had when the entries were written
        # The one-tag case (a model tag) checked without a loop.
        self.key: str | None = keys[0] if len(keys) == 1 else None
        self.gen = gens[0]


class _Split(_Deadline):
    """A timed tagged envelope stored apart from its shared tag section (56 bytes).

    ``payload`` is the envelope with its tag section cut out (tag count 0): what a
    verified hit serves, as the manager decodes an untagged envelope. ``value`` puts the
    envelope back together, byte for byte as written, for readers that check tags
    themselves.
    """

    __slots__ = ("payload", "section")

    payload: bytes
    section: _Section

    @classmethod
    def of(cls, payload: bytes, deadline: float, section: _Section) -> _Split:
        split = cls(deadline)
        split.payload = payload
        split.section = section
        return split

    @property
    def value(self) -> bytes:
        p, section = self.payload, self.section
        return b"".join((p[:_TAGS_AT], bytes((len(section.keys),)), section.raw, p[_TAGS_AT + 1 :]))


def _stored_size(item: Any) -> int:
    """:func:`_size_of` the value an entry was written with, whatever its stored form."""
    t = type(item)
    if t is _Timed:
        return _size_of(item.value)
    if t is _Split:  # the envelope's length: the section replaces the tag count's zero byte
        return len(item.payload) + len(item.section.raw) + 64
    return _size_of(item)


class _Queue:
    """Keys in the order they were given one TTL, so their deadlines never decrease.

    Sixteen bytes a record (a list slot and a C double): a heap of ``(deadline, key)``
    tuples costs four times that. Records are never updated: an entry rewritten or
    deleted leaves its old record behind, and the sweep checks the entry itself.
    """

    __slots__ = ("deadlines", "head", "keys")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.deadlines = array("d")
        self.head = 0

    def __len__(self) -> int:
        return len(self.keys) - self.head

    def front(self) -> float:
        return self.deadlines[self.head] if self.head < len(self.keys) else _INF

    def pop_due(self, now: float) -> list[str]:
        """Keys whose record is due at ``now``, removed from the queue."""
        dls, h, n = self.deadlines, self.head, len(self.keys)
        start = h
        while h < n and dls[h] <= now:
            h += 1
        due = self.keys[start:h]
        if h > 64 and h * 2 > n:  # compact: amortized O(1) per record
            del self.keys[:h]
            del dls[:h]
            h = 0
        self.head = h
        return due


class _Store:
    """Thread-safe map with per-entry deadlines, shared by both in-memory backends.

    Layout, chosen for memory per entry (the bounded case pays for its order):

    * a plain ``dict``, kept in LRU (or FIFO) order while a bounded store has never been
      full: a read appends its key to a log (one lock-free ``list.append``), and the next
      write replays the log into the dict's order under the lock. The log keeps the last
      :data:`READS_KEPT` reads at least: when a long run of reads (no write between them)
      doubles it, the older half is forgotten rather than replayed, so a read costs an
      append however large the store (replaying is two hash operations on the big dict,
      cache misses at 100k entries, about twice what the read itself costs). The victim
      order is then exact LRU for the entries read among the last :data:`READS_KEPT` reads
      (they follow every other entry, in the order of their last read) and for every entry
      when fewer reads came between two writes; an entry whose last read is older than that
      keeps the place its last write (or last replayed read) gave it. This is the bargain
      of a lossy read buffer, as Caffeine makes it: recency is recorded for what is hot.
      The first eviction turns the dict into an ``OrderedDict`` (one O(n) copy), whose O(1)
      ``move_to_end`` and front victim serve from then on, exactly. A store sized never to
      fill saves the OrderedDict's ~50 bytes of links per entry (about a tenth of a
      300-byte entry's footprint);
    * the value itself, or a :class:`_Timed` holding value and deadline; a timed tagged
      envelope whose tag section other entries carry too is a :class:`_Split`: the
      envelope without its section, and a reference to one shared :class:`_Section`
      (a ResponseCache entry saves the ~50 bytes of its model tag that way);
    * expiry records in one :class:`_Queue` per TTL (appended in deadline order, so a sweep
      pops from the front), or a heap for entries with a rarer TTL;
    * sizes are recomputed from the stored value when it leaves (it is immutable or a
      private copy, so the figure is the same), not stored per entry.
    """

    def __init__(self, policy: EvictionPolicy) -> None:
        self.policy = policy
        self._max_entries = policy.max_entries
        self._max_bytes = policy.max_bytes
        bounded = self._max_entries is not None or self._max_bytes is not None
        self._bounded = bounded
        # Read order only matters to the victim choice of a bounded LRU store.
        self._reorder = bounded and policy.strategy == "lru"
        # A plain dict until the first eviction (see the class docstring and _enforce_bounds).
        self._data: dict[str, Any] = {}
        self._touched: list[str] = []  # reads not yet replayed into a plain dict's order
        self._touch_cap = 2 * READS_KEPT  # the log's length that trims it (_forget_reads)
        self._queues: dict[float | None, _Queue] = {}
        self._heap: list[tuple[float, str]] = []
        self._records = 0
        self._next_due = _INF
        self._lock = threading.Lock()
        self._bytes = 0
        self.evictions = 0
        self.expirations = 0
        self._listeners: list[Callable[[int], None]] = []
        # Tag sections seen on recent timed writes: None once, a _Section once shared.
        self._sections: dict[bytes, _Section | None] = {}

    # -- reads ---------------------------------------------------------------------------
    def get(self, key: str) -> Any | None:
        # Lock-free read: each dict call below is one C-level step under the GIL, and a
        # concurrent delete between them only means we serve the value read before it (a
        # linearizable read). Writers take the lock for their compound updates.
        item = self._data.get(key)
        if item is None:
            return None
        if type(item) is _Timed or type(item) is _Split:
            if item <= _now():
                self._expire(key, item)
                return None
            item = item.value
        if self._reorder:
            self._touch(key)
        if type(item) is bytes or _frozen(item):
            return item
        return copy.deepcopy(item)

    def get_checked(self, key: str) -> Any | None:
        """:meth:`get`, but a tagged envelope whose tag generations moved on reads as ``None``.

        The in-process twin of the Redis backend's server-side check: the counters live in
        this store, so checking them here costs two dict lookups instead of a second trip
        through the manager. Anything that is not a well-formed tagged envelope (untagged
        entries, foreign or corrupt bytes, plain values) is returned as stored, for the
        manager to decode or reject. A tagged entry stored apart from its shared tag
        section (:class:`_Split`) comes back as the envelope without that section once
        its generations are checked: the same value, decoded as an untagged envelope.

        Raises:
            IntegrityError: The entry looks like a tagged envelope but its tag section is
                damaged (the manager counts it as a corrupt entry, a miss).
        """
        data = self._data
        raw = data.get(key)
        # The body of get(), inlined: this is the manager's read of every hit. A _Split
        # entry's deadline is checked further down, off the path of untagged hits.
        if type(raw) is _Timed:
            if raw <= _now():
                self._expire(key, raw)
                return None
            raw = raw.value
        elif raw is None:
            return None
        if self._reorder:  # _touch(), inlined
            if type(data) is OrderedDict:
                try:  # noqa: SIM105 - see _touch()
                    data.move_to_end(key)
                except KeyError:  # deleted by another thread meanwhile
                    pass
            else:
                touched = self._touched
                touched.append(key)
                if len(touched) > self._touch_cap:
                    self._forget_reads()
        if type(raw) is str:  # a value a manager stored as itself (see CacheManager.set)
            return raw
        if type(raw) is not bytes:
            if type(raw) is _Split:  # a tagged entry whose section is shared
                if raw <= _now():
                    self._expire(key, raw)
                    return None
                section = raw.section
                one = section.key
                if one is not None:
                    current = data.get(one)
                    # A live untimed counter is compared inline; others via _counter_is.
                    if (
                        (current == section.gen)
                        if type(current) is int
                        else self._counter_is(one, section.gen)
                    ):
                        return raw.payload
                elif all(map(self._counter_is, section.keys, section.gens)):
                    return raw.payload
                self._drop(key, raw)
                return None
            return raw if _frozen(raw) else copy.deepcopy(raw)
        if type(raw) is not bytes or len(raw) < _TAGS_AT + 1 or not raw[_TAGS_AT]:
            return raw
        if not raw.startswith(_ENVELOPE_HEAD):
            return raw
        if raw[_TAGS_AT] == 1 and len(raw) >= _TAGS_AT + 3:
            # One tag (a ResponseCache entry's model tag): parsed in place, no lists.
            end = _TAGS_AT + 3 + (raw[_TAGS_AT + 1] << 8 | raw[_TAGS_AT + 2])
            if len(raw) >= end + 8:
                try:
                    tag_key = raw[_TAGS_AT + 3 : end].decode()
                except UnicodeDecodeError:
                    tag_key = ""
                if tag_key:
                    gen = _GEN.unpack_from(raw, end)[0]
                    current = data.get(tag_key)
                    # A live untimed counter is compared inline; others via _counter_is.
                    if (current == gen) if type(current) is int else self._counter_is(tag_key, gen):
                        return raw
                    self._drop(key, raw)
                    return None
        tag_keys, gens, _ = split_tags(raw)
        for tag_key, gen in zip(tag_keys, gens, strict=True):
            if not self._counter_is(tag_key, gen):
                self._drop(key, raw)
                return None
        return raw

    def _touch(self, key: str) -> None:
        """Make ``key`` the most recently used entry (a read in a bounded LRU store)."""
        data = self._data
        if type(data) is OrderedDict:
            # Not contextlib.suppress: entering a context manager costs a hit about 20%.
            try:  # noqa: SIM105
                data.move_to_end(key)
            except KeyError:  # deleted by another thread meanwhile
                pass
            return
        # A plain dict (the store was never full): log the read; writes replay the log.
        touched = self._touched
        touched.append(key)
        if len(touched) > self._touch_cap:
            self._forget_reads()

    def _forget_reads(self) -> None:
        """Trim the read log to its last :data:`READS_KEPT` reads (a long run of reads).

        The reads dropped are older than every read kept, so the next replay still orders
        the keys read recently exactly; see the class docstring for what is given up.
        """
        with self._lock:
            touched = self._touched
            excess = len(touched) - READS_KEPT
            if excess > 0:
                del touched[:excess]

    def _replay_touched(self) -> None:
        """Move the logged reads' keys to the end of a plain dict, in the order of their
        last read (call with the lock held). Amortized O(1) a read: each is replayed once.
        """
        touched, self._touched = self._touched, []
        data = self._data
        if touched and type(data) is not OrderedDict:
            # Replayed in read order, each key ends up where its last read puts it. No
            # de-duplication first: it costs two more hash operations a read, and the reads
            # it would save (one key read again and again) are cheap ones, the key's slot hot.
            pop = data.pop
            for key in touched:
                item = pop(key, None)
                if item is not None:
                    data[key] = item

    def _counter_is(self, tag_key: str, gen: int) -> bool:
        current = self._data.get(tag_key)
        if isinstance(current, _Deadline):
            current = current.value if current > _now() else None
        # A missing counter was lost, never recorded: the entry is stale (see
        # core/invalidation.py). Counters are ints, written by add() and incr().
        return type(current) is int and current == gen

    def _drop(self, key: str, raw: Any) -> None:
        """Delete the stale entry at ``key`` unless it was rewritten meanwhile.

        ``raw`` is the stored item (a :class:`_Split`) or the value it holds.
        """
        with self._lock:
            item = self._data.get(key)
            if item is not None and (item is raw or (type(item) is _Timed and item.value is raw)):
                self._remove(key)

    def _expire(self, key: str, item: Any) -> None:
        with self._lock:
            if self._data.get(key) is item:
                self._remove(key)
                self.expirations += 1

    def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        return [self.get(k) for k in keys]

    def exists(self, key: str) -> bool:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return False
            if isinstance(item, _Deadline) and item <= _now():
                self._remove(key)
                self.expirations += 1
                return False
            return True

    def keys(self, prefix: str) -> list[str]:
        now = _now()
        with self._lock:
            items = list(self._data.items())  # one C-level copy: readers may reorder meanwhile
        return [
            k
            for k, item in items
            if k.startswith(prefix) and (not isinstance(item, _Deadline) or item > now)
        ]

    def deadlines(self) -> list[float]:
        """The ``time.monotonic()`` deadline of every entry that has one (for inspection)."""
        with self._lock:
            return [float(item) for item in self._data.values() if isinstance(item, _Deadline)]

    def _live(self, key: str) -> Any | None:
        """The unexpired value at ``key`` or ``None`` (call with the lock held)."""
        item = self._data.get(key)
        if isinstance(item, _Deadline):
            return item.value if item > _now() else None
        return item

    # -- writes --------------------------------------------------------------------------
    def set(self, key: str, value: Any, ttl: float | None) -> None:
        if type(value) is not bytes and not _frozen(value):
            value = copy.deepcopy(value)
        with self._lock:
            self._put(key, value, ttl)
        if self._pending_evictions:
            self._notify()

    def set_many(self, items: Mapping[str, Any], ttl: float | None) -> None:
        prepared = [
            (k, v if type(v) is bytes or _frozen(v) else copy.deepcopy(v)) for k, v in items.items()
        ]
        with self._lock:
            self._put_many(prepared, ttl)
        self._notify()

    def add(self, key: str, value: Any, ttl: float | None) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            stored = value if _frozen(value) else copy.deepcopy(value)
            self._put(key, stored, ttl)
        self._notify()
        return True

    def incr(self, key: str, delta: int, ttl: float | None = None) -> int:
        with self._lock:
            item = self._data.get(key)
            if item is not None and (not isinstance(item, _Deadline) or item > _now()):
                raw: Any = item.value if isinstance(item, _Deadline) else item
                value = int(raw) + delta
                if isinstance(item, _Deadline):  # the deadline set when the counter was created
                    self._replace(key, _Timed.of(value, item), value)
                else:
                    self._replace(key, value, value)
                self._after_write(_now())
            else:
                value = delta
                self._put(key, value, ttl)
        self._notify()
        return value

    def delete(self, key: str) -> bool:
        with self._lock:
            if key in self._data:
                self._remove(key)
                return True
            return False

    def delete_many(self, keys: Iterable[str]) -> int:
        n = 0
        with self._lock:
            for k in keys:
                if k in self._data:
                    self._remove(k)
                    n += 1
        return n

    def delete_prefix(self, prefix: str) -> int:
        with self._lock:
            doomed = [k for k in list(self._data) if k.startswith(prefix)]
            for k in doomed:
                self._remove(k)
        return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._sections.clear()
            self._touched = []
            self._queues.clear()
            self._heap.clear()
            self._records = 0
            self._next_due = _INF
            self._bytes = 0

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "entries": len(self._data),
                "bytes": self._bytes,
                "evictions": self.evictions,
                "expirations": self.expirations,
                "max_entries": self._max_entries,
                "max_bytes": self._max_bytes,
            }

    def __len__(self) -> int:
        return len(self._data)

    # -- internals (call with the lock held) ---------------------------------------------
    _pending_evictions = 0

    def _put(self, key: str, value: Any, ttl: float | None) -> None:
        now = _now()
        if ttl is None:
            self._replace(key, value, value)
        else:
            # The deadline is taken under the lock, so each TTL's queue stays sorted.
            deadline = now + ttl
            item: _Deadline = _Timed.of(value, deadline)
            if type(value) is bytes and len(value) > _TAGS_AT and value[_TAGS_AT]:
                item = self._split(value, item)
            self._replace(key, item, value)
            self._note_deadline(key, ttl, deadline)
        self._after_write(now)

    def _split(self, value: bytes, timed: _Deadline) -> _Deadline:
        """``timed`` (a tagged envelope and its deadline), or its compact form when other
        entries carry the same tag section.

        A section is remembered the first time it is written (that entry keeps it inline)
        and shared from the second time on, so entries with one-off tags cost nothing more
        than before. The table of sections is bounded: one that falls out of it is shared
        again, under a new :class:`_Section`, after its next two writes.
        """
        if not value.startswith(_ENVELOPE_HEAD):
            return timed
        pos = _TAGS_AT + 1
        try:
            for _ in range(value[_TAGS_AT]):
                pos += 2 + (value[pos] << 8 | value[pos + 1]) + 8
        except IndexError:  # not a well-formed envelope: stored as given
            return timed
        if pos > len(value):
            return timed
        raw = value[_TAGS_AT + 1 : pos]
        sections = self._sections
        if raw not in sections:  # first seen: remembered, the entry keeps its section inline
            if len(sections) >= _MAX_SECTIONS:
                del sections[next(iter(sections))]
            sections[raw] = None
            return timed
        section = sections[raw]
        if section is None:
            try:
                keys, gens, _ = split_tags(value)
            except IntegrityError:  # an undecodable tag key: the reader rejects it inline
                return timed
            section = sections[raw] = _Section(raw, keys, gens)
        return _Split.of(b"".join((value[:_TAGS_AT], b"\x00", value[pos:])), timed, section)

    def _put_many(self, items: list[tuple[str, Any]], ttl: float | None) -> None:
        """:meth:`_put` of every item, with the per-write bookkeeping done once.

        One clock read and deadline for the batch, one sweep and one bound check at the end:
        evicting from the front until the bound holds again leaves the same entries as
        evicting after each write (the longest suffix of the write order that fits).
        """
        if self._touched:  # reads before this write come before it in LRU order
            self._replay_touched()
        now = _now()
        data, bounded, size_of, timed = self._data, self._bounded, _size_of, _Timed.of
        deadline = _INF if ttl is None else now + ttl
        delta = 0
        for key, value in items:
            old = data.get(key)
            if old is not None:
                delta -= _stored_size(old)
                if bounded:  # the write makes the entry the most recent one (LRU) or newest
                    del data[key]
            if ttl is None:
                data[key] = value
            else:
                item: _Deadline = timed(value, deadline)
                if type(value) is bytes and len(value) > _TAGS_AT and value[_TAGS_AT]:
                    item = self._split(value, item)  # as _put does: a shared tag section
                data[key] = item
            delta += size_of(value)
        self._bytes += delta
        if ttl is not None and items:
            queue = self._queues.get(ttl)
            if queue is None and len(self._queues) < _MAX_QUEUES:
                queue = self._queues[ttl] = _Queue()
            if queue is not None:
                queue.keys.extend(key for key, _ in items)
                queue.deadlines.extend(itertools.repeat(deadline, len(items)))
            else:
                for key, _ in items:
                    heapq.heappush(self._heap, (deadline, key))
            self._next_due = min(self._next_due, deadline)
            self._records += len(items)
            if self._records > 2 * len(data) + 64:
                self._rebuild_deadlines()
        self._after_write(now)

    def _after_write(self, now: float) -> None:
        if now >= self._next_due:
            self._sweep_expired(now)
        if self._bounded:
            self._enforce_bounds()

    def _replace(self, key: str, item: Any, value: Any) -> None:
        if self._touched:  # reads before this write come before it in LRU order
            self._replay_touched()
        data = self._data
        old = data.get(key)
        if old is not None:
            self._bytes -= _stored_size(old)
            if self._bounded:
                # A write makes the entry the most recent one (LRU) or the newest (FIFO).
                del data[key]
        data[key] = item
        self._bytes += _size_of(value)

    def _note_deadline(self, key: str, ttl: float, deadline: float) -> None:
        queue = self._queues.get(ttl)
        if queue is None and len(self._queues) < _MAX_QUEUES:
            queue = self._queues[ttl] = _Queue()
        if queue is not None:
            queue.keys.append(key)
            queue.deadlines.append(deadline)
        else:
            heapq.heappush(self._heap, (deadline, key))
        self._next_due = min(self._next_due, deadline)
        self._records += 1
        if self._records > 2 * len(self._data) + 64:
            self._rebuild_deadlines()

    def _remove(self, key: str) -> None:
        item = self._data.pop(key)
        self._bytes -= _stored_size(item)

    def _sweep_expired(self, now: float) -> None:
        due: list[str] = []
        for ttl, queue in list(self._queues.items()):
            due += queue.pop_due(now)
            if not queue and ttl is None:
                del self._queues[ttl]  # the rebuilt queue takes no new records
        heap = self._heap
        while heap and heap[0][0] <= now:
            due.append(heapq.heappop(heap)[1])
        self._records -= len(due)
        data = self._data
        for key in due:
            item = data.get(key)
            # The entry may have been rewritten with a later deadline since this record.
            if isinstance(item, _Deadline) and item <= now:
                self._remove(key)
                self.expirations += 1
        fronts = [q.front() for q in self._queues.values()]
        if heap:
            fronts.append(heap[0][0])
        self._next_due = min(fronts, default=_INF)

    def _rebuild_deadlines(self) -> None:
        # Rewrites and deletes left more stale records than live entries: keep one record
        # per timed entry, in deadline order, in a queue that only drains.
        timed = sorted(
            (float(item), k) for k, item in self._data.items() if isinstance(item, _Deadline)
        )
        queue = _Queue()
        queue.keys = [k for _, k in timed]
        queue.deadlines = array("d", [d for d, _ in timed])
        self._queues = {None: queue} if timed else {}
        self._heap = []
        self._records = len(timed)
        self._next_due = queue.front()

    def _enforce_bounds(self) -> None:
        max_entries, max_bytes = self._max_entries, self._max_bytes
        evicted = 0
        if type(self._data) is not OrderedDict and (
            (max_entries is not None and len(self._data) > max_entries)
            or (max_bytes is not None and self._bytes > max_bytes)
        ):
            # The first eviction: from now on victims come from the front, which a plain
            # dict reaches only by skipping every slot freed before it.
            self._replay_touched()
            self._data = OrderedDict(self._data)
        while self._data and (
            (max_entries is not None and len(self._data) > max_entries)
            or (max_bytes is not None and self._bytes > max_bytes)
        ):
            key = next(iter(self._data))  # least recently used (or oldest written)
            self._remove(key)
            evicted += 1
        if evicted:
            self.evictions += evicted
            self._pending_evictions += evicted

    def _notify(self) -> None:
        if not self._pending_evictions:
            return
        with self._lock:
            n, self._pending_evictions = self._pending_evictions, 0
        if n:
            for listener in list(self._listeners):
                listener(n)


def _policy(
    max_size: int | None, max_bytes: int | None, eviction_policy: EvictionPolicy | None
) -> EvictionPolicy:
    if eviction_policy is not None:
        if max_size is not None or max_bytes is not None:
            raise ConfigurationError("pass either eviction_policy or max_size/max_bytes, not both")
        return eviction_policy
    return EvictionPolicy("lru", max_entries=max_size, max_bytes=max_bytes)


class InMemoryBackend(BaseBackend):
    """Thread-safe in-process LRU cache.

    Args:
        max_size: Most entries held (``None`` = unbounded).
        max_bytes: Most bytes held (``None`` = unbounded).
        eviction_policy: Full :class:`EvictionPolicy` instead of the two bounds.

    Example:
        >>> b = InMemoryBackend(max_size=2)
        >>> b.set("a", 1); b.set("b", 2); b.set("c", 3)
        >>> b.get("a") is None, b.get("c")
        (True, 3)
    """

    blocking = False
    #: A :class:`~omnicache_ai.CacheManager` may store immutable values (text, floats,
    #: flat tuples) here as themselves rather than as envelope bytes: this store is read by
    #: no other process and never copies what cannot change, so a hit skips decoding.
    holds_values = True

    def __init__(
        self,
        max_size: int | None = None,
        max_bytes: int | None = None,
        *,
        eviction_policy: EvictionPolicy | None = None,
    ) -> None:
        self._store = _Store(_policy(max_size, max_bytes, eviction_policy))
        # Bind the store's methods directly: one attribute lookup less on the hot path.
        self.get = self._store.get  # type: ignore[method-assign]
        self.exists = self._store.exists  # type: ignore[method-assign]
        self.get_checked = self._store.get_checked  # type: ignore[method-assign]

    @property
    def eviction_policy(self) -> EvictionPolicy:
        """The bounds and strategy in force."""
        return self._store.policy

    def get(self, key: str) -> Any | None:
        """Return the value, or ``None`` when absent or expired."""
        return self._store.get(key)

    def get_checked(self, key: str) -> Any | None:
        """Like :meth:`get`, but a tagged entry whose tags were invalidated reads as ``None``.

        The manager reads through this when its tag counters live in this backend (the
        default), so a tagged hit is one call. Stale entries are deleted.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> b = InMemoryBackend(); m = CacheManager(backend=b)
            >>> m.set("k", "v", tags=["t"]); _ = m.invalidate("t")
            >>> b.get_checked(m.storage_key("k")) is None
            True
        """
        return self._store.get_checked(key)

    async def aget_checked(self, key: str) -> Any | None:
        """:meth:`get_checked` for the manager's async methods (never blocks)."""
        return self._store.get_checked(key)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value``; ``ttl`` seconds (``None`` = no expiry)."""
        self._store.set(key, value, ttl)

    def delete(self, key: str) -> bool:
        """Remove ``key``; returns whether it existed."""
        return self._store.delete(key)

    def exists(self, key: str) -> bool:
        """Whether ``key`` is present and unexpired."""
        return self._store.exists(key)

    def clear(self) -> None:
        """Remove every entry."""
        self._store.clear()

    def close(self) -> None:
        """Nothing to release; entries stay until the object is dropped."""

    def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        """Values in order, ``None`` for misses."""
        return self._store.get_many(keys)

    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        """Store several values under one lock acquisition."""
        self._store.set_many(items, ttl)

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove several keys; returns how many existed."""
        return self._store.delete_many(keys)

    def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Atomic increment (``ttl`` applies when the counter is created)."""
        return self._store.incr(key, delta, ttl)

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Atomic set-if-absent."""
        return self._store.add(key, value, ttl)

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Live keys starting with ``prefix`` (a snapshot)."""
        return iter(self._store.keys(prefix))

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix``."""
        return self._store.delete_prefix(prefix)

    def stats(self) -> dict[str, Any]:
        """Entries, bytes, evictions and expirations so far."""
        return self._store.stats()

    def add_eviction_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(n)`` after each write that evicted ``n`` entries."""
        self._store._listeners.append(listener)

    def __len__(self) -> int:
        return len(self._store)
