"""ContextCache: conversation turns keyed by session id + turn index.

Each turn's messages are one entry tagged ``session:<id>``, so :meth:`invalidate_session`
retires a whole conversation in O(1). A small per-session index remembers the highest turn
written, which lets :meth:`get_history` fetch every turn in one batch read. Turns written
concurrently to the same session by different writers may race on that index (the highest
index wins when writes are ordered, as in one conversation); the turns themselves never do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from omnicache_ai.core.cache_manager import MISSING, CacheManager, RequestConfig
from omnicache_ai.core.serializer import Serializer
from omnicache_ai.layers._base import LayerBase, check_id, with_tags
from omnicache_ai.layers._request import fast_canonical_bytes

__all__ = ["ContextCache"]


# The index is bookkeeping: its lookups get their own metrics series so they do not count
# as context hits or misses.
_INDEX_LAYER = "context_index"


def _newest(latest: int | None, turn_index: int) -> int:
    return turn_index if latest is None else max(latest, turn_index)


def _check_turn(turn_index: Any) -> int:
    if type(turn_index) is not int or turn_index < 0:
        raise ValueError(f"turn_index must be an int >= 0, got {turn_index!r}")
    return turn_index


class ContextCache(LayerBase):
    """Persist conversation turns per session, with history retrieval and session eviction.

    Args:
        manager: The :class:`CacheManager` to store through.
        serializer: Serializer for this layer's entries.
        ttl: Default seconds to live (default: the manager's ``context`` TTL, 1800 s).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> ctx = ContextCache(CacheManager())
        >>> ctx.set(session_id="user-123", turn_index=0,
        ...         messages=[{"role": "user", "content": "Hi"}])
        >>> ctx.set(session_id="user-123", turn_index=1,
        ...         messages=[{"role": "assistant", "content": "Hello!"}])
        >>> [m["content"] for m in ctx.get_history("user-123")]
        ['Hi', 'Hello!']
        >>> _ = ctx.invalidate_session("user-123")
        >>> ctx.get(session_id="user-123", turn_index=0) is None
        True
    """

    layer = "context"
    key_type = "context"

    def __init__(
        self,
        manager: CacheManager,
        *,
        serializer: Serializer | None = None,
        ttl: float | None = None,
    ) -> None:
        super().__init__(manager, serializer=serializer, ttl=ttl)

    # ---- pure helpers -----------------------------------------------------------------------
    def _turn_key(self, session_id: str, turn_index: int) -> str:
        check_id("session_id", session_id)
        payload = [session_id, _check_turn(turn_index)]
        return self._key_of(fast_canonical_bytes(payload))

    def _index_key(self, session_id: str) -> str:
        check_id("session_id", session_id)
        return self._kb.build("context-index", fast_canonical_bytes(session_id))

    @staticmethod
    def _messages(messages: Any) -> list[Any]:
        if not isinstance(messages, list | tuple):
            raise TypeError(f"messages must be a list of messages, got {type(messages).__name__}")
        return list(messages)

    def _index_ttl(self, ttl: float | None) -> float:
        """The turns' TTL, resolved here because the index is stored under its own label."""
        resolved = self.manager.ttl_policy.ttl_for(self.layer, ttl)
        return 0 if resolved is None else resolved

    @staticmethod
    def _latest(raw: Any) -> int | None:
        return raw if type(raw) is int and raw >= 0 else None

    def _history_keys(
        self, session_id: str, latest: int | None, last_n: int | None
    ) -> list[tuple[int, str]]:
        if last_n is not None and (type(last_n) is not int or last_n < 1):
            raise ValueError(f"last_n must be a positive int or None, got {last_n!r}")
        if latest is None:
            return []
        first = 0 if last_n is None else max(0, latest - last_n + 1)
        return [(t, self._turn_key(session_id, t)) for t in range(first, latest + 1)]

    @staticmethod
    def _turns(keys: Sequence[tuple[int, str]], found: dict[str, Any]) -> dict[int, list[Any]]:
        return {t: found[k] for t, k in keys if type(found.get(k)) is list}

    @staticmethod
    def _flatten(turns: dict[int, list[Any]]) -> list[Any]:
        return [message for t in sorted(turns) for message in turns[t]]

    # ---- sync API ---------------------------------------------------------------------------
    def set(
        self,
        session_id: str,
        turn_index: int,
        messages: Sequence[Any],
        *,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> None:
        """Store the messages of one turn (and remember it as the session's latest)."""
        key = self._turn_key(session_id, turn_index)
        value = self._messages(messages)
        tag_list = with_tags(f"session:{session_id}", tags)
        ttl = self._ttl(ttl)
        m = self.manager
        m.set(
            key,
            value,
            ttl,
            tags=tag_list,
            layer=self.layer,
            config=config,
            serializer=self.serializer,
        )
        index = self._index_key(session_id)
        latest = self._latest(m.get(index, layer=_INDEX_LAYER))
        m.set(
            index,
            _newest(latest, turn_index),
            self._index_ttl(ttl),
            tags=tag_list,
            layer=_INDEX_LAYER,
            config=config,
        )

    def get(
        self, session_id: str, turn_index: int, *, config: RequestConfig | None = None
    ) -> list[Any] | None:
        """The messages of one turn, or ``None``."""
        raw = self.manager.get(
            self._turn_key(session_id, turn_index),
            MISSING,
            layer=self.layer,
            config=config,
            serializer=self.serializer,
        )
        return raw if type(raw) is list else None

    def latest_turn(self, session_id: str) -> int | None:
        """The highest turn index stored for the session, or ``None``."""
        return self._latest(self.manager.get(self._index_key(session_id), layer=_INDEX_LAYER))

    def get_turns(self, session_id: str, *, last_n: int | None = None) -> dict[int, list[Any]]:
        """``{turn_index: messages}`` of the session's live turns (the last ``last_n``)."""
        keys = self._history_keys(session_id, self.latest_turn(session_id), last_n)
        if not keys:
            return {}
        found = self.manager.get_many(
            [k for _, k in keys], layer=self.layer, serializer=self.serializer
        )
        return self._turns(keys, found)

    def get_history(self, session_id: str, *, last_n: int | None = None) -> list[Any]:
        """Every message of the session (or its last ``last_n`` turns), in turn order."""
        return self._flatten(self.get_turns(session_id, last_n=last_n))

    def delete(self, session_id: str, turn_index: int) -> bool:
        """Remove one turn."""
        return self.manager.delete(self._turn_key(session_id, turn_index), layer=self.layer)

    def invalidate_session(self, session_id: str) -> int:
        """Retire every turn of the session."""
        return self.manager.invalidate(f"session:{check_id('session_id', session_id)}")

    # ---- async API --------------------------------------------------------------------------
    async def aset(
        self,
        session_id: str,
        turn_index: int,
        messages: Sequence[Any],
        *,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> None:
        """Async :meth:`set`."""
        key = self._turn_key(session_id, turn_index)
        value = self._messages(messages)
        tag_list = with_tags(f"session:{session_id}", tags)
        ttl = self._ttl(ttl)
        m = self.manager
        await m.aset(
            key,
            value,
            ttl,
            tags=tag_list,
            layer=self.layer,
            config=config,
            serializer=self.serializer,
        )
        index = self._index_key(session_id)
        latest = self._latest(await m.aget(index, layer=_INDEX_LAYER))
        await m.aset(
            index,
            _newest(latest, turn_index),
            self._index_ttl(ttl),
            tags=tag_list,
            layer=_INDEX_LAYER,
            config=config,
        )

    async def aget(
        self, session_id: str, turn_index: int, *, config: RequestConfig | None = None
    ) -> list[Any] | None:
        """Async :meth:`get`."""
        raw = await self.manager.aget(
            self._turn_key(session_id, turn_index),
            MISSING,
            layer=self.layer,
            config=config,
            serializer=self.serializer,
        )
        return raw if type(raw) is list else None

    async def alatest_turn(self, session_id: str) -> int | None:
        """Async :meth:`latest_turn`."""
        return self._latest(
            await self.manager.aget(self._index_key(session_id), layer=_INDEX_LAYER)
        )

    async def aget_turns(
        self, session_id: str, *, last_n: int | None = None
    ) -> dict[int, list[Any]]:
        """Async :meth:`get_turns`."""
        keys = self._history_keys(session_id, await self.alatest_turn(session_id), last_n)
        if not keys:
            return {}
        found = await self.manager.aget_many(
            [k for _, k in keys], layer=self.layer, serializer=self.serializer
        )
        return self._turns(keys, found)

    async def aget_history(self, session_id: str, *, last_n: int | None = None) -> list[Any]:
        """Async :meth:`get_history`."""
        return self._flatten(await self.aget_turns(session_id, last_n=last_n))

    async def adelete(self, session_id: str, turn_index: int) -> bool:
        """Async :meth:`delete`."""
        return await self.manager.adelete(self._turn_key(session_id, turn_index), layer=self.layer)

    async def ainvalidate_session(self, session_id: str) -> int:
        """Async :meth:`invalidate_session`."""
        return await self.manager.ainvalidate(f"session:{check_id('session_id', session_id)}")
