"""Configuration from ``OMNICACHE_*`` environment variables."""

from omnicache_ai.config.settings import OmnicacheSettings

__all__ = ["OmnicacheSettings"]
