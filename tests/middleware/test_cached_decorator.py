"""@cached: one decorator for functions, coroutine functions, generators, async generators."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
import pytest

from omnicache_ai import CacheManager, cached


@pytest.fixture
def manager() -> CacheManager:
    """A fresh in-memory manager."""
    return CacheManager()


def test_function_arguments_are_bound_to_the_signature(manager: CacheManager) -> None:
    """Positional, keyword and defaulted spellings of one call share an entry."""
    calls = []

    @cached(manager)
    def area(width: float, height: float = 2.0, *, unit: str = "m") -> str:
        calls.append((width, height, unit))
        return f"{width * height}{unit}2"

    assert area(3) == area(3, 2.0) == area(width=3, height=2) == area(3, unit="m") == "6.0m2"
    assert len(calls) == 1
    assert area(3, unit="cm") == "6.0cm2"
    assert len(calls) == 2
    assert area.__name__ == "area"


def test_none_and_falsy_results_are_cached(manager: CacheManager) -> None:
    """A function returning None is cached like any other result."""
    calls = []

    @cached(manager)
    def lookup(k: str) -> None:
        calls.append(k)

    lookup("a")
    lookup("a")
    assert calls == ["a"]


def test_exceptions_are_not_cached(manager: CacheManager) -> None:
    """A raising call is retried next time."""
    attempts = []

    @cached(manager)
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) == 1:
            raise RuntimeError("transient")
        return x * 2

    with pytest.raises(RuntimeError):
        flaky(4)
    assert flaky(4) == 8
    assert flaky(4) == 8
    assert len(attempts) == 2


def test_cache_if_refuses_results(manager: CacheManager) -> None:
    """Results rejected by cache_if are returned but recomputed next time."""
    calls = []

    @cached(manager, cache_if=lambda r: r["status"] == "ok")
    def fetch(x: int) -> dict[str, str]:
        calls.append(x)
        return {"status": "ok" if x > 0 else "error"}

    assert fetch(0) == {"status": "error"}
    fetch(0)
    fetch(1)
    fetch(1)
    assert calls == [0, 0, 1]


def test_ignore_and_custom_key(manager: CacheManager) -> None:
    """ignore= drops unkeyable arguments; key= decides what identifies a call."""

    class Client:
        pass

    calls = []

    @cached(manager, ignore=("client",))
    def ask(client: Client, question: str) -> str:
        calls.append(question)
        return question.upper()

    assert ask(Client(), "hi") == ask(Client(), "hi") == "HI"
    assert calls == ["hi"]

    @cached(manager, key=lambda user, **_: user["id"])
    def profile(user: dict[str, Any], verbose: bool = False) -> str:
        calls.append(user["name"])
        return user["name"]

    profile({"id": 7, "name": "Ada", "session": object()})
    profile({"id": 7, "name": "Ada (renamed)", "session": object()}, verbose=True)
    assert calls == ["hi", "Ada"]


def test_unkeyable_argument_error_is_helpful(manager: CacheManager) -> None:
    """An argument no key can be built from names the fix (ignore= or key=)."""

    @cached(manager)
    def f(conn: object) -> int:
        return 1

    with pytest.raises(TypeError, match="ignore="):
        f(object())
    with pytest.raises(ValueError, match="does not have"):
        cached(manager, ignore=("nope",))(lambda x: x)


def test_numpy_results_and_arguments(manager: CacheManager) -> None:
    """numpy arrays as arguments key by content; array results round-trip exactly."""
    calls = []

    @cached(manager)
    def normalise(v: np.ndarray) -> np.ndarray:
        calls.append(1)
        return (v / np.linalg.norm(v)).astype(np.float32)

    a = normalise(np.array([3.0, 4.0]))
    b = normalise(np.array([3.0, 4.0]))
    assert a.dtype == b.dtype == np.float32
    assert np.array_equal(a, b)
    normalise(np.array([3.0, 5.0]))
    assert len(calls) == 2


def test_threads_share_one_computation(manager: CacheManager) -> None:
    """Concurrent callers with the same arguments wait for one computation."""
    calls = []

    @cached(manager)
    def slow(x: int) -> int:
        calls.append(x)
        time.sleep(0.05)
        return x + 1

    out: list[int] = []
    threads = [threading.Thread(target=lambda: out.append(slow(1))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [2] * 6
    assert calls == [1]


async def test_coroutine_function(manager: CacheManager) -> None:
    """Async functions are detected and cached; concurrent tasks share one call."""
    calls = []

    @cached(manager, ttl=30)
    async def fetch(url: str) -> dict[str, Any]:
        calls.append(url)
        await asyncio.sleep(0.02)
        return {"url": url, "bytes": 1024}

    results = await asyncio.gather(*(fetch("a") for _ in range(5)))
    assert results == [{"url": "a", "bytes": 1024}] * 5
    assert calls == ["a"]


async def test_coroutine_cache_if_and_partial(manager: CacheManager) -> None:
    """cache_if works for async functions; an async partial is detected as async."""
    calls = []

    async def score(x: int, scale: int) -> int:
        calls.append(x)
        return x * scale

    wrapped = cached(manager, cache_if=lambda r: r > 0)(functools.partial(score, scale=2))
    assert await wrapped(0) == 0
    assert await wrapped(0) == 0
    assert await wrapped(3) == 6
    assert await wrapped(3) == 6
    assert calls == [0, 0, 3]


def test_generator_streams_then_replays(manager: CacheManager) -> None:
    """A generator streams live on a miss and replays its items on a hit."""
    produced = []

    @cached(manager)
    def tokens(text: str) -> Iterator[str]:
        for word in text.split():
            produced.append(word)
            yield word

    live = []
    for tok in tokens("a b c"):
        live.append((tok, len(produced)))
    assert live == [("a", 1), ("b", 2), ("c", 3)]
    assert list(tokens("a b c")) == ["a", "b", "c"]
    assert len(produced) == 3


def test_generator_stopped_early_is_not_cached(manager: CacheManager) -> None:
    """A generator the consumer abandons is closed and not stored."""
    runs = []

    @cached(manager)
    def numbers(n: int) -> Iterator[int]:
        runs.append(n)
        yield from range(n)

    gen = numbers(5)
    assert next(gen) == 0
    gen.close()
    assert list(numbers(5)) == [0, 1, 2, 3, 4]
    assert list(numbers(5)) == [0, 1, 2, 3, 4]
    assert runs == [5, 5]


async def test_async_generator_streams_then_replays(manager: CacheManager) -> None:
    """An async generator is detected, streamed live, stored when complete and replayed."""
    runs = []

    @cached(manager, replay_delay=0.0)
    async def chunks(prompt: str) -> AsyncIterator[dict[str, str]]:
        runs.append(prompt)
        for piece in ("Hel", "lo"):
            await asyncio.sleep(0)
            yield {"delta": piece}

    first = [c async for c in chunks("hi")]
    second = [c async for c in chunks("hi")]
    assert first == second == [{"delta": "Hel"}, {"delta": "lo"}]
    assert runs == ["hi"]


async def test_async_generator_failure_is_not_cached(manager: CacheManager) -> None:
    """An async generator raising mid-way is retried on the next call."""
    runs = []

    @cached(manager)
    async def unstable() -> AsyncIterator[int]:
        runs.append(1)
        yield 1
        if len(runs) == 1:
            raise ConnectionError("lost")
        yield 2

    with pytest.raises(ConnectionError):
        _ = [x async for x in unstable()]
    assert [x async for x in unstable()] == [1, 2]
    assert [x async for x in unstable()] == [1, 2]
    assert len(runs) == 2


def test_invalidate_all_and_cache_key(manager: CacheManager) -> None:
    """invalidate_all retires every entry of the function; cache_key matches calls."""
    calls = []

    @cached(manager, name="pricing.quote")
    def quote(sku: str, qty: int = 1) -> float:
        calls.append(sku)
        return 9.5 * qty

    quote("x")
    quote("y")
    assert quote.cache_key("x") == quote.cache_key(sku="x", qty=1)  # type: ignore[attr-defined]
    assert quote.cache_key("x") != quote.cache_key("y")  # type: ignore[attr-defined]
    quote.invalidate_all()  # type: ignore[attr-defined]
    quote("x")
    assert calls == ["x", "y", "x"]


def test_bad_arguments(manager: CacheManager) -> None:
    """Wrong manager, string tags/ignore and negative replay delay are refused."""
    with pytest.raises(TypeError, match="CacheManager"):
        cached("manager")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tags"):
        cached(manager, tags="t")
    with pytest.raises(TypeError, match="ignore"):
        cached(manager, ignore="self")
    with pytest.raises(ValueError, match="replay_delay"):
        cached(manager, replay_delay=-0.5)


def test_partials_with_different_bound_arguments_do_not_collide(manager: CacheManager) -> None:
    """Two partials of one function keep separate entries for their bound arguments."""

    def power(base: int, exp: int) -> int:
        return int(base**exp)

    square = cached(manager)(functools.partial(power, exp=2))
    cube = cached(manager)(functools.partial(power, exp=3))
    assert (square(3), cube(3)) == (9, 27)
    two_to = cached(manager)(functools.partial(power, 2))
    three_to = cached(manager)(functools.partial(power, 3))
    assert (two_to(exp=2), three_to(exp=2)) == (4, 9)


def test_methods_with_self_ignored(manager: CacheManager) -> None:
    """A decorated method works through the descriptor protocol; ignore=('self',) shares hits."""

    class Summarizer:
        def __init__(self) -> None:
            self.calls = 0

        @cached(manager, ignore=("self",))
        def summarize(self, text: str) -> str:
            self.calls += 1
            return text[:5]

    a, b = Summarizer(), Summarizer()
    assert a.summarize("hello world") == "hello"
    assert b.summarize("hello world") == "hello"
    assert (a.calls, b.calls) == (1, 0)
