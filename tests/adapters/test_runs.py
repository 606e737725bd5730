"""RunReplay, the whole-run replay every agent-framework adapter shares (no framework needed)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from omnicache_ai import CacheKeyBuilder, CacheManager, DiskBackend
from omnicache_ai.adapters._runs import RunCodec, RunReplay


@dataclass
class Result:
    """A framework's result type stand-in (a dataclass the safe serializer rebuilds)."""

    text: str
    status: str = "completed"


@pytest.fixture
def manager(tmp_path: Path) -> CacheManager:
    """A manager over a disk backend, so every entry goes through the serializer."""
    return CacheManager(backend=DiskBackend(tmp_path / "disk"), key_builder=CacheKeyBuilder("t"))


def counted(result: Result) -> tuple[list[int], Any]:
    """A call returning ``result`` and the list that counts its invocations."""
    calls: list[int] = []

    def call() -> Result:
        calls.append(1)
        return result

    return calls, call


def test_identical_run_is_replayed_as_the_same_type(manager: CacheManager) -> None:
    """The second identical run returns an equal Result without calling the framework."""
    replay: RunReplay[Result] = RunReplay(manager, "demo")
    calls, call = counted(Result("Paris"))
    first = replay.run("m", "q", {"instructions": "x"}, call)
    second = replay.run("m", "q", {"instructions": "x"}, call)
    assert (first, second, len(calls)) == (Result("Paris"), Result("Paris"), 1)
    assert first is not second  # a miss hands back the live object, a hit a rebuilt one


@pytest.mark.parametrize(
    ("model", "run_input", "context"),
    [("m2", "q", {"instructions": "x"}), ("m", "q2", {"instructions": "x"}),
     ("m", "q", {"instructions": "y"}), ("m", "q", {"instructions": "x", "tools": ["t"]})],
    ids=["model", "input", "instructions", "tools"],
)  # fmt: skip
def test_any_changed_part_misses(
    manager: CacheManager, model: str, run_input: str, context: dict[str, Any]
) -> None:
    """Model, input and every context entry are in the key."""
    replay: RunReplay[Result] = RunReplay(manager, "demo")
    calls, call = counted(Result("a"))
    replay.run("m", "q", {"instructions": "x"}, call)
    replay.run(model, run_input, context, call)
    assert len(calls) == 2


def test_frameworks_do_not_share_entries(manager: CacheManager) -> None:
    """The framework label is part of the key."""
    calls, call = counted(Result("a"))
    RunReplay(manager, "one").run("m", "q", {}, call)
    RunReplay(manager, "two").run("m", "q", {}, call)
    assert len(calls) == 2


def test_refused_results_are_returned_not_stored(manager: CacheManager) -> None:
    """A result the codec refuses (an errored run) is handed back and run again next time."""
    codec: RunCodec[Result] = RunCodec(refuse=lambda r: "error" if r.status == "error" else None)
    replay = RunReplay(manager, "demo", codec)
    calls, call = counted(Result("boom", status="error"))
    assert replay.run("m", "q", {}, call).status == "error"
    replay.run("m", "q", {}, call)
    assert len(calls) == 2


def test_codec_round_trip_is_used(manager: CacheManager) -> None:
    """encode/decode give the stored form and rebuild the result on a hit."""
    codec: RunCodec[Result] = RunCodec(
        encode=lambda r: {"t": r.text}, decode=lambda d: Result(d["t"].upper())
    )
    replay = RunReplay(manager, "demo", codec)
    _calls, call = counted(Result("paris"))
    replay.run("m", "q", {}, call)
    assert replay.run("m", "q", {}, call) == Result("PARIS")


def test_an_entry_that_cannot_be_decoded_is_a_miss(
    manager: CacheManager, caplog: pytest.LogCaptureFixture
) -> None:
    """A stored run the codec cannot rebuild is run again and overwritten, logged once."""
    broken = {"on": True}

    def decode(data: Any) -> Result:
        if broken["on"]:
            raise ValueError("written by another version")
        return Result(data)

    replay = RunReplay(manager, "demo", RunCodec(encode=lambda r: r.text, decode=decode))
    calls, call = counted(Result("a"))
    replay.run("m", "q", {}, call)
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        assert replay.run("m", "q", {}, call) == Result("a")
        assert replay.run("m", "q", {}, call) == Result("a")
    assert len(calls) == 3
    assert sum("could not be rebuilt" in r.message for r in caplog.records) == 1
    broken["on"] = False
    assert replay.run("m", "q", {}, call) == Result("a")
    assert len(calls) == 3


async def test_arun_shares_entries_with_run(manager: CacheManager) -> None:
    """arun() keys like run(): a run stored by one is replayed by the other."""
    replay: RunReplay[Result] = RunReplay(manager, "demo")
    calls, call = counted(Result("a"))
    replay.run("m", "q", {}, call)

    async def acall() -> Result:
        calls.append(1)
        return Result("never")

    assert await replay.arun("m", "q", {}, acall) == Result("a")
    assert len(calls) == 1


def test_streams_replay_events_and_skip_failed_streams(manager: CacheManager) -> None:
    """A complete stream is replayed; a stream with a refused event is not stored."""
    replay: RunReplay[Result] = RunReplay(manager, "demo")
    opened: list[str] = []

    def events(*items: Result) -> Any:
        def call() -> Iterator[Result]:
            opened.append("x")
            yield from items

        return call

    ok = events(Result("a"), Result("b"))
    live = list(replay.stream("m", "q", {}, ok, encode=lambda e: e.text, decode=Result))
    again = list(replay.stream("m", "q", {}, ok, encode=lambda e: e.text, decode=Result))
    assert live == again == [Result("a"), Result("b")]
    assert len(opened) == 1

    bad = events(Result("a"), Result("x", status="error"))
    for _ in range(2):
        list(replay.stream("m", "q2", {}, bad, refuse=lambda e: e.status == "error"))
    assert len(opened) == 3


async def test_async_streams_replay(manager: CacheManager) -> None:
    """astream() stores a complete async stream and replays it."""
    replay: RunReplay[Result] = RunReplay(manager, "demo")
    opened: list[int] = []

    def call() -> AsyncIterator[Result]:
        async def gen() -> AsyncIterator[Result]:
            opened.append(1)
            yield Result("a")

        return gen()

    first = [e async for e in replay.astream("m", "q", {}, call)]
    second = [e async for e in replay.astream("m", "q", {}, call)]
    assert (first, second, len(opened)) == ([Result("a")], [Result("a")], 1)


def test_bad_arguments_are_named(manager: CacheManager) -> None:
    """An empty framework label or a non-mapping context is a clear error."""
    with pytest.raises(ValueError, match="framework"):
        RunReplay(manager, "")
    with pytest.raises(TypeError, match="context must be a mapping"):
        RunReplay(manager, "demo").key("m", "q", ["not", "a", "mapping"])  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_stream_that_cannot_be_rebuilt_is_a_miss_not_half_a_replay(
    manager: CacheManager, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    """One stored event fails to decode: nothing of the replay is handed over; the stream
    runs live again, is overwritten and replays whole after that (logged once)."""
    replay: RunReplay[Result] = RunReplay(manager, "demo")
    opened: list[int] = []
    broken = {"on": False}

    def decode(text: Any) -> Result:
        if broken["on"] and text == "b":
            raise ValueError("written by another version")
        return Result(text)

    def sync_call() -> Iterator[Result]:
        opened.append(1)
        yield from (Result("a"), Result("b"))

    async def async_call() -> AsyncIterator[Result]:
        opened.append(1)
        for event in (Result("a"), Result("b")):
            yield event

    async def run() -> list[Result]:
        if mode == "sync":
            return list(replay.stream("m", "q", {}, sync_call, encode=lambda e: e.text,
                                      decode=decode))  # fmt: skip
        events = replay.astream("m", "q", {}, async_call, encode=lambda e: e.text, decode=decode)
        return [e async for e in events]

    assert await run() == [Result("a"), Result("b")]
    broken["on"] = True
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        assert await run() == [Result("a"), Result("b")]  # live again, not "a" then an error
        assert len(opened) == 2
        broken["on"] = False
        assert await run() == [Result("a"), Result("b")]
    assert len(opened) == 2  # the rewritten entry replays
    assert sum("could not be rebuilt" in r.message for r in caplog.records) == 1
