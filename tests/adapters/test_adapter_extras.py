"""The adapters package imports without extras; a missing extra names the pip command."""

from __future__ import annotations

import subprocess
import sys

import pytest

_HIDE = "import sys; sys.modules[{mod!r}] = None; "


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )


def test_adapters_package_needs_no_framework() -> None:
    """`import omnicache_ai.adapters` loads no framework or provider SDK."""
    hosts = (
        "langchain_core", "langgraph", "openai", "anthropic", "llama_index", "autogen_agentchat",
        "crewai", "agno", "agents", "google.adk", "a2a", "claude_agent_sdk", "ag2", "autogen",
    )  # fmt: skip
    out = _run(
        "import sys, omnicache_ai.adapters as a; "
        f"hosts = {hosts!r}; "
        "print(sorted(m for m in hosts if m in sys.modules), a.__all__)"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("[] ")


@pytest.mark.parametrize(
    ("hidden", "module", "extra"),
    [
        ("langchain_core", "omnicache_ai.adapters.langchain_adapter", "langchain"),
        ("langgraph", "omnicache_ai.adapters.langgraph_adapter", "langgraph"),
        ("openai", "omnicache_ai.adapters.openai_adapter", "openai"),
        ("anthropic", "omnicache_ai.adapters.anthropic_adapter", "anthropic"),
        ("autogen_agentchat", "omnicache_ai.adapters.autogen_adapter", "autogen"),
        ("crewai", "omnicache_ai.adapters.crewai_adapter", "crewai"),
        ("agno", "omnicache_ai.adapters.agno_adapter", "agno"),
        ("llama_index", "omnicache_ai.adapters.llamaindex_adapter", "llamaindex"),
        ("agents", "omnicache_ai.adapters.openai_agents_adapter", "openai-agents"),
        ("google.adk", "omnicache_ai.adapters.google_adk_adapter", "google-adk"),
        ("a2a", "omnicache_ai.adapters.a2a_adapter", "a2a"),
        ("claude_agent_sdk", "omnicache_ai.adapters.claude_agent_adapter", "claude-agent"),
        ("ag2", "omnicache_ai.adapters.ag2_adapter", "ag2"),
        ("autogen", "omnicache_ai.adapters.ag2_classic_adapter", "ag2-classic"),
    ],
)
def test_missing_extra_raises_import_error_with_hint(hidden: str, module: str, extra: str) -> None:
    """Importing an adapter without its framework says which extra to install."""
    out = _run(_HIDE.format(mod=hidden) + f"import {module}")
    assert out.returncode != 0
    assert f"install it with: pip install 'omnicache-ai[{extra}]'" in out.stderr


def test_unknown_adapter_name_is_an_attribute_error() -> None:
    """The lazy package raises AttributeError for names it does not export."""
    from omnicache_ai import adapters

    with pytest.raises(AttributeError, match="NoSuchAdapter"):
        _ = adapters.NoSuchAdapter


def test_cache_info_needs_no_sdk() -> None:
    """`from omnicache_ai.adapters import cache_info` works without openai or anthropic."""
    out = _run(
        _HIDE.format(mod="openai")
        + _HIDE.format(mod="anthropic")
        + "from omnicache_ai.adapters import cache_info; print(cache_info(object()))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None"
