"""Every ``>>>`` example in src/omnicache_ai runs and prints what it shows.

One test per module, so a broken example names its module. A module whose optional
dependency is missing skips here and fails under CI (``tests/_ci.py``), like any other test
of an optional feature.
"""

from __future__ import annotations

import doctest
import importlib
import warnings
from pathlib import Path

import pytest

from _ci import unavailable

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "omnicache_ai"
MODULES = sorted(
    ".".join(("omnicache_ai", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
        ".__init__"
    )
    for p in PACKAGE.rglob("*.py")
    if p.name != "__main__.py"
)
# Host frameworks' own notices, raised inside our examples by the host, not by us.
_HOST_WARNINGS = [("ignore", r"The function `load` is in beta")]


def test_every_module_is_listed() -> None:
    """The module list covers the package (a renamed folder cannot drop out silently)."""
    assert "omnicache_ai.backends.tiered_backend" in MODULES
    assert "omnicache_ai.config.settings" in MODULES
    assert len(MODULES) > 60


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The module's docstring examples produce exactly the output they show."""
    monkeypatch.chdir(tmp_path)
    try:
        module = importlib.import_module(name)
    except ImportError as err:
        unavailable(f"{name} needs an optional package: {err}")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [t for t in finder.find(module, name) if t.examples]
    report: list[str] = []
    with warnings.catch_warnings():
        for action, message in _HOST_WARNINGS:
            warnings.filterwarnings(action, message=message)  # type: ignore[arg-type]
        for test in tests:
            result = runner.run(test, out=report.append)
            if result.failed:
                break
    assert runner.failures == 0, "".join(report)
