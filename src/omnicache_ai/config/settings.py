"""``OmnicacheSettings``: every knob, readable from ``OMNICACHE_*`` environment variables.

Each field maps to the variable ``OMNICACHE_<FIELD NAME IN CAPITALS>``; for example
``default_ttl`` is ``OMNICACHE_DEFAULT_TTL``. A value that does not parse or is out of range
raises :class:`ConfigurationError` naming the variable, so a typo fails at start-up rather
than silently running with a default. Unknown ``OMNICACHE_*`` variables are logged once.

Example:
    >>> s = OmnicacheSettings.from_env({"OMNICACHE_BACKEND": "disk", "OMNICACHE_DEFAULT_TTL": "0"})
    >>> s.backend, s.default_ttl
    ('disk', 0.0)
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import tempfile
import types
import typing
import warnings
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

from omnicache_ai.core.errors import ConfigurationError
from omnicache_ai.core.key_builder import escape_segment
from omnicache_ai.core.policies import (
    DEFAULT_LAYER_TTLS,
    DEFAULT_TTL,
    EvictionPolicy,
    TTLPolicy,
)

if TYPE_CHECKING:
    from omnicache_ai.core.cache_manager import CacheManager

__all__ = ["ConfigurationError", "OmnicacheSettings"]

logger = logging.getLogger("omnicache_ai")
PREFIX = "OMNICACHE_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

BackendName = Literal["memory", "disk", "redis", "tiered", "null"]

# A TTL past a century is a typo (or 1e20), and Redis rejects expiries past 2**63 ms, which
# would turn every write into a silent miss.
MAX_TTL = 100 * 365 * 24 * 3600
_TTL_FIELDS = (
    "default_ttl", "l1_ttl", "ttl_embedding", "ttl_retrieval", "ttl_context", "ttl_response",
    "ttl_semantic",
)  # fmt: skip


#: Variables read by other parts (the gateway's ``omnicache serve``), not unknown settings.
_OTHER_PREFIXES = ("OMNICACHE_GATEWAY_",)


def _env_name(name: str) -> str:
    return PREFIX + name.upper()


@dataclass
class OmnicacheSettings:
    """All settings, with the README's defaults.

    Attributes:
        backend: ``memory`` | ``disk`` | ``redis`` | ``tiered`` (memory L1 + redis L2) |
            ``null``.
        redis_url: Redis URL (``rediss://`` for TLS, ``user:password@`` for auth).
        disk_path: Directory of the disk backend.
        default_ttl: Seconds to live for entries of every layer; 0 = no expiry.
        namespace: First segment of every key the layers build.
        semantic_threshold: Cosine similarity a semantic hit must reach; unset (``None``, the
            default): the threshold calibrated for ``embedder`` (0.89 for ``wordllama``, 0.88
            for ``minilm-l6-int8``; see ``omnicache_ai.embedders.recommended_threshold``).
        ttl_embedding: Per-layer TTL override (seconds) for embeddings.
        ttl_retrieval: Per-layer TTL override for retrieval results.
        ttl_context: Per-layer TTL override for session context.
        ttl_response: Per-layer TTL override for LLM responses.
        ttl_semantic: Per-layer TTL override for semantic entries (unset: default_ttl).
        max_entries: Bound of the in-memory backend (and of the tiered L1).
        max_bytes: Byte bound of the in-memory backend.
        max_value_bytes: Largest value the Redis backend stores or serves (default 8 MiB;
            0 means no limit); see docs/redis.md.
        l1_ttl: Seconds an L1 copy lives in the tiered backend.
        compression: ``none`` | ``gzip`` | ``zstd``.
        compression_min_size: Payloads shorter than this are stored uncompressed.
        serializer: ``safe`` (default, no pickle) | ``json`` | ``pickle``.
        pickle_secret: HMAC key for ``pickle``; required unless ``allow_unsigned_pickle``.
        allow_unsigned_pickle: Accept ``pickle`` without a secret (logs a warning): only for
            a store no one else can write, since unpickling runs code the writer chose.
        strict: Raise on backend failure instead of serving a miss.
        pricing: Model prices overriding the built-in table: a JSON object or a path to
            one (read by ``omnicache_ai.core.pricing.default_pricing``).
        vector_backend: Vector index of the semantic cache: ``auto`` (default: ``faiss``
            when the ``vector-faiss`` extra is installed, else ``numpy``) | ``numpy``
            (in-process, exact) | ``faiss`` | ``chroma`` | ``qdrant``.
        vector_path: Directory the vector index persists to (numpy, faiss, chroma, qdrant);
            unset: in memory.
        vector_url: Server URL for ``chroma`` or ``qdrant`` (takes precedence over the path).
        vector_threads: Threads one search of an in-process index (``numpy``, ``faiss``)
            may use; default 1, so concurrent lookups on a busy machine never oversubscribe
            the cores with BLAS/OpenMP workers; 0 leaves it to those libraries.
        embedder: Embedder preset of the semantic cache (see ``omnicache_ai.embedders``):
            ``wordllama`` (default, fast), ``minilm-l6-int8`` (stronger, ~10-40 ms a query),
            ``minilm-l3`` or ``hashing`` (tests only).
        semantic_guards: False-hit guards: ``all`` | ``none`` | a comma list of
            ``negation``, ``numbers``, ``entities``, ``aspect``, ``roles``.
        semantic_adaptive: Build an :class:`AdaptiveSemanticCache` (thresholds learn from
            feedback) instead of a plain :class:`SemanticCache`.
        semantic_target_false_hit_rate: False-hit rate the adaptive cache aims to stay under.
        semantic_threshold_floor: The adaptive cache never lowers its threshold below this.
    """

    backend: BackendName = "memory"
    redis_url: str = "redis://localhost:6379/0"
    disk_path: str = field(default_factory=lambda: os.path.join(tempfile.gettempdir(), "omnicache"))
    default_ttl: float = DEFAULT_TTL
    namespace: str = "omnicache"
    semantic_threshold: float | None = None
    ttl_embedding: float | None = DEFAULT_LAYER_TTLS["embedding"]
    ttl_retrieval: float | None = DEFAULT_LAYER_TTLS["retrieval"]
    ttl_context: float | None = DEFAULT_LAYER_TTLS["context"]
    ttl_response: float | None = DEFAULT_LAYER_TTLS["response"]
    ttl_semantic: float | None = None
    max_entries: int | None = 100_000
    max_bytes: int | None = None
    max_value_bytes: int | None = 8 * 1024 * 1024
    l1_ttl: float = 60
    compression: Literal["none", "gzip", "zstd"] = "none"
    compression_min_size: int = 512
    serializer: Literal["safe", "json", "pickle"] = "safe"
    pickle_secret: str | None = field(default=None, repr=False)
    allow_unsigned_pickle: bool = False
    strict: bool = False
    pricing: str | None = None
    vector_backend: Literal["auto", "numpy", "faiss", "chroma", "qdrant"] = "auto"
    vector_path: str | None = None
    vector_url: str | None = None
    vector_threads: int = 1
    embedder: Literal["wordllama", "minilm-l6-int8", "minilm-l3", "hashing"] = "wordllama"
    semantic_guards: str = "all"
    semantic_adaptive: bool = False
    semantic_target_false_hit_rate: float = 0.01
    semantic_threshold_floor: float = 0.7
    #: omnicache-ai 0.3.0's name for ``max_entries`` (accepted, with a DeprecationWarning).
    max_memory_entries: InitVar[int | None] = None

    def __post_init__(self, max_memory_entries: int | None) -> None:
        if max_memory_entries is not None:
            warnings.warn(
                "OmnicacheSettings(max_memory_entries=...) is deprecated: write "
                "OmnicacheSettings(max_entries=...) (environment: OMNICACHE_MAX_ENTRIES)",
                DeprecationWarning,
                stacklevel=3,
            )
            self.max_entries = max_memory_entries
        for f in fields(self):
            self._check(f, getattr(self, f.name))
        if self.semantic_threshold is not None and not 0.0 < self.semantic_threshold <= 1.0:
            raise ConfigurationError(
                f"{_env_name('semantic_threshold')} must be in (0, 1], or unset for the "
                f"embedder's calibrated threshold; got {self.semantic_threshold}"
            )
        for name in _TTL_FIELDS:
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and 0 <= v <= MAX_TTL):
                raise ConfigurationError(
                    f"{_env_name(name)} must be a number of seconds from 0 (no expiry) to "
                    f"{MAX_TTL}, got {v}"
                )
        for name in ("max_entries", "max_bytes"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ConfigurationError(
                    f"{_env_name(name)} must be a positive integer, or none for no bound; got {v!r}"
                )
        threads = self.vector_threads
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
            raise ConfigurationError(
                f"{_env_name('vector_threads')} must be a whole number >= 0 (0: the libraries' "
                f"default), got {threads!r}"
            )
        if self.compression_min_size < 0:
            raise ConfigurationError(
                f"{_env_name('compression_min_size')} must be >= 0 bytes, "
                f"got {self.compression_min_size}"
            )
        self._check_pickle()
        self._check_pricing()
        if not self.namespace:
            raise ConfigurationError(f"{_env_name('namespace')} must not be empty")
        self.guard_config()  # validates semantic_guards
        if not 0.0 < self.semantic_target_false_hit_rate < 1.0:
            raise ConfigurationError(
                f"{_env_name('semantic_target_false_hit_rate')} must be between 0 and 1 "
                f"(exclusive), got {self.semantic_target_false_hit_rate}"
            )
        if not 0.0 < self.semantic_threshold_floor <= 1.0:
            raise ConfigurationError(
                f"{_env_name('semantic_threshold_floor')} must be in (0, 1], "
                f"got {self.semantic_threshold_floor}"
            )

    def _check_pickle(self, *, warn: bool = True) -> None:
        if self.serializer != "pickle" or self.pickle_secret:
            return
        if not self.allow_unsigned_pickle:
            raise ConfigurationError(
                f"{_env_name('serializer')}=pickle needs {_env_name('pickle_secret')} (an HMAC "
                "key shared by every process), because unsigned pickles from a shared store "
                f"run the writer's code; set {_env_name('allow_unsigned_pickle')}=true only "
                "for a store no one else can write"
            )
        if not warn:
            return
        logger.warning(
            "omnicache: %s=pickle without %s: entries are not signed and anyone who can "
            "write to the store can run code in this process (%s=true)",
            _env_name("serializer"),
            _env_name("pickle_secret"),
            _env_name("allow_unsigned_pickle"),
        )

    def _check_pricing(self) -> None:
        if not self.pricing:
            return
        from omnicache_ai.core.pricing import PricingTable

        try:
            PricingTable().load(self.pricing)
        except (OSError, ValueError) as err:
            raise ConfigurationError(
                f"{_env_name('pricing')} must be a JSON object of model -> prices or the path "
                f"of a file holding one; {_one_line(err)}"
            ) from err

    def _check(self, f: dataclasses.Field[Any], value: Any) -> None:
        choices = _literal_choices(f.type)
        if choices and value not in choices:
            raise ConfigurationError(
                f"{_env_name(f.name)} must be one of {', '.join(map(str, choices))}; got {value!r}"
            )

    # ---- environment ------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OmnicacheSettings:
        """Read every ``OMNICACHE_*`` variable (from ``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        known = {_env_name(f.name): f for f in fields(cls)}
        values: dict[str, Any] = {}
        for var, f in known.items():
            raw = env.get(var)
            if raw is None:
                continue
            values[f.name] = _parse(var, raw.strip(), f.type)
        unknown = sorted(
            k
            for k in env
            if k.startswith(PREFIX) and k not in known and not k.startswith(_OTHER_PREFIXES)
        )
        if unknown:
            logger.warning("omnicache: ignoring unknown settings %s", ", ".join(unknown))
        return cls(**values)

    @classmethod
    def env_variables(cls) -> dict[str, Any]:
        """``{variable name: default}`` for documentation and ``omnicache config``."""
        defaults = cls()
        return {_env_name(f.name): getattr(defaults, f.name) for f in fields(cls)}

    # ---- builders ---------------------------------------------------------------------
    def ttl_policy(self) -> TTLPolicy:
        """The :class:`TTLPolicy` these settings describe."""
        per_layer = {
            layer: getattr(self, f"ttl_{layer}")
            for layer in ("embedding", "retrieval", "context", "response", "semantic")
            if getattr(self, f"ttl_{layer}") is not None
        }
        return TTLPolicy(default_ttl=self.default_ttl, per_layer=per_layer)

    def eviction_policy(self) -> EvictionPolicy:
        """Bounds for the in-memory backend."""
        return EvictionPolicy("lru", max_entries=self.max_entries, max_bytes=self.max_bytes)

    def build_backend(self) -> Any:
        """Instantiate the configured backend."""
        from omnicache_ai.backends.memory_backend import InMemoryBackend

        if self.backend == "memory":
            return InMemoryBackend(eviction_policy=self.eviction_policy())
        if self.backend == "disk":
            from omnicache_ai.backends.disk_backend import DiskBackend

            try:
                return DiskBackend(path=self.disk_path)
            except OSError as err:
                raise ConfigurationError(
                    f"{_env_name('disk_path')}={self.disk_path!r} must be a directory this "
                    f"process can create and write; {_one_line(err)}"
                ) from err
        if self.backend == "null":
            from omnicache_ai.backends.null_backend import NullBackend

            return NullBackend()
        from omnicache_ai.backends.redis_backend import RedisBackend

        # The namespace doubles as the Redis key prefix, so even a direct `backend.clear()`
        # removes this cache's keys only. Escaped (':' -> '%3A') so that namespace `app` can
        # never be a prefix of namespace `app:b`'s keys.
        redis = RedisBackend.from_url(
            self.redis_url,
            prefix=f"{escape_segment(self.namespace)}:",
            max_value_bytes=self.max_value_bytes or None,
        )
        if self.backend == "redis":
            return redis
        from omnicache_ai.backends.redis_coherence import RedisCoherence
        from omnicache_ai.backends.tiered_backend import TieredBackend

        return TieredBackend(
            l1=InMemoryBackend(eviction_policy=self.eviction_policy()),
            l2=redis,
            l1_ttl=self.l1_ttl,
            coherence=RedisCoherence(self.redis_url, channel=f"omnicache:{self.namespace}"),
        )

    def build_manager(self) -> CacheManager:
        """The :class:`CacheManager` these settings describe (what ``from_settings`` calls).

        Example:
            >>> OmnicacheSettings(namespace="shop").build_manager().key_builder.namespace
            'shop'
        """
        from omnicache_ai.core.cache_manager import CacheManager
        from omnicache_ai.core.key_builder import CacheKeyBuilder

        return CacheManager(
            backend=self.build_backend(),
            key_builder=CacheKeyBuilder(namespace=self.namespace),
            serializer=self.build_serializer(),
            compressor=self.build_compressor(),
            ttl_policy=self.ttl_policy(),
            strict=self.strict,
        )

    def build_serializer(self) -> Any:
        """Instantiate the configured serializer."""
        from omnicache_ai.core.serializer import JsonSerializer, PickleSerializer, SafeSerializer

        if self.serializer == "json":
            return JsonSerializer()
        if self.serializer == "pickle":
            if self.pickle_secret:
                return PickleSerializer(secret=self.pickle_secret)
            # A field changed after construction still gets the check.
            self._check_pickle(warn=False)
            # The explicit opt-out is passed on so the serializer does not refuse it too. The
            # serializer's own warning is silenced: the settings logged one naming the variables.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return PickleSerializer(secret=None, allow_unsigned=True)
        return SafeSerializer()

    def build_compressor(self) -> Any:
        """Instantiate the configured compressor."""
        from omnicache_ai.core.compressor import GzipCompressor, NoopCompressor, ZstdCompressor

        if self.compression == "gzip":
            return GzipCompressor(min_size=self.compression_min_size)
        if self.compression == "zstd":
            return ZstdCompressor(min_size=self.compression_min_size)
        return NoopCompressor()

    # ---- semantic cache ---------------------------------------------------------------------
    def guard_config(self) -> Any:
        """The :class:`GuardConfig` that ``semantic_guards`` names.

        Example:
            >>> OmnicacheSettings(semantic_guards="negation, numbers").guard_config().enabled
            ('negation', 'numbers')
        """
        from omnicache_ai.layers._guards import GUARD_NAMES, GuardConfig

        raw = self.semantic_guards.strip().lower()
        if raw in ("all", ""):
            return GuardConfig()
        if raw == "none":
            return GuardConfig.off()
        names = {n.strip() for n in raw.split(",") if n.strip()}
        unknown = names - set(GUARD_NAMES)
        if unknown:
            raise ConfigurationError(
                f"{_env_name('semantic_guards')} must be all, none or a comma list of "
                f"{', '.join(GUARD_NAMES)}; got {self.semantic_guards!r}"
            )
        return GuardConfig(**{n: n in names for n in GUARD_NAMES})

    def build_vector_backend(self, dim: int) -> Any:
        """Instantiate the configured vector index for vectors of dimension ``dim``.

        Example:
            >>> OmnicacheSettings().build_vector_backend(8).dim
            8
        """
        if self.vector_backend == "auto":
            from omnicache_ai.backends.vector import default_vector_backend

            return default_vector_backend(dim, path=self.vector_path, threads=self.vector_threads)
        if self.vector_backend == "faiss":
            from omnicache_ai.backends.vector import FAISSBackend

            return FAISSBackend(dim=dim, path=self.vector_path, threads=self.vector_threads)
        if self.vector_backend == "chroma":
            from omnicache_ai.backends.vector import ChromaBackend

            if self.vector_url:
                # Chroma's client takes host/port/ssl rather than a URL.
                from urllib.parse import urlsplit

                parts = urlsplit(self.vector_url)
                ssl = parts.scheme == "https"
                port = parts.port or (443 if ssl else 8000)
                host = parts.hostname or "localhost"
                return ChromaBackend(dim=dim, host=host, port=port, ssl=ssl)
            return _build_remote(ChromaBackend, dim, None, self.vector_path)
        if self.vector_backend == "qdrant":
            from omnicache_ai.backends.vector import QdrantBackend

            return _build_remote(QdrantBackend, dim, self.vector_url, self.vector_path)
        from omnicache_ai.backends.vector import NumpyBackend

        return NumpyBackend(dim=dim, path=self.vector_path, threads=self.vector_threads)

    def effective_semantic_threshold(self) -> float:
        """The threshold a cache built from these settings uses, without loading any model.

        ``semantic_threshold`` if set, else the threshold calibrated for the ``embedder``
        preset (``docs/semantic.md`` shows how each was measured), else, for a preset nobody
        calibrated (``hashing``), the default embedder's.

        Example:
            >>> OmnicacheSettings().effective_semantic_threshold()
            0.89
            >>> OmnicacheSettings(embedder="minilm-l6-int8").effective_semantic_threshold()
            0.88
            >>> OmnicacheSettings(embedder="minilm-l6-int8",
            ...                   semantic_threshold=0.9).effective_semantic_threshold()
            0.9
        """
        if self.semantic_threshold is not None:
            return self.semantic_threshold
        from omnicache_ai.embedders.default import (
            DEFAULT_EMBEDDER,
            RECOMMENDED_THRESHOLDS,
            recommended_threshold,
        )

        calibrated = recommended_threshold(self.embedder)
        return RECOMMENDED_THRESHOLDS[DEFAULT_EMBEDDER] if calibrated is None else calibrated

    def build_semantic_cache(self, manager: Any = None) -> Any:
        """A :class:`SemanticCache` (or :class:`AdaptiveSemanticCache`) from these settings.

        The threshold is :meth:`effective_semantic_threshold`: ``semantic_threshold`` when
        set, otherwise the one calibrated for the ``embedder`` preset. An adaptive cache's
        floor is capped at that threshold (a floor above the start would be meaningless).

        Args:
            manager: The :class:`CacheManager` to use (default: ``CacheManager.from_settings``).

        Example:
            >>> s = OmnicacheSettings(embedder="hashing", semantic_threshold=0.8)
            >>> s.build_semantic_cache().threshold
            0.8
        """
        from omnicache_ai.embedders import load_embedder
        from omnicache_ai.layers.semantic_cache import AdaptiveSemanticCache, SemanticCache

        manager = manager or self.build_manager()
        embedder = load_embedder(self.embedder)
        threshold = self.effective_semantic_threshold()
        common: dict[str, Any] = {
            "embedder": embedder,
            "vector_backend": self.build_vector_backend(embedder.dim),
            "threshold": threshold,
            "guards": self.guard_config(),
        }
        if self.semantic_adaptive:
            return AdaptiveSemanticCache(
                manager,
                target_false_hit_rate=self.semantic_target_false_hit_rate,
                floor=min(self.semantic_threshold_floor, threshold),
                **common,
            )
        return SemanticCache(manager, **common)


def _one_line(err: BaseException) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())


def _build_remote(cls: Any, dim: int, url: str | None, path: str | None) -> Any:
    # Chroma and Qdrant take a server URL or a local path; neither given means in memory.
    if url:
        return cls(dim=dim, url=url)
    if path:
        return cls(dim=dim, path=path)
    return cls(dim=dim)


def _literal_choices(tp: Any) -> tuple[Any, ...]:
    tp = _resolve(tp)
    if typing.get_origin(tp) is Literal:
        return typing.get_args(tp)
    return ()


def _resolve(tp: Any) -> Any:
    if isinstance(tp, str):
        hints = typing.get_type_hints(OmnicacheSettings)
        for name, hint in hints.items():
            if OmnicacheSettings.__dataclass_fields__[name].type == tp:
                return hint
    return tp


def _parse(var: str, raw: str, tp: Any) -> Any:
    tp = _resolve(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    optional = origin in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        if raw.lower() in ("", "none", "null"):
            return None
        tp = next(a for a in args if a is not type(None))
        origin = typing.get_origin(tp)
    try:
        if origin is Literal:
            if raw.lower() not in {str(a) for a in typing.get_args(tp)}:
                raise ValueError(f"expected one of {', '.join(map(str, typing.get_args(tp)))}")
            return raw.lower()
        if tp is bool:
            low = raw.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError("expected true/false, 1/0, yes/no or on/off")
        if tp is int:
            return int(raw.replace("_", ""))
        if tp is float:
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError("expected a finite number")
            return value
        return raw
    except ValueError as err:
        raise ConfigurationError(f"{var}={raw!r} is not valid: {err}") from err
