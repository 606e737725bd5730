"""Anthropic SDK: repeated Messages calls answered from omnicache, offline.

The real ``anthropic`` client talks to a local stand-in for the API (an
``httpx2.MockTransport`` answering like ``/v1/messages``, JSON or server-sent events), so
this runs without a key or a network. It also shows the provider prompt-cache accounting.

Needs the extra: pip install 'omnicache-ai[anthropic]'
Run: python examples/anthropic_adapter.py
"""

import asyncio
import json

import anthropic
import httpx2

from omnicache_ai import CacheKeyBuilder, CacheManager, InMemoryBackend
from omnicache_ai.adapters import cache_info
from omnicache_ai.adapters.anthropic_adapter import AsyncCachedAnthropic, CachedAnthropic

requests_seen: list[dict] = []
USAGE = {"input_tokens": 12, "output_tokens": 5, "cache_read_input_tokens": 2400}


def fake_api(request: httpx2.Request) -> httpx2.Response:
    """Answer like the Anthropic Messages API; count what would have been paid for."""
    body = json.loads(request.content)
    requests_seen.append(body)
    message = {
        "id": f"msg_{len(requests_seen)}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": USAGE,
    }
    if not body.get("stream"):
        message.update(content=[{"type": "text", "text": "4"}], stop_reason="end_turn")
        return httpx2.Response(200, json=message)
    events = [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *[
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}}
            for w in ["Two", " plus", " two", " is", " 4."]
        ],
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 5},
        },
        {"type": "message_stop"},
    ]
    sse = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=sse)


manager = CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("claude-demo"))
http = httpx2.Client(transport=httpx2.MockTransport(fake_api))
client = CachedAnthropic(
    anthropic.Anthropic(api_key="sk-ant-demo", http_client=http),
    manager,
    auto_cache_control=True,  # mark the long system prompt for Anthropic's own prompt cache
)
request = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 256,
    "system": "You are a meticulous maths tutor. Show no working. " * 200,
    "messages": [{"role": "user", "content": "What is 2+2?"}],
}

for attempt in range(2):
    msg = client.messages.create(**request)
    print(f"attempt {attempt}: {msg.content[0].text!r} hit={cache_info(msg).hit}")
print("breakpoint sent upstream:", requests_seen[0]["system"][0].get("cache_control"))

for attempt in range(2):
    with client.messages.stream(**request) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    print(f"stream {attempt}: {text!r}, final stop_reason={final.stop_reason}")


async def main() -> None:
    """The async client reads the same entries."""
    ahttp = httpx2.AsyncClient(transport=httpx2.MockTransport(fake_api))
    aclient = AsyncCachedAnthropic(
        anthropic.AsyncAnthropic(api_key="sk-ant-demo", http_client=ahttp), manager
    )
    msg = await aclient.messages.create(**request)
    print(f"async: {msg.content[0].text!r} hit={cache_info(msg).hit}")


asyncio.run(main())
snapshot = manager.metrics.snapshot()
print(f"requests that reached the API: {len(requests_seen)}")
print(f"provider prompt-cache tokens read: {snapshot['provider_cache_read_tokens']}")
print("per layer hits:", {k: v["hits"] for k, v in snapshot["layers"].items()})
