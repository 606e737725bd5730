"""Any sentence-transformers model, for users who already run PyTorch.

Not part of the default install (it pulls in torch). The model is loaded from a local path or
the model name as sentence-transformers resolves it; with ``HF_HUB_OFFLINE=1`` it only reads
its local cache.

Example:
    >>> from omnicache_ai.embedders import SentenceTransformerEmbedder
    >>> emb = SentenceTransformerEmbedder("all-MiniLM-L6-v2")  # doctest: +SKIP
    >>> emb.embed("hello").shape  # doctest: +SKIP
    (384,)
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from omnicache_ai.embedders.base import BaseEmbedder

__all__ = ["SentenceTransformerEmbedder"]


class SentenceTransformerEmbedder(BaseEmbedder):
    """Embeddings from a ``sentence_transformers.SentenceTransformer``.

    Args:
        model: A model name or local directory, or a ready ``SentenceTransformer``.
        device: Torch device, e.g. ``"cpu"`` or ``"cuda"``.
        batch_size: Texts per forward pass.
        name: Identifies the model in cache keys; defaults to the model name.

    Raises:
        ImportError: If sentence-transformers is not installed.

    Example:
        >>> SentenceTransformerEmbedder("/models/minilm", device="cpu").dim  # doctest: +SKIP
        384
    """

    def __init__(
        self,
        model: Any,
        *,
        device: str | None = None,
        batch_size: int = 32,
        name: str | None = None,
    ) -> None:
        if isinstance(model, str):
            try:
                # Imported by name: the package ships no type stubs, and torch is optional.
                st = importlib.import_module("sentence_transformers")
            except ImportError as err:
                raise ImportError(
                    "SentenceTransformerEmbedder needs sentence-transformers; install it with: "
                    "pip install sentence-transformers (it brings PyTorch, so no omnicache-ai "
                    "extra installs it)"
                ) from err
            self.name = name or model
            self._model: Any = st.SentenceTransformer(model, device=device)
        else:
            self.name = name or type(model).__name__
            self._model = model
        self._batch_size = batch_size
        getter = getattr(self._model, "get_sentence_embedding_dimension", None)
        dim = getter() if callable(getter) else None
        self.dim = int(dim) if dim else int(self._encode(["dimension probe"]).shape[1])
        # torch modules are not documented as safe for concurrent forward passes.
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        out = self._model.encode(
            texts,
            batch_size=self._batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        with self._lock:
            return self._encode(texts)
