"""OpenAI SDK adapter: the real ``openai`` client, with its answers served from the cache.

Two ways in, one logic:

* :class:`OpenAICacheAdapter` (the README's API): ``adapter.chat_create(**kwargs)`` /
  ``await adapter.achat_create(**kwargs)``, plus ``responses_create`` and
  ``embeddings_create`` and their async twins;
* the drop-ins :class:`CachedOpenAI` / :class:`AsyncCachedOpenAI` (or :func:`wrap`), whose
  ``client.chat.completions.create(...)``, ``client.responses.create(...)`` and
  ``client.embeddings.create(...)`` keep the SDK's signatures and return types; every other
  attribute is the wrapped client's own (not cached).

What is returned is the SDK's own type: ``ChatCompletion``, ``Response``,
``CreateEmbeddingResponse``; with ``stream=True`` an SDK-``Stream``-like iterator of
``ChatCompletionChunk`` (or Responses stream events). A cached stream is replayed chunk by
chunk, its usage chunk included; a live one is passed through as it arrives and stored only
once it completed. Errors, refusals, truncated answers and streams abandoned or broken midway
are never stored (the layers' admission rules). ``cache_info(response)`` tells a hit from a
miss.

Example:
    >>> import openai
    >>> from omnicache_ai import CacheManager
    >>> from omnicache_ai.adapters.openai_adapter import CachedOpenAI
    >>> sdk = openai.OpenAI(api_key="sk-test")
    >>> client = CachedOpenAI(sdk, CacheManager())
    >>> client.models is sdk.models  # not intercepted: the SDK's own
    True
"""

from __future__ import annotations

import base64
import copy
import functools
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from omnicache_ai.adapters._sdk import (
    CacheInfo,
    Flow,
    Op,
    Proxy,
    SdkCache,
    arun,
    cache_info,
    client_for,
    mark,
    run,
    sdk_request,
    then,
)
from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.layers.embedding_cache import EmbeddingCache
from omnicache_ai.layers.prompt_cache import PromptCacheLayer
from omnicache_ai.layers.semantic_cache import SemanticCache

try:
    import openai
    from openai.types import CreateEmbeddingResponse, Embedding
    from openai.types.create_embedding_response import Usage
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.openai_adapter needs the openai SDK; "
        "install it with: pip install 'omnicache-ai[openai]'"
    ) from err

__all__ = [
    "AsyncCachedOpenAI",
    "CacheInfo",
    "CachedOpenAI",
    "OpenAICacheAdapter",
    "cache_info",
    "wrap",
]

_CHAT: Final = "openai.chat"
_RESPONSES: Final = "openai.responses"
# Embedding keyword arguments that never change a vector: the wire format only.
_EMBED_FORMAT: Final = frozenset({"input", "model", "encoding_format"})


def _stream_extra(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    # stream_options is transport, except include_usage: a stream stored without its usage
    # chunk must not answer a request that asks for one.
    if not kwargs.get("stream"):
        return None
    options = kwargs.get("stream_options")
    if isinstance(options, Mapping) and options.get("include_usage"):
        return {"stream_include_usage": True}
    return None


def _responses_cacheable(kwargs: Mapping[str, Any]) -> bool:
    # A `conversation` grows server-side between calls, so the same arguments do not mean
    # the same request; background calls return a queued placeholder, never the answer.
    return "input" in kwargs and not kwargs.get("conversation") and not kwargs.get("background")


def _texts(inputs: Any) -> list[str] | None:
    """The inputs as a list of strings, or ``None`` for token arrays (sent uncached)."""
    if isinstance(inputs, str):
        return [inputs]
    if isinstance(inputs, Sequence) and inputs and all(type(t) is str for t in inputs):
        return list(inputs)
    return None


def _as_vector(embedding: Any) -> np.ndarray[Any, Any]:
    if isinstance(embedding, str):  # encoding_format="base64": little-endian float32
        return np.frombuffer(base64.b64decode(embedding), dtype="<f4").copy()
    return np.asarray(embedding, dtype=np.float32)


def _encoded(vector: Any, encoding_format: Any) -> Any:
    arr = np.asarray(vector, dtype="<f4")
    if encoding_format == "base64":
        return base64.b64encode(arr.tobytes()).decode("ascii")
    return arr.tolist()


class OpenAICacheAdapter:
    """Cache an ``openai.OpenAI`` / ``openai.AsyncOpenAI`` client's calls.

    Chat Completions and the Responses API go through ``ResponseCache`` (or
    ``StreamingResponseCache`` with ``stream=True``); embeddings through ``EmbeddingCache``
    (each input is its own entry: only the misses are sent, in one request, order kept).

    Args:
        client: The SDK client (sync methods need ``OpenAI``, ``a``-methods ``AsyncOpenAI``).
        manager: The :class:`CacheManager` to store through (a tenant view for tenants).
        semantic: Opt-in :class:`SemanticCache`: after an exact miss, a paraphrase of a
            cached prompt (same model and parameters) is served.
        ttl: Seconds to live of answers and streams (default: the manager's layer TTLs).
        embedding_ttl: Seconds to live of embeddings (default: the manager's).
        cache_truncated: Also cache answers cut off by ``max_tokens``.
        prompt_cache: Where the provider's own prompt-cache usage
            (``usage.prompt_tokens_details.cached_tokens``) is counted (default: a
            :class:`PromptCacheLayer` on ``manager``).

    Example:
        >>> import openai
        >>> from omnicache_ai import CacheManager
        >>> adapter = OpenAICacheAdapter(openai.OpenAI(api_key="sk-test"), CacheManager())
        >>> adapter.is_async
        False
    """

    def __init__(
        self,
        client: openai.OpenAI | openai.AsyncOpenAI,
        manager: CacheManager,
        *,
        semantic: SemanticCache | None = None,
        ttl: float | None = None,
        embedding_ttl: float | None = None,
        cache_truncated: bool = False,
        prompt_cache: PromptCacheLayer | None = None,
    ) -> None:
        if not isinstance(client, openai.OpenAI | openai.AsyncOpenAI):
            raise TypeError(
                "client must be an openai.OpenAI or openai.AsyncOpenAI, "
                f"got {type(client).__name__}"
            )
        self.client: Any = client
        self.is_async = isinstance(client, openai.AsyncOpenAI)
        self.cache = SdkCache(
            manager,
            semantic=semantic,
            ttl=ttl,
            cache_truncated=cache_truncated,
            prompt_cache=prompt_cache,
        )
        self.embeddings = EmbeddingCache(manager, ttl=embedding_ttl)

    @property
    def manager(self) -> CacheManager:
        """The manager answers are stored through."""
        return self.cache.manager

    def rebind(self, client: openai.OpenAI | openai.AsyncOpenAI) -> OpenAICacheAdapter:
        """This adapter's caches in front of another client (e.g. ``client.with_options()``)."""
        twin = copy.copy(self)
        twin.client = client
        twin.is_async = isinstance(client, openai.AsyncOpenAI)
        return twin

    def _check(self, method: str, want_async: bool) -> None:
        if self.is_async != want_async:
            other = method[1:] if want_async else f"a{method}"
            kind = "openai.AsyncOpenAI" if self.is_async else "openai.OpenAI"
            raise TypeError(f"{method}() cannot call an {kind} client; use {other}() instead")

    # ---- Chat Completions -------------------------------------------------------------------
    def chat_create(self, **kwargs: Any) -> Any:
        """``client.chat.completions.create(**kwargs)``, answered from the cache when it can.

        Returns:
            A ``ChatCompletion``, or with ``stream=True`` a stream of ``ChatCompletionChunk``.

        Example:
            >>> import openai
            >>> from omnicache_ai import CacheManager
            >>> adapter = OpenAICacheAdapter(openai.AsyncOpenAI(api_key="k"), CacheManager())
            >>> adapter.chat_create(model="gpt-4o", messages=[])
            Traceback (most recent call last):
            ...
            TypeError: chat_create() cannot call an openai.AsyncOpenAI client; use achat_create() instead
        """  # noqa: E501
        self._check("chat_create", want_async=False)
        req, send = sdk_request(_CHAT, kwargs, extra=_stream_extra(kwargs))
        fetch = functools.partial(self.client.chat.completions.create, **send)
        if send.get("stream"):
            return self.cache.stream(req, fetch)
        return run(self.cache.complete(req, fetch))

    async def achat_create(self, **kwargs: Any) -> Any:
        """Async :meth:`chat_create` (an ``AsyncOpenAI`` client)."""
        self._check("achat_create", want_async=True)
        req, send = sdk_request(_CHAT, kwargs, extra=_stream_extra(kwargs))
        fetch = functools.partial(self.client.chat.completions.create, **send)
        if send.get("stream"):
            return await self.cache.astream(req, fetch)
        return await arun(self.cache.complete(req, fetch))

    # ---- Responses API ----------------------------------------------------------------------
    def responses_create(self, **kwargs: Any) -> Any:
        """``client.responses.create(**kwargs)`` through the cache.

        Keyed by ``input`` and every other argument (``instructions``, ``tools``,
        ``previous_response_id`` ...). Calls with a ``conversation`` or ``background=True``
        go straight to the provider (their answer is not a function of the arguments).
        """
        self._check("responses_create", want_async=False)
        if not _responses_cacheable(kwargs):
            return self.client.responses.create(**kwargs)
        req, send = sdk_request(_RESPONSES, kwargs, prompt="input")
        fetch = functools.partial(self.client.responses.create, **send)
        if send.get("stream"):
            return self.cache.stream(req, fetch)
        return run(self.cache.complete(req, fetch))

    async def aresponses_create(self, **kwargs: Any) -> Any:
        """Async :meth:`responses_create`."""
        self._check("aresponses_create", want_async=True)
        if not _responses_cacheable(kwargs):
            return await self.client.responses.create(**kwargs)
        req, send = sdk_request(_RESPONSES, kwargs, prompt="input")
        fetch = functools.partial(self.client.responses.create, **send)
        if send.get("stream"):
            return await self.cache.astream(req, fetch)
        return await arun(self.cache.complete(req, fetch))

    # ---- Embeddings -------------------------------------------------------------------------
    def _embed(self, kwargs: dict[str, Any], texts: list[str]) -> Flow[CreateEmbeddingResponse]:
        model = kwargs.get("model")
        if not isinstance(model, str) or not model:
            raise TypeError(f"embeddings.create: a model is required, got {model!r}")
        params = {k: v for k, v in kwargs.items() if k not in _EMBED_FORMAT}
        upstream: dict[str, Any] = {}

        def vectors(response: Any) -> list[np.ndarray[Any, Any]]:
            upstream["model"], upstream["usage"] = response.model, response.usage
            return [_as_vector(d.embedding) for d in sorted(response.data, key=lambda d: d.index)]

        def compute(missing: list[str]) -> Any:
            upstream["misses"] = len(missing)
            return then(self.client.embeddings.create(**{**kwargs, "input": missing}), vectors)

        ec = self.embeddings
        found = yield Op(
            ec.get_or_compute_many,
            ec.aget_or_compute_many,
            (texts, compute),
            {"model_id": model, "params": params},
        )
        fmt = kwargs.get("encoding_format")
        misses = int(upstream.get("misses", 0))
        response = CreateEmbeddingResponse.model_construct(
            data=[
                Embedding.model_construct(embedding=_encoded(vec, fmt), index=i, object="embedding")
                for i, vec in enumerate(found)
            ],
            model=upstream.get("model", model),
            object="list",
            usage=upstream.get("usage") or Usage(prompt_tokens=0, total_tokens=0),
        )
        info = CacheInfo(
            hit=not misses, layer=ec.layer, hits=len(dict.fromkeys(texts)) - misses, misses=misses
        )
        return mark(response, info)

    def embeddings_create(self, **kwargs: Any) -> Any:
        """``client.embeddings.create(**kwargs)``: cached inputs are not sent again.

        String inputs are looked up one by one; the misses go upstream in one request and
        the ``CreateEmbeddingResponse`` lists every input in the caller's order. ``usage``
        is what the upstream request reported (zero when every input hit). Token-array
        inputs are sent uncached.
        """
        self._check("embeddings_create", want_async=False)
        texts = _texts(kwargs.get("input"))
        if texts is None:
            return self.client.embeddings.create(**kwargs)
        return run(self._embed(kwargs, texts))

    async def aembeddings_create(self, **kwargs: Any) -> Any:
        """Async :meth:`embeddings_create`."""
        self._check("aembeddings_create", want_async=True)
        texts = _texts(kwargs.get("input"))
        if texts is None:
            return await self.client.embeddings.create(**kwargs)
        return await arun(self._embed(kwargs, texts))


# ---- drop-in clients ----------------------------------------------------------------------


class _CachedClient(Proxy):
    """A client proxy whose ``chat.completions``, ``responses`` and ``embeddings`` are cached."""

    _async: bool = False

    def __init__(self, client: Any, cache: OpenAICacheAdapter) -> None:
        a = cache
        chat_create, responses_create, embeddings_create = (
            (a.achat_create, a.aresponses_create, a.aembeddings_create)
            if self._async
            else (a.chat_create, a.responses_create, a.embeddings_create)
        )
        super().__init__(
            client,
            cache=cache,
            chat=Proxy(client.chat, completions=Proxy(client.chat.completions, create=chat_create)),
            responses=Proxy(client.responses, create=responses_create),
            embeddings=Proxy(client.embeddings, create=embeddings_create),
        )

    def with_options(self, **kwargs: Any) -> Any:
        """The SDK's ``with_options`` / ``copy``, still cached (same caches)."""
        new = object.__getattribute__(self, "_target").with_options(**kwargs)
        twin = type(self).__new__(type(self))
        _CachedClient.__init__(twin, new, self.cache.rebind(new))
        return twin

    copy = with_options


class CachedOpenAI(_CachedClient):
    """A drop-in ``openai.OpenAI`` whose chat, responses and embeddings are cached.

    Args:
        client: The client to wrap (default: ``openai.OpenAI(**client_kwargs)``).
        manager: Where answers are stored (default: a new in-memory ``CacheManager``).
        semantic: Opt-in :class:`SemanticCache`.
        ttl: Seconds to live of answers and streams.
        cache_truncated: Also cache answers cut off by ``max_tokens``.
        **client_kwargs: ``openai.OpenAI`` arguments when ``client`` is not given.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> client = CachedOpenAI(manager=CacheManager(), api_key="sk-test")
        >>> type(client.cache).__name__
        'OpenAICacheAdapter'
    """

    def __init__(
        self,
        client: openai.OpenAI | None = None,
        manager: CacheManager | None = None,
        *,
        semantic: SemanticCache | None = None,
        ttl: float | None = None,
        cache_truncated: bool = False,
        **client_kwargs: Any,
    ) -> None:
        options: dict[str, Any] = {
            "semantic": semantic,
            "ttl": ttl,
            "cache_truncated": cache_truncated,
        }
        real = client_for("CachedOpenAI", openai.OpenAI, client, client_kwargs)
        super().__init__(real, OpenAICacheAdapter(real, manager or CacheManager(), **options))


class AsyncCachedOpenAI(_CachedClient):
    """A drop-in ``openai.AsyncOpenAI``: ``await client.chat.completions.create(...)``.

    Same arguments as :class:`CachedOpenAI`.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> client = AsyncCachedOpenAI(manager=CacheManager(), api_key="sk-test")
        >>> client.cache.is_async
        True
    """

    _async = True

    def __init__(
        self,
        client: openai.AsyncOpenAI | None = None,
        manager: CacheManager | None = None,
        *,
        semantic: SemanticCache | None = None,
        ttl: float | None = None,
        cache_truncated: bool = False,
        **client_kwargs: Any,
    ) -> None:
        options: dict[str, Any] = {
            "semantic": semantic,
            "ttl": ttl,
            "cache_truncated": cache_truncated,
        }
        real = client_for("AsyncCachedOpenAI", openai.AsyncOpenAI, client, client_kwargs)
        super().__init__(real, OpenAICacheAdapter(real, manager or CacheManager(), **options))


def wrap(
    client: openai.OpenAI | openai.AsyncOpenAI,
    manager: CacheManager | None = None,
    **options: Any,
) -> CachedOpenAI | AsyncCachedOpenAI:
    """The drop-in matching ``client``: :class:`CachedOpenAI` or :class:`AsyncCachedOpenAI`.

    Example:
        >>> import openai
        >>> from omnicache_ai import CacheManager
        >>> type(wrap(openai.AsyncOpenAI(api_key="k"), CacheManager())).__name__
        'AsyncCachedOpenAI'
    """
    if isinstance(client, openai.AsyncOpenAI):
        return AsyncCachedOpenAI(client, manager, **options)
    return CachedOpenAI(client, manager, **options)
