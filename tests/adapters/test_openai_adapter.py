"""The OpenAI adapter in front of the real openai SDK, talking to an offline fake API.

Every test drives ``openai.OpenAI`` / ``openai.AsyncOpenAI`` over an ``httpx2.MockTransport``
(the SDK's own HTTP stack, real JSON and SSE bodies) and counts the requests that reached it.
Most tests run twice, with the sync and the async client, through one harness.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from _ci import need

openai = need("openai", extra="openai")

from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from _sdk_fakes import FakeOpenAI, vector_of
from omnicache_ai import CacheManager, SemanticCache
from omnicache_ai.adapters import cache_info
from omnicache_ai.adapters.openai_adapter import (
    AsyncCachedOpenAI,
    CachedOpenAI,
    OpenAICacheAdapter,
    wrap,
)
from omnicache_ai.embedders import HashingEmbedder

Q = [{"role": "user", "content": "What is 2+2?"}]
CHAT = {"model": "gpt-4o", "messages": Q}


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class Harness:
    """One cached client (sync or async) over one fake API; awaits only when it must."""

    def __init__(self, is_async: bool, manager: CacheManager | None = None, **opts: Any) -> None:
        self.fake = FakeOpenAI(is_async=is_async)
        self.manager = manager or CacheManager()
        self.client = wrap(self.fake.client(), self.manager, **opts)

    async def chat(self, **kw: Any) -> Any:
        return await _resolve(self.client.chat.completions.create(**kw))

    async def responses(self, **kw: Any) -> Any:
        return await _resolve(self.client.responses.create(**kw))

    async def embed(self, **kw: Any) -> Any:
        return await _resolve(self.client.embeddings.create(**kw))

    @staticmethod
    async def drain(stream: Any, limit: int | None = None) -> list[Any]:
        out: list[Any] = []
        if hasattr(stream, "__aiter__"):
            async for item in stream:
                out.append(item)
                if limit is not None and len(out) == limit:
                    await stream.close()
                    break
        else:
            for item in stream:
                out.append(item)
                if limit is not None and len(out) == limit:
                    stream.close()
                    break
        return out

    async def stream(self, **kw: Any) -> tuple[Any, list[Any]]:
        s = await self.chat(stream=True, **kw)
        return s, await self.drain(s)


@pytest.fixture(params=["sync", "async"])
def h(request: pytest.FixtureRequest) -> Harness:
    return Harness(request.param == "async")


def text(c: Any) -> str:
    return str(c.choices[0].message.content)


# ---- chat completions ----------------------------------------------------------------------


async def test_second_identical_call_does_not_reach_the_api(h: Harness) -> None:
    """The second identical create() is served from the cache as the SDK's ChatCompletion."""
    first = await h.chat(**CHAT)
    second = await h.chat(**CHAT)
    assert h.fake.calls == 1
    assert isinstance(second, ChatCompletion)
    assert second == first
    assert text(second) == "answer #1"


@pytest.mark.parametrize(
    "change",
    [
        {"model": "gpt-4o-mini"},
        {"temperature": 0.2},
        {"tools": [{"type": "function", "function": {"name": "add", "parameters": {}}}]},
        {"tool_choice": "required", "tools": [{"type": "function", "function": {"name": "f"}}]},
        {"response_format": {"type": "json_object"}},
        {"seed": 7},
        {"top_p": 0.5},
        {"extra_body": {"reasoning": {"effort": "high"}}},
        {"messages": [{"role": "user", "content": "What is 3+3?"}]},
    ],
    ids=",".join,
)
async def test_a_changed_parameter_misses(h: Harness, change: dict[str, Any]) -> None:
    """Model, sampling, tools, response_format, seed and extra_body are part of the key."""
    await h.chat(**CHAT)
    changed = await h.chat(**{**CHAT, **change})
    assert h.fake.calls == 2
    assert text(changed) == "answer #2"
    assert cache_info(changed) is not None
    assert not cache_info(changed).hit


@pytest.mark.parametrize(
    "volatile",
    [
        {"user": "someone-else"},
        {"timeout": 12.5},
        {"extra_headers": {"X-Trace": "abc"}},
        {"metadata": {"run": "42"}},
        {"temperature": 1},  # the documented default
    ],
    ids=",".join,
)
async def test_volatile_arguments_share_the_entry(h: Harness, volatile: dict[str, Any]) -> None:
    """user, timeouts, headers, metadata and explicit defaults do not split the cache."""
    await h.chat(**CHAT)
    again = await h.chat(**CHAT, **volatile)
    assert h.fake.calls == 1
    assert cache_info(again) is not None
    assert cache_info(again).hit


async def test_hit_is_visible_and_counted_per_layer(h: Harness) -> None:
    """cache_info() and ._omnicache tell a hit from a miss; metrics count the response layer."""
    miss = await h.chat(**CHAT)
    hit = await h.chat(**CHAT)
    assert cache_info(miss).hit is False  # type: ignore[union-attr]
    assert cache_info(hit).hit is True  # type: ignore[union-attr]
    assert hit._omnicache.layer == "response"
    layer = h.manager.metrics.snapshot()["layers"]["response"]
    assert layer["hits"] == 1
    assert "_omnicache" not in hit.model_dump_json()


async def test_http_error_propagates_unchanged_and_is_not_cached(h: Harness) -> None:
    """An upstream 5xx raises the SDK's own error; the next call reaches the API again."""
    h.fake.status = 503
    with pytest.raises(openai.InternalServerError):
        await h.chat(**CHAT)
    h.fake.status = 200
    ok = await h.chat(**CHAT)
    assert h.fake.calls == 2
    assert text(ok) == "answer #2"


@pytest.mark.parametrize(
    ("knob", "value"), [("refusal", "I can't help"), ("finish_reason", "length")]
)
async def test_refusals_and_truncated_answers_are_returned_not_stored(
    h: Harness, knob: str, value: str
) -> None:
    """A refusal or an answer cut by max_tokens reaches the caller but never the cache."""
    setattr(h.fake, knob, value)
    first = await h.chat(**CHAT)
    assert isinstance(first, ChatCompletion)
    await h.chat(**CHAT)
    assert h.fake.calls == 2


async def test_drop_in_passes_everything_else_through(h: Harness) -> None:
    """Attributes that are not intercepted are the SDK client's own; with_options stays cached."""
    real = h.client._target
    assert h.client.models is real.models
    assert h.client.chat.completions.with_raw_response is not None
    await h.chat(**CHAT)
    tuned = h.client.with_options(timeout=30)
    again = await _resolve(tuned.chat.completions.create(**CHAT))
    assert h.fake.calls == 1
    assert cache_info(again).hit  # type: ignore[union-attr]


# ---- streaming -----------------------------------------------------------------------------


async def test_stream_is_replayed_with_the_same_chunks_and_usage(h: Harness) -> None:
    """A cached stream replays the same ChatCompletionChunk sequence, usage chunk included."""
    opts = {"stream_options": {"include_usage": True}}
    live, first = await h.stream(**CHAT, **opts)
    replay, second = await h.stream(**CHAT, **opts)
    assert h.fake.calls == 1
    assert cache_info(live).hit is False  # type: ignore[union-attr]
    assert cache_info(replay).hit is True  # type: ignore[union-attr]
    assert live.response is not None
    assert replay.response is None
    assert second == first
    assert all(isinstance(c, ChatCompletionChunk) for c in second)
    assert second[-1].usage is not None
    assert second[-1].usage.completion_tokens == 4
    assert "".join(c.choices[0].delta.content or "" for c in second if c.choices) == (
        "The answer is 4."
    )


async def test_stream_with_usage_does_not_answer_one_without(h: Harness) -> None:
    """include_usage is the one stream option in the key: a replay must match the chunks asked."""
    await h.stream(**CHAT)
    _, chunks = await h.stream(**CHAT, stream_options={"include_usage": True})
    assert h.fake.calls == 2
    assert chunks[-1].usage is not None


async def test_stream_and_plain_call_do_not_share_entries(h: Harness) -> None:
    """A stored stream never answers a non-streamed call (different types), nor the reverse."""
    await h.stream(**CHAT)
    plain = await h.chat(**CHAT)
    assert isinstance(plain, ChatCompletion)
    assert h.fake.calls == 2


async def test_stream_abandoned_midway_is_not_stored(h: Harness) -> None:
    """A consumer that stops reading and closes the stream stores nothing."""
    s = await h.chat(**CHAT, stream=True)
    assert len(await h.drain(s, limit=2)) == 2
    _, full = await h.stream(**CHAT)
    assert h.fake.calls == 2
    _, again = await h.stream(**CHAT)
    assert h.fake.calls == 2  # the complete one was stored
    assert again == full


async def test_stream_broken_by_the_network_is_not_stored(h: Harness) -> None:
    """A stream cut by a read error raises what the SDK raises and leaves no entry."""
    h.fake.break_after = 3
    # openai 3.x wraps the transport error in APIConnectionError; 2.x lets httpx's through.
    with pytest.raises((openai.APIConnectionError, h.fake.http.ReadError)):
        await h.stream(**CHAT)
    h.fake.break_after = None
    _, chunks = await h.stream(**CHAT)
    assert h.fake.calls == 2
    assert len(chunks) == 6


async def test_stream_ending_in_an_error_event_is_not_stored(h: Harness) -> None:
    """An SSE error event raises the SDK's APIError and the stream is not cached."""
    h.fake.error_event = True
    with pytest.raises(openai.APIError):
        await h.stream(**CHAT)
    h.fake.error_event = False
    await h.stream(**CHAT)
    assert h.fake.calls == 2


async def test_stream_http_error_raises_at_create(h: Harness) -> None:
    """As with the SDK, an HTTP error of a streamed call is raised by create() itself."""
    h.fake.status = 500
    with pytest.raises(openai.InternalServerError):
        await h.chat(**CHAT, stream=True)


async def test_truncated_stream_is_not_stored(h: Harness) -> None:
    """A stream whose finish_reason is length is passed through, not cached."""
    h.fake.finish_reason = "length"
    await h.stream(**CHAT)
    await h.stream(**CHAT)
    assert h.fake.calls == 2


# ---- embeddings ----------------------------------------------------------------------------


async def test_embeddings_send_only_the_misses_and_keep_order(h: Harness) -> None:
    """Each input is its own entry: only misses go upstream, in one request, order kept."""
    first = await h.embed(model="text-embedding-3-small", input=["alpha", "beta"])
    assert [d.embedding for d in first.data] == [vector_of("alpha"), vector_of("beta")]
    mixed = await h.embed(model="text-embedding-3-small", input=["beta", "gamma", "alpha"])
    assert h.fake.calls == 2
    assert h.fake.requests[-1]["input"] == ["gamma"]
    assert isinstance(mixed, CreateEmbeddingResponse)
    assert [d.index for d in mixed.data] == [0, 1, 2]
    assert [d.embedding for d in mixed.data] == [vector_of(t) for t in ("beta", "gamma", "alpha")]
    info = cache_info(mixed)
    assert info is not None
    assert (info.hit, info.hits, info.misses) == (False, 2, 1)
    hit = await h.embed(model="text-embedding-3-small", input="gamma")
    assert h.fake.calls == 2
    assert cache_info(hit).hit
    assert hit.usage.prompt_tokens == 0
    assert hit.data[0].embedding == vector_of("gamma")


async def test_embeddings_key_on_model_and_dimensions(h: Harness) -> None:
    """Another model or another dimensions value is another vector."""
    await h.embed(model="text-embedding-3-small", input=["x"])
    await h.embed(model="text-embedding-3-large", input=["x"])
    short = await h.embed(model="text-embedding-3-small", input=["x"], dimensions=2)
    assert h.fake.calls == 3
    assert len(short.data[0].embedding) == 2


async def test_embeddings_base64_format_round_trips(h: Harness) -> None:
    """encoding_format='base64' is answered in base64, from the same entries as floats."""
    floats = await h.embed(model="m", input=["hello"])
    b64 = await h.embed(model="m", input=["hello"], encoding_format="base64")
    assert h.fake.calls == 1
    import base64

    import numpy as np

    decoded = np.frombuffer(base64.b64decode(b64.data[0].embedding), dtype="<f4").tolist()
    assert decoded == floats.data[0].embedding


async def test_token_array_inputs_go_straight_upstream(h: Harness) -> None:
    """Token-id inputs are not text keys: they are sent uncached."""
    await h.embed(model="m", input=[[1, 2, 3]])
    await h.embed(model="m", input=[[1, 2, 3]])
    assert h.fake.calls == 2


# ---- responses API -------------------------------------------------------------------------


async def test_responses_api_is_cached(h: Harness) -> None:
    """responses.create: the second identical call returns the SDK's Response from the cache."""
    first = await h.responses(model="gpt-4o", input="Say 4", instructions="Be terse")
    second = await h.responses(model="gpt-4o", input="Say 4", instructions="Be terse")
    other = await h.responses(model="gpt-4o", input="Say 4", instructions="Be verbose")
    assert h.fake.calls == 2
    assert isinstance(second, Response)
    assert second == first
    assert second.output_text == "The answer is 4."
    assert cache_info(second).hit
    assert not cache_info(other).hit


async def test_responses_and_chat_with_the_same_prompt_do_not_collide(h: Harness) -> None:
    """The same model and prompt through two APIs are two entries (two answer types)."""
    await h.chat(model="gpt-4o", messages=Q)
    answer = await h.responses(model="gpt-4o", input=Q)
    assert isinstance(answer, Response)
    assert h.fake.calls == 2


async def test_responses_stream_is_replayed(h: Harness) -> None:
    """A streamed Responses call replays the same typed event sequence."""
    s1 = await h.responses(model="gpt-4o", input="hi", stream=True)
    first = await h.drain(s1)
    s2 = await h.responses(model="gpt-4o", input="hi", stream=True)
    second = await h.drain(s2)
    assert h.fake.calls == 1
    assert second == first
    assert next(e.type for e in second) == "response.created"
    assert [e.type for e in second][-1] == "response.completed"


async def test_responses_with_a_conversation_are_not_cached(h: Harness) -> None:
    """A server-side conversation changes between calls: those calls always go upstream."""
    await h.responses(model="gpt-4o", input="next?", conversation="conv_1")
    await h.responses(model="gpt-4o", input="next?", conversation="conv_1")
    assert h.fake.calls == 2


# ---- semantic, tenants, adapter API --------------------------------------------------------


async def test_semantic_matching_is_opt_in(h: Harness) -> None:
    """Without a SemanticCache a paraphrase misses; with one it is served, flagged semantic."""
    para = [{"role": "user", "content": "what is the capital of France"}]
    orig = [{"role": "user", "content": "What is the capital of France?"}]
    await h.chat(model="gpt-4o", messages=orig)
    await h.chat(model="gpt-4o", messages=para)
    assert h.fake.calls == 2

    is_async = h.fake.is_async
    sem = SemanticCache(embedder=HashingEmbedder(), threshold=0.8)
    h2 = Harness(is_async, semantic=sem)
    await h2.chat(model="gpt-4o", messages=orig)
    hit = await h2.chat(model="gpt-4o", messages=para)
    assert h2.fake.calls == 1
    info = cache_info(hit)
    assert info is not None
    assert info.hit
    assert info.layer == "semantic"
    assert info.similarity is not None
    assert 0.8 <= info.similarity <= 1.0
    other_model = await h2.chat(model="gpt-4o-mini", messages=para)
    assert not cache_info(other_model).hit  # type: ignore[union-attr]
    # Volatile arguments (a timeout object, the end user) do not split the semantic partition.
    para2 = [{"role": "user", "content": "WHAT is the capital of France"}]
    again = await h2.chat(model="gpt-4o", messages=para2, user="u-7", timeout=openai.Timeout(9.0))
    assert cache_info(again).layer == "semantic"  # type: ignore[union-attr]
    assert h2.fake.calls == 2


async def test_tenants_do_not_share_entries(h: Harness) -> None:
    """Two adapters on two tenant views of one manager never serve each other's answers."""
    root = CacheManager()
    a = Harness(h.fake.is_async, root.for_tenant("acme"))
    b = Harness(h.fake.is_async, root.for_tenant("globex"))
    b.fake = a.fake
    b.client = wrap(a.fake.client(), root.for_tenant("globex"))
    await a.chat(**CHAT)
    await b.chat(**CHAT)
    again = await a.chat(**CHAT)
    assert a.fake.calls == 2
    assert cache_info(again).hit  # type: ignore[union-attr]


def test_adapter_api_as_in_the_readme() -> None:
    """OpenAICacheAdapter(client, manager).chat_create(...) caches (sync client)."""
    fake = FakeOpenAI()
    adapter = OpenAICacheAdapter(fake.client(), CacheManager())
    r1 = adapter.chat_create(model="gpt-4o", messages=[{"role": "user", "content": "Hello"}])
    r2 = adapter.chat_create(model="gpt-4o", messages=[{"role": "user", "content": "Hello"}])
    assert fake.calls == 1
    assert r1 == r2


async def test_async_adapter_api_as_in_the_readme() -> None:
    """OpenAICacheAdapter(async_client, manager).achat_create(...) caches."""
    fake = FakeOpenAI(is_async=True)
    adapter = OpenAICacheAdapter(fake.client(), CacheManager())
    await adapter.achat_create(**CHAT)
    r2 = await adapter.achat_create(**CHAT)
    assert fake.calls == 1
    assert cache_info(r2).hit


def test_wrong_client_kind_is_a_clear_error() -> None:
    """A sync method on an async client (and the reverse) names the method to use."""
    adapter = OpenAICacheAdapter(FakeOpenAI(is_async=True).client(), CacheManager())
    with pytest.raises(TypeError, match=r"use achat_create\(\)"):
        adapter.chat_create(**CHAT)
    with pytest.raises(TypeError, match="AsyncCachedOpenAI"):
        AsyncCachedOpenAI(FakeOpenAI().client(), CacheManager())
    with pytest.raises(TypeError, match=r"openai\.OpenAI"):
        OpenAICacheAdapter(object(), CacheManager())  # type: ignore[arg-type]


def test_drop_in_builds_its_own_client() -> None:
    """CachedOpenAI(manager=..., **openai_kwargs) builds the SDK client itself."""
    client = CachedOpenAI(manager=CacheManager(), api_key="sk-test", base_url="http://127.0.0.1:9")
    assert isinstance(client._target, openai.OpenAI)
    assert str(client.base_url).startswith("http://127.0.0.1:9")


async def test_a_cache_outage_never_breaks_the_call(h: Harness) -> None:
    """With the backend down every call, streamed or not, still reaches the API and returns."""
    from omnicache_ai import InMemoryBackend
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    down = Harness(h.fake.is_async, CacheManager(backend=flaky))
    flaky.down = True
    reply = await down.chat(**CHAT)
    _, chunks = await down.stream(**CHAT)
    vectors = await down.embed(model="m", input=["a", "b"])
    assert text(reply) == "answer #1"
    assert len(chunks) == 6
    assert len(vectors.data) == 2
    assert down.fake.calls == 3
    assert flaky.failures > 0
    assert down.manager.metrics.snapshot()["errors"] > 0


async def test_concurrent_identical_calls_reach_the_api_once() -> None:
    """Concurrent identical async calls, plain or streamed, make one upstream request each."""
    import asyncio

    fake = FakeOpenAI(is_async=True)
    client = AsyncCachedOpenAI(fake.client(), CacheManager())
    replies = await asyncio.gather(*(client.chat.completions.create(**CHAT) for _ in range(5)))
    assert fake.calls == 1
    assert {text(r) for r in replies} == {"answer #1"}

    async def read() -> list[Any]:
        stream = await client.chat.completions.create(**CHAT, stream=True)
        return [c async for c in stream]

    streams = await asyncio.gather(*(read() for _ in range(5)))
    assert fake.calls == 2
    assert all(s == streams[0] for s in streams)


_SHARED_STORE_RUN = """
import sys
sys.path.insert(0, {tests!r})
from _sdk_fakes import FakeOpenAI
from omnicache_ai import CacheManager
from omnicache_ai.backends.disk_backend import DiskBackend
from omnicache_ai.adapters.openai_adapter import CachedOpenAI
fake = FakeOpenAI()
client = CachedOpenAI(fake.client(), CacheManager(backend=DiskBackend({path!r})))
q = [{{"role": "user", "content": "hi"}}]
reply = client.chat.completions.create(model="gpt-4o", messages=q)
chunks = list(client.chat.completions.create(model="gpt-4o", messages=q, stream=True))
answer = client.responses.create(model="gpt-4o", input="hi")
events = list(client.responses.create(model="gpt-4o", input="hi", stream=True))
vectors = client.embeddings.create(model="te", input=["x", "y"])
print(fake.calls, reply.choices[0].message.content, len(chunks), answer.output_text,
      [type(e).__name__ for e in events][-1], len(vectors.data))
"""


@pytest.mark.slow
def test_a_second_process_reads_every_answer_type_from_a_shared_store(tmp_path: Any) -> None:
    """SDK objects written by one process are rebuilt by another (disk backend, safe serializer)."""
    import subprocess
    import sys
    from pathlib import Path

    code = _SHARED_STORE_RUN.format(
        tests=str(Path(__file__).resolve().parents[1]), path=str(tmp_path / "cache")
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    first, second = (run.stdout.split() for run in runs)
    assert first[0] == "5"
    assert second[0] == "0"  # every call answered from the store the first process wrote
    assert first[1:] == second[1:]
    assert "decode failed" not in runs[1].stderr
