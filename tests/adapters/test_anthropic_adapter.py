"""The Anthropic adapter in front of the real anthropic SDK, talking to an offline fake API.

The SDK's ``Anthropic`` / ``AsyncAnthropic`` clients run over an ``httpx2.MockTransport``
that answers with real Messages JSON and SSE event sequences and counts requests. Most tests
run with the sync and the async client through one harness.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import pytest

from _ci import need

anthropic = need("anthropic", extra="anthropic")

from anthropic.types import Message, RawContentBlockDeltaEvent, RawMessageStartEvent

from _sdk_fakes import FakeAnthropic
from omnicache_ai import CacheManager, PromptCacheLayer, SemanticCache
from omnicache_ai.adapters import cache_info
from omnicache_ai.adapters.anthropic_adapter import (
    AnthropicCacheAdapter,
    AsyncCachedAnthropic,
    CachedAnthropic,
    wrap,
)
from omnicache_ai.embedders import HashingEmbedder

MODEL = "claude-sonnet-4-6"
Q = [{"role": "user", "content": "What is 2+2?"}]
CALL: dict[str, Any] = {"model": MODEL, "max_tokens": 256, "messages": Q}
LONG_SYSTEM = "You are a careful contract lawyer. Answer in one line. " * 300


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class Harness:
    """One cached client (sync or async) over one fake API."""

    def __init__(self, is_async: bool, manager: CacheManager | None = None, **opts: Any) -> None:
        self.fake = FakeAnthropic(is_async=is_async)
        self.manager = manager or CacheManager()
        self.client = wrap(self.fake.client(), self.manager, **opts)

    async def create(self, **kw: Any) -> Any:
        return await _resolve(self.client.messages.create(**kw))

    async def events(self, limit: int | None = None, **kw: Any) -> tuple[Any, list[Any]]:
        stream = await self.create(stream=True, **kw)
        out: list[Any] = []
        if hasattr(stream, "__aiter__"):
            async for event in stream:
                out.append(event)
                if limit is not None and len(out) == limit:
                    await stream.close()
                    break
        else:
            for event in stream:
                out.append(event)
                if limit is not None and len(out) == limit:
                    stream.close()
                    break
        return stream, out

    async def helper_stream(self, **kw: Any) -> tuple[list[str], str, Message]:
        """messages.stream(...): event types, text and final message."""
        manager = self.client.messages.stream(**kw)
        if hasattr(manager, "__aenter__"):
            async with manager as stream:
                types = [e.type async for e in stream]
                final = await stream.get_final_message()
        else:
            with manager as stream:
                types = [e.type for e in stream]
                final = stream.get_final_message()
        return types, "".join(b.text for b in final.content if b.type == "text"), final


@pytest.fixture(params=["sync", "async"])
def h(request: pytest.FixtureRequest) -> Harness:
    return Harness(request.param == "async")


async def test_second_identical_call_does_not_reach_the_api(h: Harness) -> None:
    """The second identical messages.create() returns the cached SDK Message."""
    first = await h.create(**CALL)
    second = await h.create(**CALL)
    assert h.fake.calls == 1
    assert isinstance(second, Message)
    assert second == first
    assert second.content[0].text == "answer #1"
    assert cache_info(first).hit is False
    assert cache_info(second).hit is True


@pytest.mark.parametrize(
    "change",
    [
        {"model": "claude-opus-4-6"},
        {"output_config": {"effort": "low"}},
        {"extra_body": {"temperature": 0.0}},
        {"max_tokens": 512},
        {"system": "Answer in French."},
        {"tools": [{"name": "add", "input_schema": {"type": "object"}}]},
        {"stop_sequences": ["END"]},
        {"thinking": {"type": "adaptive"}},
        {"extra_body": {"top_k": 5}},
    ],
    ids=",".join,
)
async def test_a_changed_parameter_misses(h: Harness, change: dict[str, Any]) -> None:
    """Model, effort, max_tokens, system, tools, stops, thinking and extra_body are keyed."""
    await h.create(**CALL)
    changed = await h.create(**{**CALL, **change})
    assert h.fake.calls == 2
    assert changed.content[0].text == "answer #2"


@pytest.mark.parametrize(
    "volatile",
    [
        {"metadata": {"user_id": "u-9"}},
        {"timeout": 20.0},
        {"extra_headers": {"anthropic-beta": "x"}},
        {"service_tier": "auto"},
    ],
    ids=",".join,
)
async def test_volatile_arguments_share_the_entry(h: Harness, volatile: dict[str, Any]) -> None:
    """metadata, timeouts, headers and the service tier do not split the cache."""
    await h.create(**CALL)
    await h.create(**CALL, **volatile)
    assert h.fake.calls == 1


async def test_http_error_propagates_unchanged_and_is_not_cached(h: Harness) -> None:
    """An upstream 5xx raises the SDK's own error, and nothing is stored."""
    h.fake.status = 500
    with pytest.raises(anthropic.InternalServerError):
        await h.create(**CALL)
    with pytest.raises(anthropic.InternalServerError):
        await h.create(**CALL, stream=True)
    h.fake.status = 200
    await h.create(**CALL)
    assert h.fake.calls == 3


async def test_truncated_answer_is_returned_not_stored(h: Harness) -> None:
    """stop_reason=max_tokens reaches the caller but never the cache."""
    h.fake.stop_reason = "max_tokens"
    await h.create(**CALL)
    await h.create(**CALL)
    assert h.fake.calls == 2


# ---- streaming -----------------------------------------------------------------------------


async def test_stream_replays_the_same_event_sequence(h: Harness) -> None:
    """create(stream=True) replays the raw SSE events in order, with the SDK's event types."""
    live, first = await h.events(**CALL)
    replay, second = await h.events(**CALL)
    assert h.fake.calls == 1
    assert cache_info(live).hit is False
    assert cache_info(replay).hit is True
    assert second == first
    assert [e.type for e in second] == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * 4,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert isinstance(second[0], RawMessageStartEvent)
    assert isinstance(second[2], RawContentBlockDeltaEvent)


async def test_stream_helper_replays_text_and_final_message(h: Harness) -> None:
    """messages.stream(): text events and get_final_message() are the same on a replay."""
    types1, text1, final1 = await h.helper_stream(**CALL)
    types2, text2, final2 = await h.helper_stream(**CALL)
    assert h.fake.calls == 1
    assert types2 == types1
    assert "text" in types2
    assert text1 == text2 == "The answer is 4."
    assert final2 == final1
    assert final2.usage.output_tokens == 4


async def test_stream_helper_and_raw_stream_share_one_entry(h: Harness) -> None:
    """messages.stream() is answered by a stream stored by create(stream=True)."""
    await h.events(**CALL)
    _, text, _ = await h.helper_stream(**CALL)
    assert h.fake.calls == 1
    assert text == "The answer is 4."


async def test_stream_abandoned_midway_is_not_stored(h: Harness) -> None:
    """Closing a live stream early stores nothing; the next call streams live again."""
    await h.events(limit=3, **CALL)
    await h.events(**CALL)
    assert h.fake.calls == 2
    await h.events(**CALL)
    assert h.fake.calls == 2


async def test_stream_broken_by_the_network_is_not_stored(h: Harness) -> None:
    """A stream cut by a read error raises what the SDK raises (its HTTP error), stores nothing."""
    h.fake.break_after = 4
    with pytest.raises(h.fake.http.ReadError):
        await h.events(**CALL)
    h.fake.break_after = None
    await h.events(**CALL)
    assert h.fake.calls == 2


async def test_stream_ending_in_an_error_event_is_not_stored(h: Harness) -> None:
    """An `error` SSE event raises the SDK's error and the stream is not cached."""
    h.fake.error_event = True
    with pytest.raises(anthropic.APIStatusError):
        await h.events(**CALL)
    h.fake.error_event = False
    await h.events(**CALL)
    assert h.fake.calls == 2


# ---- prompt cache --------------------------------------------------------------------------


async def test_auto_cache_control_marks_what_is_sent_not_the_key(h: Harness) -> None:
    """auto_cache_control adds a breakpoint upstream; the caller's request and the key stay."""
    h2 = Harness(h.fake.is_async, auto_cache_control=True)
    call = {**CALL, "system": LONG_SYSTEM}
    before = copy.deepcopy(call)
    await h2.create(**call)
    sent = h2.fake.requests[0]["system"]
    assert sent[0]["cache_control"] == {"type": "ephemeral"}
    assert call == before
    # Same entry as a request without markers: the breakpoint is billing, not content.
    plain = Harness(h.fake.is_async, h2.manager)
    await plain.create(**call)
    assert plain.fake.calls == 0


async def test_provider_cache_tokens_are_counted_in_metrics(h: Harness) -> None:
    """usage.cache_read/creation_input_tokens of answers that reached Anthropic are counted."""
    h.fake.cache_read, h.fake.cache_write = 1500, 300
    await h.create(**CALL)
    await h.create(**CALL)  # a hit: the provider was not asked, nothing new to count
    await h.events(**CALL)
    prompt = h.manager.metrics.snapshot()["layers"]["prompt"]
    assert prompt["provider_cache_read_tokens"] == 3000
    assert prompt["provider_cache_write_tokens"] == 600
    assert prompt["provider_cost_saved"] > 0


def test_prompt_cache_layer_can_be_supplied() -> None:
    """A caller's PromptCacheLayer (its ttl, limits) is the one that places breakpoints."""
    fake = FakeAnthropic()
    manager = CacheManager()
    layer = PromptCacheLayer(manager, ttl="1h")
    adapter = AnthropicCacheAdapter(
        fake.client(), manager, prompt_cache=layer, auto_cache_control=True
    )
    adapter.messages_create(**{**CALL, "system": LONG_SYSTEM})
    assert fake.requests[0]["system"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}


# ---- semantic, tenants, adapter API --------------------------------------------------------


async def test_semantic_matching_is_opt_in(h: Harness) -> None:
    """With a SemanticCache a paraphrase is served and flagged; without one it misses."""
    orig = [{"role": "user", "content": "What is the capital of France?"}]
    para = [{"role": "user", "content": "what is the capital of France"}]
    await h.create(**{**CALL, "messages": orig})
    await h.create(**{**CALL, "messages": para})
    assert h.fake.calls == 2
    sem = SemanticCache(embedder=HashingEmbedder(), threshold=0.8)
    h2 = Harness(h.fake.is_async, semantic=sem)
    await h2.create(**{**CALL, "messages": orig})
    hit = await h2.create(**{**CALL, "messages": para})
    assert h2.fake.calls == 1
    info = cache_info(hit)
    assert info is not None
    assert info.layer == "semantic"
    assert info.similarity is not None


async def test_tenants_do_not_share_entries(h: Harness) -> None:
    """Two tenant views of one manager keep their answers apart."""
    root = CacheManager()
    fake = FakeAnthropic(is_async=h.fake.is_async)
    acme = wrap(fake.client(), root.for_tenant("acme"))
    globex = wrap(fake.client(), root.for_tenant("globex"))
    await _resolve(acme.messages.create(**CALL))
    await _resolve(globex.messages.create(**CALL))
    again = await _resolve(acme.messages.create(**CALL))
    assert fake.calls == 2
    assert cache_info(again).hit  # type: ignore[union-attr]


def test_adapter_api_as_in_the_readme() -> None:
    """AnthropicCacheAdapter(client, manager).messages_create(...) caches (sync client)."""
    fake = FakeAnthropic()
    adapter = AnthropicCacheAdapter(fake.client(), CacheManager())
    adapter.messages_create(**CALL)
    second = adapter.messages_create(**CALL)
    assert fake.calls == 1
    assert cache_info(second).hit


async def test_async_adapter_api_as_in_the_readme() -> None:
    """AnthropicCacheAdapter(async_client, manager).amessages_create(...) caches."""
    fake = FakeAnthropic(is_async=True)
    adapter = AnthropicCacheAdapter(fake.client(), CacheManager())
    await adapter.amessages_create(**CALL)
    await adapter.amessages_create(**CALL)
    assert fake.calls == 1


def test_drop_in_passes_everything_else_through() -> None:
    """Attributes that are not intercepted are the SDK's own; with_options stays cached."""
    fake = FakeAnthropic()
    client = CachedAnthropic(fake.client(), CacheManager())
    assert client.models is client._target.models
    assert client.messages.count_tokens == client._target.messages.count_tokens
    client.messages.create(**CALL)
    client.with_options(timeout=30).messages.create(**CALL)
    assert fake.calls == 1


def test_wrong_client_kind_is_a_clear_error() -> None:
    """A sync method on an async client names the async method; wrong wrappers are refused."""
    adapter = AnthropicCacheAdapter(FakeAnthropic(is_async=True).client(), CacheManager())
    with pytest.raises(TypeError, match=r"use amessages_create\(\)"):
        adapter.messages_create(**CALL)
    with pytest.raises(TypeError, match="AsyncCachedAnthropic"):
        AsyncCachedAnthropic(FakeAnthropic().client(), CacheManager())


async def test_a_cache_outage_never_breaks_the_call(h: Harness) -> None:
    """With the backend down, create() and streams still reach Anthropic and return."""
    from omnicache_ai import InMemoryBackend
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    down = Harness(h.fake.is_async, CacheManager(backend=flaky))
    flaky.down = True
    msg = await down.create(**CALL)
    _, events = await down.events(**CALL)
    assert msg.content[0].text == "answer #1"
    assert events[-1].type == "message_stop"
    assert down.fake.calls == 2
    assert flaky.failures > 0


_SHARED_STORE_RUN = """
import sys
sys.path.insert(0, {tests!r})
from _sdk_fakes import FakeAnthropic
from omnicache_ai import CacheManager
from omnicache_ai.backends.disk_backend import DiskBackend
from omnicache_ai.adapters.anthropic_adapter import CachedAnthropic
fake = FakeAnthropic()
client = CachedAnthropic(fake.client(), CacheManager(backend=DiskBackend({path!r})))
call = dict(model="claude-sonnet-4-6", max_tokens=64,
            messages=[{{"role": "user", "content": "hi"}}])
msg = client.messages.create(**call)
events = list(client.messages.create(**call, stream=True))
with client.messages.stream(**call) as stream:
    text = stream.get_final_text()
print(fake.calls, msg.content[0].text.replace(" ", "_"), len(events), text.replace(" ", "_"))
"""


@pytest.mark.slow
def test_a_second_process_reads_messages_and_streams_from_a_shared_store(tmp_path: Any) -> None:
    """Messages and event streams written by one process are replayed by another."""
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
    assert first[0] == "2"
    assert second[0] == "0"
    assert first[1:] == second[1:]
