"""Google ADK adapter: a model-call plugin, a streaming model wrapper, and whole-run replay.

* :class:`GoogleADKCachePlugin` is an ADK ``BasePlugin``: ``before_model_callback`` answers a
  request seen before with the cached ``LlmResponse`` (the model is not called), and
  ``after_model_callback`` stores final (non-partial) responses. Register it on the ``App``
  (``App(plugins=[plugin])``; the runner-level ``plugins=`` argument is deprecated). Every model
  call of every agent in the app goes through it, tools and sub-agents included.
* :class:`CachedLlm` wraps any ``BaseLlm`` so a streamed call (``StreamingMode.SSE``) replays
  its partial responses too; a plugin can only hand ADK one response.
* :class:`GoogleADKCacheAdapter` drives a ``Runner`` (ADK agents have no ``.run``) and replays
  a whole run, as ADK ``Event`` objects with fresh ids, for an identical message and agent.

Requests are keyed by the model, the contents and the generation config (system instruction,
tool declarations, sampling settings, response schema); ADK's billing labels are left out.
Responses and events are stored in their JSON form and rebuilt with ADK's pydantic types.

Example:
    >>> from google.adk.agents import LlmAgent
    >>> from google.adk.apps import App
    >>> from omnicache_ai import CacheManager
    >>> plugin = GoogleADKCachePlugin(CacheManager())
    >>> app = App(name="demo", root_agent=LlmAgent(name="a", model="gemini-2.0-flash"),
    ...           plugins=[plugin])
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator
from typing import Any, Final, TypeVar

from omnicache_ai.adapters._loops import run_apart
from omnicache_ai.adapters._plain import describe_callable, plain
from omnicache_ai.adapters._runs import RunCodec, RunReplay
from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.layers.response_cache import ResponseCache
from omnicache_ai.layers.streaming_cache import StreamingResponseCache

try:
    from google.adk.agents import BaseAgent, LlmAgent
    from google.adk.agents.callback_context import CallbackContext
    from google.adk.agents.run_config import RunConfig
    from google.adk.apps import App
    from google.adk.events import Event
    from google.adk.models.base_llm import BaseLlm
    from google.adk.models.llm_request import LlmRequest
    from google.adk.models.llm_response import LlmResponse
    from google.adk.plugins.base_plugin import BasePlugin
    from google.adk.runners import Runner
    from google.adk.sessions import InMemorySessionService
    from google.adk.tools.base_tool import BaseTool
    from google.adk.tools.function_tool import FunctionTool
    from google.genai import types
    from pydantic import PrivateAttr
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "omnicache_ai.adapters.google_adk_adapter needs Google ADK; "
        "install it with: pip install 'omnicache-ai[google-adk]'"
    ) from err

__all__ = ["CachedLlm", "GoogleADKCacheAdapter", "GoogleADKCachePlugin"]

# Request fields that never change the answer: context-cache bookkeeping and live settings.
_REQUEST_IGNORED: Final = {
    "live_connect_config",
    "cache_config",
    "cache_metadata",
    "cacheable_contents_token_count",
}
# Config fields that never change the answer: billing labels (ADK adds the agent name after
# the plugin ran), transport options.
_CONFIG_IGNORED: Final = ("labels", "http_options")

_T = TypeVar("_T")


# ---- requests and responses ----------------------------------------------------------------
def request_of(llm_request: LlmRequest, default_model: str | None = None) -> tuple[Any, str, Any]:
    """``(messages, model, params)`` of an ADK model request, in the layers' request form."""
    data = llm_request.model_dump(mode="json", exclude_none=True, exclude=_REQUEST_IGNORED)
    config = data.pop("config", None) or {}
    for name in _CONFIG_IGNORED:
        config.pop(name, None)
    model = data.pop("model", None) or default_model or "default"
    contents = data.pop("contents", None) or [{"role": "user", "parts": []}]
    return contents, model, {"config": config, **data}


def dump_response(response: LlmResponse) -> dict[str, Any]:
    """The stored (JSON-shaped) form of an ``LlmResponse``."""
    data: dict[str, Any] = response.model_dump(mode="json", exclude_none=True)
    return data


def load_response(record: Any) -> LlmResponse:
    """Rebuild an ``LlmResponse`` from :func:`dump_response`'s form."""
    return LlmResponse.model_validate(record)


def _not_final(record: Any) -> bool:
    """A response that must not be cached: partial, interrupted, an error, or empty."""
    if not isinstance(record, dict):
        return False
    return bool(
        record.get("partial")
        or record.get("interrupted")
        or record.get("error_code")
        or not record.get("content")
    )


# ---- the plugin ----------------------------------------------------------------------------
class GoogleADKCachePlugin(BasePlugin):
    """An ADK plugin that answers repeated model requests from the cache.

    Args:
        manager: Where entries live.
        ttl: Seconds to live for each response.
        name: The plugin's name in the app (unique per app).

    Example:
        >>> from omnicache_ai import CacheManager
        >>> GoogleADKCachePlugin(CacheManager()).name
        'omnicache'
    """

    def __init__(
        self, manager: CacheManager, *, ttl: float | None = None, name: str = "omnicache"
    ) -> None:
        super().__init__(name=name)
        self.responses = ResponseCache(manager, ttl=ttl, is_refusal=_not_final)
        # One model call at a time per agent invocation: the request a response answers.
        self._pending: dict[tuple[str, str], tuple[Any, str, Any]] = {}

    @staticmethod
    def _slot(callback_context: CallbackContext) -> tuple[str, str]:
        return callback_context.invocation_id, callback_context.agent_name

    async def before_model_callback(
        self, *, callback_context: CallbackContext, llm_request: LlmRequest
    ) -> LlmResponse | None:
        """The cached response to this request (the model is skipped), or ``None``."""
        request = request_of(llm_request)
        messages, model, params = request
        record = await self.responses.aget(messages, model_id=model, params=params)
        if record is not None:
            return load_response(record)
        self._pending[self._slot(callback_context)] = request
        return None

    async def after_model_callback(
        self, *, callback_context: CallbackContext, llm_response: LlmResponse
    ) -> LlmResponse | None:
        """Store a final response for the request it answers; partials are skipped."""
        if llm_response.partial:
            return None
        request = self._pending.pop(self._slot(callback_context), None)
        if request is not None:
            messages, model, params = request
            await self.responses.aset(
                messages, dump_response(llm_response), model_id=model, params=params
            )
        return None

    async def on_model_error_callback(
        self,
        *,
        callback_context: CallbackContext,
        llm_request: LlmRequest,
        error: Exception,
    ) -> LlmResponse | None:
        """Forget the failed request; errors are never cached."""
        self._pending.pop(self._slot(callback_context), None)
        return None


# ---- the streaming model wrapper -----------------------------------------------------------
class CachedLlm(BaseLlm):
    """Any ADK ``BaseLlm`` with its calls cached, partial (streamed) responses included.

    Use it as an agent's ``model`` when runs stream (``RunConfig(streaming_mode=SSE)``): a hit
    replays every partial response and the final one, in order.

    Args:
        inner: The model to call on a miss (``Gemini(...)``, ``LiteLlm(...)``, ...).
        manager: Where entries live (give it as a keyword).
        ttl: Seconds to live for each entry.

    Example:
        >>> from google.adk.models import Gemini
        >>> from omnicache_ai import CacheManager
        >>> llm = CachedLlm.wrap(Gemini(model="gemini-2.0-flash"), CacheManager())
        >>> llm.model
        'gemini-2.0-flash'
    """

    inner: BaseLlm
    # Private attributes: ADK dumps agents and models (config, tracing); caches are not data.
    _responses: Any = PrivateAttr(default=None)
    _streams: Any = PrivateAttr(default=None)

    @classmethod
    def wrap(cls, inner: BaseLlm, manager: CacheManager, *, ttl: float | None = None) -> CachedLlm:
        """``inner`` with its calls cached through ``manager``."""
        llm = cls(model=inner.model, inner=inner)
        llm._responses = ResponseCache(manager, ttl=ttl, is_refusal=_not_final)
        llm._streams = StreamingResponseCache(manager, ttl=ttl, is_refusal=_stream_not_final)
        return llm

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        """The cached responses to this request, or the wrapped model's (then cached)."""
        messages, model, params = request_of(llm_request, self.model)
        if not stream:

            async def call(_: Any) -> dict[str, Any]:
                final: LlmResponse | None = None
                async for response in self.inner.generate_content_async(llm_request, False):
                    final = response
                if final is None:
                    raise RuntimeError(f"{type(self.inner).__name__} returned no response")
                return dump_response(final)

            record = await self._responses.aget_or_generate(
                messages, call, model_id=model, params=params
            )
            yield load_response(record)
            return

        async def live(_: Any) -> AsyncGenerator[Any, None]:
            async for response in self.inner.generate_content_async(llm_request, True):
                yield dump_response(response)

        async for record in self._streams.aget_or_stream(
            messages, live, model_id=model, params=params
        ):
            yield load_response(record)


def _stream_not_final(chunks: Any) -> bool:
    # A stream is worth replaying only if it reached a final (non-partial) response.
    return not any(isinstance(c, dict) and not c.get("partial") for c in chunks) or any(
        isinstance(c, dict) and (c.get("error_code") or c.get("interrupted")) for c in chunks
    )


# ---- the run-level wrapper -----------------------------------------------------------------
def _tool_spec(tool: Any) -> Any:
    if callable(tool) and not isinstance(tool, BaseTool):
        tool = FunctionTool(tool)
    if isinstance(tool, BaseTool):
        declaration = tool._get_declaration()  # the schema the model sees
        return {
            "name": tool.name,
            "description": tool.description,
            "declaration": plain(declaration),
        }
    return {"toolset": type(tool).__qualname__}


def _instruction_spec(instruction: Any) -> Any:
    return describe_callable(instruction) if callable(instruction) else plain(instruction)


def agent_spec(agent: BaseAgent) -> dict[str, Any]:
    """Everything about an agent (and its sub-agents) that changes what a run does."""
    spec: dict[str, Any] = {
        "class": type(agent).__qualname__,
        "name": agent.name,
        "description": agent.description,
        "sub_agents": [agent_spec(sub) for sub in agent.sub_agents],
    }
    if isinstance(agent, LlmAgent):
        model = agent.model
        spec.update(
            model=model if isinstance(model, str) else model.model,
            instruction=_instruction_spec(agent.instruction),
            global_instruction=_instruction_spec(agent.global_instruction),
            static_instruction=plain(agent.static_instruction),
            config=plain(agent.generate_content_config),
            tools=[_tool_spec(t) for t in agent.tools],
            output_schema=_schema_spec(agent.output_schema),
            input_schema=_schema_spec(agent.input_schema),
            include_contents=agent.include_contents,
            output_key=agent.output_key,
            planner=None if agent.planner is None else type(agent.planner).__qualname__,
        )
    return spec


def _schema_spec(schema: Any) -> Any:
    json_schema = getattr(schema, "model_json_schema", None)
    return json_schema() if callable(json_schema) else plain(schema)


def _dump_run(events: list[Event]) -> dict[str, Any]:
    return {"events": [e.model_dump(mode="json", exclude_none=True) for e in events]}


def _refuse_run(events: list[Event]) -> str | None:
    """Why a run is not a result to replay (``None``: it is)."""
    if not events:
        return "no events"
    if any(e.error_code for e in events):
        return "ended in an error"
    if any(e.long_running_tool_ids for e in events):
        return "waits on a long-running tool"
    return None


def _load_events(record: Any) -> list[Event]:
    """The stored events, as new events: fresh ids, a new invocation, timestamps of now.

    Runs when a stored run is served; a bad entry raises here, where the run replay turns it
    into a miss.
    """
    invocation_id = f"e-{uuid.uuid4()}"
    now = time.time()
    events = []
    for raw in record["events"]:
        event = Event.model_validate(raw)
        event.id = Event.new_id()
        event.invocation_id = invocation_id
        event.timestamp = now
        events.append(event)
    return events


class GoogleADKCacheAdapter:
    """Run an ADK agent through a ``Runner``, replaying a whole run for an identical message.

    Each run starts in a fresh in-memory session (so nothing but the message and the agent
    decides it); the run is keyed by the message and the agent tree (class, name, description,
    model, instructions, generation config, tool declarations, input/output schemas, sub-agents).
    Model calls inside a run are cached by a :class:`GoogleADKCachePlugin` on the app, so a run
    that missed still reuses every model answer seen before.

    Args:
        agent: The root agent.
        manager: Where entries live.
        app_name: The ADK app name.
        plugins: Further plugins for the app (ours comes first).
        run_config: ADK ``RunConfig`` for every run.
        ttl: Seconds to live for runs and model calls.

    Example:
        >>> from google.adk.agents import LlmAgent
        >>> from omnicache_ai import CacheManager
        >>> agent = LlmAgent(name="research_agent", model="gemini-2.0-flash", instruction="...")
        >>> cached = GoogleADKCacheAdapter(agent, CacheManager())
        >>> cached.app.plugins[0].name
        'omnicache'
    """

    def __init__(
        self,
        agent: BaseAgent,
        manager: CacheManager,
        *,
        app_name: str = "omnicache_app",
        plugins: list[BasePlugin] | None = None,
        run_config: RunConfig | None = None,
        ttl: float | None = None,
    ) -> None:
        if not isinstance(agent, BaseAgent):
            raise TypeError(f"agent must be an ADK BaseAgent, got {type(agent).__name__}")
        self.agent = agent
        self.manager = manager
        self.plugin = GoogleADKCachePlugin(manager, ttl=ttl)
        self.app = App(name=app_name, root_agent=agent, plugins=[self.plugin, *(plugins or [])])
        self.sessions = InMemorySessionService()
        self.runner = Runner(app=self.app, session_service=self.sessions)
        self.run_config = run_config
        codec: RunCodec[Any] = RunCodec(encode=_dump_run, decode=_load_events, refuse=_refuse_run)
        self.runs: RunReplay[Any] = RunReplay(manager, "google-adk", codec, ttl=ttl)

    def _model(self) -> str:
        model = getattr(self.agent, "model", None)
        model_id = model if isinstance(model, str) and model else getattr(model, "model", None)
        return model_id or "default"

    async def _live(self, message: str, user_id: str) -> list[Event]:
        session = await self.sessions.create_session(app_name=self.app.name, user_id=user_id)
        content = types.Content(role="user", parts=[types.Part(text=message)])
        return [
            event
            async for event in self.runner.run_async(
                user_id=user_id,
                session_id=session.id,
                new_message=content,
                run_config=self.run_config,
            )
        ]

    async def arun(self, message: str, *, user_id: str = "user") -> list[Event]:
        """Run the agent on ``message`` (or replay an identical earlier run).

        Returns:
            The run's ADK ``Event`` list (final events only: replays carry no partials); the
            last event usually holds the answer: ``events[-1].content.parts[0].text``.
        """
        if not isinstance(message, str) or not message:
            raise TypeError("message must be a non-empty string")
        out = await self.runs.arun(
            self._model(),
            message,
            {"agent": agent_spec(self.agent), "user_id": user_id},
            lambda: self._live(message, user_id),
        )
        return list(out)

    def run(self, message: str, *, user_id: str = "user") -> list[Event]:
        """Sync :meth:`arun` (runs its own event loop; call :meth:`arun` from async code)."""
        return run_apart(self.arun(message, user_id=user_id))

    @staticmethod
    def final_text(events: list[Event]) -> str:
        """The text of the last event that has any (the agent's answer).

        Example:
            >>> GoogleADKCacheAdapter.final_text([])
            ''
        """
        for event in reversed(events):
            parts = event.content.parts if event.content and event.content.parts else []
            text = "".join(p.text for p in parts if p.text)
            if text:
                return text
        return ""
