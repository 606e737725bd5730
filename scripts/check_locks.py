"""Check that requirements/*.txt (hashed ``uv export`` output) agree with pyproject.toml.

Every dependency that pyproject declares for an environment must be pinned (``==``) in that
environment's export, with a version its specifier admits, and every pin must carry hashes.
Runs offline with the standard library only (a tiny PEP 440 subset is enough for our pins).
No file in the repository may name a download address either.

The agent-framework extras (the ones in pyproject's ``[tool.uv] conflicts``) are not in dev.txt;
each ``requirements/fw-<name>.txt`` is checked against the extras its ``fw-<name>.in`` names on
its ``# extras:`` line, the core dependencies and the ``.in`` file's own requirements.

``--dev-extras`` prints the extras that go into dev.txt, one a line (used by scripts/lock.sh).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)(;.*)?$")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def vtuple(v: str) -> tuple[int, ...]:
    parts = []
    for p in v.split("."):
        m = re.match(r"\d+", p)
        parts.append(int(m.group()) if m else 0)
    return tuple(parts)


def admits(spec: str, version: str) -> bool:
    v = vtuple(version)
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        m = re.match(r"(>=|<=|==|!=|~=|>|<)\s*(.+)", clause)
        if not m:
            return False
        op, bound = m.group(1), vtuple(m.group(2).rstrip(".*"))
        n = max(len(v), len(bound))
        a, b = v + (0,) * (n - len(v)), bound + (0,) * (n - len(bound))
        ok = {
            ">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b,
            "==": a[: len(bound)] == bound, "!=": a[: len(bound)] != bound,
            "~=": a >= b and a[: len(bound) - 1] == b[: len(bound) - 1],
        }[op]  # fmt: skip
        if not ok:
            return False
    return True


def pins(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    out: dict[str, str] = {}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    for block in blocks:
        m = _PIN.match(block.strip())
        if not m:
            continue
        if "--hash=sha256:" not in block:
            raise SystemExit(f"{path.name}: {m.group(1)} is pinned without hashes")
        out[norm(m.group(1))] = m.group(2)
    return out


def requirements(project: dict, extras: list[str], groups: list[str]) -> list[str]:
    reqs = list(project["project"]["dependencies"])
    opt = project["project"].get("optional-dependencies", {})
    for e in extras:
        reqs += [r for r in opt[e] if not r.startswith("omnicache-ai")]
    grp = project.get("dependency-groups", {})

    def add_group(g: str) -> None:
        for r in grp[g]:
            if isinstance(r, dict):
                add_group(r["include-group"])
            else:
                reqs.append(r)

    for g in groups:
        add_group(g)
    return reqs


def check(project: dict, export: Path, extras: list[str], groups: list[str]) -> list[str]:
    pinned = pins(export)
    errors = []
    for req in requirements(project, extras, groups):
        m = _NAME.match(req)
        if not m:
            errors.append(f"cannot parse requirement {req!r}")
            continue
        name, spec, marker = norm(m.group(1)), m.group(3).strip(), m.group(4)
        if marker and "python_version" in marker and "3.11" not in marker and "<" in marker:
            continue  # a marker that excludes our interpreter
        if name not in pinned:
            errors.append(f"{export.name}: {name} ({req}) is not pinned; run scripts/lock.sh")
        elif spec and not admits(spec, pinned[name]):
            errors.append(f"{export.name}: {name}=={pinned[name]} does not satisfy {spec!r}")
    return errors


def no_addresses() -> list[str]:
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    bad = []
    pattern = re.compile(r"(--(extra-)?index-url|^\s*source = \{ *registry|registry = \"https?://)")
    for f in files:
        p = ROOT / f
        text_file = p.suffix in {".txt", ".in", ".toml", ".cfg", ".ini", ".lock"} and p.is_file()
        if text_file and pattern.search(p.read_text(encoding="utf-8", errors="replace")):
            bad.append(f"{f} names a package index or download address")
    return bad


def framework_extras(project: dict) -> set[str]:
    """Extras kept out of dev.txt: every extra named in ``[tool.uv] conflicts``."""
    sets = project.get("tool", {}).get("uv", {}).get("conflicts", [])
    return {item["extra"] for group in sets for item in group if "extra" in item}


def dev_extras(project: dict) -> list[str]:
    skip = framework_extras(project) | {"all"}
    return sorted(k for k in project["project"]["optional-dependencies"] if k not in skip)


def check_framework_env(project: dict, source: Path) -> list[str]:
    """Check ``fw-<name>.txt`` against its ``.in``: extras, core deps, the ``.in``'s own lines."""
    export = source.with_suffix(".txt")
    if not export.is_file():
        return [f"{export.name} is missing; run scripts/lock_frameworks.sh"]
    lines = source.read_text(encoding="utf-8").splitlines()
    extras: list[str] = []
    own: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("# extras:"):
            extras = stripped.removeprefix("# extras:").split()
        elif stripped and not stripped.startswith(("#", "-")):
            own.append(stripped.split("#", 1)[0].strip())
    if not extras:
        return [f"{source.name} has no '# extras:' line"]
    unknown = [e for e in extras if e not in project["project"].get("optional-dependencies", {})]
    if unknown:
        return [f"{source.name} names extras pyproject.toml does not define: {unknown}"]
    errors = check(project, export, extras, [])
    project_own = {"project": {"dependencies": own}}
    return errors + check(project_own, export, [], [])


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    if sys.argv[1:] == ["--dev-extras"]:
        print("\n".join(dev_extras(project)))
        return 0
    groups = sorted(project.get("dependency-groups", {}))
    errors = check(project, ROOT / "requirements/dev.txt", dev_extras(project), groups)
    errors += check(project, ROOT / "requirements/core.txt", [], ["test"])
    sources = sorted((ROOT / "requirements").glob("fw-*.in"))
    for source in sources:
        errors += check_framework_env(project, source)
    for orphan in sorted((ROOT / "requirements").glob("fw-*.txt")):
        if not orphan.with_suffix(".in").is_file():
            errors.append(f"{orphan.name} has no {orphan.with_suffix('.in').name}")
    errors += no_addresses()
    for e in errors:
        print(f"check_locks: {e}", file=sys.stderr)
    if not errors:
        envs = ", ".join(s.with_suffix(".txt").name for s in sources)
        print(f"check_locks: dev.txt, core.txt{', ' + envs if envs else ''} match pyproject.toml")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
