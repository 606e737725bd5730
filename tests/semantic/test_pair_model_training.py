"""The pair model's training data and the pair-verifier benchmark's held-out logic.

Training itself needs torch (not a dependency of the library or its test environments), so it
is run by hand (``scripts/train_pair_model.py``); what is checked here is what decides whether
its figures mean anything: the training files never contain an evaluation question, every
pair carries the right label, a left-out kind is really left out, and the benchmark chooses
its setting on one part of the dev set and reports it on the other.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"entity_swap", "attribute_swap", "antonym_or_direction", "action_swap", "negation",
         "quantity_or_unit", "scope_or_qualifier", "question_type",
         "relation_or_role_swap"}  # fmt: skip


def _load(path: Path, name: str) -> ModuleType:
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def train() -> ModuleType:
    return _load(ROOT / "scripts" / "train_pair_model.py", "train_pair_model")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load(ROOT / "benchmarks" / "bench_pair_verifier.py", "bench_pair_verifier")


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def test_training_files_are_complete_and_well_formed(train: ModuleType) -> None:
    files = sorted(train.DATA.glob("pair_train_*.json"))
    assert len(files) == 11
    for path in files:
        items = json.loads(path.read_text())["items"]
        # 270 written per file (216 in the fourth and fifth), minus any close to evaluation.
        assert len(items) >= 200, path.name
        assert {x["kind"] for x in items} == KINDS
        for x in items:
            texts = [x[k] for k in ("cached", "light", "heavy", "different", "different2")]
            assert all(isinstance(t, str) and t.strip() for t in texts), x
            # A near-miss worded like its cached question or a paraphrase would be a label error
            # (a paraphrase may differ only in punctuation: "full-time" / "full time").
            same = {_norm(x[k]) for k in ("cached", "light", "heavy")}
            assert not {_norm(x["different"]), _norm(x["different2"])} & same, x


def test_training_data_holds_no_evaluation_question(train: ModuleType) -> None:
    """No training text is a question of the unread blind set (nor of the dev set, when
    present); the spent blind sets train."""
    written, authored = train._load_items()
    training = {_norm(x[k]) for x in written
                for k in ("cached", "light", "heavy", "different", "different2")}  # fmt: skip
    training |= {_norm(x[k]) for x in authored for k in ("cached", "paraphrase", "different")}
    sets = [ROOT / "benchmarks" / "data" / n
            for n in ("near_misses_blind26.json", "near_misses_blind27.json",
                      "near_misses_blind28.json", "near_misses_blind29.json",
                      "near_misses_blind30.json", "near_misses_blind31.json",
                      "near_misses_blind32.json", "near_misses_blind33.json",
                      "near_misses_blind34.json", "near_misses_blind35.json",
                      "near_misses_blind36.json", "near_misses_blind37.json",
                      "near_misses_blind38.json", "near_misses_blind39.json",
                      "near_misses_blind40.json", "near_misses_blind41.json",
                      "near_misses_blind42.json", "near_misses_blind43.json",
                      "near_misses_blind44.json", "near_misses_blind45.json",
                      "near_misses_blind46.json", "near_misses_blind47.json",
                      "near_misses_blind48.json", "near_misses_blind49.json",
                      "near_misses_blind50.json", "near_misses_blind51.json",
                      "near_misses_blind52.json", "near_misses_blind53.json",
                      "near_misses_blind54.json", "near_misses_blind55.json")]  # fmt: skip
    assert list(train.EVALUATION) == sets
    sets = [p for p in sets if p.exists()]
    for spent in train.SPENT:
        items = json.loads(spent.read_text())["items"]
        assert {_norm(x["cached"]) for x in items} <= training, spent.name
    evaluation: set[str] = set()
    for path in sets:
        for x in json.loads(path.read_text())["items"]:
            evaluation |= {_norm(x[k]) for k in ("cached", "paraphrase", "different")}
    dev = next((d / "shared" / "data" / "hard_negatives_dev.json" for d in ROOT.parents
                if (d / "shared" / "data" / "hard_negatives_dev.json").exists()), None)  # fmt: skip
    if dev is not None:
        for x in json.loads(dev.read_text()):
            evaluation |= {_norm(x[k]) for k in ("cached", "paraphrase", "different")}
    assert not training & evaluation


def test_pairs_carry_the_right_labels(train: ModuleType) -> None:
    written, authored = train._load_items()
    pairs = train._pairs(written[:20], authored[:10], random.Random(0))
    same = {frozenset((x["cached"], x[k])) for x in written[:20] for k in ("light", "heavy")}
    same |= {frozenset((x["cached"], x["paraphrase"])) for x in authored[:10]}
    other = {frozenset((x["cached"], x[k])) for x in written[:20]
             for k in ("different", "different2")}  # fmt: skip
    other |= {frozenset((x["cached"], x["different"])) for x in authored[:10]}
    labels = {frozenset((a, b)): y for a, b, y in pairs}
    assert all(labels[p] == 1.0 for p in same)
    assert all(labels[p] == 0.0 for p in other)
    # Unrelated pairs are negatives; both orders occur.
    assert sum(y == 0.0 for *_, y in pairs) > len(other)
    firsts = {a for a, _, _ in pairs}
    assert any(x["cached"] in firsts for x in written[:20])
    assert any(x["light"] in firsts or x["heavy"] in firsts for x in written[:20])


@pytest.mark.parametrize("kind", ["negation", "relation_or_role_swap"])
def test_a_left_out_kind_is_left_out(train: ModuleType, kind: str) -> None:
    written, authored = train._load_items([kind])
    all_written, all_authored = train._load_items()
    assert written
    assert all(x["kind"] != kind for x in written + authored)
    assert len(written) == sum(x["kind"] != kind for x in all_written)
    assert len(authored) == sum(x["kind"] != kind for x in all_authored)


def _outcomes(bench: ModuleType, table: dict[tuple[float, float], tuple[list[int], list[int]]]
              ) -> dict[tuple[str, float, float], tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    return {("all", f, s): (np.array(h, dtype=bool), np.array(m, dtype=bool))
            for (f, s), (h, m) in table.items()}  # fmt: skip


def test_choose_takes_most_hits_within_the_false_hit_goal(bench: ModuleType) -> None:
    out = _outcomes(bench, {
        (0.5, 0.9): ([1, 1, 1, 1], [1, 0, 0, 0]),   # most hits, 25% served: over the goal
        (0.6, 0.9): ([1, 1, 0, 0], [0, 0, 0, 0]),
        (0.7, 0.9): ([1, 0, 0, 0], [0, 0, 0, 0]),
    })  # fmt: skip
    assert bench._choose(out, "all", np.ones(4, dtype=bool)) == (0.6, 0.9)
    # Nothing within the goal: the strictest setting of the grid, never the best-hitting one.
    bad = _outcomes(bench, {(0.5, 0.9): ([1, 1], [1, 1])})
    assert bench._choose(bad, "all", np.ones(2, dtype=bool)) == (
        bench.FLOORS[-1],
        bench.MIN_SCORES[-1],
    )


def test_held_out_group_never_chooses_its_own_setting(bench: ModuleType) -> None:
    """Group B alone would pick (0.5, 0.9); chosen on group A it gets (0.6, 0.9) and pays."""
    out = _outcomes(bench, {
        # items: A A B B
        (0.5, 0.9): ([0, 0, 1, 1], [1, 1, 0, 0]),   # A: 100% served -> never chosen on A
        (0.6, 0.9): ([1, 1, 0, 0], [0, 0, 1, 1]),   # chosen on A; on B: 0 hits, 2 served
    })  # fmt: skip
    groups = np.array(["A", "A", "B", "B"])
    got = bench._held_out(out, "all", groups)
    assert got["per"]["B"] == {"floor": 0.6, "min_score": 0.9, "para_hit": "0/2",
                               "served": "2/2"}  # fmt: skip
    assert got["per"]["A"]["floor"] == 0.5  # chosen on B, where (0.5, 0.9) is clean
    assert got["fh"] == 1.0  # every held-out near-miss was served: nothing was tuned on it


def test_held_out_uses_the_models_trained_without_the_kind(bench: ModuleType) -> None:
    out = _outcomes(bench, {(0.6, 0.9): ([1, 1, 1, 1], [0, 0, 0, 0])})
    loko = {"B": _outcomes(bench, {(0.6, 0.9): ([1, 1, 0, 0], [0, 0, 1, 0])})}
    got = bench._held_out(out, "all", np.array(["A", "A", "B", "B"]), loko)
    assert got["per"]["B"]["served"] == "1/2"
    assert got["per"]["B"]["para_hit"] == "0/2"
    assert got["per"]["A"]["para_hit"] == "2/2"


def test_outcomes_through_a_real_cache(bench: ModuleType) -> None:
    """'all' lets the pair model decide every candidate; 'grey' keeps above-threshold hits."""
    from omnicache_ai.embedders import HashingEmbedder

    items: list[dict[str, Any]] = [
        {"cached": "how do I reset my router password", "kind": "entity_swap", "domain": "d",
         "paraphrase": "How do I reset my router password?",
         "different": "how do I reset my modem password"},
        {"cached": "what is the boiling point of water", "kind": "antonym_or_direction",
         "domain": "d", "paraphrase": "What is the boiling point of water?",
         "different": "what is the freezing point of water"},
    ]  # fmt: skip

    def same_words(pairs: list[tuple[str, str]]) -> list[float]:
        return [1.0 if _norm(a) == _norm(b) else 0.0 for a, b in pairs]

    out = bench._outcomes(HashingEmbedder(dim=256), items, same_words, default_thr=0.5)
    hit, served = out[("all", bench.FLOORS[0], 0.5)]
    assert hit.all()
    assert not served.any()
    # Grey zone: near-misses scoring above the default threshold are served unverified.
    hit, served = out[("grey", bench.FLOORS[0], 0.5)]
    assert hit.all()


def test_verify_all_sends_every_candidate_to_the_pair_model(bench: ModuleType) -> None:
    """A pair model that rejects everything: 'all' serves nothing, 'grey' keeps sure hits."""
    from omnicache_ai.embedders import HashingEmbedder

    items: list[dict[str, Any]] = [
        {"cached": "how do I reset my router password", "kind": "entity_swap", "domain": "d",
         "paraphrase": "How do I reset my router password?",
         "different": "where do I buy a new router"},
    ]  # fmt: skip
    seen: list[tuple[str, str]] = []

    def reject_all(pairs: list[tuple[str, str]]) -> list[float]:
        seen.extend(pairs)
        return [0.0 for _ in pairs]

    out = bench._outcomes(HashingEmbedder(dim=256), items, reject_all, default_thr=0.5)
    for floor in bench.FLOORS:
        hit, served = out[("all", floor, 0.5)]
        assert not hit.any()
        assert not served.any()
    assert ("How do I reset my router password?", "how do I reset my router password") in seen
    # Grey zone: the paraphrase scores above the default threshold, so it is served unverified.
    hit, _ = out[("grey", bench.FLOORS[0], 0.5)]
    assert hit.all()


def test_main_hands_each_trained_model_to_export(
    train: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line reaches _train and _export with the right arguments (torch stubbed)."""
    calls: list[tuple[str, Any]] = []

    def fake_train(args: Any, exclude: list[str]) -> tuple[Any, Any, Path, dict[str, Any]]:
        calls.append(("train", list(exclude)))
        return "model", "tokenizer", tmp_path / "tokenizer.json", {"exclude_kinds": list(exclude)}

    def fake_export(model: Any, tokenizer: Any, tok_file: Path, out: Path,
                    seen: dict[str, Any]) -> None:  # fmt: skip
        assert (model, tokenizer) == ("model", "tokenizer")
        calls.append(("export", (out, seen["exclude_kinds"])))

    monkeypatch.setattr(train, "_train", fake_train)
    monkeypatch.setattr(train, "_export", fake_export)
    assert train.main(["--out", str(tmp_path / "m"), "--exclude-kinds", "negation"]) == 0
    assert calls == [("train", ["negation"]), ("export", (tmp_path / "m", ["negation"]))]
    calls.clear()
    assert train.main(["--out", str(tmp_path / "loko"), "--loko"]) == 0
    groups = train.KIND_GROUPS
    assert calls[::2] == [("train", list(g)) for g in groups.values()]
    assert calls[1::2] == [("export", (tmp_path / "loko" / name, list(g)))
                           for name, g in groups.items()]  # fmt: skip
    # Every dev kind is left out by exactly one group.
    left_out = [k for g in groups.values() for k in g]
    assert sorted(left_out) == sorted(KINDS)
