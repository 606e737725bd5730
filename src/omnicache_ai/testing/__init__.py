"""Testing aids shipped with omnicache-ai.

* :class:`BackendConformance`: the conformance suite; subclass it to prove a backend.
* :func:`capture_cache_events`: assert hits and misses in your own pipeline tests.
* :class:`RecordingBackend`, :class:`FlakyBackend`, :class:`~omnicache_ai.NullBackend`: fakes.

``BackendConformance`` needs pytest; the other helpers do not.
"""

from __future__ import annotations

from typing import Any

from omnicache_ai.testing.fakes import (
    CapturedEvents,
    FlakyBackend,
    RecordingBackend,
    capture_cache_events,
)

__all__ = [
    "BackendConformance",
    "CapturedEvents",
    "FlakyBackend",
    "RecordingBackend",
    "capture_cache_events",
]


def __getattr__(name: str) -> Any:
    if name == "BackendConformance":
        from omnicache_ai.testing.conformance import BackendConformance

        return BackendConformance
    raise AttributeError(name)
