"""LangChainCacheAdapter meets LangChain's BaseCache contract and caches real chat models."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from _ci import need

need("langchain_core", extra="langchain")
need("langchain_tests")

from langchain_core.caches import BaseCache
from langchain_core.globals import get_llm_cache, set_llm_cache
from langchain_core.language_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, Generation
from langchain_tests.integration_tests.cache import AsyncCacheTestSuite, SyncCacheTestSuite

from omnicache_ai import (
    AsyncInMemoryBackend,
    CacheKeyBuilder,
    CacheManager,
    InMemoryBackend,
    JsonSerializer,
)
from omnicache_ai.adapters.langchain_adapter import LangChainCacheAdapter

# langchain_core.load.load is decorated @beta and warns on every call; reviving cached
# generations with it is LangChain's documented way, so that one warning is expected here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The function `load` is in beta:langchain_core._api.beta_decorator.LangChainBetaWarning"
)


class TestLangChainSyncCacheSuite(SyncCacheTestSuite):
    """LangChain's own synchronous cache conformance suite."""

    @pytest.fixture
    def cache(self) -> BaseCache:
        """A fresh adapter over an empty in-memory manager."""
        return LangChainCacheAdapter(CacheManager(backend=InMemoryBackend()))


class TestLangChainAsyncCacheSuite(AsyncCacheTestSuite):
    """LangChain's own asynchronous cache conformance suite, on an async backend."""

    @pytest.fixture
    async def cache(self) -> BaseCache:
        """A fresh adapter over an empty async in-memory manager."""
        return LangChainCacheAdapter(CacheManager(backend=AsyncInMemoryBackend()))


@pytest.fixture
def manager() -> CacheManager:
    """An empty in-memory manager."""
    return CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("test"))


@pytest.fixture
def global_cache(manager: CacheManager) -> Iterator[LangChainCacheAdapter]:
    """The adapter installed as LangChain's global LLM cache for one test."""
    previous = get_llm_cache()
    adapter = LangChainCacheAdapter(manager)
    set_llm_cache(adapter)
    yield adapter
    set_llm_cache(previous)


def test_fake_chat_model_second_call_is_served_from_cache(
    global_cache: LangChainCacheAdapter, manager: CacheManager
) -> None:
    """A repeated prompt returns the first answer instead of calling the model again."""
    model = FakeListChatModel(responses=["first", "second"])
    assert model.invoke("What is 2+2?").content == "first"
    assert model.invoke("What is 2+2?").content == "first"
    assert model.invoke("Another question").content == "second"
    snap = manager.metrics.snapshot()
    assert snap["hits"] == 1
    assert snap["sets"] == 2


async def test_fake_chat_model_ainvoke_uses_cache(global_cache: LangChainCacheAdapter) -> None:
    """ainvoke reads what invoke stored, through the adapter's async methods."""
    model = FakeListChatModel(responses=["sync answer", "async answer"])
    assert model.invoke("hello").content == "sync answer"
    assert (await model.ainvoke("hello")).content == "sync answer"


async def test_async_path_never_uses_a_thread_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """alookup/aupdate/aclear await the manager instead of BaseCache's executor fallback."""
    loop = asyncio.get_running_loop()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the async cache path must not run in an executor")

    monkeypatch.setattr(loop, "run_in_executor", refuse)
    cache = LangChainCacheAdapter(CacheManager(backend=AsyncInMemoryBackend()))
    await cache.aupdate("q", "llm", [Generation(text="one")])
    assert await cache.alookup("q", "llm") == [Generation(text="one")]
    await cache.aclear()
    assert await cache.alookup("q", "llm") is None


def test_chat_generation_round_trips_exactly(manager: CacheManager) -> None:
    """ChatGeneration with message metadata comes back equal to what was stored."""
    cache = LangChainCacheAdapter(manager)
    message = AIMessage(
        content="Paris",
        id="run-1",
        response_metadata={"model": "fake", "finish_reason": "stop"},
        additional_kwargs={"extra": [1, 2]},
    )
    generations = [
        ChatGeneration(message=message, generation_info={"logprobs": None}),
        Generation(text="plain", generation_info={"reason": "test"}),
    ]
    cache.update("capital of France?", "llm-a", generations)
    assert cache.lookup("capital of France?", "llm-a") == generations


def test_generic_fake_chat_model_message_is_cached(global_cache: LangChainCacheAdapter) -> None:
    """A GenericFakeChatModel's AIMessage is replayed from the cache on the second call."""
    model = GenericFakeChatModel(messages=iter([AIMessage(content="cached", id="m1")]))
    first = model.invoke("hi")
    second = model.invoke("hi")  # the iterator is exhausted: only the cache can answer
    assert second.content == first.content == "cached"


def test_entries_are_stored_as_langchain_json(manager: CacheManager) -> None:
    """What reaches the backend is dumpd JSON, never a pickle."""
    cache = LangChainCacheAdapter(manager)
    cache.update("p", "llm", [Generation(text="t")])
    (key,) = manager.keys("test:langchain:")
    stored = manager.get(key, serializer=JsonSerializer())
    assert stored[0]["lc"] == 1
    assert stored[0]["id"][-1] == "Generation"


def test_llm_string_is_part_of_the_key(manager: CacheManager) -> None:
    """The same prompt under another LLM configuration is a miss."""
    cache = LangChainCacheAdapter(manager)
    cache.update("p", "model=a", [Generation(text="a")])
    assert cache.lookup("p", "model=b") is None


def test_invalidate_llm_retires_only_that_configuration(manager: CacheManager) -> None:
    """invalidate_llm drops one LLM's entries and keeps the others."""
    cache = LangChainCacheAdapter(manager)
    cache.update("p", "model=a", [Generation(text="a")])
    cache.update("p", "model=b", [Generation(text="b")])
    assert cache.invalidate_llm("model=a") == 1
    assert cache.lookup("p", "model=a") is None
    assert cache.lookup("p", "model=b") == [Generation(text="b")]


async def test_aclear_with_llm_string_is_scoped(manager: CacheManager) -> None:
    """aclear(llm_string=...) clears one configuration only."""
    cache = LangChainCacheAdapter(manager)
    await cache.aupdate("p", "model=a", [Generation(text="a")])
    await cache.aupdate("p", "model=b", [Generation(text="b")])
    await cache.aclear(llm_string="model=a")
    assert await cache.alookup("p", "model=a") is None
    assert await cache.alookup("p", "model=b") == [Generation(text="b")]


def test_clear_leaves_other_layers_entries(manager: CacheManager) -> None:
    """Clearing LangChain's cache does not wipe what other layers stored."""
    cache = LangChainCacheAdapter(manager)
    manager.set("other-layer-key", "kept")
    cache.update("p", "llm", [Generation(text="t")])
    cache.clear()
    assert cache.lookup("p", "llm") is None
    assert manager.get("other-layer-key") == "kept"


def test_clear_rejects_unknown_arguments(manager: CacheManager) -> None:
    """clear() names arguments it does not understand instead of ignoring them."""
    with pytest.raises(TypeError, match="bogus"):
        LangChainCacheAdapter(manager).clear(bogus=True)


def test_tenants_do_not_share_answers(manager: CacheManager) -> None:
    """Adapters over two tenant views never see each other's entries."""
    acme = LangChainCacheAdapter(manager.for_tenant("acme"))
    globex = LangChainCacheAdapter(manager.for_tenant("globex"))
    acme.update("p", "llm", [Generation(text="acme")])
    assert globex.lookup("p", "llm") is None
    assert acme.lookup("p", "llm") == [Generation(text="acme")]


def test_unreadable_entry_is_a_miss(manager: CacheManager) -> None:
    """An entry that is not a list of LangChain generations is treated as a miss."""
    cache = LangChainCacheAdapter(manager)
    cache.update("p", "llm", [Generation(text="t")])
    (key,) = manager.keys("test:langchain:")
    manager.set(key, [{"lc": 1, "type": "constructor", "id": ["evil", "Thing"], "kwargs": {}}])
    assert cache.lookup("p", "llm") is None


def test_generation_that_cannot_be_serialized_is_not_stored(manager: CacheManager) -> None:
    """A generation_info holding an arbitrary object is skipped rather than cached broken."""

    class Opaque:
        pass

    cache = LangChainCacheAdapter(manager)
    cache.update("p", "llm", [Generation(text="t", generation_info={"obj": Opaque()})])
    assert manager.keys("test:langchain:") == []
    assert cache.lookup("p", "llm") is None


def test_ttl_is_passed_to_the_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    """An adapter-level ttl bounds how long an answer is served."""
    from omnicache_ai.backends import memory_backend

    clock = [1000.0]
    monkeypatch.setattr(memory_backend, "_now", lambda: clock[0])
    cache = LangChainCacheAdapter(CacheManager(backend=InMemoryBackend()), ttl=10)
    cache.update("p", "llm", [Generation(text="t")])
    assert cache.lookup("p", "llm") == [Generation(text="t")]
    clock[0] += 11
    assert cache.lookup("p", "llm") is None
