"""Persistent vector backends across processes, and stores that are never wiped on open."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _ci import need

DIM = 16

# Runs in a child process: builds a backend from a JSON spec, writes, deletes, closes.
WRITER = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    spec = json.loads(sys.argv[1])
    from omnicache_ai.backends import vector_backend as vb
    cls = getattr(vb, spec.pop("class"))
    store = cls(dim=__DIM__, **spec)
    rng = np.random.default_rng(0)
    data = rng.standard_normal((40, __DIM__)).astype("float32")
    store.add([f"id{i}" for i in range(40)], data,
              [{"tenant": f"t{i % 2}", "row": i} for i in range(40)])
    store.delete(["id0", "id1"])
    store.close()
    """
).replace("__DIM__", str(DIM))


PARAMS = [
    "numpy",
    "faiss-flat",
    "faiss-hnsw",
    "chroma-embedded",
    pytest.param("chroma-server", marks=pytest.mark.service),
    "qdrant-path",
]


@pytest.fixture(params=PARAMS)
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Constructor arguments (as JSON-able data) for a backend that persists."""
    name = request.param
    if name == "numpy":
        return {"class": "NumpyBackend", "path": str(tmp_path / "np")}
    if name.startswith("faiss"):
        need("faiss")
        index = "flat" if name == "faiss-flat" else "hnsw"
        return {"class": "FAISSBackend", "path": str(tmp_path / "faiss"), "index": index}
    if name == "chroma-embedded":
        need("chromadb")
        return {"class": "ChromaBackend", "path": str(tmp_path / "chroma"), "collection": "persist"}
    if name == "chroma-server":
        host, port = request.getfixturevalue("chroma_server")
        collection = f"p-{uuid.uuid4().hex[:10]}"
        return {"class": "ChromaBackend", "host": host, "port": port, "collection": collection}
    need("qdrant_client")
    return {"class": "QdrantBackend", "path": str(tmp_path / "qdrant"), "collection": "persist"}


def open_store(spec: dict[str, Any]) -> Any:
    from omnicache_ai.backends import vector_backend as vb

    args = dict(spec)
    cls = getattr(vb, args.pop("class"))
    return cls(dim=DIM, **args)


@pytest.mark.slow
def test_entries_written_by_one_process_are_read_by_another(spec: dict[str, Any]) -> None:
    """A child process writes and closes; this process sees its entries, metadata and deletes."""
    subprocess.run([sys.executable, "-c", WRITER, json.dumps(spec)], check=True, timeout=120)
    data = np.random.default_rng(0).standard_normal((40, DIM)).astype("float32")
    store = open_store(spec)
    try:
        assert store.count() == 38
        hit = store.search(data[5], k=1)[0]
        assert (hit.id, hit.metadata) == ("id5", {"tenant": "t1", "row": 5})
        assert hit.score == pytest.approx(1.0, abs=1e-4)
        assert store.search(data[0], k=1)[0].id != "id0"
        assert [h.id for h in store.search(data[6], k=1, filter={"tenant": "t0"})] == ["id6"]
        # Ids map to the store's keys the same way in every process (Qdrant: UUID5).
        store.delete(["id5"])
        store.add(["extra"], data[:1])
    finally:
        store.close()
    reopened = open_store(spec)
    try:
        assert reopened.count() == 38
        assert reopened.search(data[5], k=1)[0].id != "id5"
        assert reopened.search(data[0], k=1)[0].id == "extra"
    finally:
        reopened.close()


def test_chroma_refuses_a_collection_with_another_distance(tmp_path: Path) -> None:
    """An existing non-cosine Chroma collection is refused and left untouched."""
    chromadb = need("chromadb")
    from chromadb.config import Settings

    from omnicache_ai.backends.vector_backend import ChromaBackend

    client = chromadb.PersistentClient(
        path=str(tmp_path / "c"), settings=Settings(anonymized_telemetry=False)
    )
    col = client.get_or_create_collection(
        "l2-space", configuration={"hnsw": {"space": "l2"}}, embedding_function=None
    )
    col.add(ids=["x"], embeddings=[[1.0] * DIM])
    with pytest.raises(ValueError, match="cosine"):
        ChromaBackend(dim=DIM, collection="l2-space", client=client)
    assert col.count() == 1
    client.close()


def test_qdrant_refuses_a_collection_of_another_size(tmp_path: Path) -> None:
    """An existing Qdrant collection of another vector size is refused, not recreated."""
    need("qdrant_client")
    from omnicache_ai.backends.vector_backend import QdrantBackend

    store = QdrantBackend(dim=DIM, path=tmp_path / "q")
    store.add(["a"], np.ones((1, DIM)))
    store.close()
    with pytest.raises(ValueError, match="size"):
        QdrantBackend(dim=DIM + 1, path=tmp_path / "q")
    again = QdrantBackend(dim=DIM, path=tmp_path / "q")
    assert again.count() == 1
    again.close()
