"""Cost of the WordNet ``lexical`` guard per candidate, next to the other guards.

The guards run only on candidates above the similarity threshold; this times
``check_guards`` on the round-3 authored pairs (near-misses and paraphrases against their
cached questions) with and without the lexical guard: the one-off open of the WordNet files,
the first sight of each word (cold: index and data lines read from the memory-mapped files),
and repeated pairs (warm: memoized per word). Prints figures; asserts nothing.

    python benchmarks/bench_lexical_guard.py
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from omnicache_ai.layers import _lexical
from omnicache_ai.layers._guards import GuardConfig, check_guards, features

ROOT = Path(__file__).resolve().parents[1]
AUTHORED = ROOT / "tests" / "data" / "near_misses_authored.json"


def _pct(samples: list[int], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] / 1e3


def main() -> None:
    """Print open, cold and warm per-pair costs in microseconds."""
    t0 = time.perf_counter()
    if not _lexical.lexical_available():
        print("WordNet data not installed: pip install 'omnicache-ai[lexical]'")
        return
    print(f"open WordNet files: {(time.perf_counter() - t0) * 1e3:.1f} ms")
    items = [i for i in json.loads(AUTHORED.read_text())["items"] if i.get("round") == 3]
    pairs = [(i["different"], i["cached"]) for i in items]
    pairs += [(i["paraphrase"], i["cached"]) for i in items]
    for q, c in pairs:  # the other guards' text features are memoized too: warm them alike
        features(q)
        features(c)
    on, off = GuardConfig(), GuardConfig(lexical=False)
    cold = []
    for q, c in pairs:
        t = time.perf_counter_ns()
        check_guards(q, c, on)
        cold.append(time.perf_counter_ns() - t)
    print(f"cold, first sight of the words ({len(pairs)} pairs): p50 {_pct(cold, 0.5):.0f} us, "
          f"p95 {_pct(cold, 0.95):.0f} us")  # fmt: skip
    for name, cfg in (("without lexical", off), ("with lexical", on)) * 2:
        warm = []
        for _ in range(20):
            for q, c in pairs:
                t = time.perf_counter_ns()
                check_guards(q, c, cfg)
                warm.append(time.perf_counter_ns() - t)
        print(f"warm, all guards {name}: p50 {_pct(warm, 0.5):.1f} us, "
              f"p95 {_pct(warm, 0.95):.1f} us")  # fmt: skip
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
