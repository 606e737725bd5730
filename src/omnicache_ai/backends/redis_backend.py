"""Redis storage: :class:`RedisBackend` (threads) and :class:`AsyncRedisBackend` (asyncio).

Both talk to a standalone server or, with ``cluster=True``, to a Redis Cluster, and both
store exactly what they are given: ``bytes`` (the :class:`~omnicache_ai.CacheManager`'s
envelopes). They never unpickle anything: whoever can write to Redis must not be able to
run code in every reader, so decoding stays in the manager's envelope, where pickle is
opt-in and signed.

What the backend guarantees:

* **Bounded latency.** Sockets time out after ``socket_timeout`` (0.25 s by default) and a
  :class:`~omnicache_ai.backends._circuit.CircuitBreaker` opens after
  ``failure_threshold`` consecutive connection errors or timeouts: while it is open every
  call raises :class:`BackendUnavailable` in microseconds, without touching the network.
  After ``cooldown`` seconds one call probes the server; success closes the breaker, so
  the backend recovers by itself when Redis comes back. The manager turns these errors
  into counted misses, so the application keeps working.
* **No surprises from the data.** A key holding something other than a string (a list
  written by another program, say) raises :class:`BackendDataError`; a value that is
  not ``bytes`` is never returned.
* **Milliseconds.** TTLs are sent as ``PX``; ``ttl=0.2`` expires after 200 ms.
* **One round trip per batch.** ``get_many`` is one ``MGET`` (per hash slot in a cluster),
  ``set_many`` one pipeline, ``delete_many`` one ``UNLINK`` per 1000 keys.
* **A safe clear.** ``clear()`` removes only the keys under the backend's ``prefix``,
  found with ``SCAN`` (the prefix's glob characters escaped) and removed with ``UNLINK``.
  Without a prefix the backend would have to wipe the whole database, which may hold
  other applications' data, so it refuses unless built with ``owns_db=True`` (then it
  sends ``FLUSHDB ASYNC``).

Key layout: the stored key is ``prefix + key`` encoded as UTF-8. In a cluster each key
lands in its own slot; operations on several keys are split per slot (``MGET`` per slot,
a cluster pipeline for ``set_many``, ``UNLINK`` per slot), so they never fail with
``CROSSSLOT`` but are atomic only per slot. Put a hash tag in the prefix
(``prefix="{app}:"``) to force all keys into one slot when atomicity across keys matters
more than spreading the load.

Example:
    A backend in front of a local Redis, with its own key prefix::

        from omnicache_ai.backends.redis_backend import RedisBackend

        backend = RedisBackend(url="redis://localhost:6379/0", prefix="myapp:")
        backend.set("k", b"v", ttl=60)
        assert backend.get("k") == b"v"
        backend.close()
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
import logging
import math
import threading
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any, Final
from urllib.parse import urlsplit

from omnicache_ai.backends import _redis_tracking as _trk
from omnicache_ai.backends._circuit import (
    BackendDataError,
    BackendError,
    BackendUnavailable,
    CircuitBreaker,
    State,
)
from omnicache_ai.backends.base import AsyncBaseBackend, BaseBackend
from omnicache_ai.backends.redis_lock import RedisLockProvider
from omnicache_ai.core import envelope as _env

try:
    import redis
    import redis.asyncio
    import redis.asyncio.cluster
    import redis.cluster
    from redis import exceptions as rex
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "RedisBackend needs the 'redis' package; install it with: pip install 'omnicache-ai[redis]'"
    ) from err

__all__ = [
    "AsyncRedisBackend",
    "BackendDataError",
    "BackendError",
    "BackendUnavailable",
    "RedisBackend",
]

logger = logging.getLogger(__name__)

DEFAULT_URL: Final = "redis://localhost:6379/0"
#: Default bound on one stored value (8 MiB); ``OMNICACHE_MAX_VALUE_BYTES`` sets it.
DEFAULT_MAX_VALUE_BYTES: Final = 8 * 1024 * 1024
#: Keys sent in one UNLINK / MGET chunk: large enough to amortise the round trip, small
#: enough not to stall a single-threaded server on one command.
_CHUNK: Final = 1000

# Errors that mean "the server is unreachable, hung, or not speaking Redis": they count
# against the breaker. RedisClusterException is raised when no node of a cluster can be
# reached; InvalidResponse when the bytes on the wire are not RESP at all.
_OUTAGE: Final[tuple[type[BaseException], ...]] = (
    rex.ConnectionError,
    rex.TimeoutError,
    rex.ClusterDownError,
    rex.RedisClusterException,
    rex.InvalidResponse,
    OSError,
)
# The client's own connection pool is exhausted: the server may be fine, so this neither
# opens nor closes the breaker.
_SATURATED: Final[tuple[type[BaseException], ...]] = (rex.MaxConnectionsError,)
# Errors in how a command was built (not outages, not server answers); redis-py < 6
# lacks some of them.
_MISUSE: Final[tuple[type[BaseException], ...]] = tuple(
    getattr(rex, name)
    for name in ("CrossSlotTransactionError", "InvalidPipelineStack")
    if hasattr(rex, name)
)
_GLOB_SPECIAL: Final = frozenset(b"*?[]\\")

# get_checked with client_tracking=False (or where tracking is refused): read an entry and
# validate its tag generations in the same round trip, inside Redis. The default read does
# the same check with a plain GET against tracked counters (backends/_redis_tracking.py).
# The envelope header (core/envelope.py) spells out each tag's counter key and the
# generation it had at write time; the entry is served only if every counter still holds
# that generation (a missing counter means the counters were lost, e.g. a restart without
# persistence, so the entry is stale: see core/invalidation.py). A stale entry is deleted
# on the spot, like the manager's lazy delete. Anything that is not a well-formed tagged envelope is
# returned as is, so the manager's own parser reports it. Counter keys are read from the
# value rather than passed in KEYS, which only a standalone server allows: cluster
# backends do not offer get_checked.
# A value longer than ARGV[3] bytes is not sent at all: its length comes back instead (an
# integer), so one huge entry can neither stall the connection past the socket timeout nor
# count as an outage against the breaker.
# KEYS[1] entry key; ARGV[1] this backend's key prefix; ARGV[2] envelope magic + version;
# ARGV[3] max_value_bytes.
_GET_CHECKED_LUA: Final = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
if #raw > tonumber(ARGV[3]) then return #raw end
local ntags = string.byte(raw, 6)
if not ntags or ntags == 0 or string.sub(raw, 1, 3) ~= ARGV[2] then return raw end
local pos = 7
local size = #raw
for _ = 1, ntags do
  if pos + 1 > size then return raw end
  local hi, lo = string.byte(raw, pos, pos + 1)
  local klen = hi * 256 + lo
  if pos + 1 + klen + 8 > size then return raw end
  local counter = ARGV[1] .. string.sub(raw, pos + 2, pos + 1 + klen)
  pos = pos + 2 + klen
  local recorded = 0
  for i = 0, 7 do recorded = recorded * 256 + string.byte(raw, pos + i) end
  pos = pos + 8
  local current = redis.call('GET', counter)
  if not current or tonumber(current) ~= recorded then
    redis.call('DEL', KEYS[1])
    return false
  end
end
return raw
"""
# get_many on a standalone server: MGET, except that a value longer than ARGV[1] bytes is
# replaced by its length (not sent), and a key of another type reads as nil, as with MGET.
_GET_MANY_LUA: Final = """
local limit = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.pcall('GET', key)
  if type(v) == 'table' then v = false elseif v and #v > limit then v = #v end
  out[i] = v
end
return out
"""
_GET_MANY_SHA: Final = hashlib.sha1(_GET_MANY_LUA.encode()).hexdigest()
_ENVELOPE_HEAD: Final = _env.MAGIC + bytes([_env.VERSION])
_GET_CHECKED_SHA: Final = hashlib.sha1(_GET_CHECKED_LUA.encode()).hexdigest()


# ---- pure helpers shared by the sync and async backends -----------------------------------


class _OversizeLog:
    """One warning per backend for values too large to read, then silence (they are counted)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def report(self, name: str, op: str, key: str, size: int, limit: int | None) -> None:
        if name in self._seen:
            return
        self._seen.add(name)
        logger.warning(
            "omnicache: %s.%s: the value at %r is %d bytes, over max_value_bytes=%s; served "
            "as a miss (further ones are counted in stats()['oversize_reads'])",
            name, op, key, size, limit,
        )  # fmt: skip


_oversize_log = _OversizeLog()


class _TrackingUnsupported(rex.ResponseError):
    """The server refused RESP3 or ``CLIENT TRACKING`` (Redis < 6, some proxies)."""


def _tracking_failed(exc: BaseException) -> _TrackingUnsupported:
    return _TrackingUnsupported(
        f"client tracking unavailable ({type(exc).__name__}: {exc}); tagged reads fall back "
        "to the Lua script"
    )


def _tracked_connect(conn: Any) -> None:
    """``redis_connect_func`` of the tracked read pool: handshake, then ``CLIENT TRACKING``.

    Runs on every (re)connect, so each new socket starts with an empty counter cache.
    """
    gens: dict[bytes, int | None] = {}
    try:
        conn.on_connect()
        set_handler = getattr(conn._parser, "set_invalidation_push_handler", None)
        if set_handler is None:
            raise _TrackingUnsupported("this redis-py cannot receive invalidation pushes")
        set_handler(functools.partial(_trk.forget, gens))
        conn.send_command(*_trk.TRACKING_ON)
        conn.read_response()
    except _TrackingUnsupported:
        raise
    except rex.ResponseError as exc:
        raise _tracking_failed(exc) from exc
    setattr(conn, _trk.ATTR, gens)


async def _atracked_connect(conn: Any) -> None:
    """Async :func:`_tracked_connect`."""
    gens: dict[bytes, int | None] = {}

    async def forget(push: Any) -> None:
        _trk.forget(gens, push)

    try:
        await conn.on_connect()
        set_handler = getattr(conn._parser, "set_invalidation_push_handler", None)
        if set_handler is None:
            raise _TrackingUnsupported("this redis-py cannot receive invalidation pushes")
        set_handler(forget)
        await conn.send_command(*_trk.TRACKING_ON)
        await conn.read_response()
    except _TrackingUnsupported:
        raise
    except rex.ResponseError as exc:
        raise _tracking_failed(exc) from exc
    setattr(conn, _trk.ATTR, gens)


def _pool_args(method: Any) -> tuple[str, ...]:
    """Arguments for ``pool.get_connection``: none since redis-py 5.3, a command name before."""
    param = inspect.signature(method).parameters.get("command_name")
    return ("GET",) if param is not None and param.default is inspect.Parameter.empty else ()


_SYNC_POOL_ARGS: Final = _pool_args(redis.ConnectionPool.get_connection)
_ASYNC_POOL_ARGS: Final = _pool_args(redis.asyncio.ConnectionPool.get_connection)


def _tracked_pool(base: Any, pool_types: tuple[type, ...], connect: Any) -> Any:
    """A RESP3, tracking pool shaped like the client's own ``base`` (``None``: not possible)."""
    if type(base) not in pool_types:
        return None  # e.g. a Sentinel pool: the Lua script does the check instead
    kwargs = {**base.connection_kwargs, "protocol": 3, "redis_connect_func": connect}
    return type(base)(
        connection_class=base.connection_class, max_connections=base.max_connections, **kwargs
    )


def _ttl_ms(ttl: float | None) -> int | None:
    """Milliseconds for ``PX``; ``None`` for no expiry; ``<= 0`` means already expired."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise TypeError(f"ttl must be a number of seconds or None, got {type(ttl).__name__}")
    if not math.isfinite(ttl):
        raise ValueError(f"ttl must be finite, got {ttl!r}")
    # Round up so that a positive TTL below 1 ms still stores the entry briefly.
    return math.ceil(ttl * 1000)


def _check_value(value: Any) -> bytes | bytearray | memoryview:
    if isinstance(value, bytes | memoryview):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    raise TypeError(
        f"Redis backends store bytes, got {type(value).__name__}; let a CacheManager "
        "serialize values, or encode them yourself"
    )


def _check_add_value(value: Any) -> bytes | bytearray | memoryview:
    # add() also creates counters (a tag generation's starting value), which INCRBY then
    # updates: an int is stored as its decimal digits, exactly as INCRBY would store it.
    if type(value) is int:
        return str(value).encode("ascii")
    return _check_value(value)


def _check_delta(delta: int) -> int:
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise TypeError(f"incr delta must be an int, got {type(delta).__name__}")
    return delta


def _glob_escape(raw: bytes) -> bytes:
    """Escape Redis glob metacharacters so ``SCAN MATCH`` treats them literally."""
    if not _GLOB_SPECIAL.intersection(raw):
        return raw
    out = bytearray()
    for byte in raw:
        if byte in _GLOB_SPECIAL:
            out.append(0x5C)  # backslash
        out.append(byte)
    return bytes(out)


def _describe(url: str | None, client: Any) -> str:
    """A name for error messages: host, port and db, never the credentials."""
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return f"redis unix:{parts.path}"
        try:
            port = parts.port or 6379
        except ValueError:
            # The URL itself is not echoed: it may carry a password.
            raise ValueError("the Redis URL has an invalid port") from None
        return f"redis {parts.hostname or 'localhost'}:{port}{parts.path}"
    get_kwargs = getattr(client, "get_connection_kwargs", None)
    kwargs = get_kwargs() if callable(get_kwargs) else None
    if isinstance(kwargs, dict) and "host" in kwargs:
        return f"redis {kwargs['host']}:{kwargs.get('port', 6379)}"
    # Cluster clients have no single address.
    return f"redis {type(client).__name__}"


def _answer_error(name: str, exc: BaseException) -> BackendError:
    """Translate an error *answer* from a live server."""
    if isinstance(exc, rex.ResponseError | rex.DataError):
        return BackendDataError(f"{name}: {exc}")
    return BackendError(f"{name}: {type(exc).__name__}: {exc}")


def _outage_error(name: str, exc: BaseException) -> BackendUnavailable:
    return BackendUnavailable(f"{name}: {type(exc).__name__}: {exc}")


def _sum_info(info: Any, field: str) -> int | None:
    """Read an INFO field; a cluster answers with one dict per node, which we add up."""
    if not isinstance(info, dict):
        return None
    if field in info:
        value = info[field]
        return int(value) if isinstance(value, int | float) else None
    total = None
    for node_info in info.values():
        if isinstance(node_info, dict) and isinstance(node_info.get(field), int | float):
            total = (total or 0) + int(node_info[field])
    return total


class _RedisCommon:
    """Configuration and key handling shared by both backends (no I/O here)."""

    _client: Any
    _breaker: CircuitBreaker
    _twin_config: dict[str, Any]

    def _setup(
        self,
        *,
        url: str | None,
        client: Any,
        prefix: str,
        breaker: CircuitBreaker | None,
        failure_threshold: int,
        cooldown: float,
        owns_db: bool,
        scan_count: int,
        socket_timeout: float | None,
        max_value_bytes: int | None = None,
        client_tracking: bool = True,
    ) -> None:
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, got {type(prefix).__name__}")
        if url is not None and client is not None:
            raise ValueError("pass either url= or client=, not both")
        if url is not None and not isinstance(url, str):
            raise TypeError(f"url must be a str, got {type(url).__name__}")
        if isinstance(scan_count, bool) or not isinstance(scan_count, int) or scan_count < 1:
            raise ValueError(f"scan_count must be a positive int, got {scan_count!r}")
        if max_value_bytes is not None and (
            isinstance(max_value_bytes, bool)
            or not isinstance(max_value_bytes, int)
            or max_value_bytes < 1
        ):
            raise ValueError(
                f"max_value_bytes must be a positive int or None, got {max_value_bytes!r}"
            )
        #: Largest value stored or read, in bytes (``None``: no limit). See docs/redis.md.
        self.max_value_bytes = max_value_bytes
        #: Reads that found a value past ``max_value_bytes`` and returned a miss instead.
        self.oversize_reads = 0
        # Lua compares numbers; 2**53 stands for "no limit" and stays exact as a double.
        self._max_arg = max_value_bytes if max_value_bytes is not None else 2**53
        if client is not None:
            kwargs: Any = getattr(client, "get_connection_kwargs", dict)()
            if isinstance(kwargs, dict) and kwargs.get("decode_responses"):
                raise ValueError(
                    "the redis client must be created with decode_responses=False: cache "
                    "values are bytes"
                )
        if client is not None:
            kwargs = getattr(client, "get_connection_kwargs", dict)()
            if isinstance(kwargs, dict):
                socket_timeout = kwargs.get("socket_timeout", socket_timeout)
        #: Seconds a reply may take; blocking commands (the stampede lock's BLPOP) must
        #: block for less than this.
        self.socket_timeout = socket_timeout
        self._url = url
        self.prefix = prefix
        self._prefix_b = prefix.encode("utf-8", "surrogateescape")
        if not isinstance(client_tracking, bool):
            raise TypeError(f"client_tracking must be a bool, got {client_tracking!r}")
        #: Whether tag-checked reads use a plain GET and tracked counters (see
        #: backends/_redis_tracking.py) rather than the Lua script.
        self.client_tracking = client_tracking
        self._tracked: Any = None
        self._owns_db = owns_db
        self._scan_count = scan_count
        self._closed = False
        self._name = _describe(url, client)
        self._breaker = breaker or CircuitBreaker(
            failure_threshold, cooldown, name=self._name, on_change=self._log_transition
        )

    def _log_transition(self, old: State, new: State) -> None:
        # One line per outage and one per recovery, never one per failed call.
        if new == "open" and old == "closed":
            logger.warning(
                "%s unreachable; failing fast for %.2fs between probes",
                self._name,
                self._breaker.cooldown,
            )
        elif new == "closed":
            logger.info("%s reachable again", self._name)

    @property
    def breaker(self) -> CircuitBreaker:
        """The circuit breaker guarding this backend's calls."""
        return self._breaker

    def _key(self, key: str) -> bytes:
        if not isinstance(key, str):
            raise TypeError(f"cache keys must be str, got {type(key).__name__}")
        return self._prefix_b + key.encode("utf-8", "surrogateescape")

    def _unkey(self, raw: bytes) -> str:
        return raw[len(self._prefix_b) :].decode("utf-8", "surrogateescape")

    def _pattern(self, prefix: str) -> bytes:
        return _glob_escape(self._key(prefix)) + b"*"

    def _result(self, value: Any) -> bytes | None:
        if value is None or type(value) is bytes:
            return value
        raise BackendDataError(
            f"{self._name}: expected bytes from the server, got {type(value).__name__}"
        )

    def _sized_results(self, keys: Sequence[str], values: list[Any]) -> list[bytes | None]:
        """The batch script's answers: a length in place of a value means "too large"."""
        out: list[bytes | None] = []
        for key, value in zip(keys, values, strict=True):
            if type(value) is int:
                self.oversize_reads += 1
                _oversize_log.report(self._name, "get_many", key, value, self.max_value_bytes)
                value = None  # noqa: PLW2901 - a miss, like any entry we cannot serve
            out.append(self._result(value))
        return out

    def _checked_result(self, key: str, value: Any) -> bytes | None:
        if type(value) is int:  # the answer for a value past max_value_bytes
            self.oversize_reads += 1
            raise BackendDataError(
                f"{self._name}: the value at {key!r} is over max_value_bytes="
                f"{self.max_value_bytes} ({value} bytes or more); not read"
            )
        return self._result(value)

    def _stop_tracking(self, exc: BaseException) -> None:
        self.client_tracking = False
        logger.warning("%s: %s", self._name, exc)

    def _value(self, value: Any) -> bytes | bytearray | memoryview:
        data = _check_value(value)
        limit = self.max_value_bytes
        if limit is not None and len(data) > limit:
            raise BackendDataError(
                f"{self._name}: refusing to store a value of {len(data)} bytes, over "
                f"max_value_bytes={limit} (OMNICACHE_MAX_VALUE_BYTES)"
            )
        return data

    def _refuse_flush(self) -> None:
        raise BackendError(
            f"{self._name}: refusing to clear without a prefix: that would erase the "
            "whole database, which may hold other data. Pass prefix='myapp:' (clear "
            "then removes only those keys) or owns_db=True (clear sends FLUSHDB)."
        )

    _lock_provider: Any = None

    def lock_provider(self) -> Any:
        """The distributed stampede lock on this Redis (one per backend).

        The :class:`~omnicache_ai.CacheManager` calls this to give its stampede shield a
        cross-process lock, so one caller per cluster computes a missing key. See
        :class:`omnicache_ai.backends.redis_lock.RedisLockProvider`.

        Example:
            ``lease = backend.lock_provider().acquire("k", lease=30, timeout=10)``
        """
        if self._lock_provider is None:
            self._lock_provider = RedisLockProvider(self)  # type: ignore[arg-type]
        return self._lock_provider

    #: True for the asyncio flavour; the lock provider picks its code path by it.
    is_async: bool = False

    def _twin(self, **overrides: Any) -> Any:
        """The other flavour (sync/async) of this backend, or ``None`` without a URL."""
        settings = self._twin_settings()
        if settings is None:
            return None
        other = AsyncRedisBackend if not self.is_async else RedisBackend
        return other(**{**settings, **overrides})

    def _twin_settings(self) -> dict[str, Any] | None:
        """Arguments that build the other flavour (sync/async) of this backend: same server,
        prefix and timeouts, shared breaker. ``None`` when built from a client (no URL)."""
        if self._url is None:
            return None
        return dict(self._twin_config)

    def _stats_base(self) -> dict[str, Any]:
        return {
            "backend": "redis",
            "server": self._name,
            "prefix": self.prefix,
            "breaker": self._breaker.snapshot(),
            "max_value_bytes": self.max_value_bytes,
            "oversize_reads": self.oversize_reads,
            "client_tracking": self.client_tracking,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, prefix={self.prefix!r})"


# ---- synchronous ---------------------------------------------------------------------------


class RedisBackend(_RedisCommon, BaseBackend):
    """A thread-safe Redis (or Redis Cluster) backend storing ``bytes`` with millisecond TTLs.

    Args:
        url: ``redis://[user:password@]host:port/db``, ``rediss://`` for TLS, or
            ``unix:///path.sock``; defaults to ``redis://localhost:6379/0``. TLS options
            and credentials travel in the URL or as keyword arguments.
        prefix: Prepended to every key; ``clear()`` and ``keys()`` stay inside it.
        client: An existing ``redis.Redis`` or ``redis.cluster.RedisCluster`` to use instead
            of ``url`` (created with ``decode_responses=False``). The backend then does not
            close it.
        cluster: Connect with ``redis.cluster.RedisCluster`` (``url`` names any one node).
        socket_timeout: Seconds to wait for a reply before the call fails.
        socket_connect_timeout: Seconds to wait for a connection.
        failure_threshold: Consecutive connection failures that open the breaker.
        cooldown: Seconds the open breaker waits before probing the server again.
        breaker: A breaker to use (e.g. shared with an :class:`AsyncRedisBackend` on the
            same server) instead of creating one.
        owns_db: The database belongs to this cache alone, so ``clear()`` without a prefix
            may ``FLUSHDB``.
        retries: Times redis-py retries a command after a connection error (not after a
            timeout). 0 by default: the breaker decides when to try again, and a retried
            ``INCRBY`` could count twice.
        scan_count: ``COUNT`` hint for ``SCAN`` in ``keys``, ``delete_prefix`` and ``clear``.
        max_value_bytes: Largest value stored or served, in bytes (default 8 MiB; ``None``:
            no limit). A larger write is refused before any I/O, and the manager's reads
            receive at most ``max_value_bytes + 1`` bytes of a larger stored value (the
            tracked read's ``GETRANGE``; the Lua script sends none), so one huge entry
            cannot time out and trip the breaker for every other key.
        client_tracking: How the manager's reads check tag generations (standalone servers).
            ``True`` (default): a plain ``GET`` (``GETRANGE`` under ``max_value_bytes``) on a
            dedicated RESP3 pool whose connections cache the tag counters they read, kept
            exact by Redis ``CLIENT TRACKING`` invalidations (Redis >= 6; see
            docs/redis.md). ``False``: a Lua script reads the entry and its counters. A
            server that refuses tracking switches to the script by itself, with one warning.
        **client_kwargs: Passed to redis-py (``max_connections``, ``ssl_ca_certs``,
            ``username``, ``password``, ``health_check_interval`` ...).

    Raises:
        ImportError: The ``redis`` package is missing.

    Example:
        Share one Redis between processes, with a key prefix per application::

            from omnicache_ai import CacheManager
            from omnicache_ai.backends.redis_backend import RedisBackend

            backend = RedisBackend(url="redis://localhost:6379/0", prefix="myapp:")
            manager = CacheManager(backend=backend)
    """

    blocking = True

    def __init__(
        self,
        url: str | None = None,
        *,
        prefix: str = "",
        client: redis.Redis | redis.cluster.RedisCluster | None = None,
        cluster: bool = False,
        socket_timeout: float | None = 0.25,
        socket_connect_timeout: float | None = 0.25,
        failure_threshold: int = 3,
        cooldown: float = 1.0,
        breaker: CircuitBreaker | None = None,
        owns_db: bool = False,
        retries: int = 0,
        scan_count: int = 1000,
        max_value_bytes: int | None = DEFAULT_MAX_VALUE_BYTES,
        client_tracking: bool = True,
        **client_kwargs: Any,
    ) -> None:
        if client is None and url is None:
            url = DEFAULT_URL
        self._setup(
            url=url,
            client=client,
            prefix=prefix,
            breaker=breaker,
            failure_threshold=failure_threshold,
            cooldown=cooldown,
            owns_db=owns_db,
            scan_count=scan_count,
            socket_timeout=socket_timeout,
            max_value_bytes=max_value_bytes,
            client_tracking=client_tracking,
        )
        self._cluster = cluster or isinstance(client, redis.cluster.RedisCluster)
        self._owns_client = client is None
        self._twin_config = {
            "url": url,
            "prefix": prefix,
            "cluster": self._cluster,
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_connect_timeout,
            "breaker": self._breaker,
            "retries": retries,
            "max_value_bytes": max_value_bytes,
            "client_tracking": client_tracking,
            **client_kwargs,
        }
        self._client_kwargs = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_connect_timeout,
            "retry": Retry(NoBackoff(), retries),
            **client_kwargs,
        }
        self._client = client
        self._connect_lock = threading.Lock()
        if client is None and not cluster:
            # A standalone client connects lazily, so it can be built now even while the
            # server is down. A cluster client asks the nodes for the slot map in its
            # constructor, so it is built on first use, under the breaker.
            self._client = redis.Redis.from_url(url or DEFAULT_URL, **self._client_kwargs)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisBackend:
        """Build a backend from a URL; keyword arguments as for the constructor.

        Example:
            ``RedisBackend.from_url("rediss://user:secret@cache.internal:6380/2")``
        """
        return cls(url, **kwargs)

    @property
    def client(self) -> Any:
        """The underlying redis-py client (connecting a cluster client if needed)."""
        if self._client is None:
            self._call(self._connect)
        return self._client

    @property
    def cluster(self) -> bool:
        """Whether this backend talks to a Redis Cluster."""
        return self._cluster

    def _connect(self) -> Any:
        # Threads arriving together must not each build (and leak) a cluster client.
        with self._connect_lock:
            if self._client is None:
                self._client = redis.cluster.RedisCluster.from_url(
                    self._url or DEFAULT_URL, **self._client_kwargs
                )
            return self._client

    def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``client.<method>`` under the breaker."""
        client = self._client
        if client is None:
            client = self._call(self._connect)
        return self._call(getattr(client, method), *args, **kwargs)

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn`` under the breaker, translating redis-py errors to backend errors."""
        breaker = self._breaker
        breaker.before_call()
        try:
            result = fn(*args, **kwargs)
        except _MISUSE as exc:
            breaker.record_success()
            raise BackendError(f"{self._name}: {exc}") from exc
        except _SATURATED as exc:
            breaker.record_abandoned()
            raise BackendError(f"{self._name}: client connection pool exhausted") from exc
        except _OUTAGE as exc:
            breaker.record_failure()
            raise _outage_error(self._name, exc) from exc
        except rex.RedisError as exc:
            breaker.record_success()
            raise _answer_error(self._name, exc) from exc
        except BaseException:
            breaker.record_abandoned()
            raise
        breaker.record_success()
        return result

    # ---- the six primitives --------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        """Return the bytes stored at ``key``, or ``None``.

        Raises:
            BackendUnavailable: The server is unreachable, slow, or the breaker is open.
            BackendDataError: The key holds something other than a string.
        """
        return self._result(self._run("get", self._key(key)))

    @property
    def get_checked(self) -> Callable[[str], bytes | None] | None:
        """The manager's one-round-trip read of tagged entries, or ``None`` in a cluster.

        Returns a function ``get_checked(key)`` that reads the entry and compares every
        tag generation recorded in its envelope header with the tag's current counter, as
        of the moment the entry was read, in one round trip: a plain ``GET`` checked against
        counters cached per connection and kept exact by ``CLIENT TRACKING`` (the default),
        or one Lua script (``client_tracking=False``). A stale entry reads as ``None`` and is
        deleted. The counters must live in this backend, which is the manager's default. In
        a cluster the counters sit in other slots than the entry, so the manager falls back
        to its two-step check.

        Example:
            ``raw = backend.get_checked("ns:response:abc")  # None when missing or stale``
        """
        return None if self._cluster else self._get_checked

    def _get_checked(self, key: str) -> bytes | None:
        raw_key = self._key(key)
        if self.client_tracking:
            try:
                return self._checked_result(key, self._call(self._tracked_read, raw_key))
            except BackendDataError as exc:
                if not isinstance(exc.__cause__, _TrackingUnsupported):
                    raise
                self._stop_tracking(exc.__cause__)
        return self._checked_result(key, self._call(self._evalsha_checked, raw_key))

    def _tracked_read(self, raw_key: bytes) -> Any:
        # One GET on a tracked connection; the tag counters come from that connection's
        # cache (see backends/_redis_tracking.py), fetched once when it lacks one.
        pool = self._tracked or self._make_tracked()
        conn = pool.get_connection(*_SYNC_POOL_ARGS)
        limit = self.max_value_bytes
        try:
            conn.send_packed_command([_trk.read_command(raw_key, limit)])
            raw = _trk.sized(conn.read_response(), limit)
            if type(raw) is not bytes or (pairs := _trk.counters(raw, self._prefix_b)) is None:
                return raw
            gens = getattr(conn, _trk.ATTR, None)
            if gens is None:
                gens = {}  # not a tracked connection: nothing may be kept
            if missing := _trk.unknown(pairs, gens):
                conn.send_packed_command(conn.pack_commands([_trk.CACHING_YES, ("MGET", *missing)]))
                conn.read_response()
                _trk.remember(gens, missing, conn.read_response())
            if _trk.fresh(pairs, gens):
                return raw
        except BaseException:
            conn.disconnect()  # a reply may be half read: never reuse this socket
            raise
        finally:
            pool.release(conn)
        self._client.delete(raw_key)  # stale, like the manager's lazy delete
        return None

    def _make_tracked(self) -> Any:
        with self._connect_lock:
            if self._tracked is None:
                pool = _tracked_pool(
                    self._client.connection_pool,
                    (redis.ConnectionPool, redis.BlockingConnectionPool),
                    _tracked_connect,
                )
                if pool is None:
                    raise _TrackingUnsupported("the client's connection pool cannot be tracked")
                self._tracked = pool
            return self._tracked

    @property
    def aget_checked(self) -> Callable[[str], Awaitable[bytes | None]] | None:
        """:attr:`get_checked` for the manager's async methods, run in a worker thread.

        Without it, ``await manager.aget(...)`` on this sync backend would read with a plain
        ``GET``: a second round trip for tags, and no ``max_value_bytes`` guard on reads.
        """
        return None if self._cluster else self._aget_checked

    async def _aget_checked(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._get_checked, key)

    def _evalsha_checked(self, raw_key: bytes) -> Any:
        # EVALSHA straight through execute_command: this is the hit path, and redis-py's
        # Script wrapper costs a few microseconds per call. The script is loaded on the
        # first NOSCRIPT (new server, or one restarted with an empty script cache).
        client = self._client
        try:
            return client.execute_command(
                "EVALSHA",
                _GET_CHECKED_SHA,
                1,
                raw_key,
                self._prefix_b,
                _ENVELOPE_HEAD,
                self._max_arg,
            )
        except rex.NoScriptError:
            client.script_load(_GET_CHECKED_LUA)
            return client.execute_command(
                "EVALSHA",
                _GET_CHECKED_SHA,
                1,
                raw_key,
                self._prefix_b,
                _ENVELOPE_HEAD,
                self._max_arg,
            )

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` (bytes) with an optional TTL in seconds (millisecond precision).

        A TTL of zero or less stores nothing and removes any previous value: the entry
        would be expired on arrival.
        """
        raw_key = self._key(key)
        data = self._value(value)
        ms = _ttl_ms(ttl)
        if ms is not None and ms <= 0:
            self._run("delete", raw_key)
            return
        self._run("set", raw_key, data, px=ms)

    def delete(self, key: str) -> bool:
        """Remove ``key``; returns whether it existed."""
        return bool(self._run("delete", self._key(key)))

    def exists(self, key: str) -> bool:
        """Whether ``key`` is present and unexpired."""
        return bool(self._run("exists", self._key(key)))

    def clear(self) -> None:
        """Remove every key under this backend's prefix (see the module notes).

        Raises:
            BackendError: No prefix and ``owns_db`` is false.
        """
        if self._prefix_b:
            self._delete_matching(self._pattern(""))
        elif self._owns_db:
            self._run("flushdb", asynchronous=True)
        else:
            self._refuse_flush()

    def close(self) -> None:
        """Disconnect the pool if this backend created the client. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._lock_provider is not None:
            self._lock_provider.close()
        if self._tracked is not None:
            self._tracked.disconnect()
        if self._owns_client and self._client is not None:
            if self._cluster:
                # RedisCluster.close() leaves the node pools' sockets open (a SCAN over every
                # primary, as clear() does, opens one per node): disconnect them explicitly.
                self._client.disconnect_connection_pools()
            self._client.close()

    # ---- batch operations ----------------------------------------------------------------

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Values for ``keys`` in order: one round trip (one ``MGET`` per slot in a cluster).

        On a standalone server a value past ``max_value_bytes`` is not sent and reads as
        ``None`` (counted in ``stats()["oversize_reads"]``).
        """
        if not keys:
            return []
        raw = [self._key(k) for k in keys]
        if self._cluster:
            return [self._result(v) for v in self._run("mget_nonatomic", raw)]
        return self._sized_results(keys, self._call(self._evalsha_many, raw))

    def _evalsha_many(self, raw_keys: list[bytes]) -> Any:
        client = self._client
        try:
            return client.execute_command(
                "EVALSHA", _GET_MANY_SHA, len(raw_keys), *raw_keys, self._max_arg
            )
        except rex.NoScriptError:
            client.script_load(_GET_MANY_LUA)
            return client.execute_command(
                "EVALSHA", _GET_MANY_SHA, len(raw_keys), *raw_keys, self._max_arg
            )

    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        """Store several values in one pipelined round trip (per node in a cluster)."""
        pairs = [(self._key(k), self._value(v)) for k, v in items.items()]
        ms = _ttl_ms(ttl)
        if not pairs:
            return
        if ms is not None and ms <= 0:
            self._unlink([k for k, _ in pairs])
            return
        for start in range(0, len(pairs), _CHUNK):
            pipe = self._run("pipeline", transaction=False)
            for raw_key, data in pairs[start : start + _CHUNK]:
                pipe.set(raw_key, data, px=ms)
            self._call(pipe.execute)

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove several keys with ``UNLINK``; returns how many existed."""
        return self._unlink([self._key(k) for k in keys])

    def _unlink(self, raw_keys: list[bytes]) -> int:
        removed = 0
        for start in range(0, len(raw_keys), _CHUNK):
            removed += int(self._run("unlink", *raw_keys[start : start + _CHUNK]))
        return removed

    # ---- maintenance ---------------------------------------------------------------------

    def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Atomically add ``delta`` (``INCRBY``); the counter reads back as e.g. ``b"3"``.

        With ``ttl``, a counter created by this call expires after ``ttl`` seconds
        (``SET NX PX`` then ``INCRBY`` in one ``MULTI``); an existing one keeps its expiry.

        Raises:
            BackendDataError: The key holds a value that is not an integer.
        """
        delta = _check_delta(delta)
        ms = _ttl_ms(ttl)
        if ms is None or ms <= 0:
            return int(self._run("incrby", self._key(key), delta))
        raw_key = self._key(key)
        # A cluster pipeline has no MULTI; one key lives on one node, and the only window
        # (the key expiring between the two commands) just creates a counter without expiry.
        pipe = self._run("pipeline", transaction=not self._cluster)
        pipe.set(raw_key, b"0", px=ms, nx=True)
        pipe.incrby(raw_key, delta)
        return int(self._call(pipe.execute)[-1])

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store only if ``key`` is absent (``SET NX PX``); returns whether it was stored."""
        raw_key = self._key(key)
        # add() also creates counters (a tag generation's starting value) that INCRBY then
        # updates: an int is stored as its decimal digits, exactly as INCRBY would store it.
        data = str(value).encode("ascii") if type(value) is int else self._value(value)
        ms = _ttl_ms(ttl)
        if ms is not None and ms <= 0:
            # Would expire on arrival: nothing is stored, but report what SET NX would.
            return not self._run("exists", raw_key)
        return bool(self._run("set", raw_key, data, nx=True, px=ms))

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Iterate (with ``SCAN``) over keys starting with ``prefix``, own prefix stripped.

        Keys written or removed during the scan may or may not be reported.
        """
        for raw in self._scan(self._pattern(prefix)):
            yield self._unkey(raw)

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix`` (``SCAN`` + batched ``UNLINK``)."""
        return self._delete_matching(self._pattern(prefix))

    def _scan(self, pattern: bytes) -> Iterator[bytes]:
        iterator = self._run("scan_iter", match=pattern, count=self._scan_count)
        done = object()
        while (raw := self._call(next, iterator, done)) is not done:
            yield raw

    def _delete_matching(self, pattern: bytes) -> int:
        removed = 0
        batch: list[bytes] = []
        for raw in self._scan(pattern):
            batch.append(raw)
            if len(batch) >= _CHUNK:
                removed += self._unlink(batch)
                batch = []
        if batch:
            removed += self._unlink(batch)
        return removed

    def ping(self) -> bool:
        """Ask the server for ``PONG``; raises :class:`BackendUnavailable` when it is down."""
        return bool(self._run("ping"))

    def stats(self) -> dict[str, Any]:
        """Server figures (keys in the db, memory, evictions) and the breaker's state.

        Never raises: when the server is down the figures are missing and ``error`` says
        why.
        """
        out = self._stats_base()
        target = {"target_nodes": redis.cluster.RedisCluster.PRIMARIES} if self._cluster else {}
        try:
            out["db_keys"] = int(self._run("dbsize", **target))
            memory = self._run("info", "memory", **target)
            out["used_memory_bytes"] = _sum_info(memory, "used_memory")
            server_stats = self._run("info", "stats", **target)
            out["evicted_keys"] = _sum_info(server_stats, "evicted_keys")
        except BackendError as exc:
            out["error"] = str(exc)
        return out


# ---- asynchronous --------------------------------------------------------------------------


class AsyncRedisBackend(_RedisCommon, AsyncBaseBackend):
    """The asyncio twin of :class:`RedisBackend`, on ``redis.asyncio``; same arguments.

    Every method is a coroutine and never blocks the event loop. The client's connections
    belong to the loop that first used them: use one backend per event loop.

    Args:
        max_connections: Commands in flight at once (and the size of the client's pool);
            further calls wait for a free slot instead of failing.
        *other: As for :class:`RedisBackend`.

    Example:
        Inside an ``async def``::

            from omnicache_ai.backends.redis_backend import AsyncRedisBackend

            backend = AsyncRedisBackend(url="redis://localhost:6379/0", prefix="myapp:")
            await backend.set("k", b"v", ttl=60)
            assert await backend.get("k") == b"v"
            await backend.close()
    """

    blocking = False

    is_async = True

    def __init__(
        self,
        url: str | None = None,
        *,
        prefix: str = "",
        client: redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster | None = None,
        cluster: bool = False,
        socket_timeout: float | None = 0.25,
        socket_connect_timeout: float | None = 0.25,
        failure_threshold: int = 3,
        cooldown: float = 1.0,
        breaker: CircuitBreaker | None = None,
        owns_db: bool = False,
        retries: int = 0,
        scan_count: int = 1000,
        max_connections: int = 100,
        max_value_bytes: int | None = DEFAULT_MAX_VALUE_BYTES,
        client_tracking: bool = True,
        **client_kwargs: Any,
    ) -> None:
        if client is None and url is None:
            url = DEFAULT_URL
        self._setup(
            url=url,
            client=client,
            prefix=prefix,
            breaker=breaker,
            failure_threshold=failure_threshold,
            cooldown=cooldown,
            owns_db=owns_db,
            scan_count=scan_count,
            socket_timeout=socket_timeout,
            max_value_bytes=max_value_bytes,
            client_tracking=client_tracking,
        )
        self._twin_config = {
            "url": url,
            "prefix": prefix,
            "cluster": cluster or isinstance(client, redis.asyncio.cluster.RedisCluster),
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_connect_timeout,
            "breaker": self._breaker,
            "retries": retries,
            "max_value_bytes": max_value_bytes,
            "client_tracking": client_tracking,
            **client_kwargs,
        }
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise TypeError(f"max_connections must be an int, got {max_connections!r}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        # redis.asyncio pools raise instead of waiting once every connection is busy, so
        # a burst of tasks would turn into errors; queue them here instead. Queued tasks
        # consult the breaker only once admitted, so they still fail fast during outages.
        self._slots = asyncio.Semaphore(max_connections)
        self._cluster = cluster or isinstance(client, redis.asyncio.cluster.RedisCluster)
        # redis.asyncio's RedisCluster fetches the slot map on first use, and concurrent
        # first uses race each other, closing one another's fresh connections. One task
        # initializes it under this lock; standalone clients need no such step.
        self._ready = not self._cluster
        self._init_lock = asyncio.Lock()
        self._owns_client = client is None
        if client is None:
            kwargs: dict[str, Any] = {
                "socket_timeout": socket_timeout,
                "socket_connect_timeout": socket_connect_timeout,
                "retry": AsyncRetry(NoBackoff(), retries),
                "max_connections": max_connections,
                **client_kwargs,
            }
            # Both async clients connect lazily, so construction never touches the network.
            factory = redis.asyncio.cluster.RedisCluster if cluster else redis.asyncio.Redis
            client = factory.from_url(url or DEFAULT_URL, **kwargs)
        self._client = client

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> AsyncRedisBackend:
        """Build a backend from a URL; keyword arguments as for the constructor.

        Example:
            ``AsyncRedisBackend.from_url("redis://localhost:6379/0", prefix="app:")``
        """
        return cls(url, **kwargs)

    @property
    def client(self) -> Any:
        """The underlying ``redis.asyncio`` client."""
        return self._client

    @property
    def cluster(self) -> bool:
        """Whether this backend talks to a Redis Cluster."""
        return self._cluster

    async def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Await ``client.<method>`` under the breaker."""
        return await self._call(getattr(self._client, method), *args, **kwargs)

    async def _call(self, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """Await ``fn`` under the breaker, translating redis-py errors to backend errors."""
        async with self._slots:
            return await self._call_admitted(fn, *args, **kwargs)

    async def _call_admitted(
        self, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Any:
        breaker = self._breaker
        breaker.before_call()
        try:
            if not self._ready:
                await self._initialize()
            result = await fn(*args, **kwargs)
        except _MISUSE as exc:
            breaker.record_success()
            raise BackendError(f"{self._name}: {exc}") from exc
        except _SATURATED as exc:
            breaker.record_abandoned()
            raise BackendError(f"{self._name}: client connection pool exhausted") from exc
        except _OUTAGE as exc:
            breaker.record_failure()
            raise _outage_error(self._name, exc) from exc
        except rex.RedisError as exc:
            breaker.record_success()
            raise _answer_error(self._name, exc) from exc
        except BaseException:
            # Includes CancelledError: a cancelled probe must not wedge the breaker.
            breaker.record_abandoned()
            raise
        breaker.record_success()
        return result

    async def _initialize(self) -> None:
        async with self._init_lock:
            if not self._ready:
                await self._client.initialize()
                self._ready = True

    async def get(self, key: str) -> bytes | None:
        """Return the bytes stored at ``key``, or ``None``."""
        return self._result(await self._run("get", self._key(key)))

    @property
    def aget_checked(self) -> Callable[[str], Awaitable[bytes | None]] | None:
        """Async twin of :attr:`RedisBackend.get_checked` (``None`` in a cluster).

        Example:
            ``raw = await backend.aget_checked("ns:response:abc")``
        """
        return None if self._cluster else self._aget_checked

    async def _aget_checked(self, key: str) -> bytes | None:
        raw_key = self._key(key)
        if self.client_tracking:
            try:
                return self._checked_result(key, await self._call(self._tracked_read, raw_key))
            except BackendDataError as exc:
                if not isinstance(exc.__cause__, _TrackingUnsupported):
                    raise
                self._stop_tracking(exc.__cause__)
        return self._checked_result(key, await self._call(self._evalsha_checked, raw_key))

    async def _tracked_read(self, raw_key: bytes) -> Any:
        # RedisBackend._tracked_read, awaited: same commands, same checks.
        pool = self._tracked or self._make_tracked()
        conn = await pool.get_connection(*_ASYNC_POOL_ARGS)
        limit = self.max_value_bytes
        try:
            await conn.send_packed_command([_trk.read_command(raw_key, limit)])
            raw = _trk.sized(await conn.read_response(), limit)
            if type(raw) is not bytes or (pairs := _trk.counters(raw, self._prefix_b)) is None:
                return raw
            gens = getattr(conn, _trk.ATTR, None)
            if gens is None:
                gens = {}
            if missing := _trk.unknown(pairs, gens):
                await conn.send_packed_command(
                    conn.pack_commands([_trk.CACHING_YES, ("MGET", *missing)])
                )
                await conn.read_response()
                _trk.remember(gens, missing, await conn.read_response())
            if _trk.fresh(pairs, gens):
                return raw
        except BaseException:
            await conn.disconnect(nowait=True)
            raise
        finally:
            await pool.release(conn)
        await self._client.delete(raw_key)
        return None

    def _make_tracked(self) -> Any:
        if self._tracked is None:
            pool = _tracked_pool(
                self._client.connection_pool,
                (redis.asyncio.ConnectionPool, redis.asyncio.BlockingConnectionPool),
                _atracked_connect,
            )
            if pool is None:
                raise _TrackingUnsupported("the client's connection pool cannot be tracked")
            self._tracked = pool
        return self._tracked

    async def _evalsha_checked(self, raw_key: bytes) -> Any:
        client = self._client
        try:
            return await client.execute_command(
                "EVALSHA",
                _GET_CHECKED_SHA,
                1,
                raw_key,
                self._prefix_b,
                _ENVELOPE_HEAD,
                self._max_arg,
            )
        except rex.NoScriptError:
            await client.script_load(_GET_CHECKED_LUA)
            return await client.execute_command(
                "EVALSHA",
                _GET_CHECKED_SHA,
                1,
                raw_key,
                self._prefix_b,
                _ENVELOPE_HEAD,
                self._max_arg,
            )

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` (bytes) with an optional TTL in seconds; ``<= 0`` removes it."""
        raw_key = self._key(key)
        data = self._value(value)
        ms = _ttl_ms(ttl)
        if ms is not None and ms <= 0:
            await self._run("delete", raw_key)
            return
        await self._run("set", raw_key, data, px=ms)

    async def delete(self, key: str) -> bool:
        """Remove ``key``; returns whether it existed."""
        return bool(await self._run("delete", self._key(key)))

    async def exists(self, key: str) -> bool:
        """Whether ``key`` is present and unexpired."""
        return bool(await self._run("exists", self._key(key)))

    async def clear(self) -> None:
        """Remove every key under this backend's prefix (see :meth:`RedisBackend.clear`)."""
        if self._prefix_b:
            await self._delete_matching(self._pattern(""))
        elif self._owns_db:
            await self._run("flushdb", asynchronous=True)
        else:
            self._refuse_flush()

    async def close(self) -> None:
        """Disconnect the pool if this backend created the client. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._lock_provider is not None:
            self._lock_provider.close()
        if self._tracked is not None:
            await self._tracked.disconnect()
        if self._owns_client:
            # aclose() arrived in redis-py 5.0.1; close() is its deprecated alias.
            aclose = getattr(self._client, "aclose", None) or self._client.close
            await aclose()

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Values for ``keys`` in order (see :meth:`RedisBackend.get_many`)."""
        if not keys:
            return []
        raw = [self._key(k) for k in keys]
        if self._cluster:
            return [self._result(v) for v in await self._run("mget_nonatomic", raw)]
        return self._sized_results(keys, await self._call(self._evalsha_many, raw))

    async def _evalsha_many(self, raw_keys: list[bytes]) -> Any:
        client = self._client
        try:
            return await client.execute_command(
                "EVALSHA", _GET_MANY_SHA, len(raw_keys), *raw_keys, self._max_arg
            )
        except rex.NoScriptError:
            await client.script_load(_GET_MANY_LUA)
            return await client.execute_command(
                "EVALSHA", _GET_MANY_SHA, len(raw_keys), *raw_keys, self._max_arg
            )

    async def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        """Store several values in one pipelined round trip (per node in a cluster)."""
        pairs = [(self._key(k), self._value(v)) for k, v in items.items()]
        ms = _ttl_ms(ttl)
        if not pairs:
            return
        if ms is not None and ms <= 0:
            await self._unlink([k for k, _ in pairs])
            return
        for start in range(0, len(pairs), _CHUNK):
            pipe = self._client.pipeline(transaction=False)
            for raw_key, data in pairs[start : start + _CHUNK]:
                pipe.set(raw_key, data, px=ms)
            await self._call(pipe.execute)

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Remove several keys with ``UNLINK``; returns how many existed."""
        return await self._unlink([self._key(k) for k in keys])

    async def _unlink(self, raw_keys: list[bytes]) -> int:
        removed = 0
        for start in range(0, len(raw_keys), _CHUNK):
            removed += int(await self._run("unlink", *raw_keys[start : start + _CHUNK]))
        return removed

    async def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Atomically add ``delta`` (``INCRBY``) and return the new value (``ttl``: see sync)."""
        delta = _check_delta(delta)
        ms = _ttl_ms(ttl)
        if ms is None or ms <= 0:
            return int(await self._run("incrby", self._key(key), delta))
        raw_key = self._key(key)
        pipe = self._client.pipeline(transaction=not self._cluster)
        pipe.set(raw_key, b"0", px=ms, nx=True)
        pipe.incrby(raw_key, delta)
        return int((await self._call(pipe.execute))[-1])

    async def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store only if ``key`` is absent (``SET NX PX``); returns whether it was stored."""
        raw_key = self._key(key)
        # add() also creates counters (a tag generation's starting value) that INCRBY then
        # updates: an int is stored as its decimal digits, exactly as INCRBY would store it.
        data = str(value).encode("ascii") if type(value) is int else self._value(value)
        ms = _ttl_ms(ttl)
        if ms is not None and ms <= 0:
            return not await self._run("exists", raw_key)
        return bool(await self._run("set", raw_key, data, nx=True, px=ms))

    async def keys(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix`` (found with ``SCAN``), own prefix stripped."""
        return [self._unkey(raw) async for raw in self._scan(self._pattern(prefix))]

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix`` (``SCAN`` + batched ``UNLINK``)."""
        return await self._delete_matching(self._pattern(prefix))

    async def _scan(self, pattern: bytes) -> AsyncIterator[bytes]:
        iterator = self._client.scan_iter(match=pattern, count=self._scan_count)
        done = object()
        while (raw := await self._call(anext, iterator, done)) is not done:
            yield raw

    async def _delete_matching(self, pattern: bytes) -> int:
        removed = 0
        batch: list[bytes] = []
        async for raw in self._scan(pattern):
            batch.append(raw)
            if len(batch) >= _CHUNK:
                removed += await self._unlink(batch)
                batch = []
        if batch:
            removed += await self._unlink(batch)
        return removed

    async def ping(self) -> bool:
        """Ask the server for ``PONG``; raises :class:`BackendUnavailable` when it is down."""
        return bool(await self._run("ping"))

    async def stats(self) -> dict[str, Any]:
        """Server figures and the breaker's state; never raises (see ``RedisBackend``)."""
        out = self._stats_base()
        target = (
            {"target_nodes": redis.asyncio.cluster.RedisCluster.PRIMARIES} if self._cluster else {}
        )
        try:
            out["db_keys"] = int(await self._run("dbsize", **target))
            memory = await self._run("info", "memory", **target)
            out["used_memory_bytes"] = _sum_info(memory, "used_memory")
            server_stats = await self._run("info", "stats", **target)
            out["evicted_keys"] = _sum_info(server_stats, "evicted_keys")
        except BackendError as exc:
            out["error"] = str(exc)
        return out
