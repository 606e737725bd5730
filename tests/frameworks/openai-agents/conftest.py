"""OpenAI Agents SDK env: tracing off before the SDK is imported (it exports at exit)."""

from __future__ import annotations

import os

os.environ["OPENAI_AGENTS_DISABLE_TRACING"] = "1"
os.environ.pop("OPENAI_API_KEY", None)
