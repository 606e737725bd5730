"""Every install hint the package prints names an extra that pyproject.toml defines."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_HINT = re.compile(r"omnicache-ai\[([^\]]+)\]")
_EXTRA_ARG = re.compile(r"\bextra=\"([^\"]+)\"")


def _extras() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(data["project"]["optional-dependencies"])


def _named_extras(text: str) -> list[str]:
    names = [n.strip() for m in _HINT.finditer(text) for n in m.group(1).split(",")]
    names += _EXTRA_ARG.findall(text)
    return [n for n in names if n and "{" not in n]


def test_every_hint_in_src_names_an_existing_extra() -> None:
    """pip install 'omnicache-ai[X]' and extra="X" in src only name extras that exist."""
    extras = _extras()
    missing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "src").rglob("*.py"))
        for name in _named_extras(path.read_text(encoding="utf-8"))
        if name not in extras
    }
    assert missing == set()


def test_every_hint_in_docs_names_an_existing_extra() -> None:
    """The README and docs name only extras that exist."""
    extras = _extras()
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    missing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in texts
        for name in _named_extras(path.read_text(encoding="utf-8"))
        if name not in extras
    }
    assert missing == set()


def test_the_checker_sees_a_bad_hint() -> None:
    """Control: a made-up extra in a hint is reported."""
    assert _named_extras("pip install 'omnicache-ai[redis,nope]'") == ["redis", "nope"]
    assert _named_extras('bundled_model_file("d", "f", extra="semantic-l3")') == ["semantic-l3"]
