"""A deterministic, dependency-free embedder for tests and offline fallbacks.

It hashes word unigrams, word bigrams and character trigrams (the "hashing trick") into a
fixed number of signed buckets. The same text gives the same vector in every process and on
every machine (blake2b, not Python's salted ``hash``), texts sharing words get high cosine
similarity, and nothing is downloaded or loaded. It captures surface overlap, not meaning:
use it to test cache plumbing, not to judge semantic hit quality.

Example:
    >>> from omnicache_ai.embedders import HashingEmbedder
    >>> emb = HashingEmbedder()
    >>> a, b, c = emb.embed_many(["reset my password", "how do I reset my password", "weather"])
    >>> bool(a @ b > a @ c)
    True
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import Counter

import numpy as np
import numpy.typing as npt

from omnicache_ai.embedders.base import BaseEmbedder

__all__ = ["HashingEmbedder"]

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder(BaseEmbedder):
    """Feature-hashing embedder: deterministic, fast to load, no model.

    Args:
        dim: Number of hash buckets (the vector dimension).
        char_ngrams: Add character trigrams, which make typos and inflections still match.
        seed: Salt for the hash; embedders with different seeds are unrelated.

    Example:
        >>> HashingEmbedder(dim=32, seed=1).name
        'hashing-32-s1'
    """

    def __init__(self, dim: int = 256, *, char_ngrams: bool = True, seed: int = 0) -> None:
        if dim < 2:
            raise ValueError("dim must be at least 2")
        self.dim = dim
        self._char_ngrams = char_ngrams
        self._salt = seed.to_bytes(8, "little", signed=True)
        self.name = (
            f"hashing-{dim}" + ("" if char_ngrams else "-words") + (f"-s{seed}" if seed else "")
        )

    def _features(self, text: str) -> Counter[str]:
        words = _WORD.findall(text.lower())
        feats: Counter[str] = Counter(f"w:{w}" for w in words)
        feats.update(f"b:{a} {b}" for a, b in itertools.pairwise(words))
        if self._char_ngrams:
            for w in words:
                padded = f"^{w}$"
                feats.update(f"c:{padded[i : i + 3]}" for i in range(len(padded) - 2))
        if not feats:
            feats["empty"] = 1  # every text, even "", gets a direction
        return feats

    def _vector(self, text: str) -> npt.NDArray[np.float32]:
        vec = np.zeros(self.dim, dtype=np.float32)
        for feat, count in self._features(text).items():
            digest = hashlib.blake2b(feat.encode(), digest_size=8, key=self._salt).digest()
            h = int.from_bytes(digest, "little")
            # The sign bit spreads collisions around zero instead of piling them up.
            vec[h % self.dim] += (1.0 if (h >> 63) & 1 else -1.0) * (1.0 + np.log(count))
        if not vec.any():
            vec[0] = 1.0  # all features cancelled out; keep a direction
        return vec

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return np.stack([self._vector(t) for t in texts])
