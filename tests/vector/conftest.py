"""Fixtures for the vector-backend tests: backend factories and a real Chroma server.

Every backend runs against a real engine: faiss, chromadb (embedded, and a ``chroma run``
server on a free loopback port) and qdrant-client in local mode. A backend whose package is
missing is skipped locally and fails under ``CI=true``, so CI can never go green by skipping.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from _ci import need, unavailable
from _ports import free_port

# The suite lives in the package (it is shipped); have pytest rewrite its asserts anyway.
pytest.register_assert_rewrite("omnicache_ai.backends.vector.conformance")


def _chroma_executable() -> str | None:
    beside = Path(sys.executable).parent / "chroma"
    if beside.exists():
        return str(beside)
    return shutil.which("chroma")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A ``chroma run`` server on a free loopback port for the session; killed afterwards."""
    need("chromadb")
    exe = _chroma_executable()
    if exe is None:
        unavailable("the chroma command is not installed")
        raise AssertionError  # unreachable: unavailable() skips or fails
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("wb")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [exe, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
                with urllib.request.urlopen(url, timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.close()
                    tail = (data / "server.log").read_text(errors="replace")[-2000:]
                    unavailable(f"chroma server did not start:\n{tail}")
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()


def _collection_name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


BACKENDS = [
    "numpy",
    "faiss-flat",
    "faiss-hnsw",
    "faiss-ivf",
    "chroma-embedded",
    pytest.param("chroma-server", marks=pytest.mark.service),
    "qdrant-memory",
    "qdrant-path",
]


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    """The name of the backend under test (one per parameter)."""
    return str(request.param)


@pytest.fixture
def make_backend(
    backend_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[[int], Any]:
    """Factory of fresh, empty backends of the parametrized kind."""
    if backend_name == "numpy":
        from omnicache_ai.backends.vector import NumpyBackend

        return lambda dim: NumpyBackend(dim=dim)
    if backend_name.startswith("faiss"):
        need("faiss")
        from omnicache_ai.backends.vector_backend import FAISSBackend

        if backend_name == "faiss-flat":
            return lambda dim: FAISSBackend(dim=dim, index="flat")
        # Force the approximate index from the first row and for every filtered search,
        # so the conformance suite exercises the HNSW / IVF paths, not the exact fallback.
        kind = "hnsw" if backend_name == "faiss-hnsw" else "ivf"
        return lambda dim: FAISSBackend(dim=dim, index=kind, ann_threshold=0, exact_filter_limit=0)
    if backend_name.startswith("chroma"):
        need("chromadb")
        from omnicache_ai.backends.vector_backend import ChromaBackend

        if backend_name == "chroma-server":
            host, port = request.getfixturevalue("chroma_server")
            return lambda dim: ChromaBackend(
                dim=dim, collection=_collection_name(), host=host, port=port
            )
        return lambda dim: ChromaBackend(
            dim=dim, collection=_collection_name(), path=tmp_path / "chroma"
        )
    need("qdrant_client")
    from omnicache_ai.backends.vector_backend import QdrantBackend

    if backend_name == "qdrant-memory":
        return lambda dim: QdrantBackend(dim=dim, location=":memory:")
    counter = iter(range(1_000_000))
    return lambda dim: QdrantBackend(dim=dim, path=tmp_path / f"qdrant-{next(counter)}")
