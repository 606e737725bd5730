"""ContextCache: conversation turns keyed by session id + turn index.

Each turn's messages are one entry tagged ``session:<id>``, so :meth:`invalidate_session`
retires a whole conversation in O(1). The turns are the truth; a small per-session index
holds a hint of the highest turn written, so history needs no key scan.

Concurrent writers (threads, tasks or processes sharing a backend) can race on the hint: a
writer that read it before another wrote a higher turn may set it back. No turn is lost to
that, because readers never stop at the hint: they probe the turns after it, in batches of
:data:`PROBE_WINDOW`, until a whole batch is empty. A turn is therefore found unless
``PROBE_WINDOW`` consecutive turn indexes before it, above the hint, are all unused.

Writers that do not number turns themselves call :meth:`ContextCache.append`: the turn index
comes from an atomic per-session counter (:meth:`CacheManager.incr`), so workers appending to
one session at once each get their own turn and none overwrites another's.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from typing import Any, Final

from omnicache_ai.core.cache_manager import MISSING, CacheManager, RequestConfig
from omnicache_ai.core.serializer import Serializer
from omnicache_ai.layers._base import LayerBase, check_id, with_tags
from omnicache_ai.layers._request import fast_canonical_bytes

__all__ = ["PROBE_WINDOW", "ContextCache"]


# The index is bookkeeping: its lookups (and the probes past it) get their own metrics
# series so they do not count as context hits or misses.
_INDEX_LAYER = "context_index"

#: Turn indexes read past the index hint per batch when looking for the latest turn.
PROBE_WINDOW: Final = 16

# A read the history flow asks its driver for: (keys, metrics label, serializer).
_Read = tuple[list[str], str, Serializer | None]
_Flow = Generator[_Read, dict[str, Any], tuple[int | None, dict[int, list[Any]]]]
# A step of the append flow: ("incr", delta) -> int | None, ("exists", turn) -> bool,
# ("latest",) -> int | None; the flow returns the turn index to write.
_AllocFlow = Generator[tuple[Any, ...], Any, int]


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

    def _seq_key(self, session_id: str) -> str:
        check_id("session_id", session_id)
        return self._kb.build("context-seq", fast_canonical_bytes(session_id))

    @staticmethod
    def _alloc_flow() -> _AllocFlow:
        """The next free turn index: one atomic increment per attempt, so never shared.

        Turns written with explicit indexes (``set``) may already hold the index the counter
        hands out; the flow then jumps the counter past the session's latest turn. Every
        value ``incr`` returns is unique, so racing appenders still get distinct turns.
        """
        n = yield ("incr", 1)
        while True:
            if n is None:  # counter unavailable (counted and logged): best effort, racy
                latest = yield ("latest",)
                return 0 if latest is None else latest + 1
            if not (yield ("exists", n - 1)):
                return int(n) - 1
            latest = yield ("latest",)
            n = yield ("incr", max(1, (latest or 0) + 2 - n))

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

    def _scan(self, session_id: str, last_n: int | None, turns: bool) -> _Flow:
        """The latest turn and (if ``turns``) the live turns: one flow for both shells.

        It yields the batch reads it needs and receives their results; the sync and async
        methods only perform the reads.
        """
        if last_n is not None and (type(last_n) is not int or last_n < 1):
            raise ValueError(f"last_n must be a positive int or None, got {last_n!r}")
        index = self._index_key(session_id)
        found = yield [index], _INDEX_LAYER, None
        hint = self._latest(found.get(index))
        # Turns written after the hint by a writer whose index update was lost to a race.
        beyond: dict[int, list[Any]] = {}
        start = 0 if hint is None else hint + 1
        while True:
            window = [
                (t, self._turn_key(session_id, t)) for t in range(start, start + PROBE_WINDOW)
            ]
            got = self._turns(window, (yield [k for _, k in window], _INDEX_LAYER, self.serializer))
            if not got:
                break
            beyond.update(got)
            start += PROBE_WINDOW
        latest = max(beyond) if beyond else hint
        if latest is None or not turns:
            return latest, {}
        first = 0 if last_n is None else max(0, latest - last_n + 1)
        # The probes already read every turn above the hint.
        top = -1 if hint is None else hint
        keys = [(t, self._turn_key(session_id, t)) for t in range(first, top + 1)]
        live = (
            self._turns(keys, (yield [k for _, k in keys], self.layer, self.serializer))
            if keys
            else {}
        )
        live.update((t, m) for t, m in beyond.items() if t >= first)
        return latest, live

    def _drive(self, flow: _Flow) -> tuple[int | None, dict[int, list[Any]]]:
        m = self.manager
        try:
            keys, layer, ser = next(flow)
            while True:
                keys, layer, ser = flow.send(m.get_many(keys, layer=layer, serializer=ser))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def _adrive(self, flow: _Flow) -> tuple[int | None, dict[int, list[Any]]]:
        m = self.manager
        try:
            keys, layer, ser = next(flow)
            while True:
                found = await m.aget_many(keys, layer=layer, serializer=ser)
                keys, layer, ser = flow.send(found)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

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

    def append(
        self,
        session_id: str,
        messages: Sequence[Any],
        *,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> int:
        """Store ``messages`` as the session's next turn and return its index.

        Safe with many concurrent writers (threads, processes, machines on one backend):
        each call takes its own turn index from an atomic counter. Indexes keep counting
        after :meth:`invalidate_session`.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> ctx = ContextCache(CacheManager())
            >>> ctx.append("s", [{"role": "user", "content": "Hi"}]), ctx.append("s", [])
            (0, 1)
        """
        value = self._messages(messages)
        seq, m, ttl = self._seq_key(session_id), self.manager, self._ttl(ttl)
        flow, result = self._alloc_flow(), None
        try:
            while True:
                op = flow.send(result)
                if op[0] == "incr":
                    result = m.incr(seq, op[1], ttl=self._index_ttl(ttl), layer=_INDEX_LAYER)
                elif op[0] == "exists":
                    result = m.exists(self._turn_key(session_id, op[1]), layer=_INDEX_LAYER)
                else:
                    result = self.latest_turn(session_id)
        except StopIteration as done:
            turn_index: int = done.value
        self.set(session_id, turn_index, value, ttl=ttl, tags=tags, config=config)
        return turn_index

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
        return self._drive(self._scan(session_id, None, turns=False))[0]

    def get_turns(self, session_id: str, *, last_n: int | None = None) -> dict[int, list[Any]]:
        """``{turn_index: messages}`` of the session's live turns (the last ``last_n``)."""
        return self._drive(self._scan(session_id, last_n, turns=True))[1]

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

    async def aappend(
        self,
        session_id: str,
        messages: Sequence[Any],
        *,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        config: RequestConfig | None = None,
    ) -> int:
        """Async :meth:`append`."""
        value = self._messages(messages)
        seq, m, ttl = self._seq_key(session_id), self.manager, self._ttl(ttl)
        flow, result = self._alloc_flow(), None
        try:
            while True:
                op = flow.send(result)
                if op[0] == "incr":
                    result = await m.aincr(seq, op[1], ttl=self._index_ttl(ttl), layer=_INDEX_LAYER)
                elif op[0] == "exists":
                    result = await m.aexists(self._turn_key(session_id, op[1]), layer=_INDEX_LAYER)
                else:
                    result = await self.alatest_turn(session_id)
        except StopIteration as done:
            turn_index: int = done.value
        await self.aset(session_id, turn_index, value, ttl=ttl, tags=tags, config=config)
        return turn_index

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
        return (await self._adrive(self._scan(session_id, None, turns=False)))[0]

    async def aget_turns(
        self, session_id: str, *, last_n: int | None = None
    ) -> dict[int, list[Any]]:
        """Async :meth:`get_turns`."""
        return (await self._adrive(self._scan(session_id, last_n, turns=True)))[1]

    async def aget_history(self, session_id: str, *, last_n: int | None = None) -> list[Any]:
        """Async :meth:`get_history`."""
        return self._flatten(await self.aget_turns(session_id, last_n=last_n))

    async def adelete(self, session_id: str, turn_index: int) -> bool:
        """Async :meth:`delete`."""
        return await self.manager.adelete(self._turn_key(session_id, turn_index), layer=self.layer)

    async def ainvalidate_session(self, session_id: str) -> int:
        """Async :meth:`invalidate_session`."""
        return await self.manager.ainvalidate(f"session:{check_id('session_id', session_id)}")
