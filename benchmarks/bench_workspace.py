"""What the Claude Agent SDK adapter's file fingerprint costs per query (cold and warm).

Every cached ``ClaudeAgentCacheAdapter.query`` fingerprints the files under ``cwd`` in a
worker thread before it looks the run up. This script builds a synthetic project (N source
files of S bytes, plus a ``.git`` and a ``node_modules`` folder the walk must skip) and times:

* cold: a new fingerprint object, every file read and hashed;
* warm: the same object again, nothing changed (the stat fast path, no file read);
* one edit: a single file rewritten (the fingerprint reads that file only).

Usage::

    python benchmarks/bench_workspace.py [--files 2000] [--size 4096] [--repeat 7]
    python benchmarks/bench_workspace.py --root /path/to/a/real/checkout
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from omnicache_ai.adapters._workspace import Workspace, WorkspaceFingerprint


def build(root: Path, files: int, size: int) -> None:
    """A project of ``files`` files in folders of 50, plus folders the walk skips."""
    payload = os.urandom(size)
    for i in range(files):
        folder = root / "src" / f"pkg{i // 50}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i}.py").write_bytes(payload)
    for skipped in (".git/objects", "node_modules/dep"):
        (root / skipped).mkdir(parents=True)
        for i in range(files // 2):
            (root / skipped / f"blob{i}").write_bytes(payload)
    old = time.time() - 60  # out of the "written just now" window, as in a real checkout
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))


def median_ms(call: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--root", type=Path, help="fingerprint this folder instead")
    args = parser.parse_args()
    workspace = Workspace(max_files=max(5_000, args.files + 1))
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or Path(tmp)
        if args.root is None:
            build(root, args.files, args.size)
        counted = len(list(WorkspaceFingerprint(workspace)._files(root)))
        cold = median_ms(lambda: WorkspaceFingerprint(workspace).digest(root), args.repeat)
        warm_prints = WorkspaceFingerprint(workspace)
        warm_prints.digest(root)
        warm = median_ms(lambda: warm_prints.digest(root), args.repeat)
        edited = next(p for p in root.rglob("*.py") if p.is_file()) if args.root is None else None
        edit = float("nan")
        if edited is not None:

            def one_edit() -> None:
                edited.write_bytes(os.urandom(args.size))
                warm_prints.digest(root)

            edit = median_ms(one_edit, args.repeat)
        print(f"root {root} ({counted} files counted; load {os.getloadavg()[0]:.1f})")
        print(f"cold (read + hash every file)   {cold:9.1f} ms")
        print(f"warm (stat only)                {warm:9.1f} ms")
        print(f"one file edited                 {edit:9.1f} ms")


if __name__ == "__main__":
    main()
