"""RetrievalCache: documents with metadata by query + retriever + top-k (runs offline).

Run: python examples/layer_retrieval.py
"""

from dataclasses import dataclass

from omnicache_ai import CacheManager, RetrievalCache


@dataclass
class Document:
    page_content: str
    metadata: dict[str, object]


CORPUS = [
    Document("RAG retrieves documents and feeds them to the model.", {"source": "rag.md"}),
    Document("Embeddings map text to vectors.", {"source": "embeddings.md"}),
    Document("Vector stores answer nearest-neighbour queries.", {"source": "stores.md"}),
]
searches: list[str] = []


def similarity_search(query: str, k: int = 2) -> list[Document]:
    """Stands in for vectorstore.similarity_search: naive word overlap."""
    searches.append(query)
    words = set(query.lower().split())
    ranked = sorted(CORPUS, key=lambda d: -len(words & set(d.page_content.lower().split())))
    return ranked[:k]


ret = RetrievalCache(CacheManager())
for _ in range(2):
    docs = ret.get_or_retrieve(
        query="how do vector stores work",
        retrieve_fn=lambda q: similarity_search(q, k=2),
        retriever_id="docs-index",
        top_k=2,
    )
print("searches run:", len(searches))
print([(type(d).__name__, d.metadata["source"]) for d in docs])
ret.invalidate_retriever("docs-index")  # e.g. after re-indexing
print(
    "after invalidation:", ret.get("how do vector stores work", retriever_id="docs-index", top_k=2)
)
