"""One skip-or-fail policy for every optional dependency and service the suite uses.

Locally a test whose package or service is missing is skipped, so a contributor without
Redis or an extra can still run the rest. In CI (``CI`` set to ``1``/``true``/``yes`` in any
case) the same situation is a failure: a broken import or a missing server must never turn
a whole module green by skipping it.

Import it by name from any test module (pytest puts ``tests/`` on ``sys.path`` through the
root ``conftest.py``)::

    from _ci import need, unavailable

    langchain_core = need("langchain_core")          # module level: skip/fail the module
"""

from __future__ import annotations

import importlib
import os
from typing import Any, NoReturn

import pytest

__all__ = ["IN_CI", "in_ci", "need", "unavailable"]


def in_ci() -> bool:
    """True when the ``CI`` variable says so (``1``, ``true``, ``yes``; any case)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


IN_CI = in_ci()


def need(module: str, *, extra: str | None = None) -> Any:
    """Import ``module``, or skip the caller (fail it under CI) when it cannot be imported.

    Works at module level (skips the whole module) and inside a test or fixture.
    ``extra`` names the omnicache-ai extra that installs it, for the message.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        hint = f" (pip install 'omnicache-ai[{extra}]')" if extra else ""
        if in_ci():
            pytest.fail(f"{module} is required under CI: {err}{hint}", pytrace=False)
        pytest.skip(f"{module} not installed{hint}: {err}", allow_module_level=True)


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose service cannot run here; under CI that is a failure."""
    if in_ci():
        pytest.fail(f"service unavailable under CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)
