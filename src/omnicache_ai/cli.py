"""The ``omnicache`` command line (also ``python -m omnicache_ai``).

Every command works on the backend configured by ``OMNICACHE_*`` environment variables
(``OMNICACHE_BACKEND=disk OMNICACHE_DISK_PATH=/var/cache/app omnicache stats``).

Commands:
    demo          run a support-bot workload through the cache and print what it saved
    stats         hit/miss/savings table (``--json`` for machines)
    flush         remove every entry of the namespace/tenant (asks first; ``--yes`` skips)
    inspect KEY   show one entry: size, format, tags, TTL state and a preview of the value
    config        print the effective settings and the variables that set them
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

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

    run_demo(requests=args.requests, seed=args.seed, latency_scale=args.latency_scale)
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


def _cmd_inspect(args: argparse.Namespace) -> int:
    from omnicache_ai.core import envelope
    from omnicache_ai.core.errors import IntegrityError

    manager = _manager(args)
    manager.strict = True
    skey = manager._skey(args.key)
    raw = manager._sync.get(skey)
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
        except IntegrityError as err:
            info["envelope"] = f"invalid: {err}"
    from omnicache_ai.core.cache_manager import MISSING

    value = manager.get(args.key, default=MISSING)
    info["valid"] = value is not MISSING
    if value is not MISSING:
        preview = repr(value)
        info["value_type"] = type(value).__name__
        info["value_preview"] = preview if len(preview) <= 400 else preview[:400] + "..."
    print(json.dumps(info, indent=2, default=str))
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    settings = OmnicacheSettings.from_env()
    for var, default in OmnicacheSettings.env_variables().items():
        name = var.removeprefix("OMNICACHE_").lower()
        value = getattr(settings, name)
        if name == "pickle_secret" and value:
            value = "<set>"
        marker = "" if value == default else "   (from environment)"
        if name == "semantic_threshold" and value is None:
            marker = f"   (the {settings.embedder} embedder's calibrated threshold)"
            value = settings.effective_semantic_threshold()
        print(f"{var:<32} {value!r}{marker}")
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

    config = sub.add_parser("config", help="print effective settings")
    config.set_defaults(func=_cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``omnicache`` command."""
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except (ConfigurationError, OmnicacheError) as err:
        print(f"omnicache: error: {err}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
