"""LangGraphCacheAdapter passes LangGraph's checkpointer conformance suite and runs real graphs."""

from __future__ import annotations

import operator
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from _ci import need

need("langgraph", extra="langgraph")
need("langgraph.checkpoint.conformance")

from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.graph import END, START, StateGraph
from langgraph.types import CachePolicy, Command, interrupt

from omnicache_ai import (
    AsyncInMemoryBackend,
    CacheKeyBuilder,
    CacheManager,
    DiskBackend,
    InMemoryBackend,
    PickleSerializer,
)
from omnicache_ai.adapters.langgraph_adapter import LangGraphCacheAdapter, LangGraphNodeCache

BACKENDS: dict[str, Callable[[Path], Any]] = {
    "memory": lambda _: InMemoryBackend(),
    "async-memory": lambda _: AsyncInMemoryBackend(),
    "disk": lambda tmp: DiskBackend(tmp / "disk"),
}


@pytest.fixture(params=sorted(BACKENDS))
def manager(request: pytest.FixtureRequest, tmp_path: Path) -> CacheManager:
    """An empty manager over each backend that supports key listing."""
    return CacheManager(
        backend=BACKENDS[request.param](tmp_path), key_builder=CacheKeyBuilder("test")
    )


async def test_passes_langgraph_checkpointer_conformance(manager: CacheManager) -> None:
    """Every base and extended capability of langgraph-checkpoint-conformance passes."""
    counter = iter(range(1000))

    async def fresh_saver() -> AsyncIterator[LangGraphCacheAdapter]:
        # A tenant view per capability suite: each suite starts from an empty store.
        yield LangGraphCacheAdapter(manager.for_tenant(f"suite{next(counter)}"))

    registered = checkpointer_test(name="LangGraphCacheAdapter")(fresh_saver)
    report = await validate(registered)
    failures = {cap: r.failures for cap, r in report.results.items() if r.failures}
    assert report.passed_all(), failures
    assert report.conformance_level() == "FULL"


class Counter(TypedDict):
    """State of the test graph: a running total and the log of visited steps."""

    total: int
    steps: Annotated[list[str], operator.add]


def _graph(saver: LangGraphCacheAdapter) -> Any:
    builder = StateGraph(Counter)
    builder.add_node("add_one", lambda s: {"total": s["total"] + 1, "steps": ["add_one"]})
    builder.add_node("double", lambda s: {"total": s["total"] * 2, "steps": ["double"]})
    builder.add_edge(START, "add_one")
    builder.add_edge("add_one", "double")
    builder.add_edge("double", END)
    return builder.compile(checkpointer=saver)


def test_state_persists_across_invocations_of_one_thread(manager: CacheManager) -> None:
    """A second invoke on the same thread_id continues from the stored state."""
    graph = _graph(LangGraphCacheAdapter(manager))
    config = {"configurable": {"thread_id": "t1"}}
    first = graph.invoke({"total": 1, "steps": []}, config)
    assert first == {"total": 4, "steps": ["add_one", "double"]}
    second = graph.invoke({"total": first["total"], "steps": ["again"]}, config)
    assert second["steps"] == ["add_one", "double", "again", "add_one", "double"]
    assert graph.get_state(config).values == second


def test_history_lists_every_step_newest_first(manager: CacheManager) -> None:
    """get_state_history walks the stored checkpoints from newest to oldest."""
    graph = _graph(LangGraphCacheAdapter(manager))
    config = {"configurable": {"thread_id": "history"}}
    graph.invoke({"total": 0, "steps": []}, config)
    history = list(graph.get_state_history(config))
    assert [h.metadata["step"] for h in history if h.metadata] == [2, 1, 0, -1]
    assert history[0].values["total"] == 2
    assert history[-1].next == ("__start__",)
    ids = [h.config["configurable"]["checkpoint_id"] for h in history]
    assert ids == sorted(ids, reverse=True)


def test_threads_are_isolated(manager: CacheManager) -> None:
    """Two thread_ids never see each other's state."""
    graph = _graph(LangGraphCacheAdapter(manager))
    graph.invoke({"total": 1, "steps": []}, {"configurable": {"thread_id": "a"}})
    graph.invoke({"total": 10, "steps": []}, {"configurable": {"thread_id": "b"}})
    assert graph.get_state({"configurable": {"thread_id": "a"}}).values["total"] == 4
    assert graph.get_state({"configurable": {"thread_id": "b"}}).values["total"] == 22


async def test_ainvoke_persists_and_reads_back(manager: CacheManager) -> None:
    """ainvoke stores through the async path and aget_state reads the same state."""
    saver = LangGraphCacheAdapter(manager)
    graph = _graph(saver)
    config = {"configurable": {"thread_id": "async"}}
    await graph.ainvoke({"total": 2, "steps": []}, config)
    result = await graph.ainvoke({"total": 6, "steps": ["next"]}, config)
    assert result["total"] == 14
    assert (await graph.aget_state(config)).values == result
    history = [s async for s in graph.aget_state_history(config)]
    assert len(history) == 8
    assert [t.metadata["step"] async for t in saver.alist(config, limit=2)] == [6, 5]


def test_sync_and_async_share_the_same_store(manager: CacheManager) -> None:
    """A thread written by invoke is visible to a second saver over the same manager."""
    _graph(LangGraphCacheAdapter(manager)).invoke(
        {"total": 3, "steps": []}, {"configurable": {"thread_id": "shared"}}
    )
    other = LangGraphCacheAdapter(manager)
    latest = other.get_tuple({"configurable": {"thread_id": "shared"}})
    assert latest is not None
    assert latest.checkpoint["channel_values"]["total"] == 8


def test_parallel_branches_and_interrupt_resume(manager: CacheManager) -> None:
    """Fan-out writes land in one super-step and an interrupt resumes from the checkpoint."""

    def ask(state: Counter) -> dict[str, Any]:
        answer = interrupt("how many?")
        return {"total": state["total"] + int(answer), "steps": ["ask"]}

    builder = StateGraph(Counter)
    builder.add_node("left", lambda s: {"steps": ["left"]})
    builder.add_node("right", lambda s: {"steps": ["right"]})
    builder.add_node("ask", ask)
    builder.add_edge(START, "left")
    builder.add_edge(START, "right")
    builder.add_edge(["left", "right"], "ask")
    graph = builder.compile(checkpointer=LangGraphCacheAdapter(manager))
    config = {"configurable": {"thread_id": "hitl"}}
    paused = graph.invoke({"total": 1, "steps": []}, config)
    assert sorted(paused["steps"]) == ["left", "right"]
    assert graph.get_state(config).next == ("ask",)
    resumed = graph.invoke(Command(resume="41"), config)
    assert resumed["total"] == 42
    assert resumed["steps"][-1] == "ask"


def test_delete_thread_forgets_the_state(manager: CacheManager) -> None:
    """After delete_thread the next invoke starts from scratch."""
    saver = LangGraphCacheAdapter(manager)
    graph = _graph(saver)
    config = {"configurable": {"thread_id": "gone"}}
    graph.invoke({"total": 1, "steps": []}, config)
    saver.delete_thread("gone")
    assert saver.get_tuple(config) is None
    # Only the thread registry remains (a name with no records lists nothing).
    assert [k for k in manager.keys("test:langgraph:") if ":~t:" not in k] == []
    assert list(saver.list(None)) == []
    assert graph.invoke({"total": 1, "steps": []}, config)["steps"] == ["add_one", "double"]


def test_thread_tag_invalidation_retires_a_thread(manager: CacheManager) -> None:
    """manager.invalidate(saver.thread_tag(t)) makes the thread's checkpoints unreadable."""
    saver = LangGraphCacheAdapter(manager)
    _graph(saver).invoke({"total": 1, "steps": []}, {"configurable": {"thread_id": "x"}})
    _graph(saver).invoke({"total": 1, "steps": []}, {"configurable": {"thread_id": "y"}})
    manager.invalidate(saver.thread_tag("x"))
    assert saver.get_tuple({"configurable": {"thread_id": "x"}}) is None
    assert saver.get_tuple({"configurable": {"thread_id": "y"}}) is not None


def test_thread_written_after_invalidation_is_listed_again(manager: CacheManager) -> None:
    """Retiring a thread's tag hides its old checkpoints only: new ones list everywhere."""
    saver = LangGraphCacheAdapter(manager)
    graph = _graph(saver)
    config = {"configurable": {"thread_id": "again"}}
    graph.invoke({"total": 1, "steps": []}, config)
    manager.invalidate(saver.thread_tag("again"))
    assert list(saver.list(None)) == []
    graph.invoke({"total": 2, "steps": []}, config)
    assert len(list(saver.list(config))) == 4
    assert len(list(saver.list(None))) == 4


def test_records_never_use_the_managers_pickle_serializer() -> None:
    """Checkpoints are stored with msgpack even when the manager defaults to pickle."""
    manager = CacheManager(backend=InMemoryBackend(), serializer=PickleSerializer(secret=b"k" * 32))
    saver = LangGraphCacheAdapter(manager)
    _graph(saver).invoke({"total": 1, "steps": []}, {"configurable": {"thread_id": "p"}})
    plain = CacheManager(backend=manager.backend)  # a reader that refuses pickles
    assert LangGraphCacheAdapter(plain).get_tuple({"configurable": {"thread_id": "p"}})


def test_checkpoints_never_expire_by_default(
    manager: CacheManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default ttl of 0 keeps checkpoints past the manager's default TTL."""
    from omnicache_ai.backends import memory_backend

    clock = [1000.0]
    monkeypatch.setattr(memory_backend, "_now", lambda: clock[0])
    saver = LangGraphCacheAdapter(CacheManager(backend=InMemoryBackend()))
    _graph(saver).invoke({"total": 1, "steps": []}, {"configurable": {"thread_id": "old"}})
    clock[0] += 10 * 365 * 24 * 3600
    assert saver.get_tuple({"configurable": {"thread_id": "old"}}) is not None


def _cached_graph(cache: LangGraphNodeCache, calls: list[int]) -> Any:
    def expensive(state: Counter) -> dict[str, Any]:
        calls.append(state["total"])
        return {"total": state["total"] * 10, "steps": ["expensive"]}

    builder = StateGraph(Counter)
    builder.add_node("expensive", expensive, cache_policy=CachePolicy(ttl=60))
    builder.add_edge(START, "expensive")
    return builder.compile(cache=cache)


def test_node_cache_skips_a_node_seen_with_the_same_input(manager: CacheManager) -> None:
    """A cached node runs once per distinct input; clear() makes it run again."""
    cache = LangGraphNodeCache(manager)
    calls: list[int] = []
    graph = _cached_graph(cache, calls)
    assert graph.invoke({"total": 2, "steps": []})["total"] == 20
    assert graph.invoke({"total": 2, "steps": []})["total"] == 20
    assert graph.invoke({"total": 3, "steps": []})["total"] == 30
    assert calls == [2, 3]
    cache.clear()
    graph.invoke({"total": 2, "steps": []})
    assert calls == [2, 3, 2]


async def test_node_cache_async_path(manager: CacheManager) -> None:
    """ainvoke uses the node cache's async methods; aclear_cache clears one node's entries."""
    cache = LangGraphNodeCache(manager)
    calls: list[int] = []
    graph = _cached_graph(cache, calls)
    await graph.ainvoke({"total": 5, "steps": []})
    assert (await graph.ainvoke({"total": 5, "steps": []}))["total"] == 50
    assert calls == [5]
    await graph.aclear_cache(["expensive"])
    await graph.ainvoke({"total": 5, "steps": []})
    assert calls == [5, 5]


def test_node_cache_clear_by_namespace_is_scoped(manager: CacheManager) -> None:
    """clear(namespaces) retires only those namespaces' entries."""
    cache = LangGraphNodeCache(manager)
    cache.set({(("a",), "k"): (1, None), (("b",), "k"): (2, 30)})
    cache.clear([("a",)])
    assert cache.get([(("a",), "k"), (("b",), "k")]) == {(("b",), "k"): 2}
