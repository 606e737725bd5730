"""The caching gateway, driven by the real OpenAI and Anthropic SDKs over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _gateway_servers import Served

from _ci import need
from omnicache_ai import CacheManager, InMemoryBackend, SemanticCache
from omnicache_ai.embedders import HashingEmbedder
from omnicache_ai.gateway import GatewayConfig, create_app
from omnicache_ai.testing import FlakyBackend
from omnicache_ai.testing.fake_provider import Upstream

openai = need("openai", extra="openai")
anthropic = need("anthropic", extra="anthropic")

QUESTION = [{"role": "user", "content": "What is 2+2?"}]


@pytest.fixture
def backend() -> FlakyBackend:
    """The gateway's cache backend, which a test may take down."""
    return FlakyBackend(InMemoryBackend())


@pytest.fixture
def gateway(upstream: Upstream, backend: FlakyBackend) -> Iterator[Served]:
    """The gateway on loopback, in front of the fake upstream."""
    config = GatewayConfig(upstream=upstream.url, admin_token="admin-secret", max_body_bytes=4096)
    app = create_app(config, CacheManager(backend=backend))
    with Served(app) as served:
        yield served


_CLIENTS: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every SDK client a test opened: a stream cut short leaves its socket open."""
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def _openai(gateway: Served, key: str = "sk-test-a") -> Any:
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    _CLIENTS.append(client)
    return client


def test_second_identical_chat_call_never_reaches_the_upstream(
    gateway: Served, upstream: Upstream
) -> None:
    """The SDK's second identical request is answered by the gateway, with HIT in a header."""
    client = _openai(gateway)
    first = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=QUESTION)
    second = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=QUESTION)
    assert upstream.count("/v1/chat/completions") == 1
    assert first.headers["x-omnicache-status"] == "MISS"
    assert second.headers["x-omnicache-status"] == "HIT"
    assert int(second.headers["x-omnicache-age"]) >= 0
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert "omnicache_written_at" not in second.text  # our bookkeeping is never sent


def test_changed_parameter_or_model_misses(gateway: Served, upstream: Upstream) -> None:
    """Temperature, model and tools are part of the key."""
    client = _openai(gateway)
    client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    client.chat.completions.create(model="gpt-4o", messages=QUESTION, temperature=0.2)
    client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    tool = {"type": "function", "function": {"name": "calc", "parameters": {"type": "object"}}}
    client.chat.completions.create(model="gpt-4o", messages=QUESTION, tools=[tool])
    assert upstream.count("/v1/chat/completions") == 4
    client.chat.completions.create(model="gpt-4o", messages=QUESTION, temperature=0.2)
    assert upstream.count("/v1/chat/completions") == 4


def test_two_api_keys_never_share_entries(gateway: Served, upstream: Upstream) -> None:
    """Entries are scoped by a hash of the caller's key; the key itself goes upstream only."""
    _openai(gateway, "sk-alice").chat.completions.create(model="gpt-4o", messages=QUESTION)
    _openai(gateway, "sk-bob").chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert upstream.count() == 2
    assert upstream.auth == ["Bearer sk-alice", "Bearer sk-bob"]
    _openai(gateway, "sk-alice").chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert upstream.count() == 2


def test_stream_is_relayed_then_replayed(gateway: Served, upstream: Upstream) -> None:
    """A streamed miss is stored once complete; the next identical stream is replayed."""
    client = _openai(gateway)

    def text(stream: Any) -> str:
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    live = text(client.chat.completions.create(model="gpt-4o", messages=QUESTION, stream=True))
    replayed = text(client.chat.completions.create(model="gpt-4o", messages=QUESTION, stream=True))
    assert upstream.count() == 1
    assert live == replayed == "answer 1 to What is 2+2?"
    # a non-streamed request is a different entry (a stream's chunks are not a response)
    client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert upstream.count() == 2


def test_incomplete_stream_is_not_stored(gateway: Served, upstream: Upstream) -> None:
    """A stream that ends without its terminal event is relayed but never replayed."""
    client = _openai(gateway)
    for _ in range(2):
        chunks = list(client.chat.completions.create(model="cut", messages=QUESTION, stream=True))
        assert chunks
    assert upstream.count() == 2


async def test_async_client_hits(gateway: Served, upstream: Upstream) -> None:
    """The async SDK client gets the same caching."""
    client = openai.AsyncOpenAI(base_url=gateway.url + "/v1", api_key="sk-x", max_retries=0)
    a = await client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    b = await client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    await client.close()
    assert upstream.count() == 1
    assert a.choices[0].message.content == b.choices[0].message.content


def test_truncated_and_failed_answers_are_not_stored(gateway: Served, upstream: Upstream) -> None:
    """A cut answer is served but not cached; an upstream error passes through unchanged."""
    client = _openai(gateway)
    for _ in range(2):
        client.chat.completions.create(model="gpt-4o", messages=QUESTION, max_tokens=1)
    assert upstream.count() == 2
    for _ in range(2):
        with pytest.raises(openai.NotFoundError, match="no such model"):
            client.chat.completions.create(model="broken", messages=QUESTION)
    assert upstream.count() == 4


def test_responses_api_whole_and_streamed(gateway: Served, upstream: Upstream) -> None:
    """``responses.create`` is cached too, streamed or not, with named SSE events replayed."""
    client = _openai(gateway)
    a = client.responses.create(model="gpt-4o", input="Name a prime.")
    b = client.responses.create(model="gpt-4o", input="Name a prime.")
    assert upstream.count() == 1
    assert a.output_text == b.output_text
    streams = []
    for _ in range(2):
        events = list(client.responses.create(model="gpt-4o", input="Name a prime.", stream=True))
        streams.append([e.type for e in events])
    assert upstream.count() == 2
    assert streams[0] == streams[1]
    assert streams[0][-1] == "response.completed"


def test_embeddings_are_cached_per_input(gateway: Served, upstream: Upstream) -> None:
    """Only inputs never seen go upstream; the answer keeps the request's order."""
    client = _openai(gateway)
    first = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
    second = client.embeddings.create(model="text-embedding-3-small", input=["beta", "gamma"])
    assert upstream.bodies[-1]["input"] == ["gamma"]
    assert upstream.count() == 2
    assert second.data[0].embedding == first.data[1].embedding
    client.embeddings.create(model="text-embedding-3-small", input=["gamma", "alpha"])
    assert upstream.count() == 2


def test_anthropic_messages_and_streams(gateway: Served, upstream: Upstream) -> None:
    """The Anthropic SDK: a repeated message and a repeated stream never reach the upstream."""
    client = anthropic.Anthropic(base_url=gateway.url, api_key="sk-ant-x", max_retries=0)
    _CLIENTS.append(client)
    kwargs: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 64, "messages": QUESTION}
    a = client.messages.create(**kwargs)
    b = client.messages.create(**kwargs)
    assert upstream.count() == 1
    assert a.content[0].text == b.content[0].text
    with client.messages.stream(**kwargs) as stream:
        live = stream.get_final_text()
    with client.messages.stream(**kwargs) as stream:
        replayed = stream.get_final_text()
    assert upstream.count() == 2
    assert live == replayed


def test_cache_down_still_answers(
    gateway: Served, upstream: Upstream, backend: FlakyBackend
) -> None:
    """With the cache backend down, every request goes upstream and succeeds."""
    client = _openai(gateway)
    client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    backend.down = True
    for _ in range(2):
        reply = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=QUESTION)
        assert reply.status_code == 200
    assert upstream.count() == 3
    assert backend.failures > 0
    backend.down = False
    client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert upstream.count() == 3  # the entry written before the outage is served again


def test_controls_bypass_no_store_and_tags(gateway: Served, upstream: Upstream) -> None:
    """Per-request headers: bypass, no-store, tags and the authenticated invalidation."""
    client = _openai(gateway)
    bypass = {"X-Omnicache-Bypass": "1"}
    client.chat.completions.create(model="gpt-4o", messages=QUESTION, extra_headers=bypass)
    client.chat.completions.create(model="gpt-4o", messages=QUESTION, extra_headers=bypass)
    assert upstream.count() == 2
    no_store = {"X-Omnicache-No-Store": "1"}
    client.chat.completions.create(model="gpt-4o", messages=QUESTION, extra_headers=no_store)
    tagged = {"X-Omnicache-Tags": "table:products"}
    client.chat.completions.create(model="gpt-4o", messages=QUESTION, extra_headers=tagged)
    client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert upstream.count() == 4
    bad = httpx.post(
        gateway.url + "/omnicache/invalidate",
        json={"tags": ["table:products"]},
        headers={"X-Omnicache-Admin-Token": "wrong", "Authorization": "Bearer sk-test-a"},
    )
    assert bad.status_code == 401
    ok = httpx.post(
        gateway.url + "/omnicache/invalidate",
        json={"tags": ["table:products"]},
        headers={"X-Omnicache-Admin-Token": "admin-secret", "Authorization": "Bearer sk-test-a"},
    )
    assert ok.status_code == 200
    client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert upstream.count() == 5


def test_health_readiness_metrics_and_limits(gateway: Served, upstream: Upstream) -> None:
    """Operational endpoints answer, and an oversized body is refused before going upstream."""
    assert httpx.get(gateway.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(gateway.url + "/readyz").status_code == 200
    _openai(gateway).chat.completions.create(model="gpt-4o", messages=QUESTION)
    metrics = httpx.get(gateway.url + "/metrics")
    assert metrics.status_code == 200
    assert "omnicache_" in metrics.text
    huge = [{"role": "user", "content": "x" * 5000}]
    reply = httpx.post(
        gateway.url + "/v1/chat/completions", json={"model": "gpt-4o", "messages": huge}
    )
    assert reply.status_code == 413
    assert upstream.count() == 1


@pytest.fixture
def semantic_gateway(upstream: Upstream) -> Iterator[Served]:
    """A gateway whose semantic tier uses a small offline embedder (no model download)."""
    manager = CacheManager(backend=InMemoryBackend())
    semantic = SemanticCache(manager, embedder=HashingEmbedder(dim=512), threshold=0.6)
    app = create_app(GatewayConfig(upstream=upstream.url), manager, semantic)
    with Served(app) as served:
        yield served


def test_semantic_matching_is_opt_in_per_request(
    semantic_gateway: Served, upstream: Upstream
) -> None:
    """A paraphrase is a SEMANTIC_HIT only when the request asks for it, and never across keys."""
    client = _openai(semantic_gateway)
    on = {"X-Omnicache-Semantic": "on"}
    asked = [{"role": "user", "content": "What is the capital city of France?"}]
    rephrased = [{"role": "user", "content": "what is the capital city of france"}]
    client.chat.completions.create(model="gpt-4o", messages=asked, extra_headers=on)
    off = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=rephrased)
    assert off.headers["x-omnicache-status"] == "MISS"  # semantic is off by default
    assert upstream.count() == 2
    again = [{"role": "user", "content": "What's the capital city of France?"}]
    hit = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=again, extra_headers=on
    )
    assert hit.headers["x-omnicache-status"] == "SEMANTIC_HIT"
    assert 0.6 <= float(hit.headers["x-omnicache-similarity"]) <= 1.0
    assert upstream.count() == 2
    other_key = _openai(semantic_gateway, "sk-someone-else").chat.completions.with_raw_response
    elsewhere = other_key.create(model="gpt-4o", messages=again, extra_headers=on)
    assert elsewhere.headers["x-omnicache-status"] == "MISS"  # another key's scope
    other_model = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=again, extra_headers=on
    )
    assert other_model.headers["x-omnicache-status"] == "MISS"  # never across models
    assert upstream.count() == 4


def test_semantic_threshold_header_is_checked(semantic_gateway: Served) -> None:
    """A threshold outside (0, 1] is a 400 that names the header."""
    reply = httpx.post(
        semantic_gateway.url + "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": QUESTION},
        headers={"X-Omnicache-Semantic": "on", "X-Omnicache-Threshold": "1.5"},
    )
    assert reply.status_code == 400
    assert "X-Omnicache-Threshold" in reply.text
