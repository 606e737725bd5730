"""Skip-or-fail helpers for the vector tests (tests/embedders keeps a twin), imported by name."""

from __future__ import annotations

import importlib
import os
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def need(module: str) -> Any:
    """Import ``module``, or skip (fail under ``CI=true``) when it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        if IN_CI:
            pytest.fail(f"{module} is required under CI=true: {err}")
        pytest.skip(f"{module} not installed", allow_module_level=True)


def unavailable(reason: str) -> None:
    """Skip a test whose service cannot run here; under ``CI=true`` that is a failure."""
    if IN_CI:
        pytest.fail(f"service unavailable under CI=true: {reason}")
    pytest.skip(reason)
