"""A2A (Agent-to-Agent) adapter: cached agent executors and cached agent-to-agent calls.

* :class:`CachingAgentExecutor` wraps an ``a2a.server.agent_execution.AgentExecutor``. On a
  miss it runs the executor and records the events it publishes (``Task``, ``Message``,
  status and artifact updates); when the task completes, the events are stored. A later
  request with the same message content replays them into the new request's queue, rewritten
  with the new request's task and context ids (agent messages get fresh message ids), so
  ``DefaultRequestHandler`` and its task store see an ordinary, completed task.
* :class:`A2ACacheAdapter` is the README's ``process(handler, payload)`` / ``aprocess`` /
  ``@wrap``: any callable that sends a payload to another agent, cached by agent id and payload.

A2A types are protobuf messages: they are stored in their JSON form (``MessageToDict``) and
rebuilt with the generated classes, never pickled.

Example:
    >>> from omnicache_ai import CacheManager
    >>> from omnicache_ai.adapters.a2a_adapter import A2ACacheAdapter
    >>> adapter = A2ACacheAdapter(CacheManager(), agent_id="planner")
    >>> adapter.process(lambda p: {"plan": ["research", p["topic"]]}, {"topic": "RAG"})
    {'plan': ['research', 'RAG']}
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, TypeVar, cast

from omnicache_ai.adapters._plain import plain
from omnicache_ai.adapters._runs import RunCodec, RunReplay
from omnicache_ai.core.cache_manager import CacheManager

try:
    from a2a.server.agent_execution import AgentExecutor, RequestContext
    from a2a.server.events import EventQueue
    from a2a.types import (
        Message,
        Role,
        Task,
        TaskArtifactUpdateEvent,
        TaskState,
        TaskStatusUpdateEvent,
    )
    from google.protobuf import json_format
    from google.protobuf import message as pb_message
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.a2a_adapter needs the A2A SDK; "
        "install it with: pip install 'omnicache-ai[a2a]'"
    ) from err

__all__ = ["A2ACacheAdapter", "CachingAgentExecutor"]

#: Payload keys that identify one request rather than say what it asks: left out of keys.
VOLATILE_KEYS: Final = frozenset(
    {"id", "message_id", "messageId", "task_id", "taskId", "context_id", "contextId", "request_id"}
)

_EVENT_TYPES: Final[dict[str, type[pb_message.Message]]] = {
    "task": Task,
    "message": Message,
    "status": TaskStatusUpdateEvent,
    "artifact": TaskArtifactUpdateEvent,
}
_KIND_OF: Final = {cls: kind for kind, cls in _EVENT_TYPES.items()}
# Where a task rests once the agent is done with it; only such runs are replayed.
_DONE: Final = frozenset({TaskState.TASK_STATE_COMPLETED})
_FN = TypeVar("_FN", bound=Callable[..., Any])


def _to_json(msg: pb_message.Message) -> dict[str, Any]:
    data: dict[str, Any] = json_format.MessageToDict(msg)
    return data


def _from_json(cls: type[pb_message.Message], data: Any) -> Any:
    return json_format.ParseDict(data, cls())


def _final_state(events: list[Any]) -> int | None:
    """The task state the run ended in (a lone ``Message`` counts as completed)."""
    state: int | None = None
    for event in events:
        if isinstance(event, Message):
            state = TaskState.TASK_STATE_COMPLETED
        elif isinstance(event, Task | TaskStatusUpdateEvent):
            state = event.status.state
    return state


def _dump_events(events: list[Any]) -> dict[str, Any]:
    return {"events": [[_KIND_OF[type(e)], _to_json(e)] for e in events]}


def _load_events(record: Any) -> list[Any]:
    """The stored events as A2A messages (a bad entry raises here: the replay reruns it)."""
    return [_from_json(_EVENT_TYPES[kind], data) for kind, data in record["events"]]


def _refuse_events(events: list[Any]) -> str | None:
    """Why a run is not replayed: it did not end completed (``None``: it did)."""
    state = _final_state(events)
    return None if state in _DONE else f"ended in task state {state}"


def _readdress_message(msg: Message, task_id: str, context_id: str) -> None:
    if msg.task_id:
        msg.task_id = task_id
    if msg.context_id:
        msg.context_id = context_id
    if msg.role != Role.ROLE_USER:
        msg.message_id = str(uuid.uuid4())


def _readdress(event: Any, context: RequestContext) -> Any:
    """``event`` for the current request: its task/context ids, fresh agent message ids."""
    task_id, context_id = context.task_id or "", context.context_id or ""
    if isinstance(event, Message):
        _readdress_message(event, task_id, context_id)
        return event
    if isinstance(event, Task):
        event.id, event.context_id = task_id, context_id
        history = list(event.history)
        del event.history[:]
        for msg in history:
            if msg.role == Role.ROLE_USER and context.message is not None:
                # The recorded run's user turn is replaced by this request's own message.
                msg = Message()  # noqa: PLW2901
                msg.CopyFrom(context.message)
            _readdress_message(msg, task_id, context_id)
            event.history.append(msg)
    else:  # status and artifact updates
        event.task_id, event.context_id = task_id, context_id
    if isinstance(event, Task | TaskStatusUpdateEvent) and event.status.HasField("message"):
        _readdress_message(event.status.message, task_id, context_id)
    return event


class _RecordingQueue:
    """The executor's event queue, passed through, keeping a copy of every event."""

    def __init__(self, queue: EventQueue) -> None:
        self._queue = queue
        self.events: list[Any] = []

    async def enqueue_event(self, event: Any) -> None:
        copy = type(event)()
        copy.CopyFrom(event)
        self.events.append(copy)
        await self._queue.enqueue_event(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queue, name)


class CachingAgentExecutor(AgentExecutor):
    """An ``AgentExecutor`` whose completed runs are replayed for a repeated request.

    A request is keyed by the agent id, the message's parts, its metadata and extensions, the
    request's metadata, and the request configuration's accepted output modes. Ids (message,
    task, context) are not part of the key. Requests that continue an existing task
    (``context.current_task`` set) or reference other tasks always run live, and so do runs
    that end in any state but completed (input or auth required, failed, cancelled, rejected).

    Args:
        executor: The executor to run on a miss.
        manager: Where entries live.
        agent_id: Names the agent in keys (two agents never share entries).
        ttl: Seconds to live for each recorded run.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> class Echo(AgentExecutor):
        ...     async def execute(self, context, event_queue): ...
        ...     async def cancel(self, context, event_queue): ...
        >>> executor = CachingAgentExecutor(Echo(), CacheManager(), agent_id="echo")
    """

    def __init__(
        self,
        executor: AgentExecutor,
        manager: CacheManager,
        *,
        agent_id: str,
        ttl: float | None = None,
    ) -> None:
        if not isinstance(executor, AgentExecutor):
            raise TypeError(f"executor must be an A2A AgentExecutor, got {type(executor).__name__}")
        if not isinstance(agent_id, str) or not agent_id:
            raise ValueError("agent_id must be a non-empty string")
        self.inner = executor
        self.agent_id = agent_id
        codec: RunCodec[Any] = RunCodec(
            encode=_dump_events, decode=_load_events, refuse=_refuse_events
        )
        self.runs: RunReplay[Any] = RunReplay(manager, "a2a-executor", codec, ttl=ttl)

    def _request(self, context: RequestContext) -> tuple[Any, dict[str, Any]] | None:
        message = context.message
        if message is None or context.current_task is not None or context.related_tasks:
            return None
        config = context.configuration
        params = {
            "message_metadata": plain(_to_json(message).get("metadata")),
            "request_metadata": plain(context.metadata),
            "extensions": sorted(message.extensions),
            "output_modes": sorted(config.accepted_output_modes) if config is not None else [],
        }
        parts = [_to_json(part) for part in message.parts] or [{}]
        return parts, params

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        """Replay the recorded events of an identical request, or run the executor and record."""
        request = self._request(context)
        if request is None:
            await self.inner.execute(context, event_queue)
            return
        parts, params = request
        recorder = _RecordingQueue(event_queue)

        async def run() -> list[Any]:
            await self.inner.execute(context, cast(EventQueue, recorder))
            return recorder.events

        out = await self.runs.arun(self.agent_id, parts, params, run)
        if out is recorder.events:  # ran here: the queue already has every event
            return
        # A stored run, or the unstored run of a concurrent identical request we waited on:
        # copies, readdressed to this request.
        for event in out:
            copy = type(event)()
            copy.CopyFrom(event)
            await event_queue.enqueue_event(_readdress(copy, context))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        """Cancel through the wrapped executor (a replay finishes at once)."""
        await self.inner.cancel(context, event_queue)


# ---- process / aprocess / wrap -------------------------------------------------------------
def _payload_key(payload: Any, volatile: frozenset[str]) -> Any:
    data = _to_json(payload) if isinstance(payload, pb_message.Message) else plain(payload)
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in volatile}
    return data


def _dump_result(result: Any) -> Any:
    if isinstance(result, pb_message.Message):
        return {"kind": "a2a.proto", "type": result.DESCRIPTOR.full_name, "json": _to_json(result)}
    return result


def _refuse_result(result: Any) -> str | None:
    if result is None or (isinstance(result, dict) and (not result or result.get("error"))):
        return "empty or an error"
    return None


def _load_result(stored: Any) -> Any:
    if isinstance(stored, dict) and stored.get("kind") == "a2a.proto":
        for cls in _EVENT_TYPES.values():
            if cls.DESCRIPTOR.full_name == stored["type"]:
                return _from_json(cls, stored["json"])
    return stored


class A2ACacheAdapter:
    """Cache what one agent answers another: ``process``, ``aprocess`` and ``@wrap``.

    Args:
        manager: Where entries live.
        agent_id: The agent answering (part of every key).
        ttl: Seconds to live for each answer.
        volatile_keys: Top-level payload keys left out of the key (default:
            :data:`VOLATILE_KEYS`, the ids that name one request).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> adapter = A2ACacheAdapter(CacheManager(), agent_id="planner")
        >>> @adapter.wrap
        ... def handle_task(payload: dict) -> dict:
        ...     return {"status": "done", "topic": payload["topic"]}
        >>> handle_task({"topic": "AI", "id": "t-1"}) == handle_task({"topic": "AI", "id": "t-2"})
        True
    """

    def __init__(
        self,
        manager: CacheManager,
        agent_id: str,
        *,
        ttl: float | None = None,
        volatile_keys: Iterable[str] | None = None,
    ) -> None:
        if not isinstance(agent_id, str) or not agent_id:
            raise ValueError("agent_id must be a non-empty string")
        self.manager = manager
        self.agent_id = agent_id
        self.ttl = ttl
        self.volatile = VOLATILE_KEYS if volatile_keys is None else frozenset(volatile_keys)
        self.answers: RunReplay[Any] = RunReplay(
            manager,
            "a2a",
            RunCodec(encode=_dump_result, decode=_load_result, refuse=_refuse_result),
            ttl=ttl,
        )

    def _key(self, payload: Any) -> Any:
        return _payload_key(payload, self.volatile)

    def process(self, handler: Callable[[Any], Any], payload: Any) -> Any:
        """``handler(payload)``, or the answer cached for an identical payload."""
        if inspect.iscoroutinefunction(handler):
            raise TypeError("handler is async; use `await adapter.aprocess(handler, payload)`")
        return self.answers.run(self.agent_id, self._key(payload), {}, lambda: handler(payload))

    async def aprocess(self, handler: Callable[[Any], Awaitable[Any] | Any], payload: Any) -> Any:
        """Async :meth:`process`; ``handler`` may be async or plain."""

        async def call() -> Any:
            result = handler(payload)
            if inspect.isawaitable(result):
                result = await result
            return result

        return await self.answers.arun(self.agent_id, self._key(payload), {}, call)

    def wrap(self, fn: _FN) -> _FN:
        """Decorate a (sync or async) one-payload handler so its answers are cached."""
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(payload: Any) -> Any:
                return await self.aprocess(fn, payload)

            return cast(_FN, async_wrapper)

        @functools.wraps(fn)
        def wrapper(payload: Any) -> Any:
            return self.process(fn, payload)

        return cast(_FN, wrapper)

    def executor(self, executor: AgentExecutor) -> CachingAgentExecutor:
        """``executor`` with completed runs replayed, keyed under this adapter's agent id."""
        return CachingAgentExecutor(executor, self.manager, agent_id=self.agent_id, ttl=self.ttl)
