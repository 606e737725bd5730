"""A Chroma server as the semantic cache's shared index: no replica, one index for all."""

from __future__ import annotations

import multiprocessing as mp
import uuid
from pathlib import Path

import _chroma_shared_workers as workers
import pytest

from _ci import need


def test_only_a_server_collection_is_a_shared_index(tmp_path: Path) -> None:
    """An embedded Chroma is per process: shared_index=True refuses it and names the fix."""
    need("chromadb")
    from omnicache_ai.backends.vector_backend import ChromaBackend
    from omnicache_ai.core.errors import ConfigurationError
    from omnicache_ai.embedders import HashingEmbedder
    from omnicache_ai.layers.semantic_cache import SemanticCache

    embedded = ChromaBackend(dim=64, collection="embedded", path=tmp_path / "chroma")
    assert not embedded.shared
    with pytest.raises(ConfigurationError, match="SharedVectorIndex"):
        SemanticCache(embedder=HashingEmbedder(dim=64), vector_backend=embedded, shared_index=True)
    assert not SemanticCache(embedder=HashingEmbedder(dim=64), vector_backend=embedded).shared_index
    embedded.close()


@pytest.mark.service
@pytest.mark.slow
def test_entry_stored_in_one_process_hits_in_another_through_the_server(
    chroma_server: tuple[str, int], tmp_path: Path
) -> None:
    """Process a's entry is a paraphrase hit in process b; delete, TTL and tenants hold.

    b asks before and after a deletes one entry and another expires: the kept entry keeps
    hitting, the removed ones miss, and another tenant never sees acme's answer.
    """
    host, port = chroma_server
    collection = f"shared-{uuid.uuid4().hex[:12]}"
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    setup = (str(tmp_path / "answers"), host, port, collection)
    procs = [ctx.Process(target=workers.roles, args=(setup, r, barrier, queue)) for r in "ab"]
    for p in procs:
        p.start()
    results = {}
    for _ in procs:
        status, payload = queue.get(timeout=120)
        assert status == "ok", payload
        results[payload[0]] = payload[1]
    for p in procs:
        p.join(30)
    b = results["b"]
    assert results["a"]["shared"]
    assert b["shared"]
    keep, deleted, expiring = b["before"]
    assert keep == ("semantic", "keep")
    assert deleted == ("semantic", "deleted")
    assert expiring == ("semantic", "expiring")
    assert b["other_tenant"] == (None, None)
    assert b["after"] == [("semantic", "keep"), (None, None), (None, None)]
