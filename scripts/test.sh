#!/usr/bin/env bash
# The whole test suite, from a fresh clone, with nothing but Python 3.11 and pip:
#
#   bash scripts/test.sh            # lint + types + every test, in pinned, hashed envs
#   bash scripts/test.sh -k redis   # extra arguments go to the main pytest run
#
# Environments (all from the hashed lock exports in requirements/):
#   .venv      everything: core + every extra + test/lint tools  -> the full suite
#   .venv-core core dependencies only                             -> proves the bare install
#   .venv-fw-<name>  one per requirements/fw-<name>.txt: an agent framework whose pins collide
#                    with .venv (see requirements/FRAMEWORKS.md) -> tests/frameworks/<name>
# When CI=true, a test that needs a service (redis-server, a Chroma server) must not skip.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
  done
fi
export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
if ! "$PY" -m uv --version >/dev/null 2>&1; then
  echo "== installing uv (the package installer) with pip"
  "$PY" -m pip install --quiet --disable-pip-version-check uv
fi
UV=("$PY" -m uv)
PYBIN="$("$PY" -c 'import sys; print(sys.executable)')"

make_env() {  # make_env DIR REQUIREMENTS
  "${UV[@]}" venv --quiet --allow-existing --python "$PYBIN" "$1"
  "${UV[@]}" pip sync --quiet --require-hashes --python "$1/bin/python" "$2"
  "${UV[@]}" pip install --quiet --no-deps --python "$1/bin/python" -e .
}

echo "== lock exports match pyproject.toml"
"$PY" scripts/check_locks.py

echo "== environment: .venv (all extras)"
make_env .venv requirements/dev.txt

echo "== ruff (lint + format)"
.venv/bin/ruff check src tests benchmarks examples scripts
.venv/bin/ruff format --check src tests benchmarks examples scripts

echo "== mypy (strict, src/)"
.venv/bin/mypy

echo "== pytest: full suite (tests/frameworks runs below, in its own environments)"
.venv/bin/python -m pytest --ignore=tests/frameworks "$@"

echo "== environment: .venv-core (core dependencies only)"
make_env .venv-core requirements/core.txt
echo "== pytest: core tests without any extra installed"
.venv-core/bin/python -m pytest tests/core -q -p no:cacheprovider

for lock in requirements/fw-*.txt; do
  [ -e "$lock" ] || continue
  name="${lock#requirements/fw-}"
  name="${name%.txt}"
  echo "== environment: .venv-fw-$name ($lock)"
  make_env ".venv-fw-$name" "$lock"
  # The adapter's own >>> examples need its framework too: they run here (tests/test_doctests.py
  # leaves the framework-env adapters to this loop).
  adapter="src/omnicache_ai/adapters/${name//-/_}_adapter.py"
  doctests=()
  if [ -f "$adapter" ]; then doctests=(--doctest-modules "$adapter"); fi
  echo "== pytest: tests/frameworks/$name ${doctests[*]}"
  ".venv-fw-$name/bin/python" -m pytest "tests/frameworks/$name" "${doctests[@]}" -q -p no:cacheprovider
  # Adapters also typed against this env's real framework (`# mypy:` line of the .in; the
  # main mypy run sees the framework as Any).
  typed=$(sed -n 's/^# mypy:[[:space:]]*//p' "requirements/fw-$name.in" | head -n 1)
  if [ -n "$typed" ]; then
    echo "== mypy (strict) against .venv-fw-$name: $typed"
    # shellcheck disable=SC2086  # a space-separated list of paths
    .venv/bin/mypy --python-executable ".venv-fw-$name/bin/python" $typed
  fi
done
