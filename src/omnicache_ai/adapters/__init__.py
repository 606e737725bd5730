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
    from omnicache_ai.adapters.langchain_adapter import LangChainCacheAdapter
    from omnicache_ai.adapters.langgraph_adapter import (
        LangGraphCacheAdapter,
        LangGraphNodeCache,
    )
    from omnicache_ai.adapters.llamaindex_adapter import (
        LlamaIndexEmbeddingCacheAdapter,
        LlamaIndexKVStore,
        LlamaIndexLLMCacheAdapter,
        LlamaIndexQueryCacheAdapter,
    )

__all__ = [
    "LangChainCacheAdapter",
    "LangGraphCacheAdapter",
    "LangGraphNodeCache",
    "LlamaIndexEmbeddingCacheAdapter",
    "LlamaIndexKVStore",
    "LlamaIndexLLMCacheAdapter",
    "LlamaIndexQueryCacheAdapter",
]

_LAZY: dict[str, str] = {
    "LangChainCacheAdapter": "omnicache_ai.adapters.langchain_adapter",
    "LangGraphCacheAdapter": "omnicache_ai.adapters.langgraph_adapter",
    "LangGraphNodeCache": "omnicache_ai.adapters.langgraph_adapter",
    "LlamaIndexEmbeddingCacheAdapter": "omnicache_ai.adapters.llamaindex_adapter",
    "LlamaIndexKVStore": "omnicache_ai.adapters.llamaindex_adapter",
    "LlamaIndexLLMCacheAdapter": "omnicache_ai.adapters.llamaindex_adapter",
    "LlamaIndexQueryCacheAdapter": "omnicache_ai.adapters.llamaindex_adapter",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
