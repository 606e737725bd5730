"""LlamaIndex: a cached LLM, query engine, embedder and ingestion pipeline, fully offline.

LlamaIndex's own MockLLM and MockEmbedding stand in for paid models; the counters show what
reached them. Needs the extra: pip install 'omnicache-ai[llamaindex]'
Run: python examples/llamaindex_example.py
"""

import asyncio
from typing import Any

from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.ingestion import IngestionCache, IngestionPipeline
from llama_index.core.llms import CompletionResponse, MockLLM
from llama_index.core.node_parser import SentenceSplitter

from omnicache_ai import CacheKeyBuilder, CacheManager, InMemoryBackend
from omnicache_ai.adapters.llamaindex_adapter import (
    LlamaIndexEmbeddingCacheAdapter,
    LlamaIndexKVStore,
    LlamaIndexLLMCacheAdapter,
    LlamaIndexQueryCacheAdapter,
)

calls = {"llm": 0, "embed": 0}


class PaidLLM(MockLLM):
    """LlamaIndex's MockLLM standing in for a paid model: counts the calls that reach it."""

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Count, then answer like MockLLM (chat and async calls come through here too)."""
        calls["llm"] += 1
        return super().complete(prompt, formatted=formatted, **kwargs)


class PaidEmbedding(MockEmbedding):
    """LlamaIndex's MockEmbedding standing in for a paid embedder."""

    def _get_text_embedding(self, text: str) -> list[float]:
        calls["embed"] += 1
        return super()._get_text_embedding(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        calls["embed"] += 1
        return super()._get_query_embedding(query)


manager = CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("li-demo"))

# 1. The LLM: any LlamaIndex LLM, wrapped; usable as Settings.llm.
Settings.llm = LlamaIndexLLMCacheAdapter(PaidLLM(max_tokens=8), manager)
# 2. The embedder: vectors computed once per text, kept in the manager's backend.
Settings.embed_model = LlamaIndexEmbeddingCacheAdapter(PaidEmbedding(embed_dim=8), manager)

docs = [
    Document(text="omnicache-ai caches LLM answers, embeddings and retrievals."),
    Document(text="LlamaIndex builds indexes and query engines over your documents."),
]

# 3. Ingestion: transformations cached in our store instead of LlamaIndex's in-memory one.
store = LlamaIndexKVStore(manager)
for run in range(2):
    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=64, chunk_overlap=0)],
        cache=IngestionCache(cache=store),
    )
    nodes = pipeline.run(documents=docs)
    print(f"ingestion run {run}: {len(nodes)} nodes")

# 4. A real index and query engine; the second identical query reaches no model at all.
index = VectorStoreIndex(nodes)
engine = LlamaIndexQueryCacheAdapter(index.as_query_engine(), manager, engine_id="docs-v1")
for attempt in range(2):
    before = dict(calls)
    response = engine.query("What does omnicache-ai cache?")
    spent = (calls["llm"] - before["llm"], calls["embed"] - before["embed"])
    print(
        f"query {attempt}: {len(response.source_nodes)} sources, "
        f"LLM calls {spent[0]}, embedding calls {spent[1]}"
    )


async def main() -> None:
    """aquery and acomplete read the same entries."""
    before = calls["llm"]
    await engine.aquery("What does omnicache-ai cache?")
    print(f"aquery: LLM calls {calls['llm'] - before} (served from the cache)")
    first = await Settings.llm.acomplete("Say hello")
    again = await Settings.llm.acomplete("Say hello")
    print(
        f"acomplete twice: same text {first.text == again.text}, LLM calls {calls['llm'] - before}"
    )


asyncio.run(main())
layers = manager.metrics.snapshot()["layers"]
print({name: (s["hits"], s["misses"]) for name, s in layers.items()})
