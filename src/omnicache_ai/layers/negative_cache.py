"""A blocklist for queries that must never be answered from cache, or never answered at all.

Patterns are example queries (or phrases). A query matches a pattern when it contains the
normalized pattern text, or when its embedding is at least the pattern's threshold close to the
pattern's. Depending on ``mode`` a match is *refused* (``screen`` raises
:class:`QueryBlockedError` before any upstream call) or *skipped* (``screen`` returns ``True``:
call upstream, but neither read nor write the cache). ``report_false_positive`` raises the
threshold of the pattern that wrongly matched just above that query's similarity, so the same
mistake does not repeat.

Patterns live in this process (a dict and an in-process vector index).

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
import hashlib
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import numpy as np

from omnicache_ai.core.errors import OmnicacheError

if TYPE_CHECKING:
    from omnicache_ai.backends.vector.base import VectorBackend
    from omnicache_ai.embedders.base import Embedder

__all__ = ["BlockMatch", "BlockedPattern", "NegativeCache", "QueryBlockedError"]

#: Default similarity for a blocklist match: stricter than the semantic cache's default, since
#: a false match here costs an upstream call (skip) or a refused user (refuse).
DEFAULT_BLOCK_THRESHOLD: Final = 0.85
Mode = Literal["refuse", "skip"]


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


class NegativeCache:
    """Blocklist of query patterns, matched by text containment or embedding similarity.

    Args:
        embedder: Embeds patterns and queries (default: the local default embedder).
        threshold: Default similarity for a match (per pattern overridable).
        mode: ``"refuse"`` (``screen`` raises) or ``"skip"`` (``screen`` returns True:
            bypass the cache).
        vector_backend: Index of pattern vectors (default: an in-process NumpyBackend).

    Example:
        >>> from omnicache_ai.embedders import HashingEmbedder
        >>> block = NegativeCache(embedder=HashingEmbedder(), mode="skip")
        >>> _ = block.add("today's stock price")
        >>> block.screen("What is today's stock price of ACME?")
        True
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        threshold: float = DEFAULT_BLOCK_THRESHOLD,
        mode: Mode = "refuse",
        vector_backend: VectorBackend | None = None,
    ) -> None:
        if mode not in ("refuse", "skip"):
            raise ValueError(f"mode must be 'refuse' or 'skip', got {mode!r}")
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not (0 < threshold <= 1)
        ):
            raise ValueError(f"threshold must be a number in (0, 1], got {threshold!r}")
        self.mode: Mode = mode
        self.threshold = float(threshold)
        self._embedder = embedder
        self._vectors = vector_backend
        self._lock = threading.Lock()
        self._patterns: dict[str, BlockedPattern] = {}

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

    def add(self, pattern: str, reason: str = "", *, threshold: float | None = None) -> str:
        """Block queries like ``pattern``; returns its id (adding it again updates it).

        Raises:
            ValueError: On an empty pattern or a threshold outside (0, 1].

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> block = NegativeCache(embedder=HashingEmbedder())
            >>> block.add("my password") == block.add("My password!")
            True
        """
        if not isinstance(pattern, str) or not _norm(pattern):
            raise ValueError(f"pattern must be a non-empty string, got {pattern!r}")
        thr = self.threshold if threshold is None else threshold
        if isinstance(thr, bool) or not isinstance(thr, int | float) or not 0 < thr <= 1:
            raise ValueError(f"threshold must be a number in (0, 1], got {thr!r}")
        pid = hashlib.blake2b(_norm(pattern).encode(), digest_size=8).hexdigest()
        vec = self.embedder.embed(pattern)
        with self._lock:
            old = self._patterns.get(pid)
            self._patterns[pid] = BlockedPattern(
                pid, pattern, reason, float(thr), old.false_positives if old else 0, time.time()
            )
            self.vector_backend.add([pid], vec.reshape(1, -1), [{"kind": "block"}])
        return pid

    def _text_match(self, norm_query: str) -> BlockMatch | None:
        padded = f" {norm_query} "
        for p in self._patterns.values():
            if f" {_norm(p.pattern)} " in padded:
                return BlockMatch(p.id, p.pattern, p.reason, 1.0)
        return None

    def _match(self, query: str, vec: np.ndarray | None) -> BlockMatch | None:
        with self._lock:
            if not self._patterns:
                return None
            found = self._text_match(_norm(query))
            if found is not None or vec is None:
                return found
            hits = self.vector_backend.search(vec, k=min(8, len(self._patterns)))
            for h in hits:
                p = self._patterns.get(h.id)
                if p is not None and h.score >= p.threshold:
                    return BlockMatch(p.id, p.pattern, p.reason, h.score)
        return None

    def check(self, query: str) -> BlockMatch | None:
        """The pattern ``query`` matches, or ``None``.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> NegativeCache(embedder=HashingEmbedder()).check("anything") is None
            True
        """
        if not isinstance(query, str):
            raise TypeError(f"query must be a string, got {type(query).__name__}")
        if not self._patterns:
            return None
        return self._match(query, self.embedder.embed(query) if query.strip() else None)

    async def acheck(self, query: str) -> BlockMatch | None:
        """Async :meth:`check` (the embedding runs off the event loop)."""
        if not isinstance(query, str):
            raise TypeError(f"query must be a string, got {type(query).__name__}")
        if not self._patterns:
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

    def list(self) -> builtins.list[BlockedPattern]:
        """Every pattern, oldest first.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> block = NegativeCache(embedder=HashingEmbedder())
            >>> _ = block.add("a b c", reason="r")
            >>> [(p.pattern, p.reason) for p in block.list()]
            [('a b c', 'r')]
        """
        with self._lock:
            return sorted(self._patterns.values(), key=lambda p: p.created_at)

    def remove(self, pattern_or_id: str) -> bool:
        """Unblock a pattern given its id or its text; returns whether it existed.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> block = NegativeCache(embedder=HashingEmbedder())
            >>> pid = block.add("x y")
            >>> block.remove(pid), block.remove("x y")
            (True, False)
        """
        pid = pattern_or_id
        if pid not in self._patterns:
            pid = hashlib.blake2b(_norm(pattern_or_id).encode(), digest_size=8).hexdigest()
        with self._lock:
            if self._patterns.pop(pid, None) is None:
                return False
            self.vector_backend.delete([pid])
        return True

    def report_false_positive(self, query: str) -> BlockMatch | None:
        """Say that ``query`` was wrongly blocked; the matching pattern stops matching it.

        The pattern's threshold rises just above the query's similarity (a text match cannot
        be relaxed this way: remove or rewrite the pattern instead).

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
        with self._lock:
            p = self._patterns.get(match.pattern_id)
            if p is not None:
                raised = min(1.0, match.similarity + 1e-4) if match.similarity < 1.0 else 1.0
                self._patterns[p.id] = BlockedPattern(
                    p.id, p.pattern, p.reason, max(p.threshold, raised),
                    p.false_positives + 1, p.created_at,
                )  # fmt: skip
        return match

    def __len__(self) -> int:
        return len(self._patterns)
