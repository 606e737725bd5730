"""Whole-run replay shared by the agent-framework adapters (AutoGen, CrewAI, Agno, ...).

An agent framework's run is replayed for an identical input: the adapter describes the run as
plain data (the model, the input and a context mapping with everything else that changes the
run: instructions, tools and their schemas, model settings, prior session messages; never run
ids or timestamps), and :class:`RunReplay` keys it, looks it up, calls the framework on a miss
and stores the framework's result.

Storage goes through :class:`~omnicache_ai.layers.response_cache.ResponseCache` (stampede
shield, fail-open manager, tenants, ``model:<id>`` tags) in a key space of its own (``run``),
and through the manager's serializer, the safe one by default: a result is stored in the form
the adapter's :class:`RunCodec` gives (plain data, dataclasses, pydantic models; never pickle)
and rebuilt with it on a hit. A result the codec declines (an errored or cancelled run) is
handed back and not stored. Streams of run events are replayed through
:class:`~omnicache_ai.layers.streaming_cache.StreamingResponseCache` the same way.
"""

from __future__ import annotations

import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from contextlib import aclosing, closing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Generic, TypeVar, cast

from omnicache_ai.core.cache_manager import CacheManager, RequestConfig
from omnicache_ai.core.serializer import Serializer
from omnicache_ai.layers._admit import Uncacheable
from omnicache_ai.layers._base import refreshing
from omnicache_ai.layers.response_cache import ResponseCache
from omnicache_ai.layers.streaming_cache import StreamingResponseCache

__all__ = ["RunCodec", "RunReplay"]

logger = logging.getLogger("omnicache_ai")

R = TypeVar("R")
E = TypeVar("E")

#: Version of the stored run envelope; bump it when an adapter's stored form changes.
_FORMAT: Final = 1


def _same(value: Any) -> Any:
    return value


def _accept(_value: Any) -> str | None:
    return None


def _never(_value: Any) -> bool:
    return False


@dataclass(frozen=True)
class RunCodec(Generic[R]):
    """How an adapter stores a framework's run result and rebuilds it.

    Attributes:
        encode: ``result -> stored form``: something the manager's serializer writes (the safe
            serializer takes plain data, dataclasses and pydantic models).
        decode: ``stored form -> result``: the framework's own result type again.
        refuse: ``result -> reason | None``: a reason not to store this result (an errored,
            cancelled or paused run), or ``None`` to store it.

    Example:
        >>> codec = RunCodec(encode=str.upper, decode=str.lower)
        >>> codec.decode(codec.encode("ok"))
        'ok'
    """

    encode: Callable[[R], Any] = _same
    decode: Callable[[Any], R] = _same
    refuse: Callable[[R], str | None] = _accept


class _RunLayer(ResponseCache):
    # Whole runs live apart from single model calls, with the response TTL and metrics.
    key_type: ClassVar[str] = "run"


class _Undecodable:
    """Marks a stored run the codec could not rebuild (e.g. written by another version)."""


_UNDECODABLE: Final = _Undecodable()


@dataclass(frozen=True, slots=True)
class _Live:
    """One event of a live stream: the framework's object for the caller, its stored form."""

    event: Any
    stored: Any
    refused: bool = False


class _RunStreamLayer(StreamingResponseCache):
    key_type: ClassVar[str] = "runstream"

    def _entry(self, chunks: list[Any]) -> list[Any] | None:
        # The caller got the live events; the store gets their encoded forms, unless one of
        # them says the run failed (an error or cancellation event).
        if any(isinstance(c, _Live) and c.refused for c in chunks):
            return None
        return super()._entry([c.stored if isinstance(c, _Live) else c for c in chunks])


@dataclass
class RunReplay(Generic[R]):
    """Replay a framework's whole run for an identical, fully described input.

    Args:
        manager: The :class:`CacheManager` to store through.
        framework: Framework label (``"crewai"``); part of every key and model tag.
        codec: How results are stored and rebuilt (default: as they are).
        ttl: Seconds to live (default: the manager's ``response`` TTL).
        serializer: Serializer for these entries (default: the manager's).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> replay = RunReplay(CacheManager(), "demo")
        >>> calls = []
        >>> def run():
        ...     calls.append(1)
        ...     return {"answer": 4}
        >>> ctx = {"instructions": "Be brief", "tools": []}
        >>> replay.run("gpt-4o", "2+2?", ctx, run), replay.run("gpt-4o", "2+2?", ctx, run)
        ({'answer': 4}, {'answer': 4})
        >>> len(calls)
        1
    """

    manager: CacheManager
    framework: str
    codec: RunCodec[R] = field(default_factory=RunCodec)
    ttl: float | None = None
    serializer: Serializer | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.framework, str) or not self.framework:
            raise ValueError(f"framework must be a non-empty label, got {self.framework!r}")
        self._layer = _RunLayer(self.manager, serializer=self.serializer, ttl=self.ttl)
        self._warned = False
        self._streams = _RunStreamLayer(self.manager, serializer=self.serializer, ttl=self.ttl)

    # ---- keys ------------------------------------------------------------------------------
    def _request(
        self, model: str, run_input: Any, context: Mapping[str, Any]
    ) -> tuple[list[Any], str, dict[str, Any]]:
        if not isinstance(context, Mapping):
            raise TypeError(f"context must be a mapping, got {type(context).__name__}")
        # The input and context are nested under one parameter so no name in them meets the
        # request normalisation (which drops e.g. `metadata` or `user` at the top level).
        messages = [{"role": "run", "content": run_input}]
        model_id = f"{self.framework}/{model or 'unknown'}"
        return messages, model_id, {"run": dict(context), "format": _FORMAT}

    def key(self, model: str, run_input: Any, context: Mapping[str, Any]) -> str:
        """The key a run is stored under (to debug a miss).

        Raises:
            TypeError: The input or context holds a value no key can be built from.
        """
        messages, model_id, params = self._request(model, run_input, context)
        return self._layer.cache_key(messages, model_id=model_id, params=params)

    def stream_key(self, model: str, run_input: Any, context: Mapping[str, Any]) -> str:
        """The key a streamed run is stored under."""
        messages, model_id, params = self._request(model, run_input, context)
        return self._streams.cache_key(messages, model_id=model_id, params=params)

    # ---- the shared logic of run/arun ------------------------------------------------------
    def _fill(self, result: R) -> Any:
        """The stored form of a fresh result; raises :class:`Uncacheable` to skip storing."""
        why = self.codec.refuse(result)
        if why is not None:
            raise Uncacheable(result, why)
        return {"format": _FORMAT, "result": self.codec.encode(result)}

    def _served(self, stored: Any, fresh: list[R]) -> R | _Undecodable:
        """The result to hand back, or :data:`_UNDECODABLE` for an entry that cannot be read."""
        if fresh:  # computed in this call: hand back the live object, not a copy
            return fresh[0]
        if isinstance(stored, Mapping) and stored.get("format") == _FORMAT:
            try:
                return self.codec.decode(stored["result"])
            except Exception as err:  # noqa: BLE001 - a bad entry is a miss, never an error
                self._undecodable(err, self._layer.layer)
                return _UNDECODABLE
        return stored  # type: ignore[no-any-return]  # handed back unstored by Uncacheable

    def _undecodable(self, err: Exception, layer: str) -> None:
        """Log (once) and count an entry the codec could not rebuild."""
        if not self._warned:
            self._warned = True
            logger.warning(
                "omnicache: a stored %s run could not be rebuilt (%s: %s); running it "
                "again and overwriting the entry (logged once)",
                self.framework,
                type(err).__name__,
                err,
            )
        m = self.manager
        m.metrics.record_error(m.metrics.series(layer, m.tenant, m.backend_name), "decode")

    def _replayed(self, stored: list[Any], decode: Callable[[Any], E]) -> list[E] | None:
        """Every event of a stored stream rebuilt, or ``None`` when one of them cannot be.

        A replay is all or nothing: the caller never gets half a run and then an error.
        """
        try:
            return [decode(item) for item in stored]
        except Exception as err:  # noqa: BLE001 - a bad entry is a miss, never an error
            self._undecodable(err, self._streams.layer)
            return None

    # ---- sync / async ----------------------------------------------------------------------
    def run(
        self,
        model: str,
        run_input: Any,
        context: Mapping[str, Any],
        call: Callable[[], R],
        *,
        config: RequestConfig | None = None,
    ) -> R:
        """The replayed result of this run, or ``call()`` run once and stored."""
        messages, model_id, params = self._request(model, run_input, context)
        fresh: list[R] = []

        def produce(_messages: Any) -> Any:
            result = call()
            fresh.append(result)
            return self._fill(result)

        stored = self._layer.get_or_generate(
            messages, produce, model_id=model_id, params=params, config=config
        )
        served = self._served(stored, fresh)
        if isinstance(served, _Undecodable):
            return self.run(model, run_input, context, call, config=refreshing(config))
        return served

    async def arun(
        self,
        model: str,
        run_input: Any,
        context: Mapping[str, Any],
        call: Callable[[], Awaitable[R]],
        *,
        config: RequestConfig | None = None,
    ) -> R:
        """Async :meth:`run`: ``call()`` returns an awaitable; the loop is never blocked."""
        messages, model_id, params = self._request(model, run_input, context)
        fresh: list[R] = []

        async def produce(_messages: Any) -> Any:
            result = await call()
            fresh.append(result)
            return self._fill(result)

        stored = await self._layer.aget_or_generate(
            messages, produce, model_id=model_id, params=params, config=config
        )
        served = self._served(stored, fresh)
        if isinstance(served, _Undecodable):
            return await self.arun(model, run_input, context, call, config=refreshing(config))
        return served

    # ---- streamed runs (a sequence of framework events) -------------------------------------
    def stream(
        self,
        model: str,
        run_input: Any,
        context: Mapping[str, Any],
        call: Callable[[], Iterable[E]],
        *,
        encode: Callable[[E], Any] = _same,
        decode: Callable[[Any], E] = _same,
        refuse: Callable[[E], bool] = _never,
        config: RequestConfig | None = None,
    ) -> Generator[E, None, None]:
        """Stream ``call()`` live on a miss (stored once it ran to its end); replay on a hit.

        ``encode``/``decode`` map one event to its stored form and back; a stream with an
        event for which ``refuse(event)`` is true (an error event) is not stored. A stored
        stream is rebuilt whole before its first event is handed over; one that cannot be
        (written by another version) is a miss: ``call()`` runs and overwrites it.
        """
        messages, model_id, params = self._request(model, run_input, context)

        def source(_messages: Any) -> Iterator[Any]:
            for event in call():
                yield _Live(event, encode(event), refuse(event))

        items = cast(  # a generator: closed at once when our consumer stops early
            "Generator[Any, None, None]",
            self._streams.get_or_stream(
                messages, source, model_id=model_id, params=params, config=config
            ),
        )
        with closing(items):
            for item in items:
                if isinstance(item, _Live):
                    yield item.event
                    continue
                replayed = self._replayed([item, *items], decode)  # the rest is in memory
                if replayed is None:
                    yield from self.stream(
                        model,
                        run_input,
                        context,
                        call,
                        encode=encode,
                        decode=decode,
                        refuse=refuse,
                        config=refreshing(config),
                    )
                else:
                    yield from replayed
                return

    async def astream(
        self,
        model: str,
        run_input: Any,
        context: Mapping[str, Any],
        call: Callable[[], AsyncIterator[E]],
        *,
        encode: Callable[[E], Any] = _same,
        decode: Callable[[Any], E] = _same,
        refuse: Callable[[E], bool] = _never,
        config: RequestConfig | None = None,
    ) -> AsyncGenerator[E, None]:
        """Async :meth:`stream`: ``call()`` returns an async iterator of events."""
        messages, model_id, params = self._request(model, run_input, context)

        async def source(_messages: Any) -> AsyncIterator[Any]:
            async for event in call():
                yield _Live(event, encode(event), refuse(event))

        items = cast(
            "AsyncGenerator[Any, None]",
            self._streams.aget_or_stream(
                messages, source, model_id=model_id, params=params, config=config
            ),
        )
        async with aclosing(items):
            async for item in items:
                if isinstance(item, _Live):
                    yield item.event
                    continue
                replayed = self._replayed([item] + [i async for i in items], decode)
                if replayed is None:
                    again = self.astream(
                        model,
                        run_input,
                        context,
                        call,
                        encode=encode,
                        decode=decode,
                        refuse=refuse,
                        config=refreshing(config),
                    )
                    async with aclosing(again):
                        async for event in again:
                            yield event
                else:
                    for event in replayed:
                        yield event
                return
