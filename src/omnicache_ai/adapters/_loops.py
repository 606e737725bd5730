"""Running an adapter's async code from a sync method, without touching the thread's loop.

Some frameworks keep the thread's default event loop open between sync calls on purpose
(``agents.Runner.run_sync`` does: loop-bound session helpers rely on it). ``asyncio.run`` would
replace that loop and leak the framework's, so sync adapter methods run their coroutine on a
private loop instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_apart"]

_T = TypeVar("_T")


def run_apart(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion on a private event loop, then close that loop.

    Raises:
        RuntimeError: Called from a running event loop (use the adapter's async method).

    Example:
        >>> async def answer() -> int:
        ...     return 42
        >>> run_apart(answer())
        42
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coro.close()
        raise RuntimeError(
            "a sync adapter method was called inside a running event loop; "
            "await its async twin instead"
        )
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()
