"""Exceptions raised by omnicache-ai.

Backend failures never reach a caller unless the manager runs in ``strict`` mode: they
become misses. The errors below are for the caller's own mistakes (a value that cannot be
serialized, a bad setting, a bad tenant id) and for strict mode.
"""

from __future__ import annotations

__all__ = [
    "CacheBackendError",
    "ConfigurationError",
    "IntegrityError",
    "OmnicacheError",
    "SerializationError",
]


class OmnicacheError(Exception):
    """Base class of every error raised by omnicache-ai."""


class SerializationError(OmnicacheError, TypeError):
    """A value could not be serialized or deserialized by the configured serializer."""


class IntegrityError(OmnicacheError, ValueError):
    """Stored bytes failed a check: bad signature, unknown format, truncated envelope."""


class ConfigurationError(OmnicacheError, ValueError):
    """A setting or argument has a value the library cannot use."""


class CacheBackendError(OmnicacheError):
    """A backend operation failed; raised only when the manager runs in strict mode.

    The original exception is chained as ``__cause__``.
    """
