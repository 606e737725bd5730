#!/usr/bin/env bash
# Re-resolve dependencies and rewrite the hashed exports in requirements/.
# uv.lock itself is not committed (it records download addresses); these exports are.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
uv lock --python python3.11 "$@"
uv export --quiet --frozen --all-extras --all-groups --no-emit-project --no-header \
  --format requirements-txt -o requirements/dev.txt
uv export --quiet --frozen --no-default-groups --group test --no-emit-project --no-header \
  --format requirements-txt -o requirements/core.txt
python3 scripts/check_locks.py
