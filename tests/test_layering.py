"""The package's floors import only downward (no import circles between floors).

core -> backends -> embedders -> layers -> middleware / adapters / observability -> testing
-> config -> cli / gateway / demo / the root package. Every ``import`` of another floor's module, at
module level or inside a function or ``TYPE_CHECKING`` block, counts; docstrings do not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "omnicache_ai"

FLOORS: dict[str, int] = {
    "_version": 0,
    "core": 0,
    "backends": 1,
    "embedders": 2,
    "layers": 3,
    "middleware": 4,
    "adapters": 4,
    "observability": 4,
    "testing": 5,
    "config": 6,
    "cli": 7,
    "gateway": 7,
    "demo": 7,
    "__main__": 7,
    "__init__": 7,
}

# (importing file, imported module prefix): the only upward imports allowed, each with why.
ALLOWED: dict[tuple[str, str], str] = {
    ("core/cache_manager.py", "omnicache_ai.backends.memory_backend"):
        "CacheManager() defaults to an in-memory backend (imported on that call only)",
    ("core/redis_lock.py", "omnicache_ai.backends"):
        "the old import path of the Redis lock (now backends/redis_lock.py), resolved lazily",
    ("embedders/cached.py", "omnicache_ai.layers.cached_embedder"):
        "the old import path of CachedEmbedder, which moved to layers/",
    ("embedders/__init__.py", "omnicache_ai.layers.cached_embedder"):
        "type-only import for the lazy CachedEmbedder re-export",
}  # fmt: skip


def _floor_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "omnicache_ai":
                found.extend((f"omnicache_ai.{a.name}", node.lineno) for a in node.names)
            elif node.module.startswith("omnicache_ai."):
                found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found.extend(
                (a.name, node.lineno) for a in node.names if a.name.startswith("omnicache_ai.")
            )
    return found


def _upward_imports() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        here = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        floor = FLOORS[here]
        for module, line in _imports(path):
            there = _floor_of(module)
            if there == here or FLOORS.get(there, 99) <= floor:
                continue
            if any(
                str(rel.as_posix()) == f and (module == m or module.startswith(m + "."))
                for f, m in ALLOWED
            ):
                continue
            bad.append(f"{rel.as_posix()}:{line} ({here}, floor {floor}) imports {module} "
                       f"({there}, floor {FLOORS.get(there)})")  # fmt: skip
    return bad


def test_every_top_level_module_has_a_floor() -> None:
    """Each package and module directly under omnicache_ai/ is placed on a floor."""
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").exists())}  # fmt: skip
    assert names - set(FLOORS) == set()


def test_no_floor_imports_a_floor_above_it() -> None:
    """No module imports a module of a higher floor, beyond the documented exceptions."""
    assert _upward_imports() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from omnicache_ai.config.settings import X", ["omnicache_ai.config.settings"]),
        ("def f():\n    from omnicache_ai.layers import x", ["omnicache_ai.layers"]),
        ("import omnicache_ai.layers.semantic_cache", ["omnicache_ai.layers.semantic_cache"]),
        ("from omnicache_ai import config", ["omnicache_ai.config"]),
        ('"""\n>>> from omnicache_ai.config import x\n"""', []),
    ],
)  # fmt: skip
def test_the_scanner_sees_every_import_form(
    tmp_path: Path, source: str, expected: list[str]
) -> None:
    """Control: module-level, function-level, plain and package imports are all found."""
    path = tmp_path / "m.py"
    path.write_text(source)
    assert [m for m, _ in _imports(path)] == expected
