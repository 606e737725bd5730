"""Moved: :class:`CachedEmbedder` is a layer, ``omnicache_ai.layers.cached_embedder``.

A cache in front of an embedder sits above the embedders (it stores through the cache
manager and the embedding layer), so it lives in ``layers/``. This module keeps the old
import path working.

Example:
    >>> from omnicache_ai.embedders.cached import CachedEmbedder
    >>> CachedEmbedder.__module__
    'omnicache_ai.layers.cached_embedder'
"""

from __future__ import annotations

from omnicache_ai.layers.cached_embedder import CachedEmbedder

__all__ = ["CachedEmbedder"]
