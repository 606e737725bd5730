"""Lookup latency and recall of the vector backends on precomputed 384-d vectors.

Usage::

    python benchmarks/bench_vector.py                                  # 10k and 100k, all backends
    python benchmarks/bench_vector.py --sizes 1000000 --backends faiss faiss-ivf
    python benchmarks/bench_vector.py --sizes 10000 --queries 200 --json out.json

Defaults: ``--sizes 10000 100000`` (1M takes several minutes to build per backend on 2 cores,
so it is opt-in) and every backend whose package is installed. Chroma and Qdrant local mode
are skipped above 100k entries unless ``--all-sizes`` is given: local Qdrant is brute force
in Python, and a 1M Chroma import takes far longer than the rest of the run.

Data: unit vectors drawn around 2,000 random centres (embeddings cluster by topic; uniform
random vectors would be an unrealistically hard case for any index). Two query sets:

* ``hit``: a stored vector plus noise, at cosine ~0.9 to it: what a semantic-cache hit looks
  like, the case that must be fast and exact;
* ``miss``: a new vector from the same distribution: what a cache miss looks like.

Every entry carries a ``tenant``: half the entries share one big tenant, the rest are spread
over tenants of 100 entries. Filtered lookups use the tenant of the entry the query came
from. recall@1 is the share of lookups whose top hit is the exact top hit (a numpy scan over
the same rows with the same filter). Latency is measured around ``search()`` itself, one
query at a time: p50 and p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

DIM = 384
CENTRES = 2000
SMALL_TENANT = 100
BACKENDS = ["numpy", "faiss", "faiss-hnsw", "faiss-ivf", "chroma", "qdrant"]
SERVICE_LIMIT = 100_000

F32 = npt.NDArray[np.float32]


def make_data(n: int, seed: int = 0) -> tuple[F32, list[str]]:
    """``n`` clustered unit vectors and their tenants."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CENTRES, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        pick = rng.integers(0, CENTRES, stop - start)
        # Spread within a topic: about cos 0.55 between two members of one cluster.
        noise = rng.standard_normal((stop - start, DIM)).astype(np.float32) * np.float32(
            0.9 / np.sqrt(DIM)
        )
        block = centres[pick] + noise
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    half = n // 2
    tenants = ["big"] * half + [f"t{(i - half) // SMALL_TENANT}" for i in range(half, n)]
    order = rng.permutation(n)
    return out[order], [tenants[i] for i in order]


def make_queries(data: F32, count: int, seed: int = 1) -> tuple[F32, F32, npt.NDArray[np.int64]]:
    """Hit-like queries (with their source rows) and miss-like queries."""
    rng = np.random.default_rng(seed)
    src = rng.choice(len(data), count, replace=False).astype(np.int64)
    noise = rng.standard_normal((count, DIM)).astype(np.float32) * np.float32(0.48 / np.sqrt(DIM))
    hits = data[src] + noise
    hits /= np.linalg.norm(hits, axis=1, keepdims=True)
    fresh, _ = make_data(count, seed=seed + 100)
    return hits, fresh, src


def exact_top1(data: F32, mask: npt.NDArray[np.bool_] | None, q: F32) -> int:
    scores = data @ q
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return int(np.argmax(scores))


def factory(name: str, tmp: Path) -> Callable[[], Any]:
    if name == "numpy":
        from omnicache_ai.backends.vector import NumpyBackend

        return lambda: NumpyBackend(dim=DIM)
    if name.startswith("faiss"):
        importlib.import_module("faiss")
        from omnicache_ai.backends.vector_backend import FAISSBackend

        kind = {"faiss": "auto", "faiss-hnsw": "hnsw", "faiss-ivf": "ivf"}[name]
        return lambda: FAISSBackend(dim=DIM, index=kind)  # type: ignore[arg-type]
    if name == "chroma":
        importlib.import_module("chromadb")
        from omnicache_ai.backends.vector_backend import ChromaBackend

        return lambda: ChromaBackend(dim=DIM, collection="bench", path=tmp / "chroma")
    if name == "qdrant":
        importlib.import_module("qdrant_client")
        from omnicache_ai.backends.vector_backend import QdrantBackend

        return lambda: QdrantBackend(dim=DIM, path=tmp / "qdrant")
    raise ValueError(name)


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q) * 1e3)


def run_one(name: str, n: int, queries: int, tmp: Path) -> dict[str, Any]:
    data, tenants = make_data(n)
    hit_q, miss_q, src = make_queries(data, queries)
    ids = [f"id{i}" for i in range(n)]
    metas = [{"tenant": t} for t in tenants]
    store = factory(name, tmp)()
    t0 = time.perf_counter()
    batch = 20_000
    for start in range(0, n, batch):
        store.add(
            ids[start : start + batch], data[start : start + batch], metas[start : start + batch]
        )
    if hasattr(store, "wait_for_index"):
        store.wait_for_index()
    build_s = time.perf_counter() - t0
    index_name = store.stats().get("index", "-") if hasattr(store, "stats") else "-"

    result: dict[str, Any] = {"backend": name, "n": n, "build_s": build_s, "index": index_name}
    tenant_arr = np.array(tenants)
    cases = {
        "hit": (hit_q, None),
        "miss": (miss_q, None),
        "hit-big-tenant": (hit_q, "big"),
        "hit-small-tenant": (hit_q, "small"),
    }
    for case, (qs, flt_kind) in cases.items():
        chosen: list[tuple[F32, dict[str, str] | None, int]] = []
        for i, q in enumerate(qs):
            flt = None
            mask = None
            if flt_kind is not None:
                tenant = tenants[int(src[i])]
                if (flt_kind == "big") != (tenant == "big"):
                    continue
                flt = {"tenant": tenant}
                mask = tenant_arr == tenant
            chosen.append((q, flt, exact_top1(data, mask, q)))
        if not chosen:
            continue
        # Ground truth first, then a tight timing loop: interleaving the 1.5 GB exact scans
        # with the lookups would flush the caches and time cold searches.
        lat: list[float] = []
        agree = 0
        for q, flt, truth in chosen:
            t = time.perf_counter()
            hits = store.search(q, k=1, filter=flt)
            lat.append(time.perf_counter() - t)
            if hits and hits[0].id == f"id{truth}":
                agree += 1
        result[case] = {
            "p50_ms": percentile_ms(lat, 50),
            "p99_ms": percentile_ms(lat, 99),
            "recall@1": agree / len(chosen),
            "queries": len(chosen),
        }
    store.close()
    del store, data
    gc.collect()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--backends", nargs="*", default=BACKENDS)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--all-sizes", action="store_true", help="run chroma/qdrant above 100k")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    # Qdrant local mode warns above 20k points; the figures are what is being measured here.
    warnings.filterwarnings("ignore", message=".*[Ll]ocal mode.*")
    results = []
    print("| backend | n | index | build s | case | p50 ms | p99 ms | recall@1 |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for name in args.backends:
            if name in ("chroma", "qdrant") and n > SERVICE_LIMIT and not args.all_sizes:
                continue
            tmp = Path(tempfile.mkdtemp(prefix="bench-vector-"))
            try:
                res = run_one(name, n, args.queries, tmp)
            except ImportError as err:
                print(f"| {name} | {n} | skipped: {err} |")
                continue
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            results.append(res)
            for case in ("hit", "miss", "hit-big-tenant", "hit-small-tenant"):
                if case in res:
                    c = res[case]
                    print(
                        f"| {name} | {n:,} | {res['index']} | {res['build_s']:.1f} | {case} | "
                        f"{c['p50_ms']:.3f} | {c['p99_ms']:.3f} | {c['recall@1']:.3f} |",
                        flush=True,
                    )
            if args.json:
                args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
