"""Every vector backend against the shipped conformance suite (see ``conftest.BACKENDS``)."""

from __future__ import annotations

from omnicache_ai.backends.vector.conformance import VectorBackendConformance


class TestVectorBackendConformance(VectorBackendConformance):
    """The suite, with ``make_backend`` parametrized over all backends in conftest."""
