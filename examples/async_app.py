"""Async usage: many concurrent requests for the same missing key compute it once.

Run: python examples/async_app.py
"""

import asyncio

from omnicache_ai import AsyncInMemoryBackend, CacheManager

manager = CacheManager(backend=AsyncInMemoryBackend(max_size=10_000))
calls = 0


async def fetch_exchange_rate() -> float:
    global calls
    calls += 1
    await asyncio.sleep(0.3)  # a slow upstream
    return 1.0842


async def main() -> None:
    rates = await asyncio.gather(
        *(manager.aget_or_set("fx:EURUSD", fetch_exchange_rate, ttl=60) for _ in range(100))
    )
    print(f"100 concurrent requests -> {calls} upstream call, rate {rates[0]}")
    print("coalesced waiters:", manager.metrics.snapshot()["coalesced"])


asyncio.run(main())
