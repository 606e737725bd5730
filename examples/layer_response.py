"""ResponseCache: cache chat answers by model + messages + parameters (runs offline).

Run: python examples/layer_response.py
"""

import time

from omnicache_ai import CacheKeyBuilder, CacheManager, InMemoryBackend, ResponseCache


def fake_llm(messages: list[dict[str, str]]) -> dict[str, object]:
    """Stands in for client.chat.completions.create(...): slow, and it reports usage."""
    time.sleep(0.3)
    question = messages[-1]["content"]
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": f"You asked: {question!r}"},
            }
        ],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 80},
    }


manager = CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("demo"))
cache = ResponseCache(manager)
messages = [
    {"role": "system", "content": "You are concise."},
    {"role": "user", "content": "What is retrieval-augmented generation?"},
]

for label, params in [
    ("first call", {"temperature": 0.2, "seed": 7}),
    ("same request", {"temperature": 0.2, "seed": 7, "stream": False, "timeout": 30}),
    ("other temperature", {"temperature": 0.9, "seed": 7}),
]:
    t0 = time.perf_counter()
    answer = cache.get_or_generate(messages, fake_llm, model_id="gpt-4o", params=params)
    ms = (time.perf_counter() - t0) * 1000
    print(f"{label:18} {ms:7.2f} ms  {answer['choices'][0]['message']['content']}")

truncated = {"choices": [{"finish_reason": "length", "message": {"content": "RAG is"}}]}
print("truncated answer stored?", cache.set(messages, truncated, model_id="gpt-4o"))
print("savings:", manager.metrics.snapshot()["layers"]["response"])
print("invalidated", cache.invalidate_model("gpt-4o"), "gpt-4o entries")
