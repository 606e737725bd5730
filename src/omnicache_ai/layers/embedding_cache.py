"""EmbeddingCache: numpy vectors keyed by model + text, exact dtype and shape.

Vectors are stored as their raw bytes behind a small header (dtype and shape), so a read
is one ``np.frombuffer`` over the payload the manager decoded: no element is copied or
converted, and ``float16``/``float32``/``float64``/``int8`` vectors come back bit for bit.
Arrays served by the cache are therefore read-only views (pass ``writable=True`` for private
writable copies). Vectors that are empty or hold NaN/infinity are returned but never stored.

``get_or_compute_many`` looks every text up in one batch read, calls the embedder once with
the distinct texts that missed, and returns the vectors in input order.

Every hit adds what the embedding call would have cost to the manager's savings metrics:
the text's input tokens (estimated as ``len(text) / 4``, or counted by ``token_counter``)
priced with the manager's pricing table for the embedding model.
"""

from __future__ import annotations

import inspect
import struct
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from omnicache_ai.core.cache_manager import MISSING, CacheManager, RequestConfig
from omnicache_ai.core.metrics import SeriesStats
from omnicache_ai.core.serializer import SafeSerializer
from omnicache_ai.layers._admit import Uncacheable
from omnicache_ai.layers._base import LayerBase, check_id, refreshing, require_sync_result
from omnicache_ai.layers._request import fast_canonical_bytes, normalize_params

__all__ = ["EmbeddingCache", "estimate_tokens"]

_MAGIC: Final = b"OCV\x01"
_SAFE: Final = SafeSerializer()
Vector = npt.NDArray[Any]


def encode_vector(arr: Vector) -> bytes:
    """``magic | len(dtype) | dtype | ndim | shape (u64 LE each) | raw bytes``."""
    dtype = arr.dtype.str.encode("ascii")
    header = struct.pack(f"<B{len(dtype)}sB{arr.ndim}Q", len(dtype), dtype, arr.ndim, *arr.shape)
    return _MAGIC + header + np.ascontiguousarray(arr).tobytes()


def _parse_vector(blob: bytes, writable: bool) -> Vector:
    n = blob[4]
    dtype = np.dtype(blob[5 : 5 + n].decode("ascii"))
    ndim = blob[5 + n]
    shape = struct.unpack_from(f"<{ndim}Q", blob, 6 + n)
    arr = np.frombuffer(blob, dtype=dtype, offset=6 + n + 8 * ndim).reshape(shape)
    return arr.copy() if writable else arr


def decode_vector(blob: Any, writable: bool) -> Vector | None:
    """The array in ``blob``, or ``None`` if ``blob`` is not an encoded vector."""
    if type(blob) is not bytes or not blob.startswith(_MAGIC):
        return None
    try:
        return _parse_vector(blob, writable)
    except (ValueError, TypeError, struct.error, IndexError):
        return None


def estimate_tokens(text: str) -> int:
    """About four characters per token, rounded up: the usual rule of thumb.

    Example:
        >>> estimate_tokens("What is the capital of France?")
        8
    """
    return (len(text) + 3) // 4


def _norm(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return normalize_params(params) if params else {}


def as_vector(value: Any) -> Vector:
    """``value`` as an ndarray, refusing what cannot be an embedding."""
    arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    if arr.dtype.kind not in "biufc" or arr.dtype.names is not None:
        raise TypeError(
            f"an embedding must be numeric (array or list of numbers), got dtype {arr.dtype} "
            f"from {type(value).__name__}"
        )
    return arr


def vector_problem(arr: Vector) -> str | None:
    """Why a computed vector must not be cached, or ``None``."""
    if arr.size == 0:
        return "empty"
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        return "error"
    return None


class EmbeddingCache(LayerBase):
    """Cache embedding vectors by model + text (+ parameters such as ``dimensions``).

    Args:
        manager: The :class:`CacheManager` to store through.
        ttl: Default seconds to live (default: the manager's ``embedding`` TTL, 86400 s).
        writable: Return writable copies instead of read-only zero-copy views.
        token_counter: ``counter(text) -> int`` for the savings of a hit (default:
            :func:`estimate_tokens`). It runs on every hit, so keep it cheap.
        dim: Optional vector size: storing a vector of another size raises ``ValueError``
            (omnicache-ai 0.3.0 took it to decode raw bytes; vectors now keep their own
            dtype and shape, so it is only a check).

    Example:
        >>> import numpy as np
        >>> from omnicache_ai import CacheManager
        >>> emb = EmbeddingCache(CacheManager())
        >>> embed = lambda t: np.array([len(t), 1.5], dtype=np.float32)
        >>> v = emb.get_or_compute(text="Hello world", compute_fn=embed, model_id="m")
        >>> v.dtype, v.tolist()
        (dtype('float32'), [11.0, 1.5])
        >>> emb.get_or_compute_many(["a", "bb", "a"], lambda ts: [embed(t) for t in ts],
        ...                         model_id="m")[1].tolist()
        [2.0, 1.5]
    """

    layer = "embedding"
    key_type = "embedding"

    def __init__(
        self,
        manager: CacheManager,
        *,
        ttl: float | None = None,
        writable: bool = False,
        token_counter: Callable[[str], int] | None = None,
        dim: int | None = None,
    ) -> None:
        super().__init__(manager, ttl=ttl)
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim < 1):
            raise ValueError(f"dim must be a positive int or None, got {dim!r}")
        self.dim = dim
        self.writable = writable
        self.count_tokens: Callable[[str], int] = token_counter or estimate_tokens
        self._series: SeriesStats | None = None
        # Vectors are bytes; only the safe serializer keeps them bytes whatever the manager
        # uses by default (JSON cannot hold bytes).
        self._ser = None if type(manager.serializer) is SafeSerializer else _SAFE

    # ---- pure helpers -----------------------------------------------------------------------
    def _key(self, text: Any, model_id: str, params: Mapping[str, Any] | None) -> str:
        return self._text_key(text, check_id("model_id", model_id), _norm(params))

    def _text_key(self, text: Any, model_id: str, norm: dict[str, Any]) -> str:
        if type(text) is not str:
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        payload = [model_id, text, norm] if norm else [model_id, text]
        return self._key_of(fast_canonical_bytes(payload))

    def _plan(
        self, texts: Sequence[str], model_id: str, params: Mapping[str, Any] | None
    ) -> dict[str, str]:
        """Distinct texts (first-seen order) -> key."""
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(f"texts must be a list of str, got {type(texts).__name__}")
        model_id, norm = check_id("model_id", model_id), _norm(params)
        return {t: self._text_key(t, model_id, norm) for t in dict.fromkeys(texts)}

    def _decode(self, raw: Any) -> Vector | None:
        return decode_vector(raw, self.writable)

    def _saved(self, model_id: str, tokens: int) -> None:
        """Count the input tokens (and their price) of embedding calls that hits avoided."""
        if tokens:
            # Straight to the metrics series, priced here: embeddings bill input only, and
            # this runs on every hit (the series object is stable, see CacheMetrics.series).
            m = self.manager
            price = m.pricing.price(model_id)
            cost = tokens * price.input / 1_000_000 if price is not None else 0.0
            st = self._series
            if st is None:
                st = self._series = m.metrics.series(self.layer, m.tenant, m.backend_name)
            m.metrics.record_savings(st, input_tokens=tokens, cost=cost)

    def _tokens(self, text: str) -> int:
        count = self.count_tokens
        return (len(text) + 3) // 4 if count is estimate_tokens else count(text)

    def _hit(self, raw: Any, text: str, model_id: str) -> Vector | None:
        vec = decode_vector(raw, self.writable)
        if vec is not None:
            self._saved(model_id, self._tokens(text))
        return vec

    def _blob(self, value: Any) -> bytes:
        """Encoded vector; raises :class:`Uncacheable` for an empty or non-finite one."""
        arr = as_vector(value)
        why = vector_problem(arr)
        if why is None and self.dim is not None and arr.size != self.dim:
            raise ValueError(
                f"vector has {arr.size} values, this EmbeddingCache holds dim={self.dim}"
            )
        if why is not None:
            raise Uncacheable(arr, why)
        return encode_vector(arr)

    def _batch(
        self, plan: dict[str, str], found: Mapping[str, Any], model_id: str
    ) -> tuple[dict[str, Vector], list[str]]:
        """Decoded hits by text (their savings counted), and the distinct texts to compute."""
        hits: dict[str, Vector] = {}
        for text, key in plan.items():
            vec = self._decode(found.get(key))
            if vec is not None:
                hits[text] = vec
        if hits:
            self._saved(model_id, sum(map(self._tokens, hits)))
        return hits, [t for t in plan if t not in hits]

    def _absorb(
        self, plan: dict[str, str], missing: list[str], computed: Any, hits: dict[str, Vector]
    ) -> dict[str, bytes]:
        """Add the computed vectors to ``hits``; returns ``{key: blob}`` of those to store."""
        if isinstance(computed, np.ndarray) and computed.ndim >= 1:
            rows: Sequence[Any] = list(computed)
        elif isinstance(computed, Sequence) and not isinstance(computed, str | bytes):
            rows = computed
        else:
            raise TypeError(
                f"compute_fn must return a sequence of vectors (or a 2-D array), got "
                f"{type(computed).__name__}"
            )
        if len(rows) != len(missing):
            raise ValueError(
                f"compute_fn returned {len(rows)} vectors for {len(missing)} texts; it must "
                "return one vector per text, in order"
            )
        to_store: dict[str, bytes] = {}
        for text, row in zip(missing, rows, strict=True):
            try:
                blob = self._blob(row)
            except Uncacheable as skipped:
                hits[text] = skipped.value
                continue
            to_store[plan[text]] = blob
            hits[text] = _parse_vector(blob, self.writable)
        return to_store

    @staticmethod
    def _reads(config: RequestConfig | None) -> bool:
        return config is None or not (config.skip_cache or config.refresh)

    @staticmethod
    def _writes(config: RequestConfig | None) -> bool:
        return config is None or not (config.skip_cache or config.no_store)

    # ---- sync API ---------------------------------------------------------------------------
    def get(
        self,
        text: str,
        model_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        config: RequestConfig | None = None,
    ) -> Vector | None:
        """The cached vector for ``text``, or ``None``."""
        key = self._key(text, model_id, params)
        raw = self.manager.get(key, MISSING, layer=self.layer, config=config, serializer=self._ser)
        return self._hit(raw, text, model_id)

    def set(
        self,
        text: str,
        vector: Any,
        model_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        config: RequestConfig | None = None,
    ) -> bool:
        """Store ``vector`` for ``text``; returns ``False`` if it is empty or non-finite."""
        key = self._key(text, model_id, params)
        try:
            blob = self._blob(vector)
        except Uncacheable:
            return False
        self.manager.set(
            key, blob, self._ttl(ttl), layer=self.layer, config=config, serializer=self._ser
        )
        return True

    def delete(self, text: str, model_id: str, *, params: Mapping[str, Any] | None = None) -> bool:
        """Remove the vector of ``text``."""
        return self.manager.delete(self._key(text, model_id, params), layer=self.layer)

    def get_or_compute(
        self,
        text: str,
        compute_fn: Callable[[str], Any],
        model_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        config: RequestConfig | None = None,
    ) -> Vector:
        """The cached vector, or ``compute_fn(text)`` computed once (stampede-safe) and cached."""
        key = self._key(text, model_id, params)
        computed = False

        def produce() -> bytes:
            nonlocal computed
            computed = True
            return self._blob(
                require_sync_result(compute_fn(text), "compute_fn", "aget_or_compute")
            )

        try:
            raw = self.manager.get_or_set(
                key, produce, self._ttl(ttl), layer=self.layer, config=config, serializer=self._ser
            )
        except Uncacheable as skipped:
            return skipped.value  # type: ignore[no-any-return]
        vec = self._decode(raw) if computed else self._hit(raw, text, model_id)
        if vec is None:  # a foreign entry sits under our key: replace it
            return self.get_or_compute(
                text,
                compute_fn,
                model_id=model_id,
                params=params,
                ttl=ttl,
                config=refreshing(config),
            )
        return vec

    def get_many(
        self, texts: Sequence[str], model_id: str, *, params: Mapping[str, Any] | None = None
    ) -> list[Vector | None]:
        """Vectors for ``texts`` in input order (``None`` for misses), in one backend read."""
        plan = self._plan(texts, model_id, params)
        found = self.manager.get_many(list(plan.values()), layer=self.layer, serializer=self._ser)
        hits, _ = self._batch(plan, found, model_id)
        return [hits.get(t) for t in texts]

    def get_or_compute_many(
        self,
        texts: Sequence[str],
        compute_fn: Callable[[list[str]], Any],
        model_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        config: RequestConfig | None = None,
    ) -> list[Vector]:
        """Vectors for ``texts`` in input order; the misses are computed in ONE call.

        ``compute_fn`` receives the distinct texts that missed (first-seen order) and must
        return one vector per text (a list of vectors or a 2-D array).

        Example:
            >>> import numpy as np
            >>> from omnicache_ai import CacheManager
            >>> emb, batches = EmbeddingCache(CacheManager()), []
            >>> def embed(ts):
            ...     batches.append(ts)
            ...     return np.ones((len(ts), 3), dtype=np.float16)
            >>> _ = emb.get_or_compute_many(["x", "y"], embed, model_id="m")
            >>> _ = emb.get_or_compute_many(["y", "z", "z"], embed, model_id="m")
            >>> batches
            [['x', 'y'], ['z']]
        """
        plan = self._plan(texts, model_id, params)
        found = (
            self.manager.get_many(list(plan.values()), layer=self.layer, serializer=self._ser)
            if self._reads(config)
            else {}
        )
        hits, missing = self._batch(plan, found, model_id)
        if missing:
            computed = require_sync_result(
                compute_fn(missing), "compute_fn", "aget_or_compute_many"
            )
            to_store = self._absorb(plan, missing, computed, hits)
            if to_store and self._writes(config):
                self.manager.set_many(
                    to_store, self._ttl(ttl), layer=self.layer, serializer=self._ser
                )
        return [hits[t] for t in texts]

    # ---- async API --------------------------------------------------------------------------
    async def aget(
        self,
        text: str,
        model_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        config: RequestConfig | None = None,
    ) -> Vector | None:
        """Async :meth:`get`."""
        key = self._key(text, model_id, params)
        raw = await self.manager.aget(
            key, MISSING, layer=self.layer, config=config, serializer=self._ser
        )
        return self._hit(raw, text, model_id)

    async def aset(
        self,
        text: str,
        vector: Any,
        model_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        config: RequestConfig | None = None,
    ) -> bool:
        """Async :meth:`set`."""
        key = self._key(text, model_id, params)
        try:
            blob = self._blob(vector)
        except Uncacheable:
            return False
        await self.manager.aset(
            key, blob, self._ttl(ttl), layer=self.layer, config=config, serializer=self._ser
        )
        return True

    async def adelete(
        self, text: str, model_id: str, *, params: Mapping[str, Any] | None = None
    ) -> bool:
        """Async :meth:`delete`."""
        return await self.manager.adelete(self._key(text, model_id, params), layer=self.layer)

    async def aget_or_compute(
        self,
        text: str,
        compute_fn: Callable[[str], Awaitable[Any] | Any],
        model_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        config: RequestConfig | None = None,
    ) -> Vector:
        """Async :meth:`get_or_compute`; ``compute_fn`` may be async or plain."""
        key = self._key(text, model_id, params)
        computed = False

        async def produce() -> bytes:
            nonlocal computed
            computed = True
            result = compute_fn(text)
            if inspect.isawaitable(result):
                result = await result
            return self._blob(result)

        try:
            raw = await self.manager.aget_or_set(
                key, produce, self._ttl(ttl), layer=self.layer, config=config, serializer=self._ser
            )
        except Uncacheable as skipped:
            return skipped.value  # type: ignore[no-any-return]
        vec = self._decode(raw) if computed else self._hit(raw, text, model_id)
        if vec is None:  # a foreign entry sits under our key: replace it
            return await self.aget_or_compute(
                text,
                compute_fn,
                model_id=model_id,
                params=params,
                ttl=ttl,
                config=refreshing(config),
            )
        return vec

    async def aget_many(
        self, texts: Sequence[str], model_id: str, *, params: Mapping[str, Any] | None = None
    ) -> list[Vector | None]:
        """Async :meth:`get_many`."""
        plan = self._plan(texts, model_id, params)
        found = await self.manager.aget_many(
            list(plan.values()), layer=self.layer, serializer=self._ser
        )
        hits, _ = self._batch(plan, found, model_id)
        return [hits.get(t) for t in texts]

    async def aget_or_compute_many(
        self,
        texts: Sequence[str],
        compute_fn: Callable[[list[str]], Awaitable[Any] | Any],
        model_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        config: RequestConfig | None = None,
    ) -> list[Vector]:
        """Async :meth:`get_or_compute_many`; ``compute_fn`` may be async or plain."""
        plan = self._plan(texts, model_id, params)
        found = (
            await self.manager.aget_many(
                list(plan.values()), layer=self.layer, serializer=self._ser
            )
            if self._reads(config)
            else {}
        )
        hits, missing = self._batch(plan, found, model_id)
        if missing:
            computed = compute_fn(missing)
            if inspect.isawaitable(computed):
                computed = await computed
            to_store = self._absorb(plan, missing, computed, hits)
            if to_store and self._writes(config):
                await self.manager.aset_many(
                    to_store, self._ttl(ttl), layer=self.layer, serializer=self._ser
                )
        return [hits[t] for t in texts]
