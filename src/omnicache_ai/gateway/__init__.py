"""``omnicache serve``: a caching gateway that speaks the OpenAI and Anthropic HTTP APIs.

Needs the ``gateway`` extra (``pip install 'omnicache-ai[gateway]'``): Starlette for the ASGI
app, uvicorn to serve it, httpx for the pooled upstream client.
"""

from __future__ import annotations

from omnicache_ai.gateway.app import GatewayConfig, app_from_env, config_from_env, create_app

__all__ = ["GatewayConfig", "app_from_env", "config_from_env", "create_app"]
