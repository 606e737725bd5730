"""Helpers shared by the observability tests (child processes); free ports come from ``_ports``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def run_child(code: str, env: dict[str, str] | None = None, timeout: float = 60) -> str:
    """Run ``code`` in a fresh interpreter (the package from this checkout); return stdout."""
    full_env = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env=full_env, timeout=timeout, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"child failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout
