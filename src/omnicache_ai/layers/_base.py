"""What every cache layer shares: its manager, key builder, serializer and default TTL."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Self

from omnicache_ai.core.cache_manager import CacheManager, RequestConfig
from omnicache_ai.core.key_builder import CacheKeyBuilder
from omnicache_ai.core.serializer import Serializer
from omnicache_ai.layers._request import KeyMemo, RequestKeyer

__all__ = ["LayerBase", "check_id", "refreshing", "require_sync_result", "with_tags"]

_blake2b = hashlib.blake2b


def with_tags(own: str, tags: Iterable[str] | None) -> list[str]:
    """The layer's own tag followed by the caller's extra ``tags``."""
    out = [own]
    if tags is not None:
        if isinstance(tags, str):
            raise TypeError("tags must be an iterable of strings, not a single string")
        out.extend(tags)
    return out


def refreshing(config: RequestConfig | None) -> RequestConfig:
    """``config`` with ``refresh=True``: recompute and overwrite what is cached."""
    return dataclasses.replace(config or RequestConfig(), refresh=True)


def check_id(name: str, value: Any) -> str:
    """Return ``value`` if it is a non-empty string, else raise naming ``name``."""
    if type(value) is not str or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def require_sync_result(result: Any, fn_name: str, async_method: str) -> Any:
    """Refuse a coroutine handed to a sync method (it would be cached unawaited)."""
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if callable(close):
            close()
        raise TypeError(
            f"{fn_name} returned an awaitable; use `await ...{async_method}(...)` for async "
            "functions"
        )
    return result


class LayerBase:
    """Base of the cache layers: holds the manager and the per-layer settings.

    Args:
        manager: The :class:`CacheManager` every read and write goes through.
        serializer: Serializer for this layer's entries (default: the manager's).
        ttl: Default seconds to live for this layer's entries (default: the manager's TTL
            policy for the layer).
    """

    #: Layer label for metrics and the TTL policy.
    layer: ClassVar[str] = "default"
    #: Type segment of this layer's keys (``namespace:type:digest``).
    key_type: ClassVar[str] = "default"

    def __init__(
        self,
        manager: CacheManager,
        *,
        serializer: Serializer | None = None,
        ttl: float | None = None,
    ) -> None:
        if not isinstance(manager, CacheManager):
            raise TypeError(
                f"{type(self).__name__} needs a CacheManager as its first argument, got "
                f"{type(manager).__name__}"
            )
        if serializer is not None and not isinstance(serializer, Serializer):
            raise TypeError(
                f"serializer must follow the Serializer protocol (format_id, dumps, loads), got "
                f"{type(serializer).__name__}"
            )
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float)):
            raise TypeError(f"ttl must be a number of seconds or None, got {ttl!r}")
        if ttl is not None and ttl < 0:
            raise ValueError(f"ttl must be >= 0 (0 means no expiry), got {ttl}")
        self.manager = manager
        self.serializer = serializer
        self.ttl = ttl
        self._use_key_builder(manager.key_builder)

    def _use_key_builder(self, key_builder: CacheKeyBuilder) -> None:
        self._kb = key_builder
        self._kprefix = key_builder.prefix(self.key_type)
        self._memo = KeyMemo()  # keys depend on the builder: a new builder, a new memo
        # The stock digest of bytes is BLAKE2b, hashed inline on the hot path from a copy of
        # an empty hasher of the right size: a copy skips the constructor's keyword parsing
        # (a sixth of the hash). A builder subclass that hashes differently is called.
        stock = type(key_builder).digest is CacheKeyBuilder.digest
        self._hasher = _blake2b(digest_size=key_builder.digest_size) if stock else None

    def _key_of(self, data: bytes) -> str:
        """``key_builder.build(key_type, data)`` with the prefix computed once."""
        hasher = self._hasher
        if hasher is None:
            return self._kprefix + self._kb.digest(data)
        h = hasher.copy()
        h.update(data)
        return self._kprefix + h.hexdigest()

    @property
    def key_builder(self) -> CacheKeyBuilder:
        """The builder of this layer's keys (the manager's unless replaced)."""
        return self._kb

    def with_key_builder(self, key_builder: CacheKeyBuilder) -> Self:
        """A view of this layer that builds its keys with ``key_builder`` (e.g. a namespace).

        Example:
            >>> from omnicache_ai import CacheManager, CacheKeyBuilder
            >>> from omnicache_ai.layers.response_cache import ResponseCache
            >>> rc = ResponseCache(CacheManager()).with_key_builder(CacheKeyBuilder("team-a"))
            >>> rc.cache_key([{"role": "user", "content": "hi"}], model_id="m").split(":")[0]
            'team-a'
        """
        if not isinstance(key_builder, CacheKeyBuilder):
            raise TypeError(f"key_builder must be a CacheKeyBuilder, got {type(key_builder)}")
        view = copy.copy(self)
        view._use_key_builder(key_builder)
        return view

    def _ttl(self, ttl: float | None) -> float | None:
        return self.ttl if ttl is None else ttl

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.manager!r})"


class RequestLayer(LayerBase):
    """A layer keyed by LLM requests (model + messages + answer-changing params).

    Subclasses set ``self._keyer`` (a :class:`RequestKeyer` with their parameter tables).
    """

    _keyer: RequestKeyer

    def _request(
        self, messages: Any, model_id: str | None, params: Mapping[str, Any] | None
    ) -> tuple[str, str]:
        """``(key, model)`` of one request; a repeated request is keyed from the memo.

        Every request goes through here, hit or miss: the digest of ``_key_of`` is written
        out rather than called.
        """
        memo = self._memo
        # The memo has been missing: key afresh for a while (see KeyMemo). "> 0", not a
        # truth test: two threads may both count down the last one and leave it at -1.
        if memo.bypass > 0:
            memo.bypass -= 1
            token = None
        else:
            token = memo.token(model_id, messages, params)
            if token is not None:
                keyed = memo.get(token)
                if keyed is not None:
                    return keyed
        data, model = self._keyer.encode(messages, model_id, params)
        hasher = self._hasher
        if hasher is None:
            keyed = (self._kprefix + self._kb.digest(data), model)
        else:
            h = hasher.copy()
            h.update(data)
            keyed = (self._kprefix + h.hexdigest(), model)
        if token is not None:
            memo.put(token, keyed)
        return keyed
