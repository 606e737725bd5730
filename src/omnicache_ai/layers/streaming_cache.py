"""StreamingResponseCache: stream live on a miss while buffering, replay the chunks on a hit.

The first call passes the provider's stream through chunk by chunk and keeps a copy; only a
stream that ran to its end is stored. An exception, a cancelled task or a consumer that
stops early (closing the generator) stores nothing, and so does a stream that is empty,
truncated (``finish_reason="length"`` / ``stop_reason="max_tokens"``, configurable), a
refusal or an error event. A hit yields the chunks again, same types (e.g.
``ChatCompletionChunk`` objects) and order, optionally ``replay_delay`` seconds apart.

Keys are built like :class:`~omnicache_ai.layers.response_cache.ResponseCache` keys (same
normalisation; ``stream`` and ``stream_options`` are ignored) but in their own key space,
since a stream's chunks are not a complete response. Entries carry the ``model:<id>`` tag,
so ``ResponseCache.invalidate_model`` retires streams too.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import aclosing
from typing import Any

from omnicache_ai.core.cache_manager import MISSING, CacheManager, RequestConfig
from omnicache_ai.core.serializer import Serializer
from omnicache_ai.layers._admit import Admission
from omnicache_ai.layers._base import LayerBase, check_id, with_tags
from omnicache_ai.layers._request import RequestKeyer
from omnicache_ai.layers._stream import areplay, atee, check_delay, replay, tee
from omnicache_ai.layers._usage import usage_from_chunks
from omnicache_ai.layers.response_cache import count_savings

__all__ = ["StreamingResponseCache"]


class StreamingResponseCache(LayerBase):
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
    ) -> None:
        super().__init__(manager, serializer=serializer, ttl=ttl)
        self.replay_delay = check_delay(replay_delay)
        self.admission = Admission(cache_truncated=cache_truncated, is_refusal=is_refusal)
        self._keyer = RequestKeyer(param_defaults, ignored_params)

    # ---- pure helpers -----------------------------------------------------------------------
    def _request(
        self, messages: Any, model_id: str | None, params: Mapping[str, Any] | None
    ) -> tuple[str, str]:
        """(key, model) of one request."""
        data, model = self._keyer.encode(messages, model_id, params)
        return self._key_of(data), model

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

        def flow() -> Iterator[Any]:
            raw = self.manager.get(
                key, MISSING, layer=self.layer, config=config, serializer=self.serializer
            )
            cached = self._hit(raw, model)
            if cached is not None:
                yield from replay(cached, delay)
                return
            source = stream_fn(messages)
            if inspect.isawaitable(source) or hasattr(source, "__aiter__"):
                _discard(source)
                raise TypeError(
                    "stream_fn returned an async stream; use `async for chunk in "
                    "cache.aget_or_stream(...)`"
                )
            yield from tee(source, store)

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

        async def flow() -> AsyncIterator[Any]:
            raw = await self.manager.aget(
                key, MISSING, layer=self.layer, config=config, serializer=self.serializer
            )
            cached = self._hit(raw, model)
            if cached is not None:
                async with aclosing(areplay(cached, delay)) as replayed:
                    async for chunk in replayed:
                        yield chunk
                return
            source = stream_fn(messages)
            if inspect.isawaitable(source):
                source = await source
            # aclosing: a consumer that stops early closes the live source now, not at GC.
            async with aclosing(atee(source, store)) as live:
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
