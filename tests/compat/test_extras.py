"""Every extra that the 0.3.0 README tells users to install exists in pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The install section of the omnicache-ai 0.3.0 README (`pip install 'omnicache-ai[...]'`).
README_030_EXTRAS = (
    "openai",
    "anthropic",
    "google-adk",
    "llamaindex",
    "langchain",
    "langgraph",
    "autogen",
    "crewai",
    "agno",
    "redis",
    "vector-faiss",
    "vector-chroma",
    "vector-qdrant",
    "vector-weaviate",
    "observability",
    "all",
)


def _extras() -> dict[str, list[str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(data["project"]["optional-dependencies"])


@pytest.mark.parametrize("extra", README_030_EXTRAS)
def test_extra_named_by_the_030_readme_exists(extra: str) -> None:
    """``pip install 'omnicache-ai[<extra>]'`` from the 0.3.0 README resolves to a real extra."""
    assert extra in _extras(), f"pyproject.toml has no [{extra}] extra"


def test_weaviate_extra_installs_nothing_and_says_so() -> None:
    """The Weaviate extra is empty on purpose; the backend module explains why."""
    assert _extras()["vector-weaviate"] == []
    from omnicache_ai.backends.vector import weaviate_backend

    assert "could not be tested" in (weaviate_backend.__doc__ or "") + weaviate_backend._WHY
