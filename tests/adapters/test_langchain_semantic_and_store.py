"""LangChainSemanticCache and LangChainByteStore, driven through real LangChain components.

LangChain's own conformance suites run first (cache and byte-store standard tests); then a
real FakeListChatModel and a real CacheBackedEmbeddings with a counting fake embedder.
"""

# The framework imports follow need(), which skips (or fails under CI) without the extra.
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from _ci import need

need("langchain_core", extra="langchain")
need("langchain_tests")
need("langchain_classic")

from langchain_classic.embeddings import CacheBackedEmbeddings
from langchain_core.caches import BaseCache
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.globals import get_llm_cache, set_llm_cache
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.outputs import Generation
from langchain_core.stores import ByteStore
from langchain_tests.integration_tests.base_store import (
    BaseStoreAsyncTests,
    BaseStoreSyncTests,
)
from langchain_tests.integration_tests.cache import AsyncCacheTestSuite, SyncCacheTestSuite

from omnicache_ai import (
    AsyncInMemoryBackend,
    CacheKeyBuilder,
    CacheManager,
    DiskBackend,
    InMemoryBackend,
    SemanticCache,
)
from omnicache_ai.adapters.langchain_adapter import (
    LangChainByteStore,
    LangChainSemanticCache,
    prompt_as_query,
)
from omnicache_ai.embedders import HashingEmbedder

# langchain_core.load.load is @beta and warns on each call; it is how cached generations are
# revived (see test_langchain_adapter.py).
pytestmark = pytest.mark.filterwarnings(
    "ignore:The function `load` is in beta:langchain_core._api.beta_decorator.LangChainBetaWarning"
)


def _semantic(manager: CacheManager) -> LangChainSemanticCache:
    return LangChainSemanticCache(SemanticCache(manager, embedder=HashingEmbedder(), threshold=0.8))


class TestSemanticCacheSyncSuite(SyncCacheTestSuite):
    """LangChain's synchronous cache conformance suite, on the semantic cache."""

    @pytest.fixture
    def cache(self) -> BaseCache:
        """A fresh semantic cache over an empty in-memory manager."""
        return _semantic(CacheManager(backend=InMemoryBackend()))


class TestSemanticCacheAsyncSuite(AsyncCacheTestSuite):
    """LangChain's asynchronous cache conformance suite, on an async backend."""

    @pytest.fixture
    async def cache(self) -> BaseCache:
        """A fresh semantic cache over an empty async in-memory manager."""
        return _semantic(CacheManager(backend=AsyncInMemoryBackend()))


class TestByteStoreSyncSuite(BaseStoreSyncTests[bytes]):
    """LangChain's standard synchronous key-value store tests, on LangChainByteStore."""

    @pytest.fixture
    def kv_store(self) -> ByteStore:
        """An empty byte store over an in-memory manager."""
        return LangChainByteStore(CacheManager(backend=InMemoryBackend()))

    @pytest.fixture
    def three_values(self) -> tuple[bytes, bytes, bytes]:
        """Three distinct byte values."""
        return b"foo", b"bar", b"\x00baz\xff"


class TestByteStoreDiskSyncSuite(TestByteStoreSyncSuite):
    """The same standard tests over the disk backend."""

    @pytest.fixture
    def kv_store(self, tmp_path: Path) -> ByteStore:  # type: ignore[override]
        """An empty byte store over a disk manager."""
        return LangChainByteStore(CacheManager(backend=DiskBackend(tmp_path)))


class TestByteStoreAsyncSuite(BaseStoreAsyncTests[bytes]):
    """LangChain's standard asynchronous key-value store tests, on an async backend."""

    @pytest.fixture
    async def kv_store(self) -> ByteStore:
        """An empty byte store over an async in-memory manager."""
        return LangChainByteStore(CacheManager(backend=AsyncInMemoryBackend()))

    @pytest.fixture
    def three_values(self) -> tuple[bytes, bytes, bytes]:
        """Three distinct byte values."""
        return b"foo", b"bar", b"\x00baz\xff"


@pytest.fixture
def manager() -> CacheManager:
    """An empty in-memory manager."""
    return CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("test"))


@pytest.fixture
def semantic(manager: CacheManager) -> Iterator[LangChainSemanticCache]:
    """The semantic cache installed as LangChain's global LLM cache for one test."""
    previous = get_llm_cache()
    cache = _semantic(manager)
    set_llm_cache(cache)
    yield cache
    set_llm_cache(previous)


# ---- semantic cache through a real chat model ------------------------------------------------
def test_paraphrase_is_answered_without_calling_the_model(
    semantic: LangChainSemanticCache,
) -> None:
    """A reworded question returns the first answer; the fake model is called once."""
    model = FakeListChatModel(responses=["Paris", "never"])
    assert model.invoke("What is the capital city of France?").content == "Paris"
    assert model.invoke("what is the capital city of france").content == "Paris"
    assert model.i == 1


def test_unrelated_question_reaches_the_model(semantic: LangChainSemanticCache) -> None:
    """A question that means something else is a miss."""
    model = FakeListChatModel(responses=["Paris", "8849 m", "never"])
    model.invoke("What is the capital city of France?")
    assert model.invoke("How tall is Mount Everest in metres?").content == "8849 m"
    assert model.i == 2


def test_never_matches_across_llm_strings(semantic: LangChainSemanticCache) -> None:
    """The same question with another call configuration (stop words) misses."""
    model = FakeListChatModel(responses=["one", "two", "never"])
    model.invoke("What is the capital city of France?")
    assert model.invoke("What is the capital city of France?", stop=["\n"]).content == "two"
    assert model.i == 2


def test_system_prompt_partitions_chat_prompts(semantic: LangChainSemanticCache) -> None:
    """The same user turn under another system prompt misses."""
    model = FakeListChatModel(responses=["formal", "pirate", "never"])
    question = HumanMessage("What is the capital city of France?")
    model.invoke([SystemMessage("Answer formally."), question])
    answer = model.invoke([SystemMessage("Answer like a pirate."), question])
    assert answer.content == "pirate"
    assert model.invoke([SystemMessage("Answer formally."), question]).content == "formal"
    assert model.i == 2


async def test_ainvoke_paraphrase_hits(semantic: LangChainSemanticCache) -> None:
    """The async path answers a paraphrase of what invoke stored."""
    model = FakeListChatModel(responses=["Paris", "never"])
    model.invoke("What is the capital city of France?")
    assert (await model.ainvoke("what is the capital city of France")).content == "Paris"
    assert model.i == 1


def test_semantic_clear_by_llm_string_is_scoped(manager: CacheManager) -> None:
    """clear(llm_string=...) retires one configuration; clear() retires the rest."""
    cache = _semantic(manager)
    cache.update("capital of France?", "model=a", [Generation(text="a")])
    cache.update("capital of France?", "model=b", [Generation(text="b")])
    cache.clear(llm_string="model=a")
    assert cache.lookup("capital of France?", "model=a") is None
    assert cache.lookup("capital of France?", "model=b") == [Generation(text="b")]
    cache.clear()
    assert cache.lookup("capital of France?", "model=b") is None


def test_semantic_cache_rejects_a_manager(manager: CacheManager) -> None:
    """Passing something other than a SemanticCache names the problem."""
    with pytest.raises(TypeError, match="needs a SemanticCache"):
        LangChainSemanticCache(manager)  # type: ignore[arg-type]


def test_chat_prompt_is_read_as_a_conversation() -> None:
    """A serialized chat prompt becomes role/content turns; plain text stays as it is."""
    from langchain_core.load import dumps

    prompt = dumps([SystemMessage("be brief"), HumanMessage("hi there")])
    assert prompt_as_query(prompt) == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi there"},
    ]
    assert prompt_as_query("[{not json") == "[{not json"


# ---- byte store through CacheBackedEmbeddings ----------------------------------------------------
class CountingEmbeddings(DeterministicFakeEmbedding):
    """LangChain's deterministic fake embedder, recording what reaches it."""

    calls: list[list[str]] = []  # noqa: RUF012 - a pydantic field, copied per instance

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Record the batch, then embed like DeterministicFakeEmbedding."""
        self.calls.append(list(texts))
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """Record the query, then embed like DeterministicFakeEmbedding."""
        self.calls.append([text])
        return super().embed_query(text)


def _cached(
    underlying: CountingEmbeddings, store: LangChainByteStore, **kwargs: object
) -> CacheBackedEmbeddings:
    return CacheBackedEmbeddings.from_bytes_store(
        underlying, store, namespace="fake-8", key_encoder="sha256", **kwargs
    )


def test_cache_backed_embeddings_reuse_stored_vectors(manager: CacheManager) -> None:
    """A second embed_documents reaches the model only for the texts it has not seen."""
    underlying = CountingEmbeddings(size=8)
    embeddings = _cached(underlying, LangChainByteStore(manager))
    first = embeddings.embed_documents(["alpha", "beta"])
    again = embeddings.embed_documents(["beta", "gamma", "alpha"])
    assert underlying.calls == [["alpha", "beta"], ["gamma"]]
    assert again[0] == first[1]
    assert again[2] == first[0]


async def test_cache_backed_embeddings_async(manager: CacheManager) -> None:
    """aembed_documents reads what embed_documents stored through amget."""
    underlying = CountingEmbeddings(size=8)
    embeddings = _cached(underlying, LangChainByteStore(manager))
    embeddings.embed_documents(["alpha"])
    assert await embeddings.aembed_documents(["alpha"]) == embeddings.embed_documents(["alpha"])
    assert underlying.calls == [["alpha"]]


def test_query_embeddings_cached_when_asked(manager: CacheManager) -> None:
    """With query_embedding_cache=True, a repeated query is embedded once."""
    underlying = CountingEmbeddings(size=8)
    embeddings = _cached(underlying, LangChainByteStore(manager), query_embedding_cache=True)
    assert embeddings.embed_query("q") == embeddings.embed_query("q")
    assert underlying.calls == [["q"]]


def test_vectors_survive_a_restart_on_disk(tmp_path: Path) -> None:
    """A new manager over the same DiskBackend path serves the stored vectors."""
    underlying = CountingEmbeddings(size=8)
    first = _cached(underlying, LangChainByteStore(CacheManager(backend=DiskBackend(tmp_path))))
    vectors = first.embed_documents(["persisted"])
    reopened = _cached(underlying, LangChainByteStore(CacheManager(backend=DiskBackend(tmp_path))))
    assert reopened.embed_documents(["persisted"]) == vectors
    assert underlying.calls == [["persisted"]]


def test_byte_store_namespaces_and_tenants_are_separate(manager: CacheManager) -> None:
    """Two namespaces, or two tenants, never see each other's keys."""
    a, b = LangChainByteStore(manager, namespace="a"), LangChainByteStore(manager, namespace="b")
    a.mset([("k", b"1")])
    assert b.mget(["k"]) == [None]
    assert list(b.yield_keys()) == []
    t1 = LangChainByteStore(manager.for_tenant("t1"))
    t2 = LangChainByteStore(manager.for_tenant("t2"))
    t1.mset([("k", b"x")])
    assert t2.mget(["k"]) == [None]


def test_byte_store_keys_with_separators_round_trip(manager: CacheManager) -> None:
    """Keys holding ':' and '%' list back exactly, and prefix listing narrows them."""
    store = LangChainByteStore(manager)
    store.mset([("ns:a%1", b"1"), ("ns:b", b"2"), ("other", b"3")])
    assert sorted(store.yield_keys()) == ["ns:a%1", "ns:b", "other"]
    assert sorted(store.yield_keys(prefix="ns:")) == ["ns:a%1", "ns:b"]
    assert store.mget(["ns:a%1"]) == [b"1"]


def test_byte_store_refuses_non_bytes(manager: CacheManager) -> None:
    """A value that is not bytes is refused with a clear error."""
    with pytest.raises(TypeError, match="values must be bytes"):
        LangChainByteStore(manager).mset([("k", "text")])  # type: ignore[list-item]
