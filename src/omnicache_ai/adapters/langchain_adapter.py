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

import logging
from typing import Any, Final

from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.core.serializer import JsonSerializer

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
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.langchain_adapter needs langchain-core; "
        "install it with: pip install 'omnicache-ai[langchain]'"
    ) from err

__all__ = ["LangChainCacheAdapter"]

logger = logging.getLogger("omnicache_ai")

#: Key type segment of every entry this adapter writes.
KEY_TYPE: Final = "langchain"

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
