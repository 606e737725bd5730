"""OpenAI SDK: repeated calls answered from omnicache, offline.

The real ``openai`` client talks to a local stand-in for the API (an ``httpx2.MockTransport``
that answers like the Chat Completions and Embeddings endpoints and counts requests), so
this runs without a key or a network.

Needs the extra: pip install 'omnicache-ai[openai]'
Run: python examples/openai_adapter.py
"""

import asyncio
import json

import httpx2
import openai

from omnicache_ai import CacheKeyBuilder, CacheManager, InMemoryBackend
from omnicache_ai.adapters import cache_info
from omnicache_ai.adapters.openai_adapter import AsyncCachedOpenAI, CachedOpenAI

requests_seen: list[str] = []


def fake_api(request: httpx2.Request) -> httpx2.Response:
    """Answer like the OpenAI API; every request that gets here would have been paid for."""
    body = json.loads(request.content)
    requests_seen.append(request.url.path)
    if request.url.path.endswith("/embeddings"):
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.0]}
            for i, t in enumerate(body["input"])
        ]
        usage = {"prompt_tokens": len(data), "total_tokens": len(data)}
        return httpx2.Response(
            200, json={"object": "list", "data": data, "model": body["model"], "usage": usage}
        )
    if body.get("stream"):
        base = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
        words = ["Two", " plus", " two", " is", " 4."]
        chunks = [
            {**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
            for w in words
        ]
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        sse = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=sse)
    return httpx2.Response(
        200,
        json={
            "id": f"chatcmpl-{len(requests_seen)}",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "4"},
                }
            ],
            "usage": {"prompt_tokens": 14, "completion_tokens": 1, "total_tokens": 15},
        },
    )


manager = CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("openai-demo"))
http = httpx2.Client(transport=httpx2.MockTransport(fake_api))
sdk = openai.OpenAI(api_key="sk-demo", http_client=http)
client = CachedOpenAI(sdk, manager)  # same API as openai.OpenAI
question = [{"role": "user", "content": "What is 2+2?"}]

for attempt in range(2):
    reply = client.chat.completions.create(model="gpt-4o", messages=question, user=f"u{attempt}")
    print(f"attempt {attempt}: {reply.choices[0].message.content!r} {cache_info(reply)}")

for attempt in range(2):
    stream = client.chat.completions.create(model="gpt-4o", messages=question, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    print(f"stream {attempt}: {text!r} hit={cache_info(stream).hit}")

vectors = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
vectors = client.embeddings.create(model="text-embedding-3-small", input=["beta", "gamma"])
info = cache_info(vectors)
print(f"embeddings: {len(vectors.data)} vectors, {info.hits} from cache, {info.misses} sent")


async def main() -> None:
    """The async client: same entries, same manager."""
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(fake_api))
    aclient = AsyncCachedOpenAI(openai.AsyncOpenAI(api_key="sk-demo", http_client=http), manager)
    reply = await aclient.chat.completions.create(model="gpt-4o", messages=question)
    print(f"async: {reply.choices[0].message.content!r} hit={cache_info(reply).hit}")


asyncio.run(main())
print(f"requests that reached the API: {len(requests_seen)} ({', '.join(requests_seen)})")
print("per layer:", {k: v["hits"] for k, v in manager.metrics.snapshot()["layers"].items()})
