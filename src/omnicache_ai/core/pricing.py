"""Model prices, so every cache hit can say how much money it saved.

Prices are US dollars per million tokens: input, output, cached input (provider prompt-cache
reads) and cache writes (Anthropic charges a premium to write its cache). The built-in table
holds public list prices and is only a starting point: override it per model with
:meth:`PricingTable.set`, from a JSON file, or from ``OMNICACHE_PRICING`` (a JSON object or
a path to one). A model that is not in the table is matched by its longest known prefix
(``gpt-4o-2024-08-06`` uses ``gpt-4o``); an unknown model costs 0, so savings are never
invented.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omnicache_ai.core.errors import ConfigurationError

__all__ = ["ModelPrice", "PricingTable", "default_pricing"]


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens."""

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None

    def cost(
        self,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float:
        """Dollars for a call with these token counts (cached tokens billed at their rate)."""
        cached_rate = self.input if self.cached_input is None else self.cached_input
        write_rate = self.input if self.cache_write is None else self.cache_write
        return (
            input_tokens * self.input
            + output_tokens * self.output
            + cached_input_tokens * cached_rate
            + cache_write_tokens * write_rate
        ) / 1_000_000


# Public list prices (USD / 1M tokens) at the time of writing; override for your contract.
_BUILTIN: dict[str, ModelPrice] = {
    "gpt-4o": ModelPrice(2.50, 10.00, 1.25),
    "gpt-4o-mini": ModelPrice(0.15, 0.60, 0.075),
    "gpt-4.1": ModelPrice(2.00, 8.00, 0.50),
    "gpt-4.1-mini": ModelPrice(0.40, 1.60, 0.10),
    "gpt-4.1-nano": ModelPrice(0.10, 0.40, 0.025),
    "o3": ModelPrice(2.00, 8.00, 0.50),
    "o4-mini": ModelPrice(1.10, 4.40, 0.275),
    # Embedding models bill input tokens only.
    "text-embedding-3-small": ModelPrice(0.02, 0.0),
    "text-embedding-3-large": ModelPrice(0.13, 0.0),
    "text-embedding-ada-002": ModelPrice(0.10, 0.0),
    "voyage-3": ModelPrice(0.06, 0.0),
    "voyage-3-lite": ModelPrice(0.02, 0.0),
    "voyage-3-large": ModelPrice(0.18, 0.0),
    "voyage-3.5": ModelPrice(0.06, 0.0),
    "voyage-3.5-lite": ModelPrice(0.02, 0.0),
    "embed-english-v3.0": ModelPrice(0.10, 0.0),
    "embed-multilingual-v3.0": ModelPrice(0.10, 0.0),
    "mistral-embed": ModelPrice(0.10, 0.0),
    "gemini-embedding-001": ModelPrice(0.15, 0.0),
    "claude-opus-4": ModelPrice(15.00, 75.00, 1.50, 18.75),
    "claude-sonnet-4": ModelPrice(3.00, 15.00, 0.30, 3.75),
    "claude-3-5-haiku": ModelPrice(0.80, 4.00, 0.08, 1.00),
    "claude-haiku-4": ModelPrice(1.00, 5.00, 0.10, 1.25),
    "gemini-2.0-flash": ModelPrice(0.10, 0.40, 0.025),
    "gemini-2.5-pro": ModelPrice(1.25, 10.00, 0.31),
}


class PricingTable:
    """Per-model prices with prefix matching and user overrides.

    Example:
        >>> table = PricingTable()
        >>> round(table.cost("gpt-4o-2024-08-06", input_tokens=1000, output_tokens=500), 6)
        0.0075
        >>> table.set("my-model", ModelPrice(1.0, 2.0)); table.cost("my-model", 10**6, 0)
        1.0
    """

    def __init__(self, prices: Mapping[str, ModelPrice] | None = None) -> None:
        self._lock = threading.Lock()
        self._prices: dict[str, ModelPrice] = dict(_BUILTIN if prices is None else prices)
        self._resolved: dict[str, ModelPrice | None] = {}

    def set(self, model: str, price: ModelPrice) -> None:
        """Add or replace one model's price."""
        with self._lock:
            self._prices[model] = price
            self._resolved.clear()

    def update(self, prices: Mapping[str, Mapping[str, float] | ModelPrice]) -> None:
        """Add or replace several prices; dict values use ModelPrice's field names."""
        for model, p in prices.items():
            if isinstance(p, ModelPrice):
                self.set(model, p)
                continue
            try:
                self.set(model, ModelPrice(**{k: float(v) for k, v in p.items()}))
            except (TypeError, ValueError) as err:
                raise ConfigurationError(f"bad price for model {model!r}: {p!r} ({err})") from err

    def load(self, source: str | Path) -> None:
        """Merge prices from a JSON file path or a JSON object string."""
        text = str(source)
        data: Any
        if text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            data = json.loads(Path(text).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ConfigurationError("pricing JSON must be an object of model -> prices")
        self.update(data)

    def price(self, model: str | None) -> ModelPrice | None:
        """The price of ``model``: exact name, else the longest matching prefix."""
        if not model:
            return None
        cached = self._resolved.get(model, False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        with self._lock:
            found = self._prices.get(model)
            if found is None:
                best = max((m for m in self._prices if model.startswith(m)), key=len, default=None)
                found = self._prices[best] if best else None
            self._resolved[model] = found
        return found

    def cost(
        self,
        model: str | None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float:
        """Dollars for a call to ``model``; 0 for an unknown model."""
        p = self.price(model)
        if p is None:
            return 0.0
        return p.cost(input_tokens, output_tokens, cached_input_tokens, cache_write_tokens)

    def models(self) -> dict[str, ModelPrice]:
        """A copy of the table."""
        with self._lock:
            return dict(self._prices)


def default_pricing() -> PricingTable:
    """The built-in table plus ``OMNICACHE_PRICING`` (JSON object or file path), if set."""
    table = PricingTable()
    extra = os.environ.get("OMNICACHE_PRICING")
    if extra:
        try:
            table.load(extra)
        except (OSError, ValueError) as err:
            # Name the variable: a bare JSONDecodeError from CacheManager() hides the cause.
            detail = " ".join(f"{type(err).__name__}: {err}".split())
            raise ConfigurationError(
                "OMNICACHE_PRICING must be a JSON object of model -> prices or the path of a "
                f"file holding one; {detail}"
            ) from err
    return table
