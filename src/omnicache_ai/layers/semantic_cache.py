"""Semantic caching: serve a cached answer to a question that means the same as a cached one.

Two tiers answer a lookup:

1. **exact**: the normalized question's key, read through the :class:`CacheManager` (one
   dictionary lookup, no model call);
2. **semantic**: the question's embedding is searched in a vector index, restricted by a
   metadata filter to the lookup's *partition* (namespace, tenant, model, system prompt,
   response-changing parameters, conversation context and embedder), and the best entry above
   the similarity threshold that passes the false-hit guards (:mod:`._guards`) answers.

The answer itself always lives in the manager (so TTLs, tags, tenants, metrics and the stampede
shield apply); the vector index only maps "a question like this" to the key of that payload. A
vector whose payload is gone (expired, deleted, tag-invalidated) is a miss and is removed when a
lookup meets it.

The lookup and store logic is written once, as generators that *yield* the I/O they need
(manager reads, embedding, vector search); the sync methods run them with plain calls and the
async twins await the same steps (the httpx ``Auth.auth_flow`` pattern).

Example:
    >>> from omnicache_ai import SemanticCache
    >>> from omnicache_ai.embedders import HashingEmbedder
    >>> cache = SemanticCache(embedder=HashingEmbedder(), threshold=0.8)
    >>> cache.set("What is the capital of France?", "Paris")
    >>> cache.get("What is the capital of France?")
    'Paris'
    >>> cache.lookup("what is the capital of France").tier
    'semantic'
"""

from __future__ import annotations

import asyncio
import bisect
import inspect
import logging
import math
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, cast

import numpy as np
import numpy.typing as npt
import orjson

from omnicache_ai.core.cache_manager import MISSING, CacheManager, RequestConfig, _ErrorLog
from omnicache_ai.core.errors import CacheBackendError, ConfigurationError
from omnicache_ai.core.key_builder import CacheKeyBuilder
from omnicache_ai.core.metrics import lookup_detail
from omnicache_ai.embedders.default import (
    DEFAULT_EMBEDDER,
    RECOMMENDED_THRESHOLDS,
    recommended_threshold,
)
from omnicache_ai.layers._guards import GuardConfig, check_guards
from omnicache_ai.layers._persist import RecordStore

if TYPE_CHECKING:
    from omnicache_ai.backends.vector.base import VectorBackend, VectorHit
    from omnicache_ai.embedders.base import Embedder
    from omnicache_ai.layers.cached_embedder import CachedEmbedder
    from omnicache_ai.layers.negative_cache import NegativeCache

__all__ = [
    "DEFAULT_THRESHOLD",
    "RANK_MARGIN",
    "AdaptiveSemanticCache",
    "SemanticCache",
    "SemanticResult",
    "estimate_threshold",
]

logger = logging.getLogger("omnicache_ai")

#: Cosine threshold of the default embedder (``wordllama``: 0.89), precision-first: the lowest
#: threshold serving at most 10% of held-out near-misses with the guards on (``docs/semantic.md``
#: has the curve and the held-out checks). ``threshold=None`` uses the *embedder's* calibrated
#: threshold (:func:`~omnicache_ai.embedders.recommended_threshold`: 0.88 for
#: ``minilm-l6-int8``) and falls back to this one only for a model nobody calibrated.
DEFAULT_THRESHOLD: Final = RECOMMENDED_THRESHOLDS[DEFAULT_EMBEDDER]
_LAYER: Final = "semantic"
_CLEAR_TAG: Final = "omnicache.semantic"
_MAX_QUERY_CHARS: Final = 2000
#: How far below a vetoed better-ranked candidate a lower-ranked one may score and still be
#: served (when it passes every check on its own). Two cached rewordings of one question score
#: within this of each other; a different question a step further away does not.
RANK_MARGIN: Final = 0.02
#: Questions embedded per model call by ``set_many`` when no vectors are given.
_EMBED_BATCH: Final = 256
#: set_many batches (vectors given) of at least this many rows stage their index add in a
#: worker thread while the payloads are written: a thread costs ~0.1 ms, 1k payloads ~2 ms.
_STAGE_ROWS: Final = 1024

Vector = npt.NDArray[np.float32]
Tier = Literal["exact", "semantic"]
Query = str | Sequence[Mapping[str, Any]]
# A step a flow asks its driver to perform; the driver sends back the step's result.
_Op = tuple[Any, ...]
_Flow = Generator[_Op, Any, Any]


_REFRESH: Final = RequestConfig(refresh=True)


def _is_payload(raw: Any) -> bool:
    """Whether an exact-tier read is one of our entries (``{"q": ..., "v": ...}``)."""
    return isinstance(raw, dict) and "v" in raw


@dataclass(frozen=True, slots=True)
class SemanticResult:
    """What a lookup found, and why.

    Attributes:
        hit: Whether a cached answer is returned.
        value: The cached answer (``None`` on a miss).
        similarity: Cosine similarity of the answering entry (1.0 on an exact hit), or of the
            closest candidate on a miss (``None`` when nothing was searched).
        tier: ``"exact"`` or ``"semantic"`` on a hit, ``None`` on a miss.
        matched_query: The cached question that answered (or the closest one on a miss).
        entry_id: Id of the answering entry (use it with ``report``).
        guard: On a miss, the guard that vetoed the closest candidate above the threshold.
        threshold: The threshold the hit had to reach.

    Example:
        >>> SemanticResult(hit=False).tier is None
        True
    """

    hit: bool
    value: Any = None
    similarity: float | None = None
    tier: Tier | None = None
    matched_query: str | None = None
    entry_id: str | None = None
    guard: str | None = None
    threshold: float | None = None


class _Request(NamedTuple):
    """One query's key parts (a tuple: ``set_many`` makes 100k of them, 5x cheaper than a
    frozen dataclass)."""

    text: str
    partition: str
    key: str
    model: str


@dataclass
class _Stats:
    exact_hits: int = 0
    semantic_hits: int = 0
    misses: int = 0
    errors: int = 0
    verifications: int = 0
    outranked: int = 0
    guard_rejections: dict[str, int] = field(default_factory=dict)


class _FunctionEmbedder:
    """Adapts the README's ``embed_fn=lambda text: ...`` to the :class:`Embedder` protocol."""

    def __init__(self, fn: Callable[[str], Any], dim: int | None) -> None:
        self._fn = fn
        self.name = "fn:" + getattr(fn, "__qualname__", type(fn).__name__)
        self.dim = dim or 0

    def embed(self, text: str) -> Vector:
        vec = np.asarray(self._fn(text), dtype=np.float32).reshape(-1)
        if not self.dim:
            self.dim = int(vec.shape[0])
        norm = float(np.linalg.norm(vec))
        if vec.shape[0] != self.dim or not math.isfinite(norm) or norm == 0.0:
            raise ValueError(f"embed_fn returned a bad vector (shape {vec.shape}, norm {norm})")
        out: Vector = vec / norm
        return out

    def embed_many(self, texts: Sequence[str]) -> Vector:
        return np.vstack([self.embed(t) for t in texts])

    async def aembed(self, text: str) -> Vector:
        return await asyncio.to_thread(self.embed, text)

    async def aembed_many(self, texts: Sequence[str]) -> Vector:
        return await asyncio.to_thread(self.embed_many, texts)


def _norm_text(text: str) -> str:
    return " ".join(text.split())


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        # OpenAI-style content parts: keep the text parts, in order.
        parts = [p.get("text", "") for p in content if isinstance(p, Mapping)]
        return " ".join(p for p in parts if isinstance(p, str))
    raise TypeError(f"message content must be a string or a list of parts, got {content!r}")


def split_query(query: Query) -> tuple[str, list[Any], str]:
    """Split a query into (key text, earlier turns, system prompt).

    A string is a single user turn. A list of chat messages is keyed by its *last user turn*;
    the turns before it and the system prompt become context that must match too.

    Raises:
        ValueError: On an empty query or a conversation without a user turn.
        TypeError: On anything else than a string or a list of ``{"role", "content"}`` dicts.

    Example:
        >>> split_query([{"role": "system", "content": "Be brief."},
        ...              {"role": "user", "content": "Hi"},
        ...              {"role": "assistant", "content": "Hello"},
        ...              {"role": "user", "content": "And in French?"}])
        ('And in French?', [['user', 'Hi'], ['assistant', 'Hello']], 'Be brief.')
    """
    if isinstance(query, str):
        text = _norm_text(query)
        if not text:
            raise ValueError("the query must be a non-empty string")
        return text, [], ""
    if not isinstance(query, Sequence) or not query:
        raise TypeError(
            f"the query must be a string or a non-empty list of chat messages, got {query!r}"
        )
    system: list[str] = []
    turns: list[Any] = []
    for msg in query:
        if not isinstance(msg, Mapping) or "role" not in msg:
            raise TypeError(f"chat messages must be dicts with a 'role', got {msg!r}")
        role = str(msg["role"])
        content = _content_text(msg.get("content", ""))
        if role in ("system", "developer"):
            system.append(content)
        else:
            turns.append([role, content])
    last = max((i for i, (role, _) in enumerate(turns) if role == "user"), default=-1)
    if last < 0 or not _norm_text(turns[last][1]):
        raise ValueError("the conversation has no non-empty user turn to key on")
    return _norm_text(turns[last][1]), turns[:last], "\n".join(system)


def _batch_keys(kb: CacheKeyBuilder) -> Callable[[str, str], str]:
    """``(partition, text) -> key``, equal to ``kb.build("semantic", {"p": ..., "q": ...})``.

    ``set_many`` builds 100k keys in one call; the general builder normalizes the payload
    dict recursively for each. Here the canonical bytes are assembled directly: the payload
    is two strings, sorted keys ``p`` < ``q``, compact JSON, and a partition is a hex digest,
    so only the text needs encoding, and that is the identity transform for ASCII text not
    starting with NUL (always NFC, no escape tag). Any other text, or a key builder
    subclass (which may build keys its own way), takes the general path.
    """
    build = kb.build
    if type(kb) is not CacheKeyBuilder:
        return lambda partition, text: build(_LAYER, {"p": partition, "q": text})
    prefix, digest, dumps = kb.prefix(_LAYER), kb.digest, orjson.dumps
    heads: dict[str, bytes] = {}

    def key_of(partition: str, text: str) -> str:
        if not text.isascii() or text.startswith("\x00"):
            return build(_LAYER, {"p": partition, "q": text})
        head = heads.get(partition)
        if head is None:
            head = heads[partition] = b'{"p":' + dumps(partition) + b',"q":'
        return prefix + digest(head + dumps(text) + b"}")

    return key_of


def _legacy_positional(
    first: Any, rest: tuple[Any, ...], keywords: tuple[Any, Any, Any, Any]
) -> tuple[Any, Any, Any, Any, Any]:
    """Map omnicache-ai 0.3.0's ``SemanticCache(exact, vector, embed_fn, threshold)``.

    Returns the arguments unchanged when the call is in today's form.
    """
    if not rest and (first is None or isinstance(first, CacheManager)):
        return (first, *keywords)
    if isinstance(first, CacheManager):
        raise TypeError(
            "SemanticCache(manager, ...) takes its other arguments by keyword: "
            "SemanticCache(manager, vector_backend=..., embed_fn=..., threshold=...)"
        )
    args = (first, *rest)
    if len(args) > 4:
        raise TypeError(
            f"SemanticCache takes at most 4 positional arguments (exact_backend, "
            f"vector_backend, embed_fn, threshold), got {len(args)}"
        )
    names = ("exact_backend", "vector_backend", "embed_fn", "threshold")
    given = dict(zip(names, keywords, strict=True))
    for name, value in zip(names, args, strict=False):
        if given[name] is not None:
            raise TypeError(f"SemanticCache got {name} both by position and by keyword")
        given[name] = value
    warnings.warn(
        "SemanticCache(exact_backend, vector_backend, embed_fn, ...) with positional "
        "arguments is deprecated: write SemanticCache(exact_backend=..., "
        "vector_backend=..., embed_fn=..., threshold=...) or SemanticCache(manager, ...)",
        DeprecationWarning,
        stacklevel=3,
    )
    return (
        None,
        given["exact_backend"],
        given["vector_backend"],
        given["embed_fn"],
        given["threshold"],
    )


class _SharedDeps:
    """The embedder and vector index every tenant view of one cache shares.

    Held by reference, so a view made before the index exists still finds the one the
    first lookup builds (a view per request must not start from an empty private index).
    """

    __slots__ = ("embedder", "vectors")

    def __init__(self, embedder: Embedder | None, vectors: VectorBackend | None) -> None:
        self.embedder = embedder
        self.vectors = vectors


def _shared_index_flag(shared_index: bool | None, vector_backend: object) -> bool:
    """Whether the index is shared by every process; a server backend (``shared``) is as is."""
    served = bool(getattr(vector_backend, "shared", False))
    if shared_index is None:  # opt-in: the in-process index stays the fast default
        flag = os.environ.get("OMNICACHE_SEMANTIC_SHARED", "").strip().lower()
        return served or (flag in ("1", "true", "yes", "on") and vector_backend is None)
    if shared_index and vector_backend is not None and not served:
        raise ConfigurationError(
            "shared_index=True needs no vector_backend, or one every process shares (a vector "
            f"server, e.g. ChromaBackend(host=...)); {type(vector_backend).__name__} is "
            "per process: wrap it as SharedVectorIndex(manager, dim=..., local=it) instead"
        )
    return bool(shared_index) or served


class SemanticCache:
    """An answer cache that also hits on paraphrases, partitioned so it never crosses contexts.

    Args:
        manager: The :class:`CacheManager` payloads go through (default: a new one over
            ``exact_backend`` or an in-memory backend). Its tenant partitions the index.
        exact_backend: Backend of the default manager (the README's argument); not together
            with ``manager``.
        vector_backend: Any :class:`VectorBackend` (default: an in-process index of the
            embedder's dimension: FAISS when installed, else numpy; see
            :func:`~omnicache_ai.backends.vector.default_vector_backend`).
        embedder: An :class:`Embedder` (default: the local offline default embedder).
        embed_fn: Alternatively a plain ``text -> vector`` function (the README's argument).
        threshold: Cosine similarity a semantic hit must reach. Default: the threshold
            calibrated for the embedder (0.89 for the default ``wordllama``, 0.88 for
            ``minilm-l6-int8``: see :func:`~omnicache_ai.embedders.recommended_threshold`),
            or :data:`DEFAULT_THRESHOLD` for a model without one (``embed_fn``, a custom
            embedder): measure one then, thresholds do not transfer between models.
        guards: Which false-hit guards run (``True``: all, ``False``: none, or a
            :class:`GuardConfig`).
        ttl: Default seconds to live of entries (default: the manager's ``semantic`` TTL).
        model: Default model id partition (override per call).
        multi_turn: Key a conversation by its last user turn *plus a hash of the earlier
            turns*; ``False`` ignores earlier turns (the system prompt always counts).
        top_k: Candidates examined per lookup (the best may be vetoed by a guard or gone).
        blocklist: A :class:`NegativeCache` consulted by ``get_or_set`` before the upstream call.
        embedding_cache_size: Recent query embeddings kept in memory (0 disables).
        shared_index: Keep the vector index in step with every process on the manager's
            backend (a :class:`~omnicache_ai.layers.semantic_index.SharedVectorIndex`);
            default: ``OMNICACHE_SEMANTIC_SHARED``, else off. A ``vector_backend`` on a
            vector server (its ``shared`` attribute is true) is shared as is.
        cache_embeddings: Also store query embeddings through the manager (a
            :class:`~omnicache_ai.layers.CachedEmbedder`), so a question any worker
            embedded is not embedded again. Default: on when ``manager`` is given, off for
            the cache's own default manager. Not for ``embed_fn`` (a function's name does
            not identify its model).
        verify: Optional pair verifier ``(query, cached_query, answer) -> bool`` (sync or
            async): a cross-encoder (:class:`~omnicache_ai.layers.verify.PairVerifier`) or an
            LLM judge. It runs only on *grey-zone* candidates, whose similarity is within
            ``verify_band`` below the threshold or ``verify_above`` above it, and only after
            the guards passed them; a rejection counts as a veto (guard ``"verifier"``).
        verify_band: How far below the threshold a candidate is still verified (and served
            if the verifier accepts it).
        verify_above: How far above the threshold a candidate is verified rather than served
            at once (0: every candidate at or above the threshold is served unverified).

    A candidate ranked below one that a guard or the verifier vetoed is served only when its
    similarity is within :data:`RANK_MARGIN` of the vetoed one's and it passes every check on
    its own: when the closest cached question is a different question, one further away is
    rarely the right one.

    Example:
        >>> from omnicache_ai.embedders import HashingEmbedder
        >>> cache = SemanticCache(embedder=HashingEmbedder(), threshold=0.8, model="gpt-4o")
        >>> cache.get_or_set("How tall is Mount Everest?", lambda: "8,849 m")
        '8,849 m'
        >>> cache.lookup("how tall is mount everest", model="gpt-4o-mini").hit
        False
    """

    layer: Final = _LAYER

    def __init__(
        self,
        manager: CacheManager | None = None,
        *legacy: Any,
        exact_backend: Any = None,
        vector_backend: VectorBackend | None = None,
        embedder: Embedder | None = None,
        embed_fn: Callable[[str], Any] | None = None,
        threshold: float | None = None,
        guards: bool | GuardConfig = True,
        ttl: float | None = None,
        model: str = "",
        multi_turn: bool = True,
        top_k: int = 4,
        blocklist: NegativeCache | None = None,
        embedding_cache_size: int = 2048,
        cache_embeddings: bool | None = None,
        verify: Callable[[str, str, Any], Any] | None = None,
        verify_band: float = 0.1,
        verify_above: float = 0.0,
        shared_index: bool | None = None,
    ) -> None:
        manager, exact_backend, vector_backend, embed_fn, threshold = _legacy_positional(
            manager, legacy, (exact_backend, vector_backend, embed_fn, threshold)
        )
        shared_embeddings = manager is not None if cache_embeddings is None else cache_embeddings
        self.shared_index = _shared_index_flag(shared_index, vector_backend)
        if manager is not None and exact_backend is not None:
            raise ConfigurationError("pass either manager= or exact_backend=, not both")
        if embedder is not None and embed_fn is not None:
            raise ConfigurationError("pass either embedder= or embed_fn=, not both")
        if manager is None:
            manager = CacheManager(backend=exact_backend)
        elif not isinstance(manager, CacheManager):
            raise TypeError(f"manager must be a CacheManager, got {type(manager).__name__}")
        if embed_fn is not None and not callable(embed_fn):
            raise TypeError("embed_fn must be a callable text -> vector")
        self.manager = manager
        if threshold is None:
            threshold = _calibrated_threshold(embedder, embed_fn)
        self.threshold = _check_threshold(threshold)
        if isinstance(guards, bool):
            guards = GuardConfig() if guards else GuardConfig.off()
        if not isinstance(guards, GuardConfig):
            raise TypeError(f"guards must be a bool or a GuardConfig, got {guards!r}")
        self.guards = guards
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float)):
            raise TypeError(f"ttl must be a number of seconds or None, got {ttl!r}")
        self.ttl = ttl
        if not isinstance(model, str):
            raise TypeError(f"model must be a string, got {model!r}")
        self.model = model
        self.multi_turn = multi_turn
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k must be a positive int, got {top_k!r}")
        self.top_k = top_k
        self.blocklist = blocklist
        _check_verify(verify, verify_band, verify_above)
        self.verify = verify
        self.verify_band = float(verify_band)
        self.verify_above = float(verify_above)
        if embed_fn is not None:
            embedder = _FunctionEmbedder(embed_fn, getattr(vector_backend, "dim", None))
        self._deps = _SharedDeps(embedder, vector_backend)
        self._init_lock = threading.Lock()
        self._emb_cache: OrderedDict[str, Vector] = OrderedDict()
        self._emb_cache_size = max(0, embedding_cache_size)
        self._emb_lock = threading.Lock()
        # The manager-backed embedding cache (L2) behind the in-process one (L1), built on
        # first use per manager, so a tenant view stores its vectors in its own scope.
        self.cache_embeddings = bool(shared_embeddings)
        self._shared_embedder: CachedEmbedder | None = None
        self._stats = _Stats()
        self._stats_lock = threading.Lock()
        self._errors = _ErrorLog()

    # ---- lazily built dependencies (shared with every tenant view) -------------------------
    @property
    def _embedder(self) -> Embedder | None:
        return self._deps.embedder

    @_embedder.setter
    def _embedder(self, value: Embedder | None) -> None:
        self._deps.embedder = value

    @property
    def _vectors(self) -> VectorBackend | None:
        return self._deps.vectors

    @_vectors.setter
    def _vectors(self, value: VectorBackend | None) -> None:
        self._deps.vectors = value

    @property
    def embedder(self) -> Embedder:
        """The embedder (the default one is loaded on first use)."""
        emb = self._embedder
        if emb is None:
            with self._init_lock:
                if self._embedder is None:
                    from omnicache_ai.embedders import get_default_embedder

                    self._embedder = get_default_embedder()
                emb = self._embedder
        return emb

    @property
    def vector_backend(self) -> VectorBackend:
        """The vector index: the one given, else the best in-process engine installed.

        That is :func:`~omnicache_ai.backends.vector.default_vector_backend`: FAISS (exact
        while small, IVF from 10k entries) with the ``vector-faiss`` extra, else an exact
        :class:`NumpyBackend`.
        """
        vec = self._vectors
        if vec is None:
            emb = self.embedder
            with self._init_lock:
                if self._vectors is None:
                    from omnicache_ai.backends.vector import default_vector_backend

                    if not emb.dim:  # an embed_fn whose dimension is not known yet
                        emb.embed("dimension probe")
                    if self.shared_index:
                        from omnicache_ai.layers.semantic_index import SharedVectorIndex

                        # One log per model: vectors of different models are not comparable.
                        self._vectors = SharedVectorIndex(self.manager, dim=emb.dim, name=emb.name)
                    else:
                        self._vectors = default_vector_backend(emb.dim)
                vec = self._vectors
        return vec

    def for_tenant(self, tenant_id: str) -> SemanticCache:
        """A view for one tenant: same index and settings, the manager's tenant view.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> cache = SemanticCache(embedder=HashingEmbedder())
            >>> cache.for_tenant("acme").set("q", "a")
            >>> cache.for_tenant("globex").get("q") is None
            True
        """
        import copy

        view = copy.copy(self)
        view.manager = self.manager.for_tenant(tenant_id)
        return view

    # ---- pure helpers ----------------------------------------------------------------------
    def _request(
        self,
        query: Query,
        model: str | None,
        system: str | None,
        params: Mapping[str, Any] | None,
    ) -> _Request:
        text, turns, sys_prompt = split_query(query)
        if system is not None:
            if not isinstance(system, str):
                raise TypeError(f"system must be a string, got {system!r}")
            sys_prompt = system
        model = self.model if model is None else model
        if not isinstance(model, str):
            raise TypeError(f"model must be a string, got {model!r}")
        if params is not None and not isinstance(params, Mapping):
            raise TypeError(f"params must be a mapping, got {type(params).__name__}")
        partition = self._partition(model, sys_prompt, params, turns)
        key = self.manager.key_builder.build(_LAYER, {"p": partition, "q": text})
        return _Request(text=text, partition=partition, key=key, model=model)

    def _partition(
        self, model: str, sys_prompt: str, params: Mapping[str, Any] | None, turns: list[Any]
    ) -> str:
        kb = self.manager.key_builder
        # Everything that must match for an answer to be reusable; one hash, one filter term.
        return kb.digest(
            {
                "ns": kb.namespace,
                "tenant": self.manager.tenant,
                "model": model,
                "system": sys_prompt,
                "params": dict(params or {}),
                "context": turns if self.multi_turn else [],
                "embedder": self.embedder.name,
            }
        )

    def _requests(
        self,
        items: Mapping[Any, Any] | Iterable[tuple[Query, Any]],
        model: str | None,
        system: str | None,
        params: Mapping[str, Any] | None,
    ) -> tuple[list[_Request], list[Any]]:
        """Validate a batch's ``(query, value)`` pairs and build their requests.

        Equivalent to one :meth:`_request` per query, but each distinct partition (usually
        one for a whole batch of plain questions) is hashed once.
        """
        if isinstance(items, Mapping):
            pairs: Iterable[Any] = items.items()
        elif isinstance(items, str | bytes) or not isinstance(items, Iterable):
            raise TypeError(
                "items must be a mapping of query -> value or an iterable of (query, value) "
                f"pairs, got {type(items).__name__}"
            )
        else:
            pairs = items
        first = self._request("?", model, system, params)  # validates model, system, params
        partitions: dict[tuple[str, str], str] = {}
        key_of = _batch_keys(self.manager.key_builder)
        reqs: list[_Request] = []
        values: list[Any] = []
        no_turns: list[Any] = []  # shared, never mutated: the plain-question fast path
        for n, pair in enumerate(pairs):
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise TypeError(f"item {n} must be a (query, value) pair, got {pair!r:.80}")
            query, value = pair
            if type(query) is str and (text := " ".join(query.split())):
                turns, sys_prompt = no_turns, ""  # what split_query returns, without the call
            else:
                text, turns, sys_prompt = split_query(query)
            if system is not None:
                sys_prompt = system
            if turns or sys_prompt:
                memo = (sys_prompt, repr(turns))
                partition = partitions.get(memo)
                if partition is None:
                    partition = partitions[memo] = self._partition(
                        first.model, sys_prompt, params, turns
                    )
            else:
                partition = first.partition
            reqs.append(_Request(text, partition, key_of(partition, text), first.model))
            values.append(value)
        return reqs, values

    def _expires_at(self, ttl: float | None) -> float | None:
        ttl_s = self.manager.ttl_policy.ttl_for(_LAYER, self.ttl if ttl is None else ttl)
        return None if ttl_s is None else time.time() + ttl_s

    def _tags(self, tags: Iterable[str] | None) -> list[str]:
        out = [_CLEAR_TAG]
        if tags is not None:
            if isinstance(tags, str):
                raise TypeError("tags must be an iterable of strings, not a single string")
            out.extend(tags)
        return out

    def _count(self, result: SemanticResult) -> SemanticResult:
        with self._stats_lock:
            if result.tier == "exact":
                self._stats.exact_hits += 1
            elif result.tier == "semantic":
                self._stats.semantic_hits += 1
            else:
                self._stats.misses += 1
            if result.guard is not None:
                g = self._stats.guard_rejections
                g[result.guard] = g.get(result.guard, 0) + 1
        return result

    def _failure(self, err: BaseException, op: str) -> None:
        # The cache never breaks the app: count, log once per burst, serve a miss.
        with self._stats_lock:
            self._stats.errors += 1
        st = self.manager._series(_LAYER)
        if self.manager.strict:
            raise CacheBackendError(f"semantic {op} failed") from err
        self.manager.metrics.record_error(st, f"semantic.{op}")
        source = self._embedder if op == "embed" else self._vectors
        self._errors.report(type(source).__name__, op, err)

    def _cached_vector(self, text: str) -> Vector | None:
        with self._emb_lock:
            vec = self._emb_cache.get(text)
            if vec is not None:
                self._emb_cache.move_to_end(text)
            return vec

    def _remember_vector(self, text: str, vec: Vector) -> None:
        if not self._emb_cache_size:
            return
        with self._emb_lock:
            self._emb_cache[text] = vec
            while len(self._emb_cache) > self._emb_cache_size:
                self._emb_cache.popitem(last=False)

    def _query_embedder(self) -> Embedder:
        """The embedder behind the in-process L1: through the manager (L2) unless opted out."""
        emb = self.embedder
        if not self.cache_embeddings or isinstance(emb, _FunctionEmbedder):
            return emb
        shared = self._shared_embedder
        if shared is None or shared.cache.manager is not self.manager or shared.embedder is not emb:
            from omnicache_ai.layers.cached_embedder import CachedEmbedder

            shared = self._shared_embedder = CachedEmbedder(emb, self.manager)
        return shared

    # Hooks the adaptive cache overrides (vCache, arXiv 2502.03771: per-entry decisions).
    def _decide(self, entry_id: str, score: float, threshold: float, explicit: bool) -> str:
        if self.verify is not None and \
                threshold - self.verify_band <= score < threshold + self.verify_above:  # fmt: skip
            return "verify"
        return "hit" if score >= threshold else "miss"

    def _observe(self, entry_id: str, score: float, correct: bool) -> None:
        """Record evidence about one entry (only the adaptive cache keeps it)."""

    def _prepare_flow(self, hits: Sequence[VectorHit], explicit: bool) -> _Flow:
        """I/O to run before deciding on ``hits`` (the adaptive cache loads evidence)."""
        return None
        yield  # pragma: no cover - makes this a generator

    def _observe_flow(self, entry_id: str, score: float, correct: bool) -> _Flow:
        """Record evidence, with any I/O that needs (the adaptive cache stores it)."""
        self._observe(entry_id, score, correct)
        return None
        yield  # pragma: no cover - makes this a generator

    # ---- the flows: all the logic, shared by the sync and async methods ----------------------
    def _lookup_flow(self, req: _Request, override: float | None) -> _Flow:
        threshold = self.threshold if override is None else override
        raw = yield ("get", req.key)
        if _is_payload(raw):
            return SemanticResult(True, raw["v"], 1.0, "exact", raw.get("q"), req.key, None,
                                  threshold)  # fmt: skip
        vec = yield ("embed", req.text)
        if vec is None:
            return SemanticResult(False, threshold=threshold)
        hits: list[VectorHit] = yield ("search", vec, {"p": req.partition})
        closest: VectorHit | None = hits[0] if hits else None
        vetoed: str | None = None
        # Similarity of the best candidate a guard or the verifier turned away: a lower one is
        # served only within RANK_MARGIN of it (see the class docstring).
        ceiling: float | None = None
        yield from self._prepare_flow(hits, override is not None)
        if override is None:
            threshold = self.threshold  # evidence loaded just now may have moved it
        for h in hits:
            if ceiling is not None and h.score < ceiling - RANK_MARGIN:
                if self._decide(h.id, h.score, threshold, override is not None) != "miss":
                    with self._stats_lock:
                        self._stats.outranked += 1
                break  # hits come best first: every later one is further away still
            cached_q = str(h.metadata.get("q", ""))
            decision = self._decide(h.id, h.score, threshold, override is not None)
            if decision == "miss":
                continue
            guard = check_guards(req.text, cached_q, self.guards) if cached_q else None
            if guard is not None:
                vetoed = vetoed or guard
                ceiling = h.score if ceiling is None else ceiling
                continue
            # The similarity rides on the payload read's event (OpenTelemetry's
            # cache.similarity), so a semantic hit's span says how close the match was.
            payload = yield ("get", str(h.metadata.get("k", "")), {"similarity": float(h.score)})
            if not _is_payload(payload):
                # The payload expired or was deleted or tag-invalidated: drop the vector too.
                yield ("delete_vec", [h.id])
                continue
            if decision == "verify":
                ok = yield ("verify", req.text, cached_q, payload["v"])
                yield from self._observe_flow(h.id, h.score, bool(ok))
                if not ok:
                    vetoed = vetoed or "verifier"
                    ceiling = h.score if ceiling is None else ceiling
                    continue
            return SemanticResult(True, payload["v"], h.score, "semantic", cached_q, h.id, None,
                                  threshold)  # fmt: skip
        if closest is None:
            return SemanticResult(False, threshold=threshold)
        return SemanticResult(False, None, closest.score, None,
                              str(closest.metadata.get("q", "")), closest.id, vetoed,
                              threshold)  # fmt: skip

    def _index_flow(self, req: _Request, expires_at: float | None) -> _Flow:
        vec = yield ("embed", req.text)
        if vec is None:
            return None
        meta: dict[str, str | float] = {
            "p": req.partition,
            "k": req.key,
            "q": req.text[:_MAX_QUERY_CHARS],
            "model": req.model,
        }
        if expires_at is not None:
            meta["expires_at"] = expires_at
        yield ("add", req.key, vec, meta)
        return None

    def _store_flow(self, req: _Request, value: Any, ttl: float | None, tags: list[str]) -> _Flow:
        expires_at = self._expires_at(ttl)
        yield ("set", req.key, {"q": req.text, "v": value}, self.ttl if ttl is None else ttl,
               tags)  # fmt: skip
        yield from self._index_flow(req, expires_at)

    def _store_many_flow(
        self,
        reqs: Sequence[_Request],
        values: Sequence[Any],
        vectors: Vector | None,
        ttl: float | None,
        tags: list[str],
    ) -> _Flow:
        """One manager batch write, then one batch embedding (unless given) and index add.

        With the vectors given, both writes are one ``store_many`` step: the drivers stage
        the index add (the slow half of a bulk load) while the payloads are written, and
        make the vectors visible only after the payloads, as the two steps in turn would.
        """
        expires_at = self._expires_at(ttl)
        payloads = {r.key: {"q": r.text, "v": v} for r, v in zip(reqs, values, strict=True)}
        ttl_s = self.ttl if ttl is None else ttl
        given = vectors is not None
        if not given:
            yield ("set_many", payloads, ttl_s, tags)
            vectors = yield ("embed_many", [r.text for r in reqs])
            if vectors is None:
                return None
        metas: list[dict[str, str | float]] = [
            {"p": r.partition, "k": r.key, "q": r.text[:_MAX_QUERY_CHARS], "model": r.model}
            for r in reqs
        ]
        if expires_at is not None:
            for meta in metas:
                meta["expires_at"] = expires_at
        if given:
            yield ("store_many", payloads, ttl_s, tags, [r.key for r in reqs], vectors, metas)
        else:
            yield ("add_many", [r.key for r in reqs], vectors, metas)
        return None

    def _delete_flow(self, req: _Request) -> _Flow:
        existed = yield ("delete", req.key)
        yield ("delete_vec", [req.key])
        return bool(existed)

    # ---- drivers ---------------------------------------------------------------------------
    def _step(self, op: _Op) -> Any:
        kind = op[0]
        m = self.manager
        if kind == "get":
            if len(op) > 2 and m.metrics.has_listeners:
                with lookup_detail(op[2]):
                    return m.get(op[1], MISSING, layer=_LAYER)
            return m.get(op[1], MISSING, layer=_LAYER)
        if kind == "set":
            m.set(op[1], op[2], op[3], tags=op[4], layer=_LAYER)
            return None
        if kind == "set_many":
            m.set_many(op[1], op[2], tags=op[3], layer=_LAYER)
            return None
        if kind == "store_many":
            _, payloads, ttl, tags, ids, vectors, metas = op
            stage = self._stager(len(ids))
            if stage is None:
                m.set_many(payloads, ttl, tags=tags, layer=_LAYER)
                return self._step(("add_many", ids, vectors, metas))
            staged: list[Any] = []
            worker = threading.Thread(
                target=lambda: staged.append(_staged(stage, ids, vectors, metas)),
                name="omnicache-stage-add",
                daemon=True,
            )
            worker.start()
            try:
                m.set_many(payloads, ttl, tags=tags, layer=_LAYER)
            finally:
                worker.join()
            self._commit_staged(staged[0] if staged else RuntimeError("staging died"))
            return None
        if kind == "delete":
            return m.delete(op[1], layer=_LAYER)
        if kind == "verify":
            return self._verify(op[1], op[2], op[3])
        try:
            if kind == "embed_many":
                emb = self._query_embedder()
                texts = op[1]
                parts = [emb.embed_many(texts[i : i + _EMBED_BATCH])
                         for i in range(0, len(texts), _EMBED_BATCH)]  # fmt: skip
                return np.concatenate(parts) if parts else None
            if kind == "add_many":
                self.vector_backend.add(op[1], op[2], op[3])
                return None
            if kind == "embed":
                vec = self._cached_vector(op[1])
                if vec is None:
                    vec = self._query_embedder().embed(op[1])
                    self._remember_vector(op[1], vec)
                return vec
            if kind == "search":
                return self.vector_backend.search(op[1], k=self.top_k, filter=op[2],
                                                  now=time.time())  # fmt: skip
            if kind == "add":
                self.vector_backend.add([op[1]], op[2].reshape(1, -1), [op[3]])
                return None
            if kind == "delete_vec":
                self.vector_backend.delete(op[1])
                return None
        except Exception as err:  # noqa: BLE001
            self._failure(err, kind)
            return [] if kind == "search" else None
        raise AssertionError(f"unknown step {kind}")  # pragma: no cover

    async def _astep(self, op: _Op) -> Any:
        kind = op[0]
        m = self.manager
        if kind == "get":
            if len(op) > 2 and m.metrics.has_listeners:
                with lookup_detail(op[2]):
                    return await m.aget(op[1], MISSING, layer=_LAYER)
            return await m.aget(op[1], MISSING, layer=_LAYER)
        if kind == "set":
            await m.aset(op[1], op[2], op[3], tags=op[4], layer=_LAYER)
            return None
        if kind == "set_many":
            await m.aset_many(op[1], op[2], tags=op[3], layer=_LAYER)
            return None
        if kind == "store_many":
            _, payloads, ttl, tags, ids, vectors, metas = op
            stage = self._stager(len(ids))
            if stage is None:
                await m.aset_many(payloads, ttl, tags=tags, layer=_LAYER)
                return await self._astep(("add_many", ids, vectors, metas))
            # _staged returns errors rather than raising them: if the payload write raises
            # (strict mode), this future is dropped and nothing is left unretrieved.
            staging = asyncio.ensure_future(asyncio.to_thread(_staged, stage, ids, vectors, metas))
            await m.aset_many(payloads, ttl, tags=tags, layer=_LAYER)
            await asyncio.to_thread(self._commit_staged, await staging)
            return None
        if kind == "embed_many":
            try:
                emb = self._query_embedder()
                texts = op[1]
                parts = [await emb.aembed_many(texts[i : i + _EMBED_BATCH])
                         for i in range(0, len(texts), _EMBED_BATCH)]  # fmt: skip
            except Exception as err:  # noqa: BLE001
                self._failure(err, "embed")
                return None
            return np.concatenate(parts) if parts else None
        if kind == "delete":
            return await m.adelete(op[1], layer=_LAYER)
        if kind == "verify":
            return await self._averify(op[1], op[2], op[3])
        if kind == "embed":
            vec = self._cached_vector(op[1])
            if vec is not None:
                return vec
            try:
                vec = await self._query_embedder().aembed(op[1])
            except Exception as err:  # noqa: BLE001
                self._failure(err, kind)
                return None
            self._remember_vector(op[1], vec)
            return vec
        # Vector stores are synchronous (some do network I/O): keep them off the event loop.
        return await asyncio.to_thread(self._step, op)

    def _stager(self, rows: int) -> Callable[..., Any] | None:
        """The store's ``stage_add`` when a batch of ``rows`` should be staged, else ``None``.

        Only for stores whose ``add`` is the stock stage-then-commit (a subclass overriding
        ``add`` expects its own method to be called), and batches big enough to pay for a
        thread.
        """
        from omnicache_ai.backends.vector._numpy_backend import NumpyBackend

        vb = self.vector_backend
        if rows < _STAGE_ROWS or getattr(type(vb), "add", None) is not NumpyBackend.add:
            return None
        stage: Callable[..., Any] = cast("Any", vb).stage_add
        return stage

    def _commit_staged(self, staged: Any) -> None:
        """Make a staged batch visible; a failure (staging's or the commit's) is counted."""
        if isinstance(staged, Exception):
            self._failure(staged, "add_many")
            return
        try:
            cast("Any", self.vector_backend).commit_add(staged)
        except Exception as err:  # noqa: BLE001
            self._failure(err, "add_many")

    def _verify(self, query: str, cached_query: str, answer: Any) -> bool:
        if self.verify is None:
            return False
        with self._stats_lock:
            self._stats.verifications += 1
        return bool(_sync_value(self.verify(query, cached_query, answer)))

    async def _averify(self, query: str, cached_query: str, answer: Any) -> bool:
        fn = self.verify
        if fn is None:
            return False
        with self._stats_lock:
            self._stats.verifications += 1
        if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
        ):
            return bool(await fn(query, cached_query, answer))
        # A sync verifier (a cross-encoder, a blocking HTTP judge) runs off the event loop.
        result = await asyncio.to_thread(fn, query, cached_query, answer)
        return bool(await _async_value(result))

    def _run(self, flow: _Flow) -> Any:
        result: Any = None
        # closing(): a flow left by an exception still runs its `finally` blocks at once.
        with closing(flow):
            try:
                while True:
                    result = self._step(flow.send(result))
            except StopIteration as stop:
                return stop.value

    async def _arun(self, flow: _Flow) -> Any:
        result: Any = None
        with closing(flow):
            try:
                while True:
                    result = await self._astep(flow.send(result))
            except StopIteration as stop:
                return stop.value

    # ---- public sync API -------------------------------------------------------------------
    def lookup(
        self,
        query: Query,
        *,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
        threshold: float | None = None,
    ) -> SemanticResult:
        """Look ``query`` up: exact tier, then the vector index; says which tier answered.

        Args:
            query: A question, or a chat conversation (keyed by its last user turn).
            model: Model id partition (default: the cache's ``model``).
            system: System prompt partition (default: the conversation's system messages).
            params: Response-changing parameters (temperature, tools ...) partition.
            threshold: Override of the similarity threshold for this call.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> cache = SemanticCache(embedder=HashingEmbedder())
            >>> cache.set("Define entropy", "a measure of disorder")
            >>> r = cache.lookup("Define entropy")
            >>> r.hit, r.tier, r.similarity
            (True, 'exact', 1.0)
        """
        req = self._request(query, model, system, params)
        thr = None if threshold is None else _check_threshold(threshold)
        return self._count(self._run(self._lookup_flow(req, thr)))

    def get(
        self,
        query: Query,
        default: Any = None,
        *,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
        threshold: float | None = None,
    ) -> Any:
        """The cached answer for ``query`` or a paraphrase of it, else ``default``.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> cache = SemanticCache(embedder=HashingEmbedder())
            >>> cache.get("never stored", "miss")
            'miss'
        """
        r = self.lookup(query, model=model, system=system, params=params, threshold=threshold)
        return r.value if r.hit else default

    def set(
        self,
        query: Query,
        value: Any,
        ttl: float | None = None,
        *,
        tags: Iterable[str] | None = None,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Cache ``value`` as the answer to ``query`` (payload in the manager, vector indexed).

        Blocked queries (see ``blocklist``) are not stored.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> cache = SemanticCache(embedder=HashingEmbedder())
            >>> cache.set("q", {"answer": 1}, ttl=60, tags=["docs-v1"])
            >>> cache.get("q")
            {'answer': 1}
        """
        req = self._request(query, model, system, params)
        if self.blocklist is not None and self.blocklist.check(req.text) is not None:
            return
        self._run(self._store_flow(req, value, ttl, self._tags(tags)))

    def _prepare_many(
        self,
        items: Mapping[Any, Any] | Iterable[tuple[Query, Any]],
        vectors: npt.ArrayLike | None,
        model: str | None,
        system: str | None,
        params: Mapping[str, Any] | None,
    ) -> tuple[list[_Request], list[Any], Vector | None]:
        """Validate a ``set_many`` batch (all of it, before anything is written)."""
        reqs, values = self._requests(items, model, system, params)
        arr: Vector | None = None
        if vectors is not None:
            arr = _checked_vectors(vectors, len(reqs), self.vector_backend.dim)
        if self.blocklist is not None:
            keep = [i for i, r in enumerate(reqs) if self.blocklist.check(r.text) is None]
            if len(keep) != len(reqs):
                reqs = [reqs[i] for i in keep]
                values = [values[i] for i in keep]
                arr = None if arr is None else arr[keep]
        return reqs, values, arr

    def set_many(
        self,
        items: Mapping[str, Any] | Iterable[tuple[Query, Any]],
        ttl: float | None = None,
        *,
        vectors: npt.ArrayLike | None = None,
        tags: Iterable[str] | None = None,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        """Cache many answers at once: one manager batch write and one vector-index add.

        Same entries as calling :meth:`set` for each pair, about 10x faster for a large batch
        (100k entries with vectors given: well under 2 s with the in-memory backends, see
        ``benchmarks/bench_semantic_scale.py``). Every argument is checked before anything
        is written; a store that fails mid-way is counted and logged like a failed ``set``.

        Args:
            items: ``{question: answer}``, or ``(query, answer)`` pairs when queries are
                conversations (a list of messages is not hashable). A repeated query keeps
                its last answer.
            ttl: Seconds to live of every entry (default: the cache's ``ttl``).
            vectors: The queries' embeddings, one row per item in order, from the cache's
                embedder (``shape (len(items), dim)``). Without them the questions are
                embedded in batches of 256 with ``embed_many``.
            tags: Tags for :meth:`invalidate`, given to every entry.
            model: Model id partition of every entry (default: the cache's ``model``).
            system: System prompt partition (default: each conversation's own).
            params: Response-changing parameters partition of every entry.

        Returns:
            How many entries were stored (blocked queries are skipped).

        Raises:
            TypeError: ``items`` is not a mapping or an iterable of pairs, or a query is not
                a question or a conversation.
            ValueError: ``vectors`` has the wrong shape, or a row that is not finite or zero.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> cache = SemanticCache(embedder=HashingEmbedder(), threshold=0.8)
            >>> cache.set_many({"What is 2+2?": "4", "Capital of Peru?": "Lima"}, ttl=3600)
            2
            >>> cache.get("what is 2+2"), cache.lookup("what is 2+2").tier
            ('4', 'semantic')
        """
        reqs, values, arr = self._prepare_many(items, vectors, model, system, params)
        tag_list = self._tags(tags)
        if reqs:
            self._run(self._store_many_flow(reqs, values, arr, ttl, tag_list))
        return len(reqs)

    def delete(
        self,
        query: Query,
        *,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> bool:
        """Remove the entry for exactly this query (payload and vector).

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> cache = SemanticCache(embedder=HashingEmbedder())
            >>> cache.set("q", "a"); cache.delete("q"), cache.get("q")
            (True, None)
        """
        req = self._request(query, model, system, params)
        return bool(self._run(self._delete_flow(req)))

    def invalidate(self, tag: str) -> int:
        """Retire every entry stored with ``tag``; their vectors are dropped lazily.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> cache = SemanticCache(embedder=HashingEmbedder())
            >>> cache.set("q", "a", tags=["v1"]); _ = cache.invalidate("v1")
            >>> cache.get("q") is None
            True
        """
        return self.manager.invalidate(tag)

    def clear(self) -> None:
        """Retire every entry of this cache, or of this tenant view only.

        A tenant view retires its own payloads (one tag bump in its scope) and leaves the
        shared index alone: its vectors now point at retired payloads, so a lookup that
        finds one misses and deletes that vector, while other tenants keep every hit. The
        root cache (no tenant) also empties the whole index.
        """
        self.manager.invalidate(_CLEAR_TAG)
        if not self.manager.tenant:
            self._clear_index()

    def _clear_index(self) -> None:
        try:
            self.vector_backend.clear()
        except Exception as err:  # noqa: BLE001
            self._failure(err, "clear")

    def get_or_set(
        self,
        query: Query,
        fn: Callable[[], Any],
        *,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
        threshold: float | None = None,
    ) -> Any:
        """The cached answer, or ``fn()`` computed once (stampede-safe) and cached.

        A query matching the ``blocklist`` is refused (:class:`QueryBlockedError`) or sent
        straight to ``fn`` without caching, depending on the blocklist's mode.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> cache = SemanticCache(embedder=HashingEmbedder())
            >>> cache.get_or_set("2+2?", lambda: 4), cache.get_or_set("2+2?", lambda: 5)
            (4, 4)
        """
        req = self._request(query, model, system, params)
        if self.blocklist is not None and self.blocklist.screen(req.text):
            return _sync_value(fn())
        thr = None if threshold is None else _check_threshold(threshold)
        found = self._count(self._run(self._lookup_flow(req, thr)))
        if found.hit:
            return found.value
        computed: list[bool] = []

        def fill() -> dict[str, Any]:
            computed.append(True)
            return {"q": req.text, "v": _sync_value(fn())}

        ttl_s = self.ttl if ttl is None else ttl
        payload = self.manager.get_or_set(req.key, fill, ttl_s, tags=self._tags(tags),
                                          layer=_LAYER)  # fmt: skip
        if not _is_payload(payload):
            # Another writer left something that is not an entry of ours: replace it.
            payload = self.manager.get_or_set(req.key, fill, ttl_s, tags=self._tags(tags),
                                              layer=_LAYER, config=_REFRESH)  # fmt: skip
        if computed:
            self._run(self._index_flow(req, self._expires_at(ttl)))
        return payload["v"]

    # ---- public async API (same flows, awaited steps) --------------------------------------
    async def alookup(
        self,
        query: Query,
        *,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
        threshold: float | None = None,
    ) -> SemanticResult:
        """Async :meth:`lookup`."""
        req = self._request(query, model, system, params)
        thr = None if threshold is None else _check_threshold(threshold)
        return self._count(await self._arun(self._lookup_flow(req, thr)))

    async def aget(
        self,
        query: Query,
        default: Any = None,
        *,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
        threshold: float | None = None,
    ) -> Any:
        """Async :meth:`get`."""
        r = await self.alookup(query, model=model, system=system, params=params,
                               threshold=threshold)  # fmt: skip
        return r.value if r.hit else default

    async def aset(
        self,
        query: Query,
        value: Any,
        ttl: float | None = None,
        *,
        tags: Iterable[str] | None = None,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Async :meth:`set`."""
        req = self._request(query, model, system, params)
        if self.blocklist is not None and await self.blocklist.acheck(req.text) is not None:
            return
        await self._arun(self._store_flow(req, value, ttl, self._tags(tags)))

    async def aset_many(
        self,
        items: Mapping[str, Any] | Iterable[tuple[Query, Any]],
        ttl: float | None = None,
        *,
        vectors: npt.ArrayLike | None = None,
        tags: Iterable[str] | None = None,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        """Async :meth:`set_many`; the vector index add runs off the event loop."""
        reqs, values, arr = self._prepare_many(items, vectors, model, system, params)
        tag_list = self._tags(tags)
        if reqs:
            await self._arun(self._store_many_flow(reqs, values, arr, ttl, tag_list))
        return len(reqs)

    async def adelete(
        self,
        query: Query,
        *,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> bool:
        """Async :meth:`delete`."""
        req = self._request(query, model, system, params)
        return bool(await self._arun(self._delete_flow(req)))

    async def ainvalidate(self, tag: str) -> int:
        """Async :meth:`invalidate`."""
        return await self.manager.ainvalidate(tag)

    async def aclear(self) -> None:
        """Async :meth:`clear`."""
        await self.manager.ainvalidate(_CLEAR_TAG)
        if not self.manager.tenant:
            await asyncio.to_thread(self._clear_index)

    async def aget_or_set(
        self,
        query: Query,
        fn: Callable[[], Any],
        *,
        ttl: float | None = None,
        tags: Iterable[str] | None = None,
        model: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
        threshold: float | None = None,
    ) -> Any:
        """Async :meth:`get_or_set`; ``fn`` may be a coroutine function or a plain one."""
        req = self._request(query, model, system, params)
        if self.blocklist is not None and await self.blocklist.ascreen(req.text):
            return await _async_value(fn())
        thr = None if threshold is None else _check_threshold(threshold)
        found = self._count(await self._arun(self._lookup_flow(req, thr)))
        if found.hit:
            return found.value
        computed: list[bool] = []

        async def fill() -> dict[str, Any]:
            computed.append(True)
            return {"q": req.text, "v": await _async_value(fn())}

        ttl_s = self.ttl if ttl is None else ttl
        payload = await self.manager.aget_or_set(req.key, fill, ttl_s, tags=self._tags(tags),
                                                 layer=_LAYER)  # fmt: skip
        if not _is_payload(payload):
            payload = await self.manager.aget_or_set(req.key, fill, ttl_s, tags=self._tags(tags),
                                                     layer=_LAYER, config=_REFRESH)  # fmt: skip
        if computed:
            await self._arun(self._index_flow(req, self._expires_at(ttl)))
        return payload["v"]

    # ---- introspection ---------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Hits per tier, misses, guard vetoes, errors and the semantic share of hits.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> SemanticCache(embedder=HashingEmbedder()).stats()["misses"]
            0
        """
        with self._stats_lock:
            s = self._stats
            hits = s.exact_hits + s.semantic_hits
            total = hits + s.misses
            return {
                "exact_hits": s.exact_hits,
                "semantic_hits": s.semantic_hits,
                "misses": s.misses,
                "hit_rate": hits / total if total else 0.0,
                "guard_rejections": dict(s.guard_rejections),
                "verifications": s.verifications,
                "outranked": s.outranked,
                "errors": s.errors,
                "threshold": self.threshold,
            }

    def close(self) -> None:
        """Close the vector index (the manager belongs to its owner)."""
        if self._vectors is not None:
            self._vectors.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.manager!r}, threshold={self.threshold}, "
            f"guards={self.guards.enabled})"
        )


def _staged(stage: Callable[..., Any], *args: Any) -> Any:
    """``stage(*args)``, or the exception it raised (returned, for the driver to count)."""
    try:
        return stage(*args)
    except Exception as err:  # noqa: BLE001
        return err


def _checked_vectors(vectors: npt.ArrayLike, n: int, dim: int) -> Vector:
    """``vectors`` as float32 rows after the checks the index would make, in one pass.

    The index normalizes the rows itself; checking here, before anything is written, turns
    a bad batch into an error for the caller rather than a half-stored batch.
    """
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1 and n == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"expected vectors of dimension {dim}, got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"{n} items but {len(arr)} vectors")
    squares = np.einsum("ij,ij->i", arr, arr)  # NaN and inf reach the row sums
    if not np.isfinite(squares).all() and not np.isfinite(arr).all():
        raise ValueError("vectors must be finite (found NaN or inf)")
    if n and float(squares.min()) == 0.0:
        raise ValueError("cannot store a zero vector: it has no direction")
    return arr


def _check_verify(verify: Any, band: Any, above: Any) -> None:
    if verify is not None and not callable(verify):
        raise TypeError("verify must be a callable (query, cached_query, answer) -> bool")
    for name, value in (("verify_band", band), ("verify_above", above)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")


def _check_threshold(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError(f"threshold must be a number in (0, 1], got {value!r}")
    return float(value)


def _calibrated_threshold(embedder: Embedder | None, embed_fn: Callable[..., Any] | None) -> float:
    """What ``threshold=None`` means: the embedder's calibrated threshold, else the default's.

    No embedder and no ``embed_fn`` means the default embedder, whose threshold is known
    without loading the model (it loads lazily, on the first lookup).
    """
    if embedder is None and embed_fn is None:
        return DEFAULT_THRESHOLD
    calibrated = None if embedder is None else recommended_threshold(embedder)
    if calibrated is None:
        name = "embed_fn" if embedder is None else repr(getattr(embedder, "name", embedder))
        logger.info(
            "omnicache: no calibrated semantic threshold for %s; using %s (the default "
            "embedder's). Measure one with benchmarks/bench_semantic_quality.py and pass "
            "threshold=",
            name,
            DEFAULT_THRESHOLD,
        )
        return DEFAULT_THRESHOLD
    return calibrated


def _sync_value(result: Any) -> Any:
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if callable(close):
            close()
        raise TypeError("fn returned an awaitable; use `await cache.aget_or_set(...)`")
    return result


async def _async_value(result: Any) -> Any:
    if inspect.isawaitable(result):
        return await result
    return result


# ---- adaptive thresholds ------------------------------------------------------------------------
# Evidence: similarity -> [confirmed, wrong] counts. Similarities are kept to 4 decimals,
# confirmations rounded down and wrong answers up, so the rounding never makes a threshold
# more permissive than the exact observations would.
_Counts = dict[float, list[int]]
_SCORE_STEP: Final = 10_000


def _bucket(score: float, correct: bool) -> float:
    scaled = round(score * _SCORE_STEP, 6)
    return (math.floor(scaled) if correct else math.ceil(scaled)) / _SCORE_STEP


def _add_counts(into: _Counts, more: Mapping[float, Sequence[int]]) -> _Counts:
    for score, (ok, bad) in more.items():
        c = into.setdefault(score, [0, 0])
        c[0] += ok
        c[1] += bad
    return into


def _estimate(
    counts: Mapping[float, Sequence[int]],
    start: float,
    floor: float,
    target: float,
    strict: bool = False,
) -> float:
    """:func:`estimate_threshold` over counts, in O(n log n) with suffix sums."""
    lowest = floor
    if strict:
        wrong = [s for s, (_, bad) in counts.items() if bad and s >= start]
        if wrong:
            start = lowest = min(1.0, max(wrong) + 1e-6)
    scores = sorted(counts)
    # n_from[i] / err_from[i]: observations (and wrong ones) at similarity >= scores[i].
    n_from = [0] * (len(scores) + 1)
    err_from = [0] * (len(scores) + 1)
    for i in range(len(scores) - 1, -1, -1):
        ok, bad = counts[scores[i]]
        n_from[i] = n_from[i + 1] + ok + bad
        err_from[i] = err_from[i + 1] + bad
    top = scores[-1] if scores else start
    candidates = sorted({s for s in scores if s >= lowest} | {start})
    for cand in [*candidates, min(1.0, top + 1e-6)]:
        i = bisect.bisect_left(scores, cand)
        n, errors = n_from[i], err_from[i]
        if (cand >= start and errors == 0) or (errors + 1) / (n + 2) <= target:
            return max(floor, cand)
    return 1.0


def estimate_threshold(
    observations: Sequence[tuple[float, bool]],
    start: float,
    floor: float,
    target: float,
    *,
    strict: bool = False,
) -> float:
    """The lowest threshold the evidence supports for a false-hit rate of at most ``target``.

    ``observations`` are ``(similarity, correct)`` pairs. A threshold ``t`` is supported when
    the observed hits at ``s >= t`` bound the error rate under ``target`` --
    ``(errors + 1) / (n + 2) <= target``, the posterior mean under a uniform prior -- or, for
    ``t >= start``, when no wrong answer was seen at ``s >= t`` (staying put needs no proof;
    going lower does). So with a 1% target about a hundred confirmed hits are needed before the
    threshold goes below ``start``, and a wrong answer lifts it above its similarity until
    enough confirmed hits outweigh it. ``strict`` lifts it above every wrong answer at
    ``s >= start`` whatever the other evidence (used per entry: there a wrong answer is
    direct evidence about that very entry, vCache arXiv 2502.03771). Never below ``floor``.

    Example:
        >>> estimate_threshold([], start=0.85, floor=0.7, target=0.01)
        0.85
        >>> estimate_threshold([(0.9, False)], start=0.85, floor=0.7, target=0.01) > 0.9
        True
        >>> estimate_threshold([(0.75, True)] * 200, start=0.85, floor=0.7, target=0.01)
        0.75
    """
    counts: _Counts = {}
    for score, ok in observations:
        counts.setdefault(float(score), [0, 0])[0 if ok else 1] += 1
    return _estimate(counts, start, floor, target, strict)


# ---- evidence records --------------------------------------------------------------------------
# Stored through the manager (tenant-scoped like every key) under the layer label
# "semantic.evidence": global counts per embedder, never expiring, and one record per entry
# that has evidence, living as long as the entries do. The global counts are sharded by
# writer: each process takes a slot number from an atomic counter once and writes only its
# own slot, with absolute totals of its own observations, so concurrent workers never
# overwrite each other's counts; readers sum every slot (plus the single record earlier
# versions wrote, read-only). Per-entry observations are sharded the same way: one record
# per (entry, writer slot) holding that writer's own most recent observations, stamped with
# the wall clock so readers can merge every writer's in time order (plus the single
# per-entry record earlier versions wrote, read-only, as the oldest).
_EV_LAYER: Final = "semantic.evidence"
_EV_KEY_TYPE: Final = "semantic-evidence"
_EV_VERSION: Final = 1
#: Observations kept per entry (the most recent), here and in its stored record.
_ENTRY_OBS: Final = 256
_Obs = list[tuple[float, bool]]
_TimedObs = list[tuple[float, bool, float]]  # (similarity, correct, wall-clock time)


def _counts_record(counts: Mapping[float, Sequence[int]]) -> dict[str, Any]:
    return {"v": _EV_VERSION, "h": [[s, c[0], c[1]] for s, c in sorted(counts.items())]}


def _parse_counts(record: Any) -> _Counts | None:
    """Counts of a stored record, or ``None`` if there is none (or none this version reads)."""
    if not isinstance(record, Mapping) or record.get("v") != _EV_VERSION:
        return None
    out: _Counts = {}
    for row in record.get("h") or ():
        try:
            score, ok, bad = float(row[0]), int(row[1]), int(row[2])
        except (TypeError, ValueError, IndexError):
            continue
        if ok >= 0 and bad >= 0 and ok + bad and math.isfinite(score):
            _add_counts(out, {score: (ok, bad)})
    return out


def _obs_record(obs: _TimedObs) -> dict[str, Any]:
    return {"v": _EV_VERSION, "o": [[s, ok, t] for s, ok, t in obs]}


def _parse_obs(record: Any) -> _TimedObs | None:
    """Timed observations of a record (a record without times counts as the oldest)."""
    if not isinstance(record, Mapping) or record.get("v") != _EV_VERSION:
        return None
    out: _TimedObs = []
    for row in record.get("o") or ():
        try:
            score, ok = float(row[0]), row[1]
            at = float(row[2]) if len(row) > 2 else 0.0
        except (TypeError, ValueError, IndexError):
            continue
        if isinstance(ok, bool) and math.isfinite(score) and math.isfinite(at):
            out.append((score, ok, at))
    return out[-_ENTRY_OBS:]


@dataclass
class _EntryEvidence:
    others: _TimedObs = field(default_factory=list)  # other writers', in time order, as read
    mine: _TimedObs = field(default_factory=list)  # what this process's slot holds
    pending: _TimedObs = field(default_factory=list)  # observed here, not stored yet
    checked_at: float = -math.inf  # monotonic time of the last read

    def observations(self) -> _Obs:
        stored = sorted(self.others + self.mine, key=lambda o: o[2])[-_ENTRY_OBS:]
        return [(s, ok) for s, ok, _ in stored + self.pending]


class _Evidence:
    """One tenant's evidence: global counts and per-entry observations, stored and pending."""

    def __init__(self, start: float) -> None:
        self.lock = threading.Lock()
        self.start = start
        self.threshold = start
        self.stored: _Counts = {}  # every writer's counts: others + mine
        self.others: _Counts = {}  # the other slots (and the legacy record), as last read
        self.mine: _Counts = {}  # what this process's slot holds
        self.slot: int | None = None  # this process's slot, taken on its first flush
        self.pending: _Counts = {}
        self.checked_at = -math.inf
        self.entries: OrderedDict[str, _EntryEvidence] = OrderedDict()
        self.dirty: set[str] = set()  # entries with pending observations
        self.flushing = False
        # Bumped by every successful write: a read that started before it is out of date.
        self.generation = 0

    def counts(self) -> _Counts:
        return _add_counts(_add_counts({}, self.stored), self.pending)


class AdaptiveSemanticCache(SemanticCache):
    """A semantic cache whose thresholds follow evidence of correctness, per entry.

    Feedback comes from :meth:`report` (your users or an evaluator saying whether a semantic
    hit was right) and, optionally, from ``verify``: a ``(query, cached_query, answer) ->
    bool`` callable consulted for *borderline* candidates (similarity within ``verify_band``
    below an entry's threshold), whose verdicts count as evidence too. Each entry keeps its
    own threshold (vCache, arXiv 2502.03771: the similarity at which answers stop being
    reusable differs between entries) derived from the global one, which is estimated from all
    evidence; see :func:`estimate_threshold`. Thresholds never go below ``floor``.

    The evidence is stored through the cache's manager (``persist_evidence``), so another
    worker or a restarted process over the same backend (disk, Redis) starts from what was
    learned; each tenant's evidence stays in that tenant's scope and moves only its own
    thresholds:

    * every report or verdict is stored at once. Global counts are sharded by writer: each
      process takes a slot from an atomic counter (:meth:`CacheManager.incr`) and writes
      only its own totals there, and readers sum every slot, so concurrent workers never
      lose a count. Per-entry observations are sharded the same way: one record per entry
      and writer slot, holding that writer's own latest observations with their times;
      readers merge every slot's in time order, so no observation is lost either.
    * lookups read an entry's record the first time it is a candidate (at or above
      ``floor``) and again after ``evidence_refresh`` seconds, and the global record at the
      same pace; between reads decisions come from memory. :meth:`load_evidence` reads the
      global record at once.
    * a backend failure never breaks a lookup or a report (unless the manager is
      ``strict``): it is counted in the manager's metrics and logged once, the cache goes on
      from memory, and unsaved observations are written with the next successful report.

    Args:
        target_false_hit_rate: The false-hit rate to stay under (e.g. 0.01).
        floor: The lowest threshold ever used (default: 0.7, or the starting threshold when
            that is lower).
        verify: Optional verifier for borderline candidates (sync or async).
        verify_band: How far below a threshold a candidate is still verified.
        max_tracked: Entries whose evidence is kept in memory (the least recently used are
            dropped from memory, not from the store).
        persist_evidence: Store evidence through the manager (``False``: memory only).
        evidence_refresh: Seconds before stored evidence is read again.
        **kwargs: As for :class:`SemanticCache` (``threshold`` is the starting point).

    Raises:
        ValueError: On a target outside (0, 1), a floor above the starting threshold, a
            ``verify_band`` outside [0, 1) or a negative ``evidence_refresh``.

    Example:
        >>> from omnicache_ai.embedders import HashingEmbedder
        >>> cache = AdaptiveSemanticCache(embedder=HashingEmbedder(), threshold=0.8,
        ...                               target_false_hit_rate=0.01, floor=0.7)
        >>> cache.set("What is the boiling point of water?", "100 °C")
        >>> r = cache.lookup("what is the boiling point of water")
        >>> cache.report(r, correct=True)
        >>> cache.current_threshold() >= 0.7
        True
    """

    def __init__(
        self,
        manager: CacheManager | None = None,
        *,
        target_false_hit_rate: float = 0.01,
        floor: float | None = None,
        verify: Callable[[str, str, Any], Any] | None = None,
        verify_band: float = 0.1,
        max_tracked: int = 100_000,
        persist_evidence: bool = True,
        evidence_refresh: float = 60.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, verify=verify, verify_band=verify_band, **kwargs)
        if not 0 < target_false_hit_rate < 1:
            raise ValueError(
                f"target_false_hit_rate must be in (0, 1), got {target_false_hit_rate}"
            )
        start = self.threshold
        # The default floor must not sit above a low calibrated starting threshold.
        floor = _check_threshold(min(0.7, start) if floor is None else floor)
        if floor > start:
            raise ValueError(f"floor {floor} is above the starting threshold {start}")
        if isinstance(evidence_refresh, bool) or not evidence_refresh >= 0:
            raise ValueError(f"evidence_refresh must be seconds >= 0, got {evidence_refresh!r}")
        self.start_threshold = start
        self.target = float(target_false_hit_rate)
        self.floor = floor
        self.persist_evidence = bool(persist_evidence)
        self.evidence_refresh = float(evidence_refresh)
        self._max_tracked = max(1, max_tracked)
        # One evidence state per tenant, shared by every view of that tenant.
        self._states: dict[str, _Evidence] = {}
        self._states_lock = threading.Lock()
        self._records = RecordStore(_EV_LAYER)

    # ``threshold`` is the current tenant's learned global threshold. SemanticCache.__init__
    # assigns the starting value before the evidence states exist.
    @property
    def threshold(self) -> float:
        """The current global threshold of this cache's tenant."""
        if "_states" not in self.__dict__:
            start: float = self.__dict__["_start"]
            return start
        return self._ev.threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        if "_states" not in self.__dict__:
            self.__dict__["_start"] = value
            return
        ev = self._ev
        with ev.lock:
            ev.start = _check_threshold(value)
            self._recompute(ev)

    @property
    def _ev(self) -> _Evidence:
        tenant = self.manager.tenant
        ev = self._states.get(tenant)
        if ev is None:
            with self._states_lock:
                ev = self._states.setdefault(tenant, _Evidence(self.start_threshold))
        return ev

    # ---- evidence in memory (callers hold ev.lock) ---------------------------------------------
    def _recompute(self, ev: _Evidence) -> None:
        ev.threshold = _estimate(ev.counts(), ev.start, self.floor, self.target)

    def _entry(self, ev: _Evidence, entry_id: str) -> _EntryEvidence:
        entry = ev.entries.get(entry_id)
        if entry is None:
            entry = ev.entries[entry_id] = _EntryEvidence()
            while len(ev.entries) > self._max_tracked:
                old, _ = ev.entries.popitem(last=False)
                ev.dirty.discard(old)
        else:
            ev.entries.move_to_end(entry_id)
        return entry

    def current_threshold(self, entry_id: str | None = None) -> float:
        """The global threshold, or one entry's own (the global one until it has evidence).

        Both are what this process knows: stored evidence is read by lookups, reports and
        :meth:`load_evidence`.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> AdaptiveSemanticCache(embedder=HashingEmbedder(), threshold=0.9,
            ...                       floor=0.8).current_threshold()
            0.9
        """
        ev = self._ev
        with ev.lock:
            base = ev.threshold
            entry = ev.entries.get(entry_id) if entry_id is not None else None
            obs = entry.observations() if entry is not None else []
        if not obs:
            return base
        # Per entry, starting from the global estimate (vCache, arXiv 2502.03771).
        return estimate_threshold(obs, base, self.floor, self.target, strict=True)

    def _decide(self, entry_id: str, score: float, threshold: float, explicit: bool) -> str:
        # An explicit per-call threshold wins over what was learned.
        thr = threshold if explicit else self.current_threshold(entry_id)
        if score >= thr:
            return "hit"
        if self.verify is not None and score >= max(self.floor, thr - self.verify_band):
            return "verify"
        return "miss"

    def _observe(self, entry_id: str, score: float, correct: bool) -> None:
        ev = self._ev
        obs = (float(score), bool(correct), time.time())
        bucket = {_bucket(obs[0], obs[1]): (int(correct), int(not correct))}
        with ev.lock:
            entry = self._entry(ev, entry_id)
            if self.persist_evidence:
                _add_counts(ev.pending, bucket)
                entry.pending.append(obs)
                if not ev.flushing:  # a flush in progress counts on the pending list's prefix
                    del entry.pending[:-_ENTRY_OBS]
                ev.dirty.add(entry_id)
            else:
                _add_counts(ev.stored, bucket)
                entry.mine.append(obs)
                del entry.mine[:-_ENTRY_OBS]
            self._recompute(ev)

    # ---- evidence in the store: flows driven by the sync and async drivers ---------------------
    def _evidence_key(self, entry_id: str | None, slot: int | None = None) -> str:
        """The global record, or an entry's record: one writer slot's, or the legacy one."""
        kb = self.manager.key_builder
        if entry_id is None:  # similarities of different models are not comparable
            return kb.build(_EV_KEY_TYPE, {"global": self.embedder.name})
        if slot is None:
            return kb.build(_EV_KEY_TYPE, {"entry": entry_id})
        return kb.build(_EV_KEY_TYPE, {"entry": entry_id, "slot": slot})

    def _slot_key(self, slot: int | None) -> str:
        """The slot counter (``None``) or one writer's slot of global counts."""
        payload: dict[str, Any] = {"global": self.embedder.name}
        payload["slots" if slot is None else "slot"] = 0 if slot is None else slot
        return self.manager.key_builder.build(_EV_KEY_TYPE, payload)

    def _load_flow(self, entry_ids: Sequence[str], want_global: bool) -> _Flow:
        """Read the global record and these entries' records into memory."""
        ev = self._ev
        now = time.monotonic()
        with ev.lock:
            # Marked read up front: concurrent lookups do not read the same records again,
            # and a failing backend is retried only after evidence_refresh.
            for eid in entry_ids:
                self._entry(ev, eid).checked_at = now
            if want_global:
                ev.checked_at = now
            generation = ev.generation
        keys: list[tuple[str | None, str]] = [(eid, self._evidence_key(eid)) for eid in entry_ids]
        slots: dict[int, str] = {}
        n = yield ("incr", self._slot_key(None), 0)  # how many writers ever wrote evidence
        if n is None:
            return None
        writers = range(1, int(n) + 1)
        entry_slots = {eid: {i: self._evidence_key(eid, i) for i in writers} for eid in entry_ids}
        if want_global:
            keys.append((None, self._evidence_key(None)))
            slots = {i: self._slot_key(i) for i in writers}
        wanted = [k for _, k in keys] + list(slots.values())
        wanted += [k for by_slot in entry_slots.values() for k in by_slot.values()]
        found = yield ("records_load", wanted)
        if found is None:
            return None
        with ev.lock:
            if ev.generation != generation or ev.flushing:
                # A write since this read started makes it out of date: read again next time.
                for eid in entry_ids:
                    if (entry := ev.entries.get(eid)) is not None:
                        entry.checked_at = -math.inf
                if want_global:
                    ev.checked_at = -math.inf
                return None
            for owner, key in keys:
                if owner is None:
                    others = _parse_counts(found.get(key)) or {}
                    for i, skey in slots.items():
                        if i != ev.slot:  # our own slot: memory is never behind the store
                            _add_counts(others, _parse_counts(found.get(skey)) or {})
                    ev.others = others
                    ev.stored = _add_counts(_add_counts({}, others), ev.mine)
                elif (entry := ev.entries.get(owner)) is not None:
                    seen = _parse_obs(found.get(key)) or []
                    for i, skey in entry_slots[owner].items():
                        if i != ev.slot:  # our own slot: memory is never behind the store
                            seen += _parse_obs(found.get(skey)) or []
                    seen.sort(key=lambda o: o[2])
                    entry.others = seen[-_ENTRY_OBS:]
            self._recompute(ev)
        return None

    def _prepare_flow(self, hits: Sequence[VectorHit], explicit: bool) -> _Flow:
        if not self.persist_evidence or explicit:
            return None
        # Only candidates at or above the floor can be served whatever their evidence says.
        ids = [h.id for h in hits if h.score >= self.floor]
        if not ids:
            return None
        ev = self._ev
        due = time.monotonic() - self.evidence_refresh
        with ev.lock:
            stale = [i for i in ids if (e := ev.entries.get(i)) is None or e.checked_at <= due]
            want_global = ev.checked_at <= due
        if stale or want_global:
            yield from self._load_flow(stale, want_global)
        return None

    def _observe_flow(self, entry_id: str, score: float, correct: bool) -> _Flow:
        self._observe(entry_id, score, correct)
        yield from self._flush_flow()

    def _flush_flow(self) -> _Flow:
        """Merge the pending observations into the stored records (read, add, write)."""
        if not self.persist_evidence:
            return None
        ev = self._ev
        with ev.lock:
            if ev.flushing:
                return None  # the flush in progress writes these observations too
            ev.flushing = True
        try:
            for _ in range(3):
                if not (yield from self._flush_round(ev)):
                    return None
        finally:
            with ev.lock:
                ev.flushing = False
        return None

    def _flush_round(self, ev: _Evidence) -> Generator[_Op, Any, bool]:
        """One read-merge-write of everything pending; whether more is pending after it."""
        with ev.lock:
            counts = _add_counts({}, ev.pending)
            mine = _add_counts({}, ev.mine)
            slot = ev.slot
            batch = {
                eid: (list(ev.entries[eid].mine), list(ev.entries[eid].pending))
                for eid in ev.dirty
                if eid in ev.entries
            }
            ev.dirty.intersection_update(batch)
        if not counts and not batch:
            return False
        # This process's own slot, absolute totals and lists: no read needed, no race.
        if slot is None:
            slot = yield ("incr", self._slot_key(None), 1)
            if slot is None:
                return False
            with ev.lock:
                ev.slot = slot = int(slot)
        keys = {eid: self._evidence_key(eid, slot) for eid in batch}
        written_counts = None
        if counts:
            written_counts = _add_counts(mine, counts)
            saved = yield (
                "records_save",
                {self._slot_key(slot): _counts_record(written_counts)},
                0,
            )
            if not saved:
                return False
        written = {eid: (mine_obs + new)[-_ENTRY_OBS:] for eid, (mine_obs, new) in batch.items()}
        saved_entries = bool(written) and (
            yield (
                "records_save",
                {keys[eid]: _obs_record(obs) for eid, obs in written.items()},
                self.manager.ttl_policy.ttl_for(_LAYER, self.ttl),
            )
        )
        now = time.monotonic()
        with ev.lock:
            ev.generation += 1
            if written_counts is not None:
                ev.mine = written_counts
                ev.stored = _add_counts(_add_counts({}, ev.others), written_counts)
                for score, (ok, bad) in counts.items():
                    c = ev.pending[score]
                    c[0] -= ok
                    c[1] -= bad
                    if not any(c):
                        del ev.pending[score]
                ev.checked_at = now
            if saved_entries:
                for eid, obs in written.items():
                    entry = ev.entries.get(eid)
                    if entry is None:
                        continue
                    entry.mine = obs
                    del entry.pending[: len(batch[eid][1])]
                    entry.checked_at = now
                    if entry.pending:
                        ev.dirty.add(eid)
                    else:
                        ev.dirty.discard(eid)
            self._recompute(ev)
            return saved_entries and bool(ev.pending or ev.dirty)

    def _step(self, op: _Op) -> Any:
        if op[0] == "incr":
            what = "load" if op[2] == 0 else "slot"
            return self._counted(self._records.incr(self.manager, op[1], op[2], what))
        if op[0] == "records_load":
            return self._counted(self._records.load(self.manager, op[1]))
        if op[0] == "records_save":
            return self._counted(self._records.save(self.manager, op[1], op[2]))
        return super()._step(op)

    async def _astep(self, op: _Op) -> Any:
        if op[0] == "incr":
            what = "load" if op[2] == 0 else "slot"
            return self._counted(await self._records.aincr(self.manager, op[1], op[2], what))
        if op[0] == "records_load":
            return self._counted(await self._records.aload(self.manager, op[1]))
        if op[0] == "records_save":
            return self._counted(await self._records.asave(self.manager, op[1], op[2]))
        return await super()._astep(op)

    def _counted(self, result: Any) -> Any:
        if result is None or result is False:  # the store failed (already counted and logged)
            with self._stats_lock:
                self._stats.errors += 1
        return result

    # ---- public API ----------------------------------------------------------------------------
    def report(self, hit: SemanticResult, correct: bool = False) -> None:
        """Tell the cache whether a semantic hit was right; exact-tier hits are ignored.

        The observation moves this process's thresholds at once and is merged into the
        stored evidence (a failing backend is counted and logged, never raised).

        Raises:
            TypeError: If ``hit`` is not a :class:`SemanticResult`.

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> cache = AdaptiveSemanticCache(embedder=HashingEmbedder(), threshold=0.8)
            >>> cache.report(SemanticResult(hit=False))  # nothing to learn from a miss
        """
        evidence = self._evidence_of(hit)
        if evidence is not None:
            self._run(self._observe_flow(*evidence, bool(correct)))

    async def areport(self, hit: SemanticResult, correct: bool = False) -> None:
        """Async :meth:`report` (the stored evidence is written without blocking the loop).

        Example:
            >>> import asyncio
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> cache = AdaptiveSemanticCache(embedder=HashingEmbedder(), threshold=0.8)
            >>> asyncio.run(cache.areport(SemanticResult(hit=False)))
        """
        evidence = self._evidence_of(hit)
        if evidence is not None:
            await self._arun(self._observe_flow(*evidence, bool(correct)))

    @staticmethod
    def _evidence_of(hit: SemanticResult) -> tuple[str, float] | None:
        """(entry id, similarity) of a semantic hit; ``None`` for what teaches nothing."""
        if not isinstance(hit, SemanticResult):
            raise TypeError(f"report() takes the SemanticResult of a lookup, got {hit!r}")
        if hit.tier != "semantic" or hit.entry_id is None or hit.similarity is None:
            return None
        return hit.entry_id, hit.similarity

    def load_evidence(self) -> float:
        """Read the stored global evidence now; returns the resulting global threshold.

        Lookups do this by themselves; call it to see what other workers learned before
        the first lookup (e.g. at start-up, or in a health check).

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> AdaptiveSemanticCache(embedder=HashingEmbedder(), threshold=0.8).load_evidence()
            0.8
        """
        if self.persist_evidence:
            self._run(self._load_flow((), True))
        return self.threshold

    async def aload_evidence(self) -> float:
        """Async :meth:`load_evidence`."""
        if self.persist_evidence:
            await self._arun(self._load_flow((), True))
        return self.threshold

    def stats(self) -> dict[str, Any]:
        """:meth:`SemanticCache.stats` plus the evidence: reports and observed false hits.

        ``reports`` counts every observation this tenant's evidence holds (reports and
        verification verdicts, from every worker whose evidence was loaded here).

        Example:
            >>> from omnicache_ai.embedders import HashingEmbedder
            >>> AdaptiveSemanticCache(embedder=HashingEmbedder(), threshold=0.8).stats()["reports"]
            0
        """
        out = super().stats()
        ev = self._ev
        with ev.lock:
            counts = ev.counts()
            tracked = sum(1 for e in ev.entries.values() if e.others or e.mine or e.pending)
            unsaved = sum(ok + bad for ok, bad in ev.pending.values())
        total = sum(ok + bad for ok, bad in counts.values())
        wrong = sum(bad for _, bad in counts.values())
        out.update(
            reports=total,
            observed_false_hit_rate=wrong / total if total else 0.0,
            target_false_hit_rate=self.target,
            floor=self.floor,
            tracked_entries=tracked,
            unsaved_observations=unsaved,
        )
        return out
