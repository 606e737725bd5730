"""End-to-end latency of SemanticCache lookups with the default embedder.

Usage::

    python benchmarks/bench_semantic_latency.py                 # 1k and 10k entries, numpy+faiss
    python benchmarks/bench_semantic_latency.py --sizes 1000 100000 --stores faiss

For each vector store and cache size, the cache holds the distinct origins of
``shared/data/paraphrase_pairs.json`` plus random filler vectors *in the same partition* (so
the search really scans that many entries), and the paraphrases are looked up:

* ``exact``: a cached question asked again (exact tier: one manager read, no model call);
* ``semantic, new text``: a paraphrase seen for the first time (model call + search + payload);
* ``semantic, repeat``: the same paraphrase again (its embedding comes from the in-memory
  embedding cache: search + payload only);
* ``embed only``: the default embedder alone on the same texts, for reference.

Goal from issue #5: an end-to-end semantic hit under 2 ms with the default embedder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT.parent / "shared" / "data" / "paraphrase_pairs.json"


def _pct(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs) * 1e3, xs[int(0.95 * (len(xs) - 1))] * 1e3


def _timed(fn: Callable[[str], Any], texts: Sequence[str]) -> list[float]:
    out = []
    for t in texts:
        t0 = time.perf_counter()
        fn(t)
        out.append(time.perf_counter() - t0)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    ap.add_argument("--stores", nargs="+", default=["numpy", "faiss"])
    ap.add_argument("--queries", type=int, default=100)
    args = ap.parse_args(argv)

    from omnicache_ai.backends.vector import NumpyBackend
    from omnicache_ai.embedders import get_default_embedder
    from omnicache_ai.layers.semantic_cache import SemanticCache

    emb = get_default_embedder()
    data = json.loads(PAIRS.read_text())
    uniq = list(dict.fromkeys(d["origin"] for d in data))
    pairs = [(d["origin"], d["similar"]) for d in data][: args.queries]
    U = np.vstack([emb.embed_many(uniq[i : i + 64]) for i in range(0, len(uniq), 64)])
    emb.embed("warm up")
    embed_t = _timed(emb.embed, [s for _, s in pairs])
    p50, p95 = _pct(embed_t)
    print(f"# {emb.name}: embed only p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    print(
        "| store | entries | exact hit p50 / p95 | semantic, new text p50 / p95 | "
        "semantic, repeat p50 / p95 | semantic hit rate |"
    )
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for store_name in args.stores:
        for size in args.sizes:
            if store_name == "faiss":
                from omnicache_ai.backends.vector import FAISSBackend

                store: Any = FAISSBackend(dim=emb.dim)
            else:
                store = NumpyBackend(dim=emb.dim)
            cache = SemanticCache(embedder=emb, vector_backend=store)
            # Fill with precomputed vectors through the normal set() path.
            for text, vec in zip(uniq, U, strict=True):
                cache._remember_vector(" ".join(text.split()), vec)
                cache.set(text, text)
            filler = max(0, size - len(uniq))
            if filler:
                part = cache._request(uniq[0], None, None, None).partition
                vecs = rng.standard_normal((filler, emb.dim)).astype(np.float32)
                for start in range(0, filler, 10_000):
                    chunk = vecs[start : start + 10_000]
                    ids = [f"filler-{start + i}" for i in range(len(chunk))]
                    store.add(ids, chunk, [{"p": part, "k": i, "q": "filler"} for i in ids])
            wait = getattr(store, "wait_for_index", None)
            if callable(wait):
                wait()
            exact = _timed(cache.get, [o for o, _ in pairs])
            hits = []

            def look(q: str, hits: list[bool] = hits, cache: Any = cache) -> None:
                hits.append(cache.lookup(q).tier == "semantic")

            new = _timed(look, [s for _, s in pairs])
            repeat = _timed(look, [s for _, s in pairs])
            (e50, e95), (n50, n95), (r50, r95) = _pct(exact), _pct(new), _pct(repeat)
            rate = sum(hits[: len(pairs)]) / len(pairs)
            print(
                f"| {store_name} | {store.count():,} | {e50:.3f} / {e95:.3f} ms | "
                f"{n50:.2f} / {n95:.2f} ms | {r50:.3f} / {r95:.3f} ms | {rate:.0%} |"
            )
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
