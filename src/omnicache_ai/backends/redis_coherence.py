"""Keep the L1 tiers of many processes coherent through Redis pub/sub.

A :class:`~omnicache_ai.backends.tiered_backend.TieredBackend` serves reads from a
per-process L1 in front of a shared L2. When one process changes a key, the copies other
processes hold in their L1 are stale. :class:`RedisCoherence` is the tiered backend's
``coherence`` channel: every local ``set``, ``delete``, ``clear`` (and so every tag
invalidation that deletes or overwrites entries) is published on a Redis channel, and a
subscriber thread in every other process evicts those keys from its L1.

Staleness bound (what a reader in another process may still see after a writer's call
returned):

* **Connected:** until the message arrives and the subscriber thread evicts the key:
  Redis pub/sub delivery plus a thread switch, typically well under a millisecond on a
  LAN (measured in ``tests/redis/test_redis_coherence.py``).
* **Subscriber disconnected** (Redis restarted, network cut): messages sent meanwhile are
  lost, so on reconnecting the subscriber clears its whole L1 before listening again, and
  it keeps retrying every ``reconnect_delay`` seconds. While it is disconnected, L1 copies
  may be stale for at most the tiered backend's ``l1_ttl``.
* **Always:** no L1 copy outlives ``l1_ttl``.

Tag invalidation needs no message of its own: tag generations live in L2 (Redis), so every
process sees a bumped generation on its next read of a tagged entry.

Messages carry the publisher's id, so a process ignores its own (its L1 is already right).

Example:
    Two processes sharing one Redis, each with a 1000-entry L1::

        from omnicache_ai import CacheManager, InMemoryBackend, TieredBackend
        from omnicache_ai.backends.redis_backend import RedisBackend
        from omnicache_ai.backends.redis_coherence import RedisCoherence

        url = "redis://localhost:6379/0"
        backend = TieredBackend(
            l1=InMemoryBackend(max_size=1000),
            l2=RedisBackend(url, prefix="app:"),
            l1_ttl=300,
            coherence=RedisCoherence(url, channel="app:l1"),
        )
        manager = CacheManager(backend=backend)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final

try:
    import redis
    import redis.cluster
    from redis import exceptions as rex
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "RedisCoherence needs the 'redis' package; install it with: "
        "pip install 'omnicache-ai[redis]'"
    ) from err

__all__ = ["RedisCoherence"]

logger = logging.getLogger(__name__)

DEFAULT_CHANNEL: Final = "omnicache:coherence"
#: Keys per message: a huge set_many is split so no single message is unbounded.
_KEYS_PER_MESSAGE: Final = 1000


class RedisCoherence:
    """A :class:`~omnicache_ai.backends.tiered_backend.CoherenceChannel` on Redis pub/sub.

    Args:
        url: Redis URL (``redis://``, ``rediss://``); the same server as the L2.
        channel: Pub/sub channel; processes sharing a cache must use the same one, and
            unrelated caches on one Redis should use different ones.
        client: An existing ``redis.Redis`` / ``RedisCluster`` instead of ``url``.
        cluster: Connect to a Redis Cluster (pub/sub messages reach every node).
        socket_timeout: Timeout for ``PUBLISH`` calls, in seconds.
        reconnect_delay: Seconds between attempts to re-subscribe after a disconnection.
        **client_kwargs: Passed to redis-py.

    Attributes:
        node_id: This process's id in messages (messages with it are ignored).
        received: Messages from other processes applied so far.
        reconnects: Times the subscriber reconnected (and cleared the L1).

    Example:
        ``TieredBackend(l1, l2, coherence=RedisCoherence("redis://localhost:6379/0"))``
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        channel: str = DEFAULT_CHANNEL,
        client: Any = None,
        cluster: bool = False,
        socket_timeout: float = 0.25,
        reconnect_delay: float = 0.5,
        **client_kwargs: Any,
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError("pass exactly one of url= or client=")
        if not isinstance(channel, str) or not channel:
            raise ValueError(f"channel must be a non-empty str, got {channel!r}")
        if url is not None:
            factory = redis.cluster.RedisCluster if cluster else redis.Redis
            client = factory.from_url(
                url,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_timeout,
                **client_kwargs,
            )
            self._owns_client = True
        else:
            self._owns_client = False
        self._client = client
        self.channel = channel
        self.reconnect_delay = reconnect_delay
        self.node_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.received = 0
        self.reconnects = 0
        self.publish_errors = 0
        self._on_change: Callable[[Sequence[str]], None] | None = None
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None
        self._pubsub: Any = None
        self._last_error_log = float("-inf")  # the first failure is always logged

    # ---- publishing -------------------------------------------------------------------
    def publish(self, keys: Sequence[str]) -> None:
        """Tell other processes that ``keys`` changed (empty: everything changed).

        Never raises: if Redis is unreachable the L2 write failed too, or the other
        processes' subscribers are disconnected and will clear their L1 on reconnecting.
        """
        keys = list(keys)
        chunks = [keys[i : i + _KEYS_PER_MESSAGE] for i in range(0, len(keys), _KEYS_PER_MESSAGE)]
        for chunk in chunks or [[]]:
            message = json.dumps({"from": self.node_id, "keys": chunk})
            try:
                self._client.publish(self.channel, message)
            except (rex.RedisError, rex.RedisClusterException, OSError) as err:
                self.publish_errors += 1
                self._log_error("publish", err)
                return

    # ---- subscribing ------------------------------------------------------------------
    def subscribe(self, on_change: Callable[[Sequence[str]], None]) -> None:
        """Start the subscriber thread, calling ``on_change(keys)`` for remote changes.

        Returns once the subscription is active (or after ``socket_timeout`` if Redis is
        down, the thread then keeps trying in the background).
        """
        if self._thread is not None:
            raise RuntimeError("RedisCoherence.subscribe() may be called only once")
        self._on_change = on_change
        self._thread = threading.Thread(
            target=self._listen, name=f"omnicache-coherence-{self.channel}", daemon=True
        )
        self._thread.start()
        self._subscribed.wait(timeout=2.0)

    @property
    def connected(self) -> bool:
        """Whether the subscriber is currently subscribed."""
        return self._subscribed.is_set()

    def _listen(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(self.channel)
                if not first:
                    # Messages published while we were away are lost: forget every L1
                    # copy rather than risk serving one of them stale.
                    self.reconnects += 1
                    self._deliver([])
                first = False
                self._subscribed.set()
                while not self._stop.is_set():
                    message = self._pubsub.get_message(timeout=0.2)
                    if message is not None and message.get("type") == "message":
                        self._handle(message.get("data"))
            except (rex.RedisError, rex.RedisClusterException, OSError) as err:
                self._subscribed.clear()
                self._log_error("subscriber", err)
                first = False
                self._stop.wait(self.reconnect_delay)
            finally:
                self._close_pubsub()

    def _handle(self, data: Any) -> None:
        try:
            message = json.loads(data)
            origin, keys = message["from"], message["keys"]
        except (ValueError, TypeError, KeyError):
            logger.warning("omnicache: ignoring a malformed coherence message on %s", self.channel)
            return
        if origin == self.node_id or not isinstance(keys, list):
            return
        self.received += 1
        self._deliver([k for k in keys if isinstance(k, str)])

    def _deliver(self, keys: list[str]) -> None:
        if self._on_change is None:
            return
        try:
            self._on_change(keys)
        except Exception:  # the subscriber must survive a failing L1
            logger.exception("omnicache: evicting L1 copies failed")

    def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(rex.RedisError, OSError):
                pubsub.close()

    def _log_error(self, what: str, err: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_error_log >= 10.0:
            self._last_error_log = now
            logger.warning("omnicache: coherence %s on %s failed: %s", what, self.channel, err)

    def close(self) -> None:
        """Stop the subscriber thread and close the connections. Idempotent."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
        if self._owns_client:
            self._client.close()
            self._owns_client = False
