"""Middleware and @cached: wrap existing LLM, embedding and retrieval functions (offline).

Run: python examples/layer_middleware.py
"""

import asyncio

import numpy as np

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
    cached,
)

manager = CacheManager(key_builder=CacheKeyBuilder("mw-demo"))
response_cache = ResponseCache(manager)
key_builder = CacheKeyBuilder("mw-demo")
calls: list[str] = []


@LLMMiddleware(response_cache, key_builder, model_id="gpt-4o")
def call_llm(messages: list[dict[str, str]], temperature: float = 0.0) -> str:
    calls.append("llm")
    return f"answer to {messages[-1]['content']!r} at T={temperature}"


@AsyncLLMMiddleware(response_cache, key_builder, model_id="gpt-4o")
async def call_llm_async(messages: list[dict[str, str]]) -> str:
    calls.append("async llm")
    await asyncio.sleep(0.01)
    return "async answer"


@EmbeddingMiddleware(EmbeddingCache(manager), model_id="tiny-embed")
def embed(texts: list[str]) -> np.ndarray:
    calls.append(f"embed {texts}")
    return np.array([[len(t), t.count(" ")] for t in texts], dtype=np.float32)


@RetrieverMiddleware(RetrievalCache(manager), retriever_id="faq", top_k=2)
def search(query: str, k: int = 2) -> list[dict[str, object]]:
    calls.append("search")
    return [{"text": f"{query} #{i}", "metadata": {"rank": i}} for i in range(k)]


@cached(manager, ttl=60)
def tokenize(text: str):  # a generator: streamed once, replayed after
    calls.append("tokenize")
    yield from text.split()


q = [{"role": "user", "content": "What is RAG?"}]
print(call_llm(q), "|", call_llm(q), "|", call_llm(q, temperature=0.7))
# Same model + messages + parameters as a sync call above: the async wrapper shares its entry.
print(asyncio.run(call_llm_async(q)))
q2 = [{"role": "user", "content": "And what is a vector store?"}]
print(asyncio.run(call_llm_async(q2)), "|", asyncio.run(call_llm_async(q2)))
print(embed(["a b", "c", "a b"])[2], embed(["c", "d e f"])[1])
print(len(search("refund policy")), len(search("refund policy")))
print(list(tokenize("one two three")), list(tokenize("one two three")))
print("upstream calls:", calls)
