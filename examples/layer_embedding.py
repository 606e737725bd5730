"""EmbeddingCache: exact numpy vectors, batch misses computed in one call (runs offline).

Run: python examples/layer_embedding.py
"""

import hashlib

import numpy as np

from omnicache_ai import CacheManager, EmbeddingCache

calls: list[list[str]] = []


def embed_batch(texts: list[str]) -> np.ndarray:
    """Stands in for an embedding API: one row per text, float32."""
    calls.append(list(texts))
    rows = []
    for t in texts:
        seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:4], "little")
        rows.append(np.random.default_rng(seed).standard_normal(384))
    return np.asarray(rows, dtype=np.float32)


emb = EmbeddingCache(CacheManager())
model = "all-MiniLM-L6-v2"

first = emb.get_or_compute_many(["cats", "dogs", "cats"], embed_batch, model_id=model)
second = emb.get_or_compute_many(["dogs", "birds", "cats"], embed_batch, model_id=model)
print("embedder calls:", calls)  # [['cats', 'dogs'], ['birds']]
print("same vector back:", np.array_equal(first[1], second[0]), second[0].dtype, second[0].shape)
print("read-only view:", not second[0].flags.writeable)

one = emb.get_or_compute(text="fish", compute_fn=lambda t: embed_batch([t])[0], model_id=model)
print("single text:", one.shape, "calls now", len(calls))
