"""Small bookkeeping records a layer keeps through its :class:`CacheManager`.

The adaptive semantic cache's evidence and the blocklist's patterns are read, merged and
written back; counters (:meth:`RecordStore.incr`) are atomic increments. A normal manager
read turns a backend failure into a miss, which would look like "no record yet" and let the
merge overwrite what is stored with local data only. So these records are read and written
through a *checked* view of the manager (``strict``), and the failure is then handled here
exactly as the manager would have: counted in its metrics, logged once per burst, and
swallowed unless the caller's manager is itself strict.

Records are written with the safe serializer whatever the manager's default is (a JSON
serializer cannot hold the bytes some records carry).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, Final

from omnicache_ai.core.cache_manager import CacheManager, _ErrorLog
from omnicache_ai.core.errors import CacheBackendError, IntegrityError, SerializationError
from omnicache_ai.core.serializer import SafeSerializer, Serializer

__all__ = ["RecordStore"]

_SAFE: Final = SafeSerializer()


def _checked(manager: CacheManager) -> CacheManager:
    """The same manager (tenant, backend, metrics), raising instead of serving a miss."""
    if manager.strict:
        return manager
    view = copy.copy(manager)
    view.strict = True
    return view


def _unreadable(err: BaseException) -> bool:
    return isinstance(err.__cause__, IntegrityError | SerializationError | UnicodeDecodeError)


class RecordStore:
    """Reads and writes records of one layer label, telling a failed read from a missing one.

    ``load`` returns ``None`` when the backend failed (the caller keeps its in-memory state)
    and ``{}``-like results for absent records; ``save`` returns whether the write happened.
    A record that cannot be decoded counts as absent (and is reported), so the next write
    replaces it.
    """

    def __init__(self, layer: str) -> None:
        self.layer = layer
        self._log = _ErrorLog()

    @staticmethod
    def _ser(manager: CacheManager) -> Serializer | None:
        return None if type(manager.serializer) is SafeSerializer else _SAFE

    def failed(self, manager: CacheManager, op: str, err: BaseException) -> None:
        """Count and log a failure like the manager does (re-raise for a strict manager)."""
        if manager.strict:
            raise err
        manager.metrics.record_error(manager._series(self.layer), f"{self.layer}.{op}")
        self._log.report(manager.backend_name, f"{self.layer}.{op}", err.__cause__ or err)

    def load(self, manager: CacheManager, keys: Sequence[str]) -> dict[str, Any] | None:
        """``{key: record}`` of the stored records, or ``None`` if the backend failed."""
        try:
            return _checked(manager).get_many(keys, layer=self.layer, serializer=self._ser(manager))
        except CacheBackendError as err:
            self.failed(manager, "decode" if _unreadable(err) else "load", err)
            return {} if _unreadable(err) else None

    async def aload(self, manager: CacheManager, keys: Sequence[str]) -> dict[str, Any] | None:
        """Async :meth:`load`."""
        try:
            return await _checked(manager).aget_many(
                keys, layer=self.layer, serializer=self._ser(manager)
            )
        except CacheBackendError as err:
            self.failed(manager, "decode" if _unreadable(err) else "load", err)
            return {} if _unreadable(err) else None

    def incr(self, manager: CacheManager, key: str, delta: int, op: str) -> int | None:
        """Atomically add ``delta`` to a never-expiring counter; ``None`` if the backend failed.

        ``op`` names the failure in metrics and logs (``"load"`` for a read with delta 0).
        """
        try:
            return _checked(manager).incr(key, delta, ttl=0, layer=self.layer)
        except CacheBackendError as err:
            self.failed(manager, op, err)
            return None

    async def aincr(self, manager: CacheManager, key: str, delta: int, op: str) -> int | None:
        """Async :meth:`incr`."""
        try:
            return await _checked(manager).aincr(key, delta, ttl=0, layer=self.layer)
        except CacheBackendError as err:
            self.failed(manager, op, err)
            return None

    def save(self, manager: CacheManager, items: Mapping[str, Any], ttl: float | None) -> bool:
        """Write ``items`` (``ttl`` 0 or ``None``: no expiry); whether it succeeded."""
        try:
            _checked(manager).set_many(
                items, ttl or 0, layer=self.layer, serializer=self._ser(manager)
            )
        except CacheBackendError as err:
            self.failed(manager, "save", err)
            return False
        return True

    async def asave(
        self, manager: CacheManager, items: Mapping[str, Any], ttl: float | None
    ) -> bool:
        """Async :meth:`save`."""
        try:
            await _checked(manager).aset_many(
                items, ttl or 0, layer=self.layer, serializer=self._ser(manager)
            )
        except CacheBackendError as err:
            self.failed(manager, "save", err)
            return False
        return True
