"""The demo's near-miss accounting: near-misses are asked, counted, and a false hit shows."""

from __future__ import annotations

from _ci import need
from omnicache_ai.demo import NEAR_MISSES, QUESTIONS, DemoResult, _workload, run_demo

need("wordllama", extra="semantic")


def _run(threshold: float | None) -> tuple[DemoResult, str]:
    lines: list[str] = []
    result = run_demo(requests=60, seed=3, latency_scale=0, out=lines.append,
                      threshold=threshold)  # fmt: skip
    return result, "\n".join(lines)


def test_workload_mixes_in_near_misses() -> None:
    """The workload asks near-misses of the frequent questions, and marks them."""
    work = _workload(200, seed=1)
    marked = [q for q, near in work if near]
    assert 10 < len(marked) < 60
    assert set(marked) <= {q for group in NEAR_MISSES for q in group}
    assert all(q in {v for g in QUESTIONS for v in g} for q, near in work if not near)


def test_low_threshold_near_miss_false_hits_are_counted() -> None:
    """At a permissive threshold near-misses are served cached answers, and the demo says so."""
    result, text = _run(0.5)
    assert result.near_misses == sum(near for _, near in _workload(60, seed=3))
    assert result.near_miss_wrong > 0
    assert result.wrong_answers >= result.near_miss_wrong
    assert result.near_miss_outcomes["wrong answer"] == result.near_miss_wrong
    assert sum(result.near_miss_outcomes.values()) == result.near_misses
    assert f"{result.wrong_answers} ({result.near_miss_wrong} of them on near-misses)" in text


def test_default_run_reports_guard_vetoes() -> None:
    """The default run prints how many candidates the guards turned away, from the cache's stats."""
    result, text = _run(None)
    away = sum(result.turned_away.values())
    assert f"turned away by guards     {away}" in text
    assert result.near_misses > 0
    assert sum(result.near_miss_outcomes.values()) == result.near_misses
    assert "of which" in text
