"""The documentation site: generated reference pages are current, every public name has a
docstring, and the site builds in strict mode (a broken link or cross-reference fails)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from _ci import need

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def test_generated_reference_pages_are_current() -> None:
    """docs/reference/* equals what scripts/gen_docs.py makes from the code right now."""
    result = _run(sys.executable, "scripts/gen_docs.py", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_root_export_has_a_docstring() -> None:
    """Each name in ``omnicache_ai.__all__`` documents itself (the API page is built from it)."""
    import inspect

    import omnicache_ai

    missing = [
        name
        for name in omnicache_ai.__all__
        if name not in {"MISSING"} and not inspect.getdoc(getattr(omnicache_ai, name))
    ]
    assert missing == []


def _adapter_exports() -> list[tuple[str, str]]:
    folder = ROOT / "src" / "omnicache_ai" / "adapters"
    out = []
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                out += [(path.stem, str(n)) for n in ast.literal_eval(node.value)]
    return out


def test_every_adapter_export_has_a_docstring() -> None:
    """Each adapter module's ``__all__`` names documented objects (read statically)."""
    griffe = need("griffe", extra=None)
    package = griffe.load("omnicache_ai.adapters", search_paths=[str(ROOT / "src")])
    exports = _adapter_exports()
    assert exports, "no adapter module declares __all__"
    missing = []
    for module, name in exports:
        obj = package[f"{module}.{name}"]
        target = obj.final_target if obj.is_alias else obj
        if target.docstring is None or not target.docstring.value.strip():
            missing.append(f"{module}.{name}")
    assert missing == []


@pytest.mark.timeout(600)  # mkdocstrings reads every module: ~30 s idle, minutes on a loaded box
def test_site_builds_in_strict_mode(tmp_path: Path) -> None:
    """``mkdocs build --strict`` succeeds: no broken link, anchor or cross-reference."""
    need("mkdocs")
    need("material")
    need("mkdocstrings")
    site = tmp_path / "site"
    result = _run(sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert (site / "index.html").exists()
    assert (site / "reference" / "api" / "index.html").exists()
    api = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert "CacheManager" in api
    assert "get_or_set" in api  # the docstrings made it into the page


@pytest.mark.parametrize("page", ["index.md", "getting-started.md", "security.md", "changelog.md"])
def test_nav_pages_exist(page: str) -> None:
    """The landing page and the task pages the navigation names are present."""
    assert (ROOT / "docs" / page).exists()
