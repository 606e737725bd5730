"""OpenAI Agents SDK adapter: whole runs replayed, and every model call cached inside a run.

Two hooks, used together or apart:

* :class:`CachedModel` wraps any ``agents.models.interface.Model`` (the SDK's own model-call
  boundary): ``get_response`` goes through :class:`~omnicache_ai.layers.ResponseCache`,
  ``stream_response`` through :class:`~omnicache_ai.layers.StreamingResponseCache`, so a
  multi-step agent with tools has each model call answered from cache when the same request
  (instructions, input items, tools, handoffs, output schema, model settings) comes again.
  :class:`CachingModelProvider` does the same for every model a ``ModelProvider`` hands out
  (``RunConfig(model_provider=...)``).
* :class:`OpenAIAgentsCacheAdapter` replays a whole ``Runner.run`` for an identical input and
  agent (the README form ``adapter.run(agent, input)``), returning the SDK's ``RunResult``
  without calling the model or running a tool.

Model responses and stream events are stored in their JSON wire form (by alias) and rebuilt
with the SDK's own types, so nothing is pickled.

Example:
    >>> from omnicache_ai import CacheManager
    >>> from omnicache_ai.adapters.openai_agents_adapter import OpenAIAgentsCacheAdapter
    >>> adapter = OpenAIAgentsCacheAdapter(CacheManager())
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

from omnicache_ai.adapters._loops import run_apart
from omnicache_ai.adapters._plain import plain
from omnicache_ai.adapters._runs import RunCodec, RunReplay
from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.layers.response_cache import ResponseCache
from omnicache_ai.layers.streaming_cache import StreamingResponseCache

try:
    from agents import Agent, Runner
    from agents.agent_output import AgentOutputSchema, AgentOutputSchemaBase
    from agents.handoffs import Handoff
    from agents.items import (
        MessageOutputItem,
        ModelResponse,
        ReasoningItem,
        RunItem,
        ToolCallItem,
        ToolCallOutputItem,
        TResponseInputItem,
        TResponseOutputItem,
        TResponseStreamEvent,
    )
    from agents.model_settings import ModelSettings
    from agents.models.interface import Model, ModelProvider, ModelTracing
    from agents.result import RunResult
    from agents.run_context import RunContextWrapper
    from agents.tool import FunctionTool, Tool
    from agents.usage import Usage
    from openai.types.responses import ResponseOutputMessage
    from openai.types.responses.response_prompt_param import ResponsePromptParam
    from openai.types.responses.response_reasoning_item import ResponseReasoningItem
    from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails
    from pydantic import TypeAdapter
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.openai_agents_adapter needs the OpenAI Agents SDK; "
        "install it with: pip install 'omnicache-ai[openai-agents]'"
    ) from err

__all__ = ["CachedModel", "CachingModelProvider", "OpenAIAgentsCacheAdapter"]

# Settings that never change what the model answers: retries, usage bookkeeping, timeouts.
_SETTINGS_IGNORED: Final = frozenset({"retry", "preserve_raw_usage", "timeout", "include_usage"})

# Runner options that tie a run to server-side or session state the key cannot see: such
# runs pass through uncached.
_STATEFUL_OPTIONS: Final = (
    "session",
    "previous_response_id",
    "conversation_id",
    "auto_previous_response_id",
)

_OUTPUT_ITEM: TypeAdapter[Any] = TypeAdapter(TResponseOutputItem)
_STREAM_EVENT: TypeAdapter[Any] = TypeAdapter(TResponseStreamEvent)


# ---- keys: what an SDK request is made of --------------------------------------------------
def _tool_spec(tool: Tool) -> Any:
    if isinstance(tool, FunctionTool):
        return {
            "type": "function",
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.params_json_schema,
            "strict": tool.strict_json_schema,
        }
    spec = plain(tool)
    return {"tool_class": type(tool).__qualname__, "spec": spec}


def _handoff_spec(handoff: Handoff[Any, Any]) -> dict[str, Any]:
    return {
        "tool_name": handoff.tool_name,
        "description": handoff.tool_description,
        "parameters": handoff.input_json_schema,
        "agent": handoff.agent_name,
    }


def _schema_spec(schema: AgentOutputSchemaBase | None) -> Any:
    if schema is None or schema.is_plain_text():
        return None
    return {"schema": schema.json_schema(), "strict": schema.is_strict_json_schema()}


def _settings_spec(settings: ModelSettings | None) -> dict[str, Any]:
    if settings is None:
        return {}
    raw = plain(settings.to_json_dict())
    return {k: v for k, v in raw.items() if v is not None and k not in _SETTINGS_IGNORED}


def model_name(model: Any) -> str:
    """The id a model is keyed by: a name string, a :class:`CachedModel`'s id, or its class.

    Example:
        >>> model_name("gpt-4o")
        'gpt-4o'
    """
    if isinstance(model, str) and model:
        return model
    if model is None:
        return "default"
    for attr in ("model_id", "model"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__qualname__


def _call_request(  # noqa: PLR0917  # mirrors Model.get_response's positional signature
    system_instructions: str | None,
    input: str | list[TResponseInputItem],
    model_settings: ModelSettings,
    tools: list[Tool],
    output_schema: AgentOutputSchemaBase | None,
    handoffs: list[Handoff[Any, Any]],
    previous_response_id: str | None,
    conversation_id: str | None,
    prompt: ResponsePromptParam | None,
) -> tuple[Any, dict[str, Any]]:
    """``(messages, params)`` of one model call, in the layers' request form."""
    params = _settings_spec(model_settings)
    params.update(
        instructions=system_instructions,
        tools=[_tool_spec(t) for t in tools],
        output_schema=_schema_spec(output_schema),
        handoffs=[_handoff_spec(h) for h in handoffs],
        prompt=plain(prompt),
        # Server-side conversation state changes the answer, so it is part of the request.
        previous_response_id=previous_response_id,
        conversation_id=conversation_id,
    )
    messages = input if isinstance(input, str) else plain(input)
    return messages, params


# ---- stored forms of the SDK's results -----------------------------------------------------
def _dump_usage(usage: Usage) -> dict[str, Any]:
    return {
        "requests": usage.requests,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "input_tokens_details": plain(usage.input_tokens_details),
        "output_tokens_details": plain(usage.output_tokens_details),
    }


def _load_usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    return Usage(
        requests=int(raw.get("requests", 0)),
        input_tokens=int(raw.get("input_tokens", 0)),
        output_tokens=int(raw.get("output_tokens", 0)),
        total_tokens=int(raw.get("total_tokens", 0)),
        input_tokens_details=InputTokensDetails.model_validate(
            raw.get("input_tokens_details") or {"cached_tokens": 0}
        ),
        output_tokens_details=OutputTokensDetails.model_validate(
            raw.get("output_tokens_details") or {"reasoning_tokens": 0}
        ),
    )


def dump_response(response: ModelResponse) -> dict[str, Any]:
    """The stored (JSON-shaped) form of a ``ModelResponse``."""
    return {
        "output": [plain(item) for item in response.output],
        "usage": _dump_usage(response.usage),
        "response_id": response.response_id,
        "request_id": response.request_id,
    }


def load_response(record: Any) -> ModelResponse:
    """Rebuild a ``ModelResponse`` from :func:`dump_response`'s form."""
    return ModelResponse(
        output=[_OUTPUT_ITEM.validate_python(item) for item in record["output"]],
        usage=_load_usage(record.get("usage")),
        response_id=record.get("response_id"),
        request_id=record.get("request_id"),
    )


async def _dumped_events(events: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for event in events:
        yield plain(event)


# ---- the model-call hook -------------------------------------------------------------------
class CachedModel(Model):
    """Any Agents SDK ``Model`` with its calls cached (streamed or not).

    Args:
        model: The model to call on a miss (``OpenAIResponsesModel``, a LiteLLM model, ...).
        manager: Where entries live.
        model_id: The id calls are keyed by (default: ``model.model`` when it is a string,
            else the class name); give distinct ids to distinct models of one class.
        ttl: Seconds to live for each entry (default: the manager's per-layer TTL).

    Example:
        >>> from agents import Agent
        >>> from agents.testing import ScriptedModel, assistant_message
        >>> from omnicache_ai import CacheManager
        >>> model = CachedModel(ScriptedModel([[assistant_message("4")]]), CacheManager(),
        ...                     model_id="fake")
        >>> agent = Agent(name="calc", instructions="Be brief", model=model)
    """

    def __init__(
        self,
        model: Model,
        manager: CacheManager,
        *,
        model_id: str | None = None,
        ttl: float | None = None,
    ) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"model must be an agents Model, got {type(model).__name__}")
        self.inner = model
        self.model_id = model_id or model_name(model)
        self.responses = ResponseCache(manager, ttl=ttl)
        self.streams = StreamingResponseCache(manager, ttl=ttl)

    async def get_response(  # noqa: PLR0917  # the SDK's Model signature
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff[Any, Any]],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> ModelResponse:
        """The cached response to this call, or the wrapped model's (then cached)."""
        messages, params = _call_request(
            system_instructions,
            input,
            model_settings,
            tools,
            output_schema,
            handoffs,
            previous_response_id,
            conversation_id,
            prompt,
        )

        async def call(_: Any) -> dict[str, Any]:
            response = await self.inner.get_response(
                system_instructions,
                input,
                model_settings,
                tools,
                output_schema,
                handoffs,
                tracing,
                previous_response_id=previous_response_id,
                conversation_id=conversation_id,
                prompt=prompt,
            )
            return dump_response(response)

        record = await self.responses.aget_or_generate(
            messages, call, model_id=self.model_id, params=params
        )
        return load_response(record)

    async def stream_response(  # noqa: PLR0917  # the SDK's Model signature
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff[Any, Any]],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        """Replay the cached event stream of this call, or stream it live and cache it."""
        messages, params = _call_request(
            system_instructions,
            input,
            model_settings,
            tools,
            output_schema,
            handoffs,
            previous_response_id,
            conversation_id,
            prompt,
        )

        def open_stream(_: Any) -> AsyncIterator[Any]:
            return _dumped_events(
                self.inner.stream_response(
                    system_instructions,
                    input,
                    model_settings,
                    tools,
                    output_schema,
                    handoffs,
                    tracing,
                    previous_response_id=previous_response_id,
                    conversation_id=conversation_id,
                    prompt=prompt,
                )
            )

        async for event in self.streams.aget_or_stream(
            messages, open_stream, model_id=self.model_id, params=params
        ):
            yield _STREAM_EVENT.validate_python(event)

    async def close(self) -> None:
        """Close the wrapped model."""
        await self.inner.close()


class CachingModelProvider(ModelProvider):
    """A ``ModelProvider`` whose models are :class:`CachedModel` s.

    Args:
        provider: The provider that resolves model names (e.g.
            ``agents.models.openai_provider.OpenAIProvider()``).
        manager: Where entries live.
        ttl: Seconds to live for each entry.

    Example:
        >>> from agents import RunConfig
        >>> from agents.models.openai_provider import OpenAIProvider
        >>> from omnicache_ai import CacheManager
        >>> config = RunConfig(model_provider=CachingModelProvider(OpenAIProvider(),
        ...                                                        CacheManager()))
    """

    def __init__(
        self, provider: ModelProvider, manager: CacheManager, *, ttl: float | None = None
    ) -> None:
        self.provider = provider
        self.manager = manager
        self.ttl = ttl

    def get_model(self, model_name: str | None) -> Model:
        """The provider's model for ``model_name``, cached under that name."""
        model = self.provider.get_model(model_name)
        if isinstance(model, CachedModel):
            return model
        return CachedModel(model, self.manager, model_id=model_name or None, ttl=self.ttl)

    async def aclose(self) -> None:
        """Close the wrapped provider."""
        await self.provider.aclose()


# ---- the run-level wrapper -----------------------------------------------------------------
def _output_spec(output_type: Any) -> Any:
    if output_type is None or output_type is str:
        return None
    if isinstance(output_type, AgentOutputSchemaBase):
        return _schema_spec(output_type)
    return _schema_spec(AgentOutputSchema(output_type))


async def _agent_spec(
    agent: Agent[Any], ctx: RunContextWrapper[Any], seen: set[int]
) -> dict[str, Any]:
    """Everything about an agent that changes what a run does (handoff targets included)."""
    seen.add(id(agent))
    handoffs: list[Any] = []
    for target in agent.handoffs:
        if isinstance(target, Handoff):
            handoffs.append(_handoff_spec(target))
        elif id(target) in seen:
            handoffs.append({"agent": target.name})
        else:
            handoffs.append(await _agent_spec(target, ctx, seen))
    return {
        "name": agent.name,
        "instructions": await agent.get_system_prompt(ctx),
        "prompt": plain(agent.prompt),
        "model": model_name(agent.model),
        "model_settings": _settings_spec(agent.model_settings),
        "tools": [_tool_spec(t) for t in agent.tools],
        "mcp_servers": [getattr(s, "name", type(s).__qualname__) for s in agent.mcp_servers],
        "handoffs": handoffs,
        "output": _output_spec(agent.output_type),
        "tool_use_behavior": plain(agent.tool_use_behavior),
        "guardrails": [
            [g.get_name() for g in agent.input_guardrails],
            [g.get_name() for g in agent.output_guardrails],
        ],
    }


def _dump_item(item: RunItem) -> list[Any] | None:
    """``[kind, raw item, tool output]`` of a replayable run item, or ``None``."""
    if isinstance(item, ToolCallOutputItem):
        return ["tool_output", plain(item.raw_item), plain(item.output)]
    if isinstance(item, MessageOutputItem | ToolCallItem | ReasoningItem):
        return [item.type, plain(item.raw_item), None]
    return None  # handoffs, approvals, MCP listings: tied to live objects, not replayed


@dataclass(frozen=True)
class _StoredRun:
    """A stored run, parsed back into SDK types; only the agent is attached when served."""

    final_output: Any
    items: list[tuple[str, Any, Any]]
    responses: list[ModelResponse]

    def result(self, agent: Agent[Any], input: Any, context: Any) -> RunResult:
        items = [_attach(agent, kind, raw, output) for kind, raw, output in self.items]
        return RunResult(
            input=input,
            new_items=items,
            raw_responses=list(self.responses),
            final_output=self.final_output,
            input_guardrail_results=[],
            output_guardrail_results=[],
            tool_input_guardrail_results=[],
            tool_output_guardrail_results=[],
            context_wrapper=RunContextWrapper(context=context),
            _last_agent=agent,
        )


def _load_item(kind: str, raw: Any, output: Any) -> tuple[str, Any, Any]:
    if kind == "tool_output":
        return kind, raw, output
    if kind == "message_output_item":
        return kind, ResponseOutputMessage.model_validate(raw), None
    if kind == "reasoning_item":
        return kind, ResponseReasoningItem.model_validate(raw), None
    if kind == "tool_call_item":
        return kind, _OUTPUT_ITEM.validate_python(raw), None
    raise ValueError(f"unknown stored run item kind {kind!r}")


def _attach(agent: Agent[Any], kind: str, raw: Any, output: Any) -> RunItem:
    if kind == "tool_output":
        return ToolCallOutputItem(agent=agent, raw_item=raw, output=output)
    if kind == "message_output_item":
        return MessageOutputItem(agent=agent, raw_item=raw)
    if kind == "reasoning_item":
        return ReasoningItem(agent=agent, raw_item=raw)
    return ToolCallItem(agent=agent, raw_item=raw)


def _load_run(record: Any) -> _StoredRun:
    """Parse a stored run (a bad entry raises here, where the run replay turns it into a miss)."""
    return _StoredRun(
        final_output=record["final_output"],
        items=[_load_item(*item) for item in record["items"]],
        responses=[load_response(r) for r in record["responses"]],
    )


def _dump_run(result: RunResult) -> dict[str, Any]:
    return {
        "final_output": result.final_output,
        "items": [_dump_item(item) for item in result.new_items],
        "responses": [dump_response(r) for r in result.raw_responses],
    }


def _refuse_run(result: RunResult) -> str | None:
    """Why a run cannot be replayed faithfully (``None``: it can)."""
    if result.interruptions:
        return "interrupted (tool approval pending)"
    if any(_dump_item(item) is None for item in result.new_items):
        return "holds handoff or MCP items tied to live objects"
    return None


class OpenAIAgentsCacheAdapter:
    """Replay whole Agents SDK runs, and hand out cached models for per-call caching.

    A run is keyed by the input and everything about the agent that changes the run: name,
    resolved instructions, prompt, model id and settings, tools and their schemas, MCP
    server names, handoffs (target agents described recursively), output type schema,
    tool-use behaviour, guardrail names, plus ``max_turns`` and the ``run_config``'s model
    and settings. Runs tied to outside state (``session=``, ``previous_response_id=``,
    ``conversation_id=``, ``auto_previous_response_id=``), runs that end in an interruption,
    and runs with handoff or MCP items run live every time and are not stored.

    Args:
        manager: Where entries live.
        ttl: Seconds to live for each run and model call.

    Example:
        >>> from agents import Agent
        >>> from agents.testing import ScriptedModel, assistant_message
        >>> from omnicache_ai import CacheManager
        >>> adapter = OpenAIAgentsCacheAdapter(CacheManager())
        >>> model = ScriptedModel([[assistant_message("RAG is retrieval + generation")]])
        >>> agent = Agent(name="assistant", instructions="Be concise",
        ...               model=adapter.model(model, model_id="fake"))
        >>> adapter.run(agent, "What is RAG?").final_output
        'RAG is retrieval + generation'
        >>> adapter.run(agent, "What is RAG?").final_output  # replayed; the model is not called
        'RAG is retrieval + generation'
    """

    def __init__(self, manager: CacheManager, *, ttl: float | None = None) -> None:
        self.manager = manager
        self.ttl = ttl
        codec: RunCodec[Any] = RunCodec(encode=_dump_run, decode=_load_run, refuse=_refuse_run)
        self.runs: RunReplay[Any] = RunReplay(manager, "openai-agents", codec, ttl=ttl)

    def model(self, model: Model, *, model_id: str | None = None) -> CachedModel:
        """``model`` with its calls cached through this adapter's manager."""
        return CachedModel(model, self.manager, model_id=model_id, ttl=self.ttl)

    def provider(self, provider: ModelProvider) -> CachingModelProvider:
        """``provider`` with every model it hands out cached."""
        return CachingModelProvider(provider, self.manager, ttl=self.ttl)

    # -- keying ---------------------------------------------------------------------------
    async def _request(
        self, agent: Agent[Any], input: Any, options: dict[str, Any]
    ) -> tuple[str, Any, dict[str, Any]]:
        """``(model, input, context)`` of a run, for :class:`RunReplay`."""
        if not isinstance(agent, Agent):
            raise TypeError(f"agent must be an agents.Agent, got {type(agent).__name__}")
        if not isinstance(input, str | list) or not input:
            raise TypeError("input must be a non-empty string or list of input items")
        ctx: RunContextWrapper[Any] = RunContextWrapper(context=options.get("context"))
        config = options.get("run_config")
        context: dict[str, Any] = {
            "agent": await _agent_spec(agent, ctx, set()),
            "max_turns": options.get("max_turns"),
        }
        if config is not None:
            context["run_config"] = {
                "model": None if config.model is None else model_name(config.model),
                "model_settings": _settings_spec(config.model_settings),
            }
        return model_name(agent.model), plain(input), context

    @staticmethod
    def _stateful(options: dict[str, Any]) -> bool:
        return any(options.get(name) for name in _STATEFUL_OPTIONS)

    @staticmethod
    def _served(agent: Agent[Any], input: Any, out: Any, options: dict[str, Any]) -> RunResult:
        """The live ``RunResult`` of a miss, or one rebuilt from a stored run."""
        if isinstance(out, _StoredRun):
            return out.result(agent, input, options.get("context"))
        result: RunResult = out
        return result

    # -- the README API -------------------------------------------------------------------
    def run(self, agent: Agent[Any], input: str | list[Any], **options: Any) -> RunResult:
        """``Runner.run_sync(agent, input, **options)``, replayed for an identical run.

        Args:
            agent: The starting agent.
            input: The user input (a string or a list of input items).
            **options: Passed to ``Runner.run_sync`` (``context``, ``max_turns``,
                ``run_config``, ``hooks``, ...).

        Returns:
            The SDK's ``RunResult`` (rebuilt from the cache on a hit).
        """
        if self._stateful(options):
            return Runner.run_sync(agent, input, **options)
        model, run_input, context = run_apart(self._request(agent, input, options))
        out = self.runs.run(
            model, run_input, context, lambda: Runner.run_sync(agent, input, **options)
        )
        return self._served(agent, input, out, options)

    async def arun(self, agent: Agent[Any], input: str | list[Any], **options: Any) -> RunResult:
        """Async :meth:`run`: ``await Runner.run(...)``, replayed for an identical run."""
        if self._stateful(options):
            return await Runner.run(agent, input, **options)
        model, run_input, context = await self._request(agent, input, options)
        out = await self.runs.arun(
            model, run_input, context, lambda: Runner.run(agent, input, **options)
        )
        return self._served(agent, input, out, options)
