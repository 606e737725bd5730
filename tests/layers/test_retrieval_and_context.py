"""RetrievalCache and ContextCache: documents with metadata, sessions, history, invalidation."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pydantic
import pytest

from omnicache_ai import CacheManager, ContextCache, RetrievalCache


@dataclasses.dataclass
class Doc:
    """A document as a dataclass (module level so the serializer can rebuild it)."""

    page_content: str
    metadata: dict[str, Any]
    score: float


class PDoc(pydantic.BaseModel):
    """A document as a pydantic model, shaped like LangChain's Document."""

    page_content: str
    metadata: dict[str, Any] = {}
    id: str | None = None


DOCS = [
    Doc("RAG combines retrieval with generation.", {"source": "rag.pdf", "page": 3}, 0.91),
    Doc("Vector stores index embeddings.", {"source": "vec.md", "tags": ["db", "ann"]}, 0.77),
]


@pytest.mark.parametrize(
    "docs",
    [
        DOCS,
        [PDoc(page_content="LangChain-style doc", metadata={"row": 7}, id="d-1")],
        [{"text": "plain dict doc", "metadata": {"url": "https://example.invalid/a", "n": 2}}],
    ],
    ids=["dataclass", "pydantic", "dict"],
)
def test_documents_round_trip_with_metadata(any_manager: CacheManager, docs: list[Any]) -> None:
    """Documents come back as their own class with their metadata, in order."""
    rc = RetrievalCache(any_manager)
    assert rc.set("What is RAG?", docs, retriever_id="kb", top_k=5)
    got = rc.get("What is RAG?", retriever_id="kb", top_k=5)
    assert got == docs
    assert [type(d) for d in got] == [type(d) for d in docs]  # type: ignore[union-attr]


def test_readme_get_or_retrieve(manager: CacheManager) -> None:
    """get_or_retrieve(query=..., retrieve_fn=..., retriever_id=..., top_k=5) retrieves once."""
    rc = RetrievalCache(manager)
    searches: list[str] = []

    def similarity_search(q: str) -> list[Doc]:
        searches.append(q)
        return DOCS

    kwargs: dict[str, Any] = {"retriever_id": "my-vectorstore", "top_k": 5}
    first = rc.get_or_retrieve(query="What is RAG?", retrieve_fn=similarity_search, **kwargs)
    second = rc.get_or_retrieve(query="What is RAG?", retrieve_fn=similarity_search, **kwargs)
    assert first == second == DOCS
    assert searches == ["What is RAG?"]


def test_key_parts(manager: CacheManager) -> None:
    """Query, retriever id, top-k and filters each separate entries; filter order does not."""
    rc = RetrievalCache(manager)
    rc.set("q", DOCS, retriever_id="kb", top_k=5, filters={"lang": "en", "year": 2024})
    assert rc.get("q", retriever_id="kb", top_k=5, filters={"year": 2024, "lang": "en"}) == DOCS
    assert rc.get("q", retriever_id="kb", top_k=3, filters={"lang": "en", "year": 2024}) is None
    assert rc.get("q", retriever_id="kb", top_k=5, filters={"lang": "de", "year": 2024}) is None
    assert rc.get("q", retriever_id="other", top_k=5, filters={"lang": "en", "year": 2024}) is None
    assert rc.get("Q", retriever_id="kb", top_k=5, filters={"lang": "en", "year": 2024}) is None
    rc.set("q", DOCS[:1], retriever_id="kb", filters={})
    assert rc.get("q", retriever_id="kb") == DOCS[:1]


def test_empty_and_none_results_are_not_cached_by_default(manager: CacheManager) -> None:
    """An empty result (index not loaded yet?) is retried; cache_empty=True keeps it."""
    rc = RetrievalCache(manager)
    calls = []

    def search(q: str) -> list[Any]:
        calls.append(q)
        return []

    assert rc.get_or_retrieve("nothing", search, retriever_id="kb") == []
    assert rc.get_or_retrieve("nothing", search, retriever_id="kb") == []
    assert len(calls) == 2
    assert rc.set("none", None, retriever_id="kb") is False
    keep = RetrievalCache(manager, cache_empty=True)
    assert keep.set("nothing", [], retriever_id="kb")
    assert keep.get("nothing", retriever_id="kb") == []


def test_invalidate_retriever_after_reindex(manager: CacheManager) -> None:
    """invalidate_retriever drops one retriever's results and keeps the others."""
    rc = RetrievalCache(manager)
    rc.set("q", DOCS, retriever_id="kb")
    rc.set("q", DOCS, retriever_id="web")
    assert rc.invalidate_retriever("kb") >= 1
    assert rc.get("q", retriever_id="kb") is None
    assert rc.get("q", retriever_id="web") == DOCS


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"query": 3, "retriever_id": "kb"}, TypeError, "query"),
        ({"query": "q", "retriever_id": ""}, ValueError, "retriever_id"),
        ({"query": "q", "retriever_id": "kb", "top_k": 0}, ValueError, "top_k"),
        ({"query": "q", "retriever_id": "kb", "filters": ["a"]}, TypeError, "filters"),
    ],
)
def test_retrieval_bad_input(
    manager: CacheManager, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    """Bad query, retriever id, top_k or filters raise errors naming the argument."""
    with pytest.raises(error, match=match):
        RetrievalCache(manager).get(**kwargs)


def test_retrieved_value_must_be_a_list(manager: CacheManager) -> None:
    """A retriever returning a string is a caller bug, reported clearly."""
    with pytest.raises(TypeError, match="must be a list"):
        RetrievalCache(manager).get_or_retrieve("q", lambda q: "doc text", retriever_id="kb")


async def test_retrieval_async_twins(any_manager: CacheManager) -> None:
    """aget_or_retrieve (async or sync retriever), aget, aset, adelete, ainvalidate_retriever."""
    rc = RetrievalCache(any_manager)
    calls = []

    async def asearch(q: str) -> list[Doc]:
        calls.append(q)
        await asyncio.sleep(0.01)
        return DOCS

    got = await asyncio.gather(
        *(rc.aget_or_retrieve("q", asearch, retriever_id="kb", top_k=2) for _ in range(5))
    )
    assert got == [DOCS] * 5
    assert calls == ["q"]
    assert await rc.aget("q", retriever_id="kb", top_k=2) == DOCS
    assert await rc.aset("q2", DOCS[1:], retriever_id="kb")
    assert await rc.adelete("q2", retriever_id="kb")
    assert await rc.ainvalidate_retriever("kb") >= 1
    assert await rc.aget("q", retriever_id="kb", top_k=2) is None


# ---- ContextCache ------------------------------------------------------------------------
TURNS = [
    [{"role": "user", "content": "Hi, I'm Ada."}],
    [{"role": "assistant", "content": "Hello Ada!"}],
    [{"role": "user", "content": "What's my name?"}, {"role": "assistant", "content": "Ada."}],
]


def test_readme_context_flow(manager: CacheManager) -> None:
    """set/get by session and turn, then invalidate_session clears every turn."""
    ctx = ContextCache(manager)
    ctx.set(session_id="user-123", turn_index=0, messages=TURNS[0])
    assert ctx.get(session_id="user-123", turn_index=0) == TURNS[0]
    assert ctx.get(session_id="user-123", turn_index=1) is None
    assert ctx.get(session_id="user-999", turn_index=0) is None
    ctx.invalidate_session("user-123")
    assert ctx.get(session_id="user-123", turn_index=0) is None


def test_history_in_turn_order(manager: CacheManager) -> None:
    """get_history flattens every turn in order, whatever order the turns were written in."""
    ctx = ContextCache(manager)
    for i in (2, 0, 1):
        ctx.set("s1", i, TURNS[i])
    ctx.set("s2", 0, [{"role": "user", "content": "other session"}])
    assert ctx.latest_turn("s1") == 2
    assert ctx.get_history("s1") == [m for turn in TURNS for m in turn]
    assert ctx.get_history("s1", last_n=1) == TURNS[2]
    assert ctx.get_turns("s1", last_n=2) == {1: TURNS[1], 2: TURNS[2]}
    assert ctx.get_history("nobody") == []


def test_history_skips_deleted_turns_and_session_invalidation_is_isolated(
    manager: CacheManager,
) -> None:
    """A deleted turn leaves a gap; invalidating one session leaves another intact."""
    ctx = ContextCache(manager)
    for i, turn in enumerate(TURNS):
        ctx.set("a", i, turn)
        ctx.set("b", i, turn)
    assert ctx.delete("a", 1)
    assert ctx.get_history("a") == TURNS[0] + TURNS[2]
    ctx.invalidate_session("a")
    assert ctx.get_history("a") == []
    assert ctx.latest_turn("a") is None
    assert len(ctx.get_history("b")) == 4


def test_context_lookups_count_as_context_metrics(manager: CacheManager) -> None:
    """Writing a turn is not counted as a context-layer miss; reading it is a hit."""
    ctx = ContextCache(manager)
    ctx.set("s", 0, TURNS[0])
    ctx.get("s", 0)
    stats = manager.metrics.snapshot()["layers"]["context"]
    assert (stats["hits"], stats["misses"], stats["sets"]) == (1, 0, 1)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("", 0, []), ValueError, "session_id"),
        (("s", -1, []), ValueError, "turn_index"),
        (("s", 1.0, []), ValueError, "turn_index"),
        (("s", 0, "hello"), TypeError, "messages"),
    ],
)
def test_context_bad_input(
    manager: CacheManager, args: tuple[Any, ...], error: type[Exception], match: str
) -> None:
    """Bad session ids, turn indexes and messages raise errors naming the argument."""
    with pytest.raises(error, match=match):
        ContextCache(manager).set(*args)


async def test_context_async_twins(any_manager: CacheManager) -> None:
    """aset/aget/aget_history/alatest_turn/adelete/ainvalidate_session mirror sync."""
    ctx = ContextCache(any_manager)
    for i, turn in enumerate(TURNS):
        await ctx.aset("s", i, turn)
    assert await ctx.aget("s", 1) == TURNS[1]
    assert await ctx.alatest_turn("s") == 2
    assert await ctx.aget_history("s", last_n=2) == TURNS[1] + TURNS[2]
    assert await ctx.aget_turns("s") == dict(enumerate(TURNS))
    assert await ctx.adelete("s", 0)
    await ctx.ainvalidate_session("s")
    assert await ctx.aget_history("s") == []
