"""CrewAI adapter (``crewai`` 1.x): whole-crew replay and a caching LLM for every model call.

* :class:`CrewAICacheAdapter` replays ``crew.kickoff(inputs=...)`` (and ``kickoff_async`` /
  ``akickoff``) for identical inputs and an identical crew: the key holds the process, every
  agent (role, goal, backstory, LLM and its settings, tools with their argument schemas,
  delegation and iteration limits, templates), every task (description, expected output,
  agent, tools, context tasks, output schema) and the inputs. The ``CrewOutput`` comes back
  with its task outputs, token usage and pydantic/JSON outputs. Runs whose tools failed are
  not stored. A streaming crew (``Crew(stream=True)``) gets a ``CrewStreamingOutput`` back, as
  from CrewAI: a miss streams the chunks live and records them with the final ``CrewOutput``;
  an identical kickoff replays the same chunks (agent and task ids mapped to this crew's),
  then ``.result``. Only a stream that ran to its end with a result is stored.
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
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import aclosing, closing
from dataclasses import dataclass
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
try:  # streaming kickoffs (Crew(stream=True)) came in a later 1.x release
    _streaming: Any = importlib.import_module("crewai.types.streaming")
except ImportError:  # pragma: no cover - older crewai 1.x: no streaming kickoffs to replay
    _streaming = None

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
    if not isinstance(output, CrewOutput):  # e.g. the crew was switched to stream mid-call
        return f"a {type(output).__name__} is not a CrewOutput"
    if output.tool_failures:
        return "a tool failed during the run"
    return None


_CODEC: Final = RunCodec(encode=_encode, decode=_decode, refuse=_refuse)


# ---- how a streamed kickoff is stored -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Finished:
    """The last item of a recorded stream: the kickoff's result (``None``: it had none)."""

    output: CrewOutput | None


def _encode_item(item: Any) -> dict[str, Any]:
    if isinstance(item, _Finished):
        return {"output": None if item.output is None else _encode(item.output)}
    return {"chunk": item.model_dump(mode="json")}


def _decode_item(stored: Mapping[str, Any]) -> Any:
    if "output" in stored:
        return _Finished(None if stored["output"] is None else _decode(stored["output"]))
    return _streaming.StreamChunk.model_validate(stored["chunk"])


def _refuse_item(item: Any) -> bool:
    # A stream whose kickoff gave no result, or whose tools failed, is not stored.
    return isinstance(item, _Finished) and (item.output is None or _refuse(item.output) is not None)


def _result_of(streaming: Any) -> _Finished:
    """The final item of a live streamed kickoff that ran to its end."""
    try:
        output = streaming.result
    except RuntimeError:  # "No result available": CrewAI's own stream has none to give either
        return _Finished(None)
    return _Finished(output if isinstance(output, CrewOutput) else None)


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

    def _streams(self) -> bool:
        return _streaming is not None and bool(getattr(self.crew, "stream", False))

    def kickoff(self, inputs: Mapping[str, Any] | None = None) -> Any:
        """``crew.kickoff(inputs=...)``, or its replay.

        Returns:
            The ``CrewOutput``; for a crew built with ``stream=True``, a
            ``CrewStreamingOutput`` to iterate (live or replayed chunks), whose ``.result``
            is the ``CrewOutput`` once the iteration ended.
        """
        model, keyed, context = self._args(inputs)
        call_inputs = dict(inputs) if inputs is not None else None

        def start() -> Any:  # a CrewOutput, or a CrewStreamingOutput for a streaming crew
            return self.crew.kickoff(inputs=call_inputs)

        if self._streams():
            return self._stream(model, keyed, context, start)
        return self._runs.run(model, keyed, context, start)

    async def kickoff_async(self, inputs: Mapping[str, Any] | None = None) -> Any:
        """``await crew.kickoff_async(inputs=...)``, or its replay (streamed like CrewAI's)."""
        return await self._akickoff(inputs, self.crew.kickoff_async)

    async def akickoff(self, inputs: Mapping[str, Any] | None = None) -> Any:
        """``await crew.akickoff(inputs=...)`` (CrewAI's native async run), or its replay."""
        return await self._akickoff(inputs, self.crew.akickoff)

    async def _akickoff(self, inputs: Mapping[str, Any] | None, start: Callable[..., Any]) -> Any:
        model, keyed, context = self._args(inputs)
        call_inputs = dict(inputs) if inputs is not None else None
        if self._streams():
            return self._astream(model, keyed, context, lambda: start(inputs=call_inputs))
        return await self._runs.arun(model, keyed, context, lambda: start(inputs=call_inputs))

    # ---- streaming kickoffs --------------------------------------------------------------------
    def _as_this_crew(self, chunk: Any) -> Any:
        """A replayed chunk with the agent and task ids of this crew (they change every run)."""
        update: dict[str, Any] = {}
        tasks = list(self.crew.tasks)
        if chunk.task_id and 0 <= chunk.task_index < len(tasks):
            update["task_id"] = str(tasks[chunk.task_index].id)
        if chunk.agent_id:
            agent = next((a for a in self.crew.agents if a.role == chunk.agent_role), None)
            if agent is not None:
                update["agent_id"] = str(agent.id)
        return chunk.model_copy(update=update) if update else chunk

    def _stream(
        self, model: str, keyed: Any, context: dict[str, Any], start: Callable[[], Any]
    ) -> Any:
        run = _StreamedKickoff(self)

        def source() -> Iterator[Any]:
            run.live = True
            streaming = start()
            if not isinstance(streaming, _streaming.CrewStreamingOutput):  # stream switched off
                yield _Finished(streaming if isinstance(streaming, CrewOutput) else None)
                return
            try:
                yield from streaming
                yield _result_of(streaming)
            finally:
                streaming.close()  # stops the crew when the consumer left early; else a no-op

        def chunks() -> Iterator[Any]:
            recorded = self._runs.stream(model, keyed, context, source, **_STREAM_CODEC)
            with closing(recorded) as items:
                for item in items:
                    if (chunk := run.chunk(item)) is not None:
                        yield chunk
            run.finish()

        return run.output(sync_iterator=chunks())

    def _astream(
        self,
        model: str,
        keyed: Any,
        context: dict[str, Any],
        start: Callable[[], Awaitable[Any]],
    ) -> Any:
        run = _StreamedKickoff(self)

        async def source() -> AsyncIterator[Any]:
            run.live = True
            streaming = await start()
            if not isinstance(streaming, _streaming.CrewStreamingOutput):
                yield _Finished(streaming if isinstance(streaming, CrewOutput) else None)
                return
            try:
                async for chunk in streaming:
                    yield chunk
                yield _result_of(streaming)
            finally:
                await streaming.aclose()

        async def chunks() -> AsyncIterator[Any]:
            recorded = self._runs.astream(model, keyed, context, source, **_STREAM_CODEC)
            async with aclosing(recorded) as items:
                async for item in items:
                    if (chunk := run.chunk(item)) is not None:
                        yield chunk
            run.finish()

        return run.output(async_iterator=chunks())


_STREAM_CODEC: Final[dict[str, Any]] = {
    "encode": _encode_item,
    "decode": _decode_item,
    "refuse": _refuse_item,
}


class _StreamedKickoff:
    """One streamed kickoff, live or replayed: the shared logic of its sync and async forms.

    The recorded stream ends with a :class:`_Finished` item; it is held back and becomes the
    ``CrewStreamingOutput``'s ``.result`` once the recorded stream ended (and was stored).
    """

    def __init__(self, adapter: CrewAICacheAdapter) -> None:
        self.adapter = adapter
        self.live = False  # set when this call runs the crew (a miss)
        self._finished: _Finished | None = None
        self._output: Any = None

    def output(self, **iterator: Any) -> Any:
        self._output = _streaming.CrewStreamingOutput(**iterator)
        return self._output

    def chunk(self, item: Any) -> Any:
        """The chunk to hand over for a recorded item, or ``None`` for the final result."""
        if isinstance(item, _Finished):
            self._finished = item
            return None
        return item if self.live else self.adapter._as_this_crew(item)

    def finish(self) -> None:
        if self._finished is not None and self._finished.output is not None:
            self._output._set_result(self._finished.output)  # as CrewAI's own stream does


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
