"""The ``omnicache`` command line (also ``python -m omnicache_ai``).

Every command works on the backend configured by ``OMNICACHE_*`` environment variables
(``OMNICACHE_BACKEND=disk OMNICACHE_DISK_PATH=/var/cache/app omnicache stats``).

Commands:
    demo          run a support-bot workload through the cache and print what it saved
    stats         hit/miss/savings table (``--json`` for machines)
    flush         remove every entry of the namespace/tenant (asks first; ``--yes`` skips)
    inspect KEY   show one entry: size, format, tags, TTL state and a preview of the value
    config        print the effective settings and the variables that set them (secrets
                  and URL passwords redacted)

Exit status: 0 success; 1 nothing usable (``inspect``: no entry, or one that does not
decode; ``flush``: declined); 2 a bad setting or argument; 3 the backend cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from omnicache_ai._version import __version__
from omnicache_ai.config.settings import OmnicacheSettings
from omnicache_ai.core.errors import ConfigurationError, OmnicacheError

__all__ = ["main"]


def _manager(args: argparse.Namespace) -> Any:
    from omnicache_ai.core.cache_manager import CacheManager

    manager = CacheManager.from_settings(OmnicacheSettings.from_env())
    tenant = getattr(args, "tenant", None)
    return manager.for_tenant(tenant) if tenant else manager


def _cmd_demo(args: argparse.Namespace) -> int:
    from omnicache_ai.demo import run_demo

    run_demo(requests=args.requests, seed=args.seed, latency_scale=args.latency_scale,
             threshold=args.threshold)  # fmt: skip
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    manager = _manager(args)
    try:
        from omnicache_ai.observability.stats_render import render_stats
    except ImportError:
        snap = manager.metrics.snapshot()
        print(json.dumps(snap, indent=2, default=str) if args.json else _plain_stats(snap))
        return 0
    print(render_stats(manager, as_json=args.json))
    return 0


def _plain_stats(snap: dict[str, Any]) -> str:
    rows = [(k, v) for k, v in snap.items() if not isinstance(v, dict)]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _flush_scope(manager: Any) -> str:
    """What a flush removes, spelled out: backend, namespace, key prefix and tenant."""
    prefix = getattr(manager.backend, "prefix", "")
    where = f"{manager.backend_name} (key prefix {prefix!r})" if prefix else manager.backend_name
    who = f"tenant {manager.tenant!r}" if manager.tenant else "every tenant"
    return (
        f"namespace {manager.key_builder.namespace!r}, {who}, on {where}: "
        f"keys under {manager.scope!r}"
    )


def _cmd_flush(args: argparse.Namespace) -> int:
    # Only the manager's scope goes: CacheManager.clear() deletes the keys under its
    # namespace (and tenant) prefix, never other namespaces or foreign keys.
    manager = _manager(args)
    scope = _flush_scope(manager)
    if not args.yes:
        if not sys.stdin.isatty():
            print(f"refusing to flush {scope} without --yes (stdin is not a terminal)")
            return 2
        answer = input(f"Remove every cached entry of {scope}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing removed")
            return 1
    manager.strict = True  # a flush that silently failed would be worse than an error
    manager.clear()
    if not manager.tenant:
        # The namespace's shared statistics (docs/observability.md) live beside its scope,
        # under their own reserved prefix; a full flush resets them too.
        from omnicache_ai.core._ops import sync_ops
        from omnicache_ai.observability.shared_stats import stats_prefix

        sync_ops(manager.backend).delete_prefix(stats_prefix(manager))
    print(f"flushed {scope}")
    return 0


class _BackendDown(Exception):
    """The configured backend failed a read (exit 3)."""


def _cmd_inspect(args: argparse.Namespace) -> int:
    from omnicache_ai.core import envelope
    from omnicache_ai.core.cache_manager import MISSING

    manager = _manager(args)
    if args.key.startswith("@") and not manager.tenant:
        tenant, _, rest = args.key[1:].partition(":")
        raise ConfigurationError(
            f"{args.key!r} is a tenant's storage key; inspect it as "
            f"'omnicache inspect --tenant {tenant} {rest}'"
        )
    try:
        skey = manager._skey(args.key)
    except (TypeError, ValueError) as err:
        raise ConfigurationError(f"cannot inspect {args.key!r}: {err}") from err
    manager.strict = True  # a backend failure must be reported, not shown as "not cached"
    try:
        raw = manager._sync.get(skey)
    except Exception as err:  # any client error: the point is one clear line, not a trace
        raise _BackendDown(f"cannot read from {manager.backend_name}: {_one_line(err)}") from err
    if raw is None:
        print(f"{args.key}: not cached")
        return 1
    info: dict[str, Any] = {"key": args.key, "storage_key": skey}
    if isinstance(raw, bytes):
        info["stored_bytes"] = len(raw)
        try:
            env = envelope.parse(raw)
            info.update(
                format_id=env.format_id,
                compression_codec=env.codec_id,
                tags=dict(env.tags),
            )
        # A corrupt entry is what inspect is for: describe whatever the parser tripped on.
        except Exception as err:  # noqa: BLE001
            info["envelope"] = f"invalid: {_one_line(err)}"
    try:
        value = manager.get(args.key, default=MISSING)
    except Exception as err:  # noqa: BLE001 - reported as the entry's state, not a trace
        value = MISSING
        info["error"] = _one_line(err)
    info["valid"] = value is not MISSING
    if value is not MISSING:
        preview = repr(value)
        info["value_type"] = type(value).__name__
        info["value_preview"] = preview if len(preview) <= 400 else preview[:400] + "..."
    print(json.dumps(info, indent=2, default=str))
    return 0 if info["valid"] else 1


def _one_line(err: BaseException) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())


def redact_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``.

    Example:
        >>> redact_url("redis://:s3cret@cache:6379/0")
        'redis://:***@cache:6379/0'
        >>> redact_url("redis://localhost:6379/0")
        'redis://localhost:6379/0'
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparseable URL>"
    if password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _cmd_config(args: argparse.Namespace) -> int:
    settings = OmnicacheSettings.from_env()
    for var, default in OmnicacheSettings.env_variables().items():
        name = var.removeprefix("OMNICACHE_").lower()
        value = getattr(settings, name)
        if name == "pickle_secret" and value:
            value = "<set>"
        elif name in ("redis_url", "vector_url") and isinstance(value, str):
            value = redact_url(value)
        marker = "" if getattr(settings, name) == default else "   (from environment)"
        if name == "semantic_threshold" and value is None:
            marker = f"   (the {settings.embedder} embedder's calibrated threshold)"
            value = settings.effective_semantic_threshold()
        print(f"{var:<32} {value!r}{marker}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import os

    try:
        import uvicorn

        from omnicache_ai.gateway.app import config_from_env
    except ImportError as err:
        raise ConfigurationError(
            f"omnicache serve needs the gateway extra: pip install 'omnicache-ai[gateway]' ({err})"
        ) from err
    flags = {
        "OMNICACHE_GATEWAY_UPSTREAM": args.upstream,
        "OMNICACHE_GATEWAY_ANTHROPIC_UPSTREAM": args.anthropic_upstream,
        "OMNICACHE_GATEWAY_TENANT_HEADER": args.tenant_header,
        "OMNICACHE_GATEWAY_SHARED": "true" if args.shared else None,
        "OMNICACHE_GATEWAY_SEMANTIC": "true" if args.semantic else None,
        "OMNICACHE_GATEWAY_SEMANTIC_TENANTS": args.semantic_tenants,
        "OMNICACHE_GATEWAY_MAX_BODY_BYTES": args.max_body_bytes,
        "OMNICACHE_GATEWAY_TIMEOUT": args.timeout,
    }
    for var, value in flags.items():  # flags win over the environment; workers read it
        if value is not None:
            os.environ[var] = str(value)
    config_from_env()  # fail here, in one line, rather than in every worker
    uvicorn.run(
        "omnicache_ai.gateway.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        timeout_graceful_shutdown=args.graceful_timeout,
        log_level=args.log_level,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="omnicache",
        description="omnicache-ai: inspect and exercise the cache configured by OMNICACHE_*.",
    )
    parser.add_argument("--version", action="version", version=f"omnicache-ai {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the support-bot demo on the embedded backend")
    demo.add_argument("--requests", type=int, default=80, help="questions to ask (default 80)")
    demo.add_argument("--seed", type=int, default=7, help="workload random seed")
    demo.add_argument(
        "--latency-scale", type=float, default=1.0,
        help="multiply the fake LLM's simulated latency (0 for instant)",
    )  # fmt: skip
    demo.add_argument(
        "--threshold", type=float, default=None,
        help="semantic similarity threshold (default: the embedder's calibrated one)",
    )  # fmt: skip
    demo.set_defaults(func=_cmd_demo)

    stats = sub.add_parser("stats", help="show cache statistics")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.add_argument("--tenant", help="scope to one tenant")
    stats.set_defaults(func=_cmd_stats)

    flush = sub.add_parser(
        "flush", help="remove every cached entry of the configured namespace (or one tenant)"
    )
    flush.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    flush.add_argument("--tenant", help="flush only this tenant's entries")
    flush.set_defaults(func=_cmd_flush)

    inspect = sub.add_parser("inspect", help="show one cached entry")
    inspect.add_argument("key", help="the cache key (as passed to CacheManager.set)")
    inspect.add_argument("--tenant", help="look in this tenant's scope")
    inspect.set_defaults(func=_cmd_inspect)

    serve = sub.add_parser(
        "serve",
        help="run the caching gateway (OpenAI- and Anthropic-compatible HTTP API)",
        description="Serve /v1/chat/completions, /v1/completions, /v1/responses, "
        "/v1/embeddings and /v1/messages from the cache configured by OMNICACHE_*, forwarding "
        "misses to the upstream. Every flag has an OMNICACHE_GATEWAY_* variable "
        "(OMNICACHE_GATEWAY_ADMIN_TOKEN enables POST /omnicache/invalidate).",
    )
    serve.add_argument("--upstream", help="base URL of the OpenAI-compatible API (required)")
    serve.add_argument(
        "--anthropic-upstream", help="base URL for /v1/messages (default: --upstream)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (share a Redis)")
    serve.add_argument("--tenant-header", help="trusted header naming the tenant (else: API key)")
    serve.add_argument("--shared", action="store_true", help="share entries across API keys")
    serve.add_argument(
        "--semantic", action="store_true",
        help="answer paraphrases for every request (default: only X-Omnicache-Semantic: on)",
    )  # fmt: skip
    serve.add_argument(
        "--semantic-tenants",
        help="comma-separated tenant header values with semantic matching on by default",
    )
    serve.add_argument("--max-body-bytes", type=int, help="largest request body (default 10 MiB)")
    serve.add_argument("--timeout", type=float, help="upstream timeout in seconds (default 600)")
    serve.add_argument(
        "--graceful-timeout", type=float, default=30.0,
        help="seconds to let in-flight requests and streams finish on shutdown",
    )  # fmt: skip
    serve.add_argument("--log-level", default="info", help="uvicorn log level")
    serve.set_defaults(func=_cmd_serve)

    config = sub.add_parser("config", help="print effective settings")
    config.set_defaults(func=_cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``omnicache`` command."""
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except (ConfigurationError, OmnicacheError) as err:
        print(f"omnicache: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except _BackendDown as err:
        print(f"omnicache: error: {err}", file=sys.stderr)
        return 3
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
