"""Disk backend on diskcache (SQLite + files): survives restarts, shared by processes.

Several processes may open the same directory and read, write, increment and invalidate at
once: diskcache serialises writers through SQLite transactions, and tag counters use its
atomic ``incr``.

Safety: diskcache pickles values it does not know and unpickles them on read, so anyone who
can write the cache directory could make every reader run code. This backend stores only
``bytes``, ``str``, ``int`` and ``float`` (the manager always hands it envelope bytes) and
refuses to unpickle anything it reads.

Privacy: cached prompts and answers are nobody else's business, so the directory is created
``0700`` and the SQLite index and value files ``0600``. An existing directory is checked
before use: if it is owned by another user, or writable by everyone (without the sticky
bit), another local user could read or plant entries. For the shared default path
(``<tmp>/omnicache``) that is refused with :class:`ConfigurationError` (and a default
directory of ours left readable by others, as older releases made it, is closed to 0700);
for a path you chose it is logged as a warning and its mode is left alone (you may share a
directory with a group on purpose).
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from omnicache_ai.backends.base import BaseBackend
from omnicache_ai.core.errors import ConfigurationError, IntegrityError

logger = logging.getLogger(__name__)

__all__ = ["DiskBackend"]

try:
    import diskcache
    from diskcache.core import MODE_PICKLE
except ImportError as err:  # pragma: no cover - diskcache is a core dependency
    raise ImportError(
        "DiskBackend needs diskcache; install it with: pip install omnicache-ai"
    ) from err

_PLAIN = (bytes, str, int, float)


class _NoPickleDisk(diskcache.Disk):  # type: ignore[misc]
    """A diskcache ``Disk`` that never pickles on write and never unpickles on read."""

    def store(self, value: Any, read: bool, key: Any = diskcache.core.UNKNOWN) -> Any:
        if not read and type(value) not in _PLAIN:
            raise TypeError(
                f"DiskBackend stores bytes, str, int or float, not {type(value).__name__}; "
                "use it through CacheManager, which serializes values safely"
            )
        return super().store(value, read, key)

    def _write(self, full_path: str, iterator: Any, mode: str, encoding: str | None = None) -> Any:
        size = super()._write(full_path, iterator, mode, encoding)
        # Large values become files of their own; keep them as private as the index.
        os.chmod(full_path, 0o600)
        return size

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode == MODE_PICKLE:
            raise IntegrityError("refusing to unpickle a value found in the disk cache")
        return super().fetch(mode, filename, value, read)


def shared_default_path() -> str:
    """``<tmp>/omnicache``: the machine-wide default, where other users may have been first."""
    return os.path.join(tempfile.gettempdir(), "omnicache")


def default_disk_path() -> str:
    """``$OMNICACHE_DISK_PATH`` or ``<tmp>/omnicache``."""
    return os.environ.get("OMNICACHE_DISK_PATH") or shared_default_path()


_UMASK_LOCK = threading.Lock()


def _unsafe(info: os.stat_result) -> str | None:
    """Why a directory with this ``stat`` would let other local users at the cache."""
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return f"it is owned by uid {info.st_uid}, not by this user (uid {os.geteuid()})"
    if info.st_mode & stat.S_IWOTH and not info.st_mode & stat.S_ISVTX:
        return "it is writable by every user"
    return None


def prepare_directory(path: str) -> None:
    """Create ``path`` private (0700), or check that an existing one is safe to use.

    Raises:
        ConfigurationError: ``path`` is the shared default ``<tmp>/omnicache`` and is owned
            by another user or world-writable; for any other path this is a warning.

    Example:
        >>> import tempfile, os, stat
        >>> d = os.path.join(tempfile.mkdtemp(), "cache")
        >>> prepare_directory(d)
        >>> oct(stat.S_IMODE(os.stat(d).st_mode))
        '0o700'
    """
    try:
        os.makedirs(path, mode=0o700)
        os.chmod(path, 0o700)  # makedirs' mode is filtered by the umask; be exact
        return
    except FileExistsError:
        pass
    info = os.stat(path)
    problem = _unsafe(info)
    shared = os.path.abspath(path) == os.path.abspath(shared_default_path())
    if problem is None:
        if shared and stat.S_IMODE(info.st_mode) & 0o077:
            # Ours, but readable by others (made by an older release, 0755): close it.
            os.chmod(path, 0o700)
        return
    message = (
        f"refusing to use the disk cache directory {path!r}: {problem}, so other local users "
        "could read cached prompts and answers or plant entries. Point OMNICACHE_DISK_PATH "
        "(or DiskBackend(path=...)) at a directory of your own, created with mode 0700."
    )
    if shared:
        raise ConfigurationError(message)
    logger.warning("omnicache: %s (using it anyway: the path was chosen explicitly)", message)


class DiskBackend(BaseBackend):
    """Persistent, process-safe key-value store in a directory.

    Args:
        path: Directory of the cache (created ``0700`` if missing; see the module notes for
            the checks on an existing one). Default ``$OMNICACHE_DISK_PATH`` or
            ``<tmp>/omnicache``.
        size_limit: Bytes on disk before diskcache culls least-recently-stored entries.
        timeout: Seconds to wait on SQLite locks before an operation fails (the manager
            then serves a miss).
        **settings: Other ``diskcache.Cache`` settings.

    Example:
        >>> import tempfile
        >>> b = DiskBackend(path=tempfile.mkdtemp())
        >>> b.set("k", b"v", ttl=60); b.get("k")
        b'v'
        >>> b.close()
    """

    blocking = True

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        size_limit: int = 2**30,
        timeout: float = 5.0,
        **settings: Any,
    ) -> None:
        self.path = os.fspath(path) if path is not None else default_disk_path()
        prepare_directory(self.path)
        # The umask is process-wide, so hold it only while diskcache creates its SQLite
        # files (cache.db and its journal) and serialise that with other DiskBackends.
        with _UMASK_LOCK:
            old = os.umask(0o077)
            try:
                self._cache = diskcache.Cache(
                    self.path, timeout=timeout, disk=_NoPickleDisk, size_limit=size_limit,
                    **settings,
                )  # fmt: skip
            finally:
                os.umask(old)

    @property
    def cache(self) -> diskcache.Cache:
        """The underlying ``diskcache.Cache``."""
        return self._cache

    def get(self, key: str) -> Any | None:
        """Return the value, or ``None`` when absent or expired."""
        return self._cache.get(key, default=None, retry=True)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` (bytes/str/int/float) with an optional TTL in seconds."""
        self._cache.set(key, value, expire=ttl, retry=True)

    def delete(self, key: str) -> bool:
        """Remove ``key``; returns whether it existed."""
        return bool(self._cache.delete(key, retry=True))

    def exists(self, key: str) -> bool:
        """Whether ``key`` is present and unexpired."""
        return self._cache.get(key, default=None, retry=True) is not None

    def clear(self) -> None:
        """Remove every entry in the directory."""
        self._cache.clear(retry=True)

    def close(self) -> None:
        """Close the SQLite connection of this thread (reopened on next use)."""
        self._cache.close()

    def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        """Values in order, ``None`` for misses."""
        get = self._cache.get
        return [get(k, default=None, retry=True) for k in keys]

    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        """Store several values in one SQLite transaction."""
        with self._cache.transact(retry=True):
            for k, v in items.items():
                self._cache.set(k, v, expire=ttl)

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove several keys in one transaction."""
        n = 0
        with self._cache.transact(retry=True):
            for k in keys:
                n += bool(self._cache.delete(k))
        return n

    def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Atomic across processes (SQLite transaction); ``ttl`` applies on creation."""
        if ttl is None:
            return int(self._cache.incr(key, delta, default=0, retry=True))
        # One transaction, so two processes creating the counter at once both count.
        with self._cache.transact(retry=True):
            if self._cache.get(key, default=None, retry=True) is None:
                self._cache.set(key, delta, expire=ttl, retry=True)
                return delta
            return int(self._cache.incr(key, delta, default=0, retry=True))

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Atomic set-if-absent across processes."""
        return bool(self._cache.add(key, value, expire=ttl, retry=True))

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix`` (a scan of the index)."""
        for key in self._cache.iterkeys():
            if isinstance(key, str) and key.startswith(prefix):
                yield key

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix``."""
        return self.delete_many(list(self.keys(prefix)))

    def stats(self) -> dict[str, Any]:
        """Entries and bytes on disk."""
        return {"entries": len(self._cache), "bytes": self._cache.volume(), "path": self.path}

    def expire(self) -> int:
        """Remove expired entries now (diskcache otherwise culls them lazily)."""
        return int(self._cache.expire(retry=True))
