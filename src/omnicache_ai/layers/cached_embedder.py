"""CachedEmbedder: any embedder, with each distinct text embedded once per model.

A cache in front of an embedder is a layer: it sits above the embedders and the cache
manager it stores through (``omnicache_ai.embedders.CachedEmbedder`` still works).

The wrapper satisfies the :class:`~omnicache_ai.embedders.Embedder` protocol and stores
vectors through an :class:`~omnicache_ai.layers.embedding_cache.EmbeddingCache`, so they
live wherever the cache manager's backend lives: a Redis or disk backend shares them
between workers and keeps them across restarts. Vectors are keyed by the wrapped
embedder's ``name`` (model and settings), so two models never share a vector. A batch reads
every text in one backend call and embeds only the misses, in one call to the model.

A failing backend never fails an embedding: the manager serves a miss and the model runs
(see ``CacheManager(strict=...)``).

Example:
    >>> from omnicache_ai import CacheManager
    >>> from omnicache_ai.embedders import HashingEmbedder
    >>> from omnicache_ai.layers import CachedEmbedder
    >>> emb = CachedEmbedder(HashingEmbedder(dim=32), CacheManager())
    >>> emb.name, emb.dim
    ('hashing-32', 32)
    >>> bool((emb.embed("hello") == emb.embed_many(["hi", "hello"])[1]).all())
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.core.errors import ConfigurationError
from omnicache_ai.embedders.base import Embedder, text_batch
from omnicache_ai.layers.embedding_cache import EmbeddingCache

__all__ = ["CachedEmbedder"]

Vector = npt.NDArray[np.float32]


class CachedEmbedder:
    """Wrap an :class:`Embedder` so each distinct text is embedded once per model.

    Args:
        embedder: The embedder to wrap; its ``name`` keys the stored vectors.
        manager: The :class:`CacheManager` vectors are stored through (default: a new
            in-memory one). Tenant views (``manager.for_tenant``) keep separate vectors.
        cache: An existing :class:`EmbeddingCache` to use instead of ``manager`` (its
            manager, TTL and ``writable`` setting apply).
        ttl: Seconds vectors live (default: the manager's ``embedding`` TTL); only with
            ``manager``.

    Raises:
        TypeError: If ``embedder`` does not follow the :class:`Embedder` protocol.
        ConfigurationError: If both ``manager`` and ``cache`` are given, or ``ttl`` with
            ``cache``.

    Vectors served from the cache are read-only arrays (zero-copy views of the stored
    bytes); build the :class:`EmbeddingCache` with ``writable=True`` if callers modify them
    in place.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> from omnicache_ai.embedders import HashingEmbedder
        >>> class Counting(HashingEmbedder):
        ...     calls = 0
        ...     def _embed_batch(self, texts):
        ...         Counting.calls += len(texts)
        ...         return super()._embed_batch(texts)
        >>> emb = CachedEmbedder(Counting(dim=16), CacheManager())
        >>> _ = emb.embed_many(["a", "b", "a"]); _ = emb.embed("b")
        >>> Counting.calls
        2
    """

    def __init__(
        self,
        embedder: Embedder,
        manager: CacheManager | None = None,
        *,
        cache: EmbeddingCache | None = None,
        ttl: float | None = None,
    ) -> None:
        if not isinstance(embedder, Embedder):
            raise TypeError(
                "embedder must follow the Embedder protocol (name, dim, embed, embed_many, "
                f"aembed, aembed_many), got {type(embedder).__name__}"
            )
        if manager is not None and cache is not None:
            raise ConfigurationError("pass either manager= or cache=, not both")
        if cache is None:
            cache = EmbeddingCache(manager if manager is not None else CacheManager(), ttl=ttl)
        elif not isinstance(cache, EmbeddingCache):
            raise TypeError(f"cache must be an EmbeddingCache, got {type(cache).__name__}")
        elif ttl is not None:
            raise ConfigurationError("ttl= is set on the EmbeddingCache when passing cache=")
        self.embedder = embedder
        self.cache = cache

    # The protocol declares plain attributes; these forward to the wrapped embedder so a
    # lazily probed dimension (OpenAIEmbedder, embed_fn adapters) is never read early.
    @property
    def name(self) -> str:
        """The wrapped embedder's name: the vectors are its vectors."""
        return self.embedder.name

    @name.setter
    def name(self, value: str) -> None:
        raise AttributeError("a CachedEmbedder's name is its wrapped embedder's")

    @property
    def dim(self) -> int:
        """The wrapped embedder's dimension."""
        return self.embedder.dim

    @dim.setter
    def dim(self, value: int) -> None:
        raise AttributeError("a CachedEmbedder's dim is its wrapped embedder's")

    def _stack(self, rows: list[npt.NDArray[np.generic]]) -> Vector:
        if not rows:
            return np.empty((0, self.dim), dtype=np.float32)
        out: Vector = np.vstack(rows).astype(np.float32, copy=False)
        return out

    def embed(self, text: str) -> Vector:
        """One text to one vector, from the cache when this model embedded it before.

        Raises:
            TypeError: If ``text`` is not a string.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> CachedEmbedder(HashingEmbedder(dim=8)).embed("hi").shape
            (8,)
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        vec: Vector = self.cache.get_or_compute(text, self.embedder.embed, model_id=self.name)
        return vec

    def embed_many(self, texts: Sequence[str]) -> Vector:
        """Texts to a ``(len(texts), dim)`` matrix; only the misses reach the model, in one batch.

        Raises:
            TypeError: If ``texts`` is a single string or holds a non-string.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> CachedEmbedder(HashingEmbedder(dim=8)).embed_many(["a", "b", "a"]).shape
            (3, 8)
        """
        batch = text_batch(texts)
        if not batch:
            return self._stack([])
        rows = self.cache.get_or_compute_many(batch, self.embedder.embed_many, model_id=self.name)
        return self._stack(rows)

    async def aembed(self, text: str) -> Vector:
        """:meth:`embed` without blocking the event loop.

        Example:
            >>> import asyncio
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> asyncio.run(CachedEmbedder(HashingEmbedder(dim=8)).aembed("hi")).shape
            (8,)
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        vec: Vector = await self.cache.aget_or_compute(
            text, self.embedder.aembed, model_id=self.name
        )
        return vec

    async def aembed_many(self, texts: Sequence[str]) -> Vector:
        """:meth:`embed_many` without blocking the event loop.

        Example:
            >>> import asyncio
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> emb = CachedEmbedder(HashingEmbedder(dim=8))
            >>> asyncio.run(emb.aembed_many(["a", "b"])).shape
            (2, 8)
        """
        batch = text_batch(texts)
        if not batch:
            return self._stack([])
        rows = await self.cache.aget_or_compute_many(
            batch, self.embedder.aembed_many, model_id=self.name
        )
        return self._stack(rows)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.embedder!r}, {self.cache!r})"
