"""NegativeCache: block patterns, refuse or skip before the upstream call, list/remove/report."""

from __future__ import annotations

import pytest

from omnicache_ai.embedders import Embedder, HashingEmbedder
from omnicache_ai.layers.negative_cache import NegativeCache, QueryBlockedError
from omnicache_ai.layers.semantic_cache import SemanticCache


def test_refuse_mode_raises_before_upstream(real_embedder: Embedder) -> None:
    """A query similar to a blocked pattern is refused and upstream is never called."""
    block = NegativeCache(embedder=real_embedder, mode="refuse")
    block.add("What is my current account balance?", reason="per-user data")
    cache = SemanticCache(embedder=real_embedder, blocklist=block)
    calls: list[int] = []
    with pytest.raises(QueryBlockedError, match="per-user data") as info:
        cache.get_or_set("What's my account balance?",
                         lambda: calls.append(1))  # fmt: skip
    assert calls == []
    assert info.value.match.similarity >= block.threshold
    assert cache.get_or_set("What is the capital of Peru?", lambda: "Lima") == "Lima"


def test_skip_mode_calls_upstream_without_caching(real_embedder: Embedder) -> None:
    """In skip mode a blocked query goes upstream every time and nothing is stored."""
    block = NegativeCache(embedder=real_embedder, mode="skip")
    block.add("What is today's stock price of ACME?", reason="live data")
    cache = SemanticCache(embedder=real_embedder, blocklist=block)
    answers = iter(["$10", "$11"])
    q = "What is the stock price of ACME today?"
    assert cache.get_or_set(q, lambda: next(answers)) == "$10"
    assert cache.get_or_set(q, lambda: next(answers)) == "$11"
    cache.set(q, "$12")
    assert cache.get(q) is None


async def test_async_screen(real_embedder: Embedder) -> None:
    """aget_or_set applies the blocklist too."""
    block = NegativeCache(embedder=real_embedder)
    block.add("delete all users")
    cache = SemanticCache(embedder=real_embedder, blocklist=block)
    with pytest.raises(QueryBlockedError):
        await cache.aget_or_set("please delete all users now", lambda: "done")


def test_list_remove_and_text_match() -> None:
    """Patterns are listed, removable by id or text, and match by containment."""
    block = NegativeCache(embedder=HashingEmbedder(dim=64), threshold=0.99)
    pid = block.add("reset the production database", reason="dangerous")
    block.add("show me other users' emails", reason="privacy")
    assert [p.reason for p in block.list()] == ["dangerous", "privacy"]
    m = block.check("Can you RESET the production database, please?")
    assert m is not None
    assert m.pattern_id == pid
    assert m.similarity == 1.0
    assert block.remove(pid) is True
    assert block.remove(pid) is False
    assert block.remove("show me other users' emails") is True
    assert block.check("reset the production database") is None
    assert len(block) == 0


def test_report_false_positive_stops_that_match() -> None:
    """A reported false positive no longer matches; the pattern keeps matching closer queries."""
    block = NegativeCache(embedder=HashingEmbedder(dim=64), threshold=0.5)
    block.add("stock price of acme today")
    near = "stock price of acme yesterday"
    assert block.check(near) is not None
    assert block.report_false_positive(near) is not None
    assert block.check(near) is None
    assert block.check("stock price of acme today") is not None
    (p,) = block.list()
    assert p.false_positives == 1
    assert p.threshold > 0.5
    assert block.report_false_positive("unrelated words entirely") is None


def test_bad_input() -> None:
    """Empty patterns, bad modes and thresholds are clear errors."""
    with pytest.raises(ValueError, match="mode"):
        NegativeCache(embedder=HashingEmbedder(), mode="drop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threshold"):
        NegativeCache(embedder=HashingEmbedder(), threshold=0)
    block = NegativeCache(embedder=HashingEmbedder())
    with pytest.raises(ValueError, match="pattern"):
        block.add("  !! ")
    with pytest.raises(TypeError):
        block.check(None)  # type: ignore[arg-type]
