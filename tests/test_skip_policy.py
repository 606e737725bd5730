"""One skip policy: every optional dependency and service goes through tests/_ci.py."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from _ci import in_ci

TESTS = Path(__file__).resolve().parent
_FORBIDDEN = re.compile(r"importorskip|environ(?:\.get)?\(\s*[\"']CI[\"']|environ\[[\"']CI[\"']\]")


def test_no_module_skips_on_its_own() -> None:
    """No test module calls importorskip or reads CI itself (only tests/_ci.py does)."""
    offenders = [
        f"{path.relative_to(TESTS)}:{n}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name not in ("_ci.py", "test_skip_policy.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _FORBIDDEN.search(line)
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("TRUE", True), ("True", True), (" yes ", True),
     ("", False), ("0", False), ("false", False), ("no", False)],
)  # fmt: skip
def test_ci_values_in_any_case(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    """CI=1/true/yes in any case counts as CI; empty, 0 and false do not."""
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected


def _run_module(tmp_path: Path, body: str, ci: str) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_probe.py"
    test.write_text(textwrap.dedent(body))
    env = {"CI": ci, "PYTHONPATH": str(TESTS), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(("ci", "outcome"), [("", "1 skipped"), ("1", "1 error")])
def test_missing_module_skips_locally_and_fails_under_ci(
    tmp_path: Path, ci: str, outcome: str
) -> None:
    """need() on a missing module skips the whole module locally and fails it under CI."""
    body = """
        from _ci import need

        need("omnicache_no_such_module", extra="nothing")

        def test_never_runs():
            pass
    """
    result = _run_module(tmp_path, body, ci)
    summary = result.stdout + result.stderr
    if ci:
        assert result.returncode not in (0, 5), summary
        assert outcome in summary
        assert "required under CI" in summary
    else:
        assert result.returncode in (0, 5), summary  # 5: the only module was skipped
        assert outcome in summary
