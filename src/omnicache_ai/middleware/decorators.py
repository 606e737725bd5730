"""``@cached(manager)``: cache any function, coroutine function, generator or async generator.

The decorator looks at what it wraps and picks the matching wrapper itself:

* plain and coroutine functions go through the manager's stampede-safe ``get_or_set`` /
  ``aget_or_set``: concurrent callers with the same arguments share one computation;
* generators and async generators stream live on a miss while their items are buffered, and
  replay the items on a hit; only a generator that ran to its end is stored.

The key is the function's qualified name plus its arguments bound to its signature, with
defaults applied, so ``f(1)``, ``f(1, b=2)`` and ``f(a=1)`` share an entry when ``b``
defaults to 2. Exceptions are never cached; ``cache_if`` can refuse other results.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import aclosing
from typing import Any, TypeVar

from omnicache_ai.core.cache_manager import MISSING, CacheManager, RequestConfig
from omnicache_ai.core.errors import SerializationError
from omnicache_ai.layers._admit import Uncacheable
from omnicache_ai.layers._request import fast_canonical_bytes
from omnicache_ai.layers._stream import areplay, atee, check_delay, replay, tee
from omnicache_ai.middleware._callables import callable_kind

__all__ = ["cached"]

F = TypeVar("F", bound=Callable[..., Any])

_GEN_TAG = "gen"


def _unpartial(fn: Any) -> tuple[Any, list[Any]]:
    """The function under any ``functools.partial`` layers, and their positional args."""
    bound: list[Any] = []
    while isinstance(fn, functools.partial):
        bound = [*fn.args, *bound]
        fn = fn.func
    return fn, bound


def _qualified(fn: Any) -> str:
    target = fn if hasattr(fn, "__qualname__") else type(fn)
    return f"{target.__module__}.{target.__qualname__}"


class _Keying:
    """Builds the key of one call: qualified name + canonical bound arguments."""

    def __init__(
        self,
        manager: CacheManager,
        fn: Callable[..., Any],
        name: str | None,
        key: Callable[..., Any] | None,
        ignore: frozenset[str],
    ) -> None:
        self.manager = manager
        base, self.bound = _unpartial(fn)
        self.name = name or _qualified(base)
        self.key_fn = key
        self.ignore = ignore
        try:
            self.signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):  # some builtins have no introspectable signature
            self.signature = None
        if self.signature is not None:
            unknown = ignore - set(self.signature.parameters)
            if unknown:
                raise ValueError(
                    f"ignore names parameters {sorted(unknown)} that {self.name} does not have"
                )

    def payload(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.key_fn is not None:
            return self.key_fn(*args, **kwargs)
        if self.signature is None:
            arguments: Any = [list(args), kwargs]
        else:
            call = self.signature.bind(*args, **kwargs)
            call.apply_defaults()
            arguments = {k: v for k, v in call.arguments.items() if k not in self.ignore}
        # A partial's positional arguments are gone from its signature: key them apart.
        return [self.bound, arguments] if self.bound else arguments

    def key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        payload = self.payload(args, kwargs)
        try:
            data = fast_canonical_bytes([self.name, payload])
        except SerializationError as err:
            raise TypeError(
                f"cannot build a cache key for a call to {self.name}: {err}. Exclude the "
                "argument with ignore=('name',) or pass key=lambda *a, **kw: ..."
            ) from err
        return self.manager.key_builder.build("fn", data)

    @property
    def tag(self) -> str:
        return f"fn:{self.name}"


def cached(
    manager: CacheManager,
    *,
    ttl: float | None = None,
    tags: Iterable[str] | None = None,
    layer: str = "function",
    key: Callable[..., Any] | None = None,
    ignore: Iterable[str] = (),
    name: str | None = None,
    cache_if: Callable[[Any], bool] | None = None,
    config: RequestConfig | None = None,
    replay_delay: float = 0.0,
) -> Callable[[F], F]:
    """Cache a function's results (or a generator's items) through ``manager``.

    Args:
        manager: The :class:`CacheManager` to store through.
        ttl: Seconds to live (default: the manager's TTL policy for ``layer``).
        tags: Extra tags (every entry also carries ``fn:<qualified name>``).
        layer: Metrics and TTL-policy label.
        key: ``key(*args, **kwargs)`` returning what identifies a call (default: the bound
            arguments).
        ignore: Parameter names left out of the key (``self``, a client, a logger).
        name: Name used in keys instead of ``module.qualname`` (keeps keys stable across
            renames).
        cache_if: ``predicate(result) -> bool``; results it rejects are returned, not stored
            (for generators it receives the list of items).
        config: Per-call overrides applied to every call.
        replay_delay: Seconds between replayed generator items.

    The wrapper gains ``cache_key(*args, **kwargs)``, ``invalidate_all()`` and
    ``ainvalidate_all()``.

    Example:
        >>> from omnicache_ai import CacheManager
        >>> manager, calls = CacheManager(), []
        >>> @cached(manager, ttl=60)
        ... def add(a, b=2):
        ...     calls.append((a, b))
        ...     return a + b
        >>> add(1), add(1, b=2), add(a=1), len(calls)
        (3, 3, 3, 1)
        >>> @cached(manager)
        ... def count_up(n):
        ...     yield from range(n)
        >>> list(count_up(3)), list(count_up(3))
        ([0, 1, 2], [0, 1, 2])
    """
    if not isinstance(manager, CacheManager):
        raise TypeError(f"cached() needs a CacheManager, got {type(manager).__name__}")
    if cache_if is not None and not callable(cache_if):
        raise TypeError("cache_if must be a callable result -> bool")
    if isinstance(ignore, str):
        raise TypeError("ignore must be an iterable of parameter names, not a single string")
    if isinstance(tags, str):
        raise TypeError("tags must be an iterable of strings, not a single string")
    policy = _Policy(
        manager,
        ttl=ttl,
        tags=list(tags or ()),
        layer=layer,
        config=config,
        cache_if=cache_if,
        replay_delay=check_delay(replay_delay),
    )
    ignored = frozenset(ignore)

    def decorate(fn: F) -> F:
        keying = _Keying(manager, fn, name, key, ignored)
        wrap = {
            "sync": policy.wrap_function,
            "async": policy.wrap_coroutine_function,
            "generator": policy.wrap_generator,
            "async_generator": policy.wrap_async_generator,
        }[callable_kind(fn)]
        wrapper = functools.wraps(fn)(wrap(fn, keying))
        setattr(wrapper, "cache_key", lambda *a, **kw: keying.key(a, kw))  # noqa: B010
        setattr(wrapper, "invalidate_all", lambda: manager.invalidate(keying.tag))  # noqa: B010
        setattr(wrapper, "ainvalidate_all", lambda: manager.ainvalidate(keying.tag))  # noqa: B010
        return wrapper  # type: ignore[return-value]

    return decorate


class _Policy:
    """One ``@cached(...)`` configuration; builds the wrapper matching each callable kind."""

    def __init__(
        self,
        manager: CacheManager,
        *,
        ttl: float | None,
        tags: list[str],
        layer: str,
        config: RequestConfig | None,
        cache_if: Callable[[Any], bool] | None,
        replay_delay: float,
    ) -> None:
        self.manager = manager
        self.ttl = ttl
        self.tags = tags
        self.layer = layer
        self.config = config
        self.cache_if = cache_if
        self.replay_delay = replay_delay

    def _opts(self, keying: _Keying) -> dict[str, Any]:
        return {"tags": [keying.tag, *self.tags], "layer": self.layer, "config": self.config}

    def _admit(self, value: Any) -> Any:
        if self.cache_if is not None and not self.cache_if(value):
            raise Uncacheable(value, "refused by cache_if")
        return value

    def wrap_function(self, fn: Callable[..., Any], keying: _Keying) -> Callable[..., Any]:
        manager, ttl, opts = self.manager, self.ttl, self._opts(keying)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return manager.get_or_set(
                    keying.key(args, kwargs), lambda: self._admit(fn(*args, **kwargs)), ttl, **opts
                )
            except Uncacheable as skipped:
                return skipped.value

        return wrapper

    def wrap_coroutine_function(
        self, fn: Callable[..., Any], keying: _Keying
    ) -> Callable[..., Any]:
        manager, ttl, opts = self.manager, self.ttl, self._opts(keying)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            async def produce() -> Any:
                return self._admit(await fn(*args, **kwargs))

            try:
                return await manager.aget_or_set(keying.key(args, kwargs), produce, ttl, **opts)
            except Uncacheable as skipped:
                return skipped.value

        return wrapper

    def wrap_generator(self, fn: Callable[..., Any], keying: _Keying) -> Callable[..., Any]:
        manager, opts = self.manager, self._opts(keying)

        def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            cache_key = keying.key(args, kwargs)

            def store(items: list[Any]) -> None:
                if self.cache_if is None or self.cache_if(items):
                    manager.set(cache_key, [_GEN_TAG, items], self.ttl, **opts)

            def flow() -> Iterator[Any]:
                raw = manager.get(cache_key, MISSING, layer=self.layer, config=self.config)
                hit = _items(raw)
                if hit is not None:
                    yield from replay(hit, self.replay_delay)
                else:
                    yield from tee(fn(*args, **kwargs), store)

            return flow()

        return wrapper

    def wrap_async_generator(self, fn: Callable[..., Any], keying: _Keying) -> Callable[..., Any]:
        manager, opts = self.manager, self._opts(keying)

        def wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            cache_key = keying.key(args, kwargs)

            async def store(items: list[Any]) -> None:
                if self.cache_if is None or self.cache_if(items):
                    await manager.aset(cache_key, [_GEN_TAG, items], self.ttl, **opts)

            async def flow() -> AsyncIterator[Any]:
                raw = await manager.aget(cache_key, MISSING, layer=self.layer, config=self.config)
                hit = _items(raw)
                source = (
                    areplay(hit, self.replay_delay)
                    if hit is not None
                    else atee(fn(*args, **kwargs), store)
                )
                async with aclosing(source) as items:
                    async for item in items:
                        yield item

            return flow()

        return wrapper


def _items(raw: Any) -> list[Any] | None:
    if type(raw) is list and len(raw) == 2 and raw[0] == _GEN_TAG and type(raw[1]) is list:
        items: list[Any] = raw[1]
        return items
    return None
