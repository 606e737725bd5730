"""The LlamaIndex adapters cache a real LlamaIndex pipeline, driven offline by its own mocks.

MockLLM and MockEmbedding are LlamaIndex's own fakes; the subclasses below only count the
calls that reach them. A real VectorStoreIndex is built in memory. LlamaIndex's tokenizer
and NLTK data ship inside llama-index-core; the fixture points both caches there and the
suite's network guard fails any attempt to fetch them.
"""

# The framework imports follow need(), which skips (or fails under CI) without the extra.
from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from _ci import need

need("llama_index.core", extra="llamaindex")

import llama_index.core
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.ingestion import IngestionCache, IngestionPipeline
from llama_index.core.llms import ChatMessage, CompletionResponse, MockLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import BaseNode, TransformComponent

from omnicache_ai import (
    AsyncInMemoryBackend,
    CacheKeyBuilder,
    CacheManager,
    DiskBackend,
    InMemoryBackend,
)
from omnicache_ai.adapters.llamaindex_adapter import (
    LlamaIndexEmbeddingCacheAdapter,
    LlamaIndexKVStore,
    LlamaIndexLLMCacheAdapter,
    LlamaIndexQueryCacheAdapter,
    component_identity,
)
from omnicache_ai.testing.fakes import FlakyBackend

_STATIC = Path(llama_index.core.__file__).parent / "_static"


@pytest.fixture(autouse=True)
def _offline_llamaindex(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """LlamaIndex reads its bundled tokenizer/NLTK data; Settings are restored afterwards."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(_STATIC / "tiktoken_cache"))
    monkeypatch.setenv("NLTK_DATA", str(_STATIC / "nltk_cache"))
    llm, embed = Settings._llm, Settings._embed_model
    yield
    Settings._llm, Settings._embed_model = llm, embed


class CountingLLM(MockLLM):
    """LlamaIndex's MockLLM (echoes the prompt), counting the calls that reach it."""

    _calls: list[str] = PrivateAttr(default_factory=list)

    @property
    def calls(self) -> list[str]:
        """Operations that reached the model, in order."""
        return self._calls

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Count, then answer as MockLLM (chat and the async twins come through here)."""
        self._calls.append("complete")
        return super().complete(prompt, formatted=formatted, **kwargs)

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        """Count, then stream as MockLLM (one chunk per character)."""
        self._calls.append("stream")
        return super().stream_complete(prompt, formatted=formatted, **kwargs)


class CountingEmbedding(MockEmbedding):
    """LlamaIndex's MockEmbedding with word-dependent vectors, counting embedded texts."""

    _texts: list[str] = PrivateAttr(default_factory=list)

    @property
    def texts(self) -> list[str]:
        """Every text (or query) that reached the model."""
        return self._texts

    def _vector(self, text: str) -> list[float]:
        # Bag of hashed words: texts sharing words get close vectors, so retrieval is real.
        self._texts.append(text)
        vector = [0.0] * self.embed_dim
        for word in text.lower().replace(".", " ").replace("?", " ").split():
            vector[hashlib.sha256(word.encode()).digest()[0] % self.embed_dim] += 1.0
        return vector if any(vector) else [1.0] * self.embed_dim

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)


@pytest.fixture
def manager() -> CacheManager:
    """An empty in-memory manager."""
    return CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("test"))


@pytest.fixture
def model() -> CountingLLM:
    """A counting MockLLM that echoes its prompt."""
    return CountingLLM()


@pytest.fixture
def llm(model: CountingLLM, manager: CacheManager) -> LlamaIndexLLMCacheAdapter:
    """The cached wrapper around the counting MockLLM."""
    return LlamaIndexLLMCacheAdapter(model, manager)


USER = [ChatMessage(role="user", content="What colour is the sky?")]

DOCS = [
    Document(text="The sky is blue on a clear day.", metadata={"source": "sky.txt"}),
    Document(text="Cats sleep most of the day.", metadata={"source": "cats.txt"}),
    Document(text="Paris is the capital of France.", metadata={"source": "geo.txt"}),
]


# ---- LLM ---------------------------------------------------------------------------------------
def test_second_identical_complete_does_not_reach_the_model(
    llm: LlamaIndexLLMCacheAdapter, model: CountingLLM
) -> None:
    """complete() twice with the same prompt calls MockLLM once and returns the same text."""
    first = llm.complete("hello there")
    second = llm.complete("hello there")
    assert first.text == second.text == "hello there"
    assert model.calls == ["complete"]


def test_changed_call_parameter_misses(llm: LlamaIndexLLMCacheAdapter, model: CountingLLM) -> None:
    """A different temperature keyword, or formatted=True, is a different request."""
    llm.complete("q")
    llm.complete("q", temperature=0.2)
    llm.complete("q", temperature=0.2)
    llm.complete("q", formatted=True)
    assert model.calls == ["complete"] * 3


def test_changed_llm_configuration_misses(manager: CacheManager) -> None:
    """Two wrapped LLMs that differ in configuration (max_tokens) never share answers."""
    short, long = CountingLLM(max_tokens=2), CountingLLM(max_tokens=5)
    assert LlamaIndexLLMCacheAdapter(short, manager).complete("p").text == "text text"
    assert LlamaIndexLLMCacheAdapter(long, manager).complete("p").text.count("text") == 5
    assert LlamaIndexLLMCacheAdapter(CountingLLM(max_tokens=2), manager).complete("p").text == (
        "text text"
    )
    assert (short.calls, long.calls) == (["complete"], ["complete"])


def test_llm_id_replaces_the_discovered_identity(manager: CacheManager) -> None:
    """With llm_id, two differently configured LLMs share one key space (the caller's word)."""
    a = LlamaIndexLLMCacheAdapter(CountingLLM(max_tokens=2), manager, llm_id="shared")
    b_model = CountingLLM(max_tokens=5)
    b = LlamaIndexLLMCacheAdapter(b_model, manager, llm_id="shared")
    answer = a.complete("p").text
    assert b.complete("p").text == answer
    assert b_model.calls == []


async def test_acomplete_reads_what_complete_stored(
    llm: LlamaIndexLLMCacheAdapter, model: CountingLLM
) -> None:
    """Sync and async completion share one key: acomplete after complete is a hit."""
    llm.complete("shared prompt")
    assert (await llm.acomplete("shared prompt")).text == "shared prompt"
    assert (await llm.acomplete("other")).text == "other"
    assert (await llm.acomplete("other")).text == "other"
    assert model.calls == ["complete", "complete"]


def test_chat_is_cached_and_keyed_by_every_message(
    llm: LlamaIndexLLMCacheAdapter, model: CountingLLM
) -> None:
    """chat() twice is one model call; another role or text is a miss."""
    first = llm.chat(USER)
    second = llm.chat(USER)
    assert second.message.content == first.message.content
    assert second.message.role == first.message.role
    llm.chat([ChatMessage(role="system", content="What colour is the sky?")])
    llm.chat([*USER, ChatMessage(role="assistant", content="blue")])
    assert model.calls == ["complete"] * 3


async def test_achat_hits_after_chat(llm: LlamaIndexLLMCacheAdapter, model: CountingLLM) -> None:
    """achat() is served from what chat() stored."""
    sync = llm.chat(USER)
    assert (await llm.achat(USER)).message.content == sync.message.content
    assert model.calls == ["complete"]


def test_stream_complete_replays_the_same_chunks(
    llm: LlamaIndexLLMCacheAdapter, model: CountingLLM
) -> None:
    """The second stream yields the same deltas and text without opening a model stream."""
    live = list(llm.stream_complete("abc"))
    replayed = list(llm.stream_complete("abc"))
    assert [c.delta for c in live] == [c.delta for c in replayed] == ["a", "b", "c"]
    assert [c.text for c in replayed] == [c.text for c in live]
    assert model.calls == ["stream"]


def test_stream_read_halfway_is_not_stored(
    llm: LlamaIndexLLMCacheAdapter, model: CountingLLM
) -> None:
    """A consumer that stops early stores nothing: the next stream reaches the model."""
    stream = llm.stream_complete("abcdef")
    next(stream)
    stream.close()
    assert "".join(c.delta or "" for c in llm.stream_complete("abcdef")) == "abcdef"
    assert model.calls == ["stream", "stream"]


async def test_astream_chat_replays_after_stream_chat(
    llm: LlamaIndexLLMCacheAdapter, model: CountingLLM
) -> None:
    """astream_chat replays what stream_chat recorded, chunk for chunk."""
    live = [c.delta for c in llm.stream_chat(USER)]
    replay = [c.delta async for c in await llm.astream_chat(USER)]
    assert replay == live
    assert model.calls == ["stream"]


async def test_astream_complete_live_then_cached(
    llm: LlamaIndexLLMCacheAdapter, model: CountingLLM
) -> None:
    """astream_complete streams live once, then from the cache."""
    first = [c.delta async for c in await llm.astream_complete("xyz")]
    second = [c.delta async for c in await llm.astream_complete("xyz")]
    assert first == second == ["x", "y", "z"]
    assert model.calls == ["stream"]


def test_metadata_is_the_wrapped_llms(model: CountingLLM, manager: CacheManager) -> None:
    """The wrapper reports the wrapped LLM's metadata, so LlamaIndex sizes prompts alike."""
    wrapped = CountingLLM(max_tokens=7, is_chat_model=True)
    adapter = LlamaIndexLLMCacheAdapter(wrapped, manager)
    assert adapter.metadata == wrapped.metadata
    assert adapter.metadata.num_output == 7


def test_empty_answer_is_not_cached(manager: CacheManager) -> None:
    """An empty completion is returned but never stored."""
    model = CountingLLM()
    llm = LlamaIndexLLMCacheAdapter(model, manager)
    assert llm.complete("").text == ""
    assert llm.complete("").text == ""
    assert model.calls == ["complete", "complete"]


def test_unkeyable_keyword_goes_straight_to_the_model(
    llm: LlamaIndexLLMCacheAdapter, model: CountingLLM
) -> None:
    """A keyword holding an object no key can hold is the LLM's business, not an error."""
    opaque = object()
    assert llm.complete("p", client=opaque).text == "p"
    assert llm.complete("p", client=opaque).text == "p"
    assert [c.delta for c in llm.stream_chat(USER, client=opaque)][:1] == ["u"]
    assert model.calls == ["complete", "complete", "stream"]


def test_tenants_do_not_share_answers(manager: CacheManager) -> None:
    """Two tenant views of one manager each reach the model once."""
    model = CountingLLM()
    LlamaIndexLLMCacheAdapter(model, manager.for_tenant("a")).complete("p")
    LlamaIndexLLMCacheAdapter(model, manager.for_tenant("b")).complete("p")
    assert model.calls == ["complete", "complete"]


def test_backend_outage_is_a_miss_not_an_error() -> None:
    """With the backend down, every call still reaches the model and returns its answer."""
    flaky = FlakyBackend(InMemoryBackend())
    flaky.down = True
    model = CountingLLM()
    llm = LlamaIndexLLMCacheAdapter(model, CacheManager(backend=flaky))
    assert llm.complete("still works").text == "still works"
    assert [c.delta for c in llm.stream_complete("ok")] == ["o", "k"]
    assert model.calls == ["complete", "stream"]
    assert flaky.failures > 0


def test_rejects_what_is_not_a_llamaindex_llm(manager: CacheManager) -> None:
    """Wrapping something that is not a LlamaIndex LLM names the problem."""
    with pytest.raises(TypeError, match="wraps a llama_index LLM"):
        LlamaIndexLLMCacheAdapter("gpt-4o", manager)  # type: ignore[arg-type]


def test_identity_holds_configuration_not_plumbing() -> None:
    """component_identity keeps plain config fields and drops callbacks and private state."""
    identity = component_identity(CountingLLM(max_tokens=3))
    assert identity["class"] == "MockLLM"
    assert identity["max_tokens"] == 3
    assert "callback_manager" not in identity
    assert "_calls" not in identity


# ---- a real index -----------------------------------------------------------------------------
@pytest.fixture
def embed() -> CountingEmbedding:
    """A counting MockEmbedding with 16 dimensions."""
    return CountingEmbedding(embed_dim=16)


@pytest.fixture
def index(embed: CountingEmbedding) -> VectorStoreIndex:
    """A real in-memory VectorStoreIndex over three documents."""
    return VectorStoreIndex.from_documents(DOCS, embed_model=embed)


def test_settings_llm_caches_a_real_query_engine(
    manager: CacheManager, model: CountingLLM, embed: CountingEmbedding
) -> None:
    """With the adapter as Settings.llm, a repeated index query makes no second LLM call."""
    Settings.llm = LlamaIndexLLMCacheAdapter(model, manager)
    Settings.embed_model = embed
    engine = VectorStoreIndex.from_documents(DOCS).as_query_engine(similarity_top_k=3)
    first = engine.query("What colour is the sky?")
    second = engine.query("What colour is the sky?")
    assert str(first) == str(second)
    assert "sky is blue" in str(first)
    assert model.calls == ["complete"]


def test_query_engine_second_query_reaches_neither_llm_nor_embedder(
    index: VectorStoreIndex, model: CountingLLM, embed: CountingEmbedding, manager: CacheManager
) -> None:
    """A cached engine answers a repeated query without retrieval or synthesis."""
    engine = LlamaIndexQueryCacheAdapter(index.as_query_engine(llm=model), manager)
    first = engine.query("Which city is the capital of France?")
    embedded, called = len(embed.texts), list(model.calls)
    second = engine.query("Which city is the capital of France?")
    assert (len(embed.texts), model.calls) == (embedded, called)
    assert second.response == first.response
    assert [n.node.node_id for n in second.source_nodes] == [
        n.node.node_id for n in first.source_nodes
    ]


def test_response_round_trips_text_sources_scores_metadata(
    index: VectorStoreIndex, model: CountingLLM, manager: CacheManager
) -> None:
    """The cached Response equals the live one: text, nodes, scores, node and response metadata."""
    engine = LlamaIndexQueryCacheAdapter(
        index.as_query_engine(llm=model, similarity_top_k=2), manager
    )
    live = engine.query("Where do cats sleep?")
    cached = engine.query("Where do cats sleep?")
    assert cached is not live
    assert cached.response == live.response
    assert cached.metadata == live.metadata
    assert len(cached.source_nodes) == 2
    for got, want in zip(cached.source_nodes, live.source_nodes, strict=True):
        assert got.score == want.score
        assert got.node.node_id == want.node.node_id
        assert got.node.get_content() == want.node.get_content()
        assert got.node.metadata == want.node.metadata
        assert got.node.relationships == want.node.relationships
    assert {n.node.metadata["source"] for n in cached.source_nodes} <= {
        "sky.txt",
        "cats.txt",
        "geo.txt",
    }


async def test_aquery_reads_what_query_stored(
    index: VectorStoreIndex, model: CountingLLM, manager: CacheManager
) -> None:
    """aquery after query is a hit, and a second aquery of a new question too."""
    engine = LlamaIndexQueryCacheAdapter(index.as_query_engine(llm=model), manager)
    sync = engine.query("Is the sky blue?")
    assert (await engine.aquery("Is the sky blue?")).response == sync.response
    await engine.aquery("Do cats sleep?")
    await engine.aquery("Do cats sleep?")
    assert model.calls == ["complete", "complete"]


def test_engine_configuration_is_part_of_the_key(
    index: VectorStoreIndex, model: CountingLLM, manager: CacheManager
) -> None:
    """Another top_k, another LLM configuration or another engine_id misses."""
    q = "What is the capital of France?"
    LlamaIndexQueryCacheAdapter(index.as_query_engine(llm=model), manager).query(q)
    LlamaIndexQueryCacheAdapter(
        index.as_query_engine(llm=model, similarity_top_k=3), manager
    ).query(q)
    other_llm = CountingLLM(max_tokens=4)
    LlamaIndexQueryCacheAdapter(index.as_query_engine(llm=other_llm), manager).query(q)
    LlamaIndexQueryCacheAdapter(
        index.as_query_engine(llm=model), manager, engine_id="corpus-v2"
    ).query(q)
    assert model.calls == ["complete"] * 3
    assert other_llm.calls == ["complete"]


def test_invalidate_retires_one_engines_answers(
    index: VectorStoreIndex, model: CountingLLM, manager: CacheManager
) -> None:
    """invalidate() after re-indexing makes the next query reach the engine again."""
    engine = LlamaIndexQueryCacheAdapter(
        index.as_query_engine(llm=model), manager, engine_id="docs"
    )
    engine.query("sky?")
    assert engine.invalidate() == 1
    engine.query("sky?")
    assert model.calls == ["complete", "complete"]


def test_streaming_response_is_passed_through_not_cached(
    index: VectorStoreIndex, model: CountingLLM, manager: CacheManager
) -> None:
    """A streaming query engine's StreamingResponse is returned live and never stored."""
    engine = LlamaIndexQueryCacheAdapter(index.as_query_engine(llm=model, streaming=True), manager)
    for _ in range(2):
        response = engine.query("sky?")
        assert "sky" in "".join(response.response_gen)
    assert model.calls == ["stream", "stream"]


def test_entries_are_plain_data_readable_without_pickle(
    index: VectorStoreIndex, model: CountingLLM
) -> None:
    """What reaches the backend decodes with the safe serializer in a fresh manager."""
    backend = InMemoryBackend()
    engine = LlamaIndexQueryCacheAdapter(
        index.as_query_engine(llm=model), CacheManager(backend=backend)
    )
    engine.query("sky?")
    reader = CacheManager(backend=backend)
    (key,) = reader.keys("omnicache:response:")
    stored = reader.get(key, layer="response")
    record = stored[0] if isinstance(stored, list) else stored
    assert isinstance(record["response"], str)
    assert isinstance(record["source_nodes"][0]["node"], dict)


# ---- ingestion cache --------------------------------------------------------------------------
class CountingSplitter(TransformComponent):
    """A transformation that counts the nodes it is asked to transform."""

    _seen: list[str] = PrivateAttr(default_factory=list)

    @property
    def seen(self) -> list[str]:
        """Node ids this transformation processed."""
        return self._seen

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> Sequence[BaseNode]:
        """Split with LlamaIndex's SentenceSplitter, counting the inputs."""
        self._seen.extend(n.node_id for n in nodes)
        return SentenceSplitter(chunk_size=64, chunk_overlap=0)(nodes, **kwargs)


def _pipeline(store: LlamaIndexKVStore, splitter: CountingSplitter) -> IngestionPipeline:
    return IngestionPipeline(transformations=[splitter], cache=IngestionCache(cache=store))


def test_ingestion_pipeline_reuses_cached_transformations(manager: CacheManager) -> None:
    """A second run over the same documents takes the nodes from our store."""
    splitter = CountingSplitter()
    first = _pipeline(LlamaIndexKVStore(manager), splitter).run(documents=DOCS)
    second = _pipeline(LlamaIndexKVStore(manager), splitter).run(documents=DOCS)
    assert len(splitter.seen) == len(DOCS)
    assert [n.get_content() for n in second] == [n.get_content() for n in first]


def test_ingestion_cache_survives_a_restart_on_disk(tmp_path: Path) -> None:
    """Nodes cached by one pipeline over a DiskBackend serve a new manager on the same path."""
    splitter = CountingSplitter()
    _pipeline(LlamaIndexKVStore(CacheManager(backend=DiskBackend(tmp_path))), splitter).run(
        documents=DOCS
    )
    reopened = LlamaIndexKVStore(CacheManager(backend=DiskBackend(tmp_path)))
    nodes = _pipeline(reopened, splitter).run(documents=DOCS)
    assert len(splitter.seen) == len(DOCS)
    assert len(nodes) == len(DOCS)


async def test_ingestion_pipeline_async_run(manager: CacheManager) -> None:
    """arun() reads what run() stored through the same store."""
    splitter = CountingSplitter()
    _pipeline(LlamaIndexKVStore(manager), splitter).run(documents=DOCS)
    nodes = await _pipeline(LlamaIndexKVStore(manager), splitter).arun(documents=DOCS)
    assert len(nodes) == len(DOCS)
    assert len(splitter.seen) == len(DOCS)


def test_kv_store_collections_list_delete_and_clear(manager: CacheManager) -> None:
    """get_all lists one collection; delete and clear_collection leave others alone."""
    store = LlamaIndexKVStore(manager)
    store.put("a", {"v": 1})
    store.put("b:with:colons", {"v": 2})
    store.put("a", {"v": 3}, collection="other")
    assert store.get_all() == {"a": {"v": 1}, "b:with:colons": {"v": 2}}
    assert store.get("a", collection="other") == {"v": 3}
    assert store.delete("a") is True
    assert store.delete("a") is False
    assert store.get_all() == {"b:with:colons": {"v": 2}}
    store.clear_collection()
    assert store.get("b:with:colons") is None
    assert store.get_all(collection="other") == {"a": {"v": 3}}


async def test_kv_store_async_api_on_an_async_backend() -> None:
    """aput/aget/aget_all/adelete work over an async backend."""
    store = LlamaIndexKVStore(CacheManager(backend=AsyncInMemoryBackend()))
    await store.aput("k", {"nested": {"x": [1, 2]}})
    assert await store.aget("k") == {"nested": {"x": [1, 2]}}
    assert await store.aget_all() == {"k": {"nested": {"x": [1, 2]}}}
    assert await store.adelete("k") is True
    assert await store.aget("k") is None


def test_kv_store_refuses_values_json_cannot_hold(manager: CacheManager) -> None:
    """A value that is not a JSON-like dict is refused at put, naming the problem."""
    store = LlamaIndexKVStore(manager)
    with pytest.raises(TypeError, match="must be dicts"):
        store.put("k", ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.put("k", {"obj": object()})


# ---- embeddings -------------------------------------------------------------------------------
def test_embedding_batch_sends_only_misses(manager: CacheManager, embed: CountingEmbedding) -> None:
    """A batch whose texts were embedded before reaches the model only for new texts."""
    cached = LlamaIndexEmbeddingCacheAdapter(embed, manager)
    first = cached.get_text_embedding_batch(["a", "b"])
    both = cached.get_text_embedding_batch(["b", "c", "a"])
    assert embed.texts == ["a", "b", "c"]
    assert both[0] == pytest.approx(first[1])
    assert both[2] == pytest.approx(first[0])
    assert len(both[1]) == 16


def test_query_and_text_embeddings_are_cached_apart(
    manager: CacheManager, embed: CountingEmbedding
) -> None:
    """The same string embedded as a query and as a text are two entries."""
    cached = LlamaIndexEmbeddingCacheAdapter(embed, manager)
    cached.get_query_embedding("same")
    cached.get_text_embedding("same")
    cached.get_query_embedding("same")
    assert embed.texts == ["same", "same"]


def test_embedding_model_configuration_is_in_the_key(manager: CacheManager) -> None:
    """A model with another dimension never gets the first model's vectors."""
    small, large = CountingEmbedding(embed_dim=4), CountingEmbedding(embed_dim=8)
    assert len(LlamaIndexEmbeddingCacheAdapter(small, manager).get_text_embedding("t")) == 4
    assert len(LlamaIndexEmbeddingCacheAdapter(large, manager).get_text_embedding("t")) == 8


async def test_async_embeddings_share_the_sync_entries(
    manager: CacheManager, embed: CountingEmbedding
) -> None:
    """aget_text_embedding_batch and aget_query_embedding hit what the sync calls stored."""
    cached = LlamaIndexEmbeddingCacheAdapter(embed, manager)
    cached.get_text_embedding_batch(["x", "y"])
    cached.get_query_embedding("q")
    await cached.aget_text_embedding_batch(["y", "x"])
    await cached.aget_query_embedding("q")
    await cached.aget_text_embedding("z")
    assert embed.texts == ["x", "y", "q", "z"]


def test_index_built_twice_embeds_each_chunk_once(manager: CacheManager) -> None:
    """Re-building a VectorStoreIndex with the cached embedder reaches the model once per chunk."""
    embed = CountingEmbedding(embed_dim=16)
    cached = LlamaIndexEmbeddingCacheAdapter(embed, manager)
    VectorStoreIndex.from_documents(DOCS, embed_model=cached)
    once = len(embed.texts)
    index = VectorStoreIndex.from_documents(DOCS, embed_model=cached)
    assert len(embed.texts) == once == len(DOCS)
    hits = index.as_retriever(similarity_top_k=1).retrieve("capital of France Paris")
    assert hits[0].node.metadata["source"] == "geo.txt"
