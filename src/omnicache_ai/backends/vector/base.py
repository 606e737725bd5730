"""The vector-store contract: what every vector backend must do, and the shared validation.

A vector backend stores unit vectors under string ids with a small flat metadata dict, and
answers "the ``k`` most similar vectors whose metadata matches this filter". Scores are cosine
similarities in ``[-1, 1]``: every backend L2-normalizes vectors on the way in, so a score means
the same thing whichever store produced it.

Metadata filters are exact matches on every given key, evaluated *inside* the store's query,
never as a post-filter over an unfiltered top-k (which can return nothing when ``k`` is small and
another partition crowds the neighbourhood). The semantic cache relies on this to keep tenants,
models and conversations apart.

Time-to-live stays with the caller, but one metadata key is special: ``expires_at`` (a number,
Unix seconds). ``search(..., now=t)`` skips entries whose ``expires_at`` is ``<= t``, so an
expired entry that has not been deleted yet never shadows a live one.

Example:
    >>> import numpy as np
    >>> from omnicache_ai.backends.vector import NumpyBackend, VectorBackend
    >>> store = NumpyBackend(dim=3)
    >>> isinstance(store, VectorBackend)
    True
    >>> vectors = np.array([[1, 0, 0], [0, 1, 0]])
    >>> store.add(["a", "b"], vectors, [{"tenant": "t1"}, {"tenant": "t2"}])
    >>> [(h.id, round(h.score, 3)) for h in store.search(np.array([1, 0.1, 0]), k=1)]
    [('a', 0.995)]
    >>> store.search(np.array([1, 0.1, 0]), k=1, filter={"tenant": "t2"})[0].id
    'b'
"""

from __future__ import annotations

import math
import operator
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = [
    "EXPIRES_AT",
    "NEVER_EXPIRES",
    "RESERVED_PREFIX",
    "BaseVectorBackend",
    "FilterValue",
    "MetadataValue",
    "VectorBackend",
    "VectorHit",
    "normalize_rows",
    "search_threads",
]

#: Values a metadata dict may hold. Keep one type per key: stores disagree on whether
#: ``True`` equals ``1``.
MetadataValue = str | int | float | bool
#: Values a filter may test for (exact match). Floats are left out on purpose: exact
#: equality on floats is a partitioning bug waiting to happen.
FilterValue = str | int | bool
#: The metadata key ``search(now=...)`` compares against (Unix seconds).
EXPIRES_AT = "expires_at"
#: Metadata keys with this prefix belong to the backends (bookkeeping stored beside the
#: user's metadata) and are rejected on input.
RESERVED_PREFIX = "_oc_"
#: Stored as the expiry of entries without one, in stores that cannot test for a missing
#: key (Chroma): far beyond any real timestamp, exactly representable as a float.
NEVER_EXPIRES = 2.0**53


@dataclass(frozen=True, slots=True)
class VectorHit:
    """One search result.

    Attributes:
        id: The id the vector was added under.
        score: Cosine similarity to the query, in ``[-1, 1]``; higher is closer.
        metadata: The metadata stored with the vector (a copy; empty when none was given).

    Example:
        >>> VectorHit("q1", 0.97, {"tenant": "acme"}).score
        0.97
    """

    id: str
    score: float
    metadata: dict[str, MetadataValue] = field(default_factory=dict)


@runtime_checkable
class VectorBackend(Protocol):
    """What a vector store must provide to back the semantic cache.

    Implementations are safe to call from several threads at once.

    Attributes:
        dim: Dimension of the vectors the store holds.

    Example:
        >>> from omnicache_ai.backends.vector import NumpyBackend
        >>> isinstance(NumpyBackend(dim=8), VectorBackend)
        True
    """

    dim: int

    def add(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        metadatas: Sequence[Mapping[str, MetadataValue] | None] | None = None,
    ) -> None:
        """Insert or replace (upsert) vectors; an existing id is overwritten whole."""
        ...

    def search(
        self,
        vector: npt.ArrayLike,
        k: int = 1,
        filter: Mapping[str, FilterValue] | None = None,
        *,
        now: float | None = None,
    ) -> list[VectorHit]:
        """The ``k`` most similar entries matching ``filter``, best first."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove entries; unknown ids are ignored."""
        ...

    def count(self) -> int:
        """How many entries the store holds."""
        ...

    def clear(self) -> None:
        """Remove every entry (the collection or index itself stays)."""
        ...

    def close(self) -> None:
        """Release files, connections and threads. Idempotent."""
        ...


def normalize_rows(vectors: npt.ArrayLike, dim: int) -> npt.NDArray[np.float32]:
    """Return ``vectors`` as a C-contiguous float32 ``(n, dim)`` array of unit rows.

    Args:
        vectors: One vector of shape ``(dim,)`` or a batch of shape ``(n, dim)``.
        dim: The dimension every row must have.

    Raises:
        ValueError: On a wrong shape, a non-finite value or a zero vector (which has no
            direction, so no cosine similarity).

    Example:
        >>> normalize_rows([3.0, 4.0], 2).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """
    arr = np.asarray(vectors, dtype=np.float32)  # no copy yet: the division below makes it
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"expected vectors of dimension {dim}, got shape {arr.shape}")
    # Two passes over a large batch instead of four: the squared norms (a NaN or inf in a
    # row reaches its sum), then one division into a new C-contiguous array.
    squares = np.einsum("ij,ij->i", arr, arr)
    if np.isfinite(squares).all():
        norms = np.sqrt(squares)
    elif not np.isfinite(arr).all():
        raise ValueError("vectors must be finite (found NaN or inf)")
    else:  # finite but huge: the float32 squares overflowed
        norms = np.linalg.norm(arr.astype(np.float64), axis=1).astype(np.float32)
    if arr.shape[0] and float(norms.min()) == 0.0:
        raise ValueError("cannot store or search a zero vector: it has no direction")
    out: npt.NDArray[np.float32] = np.divide(arr, norms[:, None], dtype=np.float32, order="C")
    return out


def _check_metadata(meta: Mapping[str, MetadataValue] | None) -> dict[str, MetadataValue]:
    if meta is None:
        return {}
    if not isinstance(meta, Mapping):
        raise TypeError(f"metadata must be a mapping, got {type(meta).__name__}")
    out: dict[str, MetadataValue] = {}
    for key, value in meta.items():
        kind = type(value)
        # The common case in one test: a plain str key (not reserved, not the expiry) with a
        # str or int value. Batches of 100k entries spend most of their checking time here.
        if (
            (kind is str or kind is int)
            and type(key) is str
            and key
            and key != EXPIRES_AT
            and not key.startswith(RESERVED_PREFIX)
        ):
            out[key] = value
            continue
        if not isinstance(key, str) or not key:
            raise TypeError(f"metadata keys must be non-empty strings, got {key!r}")
        if key.startswith(RESERVED_PREFIX):
            raise ValueError(f"metadata keys starting with {RESERVED_PREFIX!r} are reserved")
        if not isinstance(value, str | int | float):
            raise TypeError(
                f"metadata value for {key!r} must be str, int, float or bool, "
                f"got {type(value).__name__}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"metadata value for {key!r} must be finite")
        if key == EXPIRES_AT and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TypeError(f"{EXPIRES_AT!r} must be a number of Unix seconds")
        out[key] = value
    return out


def _check_metadatas(
    metadatas: Sequence[Mapping[str, MetadataValue] | None],
) -> list[dict[str, MetadataValue]]:
    """:func:`_check_metadata` of every item, column by column when the batch allows it.

    A bulk add (100k rows from ``SemanticCache.set_many``) usually carries dicts that all
    have the same keys: then the keys are checked once, and the values by type in C
    (``map``/``set``) rather than one Python branch per value. Anything else, or any value
    the fast path does not vouch for, goes through the per-item check, which also words the
    error.
    """
    if not metadatas:
        return []
    first = metadatas[0]
    if type(first) is not dict or not first:
        return [_check_metadata(m) for m in metadatas]
    keys = first.keys()
    if not all(type(m) is dict and m.keys() == keys for m in metadatas):
        return [_check_metadata(m) for m in metadatas]
    _check_metadata(first)  # the keys, once (every item has the same ones)
    dicts = cast("Sequence[dict[str, MetadataValue]]", metadatas)  # checked just above
    for key in keys:
        column = list(map(operator.itemgetter(key), dicts))
        types = set(map(type, column))
        if key != EXPIRES_AT and types <= {str, int}:
            continue
        if types <= {int, float}:  # numbers (bools excluded): finite ones pass
            try:
                if all(map(math.isfinite, column)):
                    continue
            except OverflowError:  # an int too large for a float: let the slow path judge
                pass
        return [_check_metadata(m) for m in metadatas]
    return list(map(dict, dicts))


def _check_filter(flt: Mapping[str, FilterValue] | None) -> dict[str, FilterValue]:
    if not flt:
        return {}
    out: dict[str, FilterValue] = {}
    for key, value in flt.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"filter keys must be non-empty strings, got {key!r}")
        if not isinstance(value, str | int):
            raise TypeError(
                f"filter value for {key!r} must be str, int or bool, got {type(value).__name__}"
            )
        out[key] = value
    return out


#: Environment variable read by :func:`search_threads` when no thread count is passed.
THREADS_ENV = "OMNICACHE_VECTOR_THREADS"


def search_threads(threads: int | None = None) -> int:
    """How many threads one single-query search may use (``0``: the libraries' default).

    A cache lookup is one query: splitting it over threads saves little, and on a busy
    machine the BLAS or OpenMP workers of every concurrent lookup compete for the same cores
    and spin while they wait for each other (a 0.7 ms search measured at 9-32 ms on two
    loaded cores). So the in-process stores search on the calling thread by default; raise
    it for a dedicated machine with idle cores and one lookup at a time.

    Args:
        threads: A count; ``None`` reads ``OMNICACHE_VECTOR_THREADS`` (default ``1``).

    Raises:
        ValueError: On a negative or non-integer count.

    Example:
        >>> search_threads(), search_threads(4)
        (1, 4)
    """
    if threads is None:
        raw = os.environ.get(THREADS_ENV, "").strip()
        if not raw:
            return 1
        try:
            threads = int(raw)
        except ValueError:
            raise ValueError(f"{THREADS_ENV} must be a whole number >= 0, got {raw!r}") from None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"threads must be a whole number >= 0, got {threads!r}")
    return threads


#: Payload key under which document stores keep the expiry (``NEVER_EXPIRES`` when none).
STORED_EXPIRY = RESERVED_PREFIX + "exp"


def to_stored_metadata(meta: Mapping[str, MetadataValue]) -> dict[str, MetadataValue]:
    """The metadata a document store keeps: the user's, plus an always-present expiry.

    Stores that cannot test whether a key is missing (Chroma) can then express "not expired
    at ``now``" as one range condition.

    Example:
        >>> to_stored_metadata({"expires_at": 10})
        {'expires_at': 10, '_oc_exp': 10.0}
    """
    out = dict(meta)
    expires = meta.get(EXPIRES_AT)
    out[STORED_EXPIRY] = NEVER_EXPIRES if expires is None else float(expires)
    return out


def from_stored_metadata(stored: Mapping[str, Any] | None) -> dict[str, MetadataValue]:
    """The user's metadata back from what a store returned (bookkeeping keys removed).

    Example:
        >>> from_stored_metadata({"tenant": "a", "_oc_exp": 1.0})
        {'tenant': 'a'}
    """
    if not stored:
        return {}
    return {k: v for k, v in stored.items() if not k.startswith(RESERVED_PREFIX)}


class BaseVectorBackend:
    """Shared input checks for the backends in this package (optional for third parties).

    It turns the loose arguments of :class:`VectorBackend` into validated, normalized
    batches, so each store only deals with its own storage.

    Attributes:
        dim: Dimension of the stored vectors.

    Example:
        >>> from omnicache_ai.backends.vector import NumpyBackend
        >>> issubclass(NumpyBackend, BaseVectorBackend)
        True
    """

    dim: int

    def __init__(self, dim: int) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        self.dim = dim

    def _prepare_add(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        metadatas: Sequence[Mapping[str, MetadataValue] | None] | None,
    ) -> tuple[list[str], npt.NDArray[np.float32], list[dict[str, MetadataValue]]]:
        """Validate an ``add`` call; duplicate ids in one batch keep the last occurrence."""
        id_list, arr, keep = self._prepare_rows(ids, vectors, metadatas)
        return id_list, arr, self._prepare_metas(metadatas, len(id_list), keep)

    def _prepare_rows(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        metadatas: Sequence[Mapping[str, MetadataValue] | None] | None,
    ) -> tuple[list[str], npt.NDArray[np.float32], list[int] | None]:
        """The ids and normalized rows of an ``add`` (last occurrence of a repeated id kept).

        Also checks the metadata count, not the metadata themselves (see
        :meth:`_prepare_metas`). Returns the kept positions too, ``None`` if all were kept.
        """
        if isinstance(ids, str):
            raise TypeError("ids must be a sequence of strings, not a single string")
        id_list = list(ids)
        if not (set(map(type, id_list)) <= {str} and all(id_list)):  # C loops; str subclasses
            for i in id_list:  # and the error message take this one
                if not isinstance(i, str) or not i:
                    raise TypeError(f"ids must be non-empty strings, got {i!r}")
        arr = normalize_rows(vectors, self.dim) if id_list else np.empty((0, self.dim), "f4")
        if arr.shape[0] != len(id_list):
            raise ValueError(f"{len(id_list)} ids but {arr.shape[0]} vectors")
        if metadatas is not None and len(metadatas) != len(id_list):
            raise ValueError(f"{len(id_list)} ids but {len(metadatas)} metadata entries")
        keep: list[int] | None = None
        if len(set(id_list)) != len(id_list):
            last = {i: pos for pos, i in enumerate(id_list)}
            keep = sorted(last.values())
            id_list = [id_list[p] for p in keep]
            arr = arr[keep]
        return id_list, arr, keep

    @staticmethod
    def _prepare_metas(
        metadatas: Sequence[Mapping[str, MetadataValue] | None] | None,
        n: int,
        keep: list[int] | None,
    ) -> list[dict[str, MetadataValue]]:
        """Checked copies of an ``add``'s metadata, for the ``n`` rows kept at ``keep``."""
        if metadatas is None:
            return [{} for _ in range(n)]
        metas = _check_metadatas(metadatas)
        return metas if keep is None else [metas[p] for p in keep]

    def _prepare_search(
        self, vector: npt.ArrayLike, k: int, flt: Mapping[str, FilterValue] | None
    ) -> tuple[npt.NDArray[np.float32], dict[str, FilterValue]]:
        """Validate a ``search`` call: one unit query vector, ``k >= 1``, a clean filter."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        q = normalize_rows(vector, self.dim)
        if q.shape[0] != 1:
            raise ValueError("search takes one query vector")
        return q[0], _check_filter(flt)

    @staticmethod
    def _prepare_ids(ids: Sequence[str]) -> list[str]:
        if isinstance(ids, str):
            raise TypeError("ids must be a sequence of strings, not a single string")
        return list(ids)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release resources (default: nothing to release)."""
