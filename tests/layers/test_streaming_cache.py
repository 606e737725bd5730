"""StreamingResponseCache: live pass-through, store-only-complete, faithful paced replay."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from layer_payloads import CHAT, anthropic_events, openai_chunks, sdk

from omnicache_ai import CacheManager, ResponseCache, StreamingResponseCache

MODEL = "gpt-4o-mini"


def openai_stream(shape: str, pieces: list[str], **kw: Any) -> list[Any]:
    chunks = openai_chunks(pieces, **kw)
    return [sdk("ChatCompletionChunk", c) for c in chunks] if shape == "sdk" else chunks


class FakeStream:
    """Stands in for an SDK ``Stream``: an iterator over chunks with ``close()``."""

    def __init__(self, chunks: list[Any], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.produced = 0
        self.closed = False

    def __iter__(self) -> Iterator[Any]:
        for chunk in self.chunks:
            if self.fail_after is not None and self.produced == self.fail_after:
                raise ConnectionResetError("stream dropped")
            self.produced += 1
            yield chunk

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("shape", ["dict", "sdk"])
def test_first_call_streams_live_then_replays_same_chunks(
    manager: CacheManager, shape: str
) -> None:
    """Chunks reach the consumer as produced; the replay has the same types and order."""
    chunks = openai_stream(shape, ["The ", "answer ", "is ", "6."])
    source = FakeStream(chunks)
    sc = StreamingResponseCache(manager)
    seen_when_produced = []
    for chunk in sc.get_or_stream(CHAT, lambda _: source, model_id=MODEL):
        seen_when_produced.append(source.produced)
        assert chunk is chunks[source.produced - 1]
    assert seen_when_produced == list(range(1, len(chunks) + 1))  # live, not buffered first

    def must_not_stream(_: Any) -> Iterator[Any]:
        raise AssertionError("stream_fn called on a hit")

    replayed = list(sc.get_or_stream(CHAT, must_not_stream, model_id=MODEL))
    assert replayed == chunks
    assert [type(c) for c in replayed] == [type(c) for c in chunks]
    text = "".join(
        (c["choices"][0]["delta"].get("content") or "")
        if shape == "dict"
        else (c.choices[0].delta.content or "")
        for c in replayed
        if (c["choices"] if shape == "dict" else c.choices)
    )
    assert text == "The answer is 6."


def test_readme_usage_with_sdk_chunks(manager: CacheManager) -> None:
    """The README loop over chunk.choices[0].delta.content works live and on replay."""
    chunks = openai_stream("sdk", ["Hel", "lo"], usage=False)
    stream_cache = StreamingResponseCache(manager)
    outputs = []
    for _ in range(2):
        out = ""
        for chunk in stream_cache.get_or_stream(CHAT, lambda m: iter(chunks), model_id="gpt-4o"):
            out += chunk.choices[0].delta.content or ""
        outputs.append(out)
    assert outputs == ["Hello", "Hello"]


def test_exception_mid_stream_stores_nothing(manager: CacheManager) -> None:
    """A stream that fails part-way propagates the error and is not cached."""
    sc = StreamingResponseCache(manager)
    source = FakeStream(openai_chunks(["a", "b", "c"]), fail_after=2)
    got: list[Any] = []

    def consume() -> None:
        got.extend(sc.get_or_stream(CHAT, lambda _: source, model_id=MODEL))

    with pytest.raises(ConnectionResetError):
        consume()
    assert len(got) == 2
    assert source.closed
    assert sc.get(CHAT, model_id=MODEL) is None


def test_consumer_stopping_early_stores_nothing_and_closes_source(manager: CacheManager) -> None:
    """Breaking out of the loop closes the provider stream; the partial answer is not kept."""
    sc = StreamingResponseCache(manager)
    source = FakeStream(openai_chunks(["a", "b", "c"]))
    gen = sc.get_or_stream(CHAT, lambda _: source, model_id=MODEL)
    for i, _ in enumerate(gen):
        if i == 1:
            break
    gen.close()
    assert source.closed
    assert sc.get(CHAT, model_id=MODEL) is None


def test_generator_source_is_closed_on_early_stop(manager: CacheManager) -> None:
    """A generator stream_fn gets GeneratorExit (its finally runs) when the consumer stops."""
    sc = StreamingResponseCache(manager)
    cleaned = []

    def gen_llm(_: Any) -> Iterator[str]:
        try:
            yield from ["x", "y", "z"]
        finally:
            cleaned.append(True)

    stream = sc.get_or_stream(CHAT, gen_llm, model_id=MODEL)
    assert next(stream) == "x"
    stream.close()
    assert cleaned == [True]
    assert sc.get(CHAT, model_id=MODEL) is None


@pytest.mark.parametrize(
    "chunks",
    [
        openai_chunks(["The answer is"], finish_reason="length"),
        openai_chunks([]),
        anthropic_events(["Once upon"], stop_reason="max_tokens"),
        [],
    ],
    ids=["openai-length", "openai-empty", "anthropic-max-tokens", "no-chunks"],
)
def test_truncated_or_empty_streams_are_not_stored(
    manager: CacheManager, chunks: list[Any]
) -> None:
    """Complete-but-bad streams pass through and are not cached."""
    sc = StreamingResponseCache(manager)
    assert list(sc.get_or_stream(CHAT, lambda _: iter(chunks), model_id=MODEL)) == chunks
    assert sc.get(CHAT, model_id=MODEL) is None


@pytest.mark.parametrize("shape", ["dict", "sdk"])
def test_anthropic_event_stream_round_trips(manager: CacheManager, shape: str) -> None:
    """Anthropic stream events replay as the same event objects."""
    events = anthropic_events(["Bonjour", " !"])
    if shape == "sdk":
        events = [sdk("RawMessageStreamEvent", e) for e in events]
    sc = StreamingResponseCache(manager)
    model = "claude-sonnet-4-5"
    assert list(sc.get_or_stream(CHAT, lambda _: iter(events), model_id=model)) == events
    replay = sc.get(CHAT, model_id=model)
    assert replay == events
    assert [type(e) for e in replay or []] == [type(e) for e in events]


def test_replay_records_savings(manager: CacheManager) -> None:
    """A replayed stream adds the usage the live stream reported to the savings."""
    sc = StreamingResponseCache(manager)
    chunks = openai_chunks(["a", "b", "c"])
    list(sc.get_or_stream(CHAT, lambda _: iter(chunks), model_id=MODEL))
    list(sc.get_or_stream(CHAT, lambda _: iter(chunks), model_id=MODEL))
    stats = manager.metrics.snapshot()["layers"]["streaming"]
    assert (stats["tokens_saved_input"], stats["tokens_saved_output"]) == (25, 3)
    assert stats["cost_saved"] > 0


def test_replay_delay_paces_chunks(manager: CacheManager) -> None:
    """replay_delay spaces replayed chunks at least that far apart."""
    sc = StreamingResponseCache(manager, replay_delay=0.02)
    pieces = ["a", "b", "c", "d"]
    list(sc.get_or_stream(CHAT, lambda _: iter(pieces), model_id=MODEL))
    stamps = []
    for _ in sc.get_or_stream(CHAT, lambda _: iter(pieces), model_id=MODEL):
        stamps.append(time.perf_counter())
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(gaps) == 3
    assert min(gaps) >= 0.018
    fast = list(sc.get_or_stream(CHAT, lambda _: iter(pieces), model_id=MODEL, replay_delay=0))
    assert fast == pieces


def test_params_key_streams_and_stream_flag_is_ignored(manager: CacheManager) -> None:
    """stream=True/stream_options are not keyed; temperature is."""
    sc = StreamingResponseCache(manager)
    p = {"temperature": 0.3, "stream": True, "stream_options": {"include_usage": True}}
    list(sc.get_or_stream(CHAT, lambda _: iter(["x"]), model_id=MODEL, params=p))
    assert sc.get(CHAT, model_id=MODEL, params={"temperature": 0.3}) == ["x"]
    assert sc.get(CHAT, model_id=MODEL, params={"temperature": 0.4}) is None


def test_model_invalidation_is_shared_with_response_cache(manager: CacheManager) -> None:
    """ResponseCache.invalidate_model also retires that model's streams."""
    sc = StreamingResponseCache(manager)
    sc.set(CHAT, ["x", "y"], model_id=MODEL)
    ResponseCache(manager).invalidate_model(MODEL)
    assert sc.get(CHAT, model_id=MODEL) is None
    assert sc.set(CHAT, ["x"], model_id=MODEL)
    assert sc.invalidate_model(MODEL) >= 1


def test_sync_api_refuses_async_streams(manager: CacheManager) -> None:
    """An async stream_fn in the sync API is a clear TypeError, not a silent empty stream."""
    sc = StreamingResponseCache(manager)

    async def agen(_: Any) -> AsyncIterator[str]:
        yield "x"

    with pytest.raises(TypeError, match="aget_or_stream"):
        list(sc.get_or_stream(CHAT, agen, model_id=MODEL))


def test_bad_input_fails_at_call_time(manager: CacheManager) -> None:
    """Bad messages or delay fail when get_or_stream is called, before iteration."""
    sc = StreamingResponseCache(manager)
    with pytest.raises(TypeError, match="messages"):
        sc.get_or_stream({"role": "user"}, lambda _: iter(["x"]), model_id=MODEL)
    with pytest.raises(ValueError, match="replay_delay"):
        sc.get_or_stream(CHAT, lambda _: iter(["x"]), model_id=MODEL, replay_delay=-1)


# ---- async ------------------------------------------------------------------------------
class FakeAsyncStream:
    """Stands in for an SDK ``AsyncStream``: async-iterable with an async ``close()``."""

    def __init__(
        self, chunks: list[Any], delay: float = 0.0, stall_after: int | None = None
    ) -> None:
        self.chunks = chunks
        self.delay = delay
        self.stall_after = stall_after  # after this many chunks, wait until cancelled
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[Any]:
        for i, chunk in enumerate(self.chunks):
            if i == self.stall_after:
                await asyncio.Event().wait()
            await asyncio.sleep(self.delay)
            yield chunk

    async def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("shape", ["dict", "sdk"])
async def test_async_stream_then_replay(any_manager: CacheManager, shape: str) -> None:
    """An awaited AsyncStream is passed through live, then replayed with original types."""
    chunks = openai_stream(shape, ["Bon", "jour"])
    sc = StreamingResponseCache(any_manager)

    async def create(_: Any) -> FakeAsyncStream:  # like `await client...create(stream=True)`
        return FakeAsyncStream(chunks)

    live = [c async for c in sc.aget_or_stream(CHAT, create, model_id=MODEL)]
    assert live == chunks

    async def must_not_stream(_: Any) -> FakeAsyncStream:
        raise AssertionError("stream_fn called on a hit")

    replay = [c async for c in sc.aget_or_stream(CHAT, must_not_stream, model_id=MODEL)]
    assert replay == chunks
    assert [type(c) for c in replay] == [type(c) for c in chunks]
    assert await sc.aget(CHAT, model_id=MODEL) == chunks


async def test_async_generator_source(manager: CacheManager) -> None:
    """An async generator stream_fn works directly."""
    sc = StreamingResponseCache(manager)

    async def agen(_: Any) -> AsyncIterator[str]:
        for piece in ["a", "b"]:
            await asyncio.sleep(0)
            yield piece

    assert [c async for c in sc.aget_or_stream(CHAT, agen, model_id=MODEL)] == ["a", "b"]
    assert [c async for c in sc.aget_or_stream(CHAT, agen, model_id=MODEL)] == ["a", "b"]


async def test_cancelled_stream_stores_nothing(manager: CacheManager) -> None:
    """Cancelling the consuming task mid-stream closes the source and stores nothing."""
    sc = StreamingResponseCache(manager)
    chunks = openai_chunks(["a", "b", "c", "d"])
    source = FakeAsyncStream(chunks, stall_after=2)
    got: list[Any] = []
    two_in = asyncio.Event()

    async def consume() -> None:
        async for chunk in sc.aget_or_stream(CHAT, lambda _: source, model_id=MODEL):
            got.append(chunk)
            if len(got) == 2:
                two_in.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(two_in.wait(), 30)  # mid-stream: the source now stalls
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert got == chunks[:2]
    assert source.closed
    assert await sc.aget(CHAT, model_id=MODEL) is None


async def test_async_consumer_stopping_early_stores_nothing(manager: CacheManager) -> None:
    """Closing the async stream early (aclose) closes the source; nothing is stored."""
    sc = StreamingResponseCache(manager)
    source = FakeAsyncStream(openai_chunks(["a", "b", "c"]))
    stream = sc.aget_or_stream(CHAT, lambda _: source, model_id=MODEL)
    first = await anext(stream)
    assert first == openai_chunks(["a"])[0]
    await stream.aclose()  # type: ignore[attr-defined]
    assert source.closed
    assert await sc.aget(CHAT, model_id=MODEL) is None


async def test_async_exception_stores_nothing(manager: CacheManager) -> None:
    """An async source failing mid-way propagates its error; nothing is cached."""
    sc = StreamingResponseCache(manager)

    async def failing(_: Any) -> AsyncIterator[str]:
        yield "a"
        raise ConnectionResetError("dropped")

    with pytest.raises(ConnectionResetError):
        _ = [c async for c in sc.aget_or_stream(CHAT, failing, model_id=MODEL)]
    assert await sc.aget(CHAT, model_id=MODEL) is None


async def test_async_replay_delay(manager: CacheManager) -> None:
    """Async replay is paced by replay_delay too."""
    sc = StreamingResponseCache(manager)
    await sc.aset(CHAT, ["a", "b", "c"], model_id=MODEL)
    t0 = time.perf_counter()
    out = [
        c
        async for c in sc.aget_or_stream(
            CHAT, lambda _: iter([]), model_id=MODEL, replay_delay=0.02
        )
    ]
    assert out == ["a", "b", "c"]
    assert time.perf_counter() - t0 >= 0.038
    assert await sc.ainvalidate_model(MODEL) >= 1


async def test_sync_iterable_in_async_api(manager: CacheManager) -> None:
    """A plain iterator handed to aget_or_stream is passed through and cached."""
    sc = StreamingResponseCache(manager)
    got = [c async for c in sc.aget_or_stream(CHAT, lambda _: iter(["p", "q"]), model_id=MODEL)]
    assert got == ["p", "q"]
    assert await sc.aget(CHAT, model_id=MODEL) == ["p", "q"]
