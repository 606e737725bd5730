"""A blocklist for queries that must never be answered from cache, or never answered at all.

Patterns are example queries (or phrases). A query matches a pattern when it contains the
normalized pattern text, or when its embedding is at least the pattern's threshold close to the
pattern's. Depending on ``mode`` a match is *refused* (``screen`` raises
:class:`QueryBlockedError` before any upstream call) or *skipped* (``screen`` returns ``True``:
call upstream, but neither read nor write the cache). ``report_false_positive`` raises the
threshold of the pattern that wrongly matched just above that query's similarity, so the same
mistake does not repeat.

Without a manager the patterns live in this process. With ``manager=`` the pattern list (text,
reason, threshold, false-positive count and the pattern's embedding) is also stored through
that :class:`CacheManager`, so it survives restarts and is shared by every worker on the same
backend; see :class:`NegativeCache` for how workers stay in step.

Example:
    >>> from omnicache_ai.embedders import HashingEmbedder
    >>> from omnicache_ai.layers.negative_cache import NegativeCache
    >>> block = NegativeCache(embedder=HashingEmbedder(), threshold=0.8)
    >>> pid = block.add("what is my account balance", reason="per-user data")
    >>> block.check("What is my account balance?").reason
    'per-user data'
    >>> block.check("What is the capital of Peru?") is None
    True
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import hashlib
import math
import secrets
import threading
import time
from collections.abc import Generator, Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt

from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.core.errors import OmnicacheError
from omnicache_ai.layers._persist import RecordStore

if TYPE_CHECKING:
    from omnicache_ai.backends.vector.base import VectorBackend
    from omnicache_ai.embedders.base import Embedder

__all__ = ["BlockMatch", "BlockedPattern", "NegativeCache", "QueryBlockedError"]

#: Default similarity for a blocklist match: stricter than the semantic cache's default, since
#: a false match here costs an upstream call (skip) or a refused user (refuse).
DEFAULT_BLOCK_THRESHOLD: Final = 0.85
Mode = Literal["refuse", "skip"]

_LAYER: Final = "blocklist"
_RECORD_VERSION: Final = 1
# A step a flow asks its driver to perform; the driver sends back the step's result.
_Step = tuple[Any, ...]
_Flow = Generator[_Step, Any, None]
# One pending change to the stored list: ("add", pattern, vector bytes) | ("remove", id) |
# ("raise", id, threshold, count) | ("clear",). Changes, not snapshots, are merged into what
# is stored, so two workers changing different patterns do not undo each other. ``count`` is
# the pattern's false-positive total from an atomic counter (``None`` without one): merging
# takes the maximum, so a report is never lost to a racing writer's older total.
_Change = tuple[Any, ...]
# id -> (pattern, its float32 embedding as bytes, or None when it must be embedded here)
_Listing = dict[str, tuple["BlockedPattern", bytes | None]]


@dataclass(frozen=True, slots=True)
class BlockMatch:
    """A query matched a blocked pattern.

    Attributes:
        pattern_id: Id of the pattern (use it with ``remove``).
        pattern: The blocked pattern's text.
        reason: Why it is blocked.
        similarity: Cosine similarity of the query to the pattern (1.0 for a text match).

    Example:
        >>> BlockMatch("p1", "my balance", "private", 0.93).reason
        'private'
    """

    pattern_id: str
    pattern: str
    reason: str
    similarity: float


@dataclass(frozen=True, slots=True)
class BlockedPattern:
    """One blocklist entry, as :meth:`NegativeCache.list` returns it.

    Attributes:
        id: Stable id (derived from the normalized text).
        pattern: The text.
        reason: Why it is blocked.
        threshold: Similarity a query needs to match this pattern.
        false_positives: How many matches were reported wrong.
        created_at: Unix seconds when it was added.

    Example:
        >>> BlockedPattern("p", "x", "", 0.85, 0, 0.0).threshold
        0.85
    """

    id: str
    pattern: str
    reason: str
    threshold: float
    false_positives: int
    created_at: float


class QueryBlockedError(OmnicacheError):
    """A query matched the blocklist in ``refuse`` mode; ``match`` says which pattern.

    Example:
        >>> err = QueryBlockedError(BlockMatch("p", "x", "private", 1.0))
        >>> err.match.reason
        'private'
    """

    def __init__(self, match: BlockMatch) -> None:
        super().__init__(
            f"query refused: it matches blocked pattern {match.pattern!r} "
            f"(similarity {match.similarity:.3f}; reason: {match.reason or 'none given'})"
        )
        self.match = match


def _norm(text: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split())


def _pattern_id(text: str) -> str:
    return hashlib.blake2b(_norm(text).encode(), digest_size=8).hexdigest()


def _check_threshold(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError(f"threshold must be a number in (0, 1], got {value!r}")
    return float(value)


def _vector_bytes(vec: npt.ArrayLike) -> bytes:
    return np.asarray(vec, dtype="<f4").reshape(-1).tobytes()


def _apply(listing: _Listing, change: _Change) -> None:
    """Apply one change, in place; the same merge runs on the local and the stored copy."""
    kind = change[0]
    if kind == "add":
        new: BlockedPattern = change[1]
        old = listing.get(new.id)
        if old is not None:  # re-adding updates text, reason and threshold, keeps the count
            new = dataclasses.replace(new, false_positives=old[0].false_positives)
        listing[new.id] = (new, change[2])
    elif kind == "remove":
        listing.pop(change[1], None)
    elif kind == "raise":
        old = listing.get(change[1])
        if old is not None:
            p = old[0]
            listing[p.id] = (
                dataclasses.replace(
                    p,
                    threshold=max(p.threshold, change[2]),
                    false_positives=(
                        p.false_positives + 1
                        if change[3] is None
                        else max(p.false_positives, change[3])
                    ),
                ),
                old[1],
            )
    elif kind == "clear":
        listing.clear()
    else:  # pragma: no cover - changes are built in this module
        raise AssertionError(f"unknown change {kind}")


def _encode(listing: _Listing, embedder_name: str) -> dict[str, Any]:
    rows = sorted(listing.values(), key=lambda item: item[0].created_at)
    return {
        "v": _RECORD_VERSION,
        "embedder": embedder_name,
        "patterns": [
            [p.id, p.pattern, p.reason, p.threshold, p.false_positives, p.created_at, vec]
            for p, vec in rows
        ],
    }


def _decode(record: Any, embedder_name: str, dim: int) -> _Listing | None:
    """The stored listing, or ``None`` if there is none (or none this version can read)."""
    if not isinstance(record, Mapping) or record.get("v") != _RECORD_VERSION:
        return None
    rows = record.get("patterns")
    if not isinstance(rows, list):
        return None
    # Vectors of another model (or dimension) are not comparable: such patterns are re-embedded.
    same_model = record.get("embedder") == embedder_name
    out: _Listing = {}
    for row in rows:
        try:
            pid, text, reason, thr, fps, created, vec = row
            p = BlockedPattern(
                str(pid), str(text), str(reason), _check_threshold(thr), int(fps), float(created)
            )
        except (TypeError, ValueError):
            continue  # a malformed row blocks nothing; the others still do
        ok_vec = same_model and isinstance(vec, bytes) and len(vec) == 4 * dim
        out[p.id] = (p, vec if ok_vec else None)
    return out


class NegativeCache:
    """Blocklist of query patterns, matched by text containment or embedding similarity.

    With ``manager=`` the list is stored through that :class:`CacheManager` (one record per
    blocklist ``name``, under this namespace and the manager's tenant, without expiry) and
    every worker on the same backend shares it:

    * a change (``add``, ``remove``, ``report_false_positive``, ``clear``) is applied here at
      once, then merged into the stored list (read, apply the change, write). Two workers
      changing the list within the same read-write round trip can lose one change (last
      writer wins); changes are merged one by one, so otherwise nothing is lost. False
      positives are also counted by an atomic counter per pattern, so ``list`` reports every
      worker's reports even when such a race dropped one.
    * lookups check a small revision record at most every ``refresh`` seconds and reload the
      list when another worker changed it; ``list`` and ``remove`` check it every time.
    * a backend failure never raises (unless the manager is ``strict``): it is counted in the
      manager's metrics and logged once, the blocklist keeps working from memory, and the
      unsaved changes are written on the next successful round.

    Patterns are stored with their embedding, so a restarted worker does not re-embed them
    (unless it uses another embedder).

    Args:
        embedder: Embeds patterns and queries (default: the local default embedder).
        threshold: Default similarity for a match (per pattern overridable).
        mode: ``"refuse"`` (``screen`` raises) or ``"skip"`` (``screen`` returns True:
            bypass the cache).
        vector_backend: Index of pattern vectors (default: an in-process NumpyBackend).
        manager: Store the pattern list through this manager (default: memory only). Use
            ``manager.for_tenant(...)`` for a tenant's own blocklist.
        name: Which blocklist of the manager this is (several can share one manager).
        refresh: Seconds between checks for other workers' changes.

    Raises:
        ValueError: On a bad ``mode``, ``threshold``, ``name`` or ``refresh``.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> from omnicache_ai.embedders import HashingEmbedder
        >>> manager = CacheManager()
        >>> block = NegativeCache(embedder=HashingEmbedder(), mode="skip", manager=manager)
        >>> _ = block.add("today's stock price")
        >>> block.screen("What is today's stock price of ACME?")
        True
        >>> other_worker = NegativeCache(embedder=HashingEmbedder(), manager=manager)
        >>> [p.pattern for p in other_worker.list()]
        ["today's stock price"]
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        threshold: float = DEFAULT_BLOCK_THRESHOLD,
        mode: Mode = "refuse",
        vector_backend: VectorBackend | None = None,
        manager: CacheManager | None = None,
        name: str = "default",
        refresh: float = 5.0,
    ) -> None:
        if mode not in ("refuse", "skip"):
            raise ValueError(f"mode must be 'refuse' or 'skip', got {mode!r}")
        self.threshold = _check_threshold(threshold)
        if manager is not None and not isinstance(manager, CacheManager):
            raise TypeError(f"manager must be a CacheManager, got {type(manager).__name__}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        if isinstance(refresh, bool) or not isinstance(refresh, int | float) or refresh < 0:
            raise ValueError(f"refresh must be a number of seconds >= 0, got {refresh!r}")
        self.mode: Mode = mode
        self.manager = manager
        self.name = name
        self.refresh = float(refresh)
        self._embedder = embedder
        self._vectors = vector_backend
        self._lock = threading.Lock()
        self._listing: _Listing = {}
        # Persistence state: changes not yet merged into the stored list, the revision of the
        # stored list this process holds, when to look for other workers' changes next.
        self._changes: builtins.list[_Change] = []
        self._rev: str | None = None
        self._due = -math.inf
        self._syncing = False
        self._store = RecordStore(_LAYER)

    @property
    def embedder(self) -> Embedder:
        """The embedder (the default one is loaded on first use)."""
        if self._embedder is None:
            from omnicache_ai.embedders import get_default_embedder

            self._embedder = get_default_embedder()
        return self._embedder

    @property
    def vector_backend(self) -> VectorBackend:
        """The pattern index."""
        if self._vectors is None:
            from omnicache_ai.backends.vector import NumpyBackend

            self._vectors = NumpyBackend(dim=self.embedder.dim)
        return self._vectors

    # ---- local state (callers hold self._lock) ------------------------------------------------
    def _index(self, ids: builtins.list[str], listing: _Listing) -> None:
        if ids:
            vecs = np.vstack([np.frombuffer(listing[i][1] or b"", dtype="<f4") for i in ids])
            self.vector_backend.add(ids, vecs, [{"kind": "block"}] * len(ids))

    def _change_here(self, change: _Change) -> None:
        """Apply ``change`` to the patterns and the index, and queue it for the stored list."""
        before = set(self._listing)
        _apply(self._listing, change)
        gone = [pid for pid in before if pid not in self._listing]
        if gone:
            self.vector_backend.delete(gone)
        if change[0] == "add":
            self._index([change[1].id], self._listing)
        if self.manager is not None:
            self._changes.append(change)

    def _locked_change(self, change: _Change) -> None:
        with self._lock:
            self._change_here(change)

    def _adopt(self, listing: _Listing, merged: int, rev: str | None) -> None:
        """Make ``listing`` (the stored list after a sync) this process's patterns."""
        with self._lock:
            # Changes made here while the sync ran are not in it yet: keep them visible.
            del self._changes[:merged]
            for change in self._changes:
                _apply(listing, change)
            old = self._listing
            gone = [pid for pid in old if pid not in listing]
            if gone:
                self.vector_backend.delete(gone)
            self._index(
                [pid for pid, (_, vec) in listing.items() if pid not in old or old[pid][1] != vec],
                listing,
            )
            self._listing = listing
            self._rev = rev
            self._due = time.monotonic() + self.refresh

    def _backoff(self) -> None:
        with self._lock:
            self._due = time.monotonic() + self.refresh

    # ---- syncing with the stored list: one flow, a sync and an async driver -------------------
    def _keys(self, manager: CacheManager) -> tuple[str, str]:
        kb = manager.key_builder
        return kb.build(_LAYER, {"list": self.name}), kb.build(_LAYER, {"rev": self.name})

    def _fp_key(self, manager: CacheManager, pid: str) -> str:
        return manager.key_builder.build(_LAYER, {"fp": self.name, "id": pid})

    def _with_counts(self, counts: Mapping[str, int | None]) -> builtins.list[BlockedPattern]:
        out = []
        for p in self._sorted():
            n = counts.get(p.id)
            out.append(p if n is None else dataclasses.replace(p, false_positives=max(n, 0)))
        return out

    def _sync_flow(self, force: bool) -> _Flow:
        if self.manager is None:
            return
        with self._lock:
            due = force or bool(self._changes) or time.monotonic() >= self._due
            if self._syncing or not due:
                return  # a sync in progress merges later changes before it ends
            self._syncing = True
        try:
            for _ in range(3):
                more = yield from self._sync_round(self.manager)
                if not more:
                    return
        finally:
            with self._lock:
                self._syncing = False

    def _sync_round(self, manager: CacheManager) -> Generator[_Step, Any, bool]:
        list_key, rev_key = self._keys(manager)
        with self._lock:
            changes = builtins.list(self._changes)
            local = dict(self._listing)
            held = self._rev
        if not changes:
            found = yield ("load", [rev_key])
            if found is None:
                self._backoff()
                return False
            rev = found.get(rev_key)
            if rev == held and (rev is not None or not local):
                self._backoff()
                return False
        found = yield ("load", [list_key, rev_key])
        if found is None:
            self._backoff()
            return False
        name, dim = self.embedder.name, self.embedder.dim
        stored = _decode(found.get(list_key), name, dim)
        rev = found.get(rev_key)
        write = bool(changes)
        if stored is None:
            # Nothing readable is stored (first save, a wiped or foreign record): what this
            # process holds, which already includes its changes, becomes the stored list.
            listing, write = local, write or bool(local)
        else:
            listing = stored
            for change in changes:
                _apply(listing, change)
        missing = []
        for pid, (p, vec) in listing.items():
            if vec is None:
                mine = local.get(pid)
                if mine is not None and mine[0].pattern == p.pattern and mine[1] is not None:
                    listing[pid] = (p, mine[1])
                else:
                    missing.append(pid)
        if missing:
            vecs = yield ("embed_many", [listing[pid][0].pattern for pid in missing])
            for pid, vec in zip(missing, vecs, strict=True):
                listing[pid] = (listing[pid][0], _vector_bytes(vec))
        if write:
            rev = secrets.token_hex(8)
            saved = yield ("save", {list_key: _encode(listing, name), rev_key: rev})
            if not saved:
                self._backoff()  # the changes stay queued for the next round
                return False
        yield ("adopt", listing, len(changes), rev)
        with self._lock:
            return bool(self._changes)

    def _step(self, step: _Step) -> Any:
        kind, manager = step[0], self.manager
        assert manager is not None
        if kind == "load":
            return self._store.load(manager, step[1])
        if kind == "save":
            return self._store.save(manager, step[1], None)
        if kind == "embed_many":
            return self.embedder.embed_many(step[1])
        if kind == "adopt":
            return self._adopt(*step[1:])
        raise AssertionError(f"unknown step {kind}")  # pragma: no cover

    async def _astep(self, step: _Step) -> Any:
        kind, manager = step[0], self.manager
        assert manager is not None
        if kind == "load":
            return await self._store.aload(manager, step[1])
        if kind == "save":
            return await self._store.asave(manager, step[1], None)
        if kind == "embed_many":
            return await self.embedder.aembed_many(step[1])
        # Updating the index may be I/O (a remote vector store): keep it off the event loop.
        return await asyncio.to_thread(self._step, step)

    def _run(self, flow: _Flow) -> None:
        result: Any = None
        with closing(flow):
            try:
                while True:
                    result = self._step(flow.send(result))
            except StopIteration:
                return

    async def _arun(self, flow: _Flow) -> None:
        result: Any = None
        with closing(flow):
            try:
                while True:
                    result = await self._astep(flow.send(result))
            except StopIteration:
                return

    # ---- public API ---------------------------------------------------------------------------
    def _new_pattern(self, pattern: str, reason: str, threshold: float | None) -> BlockedPattern:
        if not isinstance(pattern, str) or not _norm(pattern):
            raise ValueError(f"pattern must be a non-empty string, got {pattern!r}")
        if not isinstance(reason, str):
            raise TypeError(f"reason must be a string, got {type(reason).__name__}")
        thr = _check_threshold(self.threshold if threshold is None else threshold)
        return BlockedPattern(_pattern_id(pattern), pattern, reason, thr, 0, time.time())

    def add(self, pattern: str, reason: str = "", *, threshold: float | None = None) -> str:
        """Block queries like ``pattern``; returns its id (adding it again updates it).

        With a manager the pattern is also written to the stored list.

        Raises:
            ValueError: On an empty pattern or a threshold outside (0, 1].

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> block = NegativeCache(embedder=HashingEmbedder())
            >>> block.add("my password") == block.add("My password!")
            True
        """
        p = self._new_pattern(pattern, reason, threshold)
        vec = self.embedder.embed(pattern)
        self._locked_change(("add", p, _vector_bytes(vec)))
        self._run(self._sync_flow(True))
        return p.id

    async def aadd(self, pattern: str, reason: str = "", *, threshold: float | None = None) -> str:
        """Async :meth:`add`."""
        p = self._new_pattern(pattern, reason, threshold)
        vec = await self.embedder.aembed(pattern)
        await asyncio.to_thread(self._locked_change, ("add", p, _vector_bytes(vec)))
        await self._arun(self._sync_flow(True))
        return p.id

    def _text_match(self, norm_query: str) -> BlockMatch | None:
        padded = f" {norm_query} "
        for p, _ in self._listing.values():
            if f" {_norm(p.pattern)} " in padded:
                return BlockMatch(p.id, p.pattern, p.reason, 1.0)
        return None

    def _match(self, query: str, vec: npt.NDArray[Any] | None) -> BlockMatch | None:
        with self._lock:
            if not self._listing:
                return None
            found = self._text_match(_norm(query))
            if found is not None or vec is None:
                return found
            hits = self.vector_backend.search(vec, k=min(8, len(self._listing)))
            for h in hits:
                entry = self._listing.get(h.id)
                if entry is not None and h.score >= entry[0].threshold:
                    p = entry[0]
                    return BlockMatch(p.id, p.pattern, p.reason, h.score)
        return None

    @staticmethod
    def _check_query(query: Any) -> None:
        if not isinstance(query, str):
            raise TypeError(f"query must be a string, got {type(query).__name__}")

    def check(self, query: str) -> BlockMatch | None:
        """The pattern ``query`` matches, or ``None``.

        Raises:
            TypeError: If ``query`` is not a string.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> NegativeCache(embedder=HashingEmbedder()).check("anything") is None
            True
        """
        self._check_query(query)
        self._run(self._sync_flow(False))
        if not self._listing:
            return None
        return self._match(query, self.embedder.embed(query) if query.strip() else None)

    async def acheck(self, query: str) -> BlockMatch | None:
        """Async :meth:`check` (the embedding and the index search run off the event loop)."""
        self._check_query(query)
        await self._arun(self._sync_flow(False))
        if not self._listing:
            return None
        vec = await self.embedder.aembed(query) if query.strip() else None
        return await asyncio.to_thread(self._match, query, vec)

    def _verdict(self, match: BlockMatch | None) -> bool:
        if match is None:
            return False
        if self.mode == "refuse":
            raise QueryBlockedError(match)
        return True

    def screen(self, query: str) -> bool:
        """Apply the mode: raise on a match (refuse), or return whether to bypass the cache.

        Raises:
            QueryBlockedError: In ``refuse`` mode, when ``query`` matches.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> block = NegativeCache(embedder=HashingEmbedder())
            >>> _ = block.add("delete all users")
            >>> block.screen("Please delete all users now")
            Traceback (most recent call last):
            ...
            omnicache_ai.layers.negative_cache.QueryBlockedError: query refused: it matches blocked pattern 'delete all users' (similarity 1.000; reason: none given)
        """  # noqa: E501
        return self._verdict(self.check(query))

    async def ascreen(self, query: str) -> bool:
        """Async :meth:`screen`."""
        return self._verdict(await self.acheck(query))

    def _sorted(self) -> builtins.list[BlockedPattern]:
        with self._lock:
            return sorted((p for p, _ in self._listing.values()), key=lambda p: p.created_at)

    def list(self) -> builtins.list[BlockedPattern]:
        """Every pattern, oldest first (with a manager: the stored list, reloaded if changed).

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> block = NegativeCache(embedder=HashingEmbedder())
            >>> _ = block.add("a b c", reason="r")
            >>> [(p.pattern, p.reason) for p in block.list()]
            [('a b c', 'r')]
        """
        self._run(self._sync_flow(True))
        m = self.manager
        if m is None:
            return self._sorted()
        # False-positive totals come from the atomic counters: exact whatever writes raced.
        return self._with_counts(
            {pid: m.incr(self._fp_key(m, pid), 0, ttl=0, layer=_LAYER) for pid in self._ids()}
        )

    async def alist(self) -> builtins.list[BlockedPattern]:
        """Async :meth:`list`."""
        await self._arun(self._sync_flow(True))
        m = self.manager
        if m is None:
            return self._sorted()
        return self._with_counts(
            {
                pid: await m.aincr(self._fp_key(m, pid), 0, ttl=0, layer=_LAYER)
                for pid in self._ids()
            }
        )

    def _ids(self) -> builtins.list[str]:
        with self._lock:
            return builtins.list(self._listing)

    def _removal(self, pattern_or_id: str) -> _Change | None:
        if not isinstance(pattern_or_id, str):
            raise TypeError(f"pattern_or_id must be a string, got {type(pattern_or_id).__name__}")
        with self._lock:
            pid = pattern_or_id
            if pid not in self._listing:
                pid = _pattern_id(pattern_or_id)
            if pid not in self._listing:
                return None
            change = ("remove", pid)
            self._change_here(change)
            return change

    def remove(self, pattern_or_id: str) -> bool:
        """Unblock a pattern given its id or its text; returns whether it existed.

        With a manager the stored list is checked first and updated after.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> block = NegativeCache(embedder=HashingEmbedder())
            >>> pid = block.add("x y")
            >>> block.remove(pid), block.remove("x y")
            (True, False)
        """
        self._run(self._sync_flow(True))
        if self._removal(pattern_or_id) is None:
            return False
        self._run(self._sync_flow(True))
        return True

    async def aremove(self, pattern_or_id: str) -> bool:
        """Async :meth:`remove`."""
        await self._arun(self._sync_flow(True))
        if await asyncio.to_thread(self._removal, pattern_or_id) is None:
            return False
        await self._arun(self._sync_flow(True))
        return True

    def clear(self) -> None:
        """Remove every pattern (with a manager: from the stored list too).

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> block = NegativeCache(embedder=HashingEmbedder())
            >>> _ = block.add("x y"); block.clear(); len(block)
            0
        """
        self._locked_change(("clear",))
        self._run(self._sync_flow(True))

    async def aclear(self) -> None:
        """Async :meth:`clear`."""
        await asyncio.to_thread(self._locked_change, ("clear",))
        await self._arun(self._sync_flow(True))

    def _raise_for(self, match: BlockMatch, count: int | None) -> None:
        raised = min(1.0, match.similarity + 1e-4) if match.similarity < 1.0 else 1.0
        self._locked_change(("raise", match.pattern_id, raised, count))

    def report_false_positive(self, query: str) -> BlockMatch | None:
        """Say that ``query`` was wrongly blocked; the matching pattern stops matching it.

        The pattern's threshold rises just above the query's similarity (a text match cannot
        be relaxed this way: remove or rewrite the pattern instead). With a manager the
        stored pattern is updated, so every worker stops blocking the query.

        Returns:
            The match that was reported, or ``None`` if ``query`` matches nothing.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> block = NegativeCache(embedder=HashingEmbedder(), threshold=0.5)
            >>> _ = block.add("stock price of acme today")
            >>> m = block.check("stock price of acme yesterday")
            >>> block.report_false_positive("stock price of acme yesterday") == m
            True
            >>> block.check("stock price of acme yesterday") is None
            True
        """
        match = self.check(query)
        if match is None:
            return None
        m = self.manager
        count = (
            None if m is None else m.incr(self._fp_key(m, match.pattern_id), ttl=0, layer=_LAYER)
        )
        self._raise_for(match, count)
        self._run(self._sync_flow(True))
        return match

    async def areport_false_positive(self, query: str) -> BlockMatch | None:
        """Async :meth:`report_false_positive`."""
        match = await self.acheck(query)
        if match is None:
            return None
        m = self.manager
        count = (
            None
            if m is None
            else await m.aincr(self._fp_key(m, match.pattern_id), ttl=0, layer=_LAYER)
        )
        await asyncio.to_thread(self._raise_for, match, count)
        await self._arun(self._sync_flow(True))
        return match

    def __len__(self) -> int:
        return len(self._listing)

    def __repr__(self) -> str:
        where = "memory" if self.manager is None else repr(self.manager)
        return f"{type(self).__name__}({len(self)} patterns, mode={self.mode!r}, {where})"
