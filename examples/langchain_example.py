"""LangChain: answer repeated prompts from omnicache, offline, with LangChain's fake chat model.

Needs the extra: pip install 'omnicache-ai[langchain]'
Run: python examples/langchain_example.py
"""

import asyncio
import time

from langchain_core.globals import set_llm_cache
from langchain_core.language_models import FakeListChatModel

from omnicache_ai import CacheKeyBuilder, CacheManager, InMemoryBackend
from omnicache_ai.adapters.langchain_adapter import LangChainCacheAdapter

manager = CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("lc-demo"))
cache = LangChainCacheAdapter(manager, ttl=600)
set_llm_cache(cache)  # every LangChain model in this process now reads through omnicache

# FakeListChatModel answers from its list in order and sleeps `sleep` seconds per call,
# standing in for a paid API: a cache hit returns the first answer again, instantly.
model = FakeListChatModel(responses=["4", "a different answer"], sleep=0.2)

for attempt in range(2):
    t0 = time.perf_counter()
    reply = model.invoke("What is 2+2?")
    print(f"attempt {attempt}: {reply.content!r} in {(time.perf_counter() - t0) * 1000:.1f} ms")


async def main() -> None:
    """The async API reads the same entries through the adapter's async methods."""
    reply = await model.ainvoke("What is 2+2?")
    print(f"ainvoke: {reply.content!r} (from cache)")
    await cache.aclear()  # retires only LangChain's entries, not other layers'
    reply = await model.ainvoke("What is 2+2?")
    print(f"after aclear: {reply.content!r} (the model was called again)")


asyncio.run(main())
print(manager.metrics.snapshot())
