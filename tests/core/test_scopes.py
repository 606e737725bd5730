"""A manager's scope is its namespace (and tenant): keys(), clear() and flush touch nothing else.

Run on every local backend (memory, async memory, disk, tiered memory+disk without
coherence); the Redis twins live in tests/redis/test_redis_scopes.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from omnicache_ai import CacheKeyBuilder, CacheManager, DiskBackend, InMemoryBackend
from omnicache_ai.backends.async_memory_backend import AsyncInMemoryBackend
from omnicache_ai.backends.disk_backend import prepare_directory
from omnicache_ai.backends.tiered_backend import TieredBackend
from omnicache_ai.core.errors import ConfigurationError
from omnicache_ai.core.invalidation import LOST, InvalidationEngine, count_key
from omnicache_ai.core.key_builder import escape_segment
from omnicache_ai.observability.shared_stats import stats_prefix

FOREIGN = {"app:foreign": b"theirs", "app:b:x": b"theirs too", "other": b"not ours"}


def _memory(_: Path) -> Any:
    return InMemoryBackend()


def _async_memory(_: Path) -> Any:
    return AsyncInMemoryBackend()


def _disk(tmp: Path) -> Any:
    return DiskBackend(tmp / "shared")


def _tiered(tmp: Path) -> Any:
    return TieredBackend(l1=InMemoryBackend(), l2=DiskBackend(tmp / "l2"), l1_ttl=60)


BACKENDS: dict[str, Callable[[Path], Any]] = {
    "memory": _memory,
    "async-memory": _async_memory,
    "disk": _disk,
    "tiered": _tiered,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """One shared store per test, as two applications on one machine would have."""
    b = BACKENDS[request.param](tmp_path)
    yield b
    close = getattr(b, "close", None)
    if close is not None:
        result = close()
        if asyncio.iscoroutine(result):
            asyncio.run(result)


def _raw_set(backend: Any, key: str, value: bytes) -> None:
    result = backend.set(key, value)
    if asyncio.iscoroutine(result):
        asyncio.run(result)


def _raw_get(backend: Any, key: str) -> Any:
    result = backend.get(key)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


def _fill(m: CacheManager) -> list[str]:
    """Direct keys, a layer key, a tagged entry and a tenant entry; returns the root keys."""
    assert m.scope == escape_segment(m.key_builder.namespace) + "::"
    layer_key = m.key_builder.build("response", {"q": "hi"})
    m.set("k", "v-" + m.key_builder.namespace)
    m.set(layer_key, "answer")
    m.set("tagged", "t", tags=["user:bob"])
    m.for_tenant("acme").set("k", "tenant")
    return sorted(["k", layer_key, "tagged"])


def test_two_namespaces_and_foreign_keys_share_one_backend(backend: Any) -> None:
    """keys()/clear() of namespace 'app' never see or remove 'app:b' or foreign keys."""
    app = CacheManager(backend=backend, key_builder=CacheKeyBuilder("app"))
    app_b = CacheManager(backend=backend, key_builder=CacheKeyBuilder("app:b"))
    for k, v in FOREIGN.items():
        _raw_set(backend, k, v)
    app_keys = _fill(app)
    b_keys = _fill(app_b)
    assert app.get("k") == "v-app"
    assert app_b.get("k") == "v-app:b"  # same caller key, two namespaces, two entries
    assert sorted(app.keys()) == app_keys
    assert sorted(app_b.keys()) == b_keys

    app.clear()

    assert app.keys() == []
    assert app.get("k") is None
    assert app.get("tagged") is None
    assert app.for_tenant("acme").get("k") is None  # the namespace's tenants go with it
    assert sorted(app_b.keys()) == b_keys
    assert app_b.get("tagged") == "t"
    assert app_b.for_tenant("acme").get("k") == "tenant"
    for k, v in FOREIGN.items():
        assert _raw_get(backend, k) == v


def test_tenant_clear_and_keys_stay_in_the_tenant(backend: Any) -> None:
    """A tenant view lists and clears its own entries only: not the root's, not a peer's."""
    root = CacheManager(backend=backend, key_builder=CacheKeyBuilder("app"))
    a, b = root.for_tenant("a"), root.for_tenant("b")
    root.set("k", "root")
    a.set("k", "a", tags=["x"])
    b.set("k", "b", tags=["x"])
    assert a.keys() == ["k"]
    assert root.keys() == ["k"]
    a.clear()
    assert a.get("k") is None
    assert (root.get("k"), b.get("k")) == ("root", "b")
    assert b.keys() == ["k"]


def test_async_scope_operations(tmp_path: Path) -> None:
    """akeys/aclear follow the same scope rules as keys/clear."""

    async def main() -> None:
        backend = AsyncInMemoryBackend()
        app = CacheManager(backend=backend, key_builder=CacheKeyBuilder("app"))
        app_b = CacheManager(backend=backend, key_builder=CacheKeyBuilder("app:b"))
        await backend.set("app:foreign", b"x")
        await app.aset("k", 1)
        await app_b.aset("k", 2)
        assert await app.akeys() == ["k"]
        await app.aclear()
        assert await app.aget("k") is None
        assert await app_b.aget("k") == 2
        assert await backend.get("app:foreign") == b"x"

    asyncio.run(main())


def test_root_keys_cannot_reach_into_a_tenant_or_the_counters() -> None:
    """Caller keys starting with '@' or '__omnicache__' are refused in every scope."""
    m = CacheManager(key_builder=CacheKeyBuilder("app"))
    for view in (m, m.for_tenant("t")):
        for bad in ("@t:k", "__omnicache__:tag:x"):
            with pytest.raises(ValueError, match="reserved"):
                view.set(bad, 1)


def test_clear_on_a_backend_that_cannot_list_says_so() -> None:
    """A backend without keys()/delete_prefix cannot clear one scope: a clear error, no wipe."""

    class Bare:
        def __init__(self) -> None:
            self.data: dict[str, Any] = {}
            self.wiped = False

        def get(self, key: str) -> Any:
            return self.data.get(key)

        def set(self, key: str, value: Any, ttl: float | None = None) -> None:
            self.data[key] = value

        def delete(self, key: str) -> bool:
            return self.data.pop(key, None) is not None

        def exists(self, key: str) -> bool:
            return key in self.data

        def clear(self) -> None:
            self.wiped = True

        def close(self) -> None:
            pass

    bare = Bare()
    m = CacheManager(backend=bare)
    m.set("k", 1)
    with pytest.raises(NotImplementedError, match="cannot list"):
        m.clear()
    assert not bare.wiped


# ---- tag counters: an injective key space, and generations that never come back -------------

# A small alphabet heavy in separators, so that near-collisions (a tag that is another tag
# plus ":n", a namespace holding ':' or '@') come up often.
_ALPHABET = "ab:n@%_"
_scopes = st.builds(
    lambda ns, tenant: f"{escape_segment(ns)}::" + (f"@{tenant}:" if tenant else ""),
    st.text(_ALPHABET, min_size=1, max_size=6),
    st.one_of(st.none(), st.from_regex(r"[ab_.\-]{1,4}", fullmatch=True)),
)
_tags = st.text(_ALPHABET + "tgc", min_size=1, max_size=10)


@settings(max_examples=300, deadline=None)
@example(s1="app::", t1="user:bob:n", s2="app::", t2="user:bob")
@example(s1="app::", t1="a", s2="app%3Ab::", t2="a")
@given(s1=_scopes, t1=_tags, s2=_scopes, t2=_tags)
def test_internal_tag_keys_are_injective(s1: str, t1: str, s2: str, t2: str) -> None:
    """Distinct (scope, tag) pairs never share a counter or write-count key, nor mix kinds."""
    k1, k2 = InvalidationEngine.tag_key(s1, t1), InvalidationEngine.tag_key(s2, t2)
    same = (s1, t1) == (s2, t2)
    assert (k1 == k2) is same
    assert (count_key(k1) == count_key(k2)) is same
    assert k1 != count_key(k2)


def test_tag_write_counts_do_not_touch_another_tags_generation() -> None:
    """Writing under 'user:bob' leaves 'user:bob:n' entries valid; no invalidation revives."""
    m = CacheManager(key_builder=CacheKeyBuilder("app"))
    m.set("n-entry", "n", tags=["user:bob:n"])
    m.set("bob-entry", "b", tags=["user:bob"])
    m.set("bob-entry-2", "b2", tags=["user:bob"])
    assert m.get("n-entry") == "n"
    m.invalidate("user:bob:n")
    assert m.get("n-entry") is None
    assert m.invalidate("user:bob") == 2
    assert m.get("n-entry") is None
    assert m.get("bob-entry") is None


def test_lost_counters_never_revive_an_invalidated_entry() -> None:
    """Counters wiped from L2 (a restart) make every L1 copy that recorded them stale."""
    l2 = InMemoryBackend()
    reader = CacheManager(backend=TieredBackend(l1=InMemoryBackend(), l2=l2, l1_ttl=60))
    writer = CacheManager(backend=TieredBackend(l1=InMemoryBackend(), l2=l2, l1_ttl=60))
    writer.set("k", "old", tags=["docs"])
    assert reader.get("k") == "old"  # now in the reader's L1
    writer.invalidate("docs")
    l2.clear()  # the shared tier restarts empty: entries and counters are gone
    assert reader.get("k") is None
    gens = reader.invalidation.generations(reader._tag_keys(["docs"]))
    assert gens == [LOST]
    writer.set("k", "new", tags=["docs"])
    assert reader.get("k") == "new"


def test_counters_start_at_a_random_origin() -> None:
    """A new tag counter starts far from 0, so a recreated one matches no old entry."""
    m = CacheManager()
    m.set("k", 1, tags=["t"])
    (gen,) = m.invalidation.generations(m._tag_keys(["t"]))
    assert gen >= 1 << 40


# ---- the disk directory is private ------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_disk_directory_and_files_are_private(tmp_path: Path) -> None:
    """The directory is created 0700, the SQLite index and large value files 0600."""
    path = tmp_path / "cache"
    backend = DiskBackend(path)
    m = CacheManager(backend=backend)
    m.set("big", "x" * 200_000)  # large enough for diskcache to write a file of its own
    m.set("small", "y")
    assert _mode(path) == 0o700
    files = [p for p in path.rglob("*") if p.is_file()]
    assert any(p.name == "cache.db" for p in files)
    assert any(p.suffix == ".val" for p in files)
    assert {oct(_mode(p)) for p in files} == {oct(0o600)}
    backend.close()


def test_unsafe_shared_default_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A world-writable <tmp>/omnicache (anyone could plant entries) is a configuration error."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.delenv("OMNICACHE_DISK_PATH", raising=False)
    shared = tmp_path / "omnicache"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(ConfigurationError, match="writable by every user"):
        DiskBackend()


def test_own_readable_default_directory_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0755 <tmp>/omnicache of ours (an older release's) is narrowed to 0700 on use."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.delenv("OMNICACHE_DISK_PATH", raising=False)
    shared = tmp_path / "omnicache"
    shared.mkdir()
    shared.chmod(0o755)
    DiskBackend().close()
    assert _mode(shared) == 0o700


def test_unsafe_explicit_directory_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An explicitly chosen world-writable directory is used, with a warning naming it."""
    path = tmp_path / "mine"
    path.mkdir()
    path.chmod(0o777)
    with caplog.at_level(logging.WARNING):
        prepare_directory(str(path))
    assert "writable by every user" in caplog.text
    assert str(path) in caplog.text


# ---- omnicache flush --------------------------------------------------------------------------


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omnicache_ai", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
    )


def test_flush_removes_exactly_the_configured_namespace(tmp_path: Path) -> None:
    """flush with namespace app leaves app:b and foreign keys, and names what it removes."""
    path = tmp_path / "cache"
    backend = DiskBackend(path)
    app = CacheManager(backend=backend, key_builder=CacheKeyBuilder("app"))
    app_b = CacheManager(backend=backend, key_builder=CacheKeyBuilder("app:b"))
    app.set("k", 1)
    app.for_tenant("t").set("k", 2)
    app_b.set("k", 3)
    backend.set("app:foreign", b"theirs")
    backend.set(stats_prefix(app) + "slots", 1)
    backend.set(stats_prefix(app_b) + "slots", 1)
    backend.close()
    env = {"OMNICACHE_BACKEND": "disk", "OMNICACHE_DISK_PATH": str(path),
           "OMNICACHE_NAMESPACE": "app"}  # fmt: skip

    refused = _cli(["flush", "--tenant", "t"], env)
    assert refused.returncode == 2
    assert "namespace 'app'" in refused.stdout
    assert "tenant 't'" in refused.stdout
    assert "DiskBackend" in refused.stdout

    assert _cli(["flush", "--yes"], env).returncode == 0
    after = DiskBackend(path)
    gone = CacheManager(backend=after, key_builder=CacheKeyBuilder("app"))
    assert gone.get("k") is None
    assert gone.for_tenant("t").get("k") is None
    assert CacheManager(backend=after, key_builder=CacheKeyBuilder("app:b")).get("k") == 3
    assert after.get("app:foreign") == b"theirs"
    assert after.get(stats_prefix(app) + "slots") is None  # a full flush resets its stats
    assert after.get(stats_prefix(app_b) + "slots") == 1
    after.close()


# ---- the Redis lock lives beside the Redis backend --------------------------------------------


def test_redis_lock_import_is_one_way() -> None:
    """backends.redis_lock loads without redis_backend; core.redis_lock is a lazy re-export."""
    code = (
        "import sys\n"
        "import omnicache_ai.core.redis_lock as old\n"
        "assert 'omnicache_ai.backends.redis_lock' not in sys.modules\n"
        "import omnicache_ai.backends.redis_lock as new\n"
        "assert 'omnicache_ai.backends.redis_backend' not in sys.modules\n"
        "assert old.RedisLockProvider is new.RedisLockProvider\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
