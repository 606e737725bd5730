#!/usr/bin/env bash
# Build the peer environments for benchmarks/bench_compare.py (NOT part of the tests or CI):
#
#   bash scripts/bench_envs.sh          # build .venv-bench (3.11) and .venv-bench-ref (3.12)
#   bash scripts/bench_envs.sh --lock   # re-resolve benchmarks/requirements/*.txt from the .in files
#
# .venv-bench      Python 3.11: GPTCache, LangChain (InMemoryCache, SQLiteCache), semantic-llm-cache
#                  from benchmarks/requirements/bench.txt
# .venv-bench-ref  Python >= 3.12: the published omnicache-ai 0.3.0 (the reference implementation of
#                  the same API) from benchmarks/requirements/bench-ref.txt
# Both install from pinned, hashed exports. A missing interpreter skips its environment with a
# reason (bench_compare.py then skips that peer and says so). Set PYTHON311 / PYTHON312 to choose
# the interpreters.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1

find_python() {  # find_python MINOR [candidates...]: first interpreter that is Python 3.MINOR or later
  local minor="$1"; shift
  local c
  for c in "$@"; do
    if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 \
        && "$c" -c "import sys; sys.exit(sys.version_info < (3, $minor))" 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

PY311="$(find_python 11 "${PYTHON311:-}" python3.11 python3 || true)"
PY312="$(find_python 12 "${PYTHON312:-}" python3.12 python3.13 \
  "$HOME/.pyenv/versions/3.12.1/bin/python3.12" || true)"
if [ -z "$PY311" ]; then echo "no Python >= 3.11 found" >&2; exit 1; fi
if ! "$PY311" -m uv --version >/dev/null 2>&1; then
  echo "== installing uv (the package installer) with pip"
  "$PY311" -m pip install --quiet --disable-pip-version-check uv
fi
UV=("$PY311" -m uv)

lock() {  # lock IN OUT PYVERSION: hashed export, no header (it would record the resolver's index)
  "${UV[@]}" pip compile --quiet --generate-hashes --universal --no-header \
    --python-version "$3" "$1" -o "$2"
  # A lock must never name a package index: drop any comment line that records a URL.
  sed -i -E '/^[[:space:]]*#.*:\/\//d' "$2"
  if grep -qE '://' "$2"; then echo "$2 names a URL; refusing it" >&2; exit 1; fi
}

if [ "${1:-}" = "--lock" ]; then
  lock benchmarks/requirements/bench.in benchmarks/requirements/bench.txt 3.11
  lock benchmarks/requirements/bench-ref.in benchmarks/requirements/bench-ref.txt 3.12
  echo "re-locked benchmarks/requirements/bench.txt and bench-ref.txt"
  exit 0
fi

make_env() {  # make_env DIR PYTHON REQUIREMENTS
  echo "== $1 ($("$2" --version 2>&1)) from $3"
  "${UV[@]}" venv --quiet --allow-existing --python "$2" "$1"
  "${UV[@]}" pip sync --quiet --require-hashes --python "$1/bin/python" "$3"
}

make_env .venv-bench "$PY311" benchmarks/requirements/bench.txt
if [ -n "$PY312" ]; then
  make_env .venv-bench-ref "$PY312" benchmarks/requirements/bench-ref.txt
else
  echo "== skipping .venv-bench-ref: omnicache-ai 0.3.0 needs Python >= 3.12 and none was found" \
    "(set PYTHON312=/path/to/python3.12)"
fi
echo "done: run .venv/bin/python benchmarks/bench_compare.py"
