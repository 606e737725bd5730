"""Pair verification for grey-zone semantic candidates: a model that reads both questions.

An embedding compares two questions through two separate vectors; a *pair model*
(cross-encoder) reads them together and tells a synonym from a substitution far better, at a
much higher cost per pair. :class:`~omnicache_ai.SemanticCache` runs its ``verify`` hook only
on candidates in its grey zone (see ``verify_band``/``verify_above``), after the guards, so
that cost is paid on few lookups.

:class:`PairVerifier` turns a pair model into that hook. It takes what the user has:

* a sentence-transformers ``CrossEncoder`` object, or anything with a
  ``predict(list[(a, b)]) -> scores`` method;
* a plain function ``list[(a, b)] -> scores``;
* a local ONNX cross-encoder file and its ``tokenizer.json``
  (:meth:`PairVerifier.from_onnx`; needs the ``semantic`` extra's onnxruntime and tokenizers).

Nothing is downloaded: the model is the user's. An LLM judge needs no wrapper: pass any
``(query, cached_query, answer) -> bool`` callable (sync or async) as ``verify``.

Example:
    >>> from omnicache_ai.layers.verify import PairVerifier
    >>> verifier = PairVerifier(lambda pairs: [1.0 if a.lower() == b.lower() else 0.0
    ...                                        for a, b in pairs])
    >>> verifier("Reset my PIN", "reset my pin", "answer"), verifier("a", "b", "answer")
    (True, False)
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PairVerifier"]

_EXTRA_HINT = "install it with: pip install 'omnicache-ai[semantic]'"
Pairs = list[tuple[str, str]]


class PairVerifier:
    """A pair model as a ``verify`` hook: accept a candidate when its score reaches ``min_score``.

    Args:
        model: An object with ``predict(pairs)`` (a sentence-transformers ``CrossEncoder``),
            a callable ``pairs -> scores`` (``pairs`` is a list of ``(query, cached)``), or
            the path of a local ``.onnx`` cross-encoder with its ``tokenizer.json`` in the
            same folder (see :meth:`from_onnx` for other layouts).
        min_score: Lowest score that accepts (scores are probabilities for most
            cross-encoders; for raw logits pass ``logits=True``).
        logits: Scores are logits: a sigmoid maps them to probabilities first.

    Raises:
        TypeError: If ``model`` has no ``predict``, is not callable and is not a path.
        FileNotFoundError: If ``model`` is a path and it or its tokenizer is missing.

    Example:
        >>> v = PairVerifier(lambda pairs: [0.9 for _ in pairs], min_score=0.8)
        >>> v("How do I reset my password?", "Password reset steps?", "...")
        True
        >>> v.calls
        1
    """

    def __init__(self, model: Any, *, min_score: float = 0.5, logits: bool = False) -> None:
        if isinstance(model, str | os.PathLike):
            path = Path(model)
            model = _OnnxPairModel(path, path.with_name("tokenizer.json"), max_length=256,
                                   output_name=None, threads=1)  # fmt: skip
        predict = getattr(model, "predict", None)
        if callable(predict):
            self._predict: Callable[[Pairs], Any] = predict
        elif callable(model):
            self._predict = model
        else:
            raise TypeError(f"model must have predict(pairs) or be callable, got {model!r}")
        if isinstance(min_score, bool) or not isinstance(min_score, int | float):
            raise TypeError(f"min_score must be a number, got {min_score!r}")
        self.min_score = float(min_score)
        self.logits = bool(logits)
        self.calls = 0
        self._lock = threading.Lock()

    @classmethod
    def from_onnx(
        cls,
        model_path: str | os.PathLike[str],
        tokenizer_path: str | os.PathLike[str],
        *,
        min_score: float = 0.5,
        max_length: int = 256,
        output_name: str | None = None,
        threads: int | None = 1,
    ) -> PairVerifier:
        """A verifier over a local ONNX cross-encoder (BERT-style inputs, logits out).

        The two questions are encoded as one pair (``[CLS] a [SEP] b [SEP]``); the model's
        first output (or ``output_name``) gives one logit per pair (a sigmoid makes it a
        probability) or two (a softmax; the second is "same meaning").

        Args:
            model_path: The ``.onnx`` file.
            tokenizer_path: Its ``tokenizer.json``.
            min_score: Lowest probability that accepts.
            max_length: Tokens kept per pair.
            output_name: The logits output, if not the first.
            threads: onnxruntime intra-op threads (1: one verification never takes every core).

        Raises:
            FileNotFoundError: If a file is missing.
            ImportError: If onnxruntime or tokenizers is not installed.

        Example:
            >>> PairVerifier.from_onnx("/no/model.onnx", "/no/tokenizer.json")
            Traceback (most recent call last):
            ...
            FileNotFoundError: ONNX model not found: /no/model.onnx
        """
        return cls(_OnnxPairModel(model_path, tokenizer_path, max_length=max_length,
                                  output_name=output_name, threads=threads),
                   min_score=min_score)  # fmt: skip

    def score(self, query: str, cached_query: str) -> float:
        """The model's probability that the two questions mean the same.

        Example:
            >>> PairVerifier(lambda pairs: [2.0], logits=True).score("a", "b") > 0.88
            True
        """
        return self.scores([(query, cached_query)])[0]

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """The model's probabilities for many ``(query, cached_query)`` pairs in one call.

        One batch through the model (cheaper per pair than :meth:`score` in a loop); used to
        score a whole evaluation set, as ``benchmarks/bench_pair_verifier.py`` does.

        Raises:
            ValueError: If the model does not return one score per pair.

        Example:
            >>> v = PairVerifier(lambda pairs: [0.0, 2.0], logits=True)
            >>> [round(p, 2) for p in v.scores([("a", "b"), ("c", "d")])]
            [0.5, 0.88]
        """
        pairs = list(pairs)
        if not pairs:
            return []
        raw = np.asarray(self._predict(pairs), dtype=np.float64).reshape(-1)
        if raw.shape[0] != len(pairs):
            raise ValueError(
                f"the pair model returned {raw.shape[0]} scores for {len(pairs)} pairs"
            )
        return [1 / (1 + math.exp(-float(v))) if self.logits else float(v) for v in raw]

    def __call__(self, query: str, cached_query: str, answer: Any) -> bool:
        """The ``verify`` hook: whether ``cached_query``'s answer may be served for ``query``."""
        with self._lock:
            self.calls += 1
        return self.score(query, cached_query) >= self.min_score


class _OnnxPairModel:
    """``predict(pairs)`` over an ONNX cross-encoder; returns probabilities."""

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        tokenizer_path: str | os.PathLike[str],
        *,
        max_length: int,
        output_name: str | None,
        threads: int | None,
    ) -> None:
        model, tok_file = Path(model_path), Path(tokenizer_path)
        if not model.is_file():
            raise FileNotFoundError(f"ONNX model not found: {model}")
        if not tok_file.is_file():
            raise FileNotFoundError(f"tokenizer not found: {tok_file}")
        try:
            import onnxruntime as ort
            import tokenizers
        except ImportError as err:
            raise ImportError(f"PairVerifier.from_onnx needs onnxruntime and tokenizers; "
                              f"{_EXTRA_HINT}") from err  # fmt: skip
        tokenizer = tokenizers.Tokenizer.from_file(str(tok_file))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_length)
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads is not None:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(model), sess_options=options,
                                             providers=["CPUExecutionProvider"])  # fmt: skip
        self._inputs = {i.name for i in self._session.get_inputs()}
        outputs = {o.name: o for o in self._session.get_outputs()}
        if output_name is not None and output_name not in outputs:
            raise ValueError(f"model has no output {output_name!r}; it has {sorted(outputs)}")
        self._output = output_name or next(iter(outputs))
        shape = list(outputs[self._output].shape)
        if len(shape) != 2 or shape[1] not in (1, 2):
            raise ValueError(f"{model}: output {self._output!r} has shape {shape}; a "
                             "cross-encoder gives [batch, 1] or [batch, 2] logits")  # fmt: skip

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray[Any, np.dtype[np.float64]]:
        encodings = self._tokenizer.encode_batch([tuple(p) for p in pairs])
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            mask[row, :n] = 1
            types[row, :n] = enc.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = types
        (out,) = self._session.run([self._output], feeds)
        logits = np.asarray(out, dtype=np.float64).reshape(len(encodings), -1)
        probs: np.ndarray[Any, np.dtype[np.float64]]
        if logits.shape[1] == 1:
            probs = 1 / (1 + np.exp(-logits[:, 0]))
        else:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = shifted[:, -1] / shifted.sum(axis=1)
        return probs
