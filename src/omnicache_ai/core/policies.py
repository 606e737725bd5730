"""TTL and eviction policies.

:class:`TTLPolicy` answers "how long does an entry of this layer live?": a per-call value
wins, then the layer's override, then the global default. ``0`` and ``None`` both mean
"never expires" in settings; the policy hands backends ``None`` for that.

:class:`EvictionPolicy` bounds an in-memory store by entries and by bytes and says which
entry leaves first when a bound is hit.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Final, Literal

from omnicache_ai.core.errors import ConfigurationError

__all__ = ["DEFAULT_LAYER_TTLS", "DEFAULT_TTL", "EvictionPolicy", "TTLPolicy"]

#: Layer names used by the built-in layers (any other string works too).
KNOWN_LAYERS = ("response", "embedding", "retrieval", "context", "semantic", "streaming")

#: Seconds an entry lives when nothing more specific is configured (the README's default).
DEFAULT_TTL: float = 3600
#: The README's per-layer defaults: vectors change least, LLM answers go stale first.
#: ``OmnicacheSettings`` starts from these, and so does a ``CacheManager()`` built without a
#: policy; they live here, at the bottom, so neither has to import the other.
DEFAULT_LAYER_TTLS: Mapping[str, float] = {
    "embedding": 86400,
    "retrieval": 3600,
    "context": 1800,
    "response": 600,
}


#: Longest TTL accepted, in seconds (100 years). Anything longer is a mistake, and past
#: about 9e15 s Redis refuses the expiry, so every write would fail.
MAX_TTL: Final = 100 * 365.25 * 86400


def _check_ttl(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{name} must be a number of seconds or None, got {value!r}")
    if not 0 <= value <= MAX_TTL:  # also False for NaN
        raise ConfigurationError(
            f"{name} must be between 0 and {MAX_TTL:.0f} seconds (100 years; 0 or None means "
            f"no expiry), got {value!r}"
        )
    return None if value == 0 else float(value)


@dataclass(frozen=True)
class TTLPolicy:
    """Global default TTL plus per-layer overrides, in seconds (0/None = no expiry).

    Example:
        >>> policy = TTLPolicy(default_ttl=3600, per_layer={"response": 600})
        >>> policy.ttl_for("response"), policy.ttl_for("embedding"), policy.ttl_for("x", 5)
        (600.0, 3600.0, 5.0)
    """

    default_ttl: float | None = 3600
    per_layer: Mapping[str, float | None] = field(default_factory=dict)
    #: omnicache-ai 0.3.0's name for ``per_layer`` (accepted, with a DeprecationWarning).
    per_type: InitVar[Mapping[str, float | None] | None] = None

    def __post_init__(self, per_type: Mapping[str, float | None] | None) -> None:
        if per_type is not None:
            warnings.warn(
                "TTLPolicy(per_type=...) is deprecated: write TTLPolicy(per_layer=...)",
                DeprecationWarning,
                stacklevel=3,
            )
            if not isinstance(per_type, Mapping):
                raise ConfigurationError(f"per_type must be a mapping, got {per_type!r}")
            object.__setattr__(self, "per_layer", {**per_type, **self.per_layer})
        _check_ttl("default_ttl", self.default_ttl)
        for layer, ttl in self.per_layer.items():
            _check_ttl(f"TTL for layer {layer!r}", ttl)

    def ttl_for(self, layer: str | None = None, override: float | None = None) -> float | None:
        """Seconds to live for an entry of ``layer``; ``None`` means no expiry."""
        if override is not None:
            return _check_ttl("ttl", override)
        if layer is not None and layer in self.per_layer:
            return _check_ttl(f"TTL for layer {layer!r}", self.per_layer[layer])
        return _check_ttl("default_ttl", self.default_ttl)


@dataclass(frozen=True)
class EvictionPolicy:
    """Bounds and victim order for the in-memory backends.

    Args:
        strategy: ``"lru"`` evicts the least recently *read or written* entry; ``"ttl"``
            never reorders on reads (cheaper) and evicts the oldest-written entry when a
            bound is hit, otherwise entries leave only when they expire.
        max_entries: Most entries held (``None`` = unbounded).
        max_bytes: Most bytes held, counting ``len()`` of bytes values and an estimate for
            other objects (``None`` = unbounded).

    Example:
        >>> EvictionPolicy("lru", max_entries=10_000, max_bytes=256 * 2**20).strategy
        'lru'
    """

    strategy: Literal["lru", "ttl"] = "lru"
    max_entries: int | None = None
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.strategy not in ("lru", "ttl"):
            raise ConfigurationError(
                f"eviction strategy must be 'lru' or 'ttl', got {self.strategy!r}"
            )
        for name in ("max_entries", "max_bytes"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v <= 0):
                raise ConfigurationError(f"{name} must be a positive integer or None, got {v!r}")
