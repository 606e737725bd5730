"""LangChain adapter: a :class:`langchain_core.caches.BaseCache` backed by a CacheManager.

Install it as LangChain's global LLM cache and every chat model or LLM call whose prompt
and configuration were seen before is answered from omnicache::

    set_llm_cache(LangChainCacheAdapter(manager))

LangChain hands the cache a ``(prompt, llm_string)`` pair and a list of ``Generation``
objects. The adapter turns the pair into a key with the manager's key builder, turns the
generations into LangChain's own serialized form (``langchain_core.load.dumpd``), and
stores that JSON through the manager with :class:`~omnicache_ai.JsonSerializer`, so no
entry is ever pickled. Reading revives the objects with ``langchain_core.load.load``,
restricted to LangChain's output and message classes.

Two more LangChain extension points live here: :class:`LangChainSemanticCache`, a
``BaseCache`` that also answers paraphrases through a :class:`~omnicache_ai.SemanticCache`
(never across two ``llm_string`` values), and :class:`LangChainByteStore`, a ``ByteStore``
over the manager for ``CacheBackedEmbeddings.from_bytes_store(...)``.

Every entry carries two tags: one shared by all LangChain entries of this adapter (what
:meth:`LangChainCacheAdapter.clear` retires) and one per ``llm_string`` (what
:meth:`LangChainCacheAdapter.invalidate_llm` retires), so clearing the LangChain cache
never touches what other layers stored in the same backend.

Example:
    >>> from langchain_core.globals import set_llm_cache
    >>> from omnicache_ai import CacheManager
    >>> from omnicache_ai.adapters.langchain_adapter import LangChainCacheAdapter
    >>> set_llm_cache(LangChainCacheAdapter(CacheManager()))
    >>> set_llm_cache(None)  # back to no global cache
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Final

from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.core.key_builder import escape_segment
from omnicache_ai.core.serializer import JsonSerializer, SafeSerializer
from omnicache_ai.layers.semantic_cache import SemanticCache

try:
    from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
    from langchain_core.load import dumpd, load
    from langchain_core.messages import (
        AIMessage,
        AIMessageChunk,
        ChatMessage,
        ChatMessageChunk,
        FunctionMessage,
        FunctionMessageChunk,
        HumanMessage,
        HumanMessageChunk,
        SystemMessage,
        SystemMessageChunk,
        ToolMessage,
        ToolMessageChunk,
    )
    from langchain_core.outputs import (
        ChatGeneration,
        ChatGenerationChunk,
        Generation,
        GenerationChunk,
    )
    from langchain_core.stores import ByteStore
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.langchain_adapter needs langchain-core; "
        "install it with: pip install 'omnicache-ai[langchain]'"
    ) from err

__all__ = ["LangChainByteStore", "LangChainCacheAdapter", "LangChainSemanticCache"]

logger = logging.getLogger("omnicache_ai")

#: Key type segment of every entry this adapter writes.
KEY_TYPE: Final = "langchain"
#: Key type segment of :class:`LangChainByteStore` entries.
BYTES_TYPE: Final = "langchain-bytes"

# The only classes a cached value may revive as: what BaseCache stores (generations) and
# the messages a ChatGeneration carries. Anything else in a stored entry is refused by
# langchain_core.load, so a tampered entry cannot instantiate arbitrary LangChain classes.
_ALLOWED: Final[list[type[Any]]] = [
    Generation,
    GenerationChunk,
    ChatGeneration,
    ChatGenerationChunk,
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    HumanMessageChunk,
    SystemMessage,
    SystemMessageChunk,
    ChatMessage,
    ChatMessageChunk,
    FunctionMessage,
    FunctionMessageChunk,
    ToolMessage,
    ToolMessageChunk,
]


class LangChainCacheAdapter(BaseCache):
    """LangChain's ``BaseCache`` contract, answered by a :class:`CacheManager`.

    Args:
        manager: Where entries live; its backend, TTL policy, tenant scope and metrics
            apply to LangChain's calls like to any other layer's.
        ttl: Seconds to live for each entry (``None``: the manager's TTL for ``layer``;
            ``0``: never expires).
        layer: Layer label for metrics and the TTL policy.
        tag: The tag every entry of this adapter carries; :meth:`clear` retires it.
            Give two adapters on one manager different tags to clear them separately.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> from langchain_core.outputs import Generation
        >>> cache = LangChainCacheAdapter(CacheManager())
        >>> cache.update("2+2?", "fake-llm", [Generation(text="4")])
        >>> cache.lookup("2+2?", "fake-llm")
        [Generation(text='4')]
        >>> cache.clear()
        >>> cache.lookup("2+2?", "fake-llm") is None
        True
    """

    def __init__(
        self,
        manager: CacheManager,
        *,
        ttl: float | None = None,
        layer: str = "response",
        tag: str = "langchain",
    ) -> None:
        self.manager = manager
        self.ttl = ttl
        self.layer = layer
        self.tag = tag
        self._serializer = JsonSerializer()

    # ---- translation between LangChain's types and the manager's ---------------------
    def _key(self, prompt: str, llm_string: str) -> str:
        return self.manager.key_builder.build(KEY_TYPE, {"prompt": prompt, "llm": llm_string})

    def llm_tag(self, llm_string: str) -> str:
        """The tag shared by every entry stored for one LLM configuration.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangChainCacheAdapter(CacheManager()).llm_tag("m").startswith("langchain:llm:")
            True
        """
        return f"{self.tag}:llm:{self.manager.key_builder.digest(llm_string)}"

    def _tags(self, llm_string: str) -> list[str]:
        return [self.tag, self.llm_tag(llm_string)]

    @staticmethod
    def _dump(return_val: RETURN_VAL_TYPE) -> list[Any] | None:
        dumped = [dumpd(generation) for generation in return_val]
        # dumpd writes a "not_implemented" stub for values it cannot serialize (an arbitrary
        # object in generation_info, say); such an entry could never be revived, so it is
        # not stored at all.
        return dumped if _revivable(dumped) else None

    @staticmethod
    def _revive(stored: Any) -> list[Generation] | None:
        if not isinstance(stored, list):
            return None
        try:
            revived = [load(item, allowed_objects=_ALLOWED) for item in stored]
        except (ValueError, TypeError, KeyError, NotImplementedError) as err:
            # An entry from another LangChain version or a tampered one: treat as a miss;
            # LangChain then calls the model and overwrites it.
            logger.warning("omnicache: unreadable LangChain cache entry, ignoring it: %s", err)
            return None
        if not all(isinstance(g, Generation) for g in revived):
            return None
        return revived

    # ---- BaseCache: sync -------------------------------------------------------------
    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """Return the cached generations for ``prompt`` under ``llm_string``, or ``None``.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangChainCacheAdapter(CacheManager()).lookup("never seen", "m") is None
            True
        """
        stored = self.manager.get(
            self._key(prompt, llm_string), layer=self.layer, serializer=self._serializer
        )
        return None if stored is None else self._revive(stored)

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Store ``return_val`` for ``prompt`` under ``llm_string``.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> from langchain_core.outputs import Generation
            >>> LangChainCacheAdapter(CacheManager()).update("p", "m", [Generation(text="a")])
        """
        dumped = self._dump(return_val)
        if dumped is None:
            return
        self.manager.set(
            self._key(prompt, llm_string),
            dumped,
            self.ttl,
            tags=self._tags(llm_string),
            layer=self.layer,
            serializer=self._serializer,
        )

    def clear(self, **kwargs: Any) -> None:
        """Retire every entry of this adapter, or only one LLM's with ``llm_string=...``.

        Entries other layers stored in the same manager are left alone.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangChainCacheAdapter(CacheManager()).clear(llm_string="model=a")
        """
        self.manager.invalidate(self._clear_tag(kwargs))

    def invalidate_llm(self, llm_string: str) -> int:
        """Retire every entry stored for one LLM configuration.

        Returns:
            How many entries were written under the retired tag generation.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangChainCacheAdapter(CacheManager()).invalidate_llm("model=a")
            0
        """
        return self.manager.invalidate(self.llm_tag(llm_string))

    def _clear_tag(self, kwargs: dict[str, Any]) -> str:
        llm_string = kwargs.pop("llm_string", None)
        if kwargs:
            raise TypeError(f"unexpected clear() arguments: {sorted(kwargs)}")
        return self.tag if llm_string is None else self.llm_tag(str(llm_string))

    # ---- BaseCache: async (the manager's own async path, never a thread pool) ---------
    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """Async :meth:`lookup`.

        Example:
            >>> import asyncio
            >>> from omnicache_ai import CacheManager
            >>> asyncio.run(LangChainCacheAdapter(CacheManager()).alookup("p", "m")) is None
            True
        """
        stored = await self.manager.aget(
            self._key(prompt, llm_string), layer=self.layer, serializer=self._serializer
        )
        return None if stored is None else self._revive(stored)

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Async :meth:`update`.

        Example:
            >>> import asyncio
            >>> from omnicache_ai import CacheManager
            >>> from langchain_core.outputs import Generation
            >>> cache = LangChainCacheAdapter(CacheManager())
            >>> asyncio.run(cache.aupdate("p", "m", [Generation(text="a")]))
        """
        dumped = self._dump(return_val)
        if dumped is None:
            return
        await self.manager.aset(
            self._key(prompt, llm_string),
            dumped,
            self.ttl,
            tags=self._tags(llm_string),
            layer=self.layer,
            serializer=self._serializer,
        )

    async def aclear(self, **kwargs: Any) -> None:
        """Async :meth:`clear`.

        Example:
            >>> import asyncio
            >>> from omnicache_ai import CacheManager
            >>> asyncio.run(LangChainCacheAdapter(CacheManager()).aclear())
        """
        await self.manager.ainvalidate(self._clear_tag(kwargs))

    async def ainvalidate_llm(self, llm_string: str) -> int:
        """Async :meth:`invalidate_llm`.

        Example:
            >>> import asyncio
            >>> from omnicache_ai import CacheManager
            >>> asyncio.run(LangChainCacheAdapter(CacheManager()).ainvalidate_llm("m"))
            0
        """
        return await self.manager.ainvalidate(self.llm_tag(llm_string))

    def __repr__(self) -> str:
        return f"LangChainCacheAdapter({self.manager!r}, layer={self.layer!r}, tag={self.tag!r})"


def _revivable(obj: Any) -> bool:
    """Whether ``dumpd`` output holds no "not_implemented" stub at any depth."""
    if isinstance(obj, dict):
        return obj.get("type") != "not_implemented" and all(map(_revivable, obj.values()))
    if isinstance(obj, list):
        return all(map(_revivable, obj))
    return True


# ---- semantic cache ------------------------------------------------------------------------
# LangChain's message "type" -> the chat role SemanticCache reads a conversation by.
_ROLES: Final = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def prompt_as_query(prompt: str) -> str | list[dict[str, str]]:
    """The question LangChain's cache ``prompt`` asks, for semantic matching.

    An LLM's prompt is the text itself. A chat model's prompt is its messages serialized by
    ``langchain_core.load.dumps``; it is read back as a plain ``[{"role", "content"}]``
    conversation (JSON only, no LangChain object is revived), so the semantic layer matches
    the last user turn and partitions by the system prompt and earlier turns.

    Example:
        >>> prompt_as_query("What is 2+2?")
        'What is 2+2?'
    """
    if not prompt.startswith("[{"):
        return prompt
    try:
        items = json.loads(prompt)
    except ValueError:
        return prompt
    turns: list[dict[str, str]] = []
    for item in items if isinstance(items, list) else ():
        kwargs = item.get("kwargs") if isinstance(item, dict) else None
        if not isinstance(kwargs, dict):
            return prompt
        content = kwargs.get("content")
        if isinstance(content, list):  # content blocks: their text parts, in order
            content = " ".join(
                str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in content
            )
        role = _ROLES.get(str(kwargs.get("type", "")), str(kwargs.get("role") or "user"))
        turns.append({"role": role, "content": str(content or "")})
    return turns or prompt


class LangChainSemanticCache(LangChainCacheAdapter):
    """LangChain's ``BaseCache`` answered by a :class:`~omnicache_ai.SemanticCache`.

    A prompt that means the same as a cached one (cosine similarity over the semantic
    cache's threshold, past its false-hit guards) is answered from the cache. The
    ``llm_string`` (model, temperature, tools ... as LangChain renders them) is the
    semantic partition's model: a paraphrase never matches across two LLM configurations.
    Chat prompts are matched by their last user turn, partitioned by the system prompt and
    earlier turns (see :func:`prompt_as_query`).

    Values are stored like :class:`LangChainCacheAdapter`'s (LangChain's own JSON form,
    revived with an allow-list; never pickled), through the semantic cache's manager.

    Args:
        semantic: The semantic cache (its manager, embedder, vector backend, threshold).
        ttl: Seconds to live (default: the semantic cache's).
        tag: The tag every entry carries; :meth:`clear` retires it.

    Example:
        >>> from omnicache_ai import SemanticCache
        >>> from omnicache_ai.embedders import HashingEmbedder
        >>> cache = LangChainSemanticCache(SemanticCache(embedder=HashingEmbedder()))
        >>> cache.update("What is the capital of France?", "m", [Generation(text="Paris")])
        >>> cache.lookup("what is the capital of France", "m")
        [Generation(text='Paris')]
        >>> cache.lookup("what is the capital of France", "other-model") is None
        True
    """

    def __init__(
        self,
        semantic: SemanticCache,
        *,
        ttl: float | None = None,
        tag: str = "langchain-semantic",
    ) -> None:
        if not isinstance(semantic, SemanticCache):
            raise TypeError(
                f"LangChainSemanticCache needs a SemanticCache, got {type(semantic).__name__}"
            )
        super().__init__(semantic.manager, ttl=ttl, layer="semantic", tag=tag)
        self.semantic = semantic

    def _model(self, llm_string: str) -> str:
        # The digest, not the text: llm_string can be long, and only equality matters.
        return f"langchain:{self.manager.key_builder.digest(llm_string)}"

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """Cached generations for ``prompt`` or a paraphrase of it under ``llm_string``."""
        stored = self.semantic.get(prompt_as_query(prompt), model=self._model(llm_string))
        return None if stored is None else self._revive(stored)

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Store ``return_val`` for ``prompt`` (and its paraphrases) under ``llm_string``."""
        dumped = self._dump(return_val)
        if dumped is None:
            return
        self.semantic.set(
            prompt_as_query(prompt),
            dumped,
            ttl=self.ttl,
            tags=self._tags(llm_string),
            model=self._model(llm_string),
        )

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """Async :meth:`lookup`."""
        stored = await self.semantic.aget(prompt_as_query(prompt), model=self._model(llm_string))
        return None if stored is None else self._revive(stored)

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Async :meth:`update`."""
        dumped = self._dump(return_val)
        if dumped is None:
            return
        await self.semantic.aset(
            prompt_as_query(prompt),
            dumped,
            ttl=self.ttl,
            tags=self._tags(llm_string),
            model=self._model(llm_string),
        )

    def __repr__(self) -> str:
        return f"LangChainSemanticCache({self.semantic!r}, tag={self.tag!r})"


# ---- byte store ---------------------------------------------------------------------------
_BYTES: Final = SafeSerializer()  # bytes are stored as they are, whatever the manager's default


def _unescape(segment: str) -> str:
    return segment.replace("%3A", ":").replace("%25", "%")


class LangChainByteStore(ByteStore):
    """LangChain's ``ByteStore`` over a :class:`CacheManager`.

    Use it wherever LangChain takes a byte store, e.g. to keep ``CacheBackedEmbeddings``
    vectors in Redis or on disk::

        CacheBackedEmbeddings.from_bytes_store(embedder, LangChainByteStore(manager))

    Each key is one manager entry, ``{ns}:langchain-bytes:{namespace}:{key}`` (escaped), so
    ``yield_keys`` lists by prefix (the backend must support ``keys(prefix)``: memory,
    disk, Redis and tiered do). Values are bytes, stored as they are.

    Args:
        manager: Where values live.
        namespace: Separates several stores on one manager.
        ttl: Seconds to live (default: the manager's TTL for ``layer``; ``0``: never).
        layer: Layer label for metrics and the TTL policy.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> store = LangChainByteStore(CacheManager())
        >>> store.mset([("a", b"1"), ("b", b"2")])
        >>> store.mget(["a", "missing"])
        [b'1', None]
        >>> sorted(store.yield_keys())
        ['a', 'b']
    """

    def __init__(
        self,
        manager: CacheManager,
        *,
        namespace: str = "default",
        ttl: float | None = None,
        layer: str = "embedding",
    ) -> None:
        self.manager = manager
        self.namespace = namespace
        self.ttl = ttl
        self.layer = layer

    @property
    def _base(self) -> str:
        return f"{self.manager.key_builder.prefix(BYTES_TYPE)}{escape_segment(self.namespace)}:"

    def _key(self, key: str) -> str:
        if not isinstance(key, str):
            raise TypeError(f"LangChainByteStore keys must be str, got {type(key).__name__}")
        return self._base + escape_segment(key)

    def _items(self, pairs: Sequence[tuple[str, bytes]]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for key, value in pairs:
            if not isinstance(value, bytes | bytearray):
                raise TypeError(
                    f"LangChainByteStore values must be bytes, got {type(value).__name__}"
                )
            out[self._key(key)] = bytes(value)
        return out

    def _scan_prefix(self, prefix: str | None) -> str:
        # Escaping is per character, so an escaped prefix is a prefix of the escaped key:
        # the backend narrows the listing instead of us filtering every key.
        return self._base + escape_segment(prefix or "")

    def _listed(self, found: Sequence[str], prefix: str | None) -> list[str]:
        base = self._base
        keys = [_unescape(k[len(base) :]) for k in found if k.startswith(base)]
        return sorted(k for k in keys if prefix is None or k.startswith(prefix))

    @staticmethod
    def _bytes(found: dict[str, Any], skeys: Sequence[str]) -> list[bytes | None]:
        return [v if isinstance(v := found.get(k), bytes) else None for k in skeys]

    def mget(self, keys: Sequence[str]) -> list[bytes | None]:
        """The values of ``keys`` in order (``None`` where missing)."""
        skeys = [self._key(k) for k in keys]
        if not skeys:
            return []
        return self._bytes(self.manager.get_many(skeys, layer=self.layer, serializer=_BYTES), skeys)

    async def amget(self, keys: Sequence[str]) -> list[bytes | None]:
        """Async :meth:`mget`."""
        skeys = [self._key(k) for k in keys]
        if not skeys:
            return []
        found = await self.manager.aget_many(skeys, layer=self.layer, serializer=_BYTES)
        return self._bytes(found, skeys)

    def mset(self, key_value_pairs: Sequence[tuple[str, bytes]]) -> None:
        """Store every ``(key, value)`` pair in one backend call."""
        items = self._items(key_value_pairs)
        if items:
            self.manager.set_many(items, self.ttl, layer=self.layer, serializer=_BYTES)

    async def amset(self, key_value_pairs: Sequence[tuple[str, bytes]]) -> None:
        """Async :meth:`mset`."""
        items = self._items(key_value_pairs)
        if items:
            await self.manager.aset_many(items, self.ttl, layer=self.layer, serializer=_BYTES)

    def mdelete(self, keys: Sequence[str]) -> None:
        """Delete ``keys`` (missing ones are ignored)."""
        skeys = [self._key(k) for k in keys]
        if skeys:
            self.manager.delete_many(skeys, layer=self.layer)

    async def amdelete(self, keys: Sequence[str]) -> None:
        """Async :meth:`mdelete`."""
        skeys = [self._key(k) for k in keys]
        if skeys:
            await self.manager.adelete_many(skeys, layer=self.layer)

    def yield_keys(self, *, prefix: str | None = None) -> Iterator[str]:
        """The stored keys (of this namespace) that start with ``prefix``."""
        yield from self._listed(self.manager.keys(self._scan_prefix(prefix)), prefix)

    async def ayield_keys(self, *, prefix: str | None = None) -> AsyncIterator[str]:
        """Async :meth:`yield_keys`."""
        for key in self._listed(await self.manager.akeys(self._scan_prefix(prefix)), prefix):
            yield key

    def __repr__(self) -> str:
        return f"LangChainByteStore({self.manager!r}, namespace={self.namespace!r})"
