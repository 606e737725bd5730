"""LangChainByteStore and LlamaIndexKVStore on a real Redis server the tests start.

LangChain's standard byte-store tests run on Redis, and a LlamaIndex IngestionPipeline in one
"process" (manager) reuses the transformations another one cached in the shared Redis.
"""

# The framework imports follow need(), which skips (or fails under CI) without the extra.
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from _ci import need

need("redis", extra="redis")
need("langchain_core", extra="langchain")
need("langchain_tests")
need("llama_index.core", extra="llamaindex")

from langchain_core.stores import ByteStore
from langchain_tests.integration_tests.base_store import BaseStoreSyncTests
from llama_index.core import Document
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.ingestion import IngestionCache, IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import BaseNode, TransformComponent

from omnicache_ai import CacheManager
from omnicache_ai.adapters.langchain_adapter import LangChainByteStore
from omnicache_ai.adapters.llamaindex_adapter import LlamaIndexKVStore
from omnicache_ai.backends.redis_backend import RedisBackend

pytestmark = pytest.mark.redis

TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


class TestByteStoreOnRedis(BaseStoreSyncTests[bytes]):
    """LangChain's standard key-value store tests, on LangChainByteStore over Redis."""

    @pytest.fixture
    def kv_store(self, redis_clean_url: str) -> Iterator[ByteStore]:
        """An empty byte store over the flushed session Redis."""
        manager = CacheManager(backend=RedisBackend(redis_clean_url, **TIMEOUTS))
        yield LangChainByteStore(manager)
        manager.close()

    @pytest.fixture
    def three_values(self) -> tuple[bytes, bytes, bytes]:
        """Three distinct byte values."""
        return b"foo", b"bar", b"\x00baz\xff"


class Splitter(TransformComponent):
    """LlamaIndex's SentenceSplitter, counting the documents it is asked to split."""

    _seen: list[str] = PrivateAttr(default_factory=list)

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> Sequence[BaseNode]:
        """Count, then split."""
        self._seen.extend(n.node_id for n in nodes)
        return SentenceSplitter(chunk_size=64, chunk_overlap=0)(nodes, **kwargs)


def test_ingestion_cache_is_shared_through_redis(redis_clean_url: str) -> None:
    """A second pipeline on another manager over the same Redis skips the transformation."""
    docs = [Document(text="The sky is blue."), Document(text="Cats sleep a lot.")]
    splitter = Splitter()
    for _ in range(2):
        manager = CacheManager(backend=RedisBackend(redis_clean_url, **TIMEOUTS))
        pipeline = IngestionPipeline(
            transformations=[splitter], cache=IngestionCache(cache=LlamaIndexKVStore(manager))
        )
        assert [n.get_content() for n in pipeline.run(documents=docs)] == [
            "The sky is blue.",
            "Cats sleep a lot.",
        ]
        manager.close()
    assert len(splitter._seen) == 2
