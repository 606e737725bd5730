"""Side effects contained for every agent-framework test environment (tests/frameworks/<name>).

Runs at import, before any test module imports its framework: some frameworks read these
variables once, at import time (CrewAI writes under ``HOME`` and starts telemetry on import).

* ``HOME`` and the XDG folders point at a throw-away folder, removed at exit.
* Every framework's telemetry/tracing switch is off (OpenTelemetry SDK included).
* No real API key leaks in from the developer's shell; tests that build an SDK client pass a
  dummy key and a mock transport themselves.

The root tests/conftest.py network guard (loopback only) applies here too. See
requirements/FRAMEWORKS.md for how these environments are built and run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="omnicache-fw-home-"))
atexit.register(shutil.rmtree, _HOME, True)

os.environ["HOME"] = str(_HOME)
for _var, _sub in (
    ("XDG_CONFIG_HOME", ".config"),
    ("XDG_DATA_HOME", ".local/share"),
    ("XDG_CACHE_HOME", ".cache"),
    ("XDG_STATE_HOME", ".local/state"),
):
    os.environ[_var] = str(_HOME / _sub)

# Telemetry and tracing off, for every framework we test (add yours here).
os.environ.update(
    {
        "OTEL_SDK_DISABLED": "true",
        "DO_NOT_TRACK": "1",
        "CREWAI_DISABLE_TELEMETRY": "true",
        "CREWAI_DISABLE_TRACKING": "true",
        "CREWAI_TRACING_ENABLED": "false",
        "AGNO_TELEMETRY": "false",
        "AUTOGEN_DISABLE_RUNTIME_TRACING": "true",
        "OPENAI_AGENTS_DISABLE_TRACING": "1",
        "OTEL_INSTRUMENTATION_A2A_SDK_ENABLED": "false",
        "CLAUDE_CODE_ENABLE_TELEMETRY": "0",
        "ANONYMIZED_TELEMETRY": "false",
    }
)
# Google's agent-engine telemetry is opt-in: make sure it stays off.
os.environ.pop("GOOGLE_CLOUD_AGENT_ENGINE_ENABLE_TELEMETRY", None)
for _key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY"):
    os.environ.pop(_key, None)
