"""What kind of callable a decorator was handed: plain, coroutine, generator or async generator."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Literal

__all__ = ["CallableKind", "callable_kind"]

CallableKind = Literal["sync", "async", "generator", "async_generator"]


def _unwrap(fn: Any) -> Any:
    while isinstance(fn, functools.partial):
        fn = fn.func
    if not inspect.isfunction(fn) and not inspect.ismethod(fn) and callable(fn):
        call = getattr(type(fn), "__call__", None)  # noqa: B004 - we want the class's __call__
        if call is not None and not inspect.isbuiltin(call):
            return call
    return fn


def callable_kind(fn: Callable[..., Any]) -> CallableKind:
    """Classify ``fn`` (functions, methods, partials and objects with ``__call__``).

    Example:
        >>> async def agen():
        ...     yield 1
        >>> callable_kind(len), callable_kind(agen)
        ('sync', 'async_generator')
    """
    if not callable(fn):
        raise TypeError(f"expected a callable, got {type(fn).__name__}")
    target = _unwrap(fn)
    if inspect.isasyncgenfunction(target):
        return "async_generator"
    if inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(fn):
        return "async"
    if inspect.isgeneratorfunction(target):
        return "generator"
    return "sync"
