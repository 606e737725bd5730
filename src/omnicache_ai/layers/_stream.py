"""Buffer a live stream while passing it through, and replay a buffered one.

Shared by :class:`~omnicache_ai.layers.streaming_cache.StreamingResponseCache` and the
``@cached`` decorator's generator support. The rule both rely on: ``on_complete`` runs only
when the source was exhausted normally. An exception from the source, a cancelled task or a
consumer that stops early (the generator is closed) skips it, and the source is closed so an
HTTP stream is released.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["areplay", "atee", "check_delay", "replay", "tee"]

T = TypeVar("T")


def check_delay(delay: Any) -> float:
    """``delay`` as seconds between replayed items; raises for a negative or non-number."""
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not delay >= 0:
        raise ValueError(f"replay_delay must be a number of seconds >= 0, got {delay!r}")
    return float(delay)


def _close(*objs: Any) -> None:
    for obj in {id(o): o for o in objs}.values():
        close = getattr(obj, "close", None)
        if callable(close):
            close()


async def _aclose(*objs: Any) -> None:
    for obj in {id(o): o for o in objs}.values():
        close = getattr(obj, "aclose", None) or getattr(obj, "close", None)
        if callable(close):
            result = close()
            if inspect.isawaitable(result):
                await result


def tee(source: Iterable[T], on_complete: Callable[[list[T]], None]) -> Iterator[T]:
    """Yield ``source``'s items as they come; after the last, hand the full list over.

    Example:
        >>> seen = []
        >>> list(tee(iter("abc"), seen.append)), seen
        (['a', 'b', 'c'], [['a', 'b', 'c']])
    """
    buffered: list[T] = []
    it = iter(source)
    try:
        for item in it:
            buffered.append(item)
            yield item
    except BaseException:
        _close(it, source)
        raise
    on_complete(buffered)


async def atee(
    source: AsyncIterable[T] | Iterable[T], on_complete: Callable[[list[T]], Awaitable[None]]
) -> AsyncGenerator[T, None]:
    """Async :func:`tee`; ``source`` may be an async or a plain iterable."""
    buffered: list[T] = []
    if not hasattr(source, "__aiter__"):
        # A plain iterable handed to the async API: pass it through unchanged.
        it = iter(source)
        try:
            for item in it:
                buffered.append(item)
                yield item
        except BaseException:
            _close(it, source)
            raise
    else:
        ait = aiter(source)  # type: ignore[arg-type]
        try:
            async for item in ait:
                buffered.append(item)
                yield item
        except BaseException:
            await _aclose(ait, source)
            raise
    await on_complete(buffered)


def replay(items: list[T], delay: float = 0.0) -> Iterator[T]:
    """Yield cached items, ``delay`` seconds apart (0: as fast as the consumer reads)."""
    if delay <= 0:
        yield from items
        return
    for i, item in enumerate(items):
        if i:
            time.sleep(delay)
        yield item


async def areplay(items: list[T], delay: float = 0.0) -> AsyncGenerator[T, None]:
    """Async :func:`replay`; it yields to the event loop between items even without a delay."""
    for i, item in enumerate(items):
        if i:
            await asyncio.sleep(delay if delay > 0 else 0)
        yield item
