"""Every ```python block in README.md and docs/*.md runs as written.

Blocks of one page run in order in one namespace (a page's later examples continue its
earlier ones), in a fresh temporary directory, with no ``OMNICACHE_*`` variables set and the
loopback-only network guard armed. A block that cannot run here says why, on the line just
above it: ``<!-- not-run: needs a live OpenAI key -->``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
_NOT_RUN = re.compile(r"^<!--\s*not-run:(.*?)-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced example: where it is, its code, and why it is skipped (if it is)."""

    page: Path
    line: int
    code: str
    not_run: str | None


def blocks_of(page: Path) -> list[Block]:
    """The ```python blocks of ``page``, each with the not-run reason written above it."""
    text = page.read_text(encoding="utf-8")
    out = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _NOT_RUN.match(before.strip())
        line = text.count("\n", 0, match.start()) + 2
        out.append(Block(page, line, match.group(1), marker.group(1).strip() if marker else None))
    return out


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working directory and an environment without OMNICACHE_* settings."""
    import os

    for name in [n for n in os.environ if n.startswith("OMNICACHE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OMNICACHE_DISK_PATH", str(tmp_path / "disk-cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_pages_have_examples() -> None:
    """The scanner finds the README's and the docs' examples (guards against a fence typo)."""
    found = {page.name: len(blocks_of(page)) for page in PAGES}
    assert found["README.md"] >= 8
    assert sum(found.values()) >= 40


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_not_run_marker_gives_a_reason(page: Path) -> None:
    """A not-run marker names why the block cannot run (at least a few words)."""
    for block in blocks_of(page):
        if block.not_run is not None:
            assert len(block.not_run.split()) >= 3, f"{page.name}:{block.line}: give a reason"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
@pytest.mark.usefixtures("clean_env")
def test_page_examples_run(page: Path) -> None:
    """Each runnable block of the page executes without error and its assertions hold."""
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for block in blocks_of(page):
        if block.not_run is not None:
            continue
        code = compile(block.code, f"{page.relative_to(ROOT)}:{block.line}", "exec")
        try:
            exec(code, namespace)  # noqa: S102 - running the documentation is the point
        except Exception as err:
            err.add_note(f"in the example at {page.name}, line {block.line}")
            raise


def test_scanner_reads_markers(tmp_path: Path) -> None:
    """Control: the marker right above a fence is read; one further up is not."""
    page = tmp_path / "p.md"
    page.write_text(
        "<!-- not-run: needs a live key -->\n```python\nx = 1\n```\n"
        "<!-- not-run: far away -->\n\ntext\n```python\ny = 2\n```\n"
    )
    first, second = blocks_of(page)
    assert (first.not_run, first.code) == ("needs a live key", "x = 1\n")
    assert second.not_run is None
