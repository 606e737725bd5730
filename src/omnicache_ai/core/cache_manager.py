"""CacheManager: the one object every layer, middleware and adapter talks to.

It owns the pipeline between a caller and a backend:

    caller key ──scope──▶ storage key        (tenant isolation)
    value ──serializer──compressor──envelope──▶ bytes   (format tag + tag generations)
    bytes ──backend──▶ hit / miss / error    (errors become misses: fail-open)

Every decision (scoping, encoding, decoding, TTL, tag validity, metrics) is plain code in
this module, shared by the synchronous methods and their ``a``-prefixed async twins; the
twins differ only in awaiting the backend. Backends may be sync or async; the manager adapts
either to both APIs (see ``core/_ops.py``).

Example:
    >>> from omnicache_ai import CacheManager, InMemoryBackend, CacheKeyBuilder
    >>> manager = CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("myapp"))
    >>> manager.set("my_key", {"result": 42}, ttl=60)
    >>> manager.get("my_key")
    {'result': 42}
"""

from __future__ import annotations

import copy
import inspect
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar, overload, runtime_checkable

from omnicache_ai.core import envelope as _env
from omnicache_ai.core._ops import async_ops, sync_ops
from omnicache_ai.core.compressor import Compressor, NoopCompressor, codec_for
from omnicache_ai.core.errors import (
    CacheBackendError,
    ConfigurationError,
    IntegrityError,
)
from omnicache_ai.core.invalidation import InvalidationEngine
from omnicache_ai.core.key_builder import CacheKeyBuilder, escape_segment
from omnicache_ai.core.metrics import (
    CacheEvent,
    CacheMetrics,
    SeriesStats,
    current_lookup_detail,
)
from omnicache_ai.core.policies import DEFAULT_LAYER_TTLS, DEFAULT_TTL, TTLPolicy
from omnicache_ai.core.pricing import PricingTable, default_pricing
from omnicache_ai.core.serializer import (
    SafeSerializer,
    Serializer,
    builtin_safe_serializer,
    checked_loads,
)
from omnicache_ai.core.stampede import StampedeShield


@runtime_checkable
class ManagerSettings(Protocol):
    """What :meth:`CacheManager.from_settings` needs: something that builds a manager.

    ``OmnicacheSettings`` (on the config floor, above the core) is the one shipped.
    """

    def build_manager(self) -> CacheManager:
        """A manager configured by these settings."""
        ...


__all__ = ["MISSING", "CacheManager", "ManagerSettings", "RequestConfig"]

logger = logging.getLogger("omnicache_ai")
T = TypeVar("T")

_HEAD: Final = _env.MAGIC + bytes([_env.VERSION])
_RESERVED: Final = "__omnicache__"
# Caller keys may not start with these: '@' opens a tenant scope, _RESERVED the counters.
_NOT_CALLER: Final = ("@", _RESERVED)
_TENANT_RE: Final = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_perf = time.perf_counter
# The in-memory fast path of get() times one hit in this many; the others are counted with
# the latency of the last timed one (see CacheManager._bind_fast_get).
_SAMPLE_EVERY: Final = 64
# Element types of a tuple or frozenset a manager may store as itself (see _as_is).
_FLAT: Final = frozenset({str, bytes, int, float, bool, type(None)})
_ONE_TAG: Final = (
    "tags must be a list of tag names, not a str (a str would be split into characters): "
    "pass tags=[{!r}]"
)


class _Missing:
    """Sentinel for "no cached value" where ``None`` is a legitimate cached value."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


#: Returned by lookups that found nothing: ``manager.get(key, default=MISSING)``.
MISSING: Final = _Missing()


@dataclass(frozen=True, slots=True)
class RequestConfig:
    """Per-call overrides.

    Attributes:
        ttl: Seconds to live for what this call stores (0 = never expires).
        skip_cache: Neither read nor write: go straight to the source.
        refresh: Do not read; compute and overwrite what is cached.
        no_store: Read, but do not store what this call computes.
        threshold: Similarity threshold for semantic layers.
        tags: Extra tags for what this call stores.

    Example:
        >>> RequestConfig(ttl=30, tags=("user:42",))
        RequestConfig(ttl=30, skip_cache=False, refresh=False, no_store=False, threshold=None, tags=('user:42',))
    """  # noqa: E501

    ttl: float | None = None
    skip_cache: bool = False
    refresh: bool = False
    no_store: bool = False
    threshold: float | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if isinstance(self.tags, str):
            raise TypeError(_ONE_TAG.format(self.tags))


class _Tagged:
    """A decoded envelope header whose tag generations still need checking."""

    __slots__ = ("body", "gens", "keys", "raw")

    def __init__(self, raw: bytes, keys: list[str], gens: list[int], body: int) -> None:
        self.raw = raw
        self.keys = keys  # the tags' generation-counter keys
        self.gens = gens  # the generations they had when the entry was written
        self.body = body  # offset of the payload in raw


class _Stale:
    """An entry that a tag invalidation retired."""


_STALE: Final = _Stale()


class _ErrorLog:
    """Log the first backend error of a burst, then a count of what was suppressed."""

    def __init__(self, window: float = 60.0) -> None:
        self.window = window
        self._lock = threading.Lock()
        self._bursts: dict[tuple[str, str, str], list[float | int]] = {}

    def report(self, backend: str, op: str, err: BaseException) -> None:
        key = (backend, op, type(err).__name__)
        now = time.monotonic()
        with self._lock:
            burst = self._bursts.get(key)
            if burst is not None and now - burst[0] < self.window:
                burst[1] += 1
                return
            suppressed = int(burst[1]) if burst is not None else 0
            self._bursts[key] = [now, 0]
        more = f" ({suppressed} more like it since the last report)" if suppressed else ""
        logger.warning(
            "omnicache: %s.%s failed, serving a miss instead: %s: %s%s",
            backend, op, type(err).__name__, err, more,
        )  # fmt: skip


class CacheManager:
    """Coordinates keys, serialization, compression, TTLs, tags, stampedes and metrics.

    Args:
        backend: Any sync or async backend (default: a new :class:`InMemoryBackend`).
        key_builder: Builds ``namespace:type:digest`` keys for the layers.
        serializer: Default serializer (default :class:`SafeSerializer`, no pickle).
        compressor: Applied to payloads of at least ``compressor.min_size`` bytes.
        ttl_policy: Global and per-layer TTLs; default: the README's defaults.
        invalidation_engine: Where tag generations live (default: in ``backend``).
        metrics: Shared or private :class:`CacheMetrics`.
        stampede: The :class:`StampedeShield` used by ``get_or_set`` (default: one per
            manager, with the backend's distributed lock when it offers one).
        strict: Raise :class:`CacheBackendError` on backend failure instead of missing.
        tenant: Tenant id; prefer :meth:`for_tenant` on a shared manager.
        pricing: Model prices for savings accounting (default: built-in list prices plus
            ``OMNICACHE_PRICING``).

    Example:
        >>> m = CacheManager()
        >>> m.get_or_set("answer", lambda: 42)
        42
        >>> m.metrics.snapshot()["misses"]
        1
    """

    def __init__(
        self,
        backend: Any = None,
        key_builder: CacheKeyBuilder | None = None,
        *,
        serializer: Serializer | None = None,
        compressor: Compressor | None = None,
        ttl_policy: TTLPolicy | None = None,
        invalidation_engine: InvalidationEngine | None = None,
        metrics: CacheMetrics | None = None,
        stampede: StampedeShield | None = None,
        strict: bool = False,
        tenant: str | None = None,
        pricing: PricingTable | None = None,
    ) -> None:
        if backend is None:
            from omnicache_ai.backends.memory_backend import InMemoryBackend

            backend = InMemoryBackend()
        for name in ("get", "set", "delete"):
            if not callable(getattr(backend, name, None)):
                raise ConfigurationError(
                    f"backend {type(backend).__name__} has no {name}() method; it must follow "
                    "the CacheBackend or AsyncCacheBackend protocol"
                )
        self.backend = backend
        self.key_builder = key_builder or CacheKeyBuilder()
        self.serializer: Serializer = serializer or SafeSerializer()
        self._fast_head = _HEAD + bytes((self.serializer.format_id, 0, 0))
        self._tag1_head = _HEAD + bytes((self.serializer.format_id, 0, 1))
        # SafeSerializer strings ("s" + UTF-8) skip the serializer call on the hot path.
        self._str_head = self._fast_head + b"s" if type(self.serializer) is SafeSerializer else None
        self._loads = checked_loads(self.serializer)
        self.compressor: Compressor = compressor or NoopCompressor()
        if ttl_policy is None:
            ttl_policy = TTLPolicy(default_ttl=DEFAULT_TTL, per_layer=DEFAULT_LAYER_TTLS)
        self.ttl_policy = ttl_policy
        self.metrics = metrics or CacheMetrics()
        self.pricing = pricing or default_pricing()
        self.strict = strict
        self.backend_name: str = getattr(backend, "name", None) or type(backend).__name__
        self._sync = sync_ops(backend)
        self._async = async_ops(backend)
        self.invalidation = invalidation_engine or InvalidationEngine()
        self.invalidation.bind_default(backend)
        # A backend that validates tag generations server-side answers in one round trip,
        # but only when the tag counters live in that same backend.
        counters_here = self.invalidation.backend is backend
        checked = getattr(backend, "get_checked", None) if counters_here else None
        achecked = getattr(backend, "aget_checked", None) if counters_here else None
        self._verified = callable(checked)
        self._read: Callable[[str], Any] = checked if callable(checked) else self._sync.get
        self._averified = callable(achecked)
        self._aread: Callable[[str], Awaitable[Any]] = (
            achecked if callable(achecked) else self._async.get
        )
        if stampede is None:
            provider_factory = getattr(backend, "lock_provider", None)
            provider = provider_factory() if callable(provider_factory) else None
            stampede = StampedeShield(lock_provider=provider)
        self.stampede = stampede
        self._errors = _ErrorLog()
        self._series_cache: dict[str, SeriesStats] = {}
        self.tenant = ""
        # The namespace segment is escaped (no ':' inside), so "app::" is never a prefix of
        # another namespace's keys ("app%3Ab::..."): scopes are disjoint key spaces.
        self._ns_scope = escape_segment(self.key_builder.namespace) + "::"
        self._scope = self._ns_scope
        if tenant is not None:
            self._set_tenant(tenant)
        self._wire_backend_hooks()
        # A store that holds Python objects for this process alone keeps immutable values as
        # themselves (see _encode): nothing to encode on a write or decode on a hit.
        self._raw_values = (
            getattr(type(backend), "holds_values", False) is True
            and type(self.serializer) is SafeSerializer
            and not self.compressor.codec_id
        )
        self._bind_fast_get()

    # ---- construction helpers --------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: ManagerSettings) -> CacheManager:
        """Build a manager from :class:`~omnicache_ai.OmnicacheSettings`.

        The settings do the building (``settings.build_manager()``): they live on the config
        floor, which knows every backend, serializer and compressor, so the core does not
        import them back.

        Example:
            >>> from omnicache_ai import OmnicacheSettings
            >>> CacheManager.from_settings(OmnicacheSettings(backend="memory")).backend_name
            'InMemoryBackend'
        """
        if not isinstance(settings, ManagerSettings):
            raise TypeError(
                "from_settings needs OmnicacheSettings (e.g. OmnicacheSettings.from_env()), "
                f"got {type(settings).__name__}"
            )
        manager = settings.build_manager()
        if not isinstance(manager, cls):
            raise TypeError(
                f"{type(settings).__name__}.build_manager() must return a {cls.__name__}"
            )
        return manager

    def _wire_backend_hooks(self) -> None:
        add_listener = getattr(self.backend, "add_eviction_listener", None)
        if callable(add_listener):
            name = self.backend_name
            metrics = self.metrics
            add_listener(lambda n: metrics.record_eviction(name, n))
        stats = getattr(self.backend, "stats", None)
        if callable(stats) and not inspect.iscoroutinefunction(stats):
            self.metrics.register_gauge(f"backend:{self.backend_name}", stats)

    def _set_tenant(self, tenant: str) -> None:
        if not isinstance(tenant, str) or not _TENANT_RE.match(tenant):
            raise ConfigurationError(
                f"tenant id must be 1-128 characters of letters, digits, '_', '.', '-'; "
                f"got {tenant!r}"
            )
        self.tenant = tenant
        self._scope = f"{self._ns_scope}@{tenant}:"

    def _bind_fast_get(self) -> None:
        """Give this manager a lean :meth:`get` when its store is in-memory (the default).

        The general :meth:`get` adapts to any backend, serializer and metrics setup; with an
        in-memory store, the default serializer and plain metrics, a hit is a dict read, so
        every call, attribute lookup and clock read around it shows. The lean ``get`` is a
        closure bound as an instance attribute (rebuilt by :meth:`for_tenant`, whose scope
        differs) that keeps every behaviour of the general one:

        * the same key checks, scope, TTL expiry, LRU recency and tag validation (the
          store's ``get_checked`` does those, as for the general path);
        * values the store holds as themselves (see :meth:`_encode`) and string envelopes,
          untagged or behind one checked tag, are served inline; any other entry is
          decoded by the shared :meth:`_settle`, exactly as :meth:`get` would;
        * misses, read errors, ``config``/``serializer`` arguments, a new layer, lookup
          hooks and event listeners take the general :meth:`get` (the one that reports,
          raises in strict mode, and emits events);
        * every hit is counted exactly, by one append to its series; the latency of one
          hit in ``_SAMPLE_EVERY`` is measured, and the others are recorded with the
          latency last measured (the histogram's count stays the hit count).

        When the store never blocks (``backend.blocking`` is false: the in-memory one), the
        lean :meth:`aget` is this same ``get`` behind an ``async def``: the async view of
        such a store calls it inline anyway, so both paths share one logic and one cost.
        """
        self.__dict__.pop("get", None)
        self.__dict__.pop("aget", None)
        if not (
            self._raw_values
            and self._verified
            and self._str_head is not None
            # Not when get() is overridden (by a subclass, or patched on the class).
            and type(self).get is _GENERAL_GET
        ):
            return
        general = _GENERAL_GET.__get__(self)
        read, scope, series, metrics = self._read, self._scope, self._series_cache, self.metrics
        settle, str_head, tag1_head = self._settle, self._str_head, self._tag1_head
        perf, not_caller, every = _perf, _NOT_CALLER, _SAMPLE_EVERY
        countdown = 1  # the first hit is timed
        latency = 0.0

        def get(
            key: str,
            default: Any = None,
            *,
            layer: str = "default",
            config: RequestConfig | None = None,
            serializer: Serializer | None = None,
        ) -> Any:
            nonlocal countdown, latency
            if (
                config is None
                and serializer is None
                and type(key) is str
                and key
                and key.isascii()
                and not key.startswith(not_caller)
                and metrics.bare_lookups
                and (st := series.get(layer)) is not None
            ):
                countdown -= 1
                t0 = None
                if countdown <= 0:  # a sample: time this hit (racing threads only skew it)
                    countdown = every
                    t0 = perf()
                skey = scope + key
                try:
                    raw = read(skey)
                except Exception:  # noqa: BLE001 - the general path reports it
                    raw = None
                if type(raw) is str:
                    value = raw
                elif raw is None:
                    return general(key, default, layer=layer)
                elif (text := _plain_text(raw, str_head, tag1_head)) is not None:
                    value = text
                else:
                    if t0 is None:
                        t0 = perf()
                    value = settle(key, skey, st, None, raw)
                    if value is MISSING:
                        metrics.record_miss(st, perf() - t0)
                        return default
                    st._hit_pending.append(perf() - t0)
                    return value
                if t0 is not None:
                    latency = perf() - t0
                st._hit_pending.append(latency)
                return value
            return general(key, default, layer=layer, config=config, serializer=serializer)

        get.__doc__ = _GENERAL_GET.__doc__
        self.get = get  # type: ignore[method-assign]
        if type(self).aget is not _GENERAL_AGET or getattr(self.backend, "blocking", True):
            return

        # The store never blocks (the async view calls it inline anyway), so the async hit is
        # the lean sync one: one logic, and an awaited in-memory hit costs what a sync one
        # does instead of twice as much.
        async def aget(key: str, *args: Any, **kwargs: Any) -> Any:
            return get(key, *args, **kwargs)

        aget.__doc__ = _GENERAL_AGET.__doc__
        aget.__signature__ = inspect.signature(get)  # type: ignore[attr-defined]
        self.aget = aget  # type: ignore[method-assign]

    @property
    def scope(self) -> str:
        """The storage-key prefix of this manager: its namespace, and its tenant if any.

        Every entry and tag counter this manager writes lives under it, and
        :meth:`keys` and :meth:`clear` act on it alone, so managers with different
        namespaces (or tenants) can share one backend.

        Example:
            >>> m = CacheManager(key_builder=CacheKeyBuilder("app"))
            >>> m.scope, m.for_tenant("acme").scope
            ('app::', 'app::@acme:')
        """
        return self._scope

    def storage_key(self, key: str) -> str:
        """The backend key under which ``key`` is stored (scope + key).

        Example:
            >>> CacheManager(key_builder=CacheKeyBuilder("app")).storage_key("k")
            'app::k'
        """
        return self._skey(key)

    def for_tenant(self, tenant_id: str) -> CacheManager:
        """A view of this manager whose keys, tags and ``clear`` are scoped to one tenant.

        Tenants share the backend, serializer, metrics and stampede shield, but a tenant
        can never read, list, invalidate or clear another tenant's entries.

        Example:
            >>> root = CacheManager()
            >>> a, b = root.for_tenant("acme"), root.for_tenant("globex")
            >>> a.set("k", "for acme")
            >>> b.get("k") is None
            True
        """
        view = copy.copy(self)
        view._series_cache = {}
        view._set_tenant(tenant_id)
        view._bind_fast_get()
        return view

    # ---- pure helpers shared by the sync and async shells ------------------------------
    def _skey(self, key: str) -> str:
        if type(key) is str and key:
            if not key.isascii():
                _check_text(key, "cache key")
            # '@' opens a tenant scope and "__omnicache__" the tag counters: a caller key
            # may impersonate neither.
            if key[0] != "@" and not key.startswith(_RESERVED):
                return self._scope + key
            raise ValueError(
                f"keys starting with '@' or {_RESERVED!r} are reserved for tenant scopes and "
                f"internal counters, got {key!r}"
            )
        if type(key) is not str:
            raise TypeError(f"cache keys must be str, got {type(key).__name__}")
        raise ValueError("cache keys must be non-empty")

    def _series(self, layer: str) -> SeriesStats:
        st = self._series_cache.get(layer)
        if st is None:
            st = self.metrics.series(layer, self.tenant, self.backend_name)
            self._series_cache[layer] = st
        return st

    def _tag_keys(self, tags: Iterable[str]) -> list[str]:
        out = []
        for t in dict.fromkeys(tags):
            if type(t) is not str or not t:
                raise TypeError(f"a tag must be a non-empty str, got {t!r}")
            if not t.isascii():
                _check_text(t, "tag")
            out.append(InvalidationEngine.tag_key(self._scope, t))
        return out

    def _encode(
        self, value: Any, serializer: Serializer | None, tag_gens: Sequence[tuple[str, int]]
    ) -> Any:
        """What the backend stores for ``value``: envelope bytes, or the value itself.

        An in-memory store (``holds_values``) keeps an untagged immutable value as is when
        the manager's serializer is the default one and nothing is compressed: text, a
        float, or a tuple or frozenset of str/bytes/int/float/bool/None. Nobody can change
        such a value, so it needs no private copy, and SafeSerializer would give back an
        equal value of the same type anyway. Not stored as themselves: ``bytes`` (they
        would read as an envelope), ``None`` (a backend's miss), ints and bools (a manager
        counter is an int at a key: :meth:`incr` must not count on a cached value), and
        anything mutable, which is serialized so a caller mutating what it got back cannot
        change the cache.
        """
        if self._raw_values and serializer is None and not tag_gens and _as_is(value):
            return value
        ser = serializer or self.serializer
        payload = ser.dumps(value)
        comp = self.compressor
        codec = 0
        if comp.codec_id and len(payload) >= comp.min_size:
            packed = comp.compress(payload)
            if len(packed) < len(payload):
                payload, codec = packed, comp.codec_id
        return _env.encode(payload, ser.format_id, codec, tag_gens)

    def _encode_many(
        self,
        items: Mapping[str, Any],
        serializer: Serializer | None,
        tag_gens: Sequence[tuple[str, int]],
    ) -> dict[str, Any]:
        """``{scoped key: stored form}`` for a batch: :meth:`_encode` of every value.

        Without compression, every envelope of the batch starts with the same bytes (magic,
        format, codec, the batch's tag generations), so they are framed once and each entry
        is that head plus its payload: a 100k-entry ``set_many`` skips 100k tag encodings.
        """
        skey = self._skey
        if self.compressor.codec_id:  # whether to compress is decided per payload
            return {skey(k): self._encode(v, serializer, tag_gens) for k, v in items.items()}
        ser = serializer or self.serializer
        head, dumps = _env.encode(b"", ser.format_id, 0, tag_gens), ser.dumps
        if self._raw_values and serializer is None and not tag_gens:
            return {skey(k): v if _as_is(v) else head + dumps(v) for k, v in items.items()}
        return {skey(k): head + dumps(v) for k, v in items.items()}

    def _serializer_for(self, format_id: int, preferred: Serializer | None) -> Serializer:
        for ser in (preferred, self.serializer):
            if ser is not None and ser.format_id == format_id:
                return ser
        builtin = builtin_safe_serializer(format_id)
        if builtin is not None:
            return builtin
        if format_id in (3, 4):
            raise IntegrityError(
                "entry was written with PickleSerializer; this manager does not unpickle "
                "(configure the same PickleSerializer(secret=...) to read it)"
            )
        raise IntegrityError(f"entry uses serializer format {format_id}, unknown here")

    def _open(self, raw: Any, serializer: Serializer | None, verified: bool) -> Any:
        """Decode stored bytes: the value, or a :class:`_Tagged` needing a generation check."""
        if type(raw) is bytes:
            # One prefix test covers magic, version, our format, no compression, no tags:
            # the shape of almost every entry, decoded without intermediate slices.
            if serializer is None:
                if self._str_head is not None and raw.startswith(self._str_head):
                    return _text(raw[7:])
                if raw.startswith(self._fast_head):
                    return self._loads(raw[6:])
                if raw.startswith(self._tag1_head) and len(raw) >= 8:
                    # The next most common shape: one tag (a ResponseCache entry's model tag).
                    end = 8 + int.from_bytes(raw[6:8], "big")
                    body = end + 8
                    if len(raw) >= body:
                        if verified:
                            return self._decode(raw, body, None)
                        gen = int.from_bytes(raw[end:body], "big")
                        return _Tagged(raw, [_text(raw[8:end])], [gen], body)
        elif isinstance(raw, bytearray | memoryview):
            raw = bytes(raw)
        else:
            return raw  # a plain value a user put straight into an in-memory backend
        if len(raw) < _HEAD_LEN or raw[:3] != _HEAD:
            raise IntegrityError("stored bytes are not an omnicache envelope")
        if not raw[5]:
            return self._decode(raw, _HEAD_LEN, serializer)
        keys, gens, body = _env.split_tags(raw)
        if verified:
            return self._decode(raw, body, serializer)
        return _Tagged(raw, keys, gens, body)

    def _decode(self, raw: bytes, body: int, serializer: Serializer | None) -> Any:
        """The value of the payload that starts at ``raw[body]``."""
        fmt, codec = raw[3], raw[4]
        if not codec and serializer is None and fmt == self.serializer.format_id:
            if self._str_head is not None and raw[body : body + 1] == b"s":
                return _text(raw[body + 1 :])
            return self._loads(raw[body:])
        payload = raw[body:]
        if codec:
            payload = _decompress(codec, payload)
        return checked_loads(self._serializer_for(fmt, serializer))(payload)

    def _resolve_tagged(
        self, tagged: _Tagged, gens: Sequence[int], serializer: Serializer | None
    ) -> Any:
        if tagged.gens != gens:
            return _STALE
        return self._decode(tagged.raw, tagged.body, serializer)

    def _failed(self, err: BaseException, op: str, st: SeriesStats, key: str) -> None:
        if self.strict:
            raise CacheBackendError(f"{self.backend_name}.{op} failed for key {key!r}") from err
        self.metrics.record_error(st, op)
        self._errors.report(self.backend_name, op, err)
        if self.metrics.has_listeners:
            self.metrics.emit(CacheEvent("error", key, st.layer, self.tenant, {"op": op,
                                         "error": f"{type(err).__name__}: {err}"}))  # fmt: skip

    def _corrupt(self, err: BaseException, st: SeriesStats, key: str) -> None:
        # A bad entry (foreign format, failed signature, truncated bytes) is a miss, not the
        # caller's error; it is counted and logged like a backend error so it is seen once.
        if self.strict:
            raise CacheBackendError(f"cannot decode the entry at {key!r}: {err}") from err
        self._failed(err, "decode", st, key)

    def _count(self, st: SeriesStats, hit: bool, t0: float, key: str) -> None:
        dt = _perf() - t0
        if hit:
            self.metrics.record_hit(st, dt)
        else:
            self.metrics.record_miss(st, dt)
        if self.metrics.has_listeners:
            kind = "hit" if hit else "miss"
            detail = current_lookup_detail()
            self.metrics.emit(CacheEvent(kind, key, st.layer, self.tenant, detail))

    @staticmethod
    def _merge_config(
        ttl: float | None, tags: Iterable[str] | None, config: RequestConfig | None
    ) -> tuple[float | None, list[str]]:
        if isinstance(tags, str):
            raise TypeError(_ONE_TAG.format(tags))
        tag_list = list(tags) if tags else []
        if config is not None:
            if ttl is None:
                ttl = config.ttl
            tag_list.extend(config.tags)
        return ttl, tag_list

    # ---- sync API ----------------------------------------------------------------------
    def _lookup(self, key: str, skey: str, st: SeriesStats, serializer: Serializer | None) -> Any:
        """Read and decode one entry: the value or MISSING (no metrics)."""
        try:
            raw = self._read(skey)
        except Exception as err:  # noqa: BLE001 - fail-open is the contract
            self._read_failed(err, st, key)
            return MISSING
        if raw is None:
            return MISSING
        return self._settle(key, skey, st, serializer, raw)

    def _read_failed(self, err: Exception, st: SeriesStats, key: str) -> None:
        if isinstance(err, IntegrityError):  # a backend that checks tags found a bad header
            self._corrupt(err, st, key)
        else:
            self._failed(err, "get", st, key)

    def _settle(
        self, key: str, skey: str, st: SeriesStats, serializer: Serializer | None, raw: Any
    ) -> Any:
        """The value of the entry read at ``skey``, or MISSING (corrupt or stale)."""
        try:
            # Inlined fast path of _open(): the common entry shape in one prefix test.
            if type(raw) is bytes and serializer is None:
                if self._str_head is not None and raw.startswith(self._str_head):
                    return _text(raw[7:])
                if raw.startswith(self._fast_head):
                    return self._loads(raw[6:])
            value = self._open(raw, serializer, self._verified)
            if type(value) is _Tagged:
                try:
                    gens = self.invalidation.generations(value.keys)
                except Exception as err:  # noqa: BLE001
                    self._failed(err, "get", st, key)
                    return MISSING
                value = self._resolve_tagged(value, gens, serializer)
                if value is _STALE:
                    self._drop_stale(skey, st, key)
                    return MISSING
        except IntegrityError as err:
            self._corrupt(err, st, key)
            return MISSING
        return value

    def _drop_stale(self, skey: str, st: SeriesStats, key: str) -> None:
        try:
            self._sync.delete(skey)
        except Exception as err:  # noqa: BLE001
            self._failed(err, "delete", st, key)

    def get(
        self,
        key: str,
        default: Any = None,
        *,
        layer: str = "default",
        config: RequestConfig | None = None,
        serializer: Serializer | None = None,
    ) -> Any:
        """Return the cached value for ``key``, or ``default`` on a miss.

        Backend failures and undecodable entries count as misses (see ``strict``).

        Args:
            key: The caller's key (tenant scoping is applied by the manager).
            default: Returned on a miss; pass :data:`MISSING` to tell a cached ``None``
                from a miss.
            layer: Label for metrics and TTL policy.
            config: Per-call overrides; ``skip_cache``/``refresh`` make this a miss.
            serializer: Serializer for a non-built-in format this entry was written with.
        """
        if config is not None and (config.skip_cache or config.refresh):
            return default
        # The hit path, flattened: every call and attribute lookup saved here is a few
        # percent of an in-memory hit. The checks are those of _skey() and _lookup().
        if type(key) is str and key and key.isascii() and not key.startswith(_NOT_CALLER):
            skey = self._scope + key
        else:
            skey = self._skey(key)
        st = self._series_cache.get(layer) or self._series(layer)
        t0 = _perf()
        try:
            raw = self._read(skey)
        except Exception as err:  # noqa: BLE001 - fail-open is the contract
            self._read_failed(err, st, key)
            raw = None
        if raw is None:
            value: Any = MISSING
        elif (
            serializer is None
            and self._str_head is not None
            and (text := _plain_text(raw, self._str_head, self._tag1_head if self._verified
                                     else None)) is not None
        ):  # fmt: skip
            value = text
        else:
            value = self._settle(key, skey, st, serializer, raw)
        metrics = self.metrics
        if value is MISSING:
            metrics.record_miss(st, _perf() - t0)
            if metrics.has_listeners:
                metrics.emit(CacheEvent("miss", key, layer, self.tenant, current_lookup_detail()))
            return default
        metrics.record_hit(st, _perf() - t0)
        if metrics.has_listeners:
            metrics.emit(CacheEvent("hit", key, layer, self.tenant, current_lookup_detail()))
        return value

    def set(
        self,
        key: str,
        value: Any,
        ttl: float | None = None,
        *,
        tags: Iterable[str] | None = None,
        layer: str = "default",
        config: RequestConfig | None = None,
        serializer: Serializer | None = None,
    ) -> None:
        """Store ``value`` under ``key``.

        Args:
            key: The caller's key.
            value: Anything the serializer accepts; otherwise :class:`SerializationError`.
            ttl: Seconds to live (``None``: the layer's TTL from the policy; ``0``: never).
            tags: Tags for :meth:`invalidate`.
            layer: Label for metrics and TTL policy.
            config: Per-call overrides (``no_store``/``skip_cache`` make this a no-op).
            serializer: Use this serializer instead of the manager's.
        """
        if config is not None and (config.skip_cache or config.no_store):
            return
        ttl, tag_list = self._merge_config(ttl, tags, config)
        skey = self._skey(key)
        st = self._series(layer)
        ttl_s = self.ttl_policy.ttl_for(layer, ttl)
        tag_keys = self._tag_keys(tag_list) if tag_list else []
        try:
            gens = self.invalidation.current(tag_keys) if tag_keys else []
        except Exception as err:  # noqa: BLE001
            self._failed(err, "set", st, key)
            return
        data = self._encode(value, serializer, list(zip(tag_keys, gens, strict=True)))
        try:
            self._sync.set(skey, data, ttl_s)
            if tag_keys:
                self.invalidation.note_written(tag_keys)
        except Exception as err:  # noqa: BLE001
            self._failed(err, "set", st, key)
            return
        self.metrics.record_set(st)
        if self.metrics.has_listeners:
            self.metrics.emit(CacheEvent("set", key, layer, self.tenant))

    def delete(self, key: str, *, layer: str = "default") -> bool:
        """Remove ``key``; returns whether the backend reported it existed."""
        skey = self._skey(key)
        st = self._series(layer)
        try:
            existed = bool(self._sync.delete(skey))
        except Exception as err:  # noqa: BLE001
            self._failed(err, "delete", st, key)
            return False
        self.metrics.record_delete(st)
        return existed

    def exists(self, key: str, *, layer: str = "default") -> bool:
        """Whether a live, valid (not tag-invalidated) entry exists for ``key``."""
        return self._lookup(key, self._skey(key), self._series(layer), None) is not MISSING

    def clear(self) -> None:
        """Remove every entry and tag counter of this scope, and nothing else.

        The scope is the namespace (with every tenant in it) for a root manager, one
        tenant's entries for a :meth:`for_tenant` view; other namespaces and foreign keys
        in a shared backend are left alone.

        Raises:
            NotImplementedError: The backend cannot list its keys, so a scoped clear is
                impossible (use the backend's own ``clear()`` to wipe all of it).
        """
        st = self._series("default")
        try:
            self._sync.delete_prefix(self._scope)
        except NotImplementedError:
            raise
        except Exception as err:  # noqa: BLE001
            self._failed(err, "clear", st, "*")

    def invalidate(self, tag: str) -> int:
        """Retire every entry stored with ``tag`` (in this scope); O(1), no key scan.

        Returns:
            How many entries were written under the retired generation (an upper bound:
            some may have expired already).
        """
        st = self._series("default")
        tag_key = self._tag_keys([tag])[0]  # bad input is the caller's error, not a miss
        try:
            n = self.invalidation.bump(tag_key)
        except Exception as err:  # noqa: BLE001
            self._failed(err, "invalidate", st, tag)
            return 0
        self.metrics.record_invalidation()
        if self.metrics.has_listeners:
            self.metrics.emit(CacheEvent("invalidate", tag, "default", self.tenant))
        return n

    def _incr_args(
        self, key: str, delta: int, ttl: float | None, layer: str
    ) -> tuple[str, SeriesStats, float | None]:
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise TypeError(f"incr delta must be an int, got {type(delta).__name__}")
        return self._skey(key), self._series(layer), self.ttl_policy.ttl_for(layer, ttl)

    def incr(
        self, key: str, delta: int = 1, *, ttl: float | None = None, layer: str = "default"
    ) -> int | None:
        """Atomically add ``delta`` to the counter at ``key`` and return its new value.

        Atomic across every process sharing the backend (Redis ``INCRBY``, a diskcache
        transaction, a lock in memory). Keys are tenant-scoped like :meth:`set`; the TTL
        (``None``: the layer's TTL from the policy, ``0``: never) starts when the counter is
        created and is not extended by later increments. Read a counter with ``delta=0``;
        :meth:`get` does not decode counters.

        Returns:
            The new value, or ``None`` when the backend failed (counted and logged once;
            raises :class:`CacheBackendError` in strict mode).

        Example:
            >>> from omnicache_ai import CacheManager, InMemoryBackend
            >>> m = CacheManager(backend=InMemoryBackend())
            >>> m.incr("hits"), m.incr("hits", 5), m.incr("hits", 0)
            (1, 6, 6)
        """
        skey, st, ttl_s = self._incr_args(key, delta, ttl, layer)
        try:
            if self._raw_values:
                _not_a_value(self._sync.get(skey))
            if ttl_s is None:
                return int(self._sync.incr(skey, delta))
            return int(self._sync.incr(skey, delta, ttl_s))
        except Exception as err:  # noqa: BLE001
            self._failed(err, "incr", st, key)
            return None

    def get_or_set(
        self,
        key: str,
        fn: Callable[[], T],
        ttl: float | None = None,
        *,
        tags: Iterable[str] | None = None,
        layer: str = "default",
        config: RequestConfig | None = None,
        serializer: Serializer | None = None,
    ) -> T:
        """Return the cached value, or compute it with ``fn()`` once and cache it.

        Concurrent callers missing the same key wait for one computation (see
        :class:`StampedeShield`). An exception from ``fn`` reaches every waiter and
        nothing is cached.

        Example:
            >>> m = CacheManager()
            >>> m.get_or_set("k", lambda: "computed"), m.get_or_set("k", lambda: "again")
            ('computed', 'computed')
        """
        if config is not None and config.skip_cache:
            return _sync_result(fn())
        skey = self._skey(key)
        st = self._series(layer)
        refresh = config is not None and config.refresh
        if not refresh:
            t0 = _perf()
            value = self._lookup(key, skey, st, serializer)
            self._count(st, value is not MISSING, t0, key)
            if value is not MISSING:
                return value  # type: ignore[no-any-return]
        led = False

        def fill() -> T:
            nonlocal led
            led = True
            if not refresh:
                again = self._lookup(key, skey, st, serializer)
                if again is not MISSING:  # filled by another process while we waited
                    return again  # type: ignore[no-any-return]
            result = _sync_result(fn())
            self.set(key, result, ttl, tags=tags, layer=layer, config=config,
                     serializer=serializer)  # fmt: skip
            return result

        result = self.stampede.run(skey, fill)
        if not led:
            self.metrics.record_coalesced(st)
        return result

    def get_many(
        self, keys: Sequence[str], *, layer: str = "default", serializer: Serializer | None = None
    ) -> dict[str, Any]:
        """Look up several keys in one backend call; returns ``{key: value}`` for the hits."""
        st = self._series(layer)
        skeys = [self._skey(k) for k in keys]
        t0 = _perf()
        try:
            raws = self._sync.get_many(skeys)
        except Exception as err:  # noqa: BLE001
            self._failed(err, "get_many", st, ",".join(keys[:3]))
            raws = [None] * len(keys)
        opened = self._open_many(keys, raws, st, serializer)
        pending = [(k, v) for k, v in opened.items() if type(v) is _Tagged]
        if pending:
            tag_keys = sorted({t for _, v in pending for t in v.keys})
            try:
                current = dict(zip(tag_keys, self.invalidation.generations(tag_keys), strict=True))
            except Exception as err:  # noqa: BLE001
                self._failed(err, "get_many", st, pending[0][0])
                current = None
            self._settle_many(opened, pending, current, serializer, st)
        return self._finish_many(keys, opened, st, t0)

    def set_many(
        self,
        items: Mapping[str, Any],
        ttl: float | None = None,
        *,
        layer: str = "default",
        serializer: Serializer | None = None,
        tags: Iterable[str] | None = None,
    ) -> None:
        """Store several values in one backend call, all with the same ``ttl`` and ``tags``.

        Example:
            >>> m = CacheManager()
            >>> m.set_many({"a": 1, "b": 2}, tags=["v1"]); _ = m.invalidate("v1")
            >>> m.get_many(["a", "b"])
            {}
        """
        st = self._series(layer)
        tag_list = self._merge_config(ttl, tags, None)[1]
        tag_keys = self._tag_keys(tag_list) if tag_list else []
        try:
            gens = self.invalidation.current(tag_keys) if tag_keys else []
        except Exception as err:  # noqa: BLE001
            self._failed(err, "set_many", st, next(iter(items), ""))
            return
        tag_gens = list(zip(tag_keys, gens, strict=True))
        data = self._encode_many(items, serializer, tag_gens)
        ttl_s = self.ttl_policy.ttl_for(layer, ttl)
        try:
            self._sync.set_many(data, ttl_s)
            if tag_keys:
                self.invalidation.note_written(tag_keys)
        except Exception as err:  # noqa: BLE001
            self._failed(err, "set_many", st, next(iter(items), ""))
            return
        self.metrics.record_set(st, len(data))

    def delete_many(self, keys: Iterable[str], *, layer: str = "default") -> int:
        """Remove several keys; returns how many existed."""
        st = self._series(layer)
        skeys = [self._skey(k) for k in keys]
        try:
            n = int(self._sync.delete_many(skeys))
        except Exception as err:  # noqa: BLE001
            self._failed(err, "delete_many", st, ",".join(skeys[:3]))
            return 0
        self.metrics.record_delete(st, n)
        return n

    def count(self, key: str, *, layer: str = "default") -> int:
        """The value of the counter at ``key`` (see :meth:`incr`); 0 when absent or failed.

        Reading never creates the counter.

        Example:
            >>> m = CacheManager()
            >>> m.count("never"), m.incr("seen", 4), m.count("seen")
            (0, 4, 4)
        """
        skey = self._skey(key)
        try:
            # The current value comes from incr(0), the authoritative tier of a tiered
            # backend; the read before it only avoids creating an absent counter.
            held = self._sync.get(skey)
            if held is None:
                return 0
            _not_a_value(held)
            return int(self._sync.incr(skey, 0))
        except Exception as err:  # noqa: BLE001
            self._failed(err, "count", self._series(layer), key)
            return 0

    def keys(self, prefix: str = "") -> list[str]:
        """The caller keys in this scope that start with ``prefix`` (internal keys excluded)."""
        scope = self._scope
        try:
            found = list(self._sync.keys(scope + prefix))
        except NotImplementedError:
            raise
        except Exception as err:  # noqa: BLE001
            self._failed(err, "keys", self._series("default"), prefix)
            return []
        return self._visible_keys(found)

    # ---- shared batch helpers ------------------------------------------------------------
    def _open_many(
        self,
        keys: Sequence[str],
        raws: Sequence[Any],
        st: SeriesStats,
        serializer: Serializer | None,
    ) -> dict[str, Any]:
        opened: dict[str, Any] = {}
        for key, raw in zip(keys, raws, strict=True):
            if raw is None:
                continue
            try:
                opened[key] = self._open(raw, serializer, False)
            except IntegrityError as err:
                self._corrupt(err, st, key)
        return opened

    def _settle_many(
        self,
        opened: dict[str, Any],
        pending: list[tuple[str, Any]],
        current: dict[str, int] | None,
        serializer: Serializer | None,
        st: SeriesStats,
    ) -> None:
        for key, tagged in pending:
            if current is None:
                del opened[key]
                continue
            gens = [current[t] for t in tagged.keys]
            try:
                value = self._resolve_tagged(tagged, gens, serializer)
            except IntegrityError as err:
                self._corrupt(err, st, key)
                value = _STALE
            if value is _STALE:
                del opened[key]
            else:
                opened[key] = value

    def _finish_many(
        self, keys: Sequence[str], opened: dict[str, Any], st: SeriesStats, t0: float
    ) -> dict[str, Any]:
        dt = (_perf() - t0) / max(len(keys), 1)
        for key in keys:
            if key in opened:
                self.metrics.record_hit(st, dt)
            else:
                self.metrics.record_miss(st, dt)
        return opened

    def _visible_keys(self, found: Iterable[str]) -> list[str]:
        scope = self._scope
        n = len(scope)
        out = []
        for k in found:
            k = k.decode() if isinstance(k, bytes) else k  # noqa: PLW2901
            if not k.startswith(scope):
                continue
            k = k[n:]  # noqa: PLW2901
            if k.startswith(("@", _RESERVED)):
                continue  # a tenant's entries or a tag counter: not this scope's keys
            out.append(k)
        return out

    # ---- async API (same logic, awaited backend) -------------------------------------------
    async def _alookup(
        self, key: str, skey: str, st: SeriesStats, serializer: Serializer | None
    ) -> Any:
        try:
            raw = await self._aread(skey)
        except Exception as err:  # noqa: BLE001
            self._read_failed(err, st, key)
            return MISSING
        if raw is None:
            return MISSING
        try:
            value = self._open(raw, serializer, self._averified)
            if type(value) is _Tagged:
                try:
                    gens = await self.invalidation.agenerations(value.keys)
                except Exception as err:  # noqa: BLE001
                    self._failed(err, "get", st, key)
                    return MISSING
                value = self._resolve_tagged(value, gens, serializer)
                if value is _STALE:
                    try:
                        await self._async.delete(skey)
                    except Exception as err:  # noqa: BLE001
                        self._failed(err, "delete", st, key)
                    return MISSING
        except IntegrityError as err:
            self._corrupt(err, st, key)
            return MISSING
        return value

    async def aget(
        self,
        key: str,
        default: Any = None,
        *,
        layer: str = "default",
        config: RequestConfig | None = None,
        serializer: Serializer | None = None,
    ) -> Any:
        """Async :meth:`get`."""
        if config is not None and (config.skip_cache or config.refresh):
            return default
        skey = self._skey(key)
        st = self._series(layer)
        t0 = _perf()
        value = await self._alookup(key, skey, st, serializer)
        self._count(st, value is not MISSING, t0, key)
        return default if value is MISSING else value

    async def aset(
        self,
        key: str,
        value: Any,
        ttl: float | None = None,
        *,
        tags: Iterable[str] | None = None,
        layer: str = "default",
        config: RequestConfig | None = None,
        serializer: Serializer | None = None,
    ) -> None:
        """Async :meth:`set`."""
        if config is not None and (config.skip_cache or config.no_store):
            return
        ttl, tag_list = self._merge_config(ttl, tags, config)
        skey = self._skey(key)
        st = self._series(layer)
        ttl_s = self.ttl_policy.ttl_for(layer, ttl)
        tag_keys = self._tag_keys(tag_list) if tag_list else []
        try:
            gens = await self.invalidation.acurrent(tag_keys) if tag_keys else []
        except Exception as err:  # noqa: BLE001
            self._failed(err, "set", st, key)
            return
        data = self._encode(value, serializer, list(zip(tag_keys, gens, strict=True)))
        try:
            await self._async.set(skey, data, ttl_s)
            if tag_keys:
                await self.invalidation.anote_written(tag_keys)
        except Exception as err:  # noqa: BLE001
            self._failed(err, "set", st, key)
            return
        self.metrics.record_set(st)
        if self.metrics.has_listeners:
            self.metrics.emit(CacheEvent("set", key, layer, self.tenant))

    async def adelete(self, key: str, *, layer: str = "default") -> bool:
        """Async :meth:`delete`."""
        skey = self._skey(key)
        st = self._series(layer)
        try:
            existed = bool(await self._async.delete(skey))
        except Exception as err:  # noqa: BLE001
            self._failed(err, "delete", st, key)
            return False
        self.metrics.record_delete(st)
        return existed

    async def aexists(self, key: str, *, layer: str = "default") -> bool:
        """Async :meth:`exists`."""
        value = await self._alookup(key, self._skey(key), self._series(layer), None)
        return value is not MISSING

    async def aclear(self) -> None:
        """Async :meth:`clear`."""
        st = self._series("default")
        try:
            await self._async.delete_prefix(self._scope)
        except NotImplementedError:
            raise
        except Exception as err:  # noqa: BLE001
            self._failed(err, "clear", st, "*")

    async def ainvalidate(self, tag: str) -> int:
        """Async :meth:`invalidate`."""
        st = self._series("default")
        tag_key = self._tag_keys([tag])[0]
        try:
            n = await self.invalidation.abump(tag_key)
        except Exception as err:  # noqa: BLE001
            self._failed(err, "invalidate", st, tag)
            return 0
        self.metrics.record_invalidation()
        if self.metrics.has_listeners:
            self.metrics.emit(CacheEvent("invalidate", tag, "default", self.tenant))
        return n

    async def aincr(
        self, key: str, delta: int = 1, *, ttl: float | None = None, layer: str = "default"
    ) -> int | None:
        """Async :meth:`incr`."""
        skey, st, ttl_s = self._incr_args(key, delta, ttl, layer)
        try:
            if self._raw_values:
                _not_a_value(await self._async.get(skey))
            if ttl_s is None:
                return int(await self._async.incr(skey, delta))
            return int(await self._async.incr(skey, delta, ttl_s))
        except Exception as err:  # noqa: BLE001
            self._failed(err, "incr", st, key)
            return None

    @overload
    async def aget_or_set(
        self,
        key: str,
        fn: Callable[[], Awaitable[T]],
        ttl: float | None = None,
        *,
        tags: Iterable[str] | None = None,
        layer: str = "default",
        config: RequestConfig | None = None,
        serializer: Serializer | None = None,
    ) -> T: ...
    @overload
    async def aget_or_set(
        self,
        key: str,
        fn: Callable[[], T],
        ttl: float | None = None,
        *,
        tags: Iterable[str] | None = None,
        layer: str = "default",
        config: RequestConfig | None = None,
        serializer: Serializer | None = None,
    ) -> T: ...
    async def aget_or_set(
        self,
        key: str,
        fn: Callable[[], Any],
        ttl: float | None = None,
        *,
        tags: Iterable[str] | None = None,
        layer: str = "default",
        config: RequestConfig | None = None,
        serializer: Serializer | None = None,
    ) -> Any:
        """Async :meth:`get_or_set`; ``fn`` may be a coroutine function or a plain one."""
        if config is not None and config.skip_cache:
            return await _async_result(fn())
        skey = self._skey(key)
        st = self._series(layer)
        refresh = config is not None and config.refresh
        if not refresh:
            t0 = _perf()
            value = await self._alookup(key, skey, st, serializer)
            self._count(st, value is not MISSING, t0, key)
            if value is not MISSING:
                return value
        led = False

        async def fill() -> Any:
            nonlocal led
            led = True
            if not refresh:
                again = await self._alookup(key, skey, st, serializer)
                if again is not MISSING:
                    return again
            result = await _async_result(fn())
            await self.aset(key, result, ttl, tags=tags, layer=layer, config=config,
                            serializer=serializer)  # fmt: skip
            return result

        result = await self.stampede.arun(skey, fill)
        if not led:
            self.metrics.record_coalesced(st)
        return result

    async def aget_many(
        self, keys: Sequence[str], *, layer: str = "default", serializer: Serializer | None = None
    ) -> dict[str, Any]:
        """Async :meth:`get_many`."""
        st = self._series(layer)
        skeys = [self._skey(k) for k in keys]
        t0 = _perf()
        try:
            raws = await self._async.get_many(skeys)
        except Exception as err:  # noqa: BLE001
            self._failed(err, "get_many", st, ",".join(keys[:3]))
            raws = [None] * len(keys)
        opened = self._open_many(keys, raws, st, serializer)
        pending = [(k, v) for k, v in opened.items() if type(v) is _Tagged]
        if pending:
            tag_keys = sorted({t for _, v in pending for t in v.keys})
            try:
                gens = await self.invalidation.agenerations(tag_keys)
                current: dict[str, int] | None = dict(zip(tag_keys, gens, strict=True))
            except Exception as err:  # noqa: BLE001
                self._failed(err, "get_many", st, pending[0][0])
                current = None
            self._settle_many(opened, pending, current, serializer, st)
        return self._finish_many(keys, opened, st, t0)

    async def aset_many(
        self,
        items: Mapping[str, Any],
        ttl: float | None = None,
        *,
        layer: str = "default",
        serializer: Serializer | None = None,
        tags: Iterable[str] | None = None,
    ) -> None:
        """Async :meth:`set_many`."""
        st = self._series(layer)
        tag_list = self._merge_config(ttl, tags, None)[1]
        tag_keys = self._tag_keys(tag_list) if tag_list else []
        try:
            gens = await self.invalidation.acurrent(tag_keys) if tag_keys else []
        except Exception as err:  # noqa: BLE001
            self._failed(err, "set_many", st, next(iter(items), ""))
            return
        tag_gens = list(zip(tag_keys, gens, strict=True))
        data = self._encode_many(items, serializer, tag_gens)
        ttl_s = self.ttl_policy.ttl_for(layer, ttl)
        try:
            await self._async.set_many(data, ttl_s)
            if tag_keys:
                await self.invalidation.anote_written(tag_keys)
        except Exception as err:  # noqa: BLE001
            self._failed(err, "set_many", st, next(iter(items), ""))
            return
        self.metrics.record_set(st, len(data))

    async def adelete_many(self, keys: Iterable[str], *, layer: str = "default") -> int:
        """Async :meth:`delete_many`."""
        st = self._series(layer)
        skeys = [self._skey(k) for k in keys]
        try:
            n = int(await self._async.delete_many(skeys))
        except Exception as err:  # noqa: BLE001
            self._failed(err, "delete_many", st, ",".join(skeys[:3]))
            return 0
        self.metrics.record_delete(st, n)
        return n

    async def acount(self, key: str, *, layer: str = "default") -> int:
        """Async :meth:`count`."""
        skey = self._skey(key)
        try:
            held = await self._async.get(skey)
            if held is None:
                return 0
            _not_a_value(held)
            return int(await self._async.incr(skey, 0))
        except Exception as err:  # noqa: BLE001
            self._failed(err, "count", self._series(layer), key)
            return 0

    async def akeys(self, prefix: str = "") -> list[str]:
        """Async :meth:`keys`."""
        try:
            found = await self._async.keys(self._scope + prefix)
        except NotImplementedError:
            raise
        except Exception as err:  # noqa: BLE001
            self._failed(err, "keys", self._series("default"), prefix)
            return []
        return self._visible_keys(found)

    # ---- accounting ------------------------------------------------------------------------
    def record_savings(
        self,
        layer: str,
        *,
        model: str | None = None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost: float | None = None,
    ) -> float:
        """Count what one hit saved: the upstream call's tokens and its price.

        Layers call this on every hit with the usage recorded when the answer was first
        computed. ``cost`` defaults to the pricing table's price for ``model``.

        Returns:
            The dollars counted.
        """
        if cost is None:
            cost = self.pricing.cost(model, input_tokens, output_tokens)
        self.metrics.record_savings(
            self._series(layer), input_tokens=input_tokens, output_tokens=output_tokens, cost=cost
        )
        return cost

    def record_provider_cache(
        self,
        layer: str,
        *,
        model: str | None = None,
        read_tokens: int = 0,
        write_tokens: int = 0,
    ) -> float:
        """Count provider prompt-cache usage and the money its discount saved.

        The saving is what the cached tokens would have cost at the full input price minus
        what they cost at the cached rate; cache writes are not a saving.
        """
        price = self.pricing.price(model)
        saved = 0.0
        if price is not None and read_tokens:
            cached_rate = price.input if price.cached_input is None else price.cached_input
            saved = read_tokens * (price.input - cached_rate) / 1_000_000
        self.metrics.record_provider_cache(
            self._series(layer), read_tokens=read_tokens, write_tokens=write_tokens, cost=saved
        )
        return saved

    # ---- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Close the backend (and the invalidation engine's, when separate)."""
        for b in {id(self.backend): self.backend, id(self.invalidation.backend):
                  self.invalidation.backend}.values():  # fmt: skip
            if b is not None:
                try:
                    sync_ops(b).close()
                except Exception as err:  # noqa: BLE001
                    self._failed(err, "close", self._series("default"), "*")

    async def aclose(self) -> None:
        """Async :meth:`close`."""
        try:
            await self._async.close()
        except Exception as err:  # noqa: BLE001
            self._failed(err, "close", self._series("default"), "*")

    def __enter__(self) -> CacheManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> CacheManager:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        scope = f", tenant={self.tenant!r}" if self.tenant else ""
        return (
            f"CacheManager(backend={self.backend_name}, "
            f"namespace={self.key_builder.namespace!r}{scope})"
        )


_HEAD_LEN: Final = 6
# The general get(), as defined here: the lean one falls back to it (see _bind_fast_get).
_GENERAL_GET: Final = CacheManager.get
_GENERAL_AGET: Final = CacheManager.aget


def _as_is(value: Any) -> bool:
    """Whether ``value`` may be stored as itself in an in-memory store (see _encode)."""
    t = type(value)
    if t is str or t is float:
        return True
    if t is tuple or t is frozenset:
        return all(type(v) in _FLAT for v in value)
    return False


def _not_a_value(held: Any) -> None:
    """Refuse to count on a cached value a store holds as itself (see _encode).

    Stored as envelope bytes, such a value made the backend's increment fail; stored as
    itself, ``int("42")`` or ``int(2.5)`` would succeed and turn the cached value into a
    counter. The error takes the same path (counted, logged, ``None``/``0``).
    """
    if held is not None and type(held) is not int and _as_is(held):
        raise ValueError(f"the key holds a cached {type(held).__name__}, not a counter")


def _plain_text(raw: Any, str_head: bytes, tag1_head: bytes | None) -> str | None:
    """The text of the two commonest entry shapes, decoded in place; ``None`` for others.

    ``str_head`` opens an untagged SafeSerializer string; ``tag1_head`` (``None``: not
    checked by the backend) one behind a single tag whose generation the backend already
    validated (a ResponseCache entry). Bytes that are not UTF-8 give ``None`` too: the
    general decoder then reports them as a corrupt entry.
    """
    if type(raw) is not bytes:
        return None
    if raw.startswith(str_head):
        start = 7
    elif (
        tag1_head is not None
        and raw.startswith(tag1_head)
        and len(raw) >= 8
        and raw[(body := 16 + (raw[6] << 8 | raw[7])) : body + 1] == b"s"
    ):
        start = body + 1
    else:
        return None
    try:
        return raw[start:].decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None


def _check_text(text: str, what: str) -> None:
    """Keys and tags are identifiers stored as UTF-8 everywhere: lone surrogates cannot be."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(
            f"{what} {text!r} holds a lone surrogate ({err.reason}); keys and tags must be "
            "valid Unicode text on every backend"
        ) from err


def _text(data: bytes) -> str:
    """Stored UTF-8 (surrogates allowed, as SafeSerializer writes them), or IntegrityError."""
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as err:
        raise IntegrityError(f"stored text is not UTF-8: {err}") from err


def _decompress(codec_id: int, payload: bytes) -> bytes:
    """Undo the entry's compression; any failure of a codec means a corrupt entry."""
    try:
        return codec_for(codec_id).decompress(payload)
    except IntegrityError:
        raise
    except Exception as err:  # stored bytes are untrusted input
        raise IntegrityError(
            f"cannot decompress the entry (codec {codec_id}): {type(err).__name__}: {err}"
        ) from err


def _sync_result(result: T) -> T:
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if callable(close):
            close()
        raise TypeError(
            "get_or_set() got a coroutine function; use `await manager.aget_or_set(...)` "
            "for async computations"
        )
    return result


async def _async_result(result: Awaitable[T] | T) -> T:
    if inspect.isawaitable(result):
        return await result
    return result
