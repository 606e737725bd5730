"""Framework adapters: one module per host framework, each imported only when used.

``import omnicache_ai.adapters`` needs no framework; the adapter classes are resolved on
first attribute access, so a missing extra fails with an install hint only for the
adapter you actually use.

Example:
    >>> from omnicache_ai.adapters import LangChainCacheAdapter  # needs [langchain]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from omnicache_ai.adapters._sdk import CacheInfo, cache_info
    from omnicache_ai.adapters.anthropic_adapter import AnthropicCacheAdapter
    from omnicache_ai.adapters.langchain_adapter import LangChainCacheAdapter
    from omnicache_ai.adapters.langgraph_adapter import (
        LangGraphCacheAdapter,
        LangGraphNodeCache,
    )
    from omnicache_ai.adapters.openai_adapter import OpenAICacheAdapter

__all__ = [
    "AnthropicCacheAdapter",
    "CacheInfo",
    "LangChainCacheAdapter",
    "LangGraphCacheAdapter",
    "LangGraphNodeCache",
    "OpenAICacheAdapter",
    "cache_info",
]

_LAZY: dict[str, str] = {
    "AnthropicCacheAdapter": "omnicache_ai.adapters.anthropic_adapter",
    # Needs no SDK: tells whether an object an SDK adapter returned was a cache hit.
    "CacheInfo": "omnicache_ai.adapters._sdk",
    "cache_info": "omnicache_ai.adapters._sdk",
    "LangChainCacheAdapter": "omnicache_ai.adapters.langchain_adapter",
    "LangGraphCacheAdapter": "omnicache_ai.adapters.langgraph_adapter",
    "LangGraphNodeCache": "omnicache_ai.adapters.langgraph_adapter",
    "OpenAICacheAdapter": "omnicache_ai.adapters.openai_adapter",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
