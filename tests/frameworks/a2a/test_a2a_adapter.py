"""The A2A adapter: executor runs replayed through DefaultRequestHandler; process/wrap cached."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from _ci import need

need("a2a", extra="a2a")

from a2a.helpers.proto_helpers import (
    get_artifact_text,
    new_text_artifact_update_event,
    new_text_status_update_event,
)
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    Task,
    TaskState,
    TaskStatus,
)

from omnicache_ai import CacheManager, InMemoryBackend
from omnicache_ai.adapters.a2a_adapter import A2ACacheAdapter, CachingAgentExecutor


class Researcher(AgentExecutor):
    """A real executor: a task, one artifact, a completed status; counts its runs."""

    def __init__(self, final: int = TaskState.TASK_STATE_COMPLETED) -> None:
        self.calls = 0
        self.final = final

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        """Publish the task, a report artifact and the final status."""
        self.calls += 1
        assert context.message is not None
        task_id, context_id = context.task_id or "", context.context_id or ""
        await event_queue.enqueue_event(
            Task(
                id=task_id,
                context_id=context_id,
                status=TaskStatus(state=TaskState.TASK_STATE_WORKING),
                history=[context.message],
            )
        )
        await event_queue.enqueue_event(
            new_text_artifact_update_event(
                task_id, context_id, "report", f"report on {context.get_user_input()}"
            )
        )
        await event_queue.enqueue_event(
            new_text_status_update_event(task_id, context_id, self.final, "done")
        )

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        """Nothing to cancel: runs finish at once."""


def handler_for(executor: AgentExecutor) -> DefaultRequestHandler:
    """The SDK's own request handler with an in-memory task store."""
    card = AgentCard(
        name="researcher",
        description="Writes reports",
        version="1.0",
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
    )
    return DefaultRequestHandler(
        agent_executor=executor, task_store=InMemoryTaskStore(), agent_card=card
    )


def request(text: str, **metadata: Any) -> SendMessageRequest:
    """A fresh user message (new message id every time)."""
    message = Message(role=Role.ROLE_USER, parts=[Part(text=text)], message_id=str(uuid.uuid4()))
    if metadata:
        message.metadata.update(metadata)
    return SendMessageRequest(message=message)


@pytest.fixture
def manager() -> CacheManager:
    """A fresh in-memory manager per test."""
    return CacheManager(backend=InMemoryBackend())


async def send(handler: DefaultRequestHandler, req: SendMessageRequest) -> Task:
    """on_message_send, in process; the answer must be a Task."""
    result = await handler.on_message_send(req, ServerCallContext())
    assert isinstance(result, Task)
    return result


async def test_second_identical_request_is_replayed(manager: CacheManager) -> None:
    """The same message again: the executor does not run, the new task completes the same."""
    inner = Researcher()
    handler = handler_for(CachingAgentExecutor(inner, manager, agent_id="researcher"))
    first = await send(handler, request("RAG"))
    second = await send(handler, request("RAG"))
    assert inner.calls == 1
    assert second.id != first.id
    assert second.context_id != first.context_id
    assert second.status.state == TaskState.TASK_STATE_COMPLETED
    assert [get_artifact_text(a) for a in second.artifacts] == ["report on RAG"]
    assert second.status.message.task_id == second.id
    assert second.status.message.message_id != first.status.message.message_id
    stored = await handler.on_get_task(GetTaskRequest(id=second.id), ServerCallContext())
    assert stored is not None
    assert stored.status.state == TaskState.TASK_STATE_COMPLETED


async def test_streamed_request_replays_the_events(manager: CacheManager) -> None:
    """on_message_send_stream: a hit yields the same kinds of events, readdressed."""
    inner = Researcher()
    handler = handler_for(CachingAgentExecutor(inner, manager, agent_id="researcher"))

    async def stream(text: str) -> list[Any]:
        return [e async for e in handler.on_message_send_stream(request(text), ServerCallContext())]

    live = await stream("agents")
    replay = await stream("agents")
    assert inner.calls == 1
    assert [type(e).__name__ for e in replay] == [type(e).__name__ for e in live]
    task_ids = {getattr(e, "task_id", None) or getattr(e, "id", None) for e in replay}
    assert len(task_ids) == 1
    assert task_ids.isdisjoint({getattr(e, "task_id", None) or e.id for e in live})


@pytest.mark.parametrize("change", ["text", "metadata", "agent"])
async def test_a_changed_request_misses(manager: CacheManager, change: str) -> None:
    """Other text, other metadata or another agent id runs the executor again."""
    inner = Researcher()
    await send(handler_for(CachingAgentExecutor(inner, manager, agent_id="a")), request("RAG"))
    agent, req = "a", request("RAG")
    if change == "text":
        req = request("agents")
    elif change == "metadata":
        req = request("RAG", audience="experts")
    else:
        agent = "b"
    await send(handler_for(CachingAgentExecutor(inner, manager, agent_id=agent)), req)
    assert inner.calls == 2


async def test_unfinished_runs_are_not_replayed(manager: CacheManager) -> None:
    """A run that ends needing input is never stored."""
    inner = Researcher(final=TaskState.TASK_STATE_INPUT_REQUIRED)
    handler = handler_for(CachingAgentExecutor(inner, manager, agent_id="r"))
    await send(handler, request("RAG"))
    await send(handler, request("RAG"))
    assert inner.calls == 2


async def test_repeated_downstream_call_inside_one_task_is_served(manager: CacheManager) -> None:
    """An orchestrator asks the same downstream agent the same thing twice in one run: one call."""
    downstream_calls: list[Any] = []
    adapter = A2ACacheAdapter(manager, agent_id="planner")

    @adapter.wrap
    async def plan(payload: dict[str, Any]) -> dict[str, Any]:
        downstream_calls.append(payload)
        return {"steps": ["search", payload["topic"]]}

    class Orchestrator(Researcher):
        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            """Ask the planner twice (ids differ), then report."""
            a = await plan({"topic": context.get_user_input(), "id": "1"})
            b = await plan({"topic": context.get_user_input(), "id": "2"})
            assert a == b
            await super().execute(context, event_queue)

    inner = Orchestrator()
    await send(handler_for(inner), request("RAG"))
    assert inner.calls == 1
    assert len(downstream_calls) == 1


def test_process_and_wrap_sync(manager: CacheManager) -> None:
    """process() and a sync @wrap call the handler once per distinct payload."""
    calls: list[Any] = []
    adapter = A2ACacheAdapter(manager, agent_id="planner")

    def handle(payload: dict[str, Any]) -> dict[str, Any]:
        calls.append(payload)
        return {"status": "done", "topic": payload["topic"]}

    assert adapter.process(handle, {"topic": "AI"}) == {"status": "done", "topic": "AI"}
    assert adapter.process(handle, {"topic": "AI", "task_id": "x"}) == {
        "status": "done",
        "topic": "AI",
    }
    wrapped = adapter.wrap(handle)
    wrapped({"topic": "ML"})
    wrapped({"topic": "ML"})
    assert [c["topic"] for c in calls] == ["AI", "ML"]
    other = A2ACacheAdapter(manager, agent_id="critic")
    other.process(handle, {"topic": "AI"})
    assert len(calls) == 3


async def test_protobuf_results_round_trip(manager: CacheManager) -> None:
    """A handler answering with an A2A Message gets a Message back on a hit, no pickle."""
    adapter = A2ACacheAdapter(manager, agent_id="echo")
    calls = 0

    async def echo(payload: Message) -> Message:
        nonlocal calls
        calls += 1
        return Message(role=Role.ROLE_AGENT, parts=list(payload.parts), message_id="m")

    msg = Message(role=Role.ROLE_USER, parts=[Part(text="hi")], message_id="u1")
    first = await adapter.aprocess(echo, msg)
    again = Message(role=Role.ROLE_USER, parts=[Part(text="hi")], message_id="u2")
    second = await adapter.aprocess(echo, again)
    assert calls == 1
    assert isinstance(second, Message)
    assert second == first


def test_bad_input_is_refused(manager: CacheManager) -> None:
    """An empty agent id or a non-executor names the problem."""
    with pytest.raises(ValueError, match="agent_id"):
        A2ACacheAdapter(manager, agent_id="")
    with pytest.raises(TypeError, match="AgentExecutor"):
        CachingAgentExecutor(object(), manager, agent_id="a")  # type: ignore[arg-type]

    async def handler(payload: Any) -> Any:
        return payload

    with pytest.raises(TypeError, match="aprocess"):
        A2ACacheAdapter(manager, agent_id="a").process(handler, {"x": 1})


async def test_a_cache_outage_never_breaks_a_request() -> None:
    """With the backend down, the executor runs for every request and tasks complete."""
    from omnicache_ai.testing.fakes import FlakyBackend

    flaky = FlakyBackend(InMemoryBackend())
    flaky.down = True
    inner = Researcher()
    handler = handler_for(
        CachingAgentExecutor(inner, CacheManager(backend=flaky), agent_id="researcher")
    )
    for _ in range(2):
        assert (await send(handler, request("RAG"))).status.state == TaskState.TASK_STATE_COMPLETED
    assert inner.calls == 2
    assert flaky.failures > 0
