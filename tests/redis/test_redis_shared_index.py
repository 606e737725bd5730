"""SharedVectorIndex across processes over a disk directory and a real redis-server."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _shared_index_workers as workers
import numpy as np
import pytest

from omnicache_ai.layers.semantic_index import SharedVectorIndex

DIM = workers.DIM


def _run(
    n: int, target: Callable[..., None], args_for: Callable[..., tuple[Any, ...]]
) -> list[Any]:
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args_for(i), barrier, queue)) for i in range(n)]
    for p in procs:
        p.start()
    results = []
    for _ in procs:
        status, payload = queue.get(timeout=120)
        assert status == "ok", payload
        results.append(payload)
    for p in procs:
        p.join(30)
    return results


def _where(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "redis":
        return str(request.getfixturevalue("redis_clean_url"))
    return str(tmp_path / "cache")


KINDS = ["disk", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_paraphrase_stored_in_one_process_hits_in_another(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Process a stores a question; process b, already running, hits on a paraphrase."""
    where = _where(kind, tmp_path, request)
    results = _run(2, workers.store_then_answer, lambda i: (where, "ab"[i]))
    assert (True, "semantic", "100 C") in results


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_four_writers_lose_nothing_and_a_later_process_sees_all(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """4 processes x 100 adds at once; a process started afterwards replays all 400."""
    where = _where(kind, tmp_path, request)
    unlogged = _run(4, workers.writer, lambda i: (where, i, 100))
    assert unlogged == [0, 0, 0, 0]
    manager = workers.open_manager(where)
    late = SharedVectorIndex(manager, dim=DIM)
    assert late.count() == 400
    rng = np.random.default_rng(2)
    second = rng.standard_normal((2, DIM))[1]  # worker 2's second vector
    assert late.search(second, k=1)[0].id == "w2:1"
    manager.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_process_behind_a_trimmed_log_rebuilds_with_every_change(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """An idle process whose unread log was compacted away rebuilds the exact live index.

    The trimmed part held a delete, a TTL expiry, a tag invalidation and a tenant clear():
    after catching up (from the snapshot, then the log tail), the idle process serves the
    kept and the newer entries, none of the removed ones, and holds the same vectors as a
    process started afterwards.
    """
    where = _where(kind, tmp_path, request)
    results = dict(_run(2, workers.compaction_roles, lambda i: (where, ["writer", "idle"][i])))
    writer, idle = results["writer"], results["idle"]
    assert all(tier == "semantic" for tier, _ in idle["before"].values()), idle["before"]
    assert writer == {"first": True, "second": True, "slot_1_kept": False}
    assert idle["snapshot_loads"] == 1
    after = idle["after"]
    assert after["keep"] == ("semantic", "keep")
    assert after["last"] == ("semantic", "last")
    for name in ("deleted", "expired", "tagged", "cleared"):
        assert after[name] == (None, None), name
    manager = workers.open_manager(where)
    late = SharedVectorIndex(manager, dim=DIM)
    assert sorted(late.local._row_of) == idle["ids"]  # type: ignore[attr-defined]
    assert len(idle["ids"]) == 2  # keep and last
    manager.close()
