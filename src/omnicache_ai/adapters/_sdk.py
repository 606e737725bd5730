"""What the provider-SDK adapters share: request translation, one flow for sync and async,
SDK-shaped stream wrappers and the hit marker.

The OpenAI and Anthropic adapters (and any future OpenAI-compatible gateway) differ only in
which keyword names the prompt (``messages`` or ``input``) and which client method goes
upstream. Everything else lives here, written once:

* :class:`SdkCache` turns an SDK call's keyword arguments into a layer request (the prompt,
  the model, the parameters) and hands it to :class:`ResponseCache`,
  :class:`StreamingResponseCache` and, when given, a :class:`SemanticCache`; answers that
  reached the provider have their provider prompt-cache usage counted by a
  :class:`PromptCacheLayer`.
* Flows are generators that yield the layer calls they need (:class:`Op`, a sync and an
  async twin of one call); :func:`run` calls them, :func:`arun` awaits them, so the sync and
  async client paths share every decision.
* :class:`CachedStream` / :class:`AsyncCachedStream` look like the SDK's ``Stream`` /
  ``AsyncStream``: iterate, ``close()``, context manager, ``response`` (the live HTTP
  response; ``None`` on a replay).
* :func:`cache_info` tells whether an object returned by an adapter came from the cache.

The caching rules themselves (keys, admission of errors/refusals/truncation, stampede,
stream buffering) are the layers'; nothing here decides them.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Generic, NamedTuple, TypeVar

from omnicache_ai.core.cache_manager import MISSING, CacheManager
from omnicache_ai.layers._request import normalize_params
from omnicache_ai.layers.prompt_cache import PromptCacheLayer
from omnicache_ai.layers.response_cache import ResponseCache
from omnicache_ai.layers.semantic_cache import SemanticCache
from omnicache_ai.layers.streaming_cache import StreamingResponseCache

__all__ = [
    "AsyncCachedStream",
    "CacheInfo",
    "CachedStream",
    "Flow",
    "Op",
    "Proxy",
    "SdkCache",
    "SdkRequest",
    "arun",
    "cache_info",
    "client_for",
    "mark",
    "run",
    "sdk_request",
    "then",
]

T = TypeVar("T")
R = TypeVar("R")

#: Attribute holding the :class:`CacheInfo` of an object an adapter returned.
INFO_ATTR: Final = "_omnicache"

#: Keyword arguments that are never part of the request body, so never part of a key, and
#: that an adapter must still forward upstream unchanged. (The layers drop them too; listing
#: them here keeps ``stream`` from reaching the key under another spelling.)
_NOT_KEYED: Final = frozenset({"stream"})


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """Whether an answer came from the cache, and from which layer.

    Attributes:
        hit: ``True`` when no request reached the provider.
        layer: The layer that answered or stored it: ``"response"``, ``"streaming"``,
            ``"semantic"`` or ``"embedding"``.
        similarity: Cosine similarity of a semantic hit (``None`` otherwise).
        hits: Embeddings: how many inputs were served from the cache.
        misses: Embeddings: how many distinct inputs were sent upstream.

    Example:
        >>> CacheInfo(hit=True, layer="response").hit
        True
    """

    hit: bool
    layer: str
    similarity: float | None = None
    hits: int = 0
    misses: int = 0


def cache_info(obj: Any) -> CacheInfo | None:
    """The :class:`CacheInfo` of an object returned by an SDK adapter, ``None`` for others.

    Works on ``ChatCompletion``, ``Response``, ``CreateEmbeddingResponse``, Anthropic
    ``Message`` and on the streams the adapters return (decided once the stream is opened).
    The same value is readable as ``obj._omnicache``.

    Example:
        >>> cache_info("not from an adapter") is None
        True
    """
    info = getattr(obj, INFO_ATTR, None)
    return info if isinstance(info, CacheInfo) else None


def mark(obj: R, info: CacheInfo) -> R:
    """Attach ``info`` to ``obj`` (SDK pydantic models keep it out of dumps and equality)."""
    # A str, a dict or a slotted object has nowhere to put it: left unmarked.
    with contextlib.suppress(AttributeError, TypeError):
        object.__setattr__(obj, INFO_ATTR, info)
    return obj


# ---- one flow, two shells -----------------------------------------------------------------


class Op(NamedTuple):
    """One layer call a flow needs: the sync method, its async twin and their arguments."""

    sync: Callable[..., Any]
    asynchronous: Callable[..., Awaitable[Any]]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


Flow = Generator[Op, Any, R]


def run(flow: Flow[R]) -> R:
    """Drive ``flow`` with plain calls."""
    result: Any = None
    try:
        while True:
            op = flow.send(result)
            result = op.sync(*op.args, **op.kwargs)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        flow.close()


async def arun(flow: Flow[R]) -> R:
    """Drive ``flow`` awaiting each call (never blocking the event loop)."""
    result: Any = None
    try:
        while True:
            op = flow.send(result)
            result = await op.asynchronous(*op.args, **op.kwargs)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        flow.close()


def then(value: Any, fn: Callable[[Any], R]) -> Any:
    """``fn(value)``, or for an awaitable a coroutine of ``fn(await value)``.

    Lets one callback serve a sync client (a value) and an async one (a coroutine); the
    layers' async methods await what they are handed.
    """
    if inspect.isawaitable(value):
        pending = value

        async def chained() -> R:
            return fn(await pending)

        return chained()
    return fn(value)


# ---- SDK-shaped streams -------------------------------------------------------------------

_END: Final[Any] = object()


class _StreamBase:
    """What both stream wrappers share: the first item, the live source, the hit marker."""

    def __init__(
        self, opened: list[Any], layer: str, on_live_end: Callable[[list[Any]], None] | None
    ) -> None:
        self._opened = opened
        self._first: Any = _END
        self._seen: list[Any] | None = None
        self._on_live_end = on_live_end
        object.__setattr__(self, INFO_ATTR, CacheInfo(hit=True, layer=layer))

    def _primed(self, first: Any, layer: str) -> None:
        self._first = first
        if self._opened:  # the provider was called: a live stream, watched for its usage
            object.__setattr__(self, INFO_ATTR, CacheInfo(hit=False, layer=layer))
            self._seen = [] if first is _END else [first]

    @property
    def response(self) -> Any:
        """The live stream's HTTP response (``None`` when replayed from the cache)."""
        return getattr(self._opened[0], "response", None) if self._opened else None

    def _take_first(self) -> Any:
        first, self._first = self._first, _END
        return first

    def _finish(self) -> None:
        """A live stream ran to its end: hand what it carried (its usage) over."""
        seen, self._seen = self._seen, None
        if seen is not None and self._on_live_end is not None:
            self._on_live_end(seen)


class CachedStream(_StreamBase, Generic[T]):
    """A sync SDK ``Stream`` stand-in over a cached replay or a live, buffered stream.

    The request is made when the stream is created (as the SDK's ``create(stream=True)``
    does), so an HTTP error is raised there; :func:`cache_info` is known from then on.

    Example:
        >>> s = CachedStream(iter(["a", "b"]), [], layer="streaming")
        >>> list(s), cache_info(s).hit
        (['a', 'b'], True)
    """

    def __init__(
        self,
        chunks: Iterator[T],
        opened: list[Any],
        *,
        layer: str,
        on_live_end: Callable[[list[T]], None] | None = None,
    ) -> None:
        super().__init__(opened, layer, on_live_end)
        self._it = chunks
        try:
            first: Any = next(chunks)
        except StopIteration:
            first = _END
            self._primed(first, layer)
            self._finish()
            return
        self._primed(first, layer)

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        first = self._take_first()
        if first is not _END:
            return first  # type: ignore[no-any-return]
        try:
            item = next(self._it)
        except StopIteration:
            self._finish()
            raise
        if self._seen is not None:
            self._seen.append(item)
        return item

    def close(self) -> None:
        """Stop early: release the HTTP stream; a live stream closed early is not cached."""
        self._seen = None
        close = getattr(self._it, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> CachedStream[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncCachedStream(_StreamBase, Generic[T]):
    """Async twin of :class:`CachedStream` (an SDK ``AsyncStream`` stand-in).

    Build it with ``await AsyncCachedStream.open(...)``.
    """

    def __init__(
        self,
        chunks: AsyncIterator[T],
        opened: list[Any],
        *,
        layer: str,
        on_live_end: Callable[[list[T]], None] | None = None,
    ) -> None:
        super().__init__(opened, layer, on_live_end)
        self._it = chunks

    @classmethod
    async def open(
        cls,
        chunks: AsyncIterator[T],
        opened: list[Any],
        *,
        layer: str,
        on_live_end: Callable[[list[T]], None] | None = None,
    ) -> AsyncCachedStream[T]:
        """Make the request (read up to the first item) and wrap the stream."""
        stream = cls(chunks, opened, layer=layer, on_live_end=on_live_end)
        try:
            first: Any = await anext(chunks)
        except StopAsyncIteration:
            stream._primed(_END, layer)
            stream._finish()
            return stream
        stream._primed(first, layer)
        return stream

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        first = self._take_first()
        if first is not _END:
            return first  # type: ignore[no-any-return]
        try:
            item = await anext(self._it)
        except StopAsyncIteration:
            self._finish()
            raise
        if self._seen is not None:
            self._seen.append(item)
        return item

    async def close(self) -> None:
        """Async :meth:`CachedStream.close`."""
        self._seen = None
        aclose = getattr(self._it, "aclose", None)
        if callable(aclose):
            await aclose()

    async def __aenter__(self) -> AsyncCachedStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


# ---- the request translation --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SdkRequest:
    """One SDK call as the layers see it.

    Attributes:
        messages: The prompt (``messages`` or the Responses API's ``input``).
        model: The model id.
        params: Every other keyword argument (the layers drop the volatile ones), plus
            ``"api"``, which keeps two SDK methods' answers to the same prompt apart.
    """

    messages: Any
    model: str
    params: dict[str, Any]


def sdk_request(
    api: str,
    kwargs: Mapping[str, Any],
    *,
    prompt: str = "messages",
    extra: Mapping[str, Any] | None = None,
) -> tuple[SdkRequest, dict[str, Any]]:
    """Translate an SDK call's keyword arguments into an :class:`SdkRequest`.

    Returns:
        The request, and the keyword arguments to send upstream: the caller's, except that
        a one-shot iterable prompt (the SDKs accept any iterable) is read into a list once,
        so the key and the provider see the same messages.

    Raises:
        TypeError: ``model`` or the prompt argument is missing (the SDK would refuse too).
    """
    model = kwargs.get("model")
    if not isinstance(model, str) or not model:
        raise TypeError(f"{api}: a model is required (model='...'), got {model!r}")
    if prompt not in kwargs:
        raise TypeError(f"{api}: the {prompt!r} argument is required")
    send = dict(kwargs)
    messages = send[prompt]
    if not isinstance(messages, str | list | tuple | Mapping) and isinstance(messages, Iterable):
        messages = send[prompt] = list(messages)
    params = {k: v for k, v in send.items() if k not in _NOT_KEYED and k not in (prompt, "model")}
    params["api"] = api
    if extra:
        params.update(extra)
    return SdkRequest(messages, model, params), send


class Proxy:
    """Delegates every attribute to ``target`` except the ``members`` it is given.

    How a drop-in client intercepts ``chat.completions.create`` and leaves the rest of the
    SDK (``with_raw_response``, ``batches``, ``models`` ...) as it is.

    Example:
        >>> p = Proxy("text", upper=lambda: "intercepted")
        >>> p.upper(), p.lower()
        ('intercepted', 'text')
    """

    def __init__(self, target: Any, **members: Any) -> None:
        object.__setattr__(self, "_target", target)
        self.__dict__.update(members)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_target"), name)

    def __repr__(self) -> str:
        return f"<cached {object.__getattribute__(self, '_target')!r}>"


def client_for(
    wrapper: str, client_type: type[Any], client: Any, client_kwargs: Mapping[str, Any]
) -> Any:
    """The client a drop-in wraps: ``client``, or one built from ``client_kwargs``.

    Raises:
        TypeError: Both or the wrong kind of client were given.
    """
    if client is None:
        client = client_type(**client_kwargs)
    elif client_kwargs:
        raise TypeError(f"{wrapper}: pass either a client or client arguments, not both")
    if not isinstance(client, client_type):
        kind = f"{client_type.__module__.split('.')[0]}.{client_type.__name__}"
        raise TypeError(f"{wrapper} wraps an {kind}, got {type(client).__name__}")
    return client


class SdkCache:
    """The layers one SDK adapter stores through, and the flows that use them.

    Args:
        manager: The :class:`CacheManager` (a tenant view keeps tenants apart).
        semantic: Opt-in :class:`SemanticCache` consulted after an exact miss.
        ttl: Seconds to live of answers and streams (default: the manager's per-layer TTLs).
        cache_truncated: Also cache answers cut off by the token limit.
        prompt_cache: Where provider prompt-cache usage is counted (default: a
            :class:`PromptCacheLayer` on ``manager``).
    """

    def __init__(
        self,
        manager: CacheManager,
        *,
        semantic: SemanticCache | None = None,
        ttl: float | None = None,
        cache_truncated: bool = False,
        prompt_cache: PromptCacheLayer | None = None,
    ) -> None:
        if not isinstance(manager, CacheManager):
            raise TypeError(f"manager must be a CacheManager, got {type(manager).__name__}")
        if semantic is not None and not isinstance(semantic, SemanticCache):
            raise TypeError(f"semantic must be a SemanticCache, got {type(semantic).__name__}")
        if prompt_cache is not None and not isinstance(prompt_cache, PromptCacheLayer):
            raise TypeError(
                f"prompt_cache must be a PromptCacheLayer, got {type(prompt_cache).__name__}"
            )
        self.manager = manager
        self.semantic = semantic
        self.responses = ResponseCache(manager, ttl=ttl, cache_truncated=cache_truncated)
        self.streams = StreamingResponseCache(manager, ttl=ttl, cache_truncated=cache_truncated)
        self.prompt = prompt_cache if prompt_cache is not None else PromptCacheLayer(manager)

    def _count_provider_cache(self, response: Any) -> None:
        self.prompt.record_usage(response)

    def complete(self, req: SdkRequest, fetch: Callable[[], Any]) -> Flow[Any]:
        """The flow of a non-streamed call: exact, then semantic (opt-in), then ``fetch()``.

        ``fetch`` returns the SDK's answer, or a coroutine of it for an async client.
        """
        rc, sem = self.responses, self.semantic
        where = {"model_id": req.model, "params": req.params}
        # The semantic partition hashes its params as given: hand it only what changes the
        # answer, as the exact key sees it (no user, timeout objects, headers or defaults).
        partition = {"model": req.model, "params": normalize_params(req.params)}
        if sem is not None:
            cached = yield Op(rc.get, rc.aget, (req.messages,), {**where, "default": MISSING})
            if cached is not MISSING:
                return mark(cached, CacheInfo(hit=True, layer=rc.layer))
            found = yield Op(sem.lookup, sem.alookup, (req.messages,), partition)
            if found.hit:
                return mark(found.value, CacheInfo(True, sem.layer, similarity=found.similarity))
        called: list[bool] = []

        def generate(_: Any) -> Any:
            called.append(True)
            return fetch()

        value = yield Op(rc.get_or_generate, rc.aget_or_generate, (req.messages, generate), where)
        if called:
            self._count_provider_cache(value)
            if sem is not None and rc.admission.problem(value) is None:
                yield Op(sem.set, sem.aset, (req.messages, value), partition)
        return mark(value, CacheInfo(hit=not called, layer=rc.layer))

    def stream(self, req: SdkRequest, fetch: Callable[[], Any]) -> CachedStream[Any]:
        """Replay the cached stream or pass the live one through (sync client)."""
        opened: list[Any] = []

        def open_live(_: Any) -> Any:
            source = fetch()
            opened.append(source)
            return source

        chunks = self.streams.get_or_stream(
            req.messages, open_live, model_id=req.model, params=req.params
        )
        return CachedStream(
            chunks, opened, layer=self.streams.layer, on_live_end=self._count_provider_cache
        )

    async def astream(self, req: SdkRequest, fetch: Callable[[], Any]) -> AsyncCachedStream[Any]:
        """Async :meth:`stream` (``fetch`` returns a coroutine of the SDK's ``AsyncStream``)."""
        opened: list[Any] = []

        def keep(source: Any) -> Any:
            opened.append(source)
            return source

        def open_live(_: Any) -> Any:
            return then(fetch(), keep)

        chunks = self.streams.aget_or_stream(
            req.messages, open_live, model_id=req.model, params=req.params
        )
        return await AsyncCachedStream.open(
            chunks, opened, layer=self.streams.layer, on_live_end=self._count_provider_cache
        )
