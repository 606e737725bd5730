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
    from omnicache_ai.adapters.agno_adapter import AgnoCacheAdapter, CachedAgnoModel
    from omnicache_ai.adapters.autogen_adapter import (
        AutoGenCacheAdapter,
        AutoGenCacheStore,
        CachedChatCompletionClient,
    )
    from omnicache_ai.adapters.crewai_adapter import CachedCrewLLM, CrewAICacheAdapter
    from omnicache_ai.adapters.langchain_adapter import LangChainCacheAdapter
    from omnicache_ai.adapters.langgraph_adapter import (
        LangGraphCacheAdapter,
        LangGraphNodeCache,
    )

__all__ = [
    "AgnoCacheAdapter",
    "AutoGenCacheAdapter",
    "AutoGenCacheStore",
    "CachedAgnoModel",
    "CachedChatCompletionClient",
    "CachedCrewLLM",
    "CrewAICacheAdapter",
    "LangChainCacheAdapter",
    "LangGraphCacheAdapter",
    "LangGraphNodeCache",
]

_LAZY: dict[str, str] = {
    "AgnoCacheAdapter": "omnicache_ai.adapters.agno_adapter",
    "CachedAgnoModel": "omnicache_ai.adapters.agno_adapter",
    "AutoGenCacheAdapter": "omnicache_ai.adapters.autogen_adapter",
    "AutoGenCacheStore": "omnicache_ai.adapters.autogen_adapter",
    "CachedChatCompletionClient": "omnicache_ai.adapters.autogen_adapter",
    "CachedCrewLLM": "omnicache_ai.adapters.crewai_adapter",
    "CrewAICacheAdapter": "omnicache_ai.adapters.crewai_adapter",
    "LangChainCacheAdapter": "omnicache_ai.adapters.langchain_adapter",
    "LangGraphCacheAdapter": "omnicache_ai.adapters.langgraph_adapter",
    "LangGraphNodeCache": "omnicache_ai.adapters.langgraph_adapter",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
