"""StreamingResponseCache: stream live on a miss while buffering, replay the chunks on a hit.

The first call passes the provider's stream through chunk by chunk and keeps a copy; only a
stream that ran to its end is stored. An exception, a cancelled task or a consumer that
stops early (closing the generator) stores nothing, and so does a stream that is empty,
truncated (``finish_reason="length"`` / ``stop_reason="max_tokens"``, configurable), a
refusal or an error event. A hit yields the chunks again, same types (e.g.
``ChatCompletionChunk`` objects) and order, optionally ``replay_delay`` seconds apart.

Concurrent identical requests are coalesced: the first caller to miss leads, and callers
(threads of the sync API, tasks of the async one) that miss the same key while its stream is
in flight read that one upstream stream instead of opening their own. Each receives every
chunk from the first, live, in order and with its original type (see
:class:`~omnicache_ai.layers._stream.SharedStream` for what happens on errors,
cancellation and early stops). ``coalesce=False`` turns this off.

Keys are built like :class:`~omnicache_ai.layers.response_cache.ResponseCache` keys (same
normalisation; ``stream`` and ``stream_options`` are ignored) but in their own key space,
since a stream's chunks are not a complete response. Entries carry the ``model:<id>`` tag,
so ``ResponseCache.invalidate_model`` retires streams too.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import aclosing
from typing import Any

from omnicache_ai.core.cache_manager import MISSING, CacheManager, RequestConfig
from omnicache_ai.core.serializer import Serializer, builtin_safe_serializer
from omnicache_ai.layers._admit import Admission
from omnicache_ai.layers._base import RequestLayer, check_id, with_tags
from omnicache_ai.layers._request import RequestKeyer
from omnicache_ai.layers._stream import (
    areplay,
    ashared,
    atee,
    check_delay,
    replay,
    shared,
    stream_table,
    tee,
)
from omnicache_ai.layers._usage import usage_from_chunks
from omnicache_ai.layers.response_cache import count_savings

__all__ = ["StreamingResponseCache"]


class StreamingResponseCache(RequestLayer):
    """Cache streamed LLM answers and replay them as a stream.

    Args:
        manager: The :class:`CacheManager` to store through.
        serializer: Serializer for this layer's entries.
        ttl: Default seconds to live (default: the manager's ``streaming`` TTL).
        replay_delay: Seconds between replayed chunks (0: as fast as the consumer reads).
        cache_truncated: Also cache streams cut off by the token limit.
        is_refusal: ``predicate(chunks) -> bool`` marking further streams as refusals.
        param_defaults: Parameter defaults to normalise away (see ``ResponseCache``).
        ignored_params: Parameters left out of the key (see ``ResponseCache``).
        coalesce: Let concurrent identical requests share one upstream stream (default).
            A follower waits for the shared stream at most the manager's stampede timeout
            between chunks.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> sc = StreamingResponseCache(CacheManager())
        >>> fake_llm = lambda msgs: iter(["The ", "answer ", "is 4."])
        >>> q = [{"role": "user", "content": "2+2?"}]
        >>> "".join(sc.get_or_stream(q, fake_llm, model_id="gpt-4o"))
        'The answer is 4.'
        >>> "".join(sc.get_or_stream(q, lambda m: iter(["never called"]), model_id="gpt-4o"))
        'The answer is 4.'
    """

    layer = "streaming"
    key_type = "stream"

    def __init__(
        self,
        manager: CacheManager,
        *,
        serializer: Serializer | None = None,
        ttl: float | None = None,
        replay_delay: float = 0.0,
        cache_truncated: bool = False,
        is_refusal: Callable[[Any], bool] | None = None,
        param_defaults: Mapping[str, Any] | None = None,
        ignored_params: Iterable[str] | None = None,
        coalesce: bool = True,
    ) -> None:
        super().__init__(manager, serializer=serializer, ttl=ttl)
        self.replay_delay = check_delay(replay_delay)
        self.admission = Admission(cache_truncated=cache_truncated, is_refusal=is_refusal)
        self._keyer = RequestKeyer(param_defaults, ignored_params)
        self.coalesce = coalesce
        # Shared with every layer on this manager (and its tenant views): one flight per key.
        self._flights = stream_table(manager.stampede)
        # A leader rechecks with exists(), which counts no second miss but decodes without
        # our serializer; a custom format is rechecked with get() (and counted) instead.
        self._exists_reads = (
            serializer is None or builtin_safe_serializer(serializer.format_id) is not None
        )

    # ---- pure helpers -----------------------------------------------------------------------
    def cache_key(
        self, messages: Any, *, model_id: str | None = None, params: Mapping[str, Any] | None = None
    ) -> str:
        """The key a streamed request is stored under."""
        return self._request(messages, model_id, params)[0]

    def _entry(self, chunks: list[Any]) -> list[Any] | None:
        """Stored form of a completed stream, or ``None`` when it must not be cached."""
        if self.admission.stream_problem(chunks) is not None:
            return None
        usage = usage_from_chunks(chunks)
        return [chunks, usage.to_record() if usage is not None else None]

    def _hit(self, raw: Any, model: str) -> list[Any] | None:
        """The cached chunks (counting the savings), or ``None``."""
        if type(raw) is not list or len(raw) != 2 or type(raw[0]) is not list:
            return None
        if raw[1] is not None:
            count_savings(self.manager, self.layer, model, raw[1])
        chunks: list[Any] = raw[0]
        return chunks

    def _delay(self, replay_delay: float | None) -> float:
        return self.replay_delay if replay_delay is None else check_delay(replay_delay)

    def _coalesces(self, config: RequestConfig | None) -> bool:
        return self.coalesce and (config is None or not config.skip_cache)

    @staticmethod
    def _may_recheck(config: RequestConfig | None) -> bool:
        return config is None or not config.refresh

    def _timeout(self) -> float:
        return float(getattr(self.manager.stampede, "timeout", 60.0))

    def _followed(self) -> None:
        """Count a request served by another caller's stream (``coalesced`` in metrics)."""
        m = self.manager
        m.metrics.record_coalesced(m.metrics.series(self.layer, m.tenant, m.backend_name))

    def _shared_savings(self, model: str) -> Callable[[list[Any]], None]:
        """Count what a follower saved, from the usage the shared stream reported."""

        def count(chunks: list[Any]) -> None:
            entry = self._entry(chunks)
            if entry is not None and entry[1] is not None:
                count_savings(self.manager, self.layer, model, entry[1])

        return count

    def in_flight(self) -> int:
        """How many shared live streams are in flight on this manager right now."""
        return len(self._flights)

    # ---- sync API ---------------------------------------------------------------------------
    def get(
        self,
        messages: Any,
        *,
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        config: RequestConfig | None = None,
    ) -> list[Any] | None:
        """The cached chunks of this request, or ``None``."""
        key, model = self._request(messages, model_id, params)
        raw = self.manager.get(
            key, MISSING, layer=self.layer, config=config, serializer=self.serializer
        )
        return self._hit(raw, model)

    def set(
        self,
        messages: Any,
        chunks: Iterable[Any],
        *,
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> bool:
        """Store a complete list of chunks; returns ``False`` when it may not be cached."""
        key, model = self._request(messages, model_id, params)
        entry = self._entry(list(chunks))
        if entry is None:
            return False
        self.manager.set(
            key,
            entry,
            self._ttl(ttl),
            tags=with_tags(f"model:{model}", tags),
            layer=self.layer,
            config=config,
            serializer=self.serializer,
        )
        return True

    def get_or_stream(
        self,
        messages: Any,
        stream_fn: Callable[[Any], Iterable[Any]],
        *,
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
        replay_delay: float | None = None,
    ) -> Iterator[Any]:
        """Replay the cached stream, or stream ``stream_fn(messages)`` live and cache it.

        The request is validated and keyed at once; the lookup and ``stream_fn`` run when
        iteration starts.
        """
        key, model = self._request(messages, model_id, params)
        delay = self._delay(replay_delay)
        tag_list = with_tags(f"model:{model}", tags)

        def store(chunks: list[Any]) -> None:
            entry = self._entry(chunks)
            if entry is not None:
                self.manager.set(
                    key,
                    entry,
                    self._ttl(ttl),
                    tags=tag_list,
                    layer=self.layer,
                    config=config,
                    serializer=self.serializer,
                )

        def open_source() -> Iterable[Any]:
            source = stream_fn(messages)
            if inspect.isawaitable(source) or hasattr(source, "__aiter__"):
                _discard(source)
                raise TypeError(
                    "stream_fn returned an async stream; use `async for chunk in "
                    "cache.aget_or_stream(...)`"
                )
            return source

        def recheck() -> list[Any] | None:
            # Stored by a flight that ended between our miss and our lead: serve it.
            m = self.manager
            if not self._may_recheck(config) or (
                self._exists_reads and not m.exists(key, layer=self.layer)
            ):
                return None
            raw = m.get(key, MISSING, layer=self.layer, config=config, serializer=self.serializer)
            return self._hit(raw, model)

        def flow() -> Iterator[Any]:
            raw = self.manager.get(
                key, MISSING, layer=self.layer, config=config, serializer=self.serializer
            )
            cached = self._hit(raw, model)
            if cached is not None:
                yield from replay(cached, delay)
            elif self._coalesces(config):
                yield from shared(
                    self._flights,
                    (self.manager.tenant, key),
                    open_source,
                    store,
                    recheck=recheck,
                    on_follow=self._followed,
                    on_shared=self._shared_savings(model),
                    timeout=self._timeout(),
                )
            else:
                yield from tee(open_source(), store)

        return flow()

    def invalidate_model(self, model_id: str) -> int:
        """Retire every cached stream and response of ``model_id``."""
        return self.manager.invalidate(f"model:{check_id('model_id', model_id)}")

    # ---- async API --------------------------------------------------------------------------
    async def aget(
        self,
        messages: Any,
        *,
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        config: RequestConfig | None = None,
    ) -> list[Any] | None:
        """Async :meth:`get`."""
        key, model = self._request(messages, model_id, params)
        raw = await self.manager.aget(
            key, MISSING, layer=self.layer, config=config, serializer=self.serializer
        )
        return self._hit(raw, model)

    async def aset(
        self,
        messages: Any,
        chunks: Iterable[Any],
        *,
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> bool:
        """Async :meth:`set`."""
        key, model = self._request(messages, model_id, params)
        entry = self._entry(list(chunks))
        if entry is None:
            return False
        await self.manager.aset(
            key,
            entry,
            self._ttl(ttl),
            tags=with_tags(f"model:{model}", tags),
            layer=self.layer,
            config=config,
            serializer=self.serializer,
        )
        return True

    def aget_or_stream(
        self,
        messages: Any,
        stream_fn: Callable[[Any], Any],
        *,
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
        replay_delay: float | None = None,
    ) -> AsyncIterator[Any]:
        """Async :meth:`get_or_stream`: use with ``async for``.

        ``stream_fn`` may return an async iterable (an async generator, an SDK
        ``AsyncStream``), an awaitable resolving to one (``await client...create(stream=True)``
        style), or a plain iterable.

        Example:
            >>> import asyncio
            >>> from omnicache_ai import CacheManager
            >>> sc = StreamingResponseCache(CacheManager())
            >>> async def fake_llm(msgs):
            ...     for piece in ["Hel", "lo"]:
            ...         yield piece
            >>> async def main():
            ...     q = [{"role": "user", "content": "hi"}]
            ...     return [c async for c in sc.aget_or_stream(q, fake_llm, model_id="m")]
            >>> asyncio.run(main())
            ['Hel', 'lo']
        """
        key, model = self._request(messages, model_id, params)
        delay = self._delay(replay_delay)
        tag_list = with_tags(f"model:{model}", tags)

        async def store(chunks: list[Any]) -> None:
            entry = self._entry(chunks)
            if entry is not None:
                await self.manager.aset(
                    key,
                    entry,
                    self._ttl(ttl),
                    tags=tag_list,
                    layer=self.layer,
                    config=config,
                    serializer=self.serializer,
                )

        async def recheck() -> list[Any] | None:
            m = self.manager
            if not self._may_recheck(config) or (
                self._exists_reads and not await m.aexists(key, layer=self.layer)
            ):
                return None
            raw = await m.aget(
                key, MISSING, layer=self.layer, config=config, serializer=self.serializer
            )
            return self._hit(raw, model)

        async def flow() -> AsyncIterator[Any]:
            raw = await self.manager.aget(
                key, MISSING, layer=self.layer, config=config, serializer=self.serializer
            )
            cached = self._hit(raw, model)
            if cached is not None:
                chunks = areplay(cached, delay)
            elif self._coalesces(config):
                # Flights are per event loop: a task can only read a stream of its own loop.
                chunks = ashared(
                    self._flights,
                    (asyncio.get_running_loop(), self.manager.tenant, key),
                    lambda: stream_fn(messages),
                    store,
                    recheck=recheck,
                    on_follow=self._followed,
                    on_shared=self._shared_savings(model),
                    timeout=self._timeout(),
                )
            else:
                source = stream_fn(messages)
                if inspect.isawaitable(source):
                    source = await source
                chunks = atee(source, store)
            # aclosing: a consumer that stops early closes the live source now, not at GC.
            async with aclosing(chunks) as live:
                async for chunk in live:
                    yield chunk

        return flow()

    async def ainvalidate_model(self, model_id: str) -> int:
        """Async :meth:`invalidate_model`."""
        return await self.manager.ainvalidate(f"model:{check_id('model_id', model_id)}")


def _discard(source: Any) -> None:
    close = getattr(source, "close", None)
    if inspect.iscoroutine(source):
        source.close()
    elif callable(close) and not inspect.iscoroutinefunction(close):
        close()
