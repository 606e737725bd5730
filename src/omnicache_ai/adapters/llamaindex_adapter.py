"""LlamaIndex adapters: a cached LLM, a cached query engine, an ingestion cache store and a
cached embedding model, all stored through a :class:`~omnicache_ai.CacheManager`.

* :class:`LlamaIndexLLMCacheAdapter` is a LlamaIndex ``LLM``: put it in ``Settings.llm`` (or
  pass it to an index / query engine) and ``complete``, ``chat``, their streaming and async
  twins are answered by :class:`~omnicache_ai.ResponseCache` /
  :class:`~omnicache_ai.StreamingResponseCache` before the wrapped LLM is called.
* :class:`LlamaIndexQueryCacheAdapter` is a ``BaseQueryEngine`` in front of another one:
  ``query`` / ``aquery`` return a cached ``Response`` (text, source nodes with their scores
  and metadata, response metadata) for a query the same engine answered before.
* :class:`LlamaIndexKVStore` is a ``BaseKVStore``: ``IngestionPipeline(cache=IngestionCache(
  cache=LlamaIndexKVStore(manager)))`` keeps transformation results in our backends.
* :class:`LlamaIndexEmbeddingCacheAdapter` is a ``BaseEmbedding`` in front of another one,
  backed by :class:`~omnicache_ai.EmbeddingCache` (per-text hits; only the misses of a batch
  reach the model).

Everything is stored as plain data (strings, JSON-like dicts, LlamaIndex's own node JSON,
vectors as bytes) with the safe serializer: nothing is pickled, and reading never imports or
instantiates a class that the stored data names, other than LlamaIndex's node types.

Example:
    >>> from llama_index.core.llms import MockLLM
    >>> from omnicache_ai import CacheManager
    >>> llm = LlamaIndexLLMCacheAdapter(MockLLM(), CacheManager())
    >>> llm.complete("echo me").text
    'echo me'
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Final

from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.core.key_builder import escape_segment
from omnicache_ai.core.serializer import JsonSerializer
from omnicache_ai.layers._request import IGNORED_PARAMS
from omnicache_ai.layers.embedding_cache import EmbeddingCache
from omnicache_ai.layers.response_cache import ResponseCache
from omnicache_ai.layers.streaming_cache import StreamingResponseCache

try:
    from llama_index.core.base.base_query_engine import BaseQueryEngine
    from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
    from llama_index.core.base.llms.types import (
        ChatMessage,
        ChatResponse,
        ChatResponseAsyncGen,
        ChatResponseGen,
        CompletionResponse,
        CompletionResponseAsyncGen,
        CompletionResponseGen,
        LLMMetadata,
    )
    from llama_index.core.base.response.schema import RESPONSE_TYPE, Response
    from llama_index.core.bridge.pydantic import PrivateAttr
    from llama_index.core.llms.llm import LLM
    from llama_index.core.prompts.mixin import PromptMixinType
    from llama_index.core.schema import NodeWithScore, QueryBundle
    from llama_index.core.storage.docstore.utils import doc_to_json, json_to_doc
    from llama_index.core.storage.kvstore.types import DEFAULT_COLLECTION, BaseKVStore
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.llamaindex_adapter needs llama-index-core; "
        "install it with: pip install 'omnicache-ai[llamaindex]'"
    ) from err

__all__ = [
    "LlamaIndexEmbeddingCacheAdapter",
    "LlamaIndexKVStore",
    "LlamaIndexLLMCacheAdapter",
    "LlamaIndexQueryCacheAdapter",
]

#: Key type segment of :class:`LlamaIndexKVStore` entries.
KV_TYPE: Final = "llamaindex-kv"

# Component fields that never change an answer (plumbing, credentials, transport). Anything
# else that is plain data is part of the component's identity in a key.
_NOT_IDENTITY: Final = frozenset(
    {
        "callback_manager",
        "system_prompt",
        "messages_to_prompt",
        "completion_to_prompt",
        "output_parser",
        "pydantic_program_mode",
        "query_wrapper_prompt",
        "embed_batch_size",
        "num_workers",
        "embeddings_cache",
        "rate_limiter",
        "api_version",
        "default_headers",
        "http_client",
        "async_http_client",
    }
    | IGNORED_PARAMS
)

_PLAIN: Final = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def component_identity(component: Any) -> dict[str, Any]:
    """The plain-data configuration of a LlamaIndex component (LLM, embedding model).

    Its class name plus every pydantic field holding plain data (model name, temperature,
    max tokens, dimensions ...), minus plumbing and credentials. Two components with the
    same identity are assumed to answer alike.

    Example:
        >>> from llama_index.core.llms import MockLLM
        >>> component_identity(MockLLM(max_tokens=3))["max_tokens"]
        3
    """
    if isinstance(component, LlamaIndexLLMCacheAdapter | LlamaIndexEmbeddingCacheAdapter):
        return dict(component.cache_identity)  # a cached wrapper answers as what it wraps
    class_name = getattr(component, "class_name", None)
    out: dict[str, Any] = {
        "class": class_name() if callable(class_name) else type(component).__qualname__
    }
    fields = getattr(type(component), "model_fields", {})
    for name in sorted(fields):
        if name in _NOT_IDENTITY or "key" in name or "secret" in name or name == "token":
            continue
        value = getattr(component, name, None)
        if _plain(value):
            out[name] = value
    return out


# ---- LLM responses <-> plain records ---------------------------------------------------------
def _completion_record(response: CompletionResponse) -> dict[str, Any] | None:
    """What is stored of a completion; ``None`` (not cached) for an empty answer."""
    if not isinstance(response, CompletionResponse) or not response.text.strip():
        return None
    extra = dict(response.additional_kwargs)
    return {"text": response.text, "additional_kwargs": extra if _plain(extra) else {}}


def _completion_chunk(response: CompletionResponse) -> dict[str, Any]:
    return {"text": response.text, "delta": response.delta}


def _completion(record: Mapping[str, Any]) -> CompletionResponse:
    return CompletionResponse(
        text=record["text"],
        delta=record.get("delta"),
        additional_kwargs=dict(record.get("additional_kwargs") or {}),
    )


def _message_record(message: ChatMessage) -> dict[str, Any]:
    record: dict[str, Any] = message.model_dump(mode="json")
    return record


def _chat_record(response: ChatResponse) -> dict[str, Any] | None:
    """What is stored of a chat answer; ``None`` (not cached) for an empty one."""
    if not isinstance(response, ChatResponse):
        return None
    message = response.message
    blank = not (message.content or "").strip()
    if (
        blank
        and not message.additional_kwargs
        and all(getattr(b, "block_type", "text") == "text" for b in message.blocks)
    ):
        return None
    extra = dict(response.additional_kwargs)
    return {
        "message": _message_record(message),
        "additional_kwargs": extra if _plain(extra) else {},
    }


def _chat_chunk(response: ChatResponse) -> dict[str, Any]:
    return {"message": _message_record(response.message), "delta": response.delta}


def _chat(record: Mapping[str, Any]) -> ChatResponse:
    return ChatResponse(
        message=ChatMessage.model_validate(record["message"]),
        delta=record.get("delta"),
        additional_kwargs=dict(record.get("additional_kwargs") or {}),
    )


def _messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    return [_message_record(m) for m in messages]


class LlamaIndexLLMCacheAdapter(LLM):
    """A LlamaIndex ``LLM`` that answers repeated calls from the cache.

    Wraps any LlamaIndex LLM; use it wherever an LLM goes (``Settings.llm``,
    ``index.as_query_engine(llm=...)``, agents). ``metadata`` is the wrapped LLM's, and so
    are its prompt-formatting hooks (``system_prompt``, ``messages_to_prompt`` ...), so
    ``predict`` and friends format exactly as the wrapped LLM would.

    What is keyed: the operation (complete or chat), the prompt or the full chat messages
    (roles, content blocks, ``additional_kwargs``), ``formatted``, every call keyword
    argument, and the wrapped LLM's identity (:func:`component_identity`: its class and plain
    configuration fields such as model, temperature and max tokens), or ``llm_id`` if given.

    What is not cached: empty answers; ``raw`` provider payloads and ``logprobs`` (a hit has
    ``raw=None``); streams that failed or were not read to the end. A hit fires no LlamaIndex
    LLM events (no tokens were spent); a miss fires the wrapped LLM's own.

    Args:
        llm: The LlamaIndex LLM to call on a miss.
        manager: Where answers live.
        ttl: Seconds to live (default: the manager's ``response`` / ``streaming`` TTLs).
        llm_id: A stable name for the wrapped LLM's configuration, used instead of the
            discovered identity (use it when the LLM's answer depends on something that is
            not a plain field).

    Example:
        >>> from llama_index.core.llms import ChatMessage, MockLLM
        >>> from omnicache_ai import CacheManager
        >>> llm = LlamaIndexLLMCacheAdapter(MockLLM(), CacheManager())
        >>> str(llm.chat([ChatMessage(role="user", content="hi")]).message.content)
        'user: hi\\nassistant: '
    """

    _llm: LLM = PrivateAttr()
    _responses: ResponseCache = PrivateAttr()
    _streams: StreamingResponseCache = PrivateAttr()
    _model: str = PrivateAttr()
    _identity: dict[str, Any] = PrivateAttr()

    def __init__(
        self,
        llm: LLM,
        manager: CacheManager,
        *,
        ttl: float | None = None,
        llm_id: str | None = None,
    ) -> None:
        if not isinstance(llm, LLM):
            raise TypeError(
                f"LlamaIndexLLMCacheAdapter wraps a llama_index LLM, got {type(llm).__name__}"
            )
        super().__init__(
            callback_manager=llm.callback_manager,
            system_prompt=llm.system_prompt,
            messages_to_prompt=llm.messages_to_prompt,
            completion_to_prompt=llm.completion_to_prompt,
            output_parser=llm.output_parser,
            pydantic_program_mode=llm.pydantic_program_mode,
            query_wrapper_prompt=llm.query_wrapper_prompt,
        )
        self._llm = llm
        # LlamaIndex's call keywords have no provider-wide defaults: an explicit
        # temperature=1 overrides the LLM's own setting, so nothing is normalised away.
        self._responses = ResponseCache(manager, ttl=ttl, param_defaults={})
        self._streams = StreamingResponseCache(manager, ttl=ttl, param_defaults={})
        self._identity = {"id": llm_id} if llm_id else component_identity(llm)
        self._model = llm_id or str(llm.metadata.model_name or self._identity["class"])

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex's component name of this class."""
        return "OmnicacheLLM"

    @property
    def llm(self) -> LLM:
        """The wrapped LLM."""
        return self._llm

    @property
    def cache_identity(self) -> dict[str, Any]:
        """The wrapped LLM's identity, as it appears in keys."""
        return self._identity

    @property
    def metadata(self) -> LLMMetadata:
        """The wrapped LLM's metadata (context window, chat or completion model ...)."""
        return self._llm.metadata

    def _params(self, op: str, kwargs: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        return {"op": op, "llm_config": self._identity, **extra, **kwargs}

    def _keyable(self, request: Any, params: Mapping[str, Any]) -> bool:
        """Whether this request can be keyed; if not, the call goes straight to the LLM.

        An empty prompt or message list, or a keyword argument holding an object no key can
        be built from (a client, a callback), is the wrapped LLM's business, not an error.
        """
        if not request:
            return False
        try:
            self._responses.cache_key(request, model_id=self._model, params=params)
        except (TypeError, ValueError):
            return False
        return True

    # ---- completion -----------------------------------------------------------------------
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """The wrapped LLM's completion of ``prompt``, from the cache when seen before."""
        params = self._params("complete", kwargs, formatted=formatted)
        if not self._keyable(prompt, params):
            return self._llm.complete(prompt, formatted=formatted, **kwargs)
        live: list[CompletionResponse] = []

        def generate(_: Any) -> dict[str, Any] | None:
            live.append(self._llm.complete(prompt, formatted=formatted, **kwargs))
            return _completion_record(live[0])

        record = self._responses.get_or_generate(
            prompt,
            generate,
            model_id=self._model,
            params=params,
        )
        return live[0] if live else _completion(record)

    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async :meth:`complete`."""
        params = self._params("complete", kwargs, formatted=formatted)
        if not self._keyable(prompt, params):
            return await self._llm.acomplete(prompt, formatted=formatted, **kwargs)
        live: list[CompletionResponse] = []

        async def generate(_: Any) -> dict[str, Any] | None:
            live.append(await self._llm.acomplete(prompt, formatted=formatted, **kwargs))
            return _completion_record(live[0])

        record = await self._responses.aget_or_generate(
            prompt,
            generate,
            model_id=self._model,
            params=params,
        )
        return live[0] if live else _completion(record)

    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream the completion: live (and recorded) on a miss, replayed on a hit."""
        params = self._params("complete", kwargs, formatted=formatted)
        if not self._keyable(prompt, params):
            return self._llm.stream_complete(prompt, formatted=formatted, **kwargs)

        def live(_: Any) -> Iterator[dict[str, Any]]:
            for chunk in self._llm.stream_complete(prompt, formatted=formatted, **kwargs):
                yield _completion_chunk(chunk)

        records = self._streams.get_or_stream(
            prompt,
            live,
            model_id=self._model,
            params=params,
        )
        return (_completion(r) for r in records)

    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete` (await it, then ``async for``)."""
        params = self._params("complete", kwargs, formatted=formatted)
        if not self._keyable(prompt, params):
            return await self._llm.astream_complete(prompt, formatted=formatted, **kwargs)

        async def live(_: Any) -> AsyncIterator[dict[str, Any]]:
            stream = await self._llm.astream_complete(prompt, formatted=formatted, **kwargs)
            async for chunk in stream:
                yield _completion_chunk(chunk)

        records = self._streams.aget_or_stream(
            prompt,
            live,
            model_id=self._model,
            params=params,
        )

        async def gen() -> CompletionResponseAsyncGen:
            async for record in records:
                yield _completion(record)

        return gen()

    # ---- chat -------------------------------------------------------------------------------
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """The wrapped LLM's chat answer, from the cache when seen before."""
        params, request = self._params("chat", kwargs), _messages(messages)
        if not self._keyable(request, params):
            return self._llm.chat(messages, **kwargs)
        live: list[ChatResponse] = []

        def generate(_: Any) -> dict[str, Any] | None:
            live.append(self._llm.chat(messages, **kwargs))
            return _chat_record(live[0])

        record = self._responses.get_or_generate(
            request, generate, model_id=self._model, params=params
        )
        return live[0] if live else _chat(record)

    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`."""
        params, request = self._params("chat", kwargs), _messages(messages)
        if not self._keyable(request, params):
            return await self._llm.achat(messages, **kwargs)
        live: list[ChatResponse] = []

        async def generate(_: Any) -> dict[str, Any] | None:
            live.append(await self._llm.achat(messages, **kwargs))
            return _chat_record(live[0])

        record = await self._responses.aget_or_generate(
            request, generate, model_id=self._model, params=params
        )
        return live[0] if live else _chat(record)

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream the chat answer: live (and recorded) on a miss, replayed on a hit."""
        params, request = self._params("chat", kwargs), _messages(messages)
        if not self._keyable(request, params):
            return self._llm.stream_chat(messages, **kwargs)

        def live(_: Any) -> Iterator[dict[str, Any]]:
            for chunk in self._llm.stream_chat(messages, **kwargs):
                yield _chat_chunk(chunk)

        records = self._streams.get_or_stream(request, live, model_id=self._model, params=params)
        return (_chat(r) for r in records)

    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat` (await it, then ``async for``)."""
        params, request = self._params("chat", kwargs), _messages(messages)
        if not self._keyable(request, params):
            return await self._llm.astream_chat(messages, **kwargs)

        async def live(_: Any) -> AsyncIterator[dict[str, Any]]:
            stream = await self._llm.astream_chat(messages, **kwargs)
            async for chunk in stream:
                yield _chat_chunk(chunk)

        records = self._streams.aget_or_stream(request, live, model_id=self._model, params=params)

        async def gen() -> ChatResponseAsyncGen:
            async for record in records:
                yield _chat(record)

        return gen()


# ---- query engine ------------------------------------------------------------------------------
def _response_record(response: Any) -> dict[str, Any] | None:
    """A ``Response`` as plain data; ``None`` (not cached) for streams, empties, odd metadata."""
    if type(response) is not Response or not (response.response or "").strip():
        return None
    sources = [{"node": doc_to_json(n.node), "score": n.score} for n in response.source_nodes]
    record = {
        "response": response.response,
        "source_nodes": sources,
        "metadata": response.metadata or {},
    }
    try:
        # Through JSON, as LlamaIndex's own stores do: str enums (node types) become their
        # values, and anything JSON cannot hold means "do not cache", not a failed query.
        plain: dict[str, Any] = json.loads(json.dumps(record))
    except (TypeError, ValueError):
        return None
    return plain


def _response(record: Mapping[str, Any]) -> Response:
    return Response(
        response=record["response"],
        source_nodes=[
            NodeWithScore(node=json_to_doc(s["node"]), score=s["score"])
            for s in record["source_nodes"]
        ],
        metadata=dict(record["metadata"]) or None,
    )


def engine_identity(engine: BaseQueryEngine) -> dict[str, Any]:
    """What is discoverable of a query engine's configuration, for its cache key.

    The engine's class; its retriever's class, ``similarity_top_k``, query mode and the
    index id it reads; its response synthesizer's class and response mode; and the
    synthesizer LLM's :func:`component_identity`. Whatever is not discoverable this way
    (documents added to the index, custom prompts, node postprocessors) is not in it: give
    the adapter an ``engine_id`` that changes when those do, or invalidate.

    Example:
        >>> from llama_index.core.query_engine import CustomQueryEngine
        >>> class Echo(CustomQueryEngine):
        ...     def custom_query(self, query_str: str) -> str:
        ...         return query_str
        >>> engine_identity(Echo())["engine"]
        'Echo'
    """
    out: dict[str, Any] = {"engine": type(engine).__qualname__}
    retriever = getattr(engine, "_retriever", None)
    if retriever is not None:
        index = getattr(retriever, "_index", None)
        out["retriever"] = {
            "class": type(retriever).__qualname__,
            "top_k": getattr(retriever, "_similarity_top_k", None),
            "mode": str(getattr(retriever, "_vector_store_query_mode", "")),
            "index_id": getattr(index, "index_id", None),
        }
    synthesizer = getattr(engine, "_response_synthesizer", None)
    if synthesizer is not None:
        llm = getattr(synthesizer, "_llm", None)
        out["synthesizer"] = {
            "class": type(synthesizer).__qualname__,
            "mode": str(getattr(synthesizer, "_response_mode", "")),
            "llm": component_identity(llm) if llm is not None else None,
        }
    return out


class LlamaIndexQueryCacheAdapter(BaseQueryEngine):
    """A query engine that answers a repeated query from the cache.

    What is keyed: the query string and ``custom_embedding_strs`` of the ``QueryBundle``,
    plus the engine's identity: ``engine_id`` if given, and always :func:`engine_identity`
    (engine, retriever and synthesizer classes and settings, the index id, the synthesizer
    LLM's configuration). An index that gains documents keeps its index id: give an
    ``engine_id`` that changes with your data (a corpus version), or call
    :meth:`invalidate`.

    What is round-tripped: the answer text, every source node (LlamaIndex's own node JSON:
    text, metadata, relationships) with its score, and the response metadata. What is not
    cached: streaming responses, empty answers, and responses whose metadata or nodes are
    not plain data (they are returned, not stored).

    Args:
        engine: The LlamaIndex query engine to call on a miss.
        manager: Where answers live.
        engine_id: A stable name for this engine and its corpus version.
        ttl: Seconds to live (default: the manager's ``response`` TTL).

    Example:
        >>> from llama_index.core.query_engine import CustomQueryEngine
        >>> from omnicache_ai import CacheManager
        >>> class Upper(CustomQueryEngine):
        ...     def custom_query(self, query_str: str) -> str:
        ...         return query_str.upper()
        >>> cached = LlamaIndexQueryCacheAdapter(Upper(), CacheManager(), engine_id="upper-v1")
        >>> str(cached.query("hello"))
        'HELLO'
    """

    def __init__(
        self,
        engine: BaseQueryEngine,
        manager: CacheManager,
        *,
        engine_id: str | None = None,
        ttl: float | None = None,
    ) -> None:
        if not isinstance(engine, BaseQueryEngine):
            raise TypeError(
                "LlamaIndexQueryCacheAdapter wraps a llama_index query engine, got "
                f"{type(engine).__name__}"
            )
        super().__init__(callback_manager=engine.callback_manager)
        self.engine = engine
        self.engine_id = engine_id or type(engine).__qualname__
        self._identity = engine_identity(engine)
        self._cache = ResponseCache(manager, ttl=ttl, param_defaults={})

    def _get_prompt_modules(self) -> PromptMixinType:
        return {"engine": self.engine}

    def _request(self, bundle: QueryBundle) -> tuple[str, dict[str, Any]]:
        return bundle.query_str, {
            "engine_config": self._identity,
            "embedding_strs": list(bundle.custom_embedding_strs or []),
        }

    def _query(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        if not query_bundle.query_str:  # nothing to key
            return self.engine.query(query_bundle)
        live: list[RESPONSE_TYPE] = []

        def generate(_: Any) -> dict[str, Any] | None:
            live.append(self.engine.query(query_bundle))
            return _response_record(live[0])

        query, params = self._request(query_bundle)
        record = self._cache.get_or_generate(
            query, generate, model_id=self.engine_id, params=params
        )
        return live[0] if live else _response(record)

    async def _aquery(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        if not query_bundle.query_str:
            return await self.engine.aquery(query_bundle)
        live: list[RESPONSE_TYPE] = []

        async def generate(_: Any) -> dict[str, Any] | None:
            live.append(await self.engine.aquery(query_bundle))
            return _response_record(live[0])

        query, params = self._request(query_bundle)
        record = await self._cache.aget_or_generate(
            query, generate, model_id=self.engine_id, params=params
        )
        return live[0] if live else _response(record)

    def invalidate(self) -> int:
        """Retire every cached answer of this ``engine_id`` (e.g. after re-indexing)."""
        return self._cache.invalidate_model(self.engine_id)

    async def ainvalidate(self) -> int:
        """Async :meth:`invalidate`."""
        return await self._cache.ainvalidate_model(self.engine_id)


# ---- ingestion cache store ---------------------------------------------------------------------
class LlamaIndexKVStore(BaseKVStore):
    """LlamaIndex's ``BaseKVStore`` over a :class:`CacheManager` (e.g. for ``IngestionCache``).

    Each ``(collection, key)`` is one manager entry holding ``{"key": key, "value": val}``
    as JSON, under ``{ns}:llamaindex-kv:{collection}:{digest(key)}``, so ``get_all`` lists one
    collection by key prefix (the backend must support ``keys(prefix)``: memory, disk, Redis
    and tiered do). Values must be JSON-like dicts, as every LlamaIndex KV store requires.

    Args:
        manager: Where entries live.
        ttl: Seconds to live (default ``0``: never expires, like LlamaIndex's own stores).
        layer: Layer label for metrics and the TTL policy.

    Example:
        >>> from llama_index.core.ingestion import IngestionCache
        >>> from omnicache_ai import CacheManager
        >>> store = LlamaIndexKVStore(CacheManager())
        >>> store.put("k", {"v": 1})
        >>> store.get("k"), store.get_all()
        ({'v': 1}, {'k': {'v': 1}})
        >>> _ = IngestionCache(cache=store)
    """

    def __init__(
        self, manager: CacheManager, *, ttl: float | None = 0, layer: str = "llamaindex-kv"
    ) -> None:
        self.manager = manager
        self.ttl = ttl
        self.layer = layer
        self._serializer = JsonSerializer()

    def _prefix(self, collection: str) -> str:
        return f"{self.manager.key_builder.prefix(KV_TYPE)}{escape_segment(collection)}:"

    def _key(self, key: str, collection: str) -> str:
        return self._prefix(collection) + self.manager.key_builder.digest(key)

    def _tag(self, collection: str) -> str:
        return f"{KV_TYPE}:{self.manager.key_builder.digest(collection)}"

    def _record(self, key: str, val: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(val, dict):
            raise TypeError(f"LlamaIndexKVStore values must be dicts, got {type(val).__name__}")
        # JSON round trip now: a value JSON cannot hold fails here, in the caller's put.
        return {"key": key, "value": json.loads(json.dumps(val))}

    @staticmethod
    def _unwrap(stored: Any, key: str | None = None) -> dict[str, Any] | None:
        if not isinstance(stored, dict) or not isinstance(stored.get("value"), dict):
            return None
        if key is not None and stored.get("key") != key:
            return None  # a digest collision or a foreign entry: never another key's value
        value: dict[str, Any] = stored["value"]
        return value

    def _gathered(self, found: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for stored in found.values():
            value = self._unwrap(stored)
            if value is not None:
                out[str(stored["key"])] = value
        return out

    def put(self, key: str, val: dict[str, Any], collection: str = DEFAULT_COLLECTION) -> None:
        """Store ``val`` under ``key`` in ``collection``."""
        self.manager.set(
            self._key(key, collection),
            self._record(key, val),
            self.ttl,
            tags=[self._tag(collection)],
            layer=self.layer,
            serializer=self._serializer,
        )

    async def aput(
        self, key: str, val: dict[str, Any], collection: str = DEFAULT_COLLECTION
    ) -> None:
        """Async :meth:`put`."""
        await self.manager.aset(
            self._key(key, collection),
            self._record(key, val),
            self.ttl,
            tags=[self._tag(collection)],
            layer=self.layer,
            serializer=self._serializer,
        )

    def get(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict[str, Any] | None:
        """The value of ``key`` in ``collection``, or ``None``."""
        stored = self.manager.get(
            self._key(key, collection), layer=self.layer, serializer=self._serializer
        )
        return self._unwrap(stored, key)

    async def aget(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict[str, Any] | None:
        """Async :meth:`get`."""
        stored = await self.manager.aget(
            self._key(key, collection), layer=self.layer, serializer=self._serializer
        )
        return self._unwrap(stored, key)

    def get_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict[str, Any]]:
        """Every ``key -> value`` of ``collection``."""
        keys = self.manager.keys(self._prefix(collection))
        if not keys:
            return {}
        found = self.manager.get_many(keys, layer=self.layer, serializer=self._serializer)
        return self._gathered(found)

    async def aget_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict[str, Any]]:
        """Async :meth:`get_all`."""
        keys = await self.manager.akeys(self._prefix(collection))
        if not keys:
            return {}
        found = await self.manager.aget_many(keys, layer=self.layer, serializer=self._serializer)
        return self._gathered(found)

    def delete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        """Remove ``key`` from ``collection``; returns whether it was there."""
        return self.manager.delete(self._key(key, collection), layer=self.layer)

    async def adelete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        """Async :meth:`delete`."""
        return await self.manager.adelete(self._key(key, collection), layer=self.layer)

    def clear_collection(self, collection: str = DEFAULT_COLLECTION) -> int:
        """Retire every entry of ``collection`` at once (a tag invalidation)."""
        return self.manager.invalidate(self._tag(collection))


# ---- embeddings ----------------------------------------------------------------------------------
class LlamaIndexEmbeddingCacheAdapter(BaseEmbedding):
    """A LlamaIndex embedding model that reuses vectors it has computed before.

    Wraps any ``BaseEmbedding``; texts and queries are cached apart (many models embed a
    query differently from a document). Keyed by the text, its kind (query or text) and the
    wrapped model's :func:`component_identity` (or ``model_id``). Batches send only the
    texts that missed, in one call to the wrapped model. Vectors are stored as raw numpy
    bytes (never pickled); a hit returns the same floats as the wrapped model did.

    Args:
        embed_model: The LlamaIndex embedding model to call on a miss.
        manager: Where vectors live.
        ttl: Seconds to live (default: the manager's ``embedding`` TTL).
        model_id: A stable name for the wrapped model's configuration.

    Example:
        >>> from llama_index.core.embeddings import MockEmbedding
        >>> from omnicache_ai import CacheManager
        >>> emb = LlamaIndexEmbeddingCacheAdapter(MockEmbedding(embed_dim=2), CacheManager())
        >>> emb.get_text_embedding("hello")
        [0.5, 0.5]
    """

    _inner: BaseEmbedding = PrivateAttr()
    _cache: EmbeddingCache = PrivateAttr()
    _model: str = PrivateAttr()
    _identity: dict[str, Any] = PrivateAttr()

    def __init__(
        self,
        embed_model: BaseEmbedding,
        manager: CacheManager,
        *,
        ttl: float | None = None,
        model_id: str | None = None,
    ) -> None:
        if not isinstance(embed_model, BaseEmbedding):
            raise TypeError(
                "LlamaIndexEmbeddingCacheAdapter wraps a llama_index BaseEmbedding, got "
                f"{type(embed_model).__name__}"
            )
        super().__init__(
            model_name=embed_model.model_name,
            embed_batch_size=embed_model.embed_batch_size,
            callback_manager=embed_model.callback_manager,
        )
        self._inner = embed_model
        self._cache = EmbeddingCache(manager, ttl=ttl)
        self._identity = {"id": model_id} if model_id else component_identity(embed_model)
        self._model = model_id or str(embed_model.model_name or self._identity["class"])

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex's component name of this class."""
        return "OmnicacheEmbedding"

    @property
    def embed_model(self) -> BaseEmbedding:
        """The wrapped embedding model."""
        return self._inner

    @property
    def cache_identity(self) -> dict[str, Any]:
        """The wrapped model's identity, as it appears in keys."""
        return self._identity

    def _params(self, kind: str) -> dict[str, Any]:
        return {"kind": kind, "config": self._identity}

    def _many(self, texts: Sequence[str], kind: str, fn: Callable[[list[str]], Any]) -> Any:
        vectors = self._cache.get_or_compute_many(
            list(texts), fn, model_id=self._model, params=self._params(kind)
        )
        return [v.tolist() for v in vectors]

    def _get_query_embedding(self, query: str) -> Embedding:
        vectors: list[Embedding] = self._many(
            [query], "query", lambda qs: [self._inner.get_query_embedding(q) for q in qs]
        )
        return vectors[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        vectors: list[Embedding] = self._many(texts, "text", self._inner.get_text_embedding_batch)
        return vectors

    async def _aget_query_embedding(self, query: str) -> Embedding:
        async def compute(qs: list[str]) -> list[Embedding]:
            return [await self._inner.aget_query_embedding(q) for q in qs]

        vectors = await self._cache.aget_or_compute_many(
            [query], compute, model_id=self._model, params=self._params("query")
        )
        out: Embedding = vectors[0].tolist()
        return out

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aget_text_embeddings([text]))[0]

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        async def compute(ts: list[str]) -> list[Embedding]:
            return await self._inner.aget_text_embedding_batch(ts)

        vectors = await self._cache.aget_or_compute_many(
            list(texts), compute, model_id=self._model, params=self._params("text")
        )
        return [v.tolist() for v in vectors]
