"""Quality of the semantic cache: hits on paraphrases against false hits, per threshold.

Usage::

    python benchmarks/bench_semantic_quality.py                        # default embedder
    python benchmarks/bench_semantic_quality.py --png docs/semantic_quality.png --json q.json
    python benchmarks/bench_semantic_quality.py --embedder minilm-l6-int8   # another preset

Data: the 999 pairs of ``shared/data/paraphrase_pairs.json`` (see ``shared/data/README.md``:
28 origins occur more than once, so "the right entry" means *an entry with the same origin
text*, never an index), and the hand-written hard negatives of
``benchmarks/data/semantic_hard_negatives.json`` and ``benchmarks/data/hard_negatives.json``.

Measured per threshold, with the guards off (plain cosine) and on (the default):

* ``para hit``: share of pairs whose paraphrase would be served its origin's answer (cosine
  >= threshold and, with guards, no veto);
* ``mismatch FH``: false-hit rate over *every* mismatched pair (paraphrase i against each origin
  with a different text, ~962k pairs);
* ``cache sim``: every distinct origin is cached, every paraphrase looked up through the same
  top-k + guard logic as :class:`SemanticCache`; ``hit`` = answered with its own origin,
  ``wrong`` = answered with another origin, ``precision`` = hit / (hit + wrong). This is how
  GPTCache reports its anchor (45% hits at 94.4% precision at 0.95);
* ``hard FH``: share of hard-negative pairs that would be served the other's answer.

Held-out near-misses: when ``shared/data/hard_negatives_dev.json`` is found in a parent folder
(``../shared/data`` of a checkout; it is read there, never copied into the repository), every
``cached`` question of its 240 triples is stored in a real :class:`SemanticCache` and each
``paraphrase`` and ``different`` asked at every threshold. Printed: the trade-off curve (heavy
dev paraphrase hits and near-miss false hits against the 999 pairs' light hits and mismatched
false hits), per-kind figures at the default, leave-one-kind-out and leave-one-domain-out
results of the precision-first rule ("the lowest threshold serving <= 10% near-misses", chosen
on the rest, reported on what was left out), and the structural kinds on the 12 domains that
were never looked at while the guards were written (``GUARD_TUNE_DOMAINS`` lists the other 13;
the checks were also tuned on the authored set ``tests/data/near_misses_authored.json``, whose
figures are printed as a fit, not a result; its round-2, round-3 and round-5 role-order
triples, on which later rounds of the roles check were developed before each held-out run, are
printed apart: round 3 drove relative clauses, reduced relatives and converse words, round 5
symmetric pairs, one-way per / against / with and passive agents). On the same 12 domains
the one-word substitution kinds (action, attribute, scope, entity, antonym) are printed with
the checks' verdict with and without the WordNet ``lexical`` guard.
Also printed: the share of the 999 light pairs each guard rejects alone (capped at 5% for all
together by ``tests/semantic/test_structural_guards.py``).

Finally the real :class:`SemanticCache` at default settings replays the cache simulation and
the hard negatives end to end (embeddings precomputed, everything else the library's code),
to check that the table describes the shipped behaviour. "Default" is the embedder's
calibrated threshold (``omnicache_ai.embedders.RECOMMENDED_THRESHOLDS``; the bold row), which
this benchmark is how to choose: precision first, the lowest threshold at which at most 10% of
the held-out near-misses are served (``--json`` holds every threshold from 0.60 to 0.98). That
rule (rule A) now picks a lower threshold than the shipped one, which was kept; the blind sets
in ``benchmarks/data/`` (printed last) are where the choice is checked. The first
fifty-two (``near_misses_blind.json`` to ``near_misses_blind52.json``) are spent: the
checks' sixth round was fitted on the first two, each later round on one set more (the
fifty-fifth on fifty-one, the fifty-sixth on fifty-two), so they are printed as fits
(the thirtieth to fifty-second were the first measures of rule C);
``near_misses_blind53.json`` measured the fifty-sixth round, and
``near_misses_blind54.json`` is its second measure, read with no round fitted in between
(``near_misses_blind55.json``, when present, is left unread for what comes next).

Embeddings are cached in the temp directory (computing ~2.3k embeddings takes minutes on a
small machine).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _shared(name: str) -> Path:
    """``shared/data/<name>`` in the nearest parent folder that has it (read, never copied)."""
    found = [d / "shared" / "data" / name for d in ROOT.parents]
    return next((f for f in found if f.exists()), found[0])


PAIRS = _shared("paraphrase_pairs.json")
# Held-out near-misses written for this project (see its README next to it): read from the
# shared data folder when present; the repository does not ship a copy.
DEV = _shared("hard_negatives_dev.json")
# The 13 domains the structural guards' rules were checked against while written (every other
# domain in sorted order); the other 12 were never looked at and are reported separately.
GUARD_TUNE_DOMAINS = frozenset(
    ["banking", "cloud_services", "customer_support", "ecommerce", "entertainment", "health",
     "home_repair", "law", "pets", "programming", "shopping_policies", "sports", "weather"]
)  # fmt: skip
# Kinds whose near-misses the structural checks target (0% false hits is the goal there).
STRUCTURAL_KINDS = ("negation", "quantity_or_unit", "question_type", "relation_or_role_swap")
# One content word replaced by another of the same kind (the lexical check's target).
SUBSTITUTION_KINDS = ("action_swap", "attribute_swap", "scope_or_qualifier", "entity_swap",
                      "antonym_or_direction")  # fmt: skip
#: False-hit target of the precision-first default on near-misses of unseen kinds.
FH_TARGET = 0.10
# Question-type and role-order near-misses written for *tuning* the structural checks (see
# tests/data/README.md): figures on it show what the checks were fitted to, never a result.
AUTHORED = ROOT / "tests" / "data" / "near_misses_authored.json"
# Near-misses written for *evaluation only*, by an author who saw neither the checks, nor their
# code, nor the tuning data (see benchmarks/data/README.md): never tune on it.
BLIND = ROOT / "benchmarks" / "data" / "near_misses_blind.json"
# The second blind set, for the changes made after the first was read (same README).
BLIND2 = ROOT / "benchmarks" / "data" / "near_misses_blind2.json"
# The third, for the checks' sixth round, which was fitted on the first two: from then on
# those two are tuning data and their figures are fits (same README).
BLIND3 = ROOT / "benchmarks" / "data" / "near_misses_blind3.json"
# The fourth, for the checks' seventh round, fitted on the first three (same README).
BLIND4 = ROOT / "benchmarks" / "data" / "near_misses_blind4.json"
# The fifth, for the eighth round, fitted on the first four (same README).
BLIND5 = ROOT / "benchmarks" / "data" / "near_misses_blind5.json"
# The sixth, for the ninth round, fitted on the first five (same README).
BLIND6 = ROOT / "benchmarks" / "data" / "near_misses_blind6.json"
# The seventh, for the tenth round, fitted on the first six (same README).
BLIND7 = ROOT / "benchmarks" / "data" / "near_misses_blind7.json"
# The eighth, for the eleventh round, fitted on the first seven (same README).
BLIND8 = ROOT / "benchmarks" / "data" / "near_misses_blind8.json"
# The ninth, for the twelfth round, fitted on the first eight (same README).
BLIND9 = ROOT / "benchmarks" / "data" / "near_misses_blind9.json"
# The tenth, for the thirteenth round, fitted on the first nine (same README).
BLIND10 = ROOT / "benchmarks" / "data" / "near_misses_blind10.json"
# The eleventh, for the fourteenth round, fitted on the first ten (same README).
BLIND11 = ROOT / "benchmarks" / "data" / "near_misses_blind11.json"
# The twelfth, for the fifteenth round, fitted on the first eleven (same README).
BLIND12 = ROOT / "benchmarks" / "data" / "near_misses_blind12.json"
# The thirteenth, for the sixteenth round, fitted on the first twelve (same README).
BLIND13 = ROOT / "benchmarks" / "data" / "near_misses_blind13.json"
# The fourteenth, for the seventeenth round, fitted on the first thirteen (same README).
BLIND14 = ROOT / "benchmarks" / "data" / "near_misses_blind14.json"
# The fifteenth, for the eighteenth round, fitted on the first fourteen (same README).
BLIND15 = ROOT / "benchmarks" / "data" / "near_misses_blind15.json"
# The sixteenth, for the nineteenth round, fitted on the first fifteen (same README).
BLIND16 = ROOT / "benchmarks" / "data" / "near_misses_blind16.json"
# The seventeenth, for the twentieth round, fitted on the first sixteen (same README).
BLIND17 = ROOT / "benchmarks" / "data" / "near_misses_blind17.json"
# The eighteenth, for the twenty-first round, fitted on the first seventeen (same README).
BLIND18 = ROOT / "benchmarks" / "data" / "near_misses_blind18.json"
# The nineteenth, for the twenty-second round, fitted on the first eighteen (same README).
BLIND19 = ROOT / "benchmarks" / "data" / "near_misses_blind19.json"
# The twentieth, for the twenty-third round, fitted on the first nineteen (same README).
BLIND20 = ROOT / "benchmarks" / "data" / "near_misses_blind20.json"
# The twenty-first, for the twenty-fourth round, fitted on the first twenty (same README).
BLIND21 = ROOT / "benchmarks" / "data" / "near_misses_blind21.json"
# The twenty-second, for the twenty-fifth round, fitted on the first twenty-one (same README).
BLIND22 = ROOT / "benchmarks" / "data" / "near_misses_blind22.json"
# The twenty-third, for the twenty-sixth round, fitted on the first twenty-two (same README).
BLIND23 = ROOT / "benchmarks" / "data" / "near_misses_blind23.json"
# The twenty-fourth, for the twenty-seventh round, fitted on the first twenty-three (same
# README).
BLIND24 = ROOT / "benchmarks" / "data" / "near_misses_blind24.json"
# The twenty-fifth, for the twenty-eighth round, fitted on the first twenty-four (same
# README).
BLIND25 = ROOT / "benchmarks" / "data" / "near_misses_blind25.json"
# The twenty-sixth, for the twenty-ninth round, fitted on the first twenty-five (same
# README).
BLIND26 = ROOT / "benchmarks" / "data" / "near_misses_blind26.json"
# The twenty-seventh, for the thirtieth round, fitted on the first twenty-six (same README).
BLIND27 = ROOT / "benchmarks" / "data" / "near_misses_blind27.json"
# The twenty-eighth, for the thirty-first round, fitted on the first twenty-seven (same
# README).
BLIND28 = ROOT / "benchmarks" / "data" / "near_misses_blind28.json"
# The twenty-ninth, for the thirty-second round, fitted on the first twenty-eight (same
# README).
BLIND29 = ROOT / "benchmarks" / "data" / "near_misses_blind29.json"
# The thirtieth, for the thirty-third round, fitted on the first twenty-nine, and the first
# measure of rule C (same README).
BLIND30 = ROOT / "benchmarks" / "data" / "near_misses_blind30.json"
# The thirty-first, for the thirty-fourth round, fitted on the first thirty (same README).
BLIND31 = ROOT / "benchmarks" / "data" / "near_misses_blind31.json"
# The thirty-second, for the thirty-fifth round, fitted on the first thirty-one (same README).
BLIND32 = ROOT / "benchmarks" / "data" / "near_misses_blind32.json"
# The thirty-third, for the thirty-sixth round, fitted on the first thirty-two (same README).
BLIND33 = ROOT / "benchmarks" / "data" / "near_misses_blind33.json"
# The thirty-fourth, for the thirty-seventh round, fitted on the first thirty-three (same
# README).
BLIND34 = ROOT / "benchmarks" / "data" / "near_misses_blind34.json"
# The thirty-fifth, for the thirty-eighth round, fitted on the first thirty-four (same
# README).
BLIND35 = ROOT / "benchmarks" / "data" / "near_misses_blind35.json"
# The thirty-sixth, for the thirty-ninth round, fitted on the first thirty-five (same
# README).
BLIND36 = ROOT / "benchmarks" / "data" / "near_misses_blind36.json"
# The thirty-seventh, for the fortieth round, fitted on the first thirty-six (same README).
BLIND37 = ROOT / "benchmarks" / "data" / "near_misses_blind37.json"
# The thirty-eighth, for the forty-first round, fitted on the first thirty-seven (same
# README).
BLIND38 = ROOT / "benchmarks" / "data" / "near_misses_blind38.json"
# The thirty-ninth, for the forty-second round, fitted on the first thirty-eight (same
# README).
BLIND39 = ROOT / "benchmarks" / "data" / "near_misses_blind39.json"
# The fortieth, for the forty-third round, fitted on the first thirty-nine (same README).
BLIND40 = ROOT / "benchmarks" / "data" / "near_misses_blind40.json"
# The forty-first, for the forty-fourth round, fitted on the first forty (same README).
BLIND41 = ROOT / "benchmarks" / "data" / "near_misses_blind41.json"
# The forty-second, for the forty-fifth round, fitted on the first forty-one (same README).
BLIND42 = ROOT / "benchmarks" / "data" / "near_misses_blind42.json"
# The forty-third, for the forty-sixth round, fitted on the first forty-two (same README).
BLIND43 = ROOT / "benchmarks" / "data" / "near_misses_blind43.json"
# The forty-fourth, for the forty-seventh round, fitted on the first forty-three (same
# README).
BLIND44 = ROOT / "benchmarks" / "data" / "near_misses_blind44.json"
# The forty-fifth, for the forty-eighth round, fitted on the first forty-four (same README).
BLIND45 = ROOT / "benchmarks" / "data" / "near_misses_blind45.json"
# The forty-sixth, for the forty-ninth round, fitted on the first forty-five (same README).
BLIND46 = ROOT / "benchmarks" / "data" / "near_misses_blind46.json"
# The forty-seventh, for the fiftieth round, fitted on the first forty-six (same README).
BLIND47 = ROOT / "benchmarks" / "data" / "near_misses_blind47.json"
# The forty-eighth, for the fifty-first round, fitted on the first forty-seven (same README).
BLIND48 = ROOT / "benchmarks" / "data" / "near_misses_blind48.json"
# The forty-ninth, for the fifty-second round, fitted on the first forty-eight (same README).
BLIND49 = ROOT / "benchmarks" / "data" / "near_misses_blind49.json"
# The fiftieth, for the fifty-third round, fitted on the first forty-nine (same README).
BLIND50 = ROOT / "benchmarks" / "data" / "near_misses_blind50.json"
# The fifty-first, for the fifty-fourth round, fitted on the first fifty (same README).
BLIND51 = ROOT / "benchmarks" / "data" / "near_misses_blind51.json"
# The fifty-second, for the fifty-fifth round, fitted on the first fifty-one (same README).
BLIND52 = ROOT / "benchmarks" / "data" / "near_misses_blind52.json"
# The fifty-third, for the fifty-sixth round, fitted on the first fifty-two (same README).
BLIND53 = ROOT / "benchmarks" / "data" / "near_misses_blind53.json"
# The fifty-fourth, a second measure of the fifty-sixth round (no round fitted on the
# fifty-third). The fifty-fifth is left out: unread, for what comes after.
BLIND54 = ROOT / "benchmarks" / "data" / "near_misses_blind54.json"
BLIND_SETS = (BLIND, BLIND2, BLIND3, BLIND4, BLIND5, BLIND6, BLIND7, BLIND8, BLIND9, BLIND10,
              BLIND11, BLIND12, BLIND13, BLIND14, BLIND15, BLIND16, BLIND17, BLIND18,
              BLIND19, BLIND20, BLIND21, BLIND22, BLIND23, BLIND24, BLIND25,
              BLIND26, BLIND27, BLIND28, BLIND29, BLIND30, BLIND31, BLIND32, BLIND33,
              BLIND34, BLIND35, BLIND36, BLIND37, BLIND38, BLIND39, BLIND40,
              BLIND41, BLIND42, BLIND43, BLIND44, BLIND45, BLIND46,
              BLIND47, BLIND48, BLIND49, BLIND50, BLIND51, BLIND52, BLIND53,
              BLIND54)  # fmt: skip
# Blind sets whose figures have been read and that later changes were fitted on.
SPENT = frozenset(
    {BLIND.name, BLIND2.name, BLIND3.name, BLIND4.name, BLIND5.name, BLIND6.name, BLIND7.name,
     BLIND8.name, BLIND9.name, BLIND10.name, BLIND11.name, BLIND12.name, BLIND13.name,
     BLIND14.name, BLIND15.name, BLIND16.name, BLIND17.name, BLIND18.name, BLIND19.name,
     BLIND20.name, BLIND21.name, BLIND22.name, BLIND23.name, BLIND24.name, BLIND25.name,
     BLIND26.name, BLIND27.name, BLIND28.name, BLIND29.name, BLIND30.name, BLIND31.name,
     BLIND32.name, BLIND33.name, BLIND34.name, BLIND35.name, BLIND36.name, BLIND37.name,
     BLIND38.name, BLIND39.name, BLIND40.name, BLIND41.name, BLIND42.name,
     BLIND43.name, BLIND44.name, BLIND45.name, BLIND46.name, BLIND47.name,
     BLIND48.name, BLIND49.name, BLIND50.name, BLIND51.name, BLIND52.name, BLIND53.name}
)  # fmt: skip
HARD_FILES = [
    ROOT / "benchmarks" / "data" / "semantic_hard_negatives.json",
    ROOT / "benchmarks" / "data" / "hard_negatives.json",
]
THRESHOLDS = [round(0.60 + 0.01 * i, 2) for i in range(39)]
TOP_K = 4


def _embed_all(texts: Sequence[str], embedder: Any) -> np.ndarray:
    digest = hashlib.sha256(("\x00".join(texts) + embedder.name).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"omnicache-semq-{embedder.name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    out = np.vstack(
        [embedder.embed_many(list(texts[i : i + 64])) for i in range(0, len(texts), 64)]
    )
    np.save(path, out)
    return out


def _load_hard() -> list[dict[str, str]]:
    pairs: list[dict[str, str]] = []
    for f in HARD_FILES:
        if f.exists():
            for p in json.loads(f.read_text())["pairs"]:
                kind = {"swap": "swap", "entity": "entity"}.get(p["kind"], p["kind"])
                pairs.append({"kind": kind, "a": p["a"], "b": p["b"], "file": f.name})
    return pairs


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0915 - one linear report
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embedder", default=None, help="preset name (default: the default)")
    ap.add_argument("--png", default=None, help="write the curves to this PNG")
    ap.add_argument("--json", default=None, help="write every figure to this JSON file")
    args = ap.parse_args(argv)

    from omnicache_ai.embedders import get_default_embedder, load_embedder, recommended_threshold
    from omnicache_ai.layers._guards import GuardConfig, check_guards
    from omnicache_ai.layers.semantic_cache import DEFAULT_THRESHOLD as FALLBACK

    emb = load_embedder(args.embedder) if args.embedder else get_default_embedder()
    # What SemanticCache(embedder=emb) uses with no threshold given.
    default_thr = recommended_threshold(emb) or FALLBACK
    data = json.loads(PAIRS.read_text())
    origins = [d["origin"] for d in data]
    similars = [d["similar"] for d in data]
    uniq = list(dict.fromkeys(origins))
    hard = _load_hard()
    t0 = time.perf_counter()
    U = _embed_all(uniq, emb)
    S = _embed_all(similars, emb)
    HA = _embed_all([h["a"] for h in hard], emb)
    HB = _embed_all([h["b"] for h in hard], emb)
    print(
        f"# embedder {emb.name}: {len(uniq)} distinct origins of {len(origins)}, "
        f"{len(hard)} hard negatives; embeddings ready in {time.perf_counter() - t0:.1f} s; "
        f"default threshold {default_thr}"
    )
    own = np.array([uniq.index(o) for o in origins])
    M = S @ U.T  # paraphrase x distinct origin
    n = len(similars)
    pos = M[np.arange(n), own]
    neg_mask = np.ones_like(M, dtype=bool)
    neg_mask[np.arange(n), own] = False
    neg = M[neg_mask]
    hard_sim = (HA * HB).sum(axis=1)
    guards = GuardConfig()
    lo = min(THRESHOLDS)
    # Guard verdicts are pure functions of the two texts: compute each once.
    veto_cache: dict[tuple[int, int], bool] = {}

    def vetoed(i: int, j: int) -> bool:
        key = (i, j)
        if key not in veto_cache:
            veto_cache[key] = check_guards(similars[i], uniq[j], guards) is not None
        return veto_cache[key]

    pos_veto = np.array([vetoed(i, own[i]) for i in range(n)])
    from omnicache_ai.layers._guards import GUARD_NAMES

    print(f"\n999 light pairs rejected by each check alone (cap: 5% for all together): "
          f"all {pos_veto.mean():.1%}; " + ", ".join(
              f"{g} {np.mean([check_guards(similars[i], uniq[own[i]], GuardConfig(**{x: x == g for x in GUARD_NAMES})) is not None for i in range(n)]):.1%}"  # noqa: E501
              for g in GUARD_NAMES))  # fmt: skip
    neg_idx = np.argwhere((lo <= M) & neg_mask)
    neg_scores = M[neg_idx[:, 0], neg_idx[:, 1]]
    neg_veto = np.array([vetoed(int(i), int(j)) for i, j in neg_idx])
    # As in the end-to-end replay: "a" is cached, "b" is the query.
    hard_veto = np.array([check_guards(h["b"], h["a"], guards) is not None for h in hard])
    top = np.argsort(-M, axis=1)[:, :TOP_K]

    def cache_sim(t: float, use_guards: bool) -> tuple[int, int]:
        right = wrong = 0
        for i in range(n):
            for j in top[i]:
                if M[i, j] < t:
                    break
                if use_guards and vetoed(i, int(j)):
                    continue
                if j == own[i]:
                    right += 1
                else:
                    wrong += 1
                break
        return right, wrong

    rows = []
    for t in THRESHOLDS:
        row: dict[str, Any] = {"threshold": t}
        for mode, g in (("plain", False), ("guards", True)):
            para = (pos >= t) & (~pos_veto if g else True)
            above = neg_scores >= t
            fh = int((above & ~neg_veto).sum()) if g else int(above.sum())
            right, wrong = cache_sim(t, g)
            hard_hits = (hard_sim >= t) & (~hard_veto if g else True)
            row[mode] = {
                "para_hit": float(para.mean()),
                "mismatch_fh": fh / neg.size,
                "sim_hit": right / n,
                "sim_wrong": wrong / n,
                "sim_precision": right / (right + wrong) if right + wrong else 1.0,
                "hard_fh": float(hard_hits.mean()),
                "hard_fh_by_kind": {
                    k: float(hard_hits[[h["kind"] == k for h in hard]].mean())
                    for k in sorted({h["kind"] for h in hard})
                },
            }
        rows.append(row)

    print(
        "\n| threshold | para hit (plain / guards) | mismatch FH (plain / guards) | "
        "cache sim hit / wrong / precision (guards) | hard FH (plain / guards) |"
    )
    print("|---|---|---|---|---|")
    shown = {0.65, 0.7, 0.75, 0.78, 0.8, 0.82, 0.85, 0.88, 0.9, 0.92, 0.95, default_thr}
    for r in rows:
        if any(abs(r["threshold"] - t) < 1e-9 for t in shown):
            p, g = r["plain"], r["guards"]
            b = "**" if abs(r["threshold"] - default_thr) < 1e-9 else ""
            print(
                f"| {b}{r['threshold']:.2f}{b} | {b}{p['para_hit']:.1%} / {g['para_hit']:.1%}{b} | "
                f"{b}{p['mismatch_fh']:.3%} / {g['mismatch_fh']:.3%}{b} | "
                f"{b}{g['sim_hit']:.1%} / {g['sim_wrong']:.1%} / {g['sim_precision']:.1%}{b} | "
                f"{b}{p['hard_fh']:.1%} / {g['hard_fh']:.1%}{b} |"
            )
    d = next(r for r in rows if abs(r["threshold"] - default_thr) < 1e-9)
    print(
        f"\n## hard negatives at the default threshold {default_thr} "
        f"({len(hard)} pairs): false-hit rate by kind"
    )
    print("| kind | n | plain cosine | with guards |\n|---|---|---|---|")
    for k, v in d["plain"]["hard_fh_by_kind"].items():
        cnt = sum(h["kind"] == k for h in hard)
        print(f"| {k} | {cnt} | {v:.0%} | {d['guards']['hard_fh_by_kind'][k]:.0%} |")

    hits_plain = hard_sim >= default_thr
    hits_guard = hits_plain & ~hard_veto
    for f in HARD_FILES:
        sel = np.array([h["file"] == f.name for h in hard])
        if sel.any():
            print(
                f"- {f.name}: plain cosine {int(hits_plain[sel].sum())}/{int(sel.sum())}, "
                f"with guards {int(hits_guard[sel].sum())}/{int(sel.sum())}"
            )
    leaks = [h for h, g in zip(hard, hits_guard, strict=True) if g]
    for h in leaks:
        print(f"  - still a false hit ({h['kind']}): {h['a']!r} / {h['b']!r}")

    tuning = _authored_report(emb, default_thr) if AUTHORED.exists() else None
    dev = _dev_report(emb, default_thr, rows) if DEV.exists() else None
    if dev is None:
        print(f"\n(no {DEV}: the held-out near-miss section is skipped)")
    blind = {
        path.name: _blind_report(emb, default_thr, dev["whole_dev_picks"], path)
        for path in BLIND_SETS
        if dev is not None and path.exists()
    }
    e2e = _end_to_end(
        emb, uniq=uniq, similars=similars, origins=origins, hard=hard, U=U, S=S, HA=HA, HB=HB
    )
    assert e2e["threshold"] == default_thr, e2e  # the cache resolved the same default
    print(f"\n## end to end, SemanticCache() defaults (threshold {default_thr}, guards on)")
    for k, v in e2e.items():
        print(f"- {k}: {v}")
    if args.json:
        Path(args.json).write_text(json.dumps({"embedder": emb.name, "rows": rows,
                                               "default_threshold": default_thr,
                                               "end_to_end": e2e, "dev": dev,
                                               "authored_tuning_set": tuning,
                                               "blind": blind},
                                              indent=1))  # fmt: skip
    if args.png:
        _plot(rows, args.png, emb.name, default_thr)
        print(f"\nwrote {args.png}")
    return 0


def _triples_cache(
    emb: Any, items: list[dict[str, str]]
) -> tuple[list[str], list[str], list[str], Any]:
    """A real SemanticCache holding every triple's ``cached`` question (vectors precomputed).

    Returns the cached, paraphrase and near-miss texts, in item order, and the cache.
    """
    from omnicache_ai.embedders import BaseEmbedder
    from omnicache_ai.layers.semantic_cache import SemanticCache

    cached = [x["cached"] for x in items]
    para = [x["paraphrase"] for x in items]
    diff = [x["different"] for x in items]
    vecs: dict[str, np.ndarray] = {}
    for texts in (cached, para, diff):
        vecs.update(zip(texts, _embed_all(texts, emb), strict=True))

    class Precomputed(BaseEmbedder):
        name, dim = emb.name, emb.dim

        def _embed_batch(self, texts: list[str]) -> np.ndarray:
            return np.vstack([vecs[t] if t in vecs else emb.embed(t) for t in texts])

    cache = SemanticCache(embedder=Precomputed())
    for q in cached:
        cache.set(q, q)
    return cached, para, diff, cache


def _dev_report(  # noqa: PLR0915 - one linear report
    emb: Any, default_thr: float, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """Held-out near-misses: every ``cached`` question stored in a real SemanticCache, then each
    ``paraphrase`` (must hit its own entry) and ``different`` (must not hit anything) asked.

    Thresholds are chosen by one rule, *the lowest threshold whose false-hit rate on the tuning
    part is at most FH_TARGET*, and reported on the part left out: leave-one-kind-out (tune on 8
    kinds, report the 9th) and leave-one-domain-out (tune on 24 domains, report the 25th).
    """

    items = json.loads(DEV.read_text())
    cached, para, diff, cache = _triples_cache(emb, items)
    thresholds = [r["threshold"] for r in rows]
    n = len(items)
    # hit[t][i]: paraphrase i served its own answer; fh[t][i]: near-miss i served any answer.
    hit = np.zeros((len(thresholds), n), dtype=bool)
    fh = np.zeros((len(thresholds), n), dtype=bool)
    for ti, t in enumerate(thresholds):
        for i in range(n):
            r = cache.lookup(para[i], threshold=t)
            hit[ti, i] = r.hit and r.value == cached[i]
            fh[ti, i] = cache.lookup(diff[i], threshold=t).hit
    kinds = sorted({x["kind"] for x in items})
    domains = sorted({x["domain"] for x in items})
    kind_of = np.array([x["kind"] for x in items])
    dom_of = np.array([x["domain"] for x in items])

    def choose(train: np.ndarray) -> int:
        """Index of the lowest threshold with false hits <= FH_TARGET on ``train``."""
        for ti in range(len(thresholds)):
            if fh[ti, train].mean() <= FH_TARGET:
                return ti
        return len(thresholds) - 1

    def choose_worst(train: np.ndarray) -> int:
        """Rule C: the lowest threshold at which every kind of ``train`` serves <= FH_TARGET
        (the worst kind, not the pooled rate: a kind the checks veto whole cannot buy a
        lower threshold for one they cannot parse)."""
        groups = [train & (kind_of == k) for k in sorted(set(kind_of[train]))]
        for ti in range(len(thresholds)):
            if all(fh[ti, g].mean() <= FH_TARGET for g in groups):
                return ti
        return len(thresholds) - 1

    print(f"\n## held-out near-misses ({DEV.name}: {n} triples, {len(kinds)} kinds, "
          f"{len(domains)} domains; real SemanticCache, guards on)")  # fmt: skip
    print("Dev paraphrases are heavy rewordings; light paraphrases are the 999 pairs above.")
    print("\n| threshold | dev paraphrase hit (heavy) | dev near-miss FH | 999 light hit "
          "(cache sim) | mismatched-pair FH |\n|---|---|---|---|---|")  # fmt: skip
    curve = []
    for ti, t in enumerate(thresholds):
        g = rows[ti]["guards"]
        curve.append({"threshold": t, "dev_hit": float(hit[ti].mean()),
                      "dev_fh": float(fh[ti].mean()), "light_hit": g["sim_hit"],
                      "mismatch_fh": g["mismatch_fh"]})  # fmt: skip
        if round(t * 100) % 2 == 0 or abs(t - default_thr) < 1e-9:
            b = "**" if abs(t - default_thr) < 1e-9 else ""
            print(f"| {b}{t:.2f}{b} | {hit[ti].mean():.0%} | {fh[ti].mean():.0%} | "
                  f"{g['sim_hit']:.1%} | {g['mismatch_fh']:.3%} |")  # fmt: skip
    d = thresholds.index(default_thr)
    print(
        f"\n### per kind at the default threshold {default_thr}, and leave-one-kind-out "
        f"(threshold chosen on the other 8 kinds for <= {FH_TARGET:.0%} false hits)"
    )
    print("| kind | n | para hit (default) | FH (default) | LOKO threshold | LOKO para hit | "
          "LOKO FH |\n|---|---|---|---|---|---|---|")  # fmt: skip
    loko: dict[str, Any] = {}
    held_fh = held_hit = 0
    for k in kinds:
        sel = kind_of == k
        ti = choose(~sel)
        held_fh += int(fh[ti, sel].sum())
        held_hit += int(hit[ti, sel].sum())
        loko[k] = {"threshold": thresholds[ti], "para_hit": float(hit[ti, sel].mean()),
                   "fh": float(fh[ti, sel].mean()), "default_fh": float(fh[d, sel].mean()),
                   "default_para_hit": float(hit[d, sel].mean())}  # fmt: skip
        print(
            f"| {k} | {int(sel.sum())} | {hit[d, sel].mean():.0%} | {fh[d, sel].mean():.0%} | "
            f"{thresholds[ti]:.2f} | {hit[ti, sel].mean():.0%} | {fh[ti, sel].mean():.0%} |"
        )
    print(f"| **all, held out** | {n} | | | | {held_hit / n:.1%} | {held_fh / n:.1%} |")
    lodo_fh = lodo_hit = 0
    lodo_thr = []
    for dom in domains:
        sel = dom_of == dom
        ti = choose(~sel)
        lodo_thr.append(thresholds[ti])
        lodo_fh += int(fh[ti, sel].sum())
        lodo_hit += int(hit[ti, sel].sum())
    print(
        f"\nleave-one-domain-out (threshold chosen on the other 24 domains, "
        f"{min(lodo_thr):.2f}-{max(lodo_thr):.2f}): para hit {lodo_hit / n:.1%}, "
        f"false hits {lodo_fh / n:.1%} on the held-out domains"
    )
    unseen = ~np.isin(dom_of, list(GUARD_TUNE_DOMAINS))
    from omnicache_ai.layers._guards import GuardConfig, check_guards

    guard_pass = np.array([check_guards(d, c, GuardConfig()) is None
                           for d, c in zip(diff, cached, strict=True)])  # fmt: skip
    # Rule B, stated *after* seeing the round-2 LOKO figure above (so post hoc, printed for
    # comparison, not the shipped rule): the 10% target counted only over the tuning
    # near-misses that pass the checks, i.e. what a kind no check parses looks like. Rule A
    # counts the vetoed ones too, so every kind the checks learn to veto lowers the
    # threshold it picks, and the kinds they cannot parse pay for it.
    post_hoc: dict[str, Any] = {}
    for name, groups in (("kind", kind_of), ("domain", dom_of)):
        out_fh = out_hit = 0
        picked = []
        for g in sorted(set(groups)):
            sel = groups == g
            ti = choose(~sel & guard_pass)
            picked.append(thresholds[ti])
            out_fh += int(fh[ti, sel].sum())
            out_hit += int(hit[ti, sel].sum())
        light = [rows[thresholds.index(t)]["guards"]["sim_hit"] for t in picked]
        post_hoc[name] = {"fh": out_fh / n, "para_hit": out_hit / n,
                          "thresholds": [min(picked), max(picked)],
                          "light_hit": [min(light), max(light)]}  # fmt: skip
        print(
            f"rule B (post hoc), leave-one-{name}-out: thresholds {min(picked):.2f}-"
            f"{max(picked):.2f} (999 light hits {min(light):.1%}-{max(light):.1%}), para hit "
            f"{out_hit / n:.1%}, false hits {out_fh / n:.1%} on what was left out"
        )
    # Rule C, stated after the thirty-first round's LOKO figures were read (so post hoc on
    # this set; first measured where it was not, on the thirtieth blind set, unread when the
    # rule was committed): the 10% target held by every training kind, not by their pool.
    worst: dict[str, Any] = {}
    for name, groups in (("kind", kind_of), ("domain", dom_of)):
        out_fh = out_hit = 0
        picked = []
        for g in sorted(set(groups)):
            sel = groups == g
            ti = choose_worst(~sel)
            picked.append(thresholds[ti])
            out_fh += int(fh[ti, sel].sum())
            out_hit += int(hit[ti, sel].sum())
        worst[name] = {"fh": out_fh / n, "para_hit": out_hit / n,
                       "thresholds": [min(picked), max(picked)]}  # fmt: skip
        print(
            f"rule C (worst kind <= {FH_TARGET:.0%}; post hoc here), leave-one-{name}-out: "
            f"thresholds {min(picked):.2f}-{max(picked):.2f}, para hit {out_hit / n:.1%}, "
            f"false hits {out_fh / n:.1%} on what was left out"
        )
    # The rules on the whole dev set: what each would ship (rule A is the shipped default's).
    every = np.ones(n, dtype=bool)
    picks = {"rule_a": thresholds[choose(every)], "rule_b": thresholds[choose(guard_pass)],
             "rule_c": thresholds[choose_worst(every)]}  # fmt: skip
    print(
        f"on all {n} triples: rule A picks {picks['rule_a']:.2f}, rule B (post hoc) picks "
        f"{picks['rule_b']:.2f}, rule C picks {picks['rule_c']:.2f}"
    )
    print(
        f"\nstructural kinds at the default threshold, on the {len(set(dom_of[unseen]))} "
        "domains never looked at while the guards were written (the roles check's latest round,"
        " symmetric pairs, one-way per / against / with and passive agents, was developed on "
        "the authored round-5 triples and the 13 tuning domains only):"
    )
    struct: dict[str, Any] = {}
    for k in STRUCTURAL_KINDS:
        sel = (kind_of == k) & unseen
        struct[k] = f"{int(fh[d, sel].sum())}/{int(sel.sum())}"
        low = (kind_of == k) & unseen
        print(
            f"- {k}: {struct[k]} false hits at {default_thr} "
            f"({int(fh[0, low].sum())}/{int(low.sum())} at {thresholds[0]:.2f}; "
            f"{int(guard_pass[low].sum())}/{int(low.sum())} pass the checks at any threshold)"
        )
    # The one-word substitution kinds the lexical check targets, on the same unseen domains,
    # with the checks' verdict with and without it (what it adds where it was never tuned).
    no_lex = GuardConfig(lexical=False)
    pass_nolex = np.array([check_guards(d, c, no_lex) is None
                           for d, c in zip(diff, cached, strict=True)])  # fmt: skip
    para_away = np.array([check_guards(p, c, GuardConfig()) is not None
                          for p, c in zip(para, cached, strict=True)])  # fmt: skip
    para_away_nolex = np.array([check_guards(p, c, no_lex) is not None
                                for p, c in zip(para, cached, strict=True)])  # fmt: skip
    print(
        f"\nsubstitution kinds at the default threshold, on the same {len(set(dom_of[unseen]))} "
        "unseen domains (checks with / without the lexical guard):"
    )
    subst: dict[str, Any] = {}
    for k in SUBSTITUTION_KINDS:
        sel = (kind_of == k) & unseen
        m = int(sel.sum())
        subst[k] = {"served": f"{int(fh[d, sel].sum())}/{m}",
                    "pass_checks": f"{int(guard_pass[sel].sum())}/{m}",
                    "pass_checks_without_lexical": f"{int(pass_nolex[sel].sum())}/{m}",
                    "paraphrases_turned_away": f"{int(para_away[sel].sum())}/{m}",
                    "paraphrases_turned_away_without_lexical":
                        f"{int(para_away_nolex[sel].sum())}/{m}"}  # fmt: skip
        print(
            f"- {k}: {subst[k]['served']} false hits at {default_thr}; near-misses passing "
            f"the checks {subst[k]['pass_checks']} (without lexical "
            f"{subst[k]['pass_checks_without_lexical']}); paraphrases the checks turn away "
            f"{subst[k]['paraphrases_turned_away']} (without lexical "
            f"{subst[k]['paraphrases_turned_away_without_lexical']})"
        )
    st = cache.stats()
    return {"curve": curve, "loko": loko, "substitution_unseen": subst,
            "loko_all": {"para_hit": held_hit / n,
            "fh": held_fh / n}, "lodo": {"para_hit": lodo_hit / n, "fh": lodo_fh / n,
            "thresholds": [min(lodo_thr), max(lodo_thr)]}, "structural_unseen": struct,
            "rule_b_post_hoc": post_hoc, "rule_c": worst, "whole_dev_picks": picks,
            "guard_rejections": st["guard_rejections"], "outranked": st["outranked"]}  # fmt: skip


def _blind_report(
    emb: Any, default_thr: float, picks: dict[str, float], path: Path
) -> dict[str, Any]:
    """The blind evaluation set through a real SemanticCache: a result, never a fit.

    Every ``cached`` question is stored; each ``paraphrase`` (light or heavy, as its author
    marked it) and each ``different`` is asked at the shipped default and at the thresholds
    rules A, B and C pick on the whole dev set, per kind (the protocol decided before the
    set was read is in ``benchmarks/data/README.md``).
    """
    from omnicache_ai.layers._guards import GuardConfig, check_guards

    items = json.loads(path.read_text())["items"]
    cached, para, diff, cache = _triples_cache(emb, items)
    n = len(items)
    kind_of = np.array([x["kind"] for x in items])
    weight_of = np.array([x.get("paraphrase_weight", "heavy") for x in items])
    passes = np.array([check_guards(d, c, GuardConfig()) is None
                       for d, c in zip(diff, cached, strict=True)])  # fmt: skip
    away = np.array([check_guards(p, c, GuardConfig()) is not None
                     for p, c in zip(para, cached, strict=True)])  # fmt: skip
    rule_a_thr, rule_b_thr, rule_c_thr = picks["rule_a"], picks["rule_b"], picks["rule_c"]
    thresholds = sorted({default_thr, rule_a_thr, rule_b_thr, rule_c_thr, *THRESHOLDS[::4]})
    hit = {
        t: np.array(
            [cache.lookup(p, threshold=t).value == c for p, c in zip(para, cached, strict=True)]
        )
        for t in thresholds
    }
    fh = {t: np.array([cache.lookup(d, threshold=t).hit for d in diff])
          for t in thresholds}  # fmt: skip
    if path.name in SPENT:
        print(f"\n## spent blind set {path.name} ({n} triples; later rounds of the checks were "
              "fitted on it: a fit now, not a result)")  # fmt: skip
    else:
        print(
            f"\n## blind evaluation set {path.name} ({n} triples, written for evaluation only "
            "by an author who saw neither the checks nor the tuning data: a result, not a fit)"
        )
    print("\n| threshold | near-misses served | light paraphrases hit | heavy paraphrases hit |"
          "\n|---|---|---|---|")  # fmt: skip
    light, heavy = weight_of == "light", weight_of == "heavy"
    curve = []
    for t in thresholds:
        tag = "".join(
            f" ({name})"
            for name, v in (("shipped default", default_thr), ("rule A", rule_a_thr),
                            ("rule B", rule_b_thr), ("rule C", rule_c_thr))
            if t == v
        )  # fmt: skip
        curve.append({"threshold": t, "fh": float(fh[t].mean()),
                      "light_hit": int(hit[t][light].sum()), "light_n": int(light.sum()),
                      "heavy_hit": int(hit[t][heavy].sum()),
                      "heavy_n": int(heavy.sum())})  # fmt: skip
        print(f"| {t:.2f}{tag} | {int(fh[t].sum())}/{n} ({fh[t].mean():.1%}) | "
              f"{int(hit[t][light].sum())}/{int(light.sum())} | "
              f"{int(hit[t][heavy].sum())}/{int(heavy.sum())} |")  # fmt: skip
    print(f"\nper kind: near-misses served at the shipped default {default_thr:.2f} / rule B's "
          f"{rule_b_thr:.2f}; near-misses passing the checks; paraphrases hit at the two; "
          "paraphrases the checks turn away")  # fmt: skip
    print("| kind | n | served (default / B) | pass checks | para hit (default / B) | "
          "para turned away |"
          "\n|---|---|---|---|---|---|")  # fmt: skip
    per_kind: dict[str, Any] = {}
    for k in sorted(set(kind_of)):
        sel = kind_of == k
        m = int(sel.sum())
        per_kind[k] = {"n": m, "served_default": int(fh[default_thr][sel].sum()),
                       "served_b": int(fh[rule_b_thr][sel].sum()),
                       "pass_checks": int(passes[sel].sum()),
                       "para_hit_default": int(hit[default_thr][sel].sum()),
                       "para_hit_b": int(hit[rule_b_thr][sel].sum()),
                       "para_turned_away": int(away[sel].sum())}  # fmt: skip
        r = per_kind[k]
        print(
            f"| {k} | {m} | {r['served_default']} / {r['served_b']} | {r['pass_checks']}/{m} | "
            f"{r['para_hit_default']} / {r['para_hit_b']} | {r['para_turned_away']}/{m} |"
        )
    return {
        "n": n,
        "curve": curve,
        "per_kind": per_kind,
        "shipped_default": default_thr,
        "rule_a": rule_a_thr,
        "rule_b": rule_b_thr,
        "rule_c": rule_c_thr,
    }


def _authored_report(emb: Any, default_thr: float) -> dict[str, Any]:
    """The authored tuning set through a real SemanticCache at the default threshold.

    Printed so that the checks' fit is visible, and labelled as what it is: the structural
    checks were adjusted while looking at these items, so this is a tuning figure.
    """
    from omnicache_ai.layers._guards import GuardConfig, check_guards
    from omnicache_ai.layers.semantic_cache import SemanticCache

    items = json.loads(AUTHORED.read_text())["items"]
    cache = SemanticCache(embedder=emb)
    for x in items:
        cache.set(x["cached"], x["cached"])
    out: dict[str, Any] = {}
    print(f"\n## tuning set {AUTHORED.name} ({len(items)} triples written to tune the "
          "structural checks: a fit, not a result)")  # fmt: skip
    print("| kind | n | near-misses served (default) | near-misses the checks veto | "
          "paraphrases hit (default) | paraphrases the checks turn away |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    # Round 2 (relation_or_role_swap, light paraphrases that move words without changing
    # roles) is reported apart: the roles check's second round was developed on it.
    groups = sorted({(x["kind"], x.get("round", 1)) for x in items})
    for kind, rnd in groups:
        sel = [x for x in items if x["kind"] == kind and x.get("round", 1) == rnd]
        label = f"{kind} (round {rnd})" if rnd != 1 else kind
        served = sum(cache.lookup(x["different"]).hit for x in sel)
        hit = sum(cache.lookup(x["paraphrase"]).value == x["cached"] for x in sel)
        vetoed = sum(check_guards(x["different"], x["cached"], GuardConfig()) is not None
                     for x in sel)  # fmt: skip
        away = sum(check_guards(x["paraphrase"], x["cached"], GuardConfig()) is not None
                   for x in sel)  # fmt: skip
        n = len(sel)
        out[label] = {"n": n, "served": served, "vetoed": vetoed, "para_hit": hit,
                     "para_turned_away": away}  # fmt: skip
        print(f"| {label} | {n} | {served}/{n} | {vetoed}/{n} | {hit}/{n} | {away}/{n} |")
    return out


def _end_to_end(
    emb: Any, *, uniq: list[str], similars: list[str], origins: list[str],
    hard: list[dict[str, str]], U: np.ndarray, S: np.ndarray, HA: np.ndarray, HB: np.ndarray,
) -> dict[str, Any]:  # fmt: skip
    """Replay the cache simulation through the real SemanticCache (precomputed vectors)."""
    from omnicache_ai.embedders import BaseEmbedder
    from omnicache_ai.layers.semantic_cache import SemanticCache

    table = dict(zip(uniq, U, strict=True))
    table.update(zip(similars, S, strict=True))
    table.update(zip([h["a"] for h in hard], HA, strict=True))
    table.update(zip([h["b"] for h in hard], HB, strict=True))

    class Precomputed(BaseEmbedder):
        """The benchmark's vectors; any other text goes to the real model."""

        name, dim = emb.name, emb.dim

        def _embed_batch(self, texts: list[str]) -> np.ndarray:
            return np.vstack([
                table[" ".join(t.split())] if " ".join(t.split()) in table else emb.embed(t)
                for t in texts
            ])  # fmt: skip

    for t in list(table):
        table[" ".join(t.split())] = table[t]
    cache = SemanticCache(embedder=Precomputed())
    t0 = time.perf_counter()
    for o in uniq:
        cache.set(o, o)
    right = wrong = 0
    for q, o in zip(similars, origins, strict=True):
        r = cache.lookup(q)
        if r.hit:
            right += r.value == o
            wrong += r.value != o
    hard_cache = SemanticCache(embedder=Precomputed())
    false_hits = 0
    for h in hard:
        hard_cache.set(h["a"], h["a"])
    for h in hard:
        r = hard_cache.lookup(h["b"])
        false_hits += bool(r.hit and r.value == h["a"])
    n = len(similars)
    return {
        "paraphrase lookups answered with their own origin": f"{right / n:.1%}",
        "answered with another origin": f"{wrong / n:.1%}",
        "precision": f"{right / max(right + wrong, 1):.1%}",
        "hard negatives served the other's answer": f"{false_hits}/{len(hard)}",
        "wall time (s)": round(time.perf_counter() - t0, 2),
        "threshold": cache.threshold,
    }


def _plot(rows: list[dict[str, Any]], png: str, name: str, default: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ts = [r["threshold"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    for mode, style in (("plain", "--"), ("guards", "-")):
        ax1.plot(ts, [r[mode]["para_hit"] for r in rows], style, color="tab:green",
                 label=f"paraphrase hit rate ({mode})")  # fmt: skip
        ax1.plot(ts, [r[mode]["hard_fh"] for r in rows], style, color="tab:red",
                 label=f"hard-negative false hits ({mode})")  # fmt: skip
        ax1.plot(ts, [r[mode]["sim_precision"] for r in rows], style, color="tab:blue",
                 label=f"cache-sim precision ({mode})")  # fmt: skip
    ax1.axvline(default, color="grey", lw=0.8, label=f"default threshold {default}")
    ax1.set_xlabel("cosine threshold")
    ax1.set_ylim(0, 1.02)
    ax1.set_title(f"Semantic cache quality ({name})")
    ax1.legend(fontsize=7, loc="lower left")
    for mode, style in (("plain", "--"), ("guards", "-")):
        ax2.plot(ts, [100 * r[mode]["mismatch_fh"] for r in rows], style, color="tab:orange",
                 label=f"mismatched-pair false hits, % ({mode})")  # fmt: skip
    ax2.axhline(1.0, color="tab:red", lw=0.8, ls=":", label="1% goal")
    ax2.axvline(default, color="grey", lw=0.8)
    ax2.set_yscale("log")
    ax2.set_xlabel("cosine threshold")
    ax2.set_ylabel("% of ~962k mismatched pairs")
    ax2.set_title("False hits on mismatched pairs")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
