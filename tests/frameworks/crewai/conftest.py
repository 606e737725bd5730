"""CrewAI test environment: the import-time warning CrewAI raises under ``-W error``.

``import crewai`` imports ``crewai.rag.embeddings`` while ``crewai.rag`` is still initialising,
which makes the import system emit an ``ImportWarning`` ("Cannot set an attribute on
'crewai.rag' for child module ..."). It is harmless and inside CrewAI; pyproject runs pytest with
``filterwarnings = error``, so only that message is let through here.
HOME/telemetry are handled by tests/frameworks/conftest.py, before this file runs.
"""

from __future__ import annotations

import warnings

import pytest

_CREWAI_IMPORT_WARNING = r"ignore:Cannot set an attribute on 'crewai\.:ImportWarning"


def pytest_configure(config: pytest.Config) -> None:
    """Let only CrewAI's own import-time ImportWarning through the error filter."""
    config.addinivalue_line("filterwarnings", _CREWAI_IMPORT_WARNING)


# Test modules import crewai at collection time; the ini filter is not yet active then.
warnings.filterwarnings("ignore", r"Cannot set an attribute on 'crewai\.", ImportWarning)
