"""Quick start: cache an expensive function's result, with tags and metrics.

Run: python examples/quickstart.py
"""

import time

from omnicache_ai import CacheKeyBuilder, CacheManager, InMemoryBackend

manager = CacheManager(
    backend=InMemoryBackend(max_size=10_000), key_builder=CacheKeyBuilder("demo")
)


def slow_lookup(user_id: int) -> dict[str, object]:
    time.sleep(0.2)  # stands in for an API call
    return {"user": user_id, "plan": "pro"}


for attempt in range(3):
    t0 = time.perf_counter()
    profile = manager.get_or_set(
        f"profile:{42}", lambda: slow_lookup(42), ttl=300, tags=["user:42"]
    )
    print(f"attempt {attempt}: {profile} in {(time.perf_counter() - t0) * 1000:.2f} ms")

print("invalidated", manager.invalidate("user:42"), "entry")
print("after invalidation:", manager.get("profile:42"))
print(manager.metrics.snapshot())
