"""Each vector backend needs only its own extra, and says which one when it is missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Setting sys.modules[name] = None makes "import name" raise ImportError, as if the
# package were not installed, without touching the environment.
BLOCK = "import sys\nfor _m in {blocked!r}:\n    sys.modules[_m] = None\n"


def run_blocked(blocked: list[str], body: str) -> subprocess.CompletedProcess[str]:
    code = BLOCK.format(blocked=blocked) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("cls", "module", "extra"),
    [
        ("FAISSBackend", "faiss", "vector-faiss"),
        ("ChromaBackend", "chromadb", "vector-chroma"),
        ("QdrantBackend", "qdrant_client", "vector-qdrant"),
    ],
)
def test_missing_extra_names_the_install_command(cls: str, module: str, extra: str) -> None:
    """Importing a backend whose package is absent raises ImportError naming its extra."""
    proc = run_blocked(
        [module],
        f"""
        try:
            from omnicache_ai.backends.vector_backend import {cls}
        except ImportError as err:
            print("ERR", err)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"pip install 'omnicache-ai[{extra}]'" in proc.stdout


def test_numpy_backend_works_with_no_vector_extra() -> None:
    """With faiss, chromadb and qdrant-client all absent, the package and NumpyBackend work."""
    proc = run_blocked(
        ["faiss", "chromadb", "qdrant_client"],
        """
        import numpy as np
        from omnicache_ai.backends import vector, vector_backend
        store = vector_backend.NumpyBackend(dim=2)
        store.add(["a"], np.array([[1.0, 0.0]]))
        print(store.search(np.array([1.0, 0.0]))[0].id, sorted(vector.__all__)[:2])
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("a ['BaseVectorBackend', 'ChromaBackend']")
