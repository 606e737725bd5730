"""A content fingerprint of the files an agent can see, for keys of agents that read a folder.

An agent that runs in a working directory (the Claude Agent SDK's ``cwd``) answers from the
files there: the same prompt over changed files is another run. :class:`Workspace` says which
files count and :class:`WorkspaceFingerprint` reduces them to one digest:

* The tree is walked without following links; folders that hold no source of the answer
  (``.git``, ``node_modules``, virtual environments, tool caches) are skipped.
* ``include`` globs (relative to the root: ``"src/**/*.py"``, ``"pyproject.toml"``) narrow it to
  the files that matter; by default every file counts.
* It is bounded: a tree over ``max_files`` files or ``max_bytes`` bytes gives no fingerprint
  (``None``), and the caller runs uncached rather than key a part of it.
* A file is hashed once while its size, modification and change times stay the same (the
  fast path); a file modified in the last two seconds is always read again, since a second
  write within the clock's step would not move its time.

The walk reads the disk: call it off the event loop (``asyncio.to_thread``).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

__all__ = ["SKIPPED_DIRS", "Workspace", "WorkspaceFingerprint"]

#: Folders never walked into: version control, dependencies, caches and build output of tools.
SKIPPED_DIRS: Final = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".jj",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".cache",
        ".idea",
        ".vscode",
    }
)
_RACY_SECONDS: Final = 2.0
_BLOCK: Final = 1 << 20


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a ``/``-separated glob: ``**`` spans folders, ``*`` and ``?`` do not."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class Workspace:
    """Which files under an agent's working directory go into its cache key.

    Args:
        include: Globs relative to the root (``"src/**/*.py"``, ``"README.md"``); a file
            counts when one matches. Empty (the default): every file not in a skipped folder.
        skip_dirs: Folder names never walked into (default :data:`SKIPPED_DIRS`); a folder
            holding ``pyvenv.cfg`` (a virtual environment of any name) is skipped too.
        max_files: The most files keyed; a larger tree gets no key (the run is not cached).
        max_bytes: The most bytes of file content keyed, likewise.

    Raises:
        ValueError: A glob that is absolute or climbs out of the root, or a cap below 1.

    Example:
        >>> Workspace(include=("src/**/*.py",)).matches("src/pkg/mod.py")
        True
        >>> Workspace(include=("src/**/*.py",)).matches("tests/test_mod.py")
        False
    """

    include: tuple[str, ...] = ()
    skip_dirs: frozenset[str] = SKIPPED_DIRS
    max_files: int = 5_000
    max_bytes: int = 64 * 1024 * 1024
    _patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.include, str):
            object.__setattr__(self, "include", (self.include,))
        for glob in self.include:
            if not isinstance(glob, str) or not glob:
                raise ValueError(f"include globs are non-empty strings, got {glob!r}")
            parts = glob.replace("\\", "/").split("/")
            if glob.startswith(("/", "\\")) or Path(glob).is_absolute() or ".." in parts:
                raise ValueError(f"include globs are relative to the root, got {glob!r}")
        for name in ("max_files", "max_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        patterns = tuple(_glob_regex(g.replace("\\", "/").removeprefix("./")) for g in self.include)
        object.__setattr__(self, "_patterns", patterns)
        object.__setattr__(self, "skip_dirs", frozenset(self.skip_dirs))

    def matches(self, relative: str) -> bool:
        """Whether the file at ``relative`` (``/``-separated, under the root) counts."""
        return not self._patterns or any(p.match(relative) for p in self._patterns)

    def describe(self) -> dict[str, object]:
        """These settings as plain data (they are part of the key too)."""
        return {
            "include": list(self.include),
            "skip_dirs": sorted(self.skip_dirs),
            "max_files": self.max_files,
            "max_bytes": self.max_bytes,
        }


@dataclass(frozen=True, slots=True)
class _Seen:
    mtime_ns: int
    ctime_ns: int
    size: int
    inode: int
    digest: str


class WorkspaceFingerprint:
    """Digests of folder trees under a :class:`Workspace`, with a per-file fast path.

    One instance remembers the digest of every file it read, by path, size, inode and
    modification/change times, so an unchanged tree is stat-ed, not read, the next time.
    Thread-safe (the walk runs in worker threads).

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> _ = (root / "a.py").write_text("x = 1")
        >>> prints = WorkspaceFingerprint(Workspace())
        >>> before = prints.digest(root)
        >>> _ = (root / "a.py").write_text("x = 2")
        >>> prints.digest(root) != before
        True
    """

    def __init__(self, workspace: Workspace) -> None:
        if not isinstance(workspace, Workspace):
            raise TypeError(f"workspace must be a Workspace, got {type(workspace).__name__}")
        self.workspace = workspace
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def _files(self, root: Path) -> Iterator[tuple[str, str]]:
        """``(relative, absolute)`` of every counted file (and link), in a stable order."""
        skip = self.workspace.skip_dirs
        top = str(root)
        cut = len(top.rstrip(os.sep)) + 1
        for folder, dirs, files in os.walk(top, followlinks=False):
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in skip and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
            )
            prefix = folder[cut:].replace(os.sep, "/")
            for name in sorted(files):
                relative = f"{prefix}/{name}" if prefix else name
                if self.workspace.matches(relative):
                    yield relative, os.path.join(folder, name)

    def _file_digest(self, path: str, info: os.stat_result) -> str:
        if stat.S_ISLNK(info.st_mode):  # keyed by where it points; never followed
            return "link:" + os.readlink(path)
        with self._lock:
            seen = self._seen.get(path)
        if (
            seen is not None
            and seen.mtime_ns == info.st_mtime_ns
            and seen.ctime_ns == info.st_ctime_ns
            and seen.size == info.st_size
            and seen.inode == info.st_ino
        ):
            return seen.digest
        hasher = hashlib.blake2b(digest_size=16)
        try:
            with open(path, "rb") as handle:
                while block := handle.read(_BLOCK):
                    hasher.update(block)
        except OSError as err:  # unreadable to us, and most likely to the agent too
            return f"unreadable:{type(err).__name__}"
        digest = hasher.hexdigest()
        if time.time() - info.st_mtime_ns / 1e9 > _RACY_SECONDS:
            with self._lock:
                if len(self._seen) >= 4 * self.workspace.max_files:
                    self._seen.clear()  # a bound on memory; the next walk reads again
                self._seen[path] = _Seen(
                    info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino, digest
                )
        return digest

    def digest(self, root: str | os.PathLike[str]) -> str | None:
        """The digest of the counted files under ``root``; ``None`` when over a cap.

        A missing root digests as ``"missing"`` and a file as its own content.
        """
        path = Path(root)
        if not path.exists():
            return "missing"
        tree = hashlib.sha256()
        if not path.is_dir():
            entries: Iterable[tuple[str, str]] = [(path.name, str(path))]
        else:
            entries = self._files(path)
        # Stat everything first: a tree over the bound is refused before any file is read.
        listed: list[tuple[str, str, os.stat_result]] = []
        total = 0
        for relative, full in entries:
            try:
                info = os.lstat(full)
            except OSError:  # gone between the listing and now
                continue
            listed.append((relative, full, info))
            total += info.st_size
            if len(listed) > self.workspace.max_files or total > self.workspace.max_bytes:
                return None
        for relative, full, info in listed:
            tree.update(f"{relative}\0{info.st_size}\0{self._file_digest(full, info)}\n".encode())
        return tree.hexdigest()
