"""CrewAI test environment: the import-time warning CrewAI raises under ``-W error``.

``import crewai`` imports ``crewai.rag.embeddings`` while ``crewai.rag`` is still initialising,
which makes the import system emit an ``ImportWarning`` ("Cannot set an attribute on
'crewai.rag' for child module ..."). It is harmless and inside CrewAI; pyproject runs pytest with
``filterwarnings = error``, so only that message is let through here (and the deprecation
warnings CrewAI's own modules raise on its own deprecated fields).
HOME/telemetry are handled by tests/frameworks/conftest.py, before this file runs.
"""

from __future__ import annotations

import warnings

import pytest

_CREWAI_IMPORT_WARNING = r"ignore:Cannot set an attribute on 'crewai\.:ImportWarning"
# CrewAI's own code reads its deprecated Agent fields (function_calling_llm,
# allow_code_execution, ...) in Agent's post-init (crewai 1.15), so every Agent(...) warns even
# when the fields are unused. Only warnings attributed to crewai's modules are let through; a
# deprecated access from our adapter still fails the test.
_CREWAI_OWN_DEPRECATION = r"ignore::DeprecationWarning:crewai\..*"


def pytest_configure(config: pytest.Config) -> None:
    """Let only CrewAI's own internal warnings through the error filter."""
    config.addinivalue_line("filterwarnings", _CREWAI_IMPORT_WARNING)
    config.addinivalue_line("filterwarnings", _CREWAI_OWN_DEPRECATION)


# Test modules import crewai at collection time; the ini filter is not yet active then.
warnings.filterwarnings("ignore", r"Cannot set an attribute on 'crewai\.", ImportWarning)
