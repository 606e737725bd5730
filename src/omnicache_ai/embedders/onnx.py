"""Run any local ONNX sentence-embedding model with onnxruntime and a ``tokenizer.json``.

Built for BERT-style encoders exported from sentence-transformers (MiniLM, MPNet, BGE, E5
...): the model takes ``input_ids``, ``attention_mask`` and optionally ``token_type_ids`` and
returns per-token hidden states, which are pooled here. Mean pooling is weighted by the
attention mask, so padding never dilutes a short text in a padded batch: the same text gets
the same vector alone or in any batch. Nothing is ever downloaded.

Example:
    >>> from omnicache_ai.embedders import OnnxEmbedder
    >>> emb = OnnxEmbedder("model.onnx", "tokenizer.json")  # doctest: +SKIP
    >>> emb.embed("hello").shape  # doctest: +SKIP
    (384,)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from omnicache_ai.embedders.base import BaseEmbedder

__all__ = ["OnnxEmbedder"]

_EXTRA_HINT = "install it with: pip install 'omnicache-ai[semantic]'"


def _import_runtime() -> tuple[Any, Any]:
    try:
        import onnxruntime
    except ImportError as err:
        raise ImportError(f"OnnxEmbedder needs onnxruntime; {_EXTRA_HINT}") from err
    try:
        import tokenizers
    except ImportError as err:
        raise ImportError(f"OnnxEmbedder needs tokenizers; {_EXTRA_HINT}") from err
    return onnxruntime, tokenizers


class OnnxEmbedder(BaseEmbedder):
    """Sentence embeddings from a local ONNX encoder and its ``tokenizer.json``.

    Thread-safe: onnxruntime sessions may be run concurrently, and the tokenizer is only
    read after construction.

    Args:
        model_path: The ``.onnx`` file.
        tokenizer_path: A Hugging Face ``tokenizer.json`` matching the model.
        name: Identifies the model in cache keys; defaults to the model file's stem.
        max_length: Tokens kept per text (longer texts are truncated).
        pooling: ``"mean"`` (attention-mask weighted; what sentence-transformers models
            use) or ``"cls"`` (first token; BGE-style models).
        output_name: Model output to pool. By default ``last_hidden_state`` if present,
            else the first rank-3 float output; a rank-2 output is taken as already pooled.
        batch_size: Texts per model call in :meth:`embed_many`.
        threads: onnxruntime intra-op threads; ``None`` lets onnxruntime decide.

    Raises:
        FileNotFoundError: If a file is missing.
        ImportError: If onnxruntime or tokenizers is not installed.

    Example:
        >>> OnnxEmbedder("/no/such/model.onnx", "/no/tokenizer.json")
        Traceback (most recent call last):
        ...
        FileNotFoundError: ONNX model not found: /no/such/model.onnx
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        tokenizer_path: str | os.PathLike[str],
        *,
        name: str | None = None,
        max_length: int = 256,
        pooling: Literal["mean", "cls"] = "mean",
        output_name: str | None = None,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        model = Path(model_path)
        tok_file = Path(tokenizer_path)
        if not model.is_file():
            raise FileNotFoundError(f"ONNX model not found: {model}")
        if not tok_file.is_file():
            raise FileNotFoundError(f"tokenizer not found: {tok_file}")
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {pooling!r}")
        ort, tokenizers = _import_runtime()
        self.name = name or model.stem
        self._pooling = pooling
        self._batch_size = max(1, batch_size)

        tokenizer = tokenizers.Tokenizer.from_file(str(tok_file))
        # Exported tokenizer.json files often pin padding to a fixed length (128); padding is
        # done per batch below instead, to the longest text, which is far cheaper for queries.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_length)
        self._tokenizer = tokenizer
        pad_id = tokenizer.token_to_id("[PAD]")
        self._pad_id = 0 if pad_id is None else int(pad_id)

        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: shape-inference notes are noise here
        if threads is not None:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._input_names
        if missing:
            raise ValueError(
                f"{model} lacks the inputs {sorted(missing)}; not a BERT-style encoder"
            )
        self._output_name, self._output_rank = self._pick_output(output_name)
        self.dim = int(self._run(["dimension probe"]).shape[1])

    def _pick_output(self, wanted: str | None) -> tuple[str, int]:
        outputs = self._session.get_outputs()
        by_name = {o.name: o for o in outputs}
        if wanted is not None:
            if wanted not in by_name:
                raise ValueError(f"model has no output {wanted!r}; it has {sorted(by_name)}")
            return wanted, len(by_name[wanted].shape)
        if "last_hidden_state" in by_name:
            return "last_hidden_state", 3
        floats = [o for o in outputs if o.type == "tensor(float)"]
        for rank in (3, 2):
            for out in floats:
                if len(out.shape) == rank:
                    return out.name, rank
        raise ValueError("model has no float output of rank 2 or 3 to use as embeddings")

    def _run(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self._session.run([self._output_name], feeds)
        hidden = np.asarray(hidden, dtype=np.float32)
        if self._output_rank == 2:
            return hidden
        if self._pooling == "cls":
            return hidden[:, 0, :]
        weights = mask[:, :, None].astype(np.float32)
        summed = (hidden * weights).sum(axis=1)
        pooled: npt.NDArray[np.float32] = summed / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        if len(texts) <= self._batch_size:
            return self._run(texts)
        # Sorting by length keeps each chunk's padding small; the order is restored below.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            chunk = order[start : start + self._batch_size]
            out[chunk] = self._run([texts[i] for i in chunk])
        return out
