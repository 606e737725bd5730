"""The folder fingerprint behind the Claude Agent SDK adapter's ``cwd`` key (no framework)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from omnicache_ai.adapters import _workspace
from omnicache_ai.adapters._workspace import Workspace, WorkspaceFingerprint


def tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text) under ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def age(path: Path, seconds: float = 60.0) -> None:
    """Move a file's modification time into the past (out of the 'just written' window)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


def test_content_path_and_presence_change_the_digest(tmp_path: Path) -> None:
    """Editing, renaming, adding or removing a file changes the digest; restoring restores it."""
    root = tree(tmp_path, {"a.py": "x = 1", "pkg/b.py": "y = 2"})
    prints = WorkspaceFingerprint(Workspace())
    base = prints.digest(root)
    (root / "a.py").write_text("x = 3")
    edited = prints.digest(root)
    (root / "a.py").write_text("x = 1")
    assert prints.digest(root) == base
    (root / "pkg/b.py").rename(root / "pkg/c.py")
    renamed = prints.digest(root)
    (root / "pkg/c.py").rename(root / "pkg/b.py")
    (root / "new.txt").write_text("")
    added = prints.digest(root)
    assert len({base, edited, renamed, added}) == 4


def test_same_files_same_digest_in_another_place(tmp_path: Path) -> None:
    """The digest depends on relative paths and contents, not on where the tree lives."""
    files = {"a.py": "x = 1", "docs/index.md": "# hi"}
    one = tree(tmp_path / "one", files)
    two = tree(tmp_path / "two", files)
    assert WorkspaceFingerprint(Workspace()).digest(one) == WorkspaceFingerprint(
        Workspace()
    ).digest(two)


def test_unchanged_files_are_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path: same size and times -> the remembered digest; a change -> read again."""
    root = tree(tmp_path, {"a.py": "x = 1", "b.py": "y = 2"})
    for name in ("a.py", "b.py"):
        age(root / name)
    opened: list[str] = []
    real_open = open

    def counting_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(Path(path).name)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(_workspace, "open", counting_open, raising=False)
    prints = WorkspaceFingerprint(Workspace())
    first = prints.digest(root)
    assert sorted(opened) == ["a.py", "b.py"]
    opened.clear()
    assert prints.digest(root) == first
    assert opened == []
    (root / "a.py").write_text("x = 9")  # written just now: read, and not remembered yet
    assert prints.digest(root) != first
    assert prints.digest(root) is not None
    assert opened == ["a.py", "a.py"]


def test_bounds_give_no_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over max_files or max_bytes there is no fingerprint (the caller runs uncached), and
    no file was read to find that out."""
    root = tree(tmp_path, {"a.txt": "12345", "b.txt": "67890"})
    opened: list[Any] = []
    monkeypatch.setattr(_workspace, "open", lambda *a, **k: opened.append(a), raising=False)
    assert WorkspaceFingerprint(Workspace(max_files=1)).digest(root) is None
    assert WorkspaceFingerprint(Workspace(max_bytes=9)).digest(root) is None
    assert opened == []
    monkeypatch.undo()
    assert WorkspaceFingerprint(Workspace(max_files=2, max_bytes=10)).digest(root) is not None
    # Globs narrow what counts, so a big tree can stay under the bound.
    narrowed = Workspace(include=("a.*",), max_files=1)
    assert WorkspaceFingerprint(narrowed).digest(root) is not None


def test_skipped_folders_and_links(tmp_path: Path) -> None:
    """Skipped folders are not walked; a link is keyed by its target and never followed."""
    root = tree(tmp_path / "r", {"a.py": "x", ".git/HEAD": "ref", "v/pyvenv.cfg": "", "v/x": "1"})
    outside = tree(tmp_path / "outside", {"big.bin": "data"})
    (root / "linked").symlink_to(outside, target_is_directory=True)
    prints = WorkspaceFingerprint(Workspace())
    base = prints.digest(root)
    (root / ".git/HEAD").write_text("other")
    (root / "v/x").write_text("2")
    (outside / "big.bin").write_text("changed")
    assert prints.digest(root) == base
    assert "big.bin" not in str(list(prints._files(root)))


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        ("src/**/*.py", "src/a.py", True),
        ("src/**/*.py", "src/x/y/a.py", True),
        ("src/**/*.py", "tests/a.py", False),
        ("*.md", "README.md", True),
        ("*.md", "docs/index.md", False),
        ("**/*.md", "docs/index.md", True),
        ("pyproject.toml", "pyproject.toml", True),
        ("./pyproject.toml", "pyproject.toml", True),
        ("a?.txt", "ab.txt", True),
        ("a?.txt", "a/.txt", False),
    ],
)
def test_include_globs(glob: str, path: str, expected: bool) -> None:
    """``**`` spans folders; ``*`` and ``?`` stay inside one name."""
    assert Workspace(include=(glob,)).matches(path) is expected


@pytest.mark.parametrize("glob", ["/etc/*", "../up/*", "a/../../b", ""])
def test_globs_outside_the_root_are_refused(glob: str) -> None:
    """Globs are relative to the working directory: a clear error otherwise."""
    with pytest.raises(ValueError, match="include globs"):
        Workspace(include=(glob,))


def test_missing_root_and_single_file(tmp_path: Path) -> None:
    """A root that does not exist digests as 'missing'; a file root as its own content."""
    prints = WorkspaceFingerprint(Workspace())
    assert prints.digest(tmp_path / "nope") == "missing"
    one = tmp_path / "one.txt"
    one.write_text("a")
    first = prints.digest(one)
    one.write_text("b")
    assert prints.digest(one) != first
