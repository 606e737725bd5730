"""Framework adapters: one module per host framework, each imported only when used.

``import omnicache_ai.adapters`` needs no framework; the adapter classes are resolved on
first attribute access, so a missing extra fails with an install hint only for the
adapter you actually use. ``cache_info(obj)`` (no SDK needed) tells whether an object an
SDK adapter returned came from the cache.

Example:
    >>> from omnicache_ai.adapters import LangChainCacheAdapter  # needs [langchain]
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from omnicache_ai.adapters._sdk import CacheInfo, cache_info
    from omnicache_ai.adapters.a2a_adapter import A2ACacheAdapter, CachingAgentExecutor
    from omnicache_ai.adapters.ag2_adapter import AG2CacheAdapter, CachedModelConfig
    from omnicache_ai.adapters.ag2_classic_adapter import AG2ClassicCache, AG2ClassicCacheAdapter
    from omnicache_ai.adapters.agno_adapter import AgnoCacheAdapter, CachedAgnoModel
    from omnicache_ai.adapters.anthropic_adapter import (
        AnthropicCacheAdapter,
        AsyncCachedAnthropic,
        CachedAnthropic,
    )
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
    from omnicache_ai.adapters.langchain_adapter import (
        LangChainByteStore,
        LangChainCacheAdapter,
        LangChainSemanticCache,
    )
    from omnicache_ai.adapters.langgraph_adapter import LangGraphCacheAdapter, LangGraphNodeCache
    from omnicache_ai.adapters.llamaindex_adapter import (
        LlamaIndexEmbeddingCacheAdapter,
        LlamaIndexKVStore,
        LlamaIndexLLMCacheAdapter,
        LlamaIndexQueryCacheAdapter,
    )
    from omnicache_ai.adapters.openai_adapter import (
        AsyncCachedOpenAI,
        CachedOpenAI,
        OpenAICacheAdapter,
    )
    from omnicache_ai.adapters.openai_agents_adapter import (
        CachedModel,
        CachingModelProvider,
        OpenAIAgentsCacheAdapter,
    )

__all__ = [
    "A2ACacheAdapter",
    "AG2CacheAdapter",
    "AG2ClassicCache",
    "AG2ClassicCacheAdapter",
    "AgnoCacheAdapter",
    "AnthropicCacheAdapter",
    "AsyncCachedAnthropic",
    "AsyncCachedOpenAI",
    "AutoGenCacheAdapter",
    "AutoGenCacheStore",
    "CacheInfo",
    "CachedAgnoModel",
    "CachedAnthropic",
    "CachedChatCompletionClient",
    "CachedCrewLLM",
    "CachedLlm",
    "CachedModel",
    "CachedModelConfig",
    "CachedOpenAI",
    "CachingAgentExecutor",
    "CachingModelProvider",
    "ClaudeAgentCacheAdapter",
    "CrewAICacheAdapter",
    "GoogleADKCacheAdapter",
    "GoogleADKCachePlugin",
    "LangChainByteStore",
    "LangChainCacheAdapter",
    "LangChainSemanticCache",
    "LangGraphCacheAdapter",
    "LangGraphNodeCache",
    "LlamaIndexEmbeddingCacheAdapter",
    "LlamaIndexKVStore",
    "LlamaIndexLLMCacheAdapter",
    "LlamaIndexQueryCacheAdapter",
    "OpenAIAgentsCacheAdapter",
    "OpenAICacheAdapter",
    "cache_info",
]

_LAZY: dict[str, str] = {
    "A2ACacheAdapter": "omnicache_ai.adapters.a2a_adapter",
    "AG2CacheAdapter": "omnicache_ai.adapters.ag2_adapter",
    "AG2ClassicCache": "omnicache_ai.adapters.ag2_classic_adapter",
    "AG2ClassicCacheAdapter": "omnicache_ai.adapters.ag2_classic_adapter",
    "AgnoCacheAdapter": "omnicache_ai.adapters.agno_adapter",
    "AnthropicCacheAdapter": "omnicache_ai.adapters.anthropic_adapter",
    "AsyncCachedAnthropic": "omnicache_ai.adapters.anthropic_adapter",
    "AsyncCachedOpenAI": "omnicache_ai.adapters.openai_adapter",
    "AutoGenCacheAdapter": "omnicache_ai.adapters.autogen_adapter",
    "AutoGenCacheStore": "omnicache_ai.adapters.autogen_adapter",
    "CacheInfo": "omnicache_ai.adapters._sdk",
    "CachedAgnoModel": "omnicache_ai.adapters.agno_adapter",
    "CachedAnthropic": "omnicache_ai.adapters.anthropic_adapter",
    "CachedChatCompletionClient": "omnicache_ai.adapters.autogen_adapter",
    "CachedCrewLLM": "omnicache_ai.adapters.crewai_adapter",
    "CachedLlm": "omnicache_ai.adapters.google_adk_adapter",
    "CachedModel": "omnicache_ai.adapters.openai_agents_adapter",
    "CachedModelConfig": "omnicache_ai.adapters.ag2_adapter",
    "CachedOpenAI": "omnicache_ai.adapters.openai_adapter",
    "CachingAgentExecutor": "omnicache_ai.adapters.a2a_adapter",
    "CachingModelProvider": "omnicache_ai.adapters.openai_agents_adapter",
    "ClaudeAgentCacheAdapter": "omnicache_ai.adapters.claude_agent_adapter",
    "CrewAICacheAdapter": "omnicache_ai.adapters.crewai_adapter",
    "GoogleADKCacheAdapter": "omnicache_ai.adapters.google_adk_adapter",
    "GoogleADKCachePlugin": "omnicache_ai.adapters.google_adk_adapter",
    "LangChainByteStore": "omnicache_ai.adapters.langchain_adapter",
    "LangChainCacheAdapter": "omnicache_ai.adapters.langchain_adapter",
    "LangChainSemanticCache": "omnicache_ai.adapters.langchain_adapter",
    "LangGraphCacheAdapter": "omnicache_ai.adapters.langgraph_adapter",
    "LangGraphNodeCache": "omnicache_ai.adapters.langgraph_adapter",
    "LlamaIndexEmbeddingCacheAdapter": "omnicache_ai.adapters.llamaindex_adapter",
    "LlamaIndexKVStore": "omnicache_ai.adapters.llamaindex_adapter",
    "LlamaIndexLLMCacheAdapter": "omnicache_ai.adapters.llamaindex_adapter",
    "LlamaIndexQueryCacheAdapter": "omnicache_ai.adapters.llamaindex_adapter",
    "OpenAIAgentsCacheAdapter": "omnicache_ai.adapters.openai_agents_adapter",
    "OpenAICacheAdapter": "omnicache_ai.adapters.openai_adapter",
    "cache_info": "omnicache_ai.adapters._sdk",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        # The README's AutoGen 0.2.x form (ConversableAgent.generate_reply) is AG2 classic:
        # with only [ag2-classic] installed, AutoGenCacheAdapter is its adapter.
        if name == "AutoGenCacheAdapter" and importlib.util.find_spec("autogen") is not None:
            classic = importlib.import_module("omnicache_ai.adapters.ag2_classic_adapter")
            return classic.AG2ClassicCacheAdapter
        raise


def __dir__() -> list[str]:
    return sorted(__all__)
