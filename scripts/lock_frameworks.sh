#!/usr/bin/env bash
# Lock the agent-framework test environments: requirements/fw-<name>.in -> fw-<name>.txt.
#
#   bash scripts/lock_frameworks.sh              # every requirements/fw-*.in
#   bash scripts/lock_frameworks.sh crewai agno  # only these
#
# Each lock pins omnicache-ai's core dependencies (from pyproject.toml), the extras named on the
# `.in` file's `# extras:` line (the framework, with the bounds users get) and the test tools the
# `.in` lists, all with hashes, for Python 3.11. See requirements/FRAMEWORKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
PY="${PYTHON:-python3}"

if [ "$#" -eq 0 ]; then
  set --
  for f in requirements/fw-*.in; do
    [ -e "$f" ] || continue
    n="${f#requirements/fw-}"
    set -- "$@" "${n%.in}"
  done
fi

for name in "$@"; do
  in="requirements/fw-$name.in"
  [ -f "$in" ] || { echo "lock_frameworks: no $in" >&2; exit 1; }
  extras=$(sed -n 's/^# extras:[[:space:]]*//p' "$in" | head -n 1)
  [ -n "$extras" ] || { echo "lock_frameworks: $in has no '# extras:' line" >&2; exit 1; }
  args=()
  for e in $extras; do args+=(--extra "$e"); done
  echo "== lock fw-$name (extras: $extras)"
  "$PY" -m uv pip compile --quiet pyproject.toml "$in" "${args[@]}" \
    --generate-hashes --python-version 3.11 --no-header --emit-build-options \
    -o "requirements/fw-$name.txt"
done
"$PY" scripts/check_locks.py
