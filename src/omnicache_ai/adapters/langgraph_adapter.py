"""LangGraph adapters: a checkpointer and a node cache, both stored through a CacheManager.

:class:`LangGraphCacheAdapter` is a ``BaseCheckpointSaver``: compile a graph with it and
every thread's state persists in the manager's backend (memory, disk, Redis, tiered)::

    saver = LangGraphCacheAdapter(manager)
    graph = StateGraph(MyState).compile(checkpointer=saver)

:class:`LangGraphNodeCache` is a ``langgraph.cache.base.BaseCache``: pass it as
``compile(cache=...)`` and nodes declared with a ``CachePolicy`` reuse earlier results.

Both serialize LangGraph's values with the saver's own ``serde`` (``JsonPlusSerializer``
by default, which yields ``(type, bytes)`` pairs) and store those pairs through the
manager with :class:`~omnicache_ai.SafeSerializer` (msgpack; never pickle), whatever
serializer the manager defaults to.

Storage layout (caller keys; the manager adds the tenant scope)::

    {ns}:langgraph:{digest(thread_id)}:c:{checkpoint_ns}:{checkpoint_id}        checkpoint
    {ns}:langgraph:{digest(thread_id)}:w:{checkpoint_ns}:{checkpoint_id}:{task_id}:{idx}

One key per checkpoint and one per pending write, so parallel tasks writing at the same
time never read-modify-write a shared entry. Every entry carries the thread's tag
(:meth:`LangGraphCacheAdapter.thread_tag`), so ``manager.invalidate(saver.thread_tag(t))``
retires a thread in O(1); :meth:`LangGraphCacheAdapter.delete_thread` also removes the
keys.

Listing never scans the key space (no ``KEYS``/``SCAN`` on Redis). The saver keeps an
append-only index through the manager's atomic counters (:meth:`CacheManager.incr`)::

    {ns}:langgraph:{digest(thread_id)}:n            counter: records indexed for the thread
    {ns}:langgraph:{digest(thread_id)}:i:{k}        slot k: the key of one record
    {ns}:langgraph:~t:n / ~t:{k}                    counter and slots of the thread registry

A writer reserves slots with one ``incr`` and fills them, so concurrent writers (parallel
tasks, several processes) never overwrite each other's slots. Listing one thread reads its
counter and its slots in one batch; listing every thread walks the registry. Slots whose
record is gone (pruned, expired, invalidated) are skipped when read.

Example:
    >>> from typing import TypedDict
    >>> from langgraph.graph import START, StateGraph
    >>> from omnicache_ai import CacheManager
    >>> class State(TypedDict):
    ...     count: int
    >>> builder = StateGraph(State)
    >>> _ = builder.add_node("inc", lambda s: {"count": s["count"] + 1})
    >>> _ = builder.add_edge(START, "inc")
    >>> graph = builder.compile(checkpointer=LangGraphCacheAdapter(CacheManager()))
    >>> graph.invoke({"count": 1}, {"configurable": {"thread_id": "t1"}})
    {'count': 2}
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.core.key_builder import escape_segment
from omnicache_ai.core.serializer import SafeSerializer

try:
    from langchain_core.runnables import RunnableConfig
    from langgraph.cache.base import BaseCache, FullKey, Namespace
    from langgraph.checkpoint.base import (
        WRITES_IDX_MAP,
        BaseCheckpointSaver,
        ChannelVersions,
        Checkpoint,
        CheckpointMetadata,
        CheckpointTuple,
        PendingWrite,
        get_checkpoint_id,
        get_checkpoint_metadata,
        writes_sort_key,
    )
    from langgraph.checkpoint.serde.base import SerializerProtocol
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.langgraph_adapter needs langgraph and langgraph-checkpoint; "
        "install it with: pip install 'omnicache-ai[langgraph]'"
    ) from err

__all__ = ["LangGraphCacheAdapter", "LangGraphNodeCache"]

#: Key type segment of checkpoints and writes.
CHECKPOINT_TYPE: Final = "langgraph"
#: Key type segment of node-cache entries.
NODE_CACHE_TYPE: Final = "langgraph-node"

_CKPT: Final = "c"
_WRITE: Final = "w"
# Index entries (see the module docstring); their keys never parse as records.
_COUNTER: Final = "n"
_SLOT: Final = "i"
_REGISTRY: Final = "~t"
# msgpack, whatever the manager's default serializer is: records hold raw bytes, which
# JSON cannot carry, and checkpoints must never be unpickled.
_RECORD_SERIALIZER: Final = SafeSerializer()


# Record keys; an alias because the saver's own ``list`` method shadows the builtin in
# annotations inside the class body.
_Keys = list[str]


def _unescape(segment: str) -> str:
    return segment.replace("%3A", ":").replace("%25", "%")


@dataclass(frozen=True, slots=True)
class _Ref:
    """Where one stored checkpoint or write lives, parsed back from its key."""

    key: str
    kind: str
    checkpoint_ns: str
    checkpoint_id: str


def _parse(key: str, base: str) -> _Ref | None:
    """Parse ``{base}{digest}:{kind}:{ns}:{id}[...]``; ``None`` for foreign keys."""
    parts = key[len(base) :].split(":")
    if len(parts) == 4 and parts[1] == _CKPT:
        return _Ref(key, _CKPT, _unescape(parts[2]), _unescape(parts[3]))
    if len(parts) == 6 and parts[1] == _WRITE:
        return _Ref(key, _WRITE, _unescape(parts[2]), _unescape(parts[3]))
    return None


def _thread_id(config: RunnableConfig) -> str:
    return str(config["configurable"]["thread_id"])


def _ns(config: RunnableConfig) -> str:
    return str(config["configurable"].get("checkpoint_ns") or "")


def _make_config(thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint_id,
        }
    }


@dataclass(frozen=True, slots=True)
class _ListPlan:
    """What a ``list`` call reads: checkpoint refs newest first, writes by checkpoint."""

    checkpoints: list[_Ref]
    writes: dict[tuple[str, str], list[str]]


class LangGraphCacheAdapter(BaseCheckpointSaver[int]):
    """A LangGraph checkpointer whose storage is a :class:`CacheManager`.

    Implements the ``BaseCheckpointSaver`` contract (``get_tuple``, ``list``, ``put``,
    ``put_writes``, ``delete_thread`` and their async twins, plus ``copy_thread``,
    ``delete_for_runs`` and ``prune``). The async methods await the manager's async API;
    they never run the sync methods in a thread.

    Args:
        manager: Where checkpoints live; its backend must support ``keys(prefix)``.
        serde: LangGraph serializer for checkpoints, metadata and writes (default: the
            saver's ``JsonPlusSerializer``).
        ttl: Seconds each checkpoint and write lives. Defaults to ``0`` (never expires):
            a checkpoint is a thread's state, not a recomputable answer, and an expired
            parent would break history. ``None`` uses the manager's TTL for ``layer``.
        layer: Layer label for metrics and the TTL policy.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> saver = LangGraphCacheAdapter(CacheManager())
        >>> saver.get_tuple({"configurable": {"thread_id": "nobody"}}) is None
        True
    """

    def __init__(
        self,
        manager: CacheManager,
        *,
        serde: SerializerProtocol | None = None,
        ttl: float | None = 0,
        layer: str = "checkpoint",
    ) -> None:
        super().__init__(serde=serde)
        self.manager = manager
        self.ttl = ttl
        self.layer = layer

    # ---- keys and tags (pure) -----------------------------------------------------------
    @property
    def _base(self) -> str:
        return self.manager.key_builder.prefix(CHECKPOINT_TYPE)

    def _thread_prefix(self, thread_id: str) -> str:
        return self.manager.key_builder.build(CHECKPOINT_TYPE, thread_id) + ":"

    def _ckpt_key(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> str:
        return (
            f"{self._thread_prefix(thread_id)}{_CKPT}:{escape_segment(checkpoint_ns)}:"
            f"{escape_segment(checkpoint_id)}"
        )

    def _writes_prefix(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> str:
        return (
            f"{self._thread_prefix(thread_id)}{_WRITE}:{escape_segment(checkpoint_ns)}:"
            f"{escape_segment(checkpoint_id)}:"
        )

    def thread_tag(self, thread_id: str) -> str:
        """The tag on every entry of one thread: ``manager.invalidate`` it to retire them.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangGraphCacheAdapter(CacheManager()).thread_tag("t1").startswith("langgraph:")
            True
        """
        return f"{CHECKPOINT_TYPE}:thread:{self.manager.key_builder.digest(str(thread_id))}"

    # ---- the index (pure) -----------------------------------------------------------------
    def _counter_key(self, thread_id: str) -> str:
        return f"{self._thread_prefix(thread_id)}{_COUNTER}"

    def _slot_keys(self, thread_id: str, first: int, last: int) -> list[str]:
        prefix = f"{self._thread_prefix(thread_id)}{_SLOT}:"
        return [f"{prefix}{k}" for k in range(first, last + 1)]

    @property
    def _registry_counter(self) -> str:
        return f"{self._base}{_REGISTRY}:{_COUNTER}"

    def _registry_slots(self, first: int, last: int) -> list[str]:
        return [f"{self._base}{_REGISTRY}:{k}" for k in range(first, last + 1)]

    @staticmethod
    def _slotted(slots: Sequence[str], found: Mapping[str, Any]) -> list[str]:
        """The distinct string values of ``slots``, in slot order (gaps skipped)."""
        return list(dict.fromkeys(v for s in slots if isinstance(v := found.get(s), str)))

    @staticmethod
    def _under(keys: Sequence[str], prefix: str) -> list[str]:
        return [k for k in keys if k.startswith(prefix)]

    # ---- records (pure) -----------------------------------------------------------------
    def _checkpoint_record(
        self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata
    ) -> dict[str, Any]:
        return {
            "thread_id": _thread_id(config),
            "checkpoint_ns": _ns(config),
            "checkpoint_id": checkpoint["id"],
            "parent_checkpoint_id": config["configurable"].get("checkpoint_id"),
            "checkpoint": list(self.serde.dumps_typed(checkpoint)),
            "metadata": list(self.serde.dumps_typed(get_checkpoint_metadata(config, metadata))),
        }

    def _write_records(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> list[tuple[str, bool, dict[str, Any]]]:
        """``(key, overwrite, record)`` per write; regular writes keep the first value."""
        prefix = self._writes_prefix(
            _thread_id(config), _ns(config), str(config["configurable"]["checkpoint_id"])
        )
        out = []
        for position, (channel, value) in enumerate(writes):
            idx = WRITES_IDX_MAP.get(channel, position)
            record = {
                "task_id": task_id,
                "channel": channel,
                "value": list(self.serde.dumps_typed(value)),
                "task_path": task_path,
                "idx": idx,
            }
            # Special channels (errors, interrupts ...) replace what a retry wrote before;
            # regular writes are idempotent: a replayed task must not change history.
            out.append((f"{prefix}{escape_segment(task_id)}:{idx}", idx < 0, record))
        return out

    def _metadata(self, record: Mapping[str, Any]) -> CheckpointMetadata:
        meta: CheckpointMetadata = self.serde.loads_typed(tuple(record["metadata"]))
        return meta

    def _tuple(
        self, record: Mapping[str, Any], writes: Sequence[Mapping[str, Any]]
    ) -> CheckpointTuple:
        thread_id, ns = record["thread_id"], record["checkpoint_ns"]
        parent = record.get("parent_checkpoint_id")
        ordered = sorted(
            writes, key=lambda w: writes_sort_key(w["task_path"], w["task_id"], w["idx"])
        )
        pending: list[PendingWrite] = [
            (w["task_id"], w["channel"], self.serde.loads_typed(tuple(w["value"]))) for w in ordered
        ]
        return CheckpointTuple(
            config=_make_config(thread_id, ns, record["checkpoint_id"]),
            checkpoint=self.serde.loads_typed(tuple(record["checkpoint"])),
            metadata=self._metadata(record),
            parent_config=_make_config(thread_id, ns, parent) if parent else None,
            pending_writes=pending,
        )

    def _plan_list(
        self,
        found: Sequence[str],
        config: RunnableConfig | None,
        before: RunnableConfig | None,
    ) -> _ListPlan:
        base = self._base
        want_ns = config["configurable"].get("checkpoint_ns") if config else None
        want_id = get_checkpoint_id(config) if config else None
        before_id = get_checkpoint_id(before) if before else None
        checkpoints: list[_Ref] = []
        writes: dict[tuple[str, str], list[str]] = {}
        for key in found:
            ref = _parse(key, base)
            if ref is None or (want_ns is not None and ref.checkpoint_ns != want_ns):
                continue
            if ref.kind == _WRITE:
                thread_part = key[len(base) :].split(":", 1)[0]
                writes.setdefault((thread_part, ref.checkpoint_id), []).append(key)
            elif (not want_id or ref.checkpoint_id == want_id) and (
                not before_id or ref.checkpoint_id < before_id
            ):
                checkpoints.append(ref)
        # uuid6 checkpoint ids sort by creation time: newest first, like every saver.
        checkpoints.sort(key=lambda r: r.checkpoint_id, reverse=True)
        return _ListPlan(checkpoints, writes)

    def _writes_of(self, plan: _ListPlan, ref: _Ref) -> list[str]:
        thread_part = ref.key[len(self._base) :].split(":", 1)[0]
        return plan.writes.get((thread_part, ref.checkpoint_id), [])

    @staticmethod
    def _matches(metadata: Mapping[str, Any], filter: Mapping[str, Any] | None) -> bool:
        return not filter or all(metadata.get(k) == v for k, v in filter.items())

    def _latest_first(self, found: Sequence[str], thread_id: str) -> list[str]:
        base = self._thread_prefix(thread_id)
        refs = [r for k in found if (r := _parse(k, self._base)) is not None and k.startswith(base)]
        return [r.key for r in sorted(refs, key=lambda r: r.checkpoint_id, reverse=True)]

    # ---- helpers shared by the sync and async maintenance operations -------------------
    def _copied(
        self, stored: Mapping[str, Any], source: str, target: str
    ) -> list[tuple[str, dict[str, Any]]]:
        old, new = self._thread_prefix(source), self._thread_prefix(target)
        out = []
        for key, record in stored.items():
            rewritten = dict(record)
            if "thread_id" in rewritten:
                rewritten["thread_id"] = target
            out.append((new + key[len(old) :], rewritten))
        return out

    def _doomed_by_runs(
        self, plan: _ListPlan, records: Mapping[str, Any], run_ids: set[str]
    ) -> list[str]:
        doomed: list[str] = []
        for ref in plan.checkpoints:
            record = records.get(ref.key)
            if record is None or str(self._metadata(record).get("run_id")) not in run_ids:
                continue
            doomed.append(ref.key)
            doomed.extend(self._writes_of(plan, ref))
        return doomed

    def _doomed_by_prune(self, found: Sequence[str]) -> list[str]:
        plan = self._plan_list(found, None, None)
        latest: dict[str, str] = {}
        for ref in plan.checkpoints:  # newest first: the first seen per namespace is kept
            latest.setdefault(ref.checkpoint_ns, ref.checkpoint_id)
        doomed: list[str] = []
        for ref in plan.checkpoints:
            if latest[ref.checkpoint_ns] != ref.checkpoint_id:
                doomed.append(ref.key)
                doomed.extend(self._writes_of(plan, ref))
        return doomed

    # ---- sync API -------------------------------------------------------------------------
    def _get(self, key: str) -> Any:
        return self.manager.get(key, layer=self.layer, serializer=_RECORD_SERIALIZER)

    def _get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        if not keys:
            return {}
        return self.manager.get_many(keys, layer=self.layer, serializer=_RECORD_SERIALIZER)

    def _set(self, key: str, record: Mapping[str, Any], thread_id: str) -> None:
        self.manager.set(
            key,
            dict(record),
            self.ttl,
            tags=[self.thread_tag(thread_id)],
            layer=self.layer,
            serializer=_RECORD_SERIALIZER,
        )

    def _index(self, thread_id: str, keys: Sequence[str]) -> None:
        """Append ``keys`` to the thread's index (registering a thread seen the first time)."""
        if not keys:
            return
        top = self.manager.incr(self._counter_key(thread_id), len(keys), ttl=0, layer=self.layer)
        if top is None:
            return  # backend down: the records were not written either
        slots = self._slot_keys(thread_id, top - len(keys) + 1, top)
        self.manager.set_many(
            dict(zip(slots, keys, strict=True)),
            self.ttl,
            layer=self.layer,
            serializer=_RECORD_SERIALIZER,
        )
        if top == len(keys):
            n = self.manager.incr(self._registry_counter, ttl=0, layer=self.layer)
            if n is not None:
                # Untagged: retiring the thread's tag must not unlist records written later.
                self.manager.set_many(
                    {key: {"thread_id": thread_id} for key in self._registry_slots(n, n)},
                    self.ttl,
                    layer=self.layer,
                    serializer=_RECORD_SERIALIZER,
                )

    def _thread_keys(self, thread_id: str) -> list[str]:
        """Every record key indexed for the thread (checkpoints and writes)."""
        top = self.manager.count(self._counter_key(thread_id), layer=self.layer)
        slots = self._slot_keys(thread_id, 1, top)
        return self._slotted(slots, self._get_many(slots)) if slots else []

    def _threads(self) -> list[str]:
        top = self.manager.count(self._registry_counter, layer=self.layer)
        slots = self._registry_slots(1, top)
        found = self._get_many(slots) if slots else {}
        return list(dict.fromkeys(str(found[s]["thread_id"]) for s in slots if s in found))

    def _all_keys(self) -> list[str]:
        return [key for thread_id in self._threads() for key in self._thread_keys(thread_id)]

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint ``config`` names, or its thread's latest in the namespace.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> saver = LangGraphCacheAdapter(CacheManager())
            >>> saver.get_tuple({"configurable": {"thread_id": "t", "checkpoint_id": "x"}})
        """
        thread_id, ns = _thread_id(config), _ns(config)
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id:
            candidates = [self._ckpt_key(thread_id, ns, checkpoint_id)]
        else:
            prefix = f"{self._thread_prefix(thread_id)}{_CKPT}:{escape_segment(ns)}:"
        indexed = self._thread_keys(thread_id)
        if not checkpoint_id:
            candidates = self._latest_first(self._under(indexed, prefix), thread_id)
        for key in candidates:
            record = self._get(key)
            if record is None:
                continue  # expired, evicted or retired by a thread invalidation
            wprefix = self._writes_prefix(thread_id, ns, record["checkpoint_id"])
            wkeys = self._under(indexed, wprefix)
            return self._tuple(record, list(self._get_many(wkeys).values()))
        return None

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first: one thread's (``config``) or every thread's (``None``).

        Args:
            config: ``thread_id``, optionally ``checkpoint_ns`` and ``checkpoint_id``.
            filter: Metadata key/values every result must match.
            before: Only checkpoints older than this one.
            limit: At most this many results.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> list(LangGraphCacheAdapter(CacheManager()).list(None))
            []
        """
        found = self._thread_keys(_thread_id(config)) if config else self._all_keys()
        plan = self._plan_list(found, config, before)
        remaining = limit
        for ref in plan.checkpoints:
            if remaining is not None and remaining <= 0:
                return
            record = self._get(ref.key)
            if record is None or not self._matches(self._metadata(record), filter):
                continue
            writes = self._get_many(self._writes_of(plan, ref))
            if remaining is not None:
                remaining -= 1
            yield self._tuple(record, list(writes.values()))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint whose parent is ``config``'s ``checkpoint_id``.

        The whole checkpoint is stored, so ``new_versions`` needs no separate handling.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> from langgraph.checkpoint.base import empty_checkpoint
            >>> saver = LangGraphCacheAdapter(CacheManager())
            >>> cfg = saver.put({"configurable": {"thread_id": "t"}}, empty_checkpoint(), {}, {})
            >>> sorted(cfg["configurable"])
            ['checkpoint_id', 'checkpoint_ns', 'thread_id']
        """
        thread_id, ns = _thread_id(config), _ns(config)
        record = self._checkpoint_record(config, checkpoint, metadata)
        key = self._ckpt_key(thread_id, ns, checkpoint["id"])
        self._set(key, record, thread_id)
        self._index(thread_id, [key])
        return _make_config(thread_id, ns, checkpoint["id"])

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's intermediate writes against the checkpoint ``config`` names.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> saver = LangGraphCacheAdapter(CacheManager())
            >>> cfg = {"configurable": {"thread_id": "t", "checkpoint_id": "c1"}}
            >>> saver.put_writes(cfg, [("channel", 1)], task_id="task-1")
        """
        thread_id = _thread_id(config)
        planned = self._write_records(config, writes, task_id, task_path)
        existing = self._get_many([k for k, overwrite, _ in planned if not overwrite])
        written = []
        for key, overwrite, record in planned:
            if overwrite or key not in existing:
                self._set(key, record, thread_id)
                written.append(key)
        self._index(thread_id, written)

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of ``thread_id``, in every namespace.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangGraphCacheAdapter(CacheManager()).delete_thread("no-such-thread")
        """
        thread_id = str(thread_id)
        self.manager.invalidate(self.thread_tag(thread_id))
        top = self.manager.count(self._counter_key(thread_id), layer=self.layer)
        keys = self._thread_keys(thread_id)
        self.manager.delete_many(
            [*keys, *self._slot_keys(thread_id, 1, top), self._counter_key(thread_id)],
            layer=self.layer,
        )

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of one thread into another.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangGraphCacheAdapter(CacheManager()).copy_thread("a", "b")
        """
        source, target = str(source_thread_id), str(target_thread_id)
        stored = self._get_many(self._thread_keys(source))
        copied = self._copied(stored, source, target)
        for key, record in copied:
            self._set(key, record, target)
        self._index(target, [key for key, _ in copied])

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) created by the given runs.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangGraphCacheAdapter(CacheManager()).delete_for_runs(["run-1"])
        """
        plan = self._plan_list(self._all_keys(), None, None)
        records = self._get_many([r.key for r in plan.checkpoints])
        doomed = self._doomed_by_runs(plan, records, set(map(str, run_ids)))
        if doomed:
            self.manager.delete_many(doomed, layer=self.layer)

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Drop old checkpoints: keep each namespace's latest (``"keep_latest"``) or none.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangGraphCacheAdapter(CacheManager()).prune(["t1"], strategy="delete")
        """
        _check_strategy(strategy)
        for thread_id in thread_ids:
            if strategy == "delete":
                self.delete_thread(thread_id)
                continue
            doomed = self._doomed_by_prune(self._thread_keys(str(thread_id)))
            if doomed:
                self.manager.delete_many(doomed, layer=self.layer)

    # ---- async API (the manager's async path; never a thread pool) -----------------------
    async def _aget(self, key: str) -> Any:
        return await self.manager.aget(key, layer=self.layer, serializer=_RECORD_SERIALIZER)

    async def _aget_many(self, keys: Sequence[str]) -> dict[str, Any]:
        if not keys:
            return {}
        return await self.manager.aget_many(keys, layer=self.layer, serializer=_RECORD_SERIALIZER)

    async def _aset(self, key: str, record: Mapping[str, Any], thread_id: str) -> None:
        await self.manager.aset(
            key,
            dict(record),
            self.ttl,
            tags=[self.thread_tag(thread_id)],
            layer=self.layer,
            serializer=_RECORD_SERIALIZER,
        )

    async def _aindex(self, thread_id: str, keys: Sequence[str]) -> None:
        """Async :meth:`_index`."""
        if not keys:
            return
        top = await self.manager.aincr(
            self._counter_key(thread_id), len(keys), ttl=0, layer=self.layer
        )
        if top is None:
            return
        slots = self._slot_keys(thread_id, top - len(keys) + 1, top)
        await self.manager.aset_many(
            dict(zip(slots, keys, strict=True)),
            self.ttl,
            layer=self.layer,
            serializer=_RECORD_SERIALIZER,
        )
        if top == len(keys):
            n = await self.manager.aincr(self._registry_counter, ttl=0, layer=self.layer)
            if n is not None:
                await self.manager.aset_many(
                    {key: {"thread_id": thread_id} for key in self._registry_slots(n, n)},
                    self.ttl,
                    layer=self.layer,
                    serializer=_RECORD_SERIALIZER,
                )

    async def _athread_keys(self, thread_id: str) -> _Keys:
        top = await self.manager.acount(self._counter_key(thread_id), layer=self.layer)
        slots = self._slot_keys(thread_id, 1, top)
        return self._slotted(slots, await self._aget_many(slots)) if slots else []

    async def _athreads(self) -> _Keys:
        top = await self.manager.acount(self._registry_counter, layer=self.layer)
        slots = self._registry_slots(1, top)
        found = await self._aget_many(slots) if slots else {}
        return list(dict.fromkeys(str(found[s]["thread_id"]) for s in slots if s in found))

    async def _aall_keys(self) -> _Keys:
        return [key for t in await self._athreads() for key in await self._athread_keys(t)]

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Async :meth:`get_tuple`."""
        thread_id, ns = _thread_id(config), _ns(config)
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id:
            candidates = [self._ckpt_key(thread_id, ns, checkpoint_id)]
        else:
            prefix = f"{self._thread_prefix(thread_id)}{_CKPT}:{escape_segment(ns)}:"
        indexed = await self._athread_keys(thread_id)
        if not checkpoint_id:
            candidates = self._latest_first(self._under(indexed, prefix), thread_id)
        for key in candidates:
            record = await self._aget(key)
            if record is None:
                continue
            wprefix = self._writes_prefix(thread_id, ns, record["checkpoint_id"])
            wkeys = self._under(indexed, wprefix)
            return self._tuple(record, list((await self._aget_many(wkeys)).values()))
        return None

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Async :meth:`list`."""
        found = await self._athread_keys(_thread_id(config)) if config else await self._aall_keys()
        plan = self._plan_list(found, config, before)
        remaining = limit
        for ref in plan.checkpoints:
            if remaining is not None and remaining <= 0:
                return
            record = await self._aget(ref.key)
            if record is None or not self._matches(self._metadata(record), filter):
                continue
            writes = await self._aget_many(self._writes_of(plan, ref))
            if remaining is not None:
                remaining -= 1
            yield self._tuple(record, list(writes.values()))

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Async :meth:`put`."""
        thread_id, ns = _thread_id(config), _ns(config)
        record = self._checkpoint_record(config, checkpoint, metadata)
        key = self._ckpt_key(thread_id, ns, checkpoint["id"])
        await self._aset(key, record, thread_id)
        await self._aindex(thread_id, [key])
        return _make_config(thread_id, ns, checkpoint["id"])

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Async :meth:`put_writes`."""
        thread_id = _thread_id(config)
        planned = self._write_records(config, writes, task_id, task_path)
        existing = await self._aget_many([k for k, overwrite, _ in planned if not overwrite])
        written = []
        for key, overwrite, record in planned:
            if overwrite or key not in existing:
                await self._aset(key, record, thread_id)
                written.append(key)
        await self._aindex(thread_id, written)

    async def adelete_thread(self, thread_id: str) -> None:
        """Async :meth:`delete_thread`."""
        thread_id = str(thread_id)
        await self.manager.ainvalidate(self.thread_tag(thread_id))
        top = await self.manager.acount(self._counter_key(thread_id), layer=self.layer)
        keys = await self._athread_keys(thread_id)
        await self.manager.adelete_many(
            [*keys, *self._slot_keys(thread_id, 1, top), self._counter_key(thread_id)],
            layer=self.layer,
        )

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Async :meth:`copy_thread`."""
        source, target = str(source_thread_id), str(target_thread_id)
        stored = await self._aget_many(await self._athread_keys(source))
        copied = self._copied(stored, source, target)
        for key, record in copied:
            await self._aset(key, record, target)
        await self._aindex(target, [key for key, _ in copied])

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Async :meth:`delete_for_runs`."""
        plan = self._plan_list(await self._aall_keys(), None, None)
        records = await self._aget_many([r.key for r in plan.checkpoints])
        doomed = self._doomed_by_runs(plan, records, set(map(str, run_ids)))
        if doomed:
            await self.manager.adelete_many(doomed, layer=self.layer)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Async :meth:`prune`."""
        _check_strategy(strategy)
        for thread_id in thread_ids:
            if strategy == "delete":
                await self.adelete_thread(thread_id)
                continue
            doomed = self._doomed_by_prune(await self._athread_keys(str(thread_id)))
            if doomed:
                await self.manager.adelete_many(doomed, layer=self.layer)

    def __repr__(self) -> str:
        return f"LangGraphCacheAdapter({self.manager!r}, layer={self.layer!r})"


def _check_strategy(strategy: str) -> None:
    if strategy not in ("keep_latest", "delete"):
        raise ValueError(f"prune strategy must be 'keep_latest' or 'delete', got {strategy!r}")


class LangGraphNodeCache(BaseCache[Any]):
    """LangGraph's node cache (``compile(cache=...)``) stored through a CacheManager.

    Nodes declared with ``CachePolicy`` reuse a result when called again with the same
    input. Each namespace (one per node) is a tag, so ``clear(namespaces)`` is O(1) per
    namespace and ``clear()`` retires every entry of this cache.

    Args:
        manager: Where entries live.
        serde: LangGraph serializer for node results (default ``JsonPlusSerializer``
            without pickle fallback, LangGraph's own default for caches).
        layer: Layer label for metrics.
        tag: The tag every entry carries; :meth:`clear` without namespaces retires it.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> cache = LangGraphNodeCache(CacheManager())
        >>> cache.set({(("node",), "k"): ({"answer": 42}, 60)})
        >>> cache.get([(("node",), "k")])
        {(('node',), 'k'): {'answer': 42}}
    """

    def __init__(
        self,
        manager: CacheManager,
        *,
        serde: SerializerProtocol | None = None,
        layer: str = "langgraph-node",
        tag: str = NODE_CACHE_TYPE,
    ) -> None:
        super().__init__(serde=serde)
        self.manager = manager
        self.layer = layer
        self.tag = tag

    def _key(self, full_key: FullKey) -> str:
        namespace, key = full_key
        return self.manager.key_builder.build(NODE_CACHE_TYPE, [list(namespace), key])

    def namespace_tag(self, namespace: Namespace) -> str:
        """The tag of one namespace's entries.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangGraphNodeCache(CacheManager()).namespace_tag(("node",)).startswith("langg")
            True
        """
        return f"{self.tag}:ns:{self.manager.key_builder.digest(list(namespace))}"

    def _decode(
        self, keys: Sequence[FullKey], found: Mapping[str, Any], wanted: Mapping[str, FullKey]
    ) -> dict[FullKey, Any]:
        out: dict[FullKey, Any] = {}
        for skey, full_key in wanted.items():
            stored = found.get(skey)
            if stored is not None:
                out[(tuple(full_key[0]), full_key[1])] = self.serde.loads_typed(tuple(stored))
        return out

    @staticmethod
    def _ttl(ttl: int | None) -> float:
        # LangGraph's None means "no expiry"; the manager's 0 means the same.
        return 0 if ttl is None else ttl

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, Any]:
        """Cached values for the keys that have one.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangGraphNodeCache(CacheManager()).get([(("node",), "missing")])
            {}
        """
        wanted = {self._key(k): k for k in keys}
        if not wanted:
            return {}
        found = self.manager.get_many(list(wanted), layer=self.layer, serializer=_RECORD_SERIALIZER)
        return self._decode(keys, found, wanted)

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, Any]:
        """Async :meth:`get`."""
        wanted = {self._key(k): k for k in keys}
        if not wanted:
            return {}
        found = await self.manager.aget_many(
            list(wanted), layer=self.layer, serializer=_RECORD_SERIALIZER
        )
        return self._decode(keys, found, wanted)

    def set(self, pairs: Mapping[FullKey, tuple[Any, int | None]]) -> None:
        """Store values with their TTLs in seconds (``None``: no expiry).

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangGraphNodeCache(CacheManager()).set({(("node",), "k"): ("v", None)})
        """
        for full_key, (value, ttl) in pairs.items():
            self.manager.set(
                self._key(full_key),
                list(self.serde.dumps_typed(value)),
                self._ttl(ttl),
                tags=[self.tag, self.namespace_tag(full_key[0])],
                layer=self.layer,
                serializer=_RECORD_SERIALIZER,
            )

    async def aset(self, pairs: Mapping[FullKey, tuple[Any, int | None]]) -> None:
        """Async :meth:`set`."""
        for full_key, (value, ttl) in pairs.items():
            await self.manager.aset(
                self._key(full_key),
                list(self.serde.dumps_typed(value)),
                self._ttl(ttl),
                tags=[self.tag, self.namespace_tag(full_key[0])],
                layer=self.layer,
                serializer=_RECORD_SERIALIZER,
            )

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Retire the given namespaces' entries, or every entry of this cache.

        Example:
            >>> from omnicache_ai import CacheManager
            >>> LangGraphNodeCache(CacheManager()).clear([("node",)])
        """
        for tag in self._clear_tags(namespaces):
            self.manager.invalidate(tag)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Async :meth:`clear`."""
        for tag in self._clear_tags(namespaces):
            await self.manager.ainvalidate(tag)

    def _clear_tags(self, namespaces: Sequence[Namespace] | None) -> list[str]:
        if namespaces is None:
            return [self.tag]
        return [self.namespace_tag(ns) for ns in namespaces]

    def __repr__(self) -> str:
        return f"LangGraphNodeCache({self.manager!r}, layer={self.layer!r})"
