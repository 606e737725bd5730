"""The embedder contract: text in, one L2-normalized float32 vector out.

Every embedder has a ``name`` (goes into cache keys and vector metadata, so vectors from two
models never meet) and a fixed ``dim``. ``embed_many`` is the primitive; ``embed`` and the async
twins are derived from it by :class:`BaseEmbedder`. The async methods move the CPU-bound work
to a worker thread (:func:`asyncio.to_thread`) so an event loop is never blocked by a model.

Example:
    >>> from omnicache_ai.embedders import Embedder, HashingEmbedder
    >>> emb = HashingEmbedder(dim=64)
    >>> isinstance(emb, Embedder), emb.embed("hello").shape
    (True, (64,))
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["BaseEmbedder", "Embedder", "l2_normalize", "text_batch"]

Vector = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into unit vectors of a fixed dimension.

    Implementations return float32 arrays, L2-normalized, of shape ``(dim,)`` for
    :meth:`embed` and ``(len(texts), dim)`` for :meth:`embed_many`, and are safe to call from
    several threads at once.

    Attributes:
        name: Identifies the model (and its settings); vectors with different names are
            not comparable.
        dim: Vector dimension.

    Example:
        >>> from omnicache_ai.embedders import HashingEmbedder
        >>> isinstance(HashingEmbedder(), Embedder)
        True
    """

    name: str
    dim: int

    def embed(self, text: str) -> Vector:
        """One text to one unit vector of shape ``(dim,)``."""
        ...

    def embed_many(self, texts: Sequence[str]) -> Vector:
        """Texts to a ``(len(texts), dim)`` matrix of unit rows."""
        ...

    async def aembed(self, text: str) -> Vector:
        """:meth:`embed` without blocking the event loop."""
        ...

    async def aembed_many(self, texts: Sequence[str]) -> Vector:
        """:meth:`embed_many` without blocking the event loop."""
        ...


def text_batch(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list, after checking it is a sequence of strings (not one string).

    Raises:
        TypeError: If ``texts`` is a single string or holds a non-string.

    Example:
        >>> text_batch(("a", "b"))
        ['a', 'b']
    """
    if isinstance(texts, str):
        raise TypeError("embed_many takes a sequence of strings; use embed() for one text")
    batch = list(texts)
    for text in batch:
        if not isinstance(text, str):
            raise TypeError(f"texts must be strings, got {type(text).__name__}")
    return batch


def l2_normalize(matrix: npt.ArrayLike) -> Vector:
    """Rows scaled to unit length, as float32 (an all-zero row stays zero).

    Example:
        >>> l2_normalize([[3.0, 4.0]]).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """
    arr = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=-1, keepdims=True)
    out: Vector = np.divide(arr, norms, out=np.zeros_like(arr), where=norms > 0)
    return out


class BaseEmbedder:
    """Derives ``embed`` and the async methods from one ``_embed_batch`` implementation.

    Subclasses set ``name`` and ``dim`` and implement :meth:`_embed_batch`, which receives a
    non-empty list of strings and returns a ``(n, dim)`` array (normalization is done here).

    Example:
        >>> import numpy as np
        >>> class Ones(BaseEmbedder):
        ...     name, dim = "ones", 2
        ...     def _embed_batch(self, texts):
        ...         return np.ones((len(texts), 2))
        >>> Ones().embed("x").tolist()
        [0.7071067690849304, 0.7071067690849304]
    """

    name: str
    dim: int

    def _embed_batch(self, texts: list[str]) -> npt.ArrayLike:  # pragma: no cover - abstract
        raise NotImplementedError

    def embed_many(self, texts: Sequence[str]) -> Vector:
        """Embed several texts; returns a ``(len(texts), dim)`` float32 matrix of unit rows.

        Raises:
            TypeError: If ``texts`` is a single string or holds a non-string.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> HashingEmbedder(dim=16).embed_many(["a", "b"]).shape
            (2, 16)
        """
        batch = text_batch(texts)
        if not batch:
            return np.empty((0, self.dim), dtype=np.float32)
        out: Vector = l2_normalize(self._embed_batch(batch))
        if out.shape != (len(batch), self.dim):
            raise RuntimeError(
                f"{self.name} returned shape {out.shape}, expected {(len(batch), self.dim)}"
            )
        return out

    def embed(self, text: str) -> Vector:
        """Embed one text; returns a float32 unit vector of shape ``(dim,)``.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> float(round((HashingEmbedder().embed("hi") ** 2).sum(), 5))
            1.0
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        row: Vector = self.embed_many([text])[0]
        return row

    async def aembed(self, text: str) -> Vector:
        """Embed one text in a worker thread.

        Example:
            >>> import asyncio
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> asyncio.run(HashingEmbedder(dim=8).aembed("hi")).shape
            (8,)
        """
        return await asyncio.to_thread(self.embed, text)

    async def aembed_many(self, texts: Sequence[str]) -> Vector:
        """Embed several texts in a worker thread.

        Example:
            >>> import asyncio
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> asyncio.run(HashingEmbedder(dim=8).aembed_many(["a", "b"])).shape
            (2, 8)
        """
        return await asyncio.to_thread(self.embed_many, list(texts))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"
