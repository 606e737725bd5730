"""PromptCacheLayer: Anthropic cache_control breakpoints and provider-cache savings (offline).

Run: python examples/layer_prompt_cache.py
"""

import json

from omnicache_ai import CacheManager, PromptCacheLayer

manager = CacheManager()
pc = PromptCacheLayer(manager)

request = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "tools": [
        {
            "name": "lookup_clause",
            "description": "Finds a clause in the firm's precedent database. " * 90,
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
        }
    ],
    "system": "You review supply contracts and cite clauses precisely. " * 120,
    "messages": [{"role": "user", "content": "Does clause 4.2 allow late delivery?"}],
}

for bp in pc.plan(request):
    print(f"marker after {bp.part}[{bp.index}] caches ~{bp.prefix_tokens} tokens")
prepared = pc.prepare(request)
print("system block:", json.dumps(prepared["system"][0]["cache_control"]))
print("caller's request untouched:", isinstance(request["system"], str))

# What client.messages.create(**prepared) returns on the second call (prefix read from cache):
response = {
    "model": "claude-sonnet-4-5",
    "usage": {"input_tokens": 14, "output_tokens": 120, "cache_read_input_tokens": 2900},
}
print(pc.record_usage(response))
print(manager.metrics.snapshot()["layers"]["prompt"])
