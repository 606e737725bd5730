"""The Claude Agent SDK adapter keys the files the agent can see under ``cwd`` (and add_dirs).

Runs go through the real SDK ``query()`` fed by an in-process Transport (never the CLI); each
test counts the prompts that reach it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from _ci import need

need("claude_agent_sdk", extra="claude-agent")

from claude_agent_sdk import ClaudeAgentOptions
from test_claude_agent_adapter import ScriptedTransport, tool_run

from omnicache_ai import CacheManager, InMemoryBackend
from omnicache_ai.adapters import _workspace
from omnicache_ai.adapters.claude_agent_adapter import ClaudeAgentCacheAdapter, Workspace

PROMPT = "Fix the import error in utils.py"


@pytest.fixture
def manager() -> CacheManager:
    """A fresh in-memory manager per test."""
    return CacheManager(backend=InMemoryBackend())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small project the agent works in, with folders the fingerprint must skip."""
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "utils.py").write_text("import x\n")
    (root / "README.md").write_text("# demo\n")
    (root / ".git").mkdir()
    (root / ".git" / "index").write_text("v1")
    (root / "node_modules" / "left-pad").mkdir(parents=True)
    (root / "node_modules" / "left-pad" / "index.js").write_text("v1")
    (root / "env").mkdir()  # a virtual environment by another name
    (root / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "env" / "site.py").write_text("v1")
    return root


def options(root: Path, **extra: Any) -> ClaudeAgentOptions:
    """Options of an agent working in ``root``."""
    return ClaudeAgentOptions(cwd=str(root), model="claude-sonnet-4-5", **extra)


async def ran_live(
    adapter: ClaudeAgentCacheAdapter, opts: ClaudeAgentOptions, prompt: str = PROMPT
) -> bool:
    """Run one query to its end; whether it reached the transport (a miss)."""
    transport = ScriptedTransport(tool_run())
    messages = [m async for m in adapter.query(prompt, options=opts, transport=transport)]
    assert messages[-1].result == "Fixed the import"
    return len(transport.prompts) == 1


async def test_a_changed_file_under_cwd_misses(manager: CacheManager, repo: Path) -> None:
    """Same prompt and options: replayed while the files stay; live once a file changed."""
    adapter = ClaudeAgentCacheAdapter(manager)
    assert await ran_live(adapter, options(repo))
    assert not await ran_live(adapter, options(repo))
    (repo / "src" / "utils.py").write_text("import y\n")
    assert await ran_live(adapter, options(repo))
    assert not await ran_live(adapter, options(repo))
    (repo / "src" / "new.py").write_text("")  # a new (even empty) file counts too
    assert await ran_live(adapter, options(repo))
    (repo / "src" / "new.py").unlink()  # back to the tree of the second run: its entry
    assert not await ran_live(adapter, options(repo))


async def test_skipped_folders_do_not_change_the_key(manager: CacheManager, repo: Path) -> None:
    """.git, node_modules and a virtual environment (pyvenv.cfg) are not walked."""
    adapter = ClaudeAgentCacheAdapter(manager)
    await ran_live(adapter, options(repo))
    (repo / ".git" / "index").write_text("v2")
    (repo / "node_modules" / "left-pad" / "index.js").write_text("v2")
    (repo / "env" / "site.py").write_text("v2")
    assert not await ran_live(adapter, options(repo))


async def test_include_globs_key_only_those_files(manager: CacheManager, repo: Path) -> None:
    """With include globs, a change elsewhere is a hit, a change in a matched file a miss."""
    adapter = ClaudeAgentCacheAdapter(manager, workspace=Workspace(include=("src/**/*.py",)))
    await ran_live(adapter, options(repo))
    (repo / "README.md").write_text("# changed\n")
    assert not await ran_live(adapter, options(repo))
    (repo / "src" / "utils.py").write_text("import z\n")
    assert await ran_live(adapter, options(repo))


async def test_add_dirs_are_keyed_too(manager: CacheManager, repo: Path, tmp_path: Path) -> None:
    """A file in an extra directory the agent may read changes the key as well."""
    extra = tmp_path / "shared"
    extra.mkdir()
    (extra / "conf.toml").write_text("a = 1\n")
    adapter = ClaudeAgentCacheAdapter(manager)
    await ran_live(adapter, options(repo, add_dirs=[extra]))
    assert not await ran_live(adapter, options(repo, add_dirs=[extra]))
    (extra / "conf.toml").write_text("a = 2\n")
    assert await ran_live(adapter, options(repo, add_dirs=[extra]))


async def test_workspace_false_keys_the_path_only(manager: CacheManager, repo: Path) -> None:
    """The knob to turn it off: file changes are then not seen (documented)."""
    adapter = ClaudeAgentCacheAdapter(manager, workspace=False)
    await ran_live(adapter, options(repo))
    (repo / "src" / "utils.py").write_text("import y\n")
    assert not await ran_live(adapter, options(repo))


async def test_a_tree_over_the_bound_runs_uncached(
    manager: CacheManager, repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Over max_files the query is never served from the cache; one warning says why."""
    adapter = ClaudeAgentCacheAdapter(manager, workspace=Workspace(max_files=1))
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        assert await ran_live(adapter, options(repo))
        assert await ran_live(adapter, options(repo))
    warnings = [r for r in caplog.records if "fingerprint bound" in r.getMessage()]
    assert len(warnings) == 1
    assert adapter.cache_key(PROMPT, options(repo)) is None


async def test_the_fingerprint_runs_off_the_event_loop(
    manager: CacheManager, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk and the hashing happen in a worker thread, never on the loop's thread."""
    threads: list[threading.Thread] = []
    digest = _workspace.WorkspaceFingerprint.digest

    def spy(self: Any, root: Any) -> Any:
        threads.append(threading.current_thread())
        return digest(self, root)

    monkeypatch.setattr(_workspace.WorkspaceFingerprint, "digest", spy)
    adapter = ClaudeAgentCacheAdapter(manager)
    await ran_live(adapter, options(repo))
    loop_thread = threading.current_thread()
    assert threads
    assert all(t is not loop_thread for t in threads)


def test_cache_key_follows_the_files(manager: CacheManager, repo: Path) -> None:
    """The debug key changes with a file's content and comes back with it."""
    adapter = ClaudeAgentCacheAdapter(manager)
    before = adapter.cache_key(PROMPT, options(repo))
    (repo / "README.md").write_text("# changed\n")
    changed = adapter.cache_key(PROMPT, options(repo))
    (repo / "README.md").write_text("# demo\n")
    assert before != changed
    assert adapter.cache_key(PROMPT, options(repo)) == before


def test_bad_workspace_settings_are_refused(manager: CacheManager) -> None:
    """A clear error for a wrong knob value."""
    with pytest.raises(TypeError, match="Workspace or a bool"):
        ClaudeAgentCacheAdapter(manager, workspace="src/*.py")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="relative to the root"):
        Workspace(include=("/etc/*",))
    with pytest.raises(ValueError, match="max_files"):
        Workspace(max_files=0)
