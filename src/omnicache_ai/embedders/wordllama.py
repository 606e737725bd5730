"""WordLlama: static token embeddings, pooled; sub-millisecond and CPU-only.

`wordllama` ships its weights inside the PyPI package (the 256-dimension ``l2_supercat``
model), so loading touches no network: downloads are disabled explicitly. It is a bag of
token vectors, so it is blind to word order ("Paris to Berlin" equals "Berlin to Paris") and
weaker on negation than a transformer; see ``docs/embedders.md`` for measured quality.

Example:
    >>> from omnicache_ai.embedders import WordLlamaEmbedder
    >>> WordLlamaEmbedder().embed("hello").shape  # doctest: +SKIP
    (256,)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from omnicache_ai.embedders.base import BaseEmbedder

__all__ = ["WordLlamaEmbedder"]

_BLANK = "[empty text]"


def _import_wordllama() -> Any:
    # wordllama (0.4) calls logging.basicConfig(level=INFO) when imported, which would switch
    # on INFO output of every library in the host application. Undo what the import added.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)
    return wordllama


class WordLlamaEmbedder(BaseEmbedder):
    """Embeddings from the `wordllama` package's bundled static model.

    Args:
        config: WordLlama model configuration name.
        dim: Model dimension; only dimensions whose weights the package ships load offline.
        trunc_dim: Optional Matryoshka truncation (e.g. 128) for smaller vectors.

    Raises:
        ImportError: If wordllama is not installed.
        FileNotFoundError: If the requested weights are not bundled (nothing is downloaded).

    Example:
        >>> WordLlamaEmbedder(trunc_dim=128).dim  # doctest: +SKIP
        128
    """

    def __init__(
        self, config: str = "l2_supercat", dim: int = 256, trunc_dim: int | None = None
    ) -> None:
        try:
            wordllama = _import_wordllama()
            from wordllama import WordLlama
        except ImportError as err:
            raise ImportError(
                "WordLlamaEmbedder needs wordllama; install it with: "
                "pip install 'omnicache-ai[semantic-fast]'"
            ) from err
        # wordllama looks for its bundled tokenizer under "tokenizer/" but ships it under
        # "tokenizers/" (checked in 0.4), so without help it would download a copy. Its
        # cache-dir layout matches the package's own, so point the cache at the package.
        package_dir = Path(wordllama.__file__).parent
        self._model: Any = WordLlama.load(
            config=config,
            dim=dim,
            trunc_dim=trunc_dim,
            cache_dir=package_dir,
            disable_download=True,
        )
        self.dim = trunc_dim or dim
        self.name = f"wordllama-{config}-{self.dim}"

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        # A blank text has no tokens and wordllama's pooling divides by zero (NaN vector);
        # give every blank text one fixed stand-in so it still gets a stable direction.
        clean = [t if t.strip() else _BLANK for t in texts]
        return np.asarray(self._model.embed(clean, norm=True, return_np=True), dtype=np.float32)
