"""Every ``>>>`` example in src/omnicache_ai runs and prints what it shows.

One test per module, so a broken example names its module. A module whose optional
dependency is missing skips here and fails under CI (``tests/_ci.py``), like any other test
of an optional feature.
"""

from __future__ import annotations

import doctest
import importlib
import tomllib
import warnings
from pathlib import Path

import pytest

from _ci import unavailable

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "omnicache_ai"


def _framework_env_modules() -> set[str]:
    """Adapters whose framework lives in its own environment (requirements/FRAMEWORKS.md).

    scripts/test.sh runs their examples there, next to tests/frameworks/<name>.
    """
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = [
        item["extra"]
        for group in data.get("tool", {}).get("uv", {}).get("conflicts", [])
        for item in group
        if "extra" in item
    ]
    return {f"omnicache_ai.adapters.{extra.replace('-', '_')}_adapter" for extra in extras}


FRAMEWORK_ENV_MODULES = _framework_env_modules()
MODULES = sorted(
    ".".join(("omnicache_ai", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
        ".__init__"
    )
    for p in PACKAGE.rglob("*.py")
    if p.name != "__main__.py"
)
MODULES = [m for m in MODULES if m not in FRAMEWORK_ENV_MODULES]
# Host frameworks' own notices, raised inside our examples by the host, not by us.
_HOST_WARNINGS = [("ignore", r"The function `load` is in beta")]


def test_every_module_is_listed() -> None:
    """The module list covers the package (a renamed folder cannot drop out silently)."""
    assert "omnicache_ai.backends.tiered_backend" in MODULES
    assert "omnicache_ai.config.settings" in MODULES
    assert len(MODULES) > 60
    # every framework-env adapter exists, so its examples really run in its environment
    assert FRAMEWORK_ENV_MODULES
    for name in FRAMEWORK_ENV_MODULES:
        assert (PACKAGE / "adapters" / f"{name.rsplit('.', 1)[1]}.py").exists(), name


# Objects other tests left for the garbage collector (an async Redis connection from an earlier
# Redis test, see the closing note of this round) are finalized wherever a collection happens,
# and the vector examples allocate enough to trigger one: their unraisable ResourceWarnings
# would fail whichever example ran then. They say nothing about these examples.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
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
