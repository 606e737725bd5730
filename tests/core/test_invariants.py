"""Core invariants pinned by direct unit tests: tag invalidation per tenant and per tag, and
the stampede shield's cross-process lock provider."""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field

from omnicache_ai import CacheManager, InMemoryBackend, StampedeShield
from omnicache_ai.core.stampede import LockLease, LockProvider


def test_invalidate_is_scoped_to_the_tenant() -> None:
    """Tenant A invalidating a tag leaves tenant B's (and the root's) same-tag entries alone."""
    root = CacheManager(backend=InMemoryBackend())
    a, b = root.for_tenant("a"), root.for_tenant("b")
    for m, value in ((a, "for a"), (b, "for b"), (root, "for root")):
        m.set("k", value, tags=["docs"])
    a.invalidate("docs")
    assert a.get("k") is None
    assert b.get("k") == "for b"
    assert root.get("k") == "for root"
    b.invalidate("docs")
    assert b.get("k") is None
    assert root.get("k") == "for root"


def test_invalidating_the_second_tag_alone_retires_the_entry() -> None:
    """An entry tagged [a, b] is retired by invalidating b only; an [a]-only entry survives."""
    manager = CacheManager(backend=InMemoryBackend())
    manager.set("both", 1, tags=["a", "b"])
    manager.set("only-a", 2, tags=["a"])
    manager.set("only-b", 3, tags=["b"])
    manager.invalidate("b")
    assert manager.get("both") is None
    assert not manager.exists("both")
    assert manager.get("only-a") == 2
    assert manager.get("only-b") is None
    manager.set("both", 4, tags=["a", "b"])  # a fresh write after the bump is valid again
    assert manager.get("both") == 4


@dataclass
class _Lease:
    provider: _FakeLocks
    name: str
    token: int
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.provider.events.append(("release", self.name, self.token))
            self.provider.locks[self.name].release()

    async def arelease(self) -> None:
        self.release()


@dataclass
class _FakeLocks:
    """An in-process LockProvider: one real lock per name, standing in for Redis."""

    locks: dict[str, threading.Lock] = field(default_factory=dict)
    events: list[tuple[str, str, int]] = field(default_factory=list)
    contended: threading.Event = field(default_factory=threading.Event)
    acquired: threading.Event = field(default_factory=threading.Event)
    _tokens: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, name: str, *, lease: float, timeout: float) -> LockLease | None:
        with self._guard:
            lock = self.locks.setdefault(name, threading.Lock())
        if not lock.acquire(blocking=False):
            self.contended.set()  # a second "process" is now waiting on this name
            if not lock.acquire(timeout=timeout):
                return None
        token = next(self._tokens)
        self.events.append(("acquire", name, token))
        self.acquired.set()
        return _Lease(self, name, token)

    async def aacquire(self, name: str, *, lease: float, timeout: float) -> LockLease | None:
        return await asyncio.to_thread(self.acquire, name, lease=lease, timeout=timeout)


def test_fake_lock_provider_follows_the_protocol() -> None:
    """The fake used below satisfies the runtime-checkable LockProvider protocol."""
    assert isinstance(_FakeLocks(), LockProvider)


def test_lock_provider_makes_two_shields_compute_once() -> None:
    """Two managers with separate shields (two "processes") sharing a lock provider compute
    a missing key once: the second leader waits on the lock, then reads the first's value."""
    backend = InMemoryBackend()
    locks = _FakeLocks()
    one = CacheManager(backend=backend, stampede=StampedeShield(lock_provider=locks, timeout=30))
    two = CacheManager(backend=backend, stampede=StampedeShield(lock_provider=locks, timeout=30))
    calls: list[str] = []

    def slow() -> str:
        calls.append("one")
        assert locks.contended.wait(10), "the second manager never asked for the lock"
        return "value"

    def must_not_run() -> str:
        calls.append("two")
        return "recomputed"

    first = threading.Thread(target=lambda: results.append(one.get_or_set("hot", slow)))
    results: list[str] = []
    first.start()
    assert locks.acquired.wait(30), "the first leader never took the distributed lock"
    results.append(two.get_or_set("hot", must_not_run))
    first.join(30)
    assert calls == ["one"]
    assert results == ["value", "value"]
    acquired = [e for e in locks.events if e[0] == "acquire"]
    released = [e for e in locks.events if e[0] == "release"]
    assert [e[1] for e in acquired] == [one.storage_key("hot")] * 2  # its namespace scope
    assert [e[2] for e in acquired] == [1, 2]  # fencing tokens increase
    assert len(released) == 2


def test_without_lock_provider_two_shields_compute_twice() -> None:
    """Control: without a provider, two shields do not exclude each other."""
    backend = InMemoryBackend()
    one, two = CacheManager(backend=backend), CacheManager(backend=backend)
    entered = threading.Event()
    release = threading.Event()
    calls: list[str] = []

    def slow() -> str:
        calls.append("one")
        entered.set()
        assert release.wait(30)
        return "value"

    first = threading.Thread(target=one.get_or_set, args=("hot", slow))
    first.start()
    assert entered.wait(30)
    assert two.get_or_set("hot", lambda: calls.append("two") or "other") == "other"
    release.set()
    first.join(30)
    assert calls == ["one", "two"]


async def test_async_leader_takes_the_lock_from_the_provider() -> None:
    """aget_or_set takes and releases the provider's lock around the computation."""
    locks = _FakeLocks()
    manager = CacheManager(backend=InMemoryBackend(), stampede=StampedeShield(lock_provider=locks))
    seen: list[int] = []

    async def compute() -> str:
        seen.append(len(locks.events))  # the lock is held while computing
        return "v"

    assert await manager.aget_or_set("k", compute) == "v"
    assert seen == [1]
    assert [e[0] for e in locks.events] == ["acquire", "release"]
    assert await manager.aget_or_set("k", compute) == "v"  # a hit takes no lock
    assert len(locks.events) == 2
