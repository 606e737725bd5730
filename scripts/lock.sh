#!/usr/bin/env bash
# Re-resolve dependencies and rewrite the hashed exports in requirements/.
# uv.lock itself is not committed (it records download addresses); these exports are.
#
# dev.txt holds every extra except the agent-framework extras listed in pyproject's
# [tool.uv] conflicts (their pins collide with the dev tools); each of those is locked into its
# own environment by scripts/lock_frameworks.sh (requirements/fw-*.txt), run at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
uv lock --python python3.11 "$@"
mapfile -t DEV_EXTRAS < <(python3 scripts/check_locks.py --dev-extras)
uv export --quiet --frozen "${DEV_EXTRAS[@]/#/--extra=}" --all-groups --no-emit-project \
  --no-header --format requirements-txt -o requirements/dev.txt
uv export --quiet --frozen --no-default-groups --group test --no-emit-project --no-header \
  --format requirements-txt -o requirements/core.txt
bash scripts/lock_frameworks.sh
