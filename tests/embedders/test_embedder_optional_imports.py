"""Embedders need only their own extras, and say which one when it is missing."""

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
    ("call", "blocked", "extra"),
    [
        ("get_default_embedder()", ["wordllama"], "semantic"),
        ("get_default_embedder()", ["wordllama"], "semantic-fast"),
        ("load_embedder('minilm-l6-int8')", ["onnxruntime"], "semantic"),
        ("load_embedder('minilm-l3')", ["tokenizers"], "semantic"),
        ("load_embedder('wordllama')", ["wordllama"], "semantic-fast"),
    ],
)
def test_missing_extra_names_the_install_command(call: str, blocked: list[str], extra: str) -> None:
    """A preset whose packages are absent raises ImportError naming the extra to install."""
    proc = run_blocked(
        blocked,
        f"""
        from omnicache_ai.embedders import get_default_embedder, load_embedder
        try:
            {call}
        except ImportError as err:
            print("ERR", err)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"pip install 'omnicache-ai[{extra}]'" in proc.stdout


def test_hashing_embedder_works_with_no_extra() -> None:
    """With every model package absent, the embedders package and HashingEmbedder work."""
    proc = run_blocked(
        ["onnxruntime", "tokenizers", "wordllama", "sentence_transformers"],
        """
        from omnicache_ai.embedders import HashingEmbedder
        print(HashingEmbedder(dim=8).embed("x").shape)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(8,)"
