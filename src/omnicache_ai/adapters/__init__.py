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
    from omnicache_ai.adapters.a2a_adapter import A2ACacheAdapter, CachingAgentExecutor
    from omnicache_ai.adapters.agno_adapter import AgnoCacheAdapter, CachedAgnoModel
    from omnicache_ai.adapters.autogen_adapter import (
        AutoGenCacheAdapter,
        AutoGenCacheStore,
        CachedChatCompletionClient,
    )
    from omnicache_ai.adapters.claude_agent_adapter import ClaudeAgentCacheAdapter
    from omnicache_ai.adapters.crewai_adapter import CachedCrewLLM, CrewAICacheAdapter
    from omnicache_ai.adapters.google_adk_adapter import (
        CachedLlm,
        GoogleADKCacheAdapter,
        GoogleADKCachePlugin,
    )
    from omnicache_ai.adapters.langchain_adapter import LangChainCacheAdapter
    from omnicache_ai.adapters.langgraph_adapter import (
        LangGraphCacheAdapter,
        LangGraphNodeCache,
    )
    from omnicache_ai.adapters.openai_agents_adapter import (
        CachedModel,
        CachingModelProvider,
        OpenAIAgentsCacheAdapter,
    )

__all__ = [
    "A2ACacheAdapter",
    "AgnoCacheAdapter",
    "AutoGenCacheAdapter",
    "AutoGenCacheStore",
    "CachedAgnoModel",
    "CachedChatCompletionClient",
    "CachedCrewLLM",
    "CachedLlm",
    "CachedModel",
    "CachingAgentExecutor",
    "CachingModelProvider",
    "ClaudeAgentCacheAdapter",
    "CrewAICacheAdapter",
    "GoogleADKCacheAdapter",
    "GoogleADKCachePlugin",
    "LangChainCacheAdapter",
    "LangGraphCacheAdapter",
    "LangGraphNodeCache",
    "OpenAIAgentsCacheAdapter",
]

_LAZY: dict[str, str] = {
    "A2ACacheAdapter": "omnicache_ai.adapters.a2a_adapter",
    "CachingAgentExecutor": "omnicache_ai.adapters.a2a_adapter",
    "ClaudeAgentCacheAdapter": "omnicache_ai.adapters.claude_agent_adapter",
    "CachedLlm": "omnicache_ai.adapters.google_adk_adapter",
    "GoogleADKCacheAdapter": "omnicache_ai.adapters.google_adk_adapter",
    "GoogleADKCachePlugin": "omnicache_ai.adapters.google_adk_adapter",
    "CachedModel": "omnicache_ai.adapters.openai_agents_adapter",
    "CachingModelProvider": "omnicache_ai.adapters.openai_agents_adapter",
    "OpenAIAgentsCacheAdapter": "omnicache_ai.adapters.openai_agents_adapter",
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
