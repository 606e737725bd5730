"""Embedders: turn text into unit vectors for the semantic cache.

``HashingEmbedder`` needs nothing; the others are imported on first use, so a missing extra
only matters to the code that asks for it. ``CachedEmbedder`` wraps any of them so each
distinct text is embedded once per model, through a cache manager.
``get_default_embedder()`` returns the local, offline default (see ``docs/embedders.md`` for
how it was chosen), and ``recommended_threshold()`` the semantic-cache threshold calibrated
for a model.

Example:
    >>> from omnicache_ai.embedders import HashingEmbedder, Embedder
    >>> isinstance(HashingEmbedder(dim=32), Embedder)
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omnicache_ai.embedders.base import BaseEmbedder, Embedder, l2_normalize
from omnicache_ai.embedders.default import (
    DEFAULT_EMBEDDER,
    PRESETS,
    RECOMMENDED_THRESHOLDS,
    get_default_embedder,
    load_embedder,
    recommended_threshold,
)
from omnicache_ai.embedders.hashing import HashingEmbedder

if TYPE_CHECKING:
    from omnicache_ai.embedders.onnx import OnnxEmbedder
    from omnicache_ai.embedders.openai import EmbeddingAPIError, OpenAIEmbedder
    from omnicache_ai.embedders.sentence_transformers import SentenceTransformerEmbedder
    from omnicache_ai.embedders.wordllama import WordLlamaEmbedder
    from omnicache_ai.layers.cached_embedder import CachedEmbedder

__all__ = [
    "DEFAULT_EMBEDDER",
    "PRESETS",
    "RECOMMENDED_THRESHOLDS",
    "BaseEmbedder",
    "CachedEmbedder",
    "Embedder",
    "EmbeddingAPIError",
    "HashingEmbedder",
    "OnnxEmbedder",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "WordLlamaEmbedder",
    "get_default_embedder",
    "l2_normalize",
    "load_embedder",
    "recommended_threshold",
]

_LAZY = {
    # A layer now (it stores through the cache manager); re-exported here, lazily, so the
    # old import path keeps working without embedders importing the floor above them.
    "CachedEmbedder": "omnicache_ai.layers.cached_embedder",
    "OnnxEmbedder": "omnicache_ai.embedders.onnx",
    "OpenAIEmbedder": "omnicache_ai.embedders.openai",
    "EmbeddingAPIError": "omnicache_ai.embedders.openai",
    "SentenceTransformerEmbedder": "omnicache_ai.embedders.sentence_transformers",
    "WordLlamaEmbedder": "omnicache_ai.embedders.wordllama",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
