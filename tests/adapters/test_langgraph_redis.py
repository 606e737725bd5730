"""The LangGraph checkpointer and node cache over a real Redis server the tests start.

LangGraph's own checkpointer conformance suite runs on Redis; listing is checked against
Redis' command statistics (no ``KEYS``/``SCAN``); and a real StateGraph interrupted in one
process is resumed in another that shares the Redis (or disk) backend.
"""

# The framework imports follow need(), which skips (or fails under CI) without the extra.
from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from _ci import need

need("langgraph", extra="langgraph")
need("langgraph.checkpoint.conformance")
need("redis", extra="redis")

# tests/adapters/conftest.py loads tests/redis/conftest.py under this unique name; importing
# "conftest" by name would pick whichever conftest another directory in the run imported first.
from _omnicache_redis_fixtures import raw_command
from langgraph.checkpoint.conformance import checkpointer_test, validate

from omnicache_ai import CacheKeyBuilder, CacheManager
from omnicache_ai.adapters.langgraph_adapter import LangGraphCacheAdapter, LangGraphNodeCache
from omnicache_ai.backends.redis_backend import AsyncRedisBackend, RedisBackend

pytestmark = pytest.mark.redis

# A loaded 2-core CI box: give connections room (as tests/redis does).
TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sync", "async"])
async def redis_manager(
    request: pytest.FixtureRequest, redis_clean_url: str
) -> AsyncIterator[CacheManager]:
    """A manager over the flushed session Redis, through the sync or the async client."""
    backend: Any = (
        RedisBackend(redis_clean_url, **TIMEOUTS)
        if request.param == "sync"
        else AsyncRedisBackend(redis_clean_url, **TIMEOUTS)
    )
    manager = CacheManager(backend=backend, key_builder=CacheKeyBuilder("lg"))
    yield manager
    await manager.aclose()


async def test_conformance_suite_passes_on_redis(redis_manager: CacheManager) -> None:
    """Every base and extended capability of langgraph-checkpoint-conformance passes on Redis."""
    counter = iter(range(1000))

    async def fresh_saver() -> AsyncIterator[LangGraphCacheAdapter]:
        yield LangGraphCacheAdapter(redis_manager.for_tenant(f"suite{next(counter)}"))

    report = await validate(checkpointer_test(name="LangGraphCacheAdapter[redis]")(fresh_saver))
    counts = {c: (r.tests_passed, r.tests_failed) for c, r in report.results.items()}
    print(f"\nLangGraph conformance on Redis: {report.conformance_level()} {counts}")
    assert report.passed_all(), {c: r.failures for c, r in report.results.items() if r.failures}
    assert report.conformance_level() == "FULL"


def _stats(url: str) -> dict[str, int]:
    port = int(url.rsplit(":", 1)[1].split("/", maxsplit=1)[0])
    text = raw_command(port, "INFO", "commandstats").decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("cmdstat_"):
            name, _, rest = line.partition(":")
            out[name.removeprefix("cmdstat_")] = int(rest.split(",")[0].split("=")[1])
    return out


def _reset_stats(url: str) -> None:
    port = int(url.rsplit(":", 1)[1].split("/", maxsplit=1)[0])
    assert raw_command(port, "CONFIG", "RESETSTAT").startswith(b"+OK")


def test_listing_never_scans_the_keyspace(redis_clean_url: str) -> None:
    """get_tuple, list(thread), list(None), prune and delete_thread send no KEYS or SCAN."""
    from langgraph.checkpoint.base import empty_checkpoint

    manager = CacheManager(
        backend=RedisBackend(redis_clean_url, **TIMEOUTS), key_builder=CacheKeyBuilder("lg")
    )
    saver = LangGraphCacheAdapter(manager)
    for thread in ("a", "b", "c"):
        config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        for step in range(3):
            checkpoint = empty_checkpoint()
            config = saver.put(config, checkpoint, {"step": step}, {})
            saver.put_writes(config, [("channel", step)], task_id=f"task-{step}")
    _reset_stats(redis_clean_url)
    assert saver.get_tuple({"configurable": {"thread_id": "a"}}) is not None
    assert len(list(saver.list({"configurable": {"thread_id": "b"}}))) == 3
    assert len(list(saver.list(None))) == 9
    saver.prune(["c"])
    saver.delete_thread("a")
    assert len(list(saver.list(None))) == 4
    used = _stats(redis_clean_url)
    assert not {"keys", "scan"} & set(used), used
    assert used  # the stats are real: the calls above did reach Redis
    manager.close()


def test_node_cache_on_redis(redis_clean_url: str) -> None:
    """The node cache stores and clears through Redis."""
    manager = CacheManager(backend=RedisBackend(redis_clean_url, **TIMEOUTS))
    cache = LangGraphNodeCache(manager)
    cache.set({(("node",), "k"): ({"v": 1}, 60), (("other",), "k"): (2, None)})
    assert cache.get([(("node",), "k")]) == {(("node",), "k"): {"v": 1}}
    cache.clear([("node",)])
    assert cache.get([(("node",), "k"), (("other",), "k")]) == {(("other",), "k"): 2}
    manager.close()


# ---- a real StateGraph resumed by another process ----------------------------------------------
_GRAPH = textwrap.dedent(
    """
    import json, operator, sys
    from typing import Annotated, TypedDict
    from langgraph.graph import START, StateGraph
    from langgraph.types import Command, interrupt
    from omnicache_ai import CacheKeyBuilder, CacheManager, DiskBackend
    from omnicache_ai.adapters.langgraph_adapter import LangGraphCacheAdapter

    class State(TypedDict):
        total: int
        steps: Annotated[list[str], operator.add]

    def ask(state):
        answer = interrupt("how many?")
        return {"total": state["total"] + int(answer), "steps": ["ask"]}

    kind, where, phase = sys.argv[1:4]
    if kind == "redis":
        from omnicache_ai.backends.redis_backend import RedisBackend
        backend = RedisBackend(where, socket_timeout=2.0, socket_connect_timeout=2.0)
    else:
        backend = DiskBackend(where)
    manager = CacheManager(backend=backend, key_builder=CacheKeyBuilder("resume"))
    builder = StateGraph(State)
    builder.add_node("prepare", lambda s: {"total": s["total"] * 10, "steps": ["prepare"]})
    builder.add_node("ask", ask)
    builder.add_edge(START, "prepare")
    builder.add_edge("prepare", "ask")
    graph = builder.compile(checkpointer=LangGraphCacheAdapter(manager))
    config = {"configurable": {"thread_id": "shared-thread"}}
    if phase == "start":
        out = graph.invoke({"total": 4, "steps": []}, config)
    else:
        out = graph.invoke(Command(resume="2"), config)
    state = graph.get_state(config)
    print(json.dumps({"out": {k: v for k, v in out.items() if k != "__interrupt__"},
                      "next": list(state.next), "pid": __import__("os").getpid()}))
    """
)


def _run_phase(kind: str, where: str, phase: str) -> dict[str, Any]:
    import json

    out = subprocess.run(
        [sys.executable, "-c", _GRAPH, kind, where, phase],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["redis", "disk"])
def test_state_graph_resumes_in_another_process(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A graph interrupted in one process is resumed from the shared store by a second one."""
    where = request.getfixturevalue("redis_clean_url") if kind == "redis" else str(tmp_path / "lg")
    first = _run_phase(kind, where, "start")
    assert first["next"] == ["ask"]
    assert first["out"] == {"total": 40, "steps": ["prepare"]}
    second = _run_phase(kind, where, "resume")
    assert second["pid"] != first["pid"]
    assert second["next"] == []
    assert second["out"] == {"total": 42, "steps": ["prepare", "ask"]}
