"""LLMMiddleware, AsyncLLMMiddleware, EmbeddingMiddleware and RetrieverMiddleware."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from omnicache_ai import (
    AsyncLLMMiddleware,
    CacheKeyBuilder,
    CacheManager,
    EmbeddingCache,
    EmbeddingMiddleware,
    LLMMiddleware,
    ResponseCache,
    RetrievalCache,
    RetrieverMiddleware,
)

Q = [{"role": "user", "content": "What is 2+2?"}]


def completion(text: str, prompt_tokens: int = 12) -> dict[str, Any]:
    """An OpenAI-shaped chat completion body."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
        ],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 1},
    }


@pytest.fixture
def manager() -> CacheManager:
    """A fresh in-memory manager."""
    return CacheManager(key_builder=CacheKeyBuilder("mw"))


def test_readme_llm_middleware_decorator_and_wrap(manager: CacheManager) -> None:
    """@middleware and middleware(fn) both cache by messages (README usage)."""
    response_cache = ResponseCache(manager)
    key_builder = CacheKeyBuilder()
    middleware = LLMMiddleware(response_cache, key_builder, model_id="gpt-4o")
    calls: list[Any] = []

    @middleware
    def call_llm(messages: list[dict[str, str]]) -> str:
        calls.append(messages)
        return "4"

    def other_llm(messages: list[dict[str, str]]) -> str:
        calls.append(("other", messages))
        return "four"

    wrapped = middleware(other_llm)
    assert call_llm(Q) == "4"
    assert call_llm(Q) == "4"
    assert wrapped(Q) == "4"  # same model + messages + params: same cached answer
    assert calls == [Q]
    assert call_llm.__name__ == "call_llm"


def test_llm_middleware_keys_kwargs_and_model(manager: CacheManager) -> None:
    """Answer-changing kwargs and model= are keyed; transport kwargs are not."""
    calls: list[dict[str, Any]] = []

    @LLMMiddleware(ResponseCache(manager), model_id="gpt-4o")
    def create(*, model: str = "gpt-4o", messages: Any, **kw: Any) -> dict[str, Any]:
        calls.append({"model": model, **kw})
        return completion(f"{model}:{kw.get('temperature')}")

    create(messages=Q, temperature=0.2, stream=False, timeout=10)
    create(messages=Q, temperature=0.2, user="someone", timeout=99)
    assert len(calls) == 1
    create(messages=Q, temperature=0.9)
    create(model="gpt-4o-mini", messages=Q, temperature=0.2)
    assert [c["model"] for c in calls] == ["gpt-4o", "gpt-4o", "gpt-4o-mini"]


def test_llm_middleware_uncacheable_answers_pass_through(manager: CacheManager) -> None:
    """A truncated answer is returned to the caller but the next call retries."""
    calls = []

    @LLMMiddleware(ResponseCache(manager), model_id="gpt-4o")
    def llm(messages: Any) -> dict[str, Any]:
        calls.append(1)
        body = completion("The answer")
        body["choices"][0]["finish_reason"] = "length"
        return body

    llm(Q)
    llm(Q)
    assert len(calls) == 2


def test_llm_middleware_key_builder_namespaces(manager: CacheManager) -> None:
    """A middleware given its own key builder does not share entries with the layer's keys."""
    rc = ResponseCache(manager)
    rc.set(Q, "from layer", model_id="gpt-4o")

    @LLMMiddleware(rc, CacheKeyBuilder("site-b"), model_id="gpt-4o")
    def llm(messages: Any) -> str:
        return "from site b"

    assert llm(Q) == "from site b"
    assert rc.get(Q, model_id="gpt-4o") == "from layer"


def test_llm_middleware_kind_checks(manager: CacheManager) -> None:
    """Sync middleware refuses coroutine functions and vice versa, naming the right class."""
    rc = ResponseCache(manager)

    async def async_llm(messages: Any) -> str:
        return "x"

    def sync_llm(messages: Any) -> str:
        return "x"

    with pytest.raises(TypeError, match="AsyncLLMMiddleware"):
        LLMMiddleware(rc, model_id="m")(async_llm)
    with pytest.raises(TypeError, match="use LLMMiddleware"):
        AsyncLLMMiddleware(rc, model_id="m")(sync_llm)
    with pytest.raises(TypeError, match="ResponseCache"):
        LLMMiddleware(manager, model_id="m")  # type: ignore[arg-type]


def test_llm_middleware_needs_messages_and_model(manager: CacheManager) -> None:
    """Calls without messages, or without any model, fail with a clear message."""
    llm = LLMMiddleware(ResponseCache(manager))(lambda **kw: "x")
    with pytest.raises(TypeError, match="no messages"):
        llm(temperature=0)
    with pytest.raises(ValueError, match="model id is required"):
        llm(messages=Q)
    assert llm(messages=Q, model="gpt-4o") == "x"


async def test_readme_async_llm_middleware(manager: CacheManager) -> None:
    """@AsyncLLMMiddleware caches a coroutine function; concurrent calls share one call."""
    calls: list[Any] = []

    @AsyncLLMMiddleware(ResponseCache(manager), CacheKeyBuilder(), model_id="gpt-4o")
    async def call_llm_async(messages: Any) -> dict[str, Any]:
        calls.append(messages)
        await asyncio.sleep(0.02)
        return completion("4", prompt_tokens=500)

    results = await asyncio.gather(*(call_llm_async(Q) for _ in range(6)))
    assert all(r["choices"][0]["message"]["content"] == "4" for r in results)
    assert len(calls) == 1
    await call_llm_async(Q)
    assert manager.metrics.snapshot()["layers"]["response"]["tokens_saved_input"] >= 500


def test_embedding_middleware_single_and_batch(manager: CacheManager) -> None:
    """A str input is embedded alone; a list only sends the distinct misses, in one call."""
    calls: list[Any] = []

    @EmbeddingMiddleware(EmbeddingCache(manager), model_id="text-embedding-3-small")
    def embed(texts: Any, dimensions: int = 3) -> Any:
        calls.append(texts)
        if isinstance(texts, str):
            return np.full(dimensions, len(texts), dtype=np.float32)
        return [np.full(dimensions, len(t), dtype=np.float32) for t in texts]

    one = embed("abc")
    batch = embed(["abc", "de", "de", "fghi"])
    assert calls == ["abc", ["de", "fghi"]]
    assert one.tolist() == [3.0, 3.0, 3.0]
    assert [v[0] for v in batch] == [3.0, 2.0, 2.0, 4.0]
    assert embed("de", dimensions=2).shape == (2,)  # another dimensions value: a new entry
    assert len(calls) == 3


async def test_embedding_middleware_async(manager: CacheManager) -> None:
    """An async embed function gets an async wrapper with the same caching."""
    calls: list[Any] = []

    @EmbeddingMiddleware(EmbeddingCache(manager), model_id="m")
    async def aembed(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.eye(len(texts), 4, dtype=np.float64)

    first = await aembed(["x", "y"])
    second = await aembed(["y", "x", "z"])
    assert calls == [["x", "y"], ["z"]]
    assert np.array_equal(second[1], first[0])


def test_embedding_middleware_validation(manager: CacheManager) -> None:
    """A missing model id or a generator function is refused."""
    with pytest.raises(ValueError, match="model_id"):
        EmbeddingMiddleware(EmbeddingCache(manager))

    def gen(texts: Any) -> Any:
        yield texts

    with pytest.raises(TypeError, match="not generators"):
        EmbeddingMiddleware(EmbeddingCache(manager), model_id="m")(gen)


def test_retriever_middleware(manager: CacheManager) -> None:
    """Query + k + filters are keyed; repeated searches hit the cache."""
    calls: list[Any] = []
    rc = RetrievalCache(manager)

    @RetrieverMiddleware(rc, retriever_id="kb", top_k=4)
    def search(
        query: str, k: int = 4, filter: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        calls.append((query, k, filter))
        return [{"text": f"{query}#{i}", "metadata": {"filter": filter}} for i in range(k)]

    assert len(search("refunds")) == 4
    assert len(search("refunds")) == 4
    search("refunds", k=2)
    search("refunds", filter={"lang": "en"})
    search("refunds", filter={"lang": "en"})
    assert calls == [("refunds", 4, None), ("refunds", 2, None), ("refunds", 4, {"lang": "en"})]
    rc.invalidate_retriever("kb")
    search("refunds")
    assert len(calls) == 4


async def test_retriever_middleware_async(manager: CacheManager) -> None:
    """An async retriever gets an async wrapper; concurrent identical searches run once."""
    calls: list[str] = []

    @RetrieverMiddleware(RetrievalCache(manager), retriever_id="web")
    async def asearch(query: str, top_k: int = 3) -> list[str]:
        calls.append(query)
        await asyncio.sleep(0.02)
        return [query] * top_k

    out = await asyncio.gather(*(asearch("llm caching") for _ in range(4)))
    assert out == [["llm caching"] * 3] * 4
    assert calls == ["llm caching"]


def test_retriever_middleware_validation(manager: CacheManager) -> None:
    """retriever_id is required and the layer must be a RetrievalCache."""
    with pytest.raises(ValueError, match="retriever_id"):
        RetrieverMiddleware(RetrievalCache(manager))
    with pytest.raises(TypeError, match="RetrievalCache"):
        RetrieverMiddleware(EmbeddingCache(manager), retriever_id="x")  # type: ignore[arg-type]
