"""StreamingResponseCache: stream live once, replay from the cache after (runs offline).

Run: python examples/layer_streaming.py
"""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

from omnicache_ai import CacheManager, StreamingResponseCache

ANSWER = ["Retrieval", "-augmented ", "generation ", "grounds ", "answers ", "in documents."]


def fake_stream(messages: list[dict[str, str]]) -> Iterator[dict[str, object]]:
    """Stands in for client.chat.completions.create(..., stream=True)."""
    for piece in ANSWER:
        time.sleep(0.05)
        yield {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
    yield {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


async def fake_astream(messages: list[dict[str, str]]) -> AsyncIterator[str]:
    for piece in ANSWER:
        await asyncio.sleep(0.05)
        yield piece


def text(chunk: dict[str, object]) -> str:
    choices = chunk["choices"]
    assert isinstance(choices, list)
    return str(choices[0]["delta"].get("content") or "")


manager = CacheManager()
streams = StreamingResponseCache(manager, replay_delay=0.01)
messages = [{"role": "user", "content": "What is RAG?"}]

for label in ("live", "replay"):
    t0 = time.perf_counter()
    out = "".join(text(c) for c in streams.get_or_stream(messages, fake_stream, model_id="gpt-4o"))
    print(f"{label:6} {(time.perf_counter() - t0) * 1000:6.1f} ms  {out}")

# A consumer that stops early stores nothing.
for i, _ in enumerate(streams.get_or_stream(messages, fake_stream, model_id="gpt-4o-mini")):
    if i == 1:
        break
print("partial stream cached?", streams.get(messages, model_id="gpt-4o-mini") is not None)


async def main() -> None:
    for label in ("async live", "async replay"):
        t0 = time.perf_counter()
        pieces = [c async for c in streams.aget_or_stream(messages, fake_astream, model_id="m")]
        print(f"{label:12} {(time.perf_counter() - t0) * 1000:6.1f} ms  {''.join(pieces)}")


asyncio.run(main())
