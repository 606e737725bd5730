"""The caching gateway: an ASGI app that speaks the OpenAI and Anthropic HTTP APIs.

Clients point their SDK's ``base_url`` at the gateway. A request that the cache can answer is
answered from the same layers the library uses (:class:`ResponseCache` for whole answers,
:class:`StreamingResponseCache` for streams replayed as server-sent events,
:class:`EmbeddingCache` per input); anything else goes to the upstream, streams back to the
client as the upstream produces it, and is stored only when complete and cacheable.

Design choices (see docs/gateway.md for the operator's view):

* **Isolation by default.** Entries live in a tenant scope derived from the caller's API key
  (``Authorization: Bearer`` or ``x-api-key``): a SHA-256 of it, never the key itself. An
  operator may instead trust a tenant header, or share one scope across keys (opt-in).
* **Fail-open.** The cache is consulted through the manager, which turns a backend failure
  into a miss; a gateway-side cache error sends the request upstream with
  ``X-Omnicache-Status: ERROR``. The cache never causes a 5xx.
* **Upstream errors pass through unchanged** (status, body, content type) and are never stored.
* **Nothing secret is kept**: upstream keys are forwarded, hashed for scoping, and never
  logged, cached or echoed.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import orjson

from omnicache_ai.core.cache_manager import CacheManager
from omnicache_ai.core.errors import ConfigurationError
from omnicache_ai.layers._request import normalize_params
from omnicache_ai.layers.embedding_cache import EmbeddingCache
from omnicache_ai.layers.response_cache import ResponseCache
from omnicache_ai.layers.semantic_cache import SemanticCache
from omnicache_ai.layers.streaming_cache import StreamingResponseCache

try:
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route
except ImportError as err:  # pragma: no cover - exercised by the optional-import test
    raise ImportError(
        "the gateway needs starlette, uvicorn and httpx; install them with: "
        "pip install 'omnicache-ai[gateway]'"
    ) from err

__all__ = ["ENV", "GatewayConfig", "app_from_env", "config_from_env", "create_app"]

logger = logging.getLogger("omnicache_ai.gateway")

STATUS: Final = "X-Omnicache-Status"
AGE: Final = "X-Omnicache-Age"
SIMILARITY: Final = "X-Omnicache-Similarity"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
# Request headers forwarded upstream; everything else (hop-by-hop, our controls) stays here.
_FORWARD: Final = frozenset(
    {
        "authorization",
        "x-api-key",
        "api-key",
        "anthropic-version",
        "anthropic-beta",
        "openai-organization",
        "openai-project",
        "openai-beta",
        "content-type",
        "accept",
        "user-agent",
    }
)
# Response headers not copied back (hop-by-hop, or recomputed by our server).
_DROP_BACK: Final = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
)
# A stream is complete (and may be stored) once one of these arrives.
_FINAL_EVENTS: Final = frozenset({"message_stop", "response.completed"})
_WRITTEN_AT: Final = "omnicache_written_at"  # stored beside the upstream body, never sent
_TENANT_VALUE: Final = re.compile(r"^[A-Za-z0-9._@-]{1,128}$")
_ENDPOINTS: Final = {
    "/v1/chat/completions": "openai",
    "/v1/completions": "openai",
    "/v1/responses": "openai",
    "/v1/messages": "anthropic",
}


@dataclass
class GatewayConfig:
    """How the gateway runs.

    Args:
        upstream: Base URL of the OpenAI-compatible API (e.g. ``https://api.openai.com``,
            a vLLM server); requests keep their path (``/v1/chat/completions``).
        anthropic_upstream: Base URL for ``/v1/messages`` (default: ``upstream``).
        tenant_header: A header the operator trusts to name the tenant (e.g.
            ``X-Omnicache-Tenant``); when present it scopes entries instead of the API key.
        shared: Share one cache scope across every API key (opt-in).
        admin_token: Token for ``POST /omnicache/invalidate`` (header
            ``X-Omnicache-Admin-Token``); unset disables the endpoint.
        max_body_bytes: Largest request body accepted (413 beyond).
        timeout: Seconds to wait for the upstream (connect and each read).
        default_ttl: Seconds to live for entries without an ``X-Omnicache-TTL`` header
            (``None``: the manager's per-layer TTL).
        semantic: Answer paraphrases of cached questions for every request (a request can
            still turn it off with ``X-Omnicache-Semantic: off``); ``False`` (the default):
            only requests sending ``X-Omnicache-Semantic: on`` use it.
        semantic_tenants: Tenant header values (with ``tenant_header``) for which semantic
            matching is on by default.
    """

    upstream: str
    anthropic_upstream: str | None = None
    tenant_header: str | None = None
    shared: bool = False
    admin_token: str | None = field(default=None, repr=False)
    max_body_bytes: int = 10 * 1024 * 1024
    timeout: float = 600.0
    default_ttl: float | None = None
    semantic: bool = False
    semantic_tenants: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.upstream.startswith(("http://", "https://")):
            raise ValueError(f"upstream must be an http(s) URL, got {self.upstream!r}")
        if self.max_body_bytes < 1024:
            raise ValueError(f"max_body_bytes must be at least 1024, got {self.max_body_bytes}")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")


@dataclass
class _Call:
    """One proxied request, parsed once."""

    path: str
    body: dict[str, Any]
    raw: bytes
    headers: dict[str, str]
    scope: str
    bypass: bool
    no_store: bool
    ttl: float | None
    tags: list[str]
    namespace: str | None
    semantic: bool
    threshold: float | None


@dataclass
class _Req:
    """A cacheable request: the call, its scope's layers and the layer arguments."""

    call: _Call
    layers: _Layers
    prompt: Any
    model: str | None
    params: dict[str, Any]


class _Scopes:
    """Layers per (scope, namespace), built once and kept in a bounded LRU."""

    def __init__(
        self, manager: CacheManager, semantic: SemanticCache | None, limit: int = 4096
    ) -> None:
        self.manager = manager
        self._semantic = semantic
        self.limit = limit
        self._views: OrderedDict[tuple[str, str | None], _Layers] = OrderedDict()

    def get(self, scope: str, namespace: str | None) -> _Layers:
        key = (scope, namespace)
        layers = self._views.get(key)
        if layers is None:
            view = self.manager.for_tenant(scope)
            layers = self._views[key] = _Layers(view, namespace, self.semantic_view(scope))
            if len(self._views) > self.limit:
                self._views.popitem(last=False)
        else:
            self._views.move_to_end(key)
        return layers

    def semantic_view(self, scope: str) -> Callable[[], SemanticCache]:
        """The scope's semantic cache, built on first use (it loads an embedder)."""

        def build() -> SemanticCache:
            if self._semantic is None:  # zero-config: the local default embedder
                self._semantic = SemanticCache(self.manager)
            return self._semantic.for_tenant(scope)

        return build


class _Layers:
    def __init__(
        self,
        manager: CacheManager,
        namespace: str | None,
        semantic: Callable[[], SemanticCache],
    ) -> None:
        self.manager = manager
        self._build_semantic = semantic
        self._semantic: SemanticCache | None = None
        self.response = ResponseCache(manager, tag_models=False)
        self.stream = StreamingResponseCache(manager)
        self.embedding = EmbeddingCache(manager)
        self.namespace = namespace

    @property
    def semantic(self) -> SemanticCache:
        if self._semantic is None:
            self._semantic = self._build_semantic()
        return self._semantic


def _hash_key(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _api_key(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and auth[7:].strip():
        return auth[7:].strip()
    return headers.get("x-api-key") or headers.get("api-key") or None


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def _sse(event: str | None, data: str) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}\n\n".encode()


async def _sse_events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str | None, str]]:
    """Parse a server-sent-event stream into ``(event name, data)`` pairs."""
    event: str | None = None
    data: list[str] = []
    async for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)


class Gateway:
    """The request handlers; :func:`create_app` wires them into a Starlette app."""

    def __init__(
        self,
        config: GatewayConfig,
        manager: CacheManager | None = None,
        semantic: SemanticCache | None = None,
    ) -> None:
        self.config = config
        self.manager = manager if manager is not None else CacheManager()
        self.scopes = _Scopes(self.manager, semantic)
        self.client: httpx.AsyncClient | None = None
        self._exporter: Any = None

    # ---- lifecycle ---------------------------------------------------------------------------
    async def startup(self) -> None:
        limits = httpx.Limits(max_connections=512, max_keepalive_connections=128)
        timeout = httpx.Timeout(self.config.timeout, connect=min(10.0, self.config.timeout))
        self.client = httpx.AsyncClient(timeout=timeout, limits=limits)

    async def shutdown(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    # ---- parsing -----------------------------------------------------------------------------
    def _scope(self, headers: Mapping[str, str]) -> str:
        header = self.config.tenant_header
        if header:
            value = headers.get(header.lower())
            if value is not None:
                if not _TENANT_VALUE.match(value):
                    raise ValueError(f"{header} must match {_TENANT_VALUE.pattern}")
                return f"tenant-{value}"
        if self.config.shared:
            return "shared"
        key = _api_key(headers)
        return f"key-{_hash_key(key)}" if key else "anonymous"

    async def _parse(self, request: Request) -> _Call | Response:
        declared = request.headers.get("content-length", "")
        limit = self.config.max_body_bytes
        if declared.isdigit() and int(declared) > limit:
            return _error(413, "request body too large")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > limit:
                return _error(413, "request body too large")
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            scope = self._scope(headers)
        except ValueError as err:
            return _error(400, str(err))
        try:
            body = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            body = None
        ttl_text = headers.get("x-omnicache-ttl")
        try:
            ttl = float(ttl_text) if ttl_text is not None else self.config.default_ttl
        except ValueError:
            return _error(400, "X-Omnicache-TTL must be a number of seconds")
        if ttl is not None and not (0 <= ttl <= 10 * 365 * 86400):
            return _error(400, "X-Omnicache-TTL must be between 0 and 10 years")
        tags = [t.strip() for t in headers.get("x-omnicache-tags", "").split(",") if t.strip()]
        semantic = self.config.semantic or (
            self.config.tenant_header is not None
            and headers.get(self.config.tenant_header.lower()) in self.config.semantic_tenants
        )
        switch = headers.get("x-omnicache-semantic")
        if switch is not None:
            semantic = _truthy(switch)
        threshold_text = headers.get("x-omnicache-threshold")
        try:
            threshold = float(threshold_text) if threshold_text is not None else None
        except ValueError:
            return _error(400, "X-Omnicache-Threshold must be a number in (0, 1]")
        if threshold is not None and not 0 < threshold <= 1:
            return _error(400, "X-Omnicache-Threshold must be a number in (0, 1]")
        namespace = headers.get("x-omnicache-namespace") or None
        if namespace is not None and not _TENANT_VALUE.match(namespace):
            return _error(400, f"X-Omnicache-Namespace must match {_TENANT_VALUE.pattern}")
        return _Call(
            path=request.url.path,
            body=body if isinstance(body, dict) else {},
            raw=raw,
            headers=headers,
            scope=scope,
            bypass=not isinstance(body, dict) or _truthy(headers.get("x-omnicache-bypass")),
            no_store=_truthy(headers.get("x-omnicache-no-store")),
            ttl=ttl,
            tags=tags,
            namespace=namespace,
            semantic=semantic,
            threshold=threshold,
        )

    # ---- upstream ----------------------------------------------------------------------------
    def _upstream_url(self, path: str) -> str:
        base = self.config.upstream
        if _ENDPOINTS.get(path) == "anthropic" and self.config.anthropic_upstream:
            base = self.config.anthropic_upstream
        return base.rstrip("/") + path

    def _forward_headers(self, call: _Call) -> dict[str, str]:
        return {k: v for k, v in call.headers.items() if k in _FORWARD}

    async def _send(self, call: _Call, body: bytes | None = None) -> httpx.Response:
        assert self.client is not None, "gateway not started"
        request = self.client.build_request(
            "POST",
            self._upstream_url(call.path),
            content=call.raw if body is None else body,
            headers=self._forward_headers(call),
        )
        return await self.client.send(request, stream=True)

    async def _pass_through(self, call: _Call, status: str) -> Response:
        upstream = await self._send(call)
        return StreamingResponse(
            _relay(upstream),
            status_code=upstream.status_code,
            headers={**_back_headers(upstream), STATUS: status},
        )

    # ---- the cached endpoints ----------------------------------------------------------------
    def _request_parts(self, call: _Call) -> tuple[Any, str | None, dict[str, Any]]:
        body = call.body
        if call.path == "/v1/completions":
            prompt = body.get("prompt")
        elif call.path == "/v1/responses":
            prompt = body.get("input")
        else:
            prompt = body.get("messages")
        params = {k: v for k, v in body.items() if k not in ("messages", "prompt", "input")}
        params["omnicache_endpoint"] = call.path  # the same body on two APIs: two answers
        if body.get("stream"):
            options = body.get("stream_options")
            params["omnicache_stream_usage"] = bool(
                isinstance(options, dict) and options.get("include_usage")
            )
        model = body.get("model")
        return prompt, model if isinstance(model, str) else None, params

    async def completion(self, request: Request) -> Response:
        parsed = await self._parse(request)
        if isinstance(parsed, Response):
            return parsed
        call = parsed
        try:
            if call.bypass:
                return await self._pass_through(call, "BYPASS")
            prompt, model, params = self._request_parts(call)
            if call.namespace:
                params["omnicache_namespace"] = call.namespace
            req = _Req(call, self.scopes.get(call.scope, call.namespace), prompt, model, params)
            if call.body.get("stream"):
                return await self._stream(req)
            return await self._whole(req)
        except httpx.HTTPError as err:
            return _error(502, f"upstream request failed: {type(err).__name__}")

    async def _lookup(self, req: _Req, stream: bool) -> tuple[Any, str]:
        """The cached entry (or ``None``) and the status a miss reports; never raises."""
        try:
            layer = req.layers.stream if stream else req.layers.response
            found = await layer.aget(req.prompt, model_id=req.model, params=req.params)
        except Exception:
            logger.exception("omnicache gateway: cache lookup failed; forwarding upstream")
            return None, "ERROR"
        return found, "MISS"

    async def _store(self, req: _Req, entry: Any, stream: bool) -> bool:
        """Store through the layer; whether the layer admitted the entry."""
        if req.call.no_store:
            return False
        layer = req.layers.stream if stream else req.layers.response
        try:
            return bool(
                await layer.aset(
                    req.prompt,
                    entry,
                    model_id=req.model,
                    params=req.params,
                    ttl=req.call.ttl,
                    tags=req.call.tags or None,
                )
            )
        except Exception:  # a failed write is a lost entry, not a failed request
            logger.exception("omnicache gateway: storing the answer failed")
            return False

    def _semantic_args(self, req: _Req) -> dict[str, Any] | None:
        """Keyword arguments of a semantic lookup/store, or ``None`` when it cannot apply."""
        if not req.call.semantic or not isinstance(req.prompt, str | list) or not req.prompt:
            return None
        system = req.call.body.get("system")  # Anthropic: top level; OpenAI: in the messages
        if system is not None and not isinstance(system, str):
            return None
        params = {k: v for k, v in req.params.items() if k != "system"}
        # The partition holds the model, the endpoint and every answer-changing parameter,
        # normalized like the exact key, so volatile fields never split it.
        return {"model": req.model, "system": system, "params": normalize_params(params)}

    async def _semantic_lookup(self, req: _Req) -> Response | None:
        args = self._semantic_args(req)
        if args is None:
            return None
        try:
            found = await req.layers.semantic.alookup(
                req.prompt, threshold=req.call.threshold, **args
            )
        except Exception:  # the cache never causes a failed request
            logger.exception("omnicache gateway: semantic lookup failed; forwarding upstream")
            return None
        if not found.hit or not isinstance(found.value, dict):
            return None
        body = dict(found.value)
        written = body.pop(_WRITTEN_AT, None)
        age = time.time() - written if isinstance(written, float) else 0.0
        status = "HIT" if found.tier == "exact" else "SEMANTIC_HIT"
        headers = {STATUS: status, AGE: str(max(int(age), 0))}
        if found.similarity is not None:
            headers[SIMILARITY] = f"{found.similarity:.4f}"
        return JSONResponse(body, headers=headers)

    async def _semantic_store(self, req: _Req, entry: dict[str, Any]) -> None:
        args = self._semantic_args(req)
        if args is None or req.call.no_store:
            return
        try:
            await req.layers.semantic.aset(
                req.prompt, entry, req.call.ttl, tags=req.call.tags or None, **args
            )
        except Exception:  # a failed write is a lost entry, not a failed request
            logger.exception("omnicache gateway: storing the semantic entry failed")

    async def _whole(self, req: _Req) -> Response:
        hit, status = await self._lookup(req, stream=False)
        if isinstance(hit, dict):
            body = dict(hit)
            written = body.pop(_WRITTEN_AT, None)
            age = time.time() - written if isinstance(written, float) else 0.0
            return JSONResponse(body, headers={STATUS: "HIT", AGE: str(max(int(age), 0))})
        semantic = await self._semantic_lookup(req)
        if semantic is not None:
            return semantic
        upstream = await self._send(req.call)
        try:
            content = await upstream.aread()
        finally:
            await upstream.aclose()
        if upstream.status_code == 200:
            try:
                payload = orjson.loads(content)
            except orjson.JSONDecodeError:
                payload = None
            if isinstance(payload, dict):
                # The layer decides what may be stored (no errors, truncations, refusals) and
                # reads the usage for savings; the write time rides along for X-Omnicache-Age.
                entry = {**payload, _WRITTEN_AT: time.time()}
                if await self._store(req, entry, stream=False):
                    await self._semantic_store(req, entry)
        headers = {**_back_headers(upstream), STATUS: status}
        return Response(content, status_code=upstream.status_code, headers=headers)

    async def _stream(self, req: _Req) -> Response:
        # Anthropic and the Responses API name each event (``event:`` lines); chat streams don't.
        named = _ENDPOINTS.get(req.call.path) == "anthropic" or req.call.path == "/v1/responses"
        cached, status = await self._lookup(req, stream=True)
        if isinstance(cached, list):
            return StreamingResponse(
                _replay(cached, named),
                media_type="text/event-stream",
                headers={STATUS: "HIT", "Cache-Control": "no-cache"},
            )
        upstream = await self._send(req.call)
        if upstream.status_code != 200:
            return StreamingResponse(
                _relay(upstream),
                status_code=upstream.status_code,
                headers={**_back_headers(upstream), STATUS: status},
            )
        return StreamingResponse(
            self._live(req, upstream, named),
            media_type="text/event-stream",
            headers={STATUS: status, "Cache-Control": "no-cache"},
        )

    async def _live(self, req: _Req, upstream: httpx.Response, named: bool) -> AsyncIterator[bytes]:
        """Relay the upstream stream event by event; store it only if it completed.

        The entry is written when the final event arrives and *before* that event is relayed,
        so a client that sends the same request as soon as its stream ends finds it cached.
        """
        events: list[Any] = []
        try:
            async for name, data in _sse_events(upstream.aiter_lines()):
                final = data == "[DONE]" or name in _FINAL_EVENTS
                # A data line that is not JSON is relayed but not replayed.
                if data != "[DONE]":
                    with contextlib.suppress(orjson.JSONDecodeError):
                        events.append(orjson.loads(data))
                if final and events:
                    await self._store(req, events, stream=True)
                    events = []  # stored once, even if more events follow
                yield _sse(name, data)
        finally:
            await upstream.aclose()

    async def embeddings(self, request: Request) -> Response:
        parsed = await self._parse(request)
        if isinstance(parsed, Response):
            return parsed
        call = parsed
        texts = call.body.get("input")
        model = call.body.get("model")
        fmt = call.body.get("encoding_format", "float")
        single = isinstance(texts, str)
        items = [texts] if single else texts
        simple = (
            isinstance(model, str)
            and isinstance(items, list)
            and items
            and all(isinstance(t, str) for t in items)
            and fmt in ("float", "base64")
        )
        if call.bypass or not simple:
            return await self._pass_through(call, "BYPASS")
        assert isinstance(items, list)
        assert isinstance(model, str)
        try:
            layers = self.scopes.get(call.scope, call.namespace)
            params = {
                k: v for k, v in call.body.items() if k not in ("input", "model", "encoding_format")
            }
            vectors = await layers.embedding.aget_many(items, model_id=model, params=params or None)
            found: dict[str, Any] = {
                t: v for t, v in zip(items, vectors, strict=True) if v is not None
            }
        except Exception:
            logger.exception("omnicache gateway: cache error, forwarding the request upstream")
            return await self._pass_through(call, "ERROR")
        missing = [t for t in dict.fromkeys(items) if found.get(t) is None]
        usage = {"prompt_tokens": 0, "total_tokens": 0}
        if missing:
            body = orjson.dumps({**call.body, "input": missing, "encoding_format": "float"})
            upstream = await self._send(call, body)
            try:
                content = await upstream.aread()
            finally:
                await upstream.aclose()
            if upstream.status_code != 200:
                headers = {**_back_headers(upstream), STATUS: "MISS"}
                return Response(content, status_code=upstream.status_code, headers=headers)
            payload = orjson.loads(content)
            rows = sorted(payload.get("data", []), key=lambda r: r.get("index", 0))
            if len(rows) != len(missing):
                return _error(502, "upstream returned a different number of embeddings")
            usage = payload.get("usage") or usage
            for text, row in zip(missing, rows, strict=True):
                vector = np.asarray(row["embedding"], dtype=np.float32)
                found[text] = vector
                if not call.no_store:
                    await layers.embedding.aset(
                        text, vector, model_id=model, params=params or None, ttl=call.ttl
                    )
        data = [
            {"object": "embedding", "index": i, "embedding": _encode_vector(found[t], fmt)}
            for i, t in enumerate(items)
        ]
        status = (
            "HIT" if not missing else ("MISS" if len(missing) == len(set(items)) else "PARTIAL")
        )
        return JSONResponse(
            {"object": "list", "data": data, "model": model, "usage": usage},
            headers={STATUS: status},
        )

    # ---- operations --------------------------------------------------------------------------
    async def invalidate(self, request: Request) -> Response:
        token = self.config.admin_token
        given = request.headers.get("x-omnicache-admin-token", "")
        if not token:
            return _error(404, "invalidation is disabled (no admin token configured)")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return _error(401, "bad or missing X-Omnicache-Admin-Token")
        parsed = await self._parse(request)
        if isinstance(parsed, Response):
            return parsed
        tags = parsed.body.get("tags")
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
            return _error(400, 'body must be {"tags": ["tag", ...]}')
        view = self.scopes.get(parsed.scope, None).manager
        retired = 0
        for tag in tags:
            retired += await view.ainvalidate(tag)
        return JSONResponse({"invalidated": tags, "entries": retired})

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        probe = f"readyz-{time.monotonic_ns()}"
        root = self.manager
        await root.aset(probe, 1, 5)
        ok = await root.aget(probe) == 1
        await root.adelete(probe)
        upstream_ready = self.client is not None
        status = 200 if ok and upstream_ready else 503
        return JSONResponse(
            {"cache": "ok" if ok else "degraded (requests go upstream)", "ready": status == 200},
            status_code=status,
        )

    async def metrics(self, request: Request) -> Response:
        if self._exporter is None:
            try:
                from prometheus_client import CollectorRegistry

                from omnicache_ai.observability.prometheus import PrometheusExporter
            except ImportError:  # no [observability] extra: the same figures as JSON
                return JSONResponse(self.manager.metrics.snapshot())
            self._exporter = PrometheusExporter(self.manager, registry=CollectorRegistry())
        return Response(self._exporter.generate_latest(), media_type="text/plain; version=0.0.4")


def _encode_vector(vector: Any, fmt: str) -> Any:
    arr = np.asarray(vector, dtype=np.float32)
    if fmt == "base64":
        return base64.b64encode(arr.astype("<f4").tobytes()).decode()
    return arr.tolist()


def _back_headers(upstream: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in upstream.headers.items() if k.lower() not in _DROP_BACK}


async def _relay(upstream: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    finally:
        await upstream.aclose()


async def _replay(events: list[Any], named: bool) -> AsyncIterator[bytes]:
    for event in events:
        name = event.get("type") if named and isinstance(event, dict) else None
        yield _sse(name, orjson.dumps(event).decode())
    if not named:
        yield _sse(None, "[DONE]")


def _error(status: int, message: str) -> Response:
    return JSONResponse(
        {"error": {"message": message, "type": "omnicache_gateway_error"}},
        status_code=status,
        headers={STATUS: "ERROR"},
    )


#: Environment variables of ``omnicache serve`` -> GatewayConfig field (the flags set them).
ENV: Final = {
    "OMNICACHE_GATEWAY_UPSTREAM": "upstream",
    "OMNICACHE_GATEWAY_ANTHROPIC_UPSTREAM": "anthropic_upstream",
    "OMNICACHE_GATEWAY_TENANT_HEADER": "tenant_header",
    "OMNICACHE_GATEWAY_SHARED": "shared",
    "OMNICACHE_GATEWAY_ADMIN_TOKEN": "admin_token",
    "OMNICACHE_GATEWAY_MAX_BODY_BYTES": "max_body_bytes",
    "OMNICACHE_GATEWAY_TIMEOUT": "timeout",
    "OMNICACHE_GATEWAY_TTL": "default_ttl",
    "OMNICACHE_GATEWAY_SEMANTIC": "semantic",
    "OMNICACHE_GATEWAY_SEMANTIC_TENANTS": "semantic_tenants",
}


def config_from_env(environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """A :class:`GatewayConfig` from ``OMNICACHE_GATEWAY_*`` variables (errors name them)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for var, name in ENV.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        try:
            if name in ("shared", "semantic"):
                values[name] = _truthy(raw)
            elif name == "semantic_tenants":
                values[name] = frozenset(t.strip() for t in raw.split(",") if t.strip())
            elif name == "max_body_bytes":
                values[name] = int(raw)
            elif name in ("timeout", "default_ttl"):
                values[name] = float(raw)
            else:
                values[name] = raw
        except ValueError as err:
            raise ConfigurationError(f"{var}: {err}") from err
    if "upstream" not in values:
        raise ConfigurationError("OMNICACHE_GATEWAY_UPSTREAM (or --upstream) is required")
    try:
        return GatewayConfig(**values)
    except ValueError as err:
        raise ConfigurationError(f"OMNICACHE_GATEWAY_*: {err}") from err


def app_from_env() -> Starlette:
    """The app ``omnicache serve`` runs in each worker: gateway and cache from the environment."""
    from omnicache_ai.config.settings import OmnicacheSettings

    manager = CacheManager.from_settings(OmnicacheSettings.from_env())
    return create_app(config_from_env(), manager)


def create_app(
    config: GatewayConfig,
    manager: CacheManager | None = None,
    semantic: SemanticCache | None = None,
) -> Starlette:
    """The gateway as an ASGI app (serve it with uvicorn, or ``omnicache serve``).

    Example:
        >>> app = create_app(GatewayConfig(upstream="http://127.0.0.1:9"))
        >>> sorted(r.path for r in app.routes)[:3]
        ['/healthz', '/metrics', '/omnicache/invalidate']
    """
    gateway = Gateway(config, manager, semantic)
    routes = [Route(path, gateway.completion, methods=["POST"]) for path in _ENDPOINTS]
    routes += [
        Route("/v1/embeddings", gateway.embeddings, methods=["POST"]),
        Route("/omnicache/invalidate", gateway.invalidate, methods=["POST"]),
        Route("/healthz", gateway.healthz, methods=["GET"]),
        Route("/readyz", gateway.readyz, methods=["GET"]),
        Route("/metrics", gateway.metrics, methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.startup()
        try:
            yield
        finally:
            await gateway.shutdown()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.gateway = gateway
    return app
