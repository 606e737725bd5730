"""CrewAI adapter (``crewai`` 1.x): whole-crew replay and a caching LLM for every model call.

* :class:`CrewAICacheAdapter` replays ``crew.kickoff(inputs=...)`` (and ``kickoff_async`` /
  ``akickoff``) for identical inputs and an identical crew: the key holds the process, every
  agent (role, goal, backstory, LLM and its settings, tools with their argument schemas,
  delegation and iteration limits, templates), every task (description, expected output,
  agent, tools, context tasks, output schema) and the inputs. The ``CrewOutput`` comes back
  with its task outputs, token usage and pydantic/JSON outputs. Runs whose tools failed and
  streaming kickoffs are not stored.
* :class:`CachedCrewLLM` is a ``crewai.llms.base_llm.BaseLLM`` around any crew LLM: give it to
  an agent (``Agent(llm=CachedCrewLLM(llm, manager))``) and each model call of a multi-step
  task (ReAct steps, native tool calls) is answered from
  :class:`~omnicache_ai.layers.response_cache.ResponseCache` when seen before. Its key holds
  the model, the messages, the tool schemas, the response model, the stop words of the call
  and the LLM's settings. A call that hands the LLM ``available_functions`` (the LLM then runs
  the tools itself) passes through uncached, so no tool side effect is skipped.

Example:
    >>> from omnicache_ai import CacheManager
    >>> manager = CacheManager()
    >>> # crew = Crew(agents=[...], tasks=[...])
    >>> # result = CrewAICacheAdapter(crew, manager).kickoff(inputs={"topic": "AI"})
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Any, Final

from omnicache_ai.adapters._runs import RunCodec, RunReplay
from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.layers.response_cache import ResponseCache

try:
    from crewai import Crew
    from crewai.crews.crew_output import CrewOutput
    from crewai.llms.base_llm import BaseLLM, call_stop_override
    from crewai.tools.base_tool import BaseTool
    from pydantic import BaseModel, ConfigDict, PrivateAttr
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.crewai_adapter needs crewai 1.x; "
        "install it with: pip install 'omnicache-ai[crewai]'"
    ) from err

__all__ = ["CachedCrewLLM", "CrewAICacheAdapter"]

_LLM_FIELDS: Final = (
    "model",
    "provider",
    "llm_type",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "n",
    "stop",
    "additional_params",
    "response_format",
    "reasoning_effort",
)
_AGENT_FIELDS: Final = (
    "role",
    "goal",
    "backstory",
    "allow_delegation",
    "max_iter",
    "max_retry_limit",
    "use_system_prompt",
    "system_template",
    "prompt_template",
    "response_template",
    "allow_code_execution",
    "code_execution_mode",
    "respect_context_window",
    "multimodal",
    "reasoning",
    "max_reasoning_attempts",
    "planning",
)
_TASK_FIELDS: Final = (
    "name",
    "description",
    "expected_output",
    "async_execution",
    "human_input",
    "markdown",
    "output_file",
)


# ---- plain-data descriptions (everything that changes a run, nothing volatile) ----------------
def _plain(value: Any) -> Any:
    """``value`` as plain data for a key: schemas for classes, names for callables."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, BaseLLM):
        return describe_llm(value)
    if isinstance(value, BaseTool):
        return _tool(value)
    if isinstance(value, type) and issubclass(value, BaseModel):
        return {"schema": value.model_json_schema(), "class": value.__qualname__}
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="json"))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return items if isinstance(value, list | tuple) else sorted(items, key=repr)
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', value)}"
    return repr(value)


def _tool(tool: BaseTool) -> dict[str, Any]:
    schema = tool.args_schema.model_json_schema() if tool.args_schema is not None else None
    return {
        "name": tool.name,
        "description": tool.description,
        "args": schema,
        "result_as_answer": getattr(tool, "result_as_answer", False),
    }


def _unwrap(llm: Any) -> Any:
    while isinstance(llm, CachedCrewLLM):
        llm = llm.llm
    return llm


def describe_llm(llm: Any) -> Any:
    """The settings of a crew LLM that change its answers (never its API key or base URL)."""
    llm = _unwrap(llm)
    if llm is None or isinstance(llm, str):
        return llm
    data: dict[str, Any] = {"class": f"{type(llm).__module__}.{type(llm).__qualname__}"}
    for name in _LLM_FIELDS:
        value = getattr(llm, name, None)
        if value not in (None, [], {}):
            data[name] = _plain(value)
    return data


def _model_of(llm: Any) -> str:
    llm = _unwrap(llm)
    model = getattr(llm, "model", llm)
    return model if isinstance(model, str) and model else "unknown"


def _field(obj: Any, name: str) -> Any:
    # Pydantic fields are read from the instance dict: CrewAI deprecates several agent fields
    # (function_calling_llm, allow_code_execution, ...) and warns on every attribute access.
    fields = getattr(obj, "__dict__", {})
    return fields[name] if name in fields else getattr(obj, name, None)


def _agent(agent: Any) -> dict[str, Any] | None:
    if agent is None:
        return None
    data = {name: _plain(_field(agent, name)) for name in _AGENT_FIELDS}
    data["llm"] = describe_llm(_field(agent, "llm"))
    data["function_calling_llm"] = describe_llm(_field(agent, "function_calling_llm"))
    data["tools"] = [_plain(t) for t in _field(agent, "tools") or ()]
    if _field(agent, "inject_date"):  # the prompt then carries today's date
        data["date"] = _dt.date.today().strftime(_field(agent, "date_format") or "%Y-%m-%d")
    return data


def _task(task: Any, agents: list[Any], tasks: list[Any]) -> dict[str, Any]:
    data = {name: _plain(_field(task, name)) for name in _TASK_FIELDS}
    agent = getattr(task, "agent", None)
    data["agent"] = next((i for i, a in enumerate(agents) if a is agent), _agent(agent))
    data["tools"] = [_plain(t) for t in getattr(task, "tools", None) or ()]
    context = getattr(task, "context", None)
    data["context"] = (
        [next((i for i, t in enumerate(tasks) if t is c), None) for c in context]
        if isinstance(context, list)
        else None
    )
    data["output_json"] = _plain(getattr(task, "output_json", None))
    data["output_pydantic"] = _plain(getattr(task, "output_pydantic", None))
    data["guardrail"] = _plain(getattr(task, "guardrail", None))
    return data


def describe_crew(crew: Crew) -> tuple[str, dict[str, Any]]:
    """``(model, context)``: what about ``crew`` changes a kickoff, as plain data."""
    agents = list(crew.agents)
    tasks = list(crew.tasks)
    context = {
        "process": _plain(getattr(crew, "process", None)),
        "planning": bool(getattr(crew, "planning", False)),
        "planning_llm": describe_llm(getattr(crew, "planning_llm", None)),
        "memory": bool(getattr(crew, "memory", False)),
        "manager_llm": describe_llm(getattr(crew, "manager_llm", None)),
        "manager_agent": _agent(getattr(crew, "manager_agent", None)),
        "stream": bool(getattr(crew, "stream", False)),
        "agents": [_agent(a) for a in agents],
        "tasks": [_task(t, agents, tasks) for t in tasks],
    }
    model = _model_of(agents[0].llm) if agents else "crew"
    return model, context


# ---- how a CrewOutput is stored -----------------------------------------------------------------
def _encode(output: CrewOutput) -> dict[str, Any]:
    # Pydantic outputs stay objects (the safe serializer rebuilds them by class); the rest is
    # plain data CrewOutput validates again.
    return {
        "crew": output.model_dump(mode="json", exclude={"pydantic": True, "tasks_output": True}),
        "tasks": [t.model_dump(mode="json", exclude={"pydantic"}) for t in output.tasks_output],
        "pydantic": output.pydantic,
        "task_pydantic": [t.pydantic for t in output.tasks_output],
    }


def _decode(stored: Mapping[str, Any]) -> CrewOutput:
    output = CrewOutput.model_validate({**stored["crew"], "tasks_output": stored["tasks"]})
    output.pydantic = stored["pydantic"]
    for task, model in zip(output.tasks_output, stored["task_pydantic"], strict=True):
        task.pydantic = model
    return output


def _refuse(output: Any) -> str | None:
    if not isinstance(output, CrewOutput):
        return f"a {type(output).__name__} (streaming kickoff) is not replayable"
    if output.tool_failures:
        return "a tool failed during the run"
    return None


_CODEC: Final = RunCodec(encode=_encode, decode=_decode, refuse=_refuse)


class CrewAICacheAdapter:
    """Replay a CrewAI crew's kickoff for identical inputs and an identical crew.

    Args:
        crew: The ``crewai.Crew``.
        manager: The :class:`CacheManager` to store through.
        ttl: Seconds to live (default: the manager's ``response`` TTL).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> CrewAICacheAdapter(object(), CacheManager())
        Traceback (most recent call last):
        ...
        TypeError: CrewAICacheAdapter needs a crewai.Crew, got object
    """

    def __init__(self, crew: Crew, manager: CacheManager, *, ttl: float | None = None) -> None:
        if not isinstance(crew, Crew):
            raise TypeError(f"CrewAICacheAdapter needs a crewai.Crew, got {type(crew).__name__}")
        self.crew = crew
        self._runs: RunReplay[CrewOutput] = RunReplay(manager, "crewai", _CODEC, ttl=ttl)

    def key(self, inputs: Mapping[str, Any] | None = None) -> str:
        """The key a kickoff with ``inputs`` is stored under (to debug a miss)."""
        model, context = describe_crew(self.crew)
        return self._runs.key(model, _plain(inputs), context)

    def _args(self, inputs: Mapping[str, Any] | None) -> tuple[str, Any, dict[str, Any]]:
        if inputs is not None and not isinstance(inputs, Mapping):
            raise TypeError(f"inputs must be a mapping, got {type(inputs).__name__}")
        model, context = describe_crew(self.crew)
        return model, _plain(inputs), context

    def kickoff(self, inputs: Mapping[str, Any] | None = None) -> CrewOutput:
        """``crew.kickoff(inputs=...)``, or its replay."""
        model, keyed, context = self._args(inputs)
        call_inputs = dict(inputs) if inputs is not None else None
        return self._runs.run(model, keyed, context, lambda: self.crew.kickoff(inputs=call_inputs))

    async def kickoff_async(self, inputs: Mapping[str, Any] | None = None) -> CrewOutput:
        """``await crew.kickoff_async(inputs=...)``, or its replay."""
        return await self._akickoff(inputs, self.crew.kickoff_async)

    async def akickoff(self, inputs: Mapping[str, Any] | None = None) -> CrewOutput:
        """``await crew.akickoff(inputs=...)`` (CrewAI's native async run), or its replay."""
        return await self._akickoff(inputs, self.crew.akickoff)

    async def _akickoff(
        self, inputs: Mapping[str, Any] | None, start: Callable[..., Any]
    ) -> CrewOutput:
        model, keyed, context = self._args(inputs)
        call_inputs = dict(inputs) if inputs is not None else None
        return await self._runs.arun(model, keyed, context, lambda: start(inputs=call_inputs))


# ---- the model-call hook ------------------------------------------------------------------------
class CachedCrewLLM(BaseLLM):
    """A CrewAI LLM that answers repeated model calls of any crew LLM from the cache.

    Args:
        llm: The LLM to wrap (``crewai.LLM``, a native provider, a custom ``BaseLLM``).
        manager: The :class:`CacheManager` to store through.
        ttl: Seconds to live (default: the manager's ``response`` TTL).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> from crewai.llms.base_llm import BaseLLM
        >>> class Echo(BaseLLM):
        ...     calls: int = 0
        ...     def call(self, messages, *args, **kwargs):
        ...         self.calls += 1
        ...         return "pong"
        >>> echo = Echo(model="echo-1")
        >>> llm = CachedCrewLLM(echo, CacheManager())
        >>> llm.call("ping"), llm.call("ping"), echo.calls
        ('pong', 'pong', 1)
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    llm: BaseLLM
    _responses: ResponseCache = PrivateAttr()

    def __init__(self, llm: BaseLLM, manager: CacheManager, *, ttl: float | None = None) -> None:
        if not isinstance(llm, BaseLLM):
            raise TypeError(f"llm must be a crewai BaseLLM, got {type(llm).__name__}")
        super().__init__(
            llm=llm,
            model=llm.model,
            provider=llm.provider,
            temperature=llm.temperature,
            stop=list(llm.stop),
        )
        self._responses = ResponseCache(manager, ttl=ttl)

    def _request(self, tools: Any, response_model: Any) -> tuple[list[str], dict[str, Any]]:
        # CrewAI scopes the ReAct stop words to this LLM for the call; they change the answer.
        stops = list(self.stop_sequences)
        params = {
            "tools": _plain(tools),
            "response_model": _plain(response_model),
            "stop": stops,
            "crewai_llm": describe_llm(self.llm),
        }
        return stops, params

    def call(  # noqa: PLR0917 - BaseLLM.call's signature
        self,
        messages: Any,
        tools: list[dict[str, Any]] | None = None,
        callbacks: list[Any] | None = None,
        available_functions: dict[str, Any] | None = None,
        from_task: Any = None,
        from_agent: Any = None,
        response_model: type[BaseModel] | None = None,
    ) -> Any:
        """The wrapped LLM's answer, from the cache when this call was seen before."""
        kwargs = {
            "tools": tools,
            "callbacks": callbacks,
            "available_functions": available_functions,
            "from_task": from_task,
            "from_agent": from_agent,
            "response_model": response_model,
        }
        if available_functions:  # the LLM would run tools itself: never skip them
            return self.llm.call(messages, **kwargs)
        stops, params = self._request(tools, response_model)

        def generate(_messages: Any) -> Any:
            with call_stop_override(self.llm, stops):
                return self.llm.call(messages, **kwargs)

        return self._responses.get_or_generate(
            messages, generate, model_id=self.llm.model, params=params
        )

    async def acall(  # noqa: PLR0917 - BaseLLM.acall's signature
        self,
        messages: Any,
        tools: list[dict[str, Any]] | None = None,
        callbacks: list[Any] | None = None,
        available_functions: dict[str, Any] | None = None,
        from_task: Any = None,
        from_agent: Any = None,
        response_model: type[BaseModel] | None = None,
    ) -> Any:
        """Async :meth:`call` (awaits the manager; the loop is never blocked)."""
        kwargs = {
            "tools": tools,
            "callbacks": callbacks,
            "available_functions": available_functions,
            "from_task": from_task,
            "from_agent": from_agent,
            "response_model": response_model,
        }
        if available_functions:
            return await self.llm.acall(messages, **kwargs)
        stops, params = self._request(tools, response_model)

        async def generate(_messages: Any) -> Any:
            with call_stop_override(self.llm, stops):
                return await self.llm.acall(messages, **kwargs)

        return await self._responses.aget_or_generate(
            messages, generate, model_id=self.llm.model, params=params
        )

    def supports_function_calling(self) -> bool:
        """Whether the wrapped LLM calls tools natively."""
        check = getattr(self.llm, "supports_function_calling", None)
        return bool(check()) if callable(check) else False

    def supports_stop_words(self) -> bool:
        """Whether the wrapped LLM honours stop words."""
        return bool(self.llm.supports_stop_words())

    def get_context_window_size(self) -> int:
        """The wrapped LLM's context window."""
        return int(self.llm.get_context_window_size())

    def supports_multimodal(self) -> bool:
        """Whether the wrapped LLM takes images/files."""
        return bool(self.llm.supports_multimodal())
