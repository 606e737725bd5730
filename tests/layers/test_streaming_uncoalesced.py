"""Partial streams are never stored when coalescing is off (the path without a shared flight)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from layer_payloads import CHAT, openai_chunks

from omnicache_ai import CacheManager, StreamingResponseCache

MODEL = "gpt-4o-mini"


class _Source:
    """An SDK-like stream: iterates chunks, may fail after ``fail_after``, records close()."""

    def __init__(self, chunks: list[Any], fail_after: int | None = None) -> None:
        self.chunks, self.fail_after, self.closed, self.opened = chunks, fail_after, False, 0

    def __call__(self, _: Any) -> _Source:
        self.opened += 1
        return self

    def __iter__(self) -> Iterator[Any]:
        for i, chunk in enumerate(self.chunks):
            if i == self.fail_after:
                raise ConnectionResetError("stream dropped")
            yield chunk

    def close(self) -> None:
        self.closed = True


class _AsyncSource(_Source):
    """The async twin: ``async for`` over the same chunks; ``aclose()`` records the close."""

    def __call__(self, _: Any) -> _AsyncSource:
        self.opened += 1
        return self

    def __iter__(self) -> Iterator[Any]:
        raise AssertionError("an async source must not be iterated synchronously")

    async def __aiter__(self) -> AsyncIterator[Any]:
        for chunk in _Source(self.chunks, self.fail_after):
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def test_errored_stream_is_not_stored(manager: CacheManager) -> None:
    """coalesce=False: a stream failing mid-way propagates its error and stores nothing."""
    sc = StreamingResponseCache(manager, coalesce=False)
    source = _Source(openai_chunks(["a", "b", "c"]), fail_after=2)
    got: list[Any] = []
    with pytest.raises(ConnectionResetError):
        got.extend(sc.get_or_stream(CHAT, source, model_id=MODEL))
    assert len(got) == 2
    assert sc.get(CHAT, model_id=MODEL) is None
    assert manager.metrics.snapshot()["sets"] == 0


def test_abandoned_stream_is_not_stored(manager: CacheManager) -> None:
    """coalesce=False: a consumer stopping early closes the source and stores nothing."""
    sc = StreamingResponseCache(manager, coalesce=False)
    source = _Source(openai_chunks(["a", "b", "c"]))
    stream = sc.get_or_stream(CHAT, source, model_id=MODEL)
    next(iter(stream))
    stream.close()  # type: ignore[attr-defined]
    assert source.closed
    assert sc.get(CHAT, model_id=MODEL) is None
    complete = _Source(openai_chunks(["a", "b", "c"]))
    assert list(sc.get_or_stream(CHAT, complete, model_id=MODEL)) == complete.chunks
    assert sc.get(CHAT, model_id=MODEL) is not None  # control: a complete stream is stored


async def test_async_errored_stream_is_not_stored(manager: CacheManager) -> None:
    """coalesce=False, async: an errored stream propagates and stores nothing."""
    sc = StreamingResponseCache(manager, coalesce=False)
    source = _AsyncSource(openai_chunks(["a", "b", "c"]), fail_after=1)
    with pytest.raises(ConnectionResetError):
        _ = [c async for c in sc.aget_or_stream(CHAT, source, model_id=MODEL)]
    assert await sc.aget(CHAT, model_id=MODEL) is None


async def test_async_abandoned_stream_is_not_stored(manager: CacheManager) -> None:
    """coalesce=False, async: aclose() after one chunk closes the source and stores nothing."""
    sc = StreamingResponseCache(manager, coalesce=False)
    source = _AsyncSource(openai_chunks(["a", "b", "c"]))
    stream = sc.aget_or_stream(CHAT, source, model_id=MODEL)
    await anext(stream)  # type: ignore[call-overload]
    await stream.aclose()  # type: ignore[attr-defined]
    assert source.closed
    assert await sc.aget(CHAT, model_id=MODEL) is None
