"""EmbeddingCache: exact numpy round trips, batch misses in one call, input order."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from omnicache_ai import CacheManager, EmbeddingCache, JsonSerializer, RequestConfig

MODEL = "text-embedding-3-small"


def embed_one(text: str, dim: int = 8, dtype: Any = np.float32) -> np.ndarray:
    """A deterministic stand-in embedder: different texts give different vectors."""
    rng = np.random.default_rng(abs(hash(text)) % 2**32)
    return rng.standard_normal(dim).astype(dtype)


@pytest.mark.parametrize(
    "vector",
    [
        np.array([0.1, -2.5, 3.25e-8, np.float32(1) / 3], dtype=np.float32),
        np.linspace(-1, 1, 1536, dtype=np.float64),
        np.array([1.5, -0.0, 65504.0], dtype=np.float16),
        np.array([-128, 0, 127], dtype=np.int8),
        np.arange(12, dtype=">f4").reshape(3, 4),
        np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
        np.array([1 + 2j, -0.5j], dtype=np.complex64),
    ],
    ids=["f32", "f64-1536", "f16", "int8", "big-endian-2d", "fortran-order", "complex64"],
)
def test_vectors_round_trip_bit_exact(any_manager: CacheManager, vector: np.ndarray) -> None:
    """dtype, shape and every bit come back unchanged (any_manager: sync and async backends)."""
    emb = EmbeddingCache(any_manager)
    assert emb.set("doc", vector, model_id=MODEL)
    got = emb.get("doc", model_id=MODEL)
    assert got is not None
    assert got.dtype == vector.dtype
    assert got.shape == vector.shape
    assert got.tobytes() == np.ascontiguousarray(vector).tobytes()


def test_hits_are_read_only_views_unless_writable(manager: CacheManager) -> None:
    """Cached arrays are zero-copy read-only views; writable=True hands out private copies."""
    vec = embed_one("x")
    EmbeddingCache(manager).set("x", vec, model_id=MODEL)
    view = EmbeddingCache(manager).get("x", model_id=MODEL)
    assert view is not None
    assert not view.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        view[0] = 1.0
    own = EmbeddingCache(manager, writable=True).get("x", model_id=MODEL)
    assert own is not None
    assert own.flags.writeable
    own[0] = 42.0
    again = EmbeddingCache(manager).get("x", model_id=MODEL)
    assert again is not None
    assert again[0] == vec[0]


def test_readme_get_or_compute(manager: CacheManager) -> None:
    """get_or_compute(text=..., compute_fn=..., model_id=...) computes once."""
    emb = EmbeddingCache(manager)
    calls: list[str] = []

    def encode(t: str) -> np.ndarray:
        calls.append(t)
        return embed_one(t)

    v1 = emb.get_or_compute(text="Hello world", compute_fn=encode, model_id=MODEL)
    v2 = emb.get_or_compute(text="Hello world", compute_fn=encode, model_id=MODEL)
    assert np.array_equal(v1, v2)
    assert calls == ["Hello world"]


def test_list_of_floats_becomes_an_array(manager: CacheManager) -> None:
    """An embedder returning a Python list (the OpenAI SDK does) yields float64 arrays."""
    emb = EmbeddingCache(manager)
    v = emb.get_or_compute("q", lambda t: [0.25, -0.5, 0.125], model_id=MODEL)
    assert v.dtype == np.float64
    assert v.tolist() == [0.25, -0.5, 0.125]


def test_model_and_params_are_keyed(manager: CacheManager) -> None:
    """Another model or another dimensions setting is another vector."""
    emb = EmbeddingCache(manager)
    emb.set("t", embed_one("t"), model_id=MODEL)
    assert emb.get("t", model_id="text-embedding-3-large") is None
    assert emb.get("t", model_id=MODEL, params={"dimensions": 256}) is None
    assert emb.get("t", model_id=MODEL) is not None


def test_batch_computes_only_distinct_misses_once_in_order(manager: CacheManager) -> None:
    """get_or_compute_many: one embedder call with the distinct misses; results in input order."""
    emb = EmbeddingCache(manager)
    emb.set("b", embed_one("b"), model_id=MODEL)
    batches: list[list[str]] = []

    def embed_batch(texts: list[str]) -> np.ndarray:
        batches.append(list(texts))
        return np.stack([embed_one(t) for t in texts])

    texts = ["c", "a", "b", "c", "a", "d"]
    out = emb.get_or_compute_many(texts, embed_batch, model_id=MODEL)
    assert batches == [["c", "a", "d"]]
    assert len(out) == len(texts)
    for text, vec in zip(texts, out, strict=True):
        assert np.array_equal(vec, embed_one(text))
    again = emb.get_or_compute_many(texts, embed_batch, model_id=MODEL)
    assert len(batches) == 1
    assert all(np.array_equal(x, y) for x, y in zip(out, again, strict=True))


def test_batch_with_everything_cached_never_calls_the_embedder(manager: CacheManager) -> None:
    """A fully cached batch is served from one batch read."""
    emb = EmbeddingCache(manager)
    emb.get_or_compute_many(["x", "y"], lambda ts: [embed_one(t) for t in ts], model_id=MODEL)

    def must_not_run(_: list[str]) -> list[Any]:
        raise AssertionError("embedder called on a full hit")

    assert len(emb.get_or_compute_many(["y", "x"], must_not_run, model_id=MODEL)) == 2
    assert emb.get_many(["x", "nope"], model_id=MODEL)[1] is None


def test_batch_length_mismatch_is_an_error(manager: CacheManager) -> None:
    """An embedder returning the wrong number of vectors is reported, nothing stored."""
    emb = EmbeddingCache(manager)
    with pytest.raises(ValueError, match="returned 1 vectors for 2 texts"):
        emb.get_or_compute_many(["a", "b"], lambda ts: [embed_one("a")], model_id=MODEL)
    assert emb.get("a", model_id=MODEL) is None


def test_non_finite_or_empty_vectors_are_not_cached(manager: CacheManager) -> None:
    """A NaN or empty vector is returned to the caller but never stored."""
    emb = EmbeddingCache(manager)
    nan = np.array([0.1, np.nan], dtype=np.float32)
    assert np.isnan(emb.get_or_compute("bad", lambda t: nan, model_id=MODEL)[1])
    assert emb.get("bad", model_id=MODEL) is None
    assert emb.set("empty", np.array([], dtype=np.float32), model_id=MODEL) is False
    out = emb.get_or_compute_many(["ok", "bad"], lambda ts: [embed_one("ok"), nan], model_id=MODEL)
    assert np.isnan(out[1][1])
    assert emb.get("ok", model_id=MODEL) is not None
    assert emb.get("bad", model_id=MODEL) is None


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda e: e.set("t", ["a", "b"], model_id=MODEL), TypeError, "numeric"),
        (lambda e: e.get(42, model_id=MODEL), TypeError, "text must be a str"),
        (lambda e: e.get("t", model_id=""), ValueError, "model_id"),
        (lambda e: e.get_many("abc", model_id=MODEL), TypeError, "list of str"),
        (
            lambda e: e.get_or_compute_many(["t"], lambda ts: 3.0, model_id=MODEL),
            TypeError,
            "sequence of vectors",
        ),
    ],
)
def test_bad_input_is_named(
    manager: CacheManager, call: Any, error: type[Exception], match: str
) -> None:
    """Bad texts, models or embedder outputs raise errors saying what is wrong."""
    with pytest.raises(error, match=match):
        call(EmbeddingCache(manager))


def test_works_when_the_manager_serializes_json() -> None:
    """Vectors are bytes; the layer stores them safely even if the manager defaults to JSON."""
    emb = EmbeddingCache(CacheManager(serializer=JsonSerializer()))
    vec = embed_one("j", dtype=np.float16)
    emb.set("j", vec, model_id=MODEL)
    got = emb.get("j", model_id=MODEL)
    assert got is not None
    assert got.dtype == np.float16
    assert np.array_equal(got, vec)


def test_config_refresh_and_skip(manager: CacheManager) -> None:
    """refresh recomputes and overwrites the batch; skip_cache neither reads nor writes."""
    emb = EmbeddingCache(manager)
    ones = lambda ts: np.ones((len(ts), 2))  # noqa: E731
    twos = lambda ts: np.full((len(ts), 2), 2.0)  # noqa: E731
    emb.get_or_compute_many(["a"], ones, model_id=MODEL)
    got = emb.get_or_compute_many(["a"], twos, model_id=MODEL, config=RequestConfig(refresh=True))
    assert got[0].tolist() == [2.0, 2.0]
    assert emb.get("a", model_id=MODEL).tolist() == [2.0, 2.0]  # type: ignore[union-attr]
    emb.get_or_compute_many(["b"], ones, model_id=MODEL, config=RequestConfig(skip_cache=True))
    assert emb.get("b", model_id=MODEL) is None


async def test_async_twins(any_manager: CacheManager) -> None:
    """aset/aget/aget_many/aget_or_compute/aget_or_compute_many/adelete mirror sync."""
    emb = EmbeddingCache(any_manager)
    calls: list[Any] = []

    async def aembed(texts: list[str]) -> list[np.ndarray]:
        calls.append(texts)
        await asyncio.sleep(0)
        return [embed_one(t) for t in texts]

    out = await emb.aget_or_compute_many(["p", "q", "p"], aembed, model_id=MODEL)
    assert calls == [["p", "q"]]
    assert np.array_equal(out[2], embed_one("p"))
    many = await emb.aget_many(["q", "r"], model_id=MODEL)
    assert many[0] is not None
    assert many[1] is None

    async def aembed_one(text: str) -> np.ndarray:
        return embed_one(text)

    r = await emb.aget_or_compute("r", aembed_one, model_id=MODEL)
    assert np.array_equal(await emb.aget("r", model_id=MODEL), r)  # type: ignore[arg-type]
    assert await emb.aset("s", embed_one("s"), model_id=MODEL)
    assert await emb.adelete("s", model_id=MODEL)
    assert await emb.aget("s", model_id=MODEL) is None


async def test_concurrent_get_or_compute_runs_embedder_once(manager: CacheManager) -> None:
    """Concurrent tasks computing the same text share one embedder call."""
    emb = EmbeddingCache(manager)
    calls = []

    async def slow(text: str) -> np.ndarray:
        calls.append(text)
        await asyncio.sleep(0.03)
        return embed_one(text)

    vecs = await asyncio.gather(
        *(emb.aget_or_compute("hot", slow, model_id=MODEL) for _ in range(10))
    )
    assert calls == ["hot"]
    assert all(np.array_equal(v, vecs[0]) for v in vecs)


# ---- savings ------------------------------------------------------------------------------
TEXT = "What is the capital of France?"  # 30 characters: 8 estimated tokens


def saved(manager: CacheManager) -> tuple[int, float]:
    st = manager.metrics.snapshot()["layers"]["embedding"]
    return st["tokens_saved_input"], st["cost_saved"]


def test_hits_record_the_tokens_and_dollars_they_saved(manager: CacheManager) -> None:
    """Each hit adds the text's estimated tokens and their price for the model; misses add none."""
    emb = EmbeddingCache(manager)
    assert emb.get(TEXT, model_id=MODEL) is None
    emb.get_or_compute(TEXT, embed_one, model_id=MODEL)  # computed: nothing saved
    assert saved(manager) == (0, 0.0)
    emb.get(TEXT, model_id=MODEL)
    emb.get_or_compute(TEXT, embed_one, model_id=MODEL)
    tokens, cost = saved(manager)
    assert tokens == 2 * 8
    assert cost == pytest.approx(16 * 0.02 / 1e6)
    assert manager.metrics.snapshot()["tokens_saved"] == tokens


def test_batch_hits_record_savings_per_distinct_hit(manager: CacheManager) -> None:
    """get_or_compute_many and get_many count the distinct texts served from the cache."""
    emb = EmbeddingCache(manager)
    emb.set("aaaa", embed_one("aaaa"), model_id=MODEL)  # 1 token
    emb.set("b" * 40, embed_one("b"), model_id=MODEL)  # 10 tokens
    emb.get_or_compute_many(
        ["aaaa", "b" * 40, "aaaa", "new text"], lambda ts: [embed_one(t) for t in ts],
        model_id=MODEL,
    )  # fmt: skip
    assert saved(manager)[0] == 11
    emb.get_many(["aaaa", "missing"], model_id=MODEL)
    assert saved(manager)[0] == 12


def test_unknown_models_save_tokens_but_no_invented_dollars(manager: CacheManager) -> None:
    """A model missing from the pricing table counts tokens at a price of 0."""
    emb = EmbeddingCache(manager)
    emb.set(TEXT, embed_one(TEXT), model_id="my-local-encoder")
    emb.get(TEXT, model_id="my-local-encoder")
    assert saved(manager) == (8, 0.0)


def test_token_counter_replaces_the_estimate(manager: CacheManager) -> None:
    """token_counter= counts a hit's tokens (here: words), priced for the model."""
    emb = EmbeddingCache(manager, token_counter=lambda t: len(t.split()))
    emb.set(TEXT, embed_one(TEXT), model_id="text-embedding-3-large")
    emb.get(TEXT, model_id="text-embedding-3-large")
    tokens, cost = saved(manager)
    assert tokens == 6
    assert cost == pytest.approx(6 * 0.13 / 1e6)


async def test_async_hits_record_savings(any_manager: CacheManager) -> None:
    """aget, aget_or_compute, aget_many and aget_or_compute_many count savings like sync."""
    emb = EmbeddingCache(any_manager)
    await emb.aset(TEXT, embed_one(TEXT), model_id=MODEL)
    await emb.aget(TEXT, model_id=MODEL)
    await emb.aget_or_compute(TEXT, embed_one, model_id=MODEL)
    await emb.aget_many([TEXT, "nope"], model_id=MODEL)
    await emb.aget_or_compute_many([TEXT, TEXT], lambda ts: [embed_one(t) for t in ts],
                                   model_id=MODEL)  # fmt: skip
    assert saved(any_manager)[0] == 4 * 8


async def test_coalesced_computations_count_as_savings(manager: CacheManager) -> None:
    """Tasks that waited for another task's embedding saved a call each."""
    emb = EmbeddingCache(manager)
    gate = asyncio.Event()

    async def slow(text: str) -> np.ndarray:
        await gate.wait()
        return embed_one(text)

    tasks = [asyncio.create_task(emb.aget_or_compute(TEXT, slow, model_id=MODEL)) for _ in range(3)]
    await asyncio.sleep(0)  # one turn each: the three tasks reach the stampede shield
    gate.set()
    await asyncio.gather(*tasks)
    assert manager.metrics.snapshot()["layers"]["embedding"]["coalesced"] == 2
    assert saved(manager)[0] == 2 * 8
