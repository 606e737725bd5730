"""NegativeCache with a manager: the pattern list is stored, shared by workers, fail-open."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from omnicache_ai import CacheManager, DiskBackend, InMemoryBackend
from omnicache_ai.core.errors import CacheBackendError
from omnicache_ai.embedders import HashingEmbedder
from omnicache_ai.layers.negative_cache import NegativeCache, QueryBlockedError
from omnicache_ai.layers.semantic_cache import SemanticCache
from omnicache_ai.testing import FlakyBackend

BALANCE = "what is my account balance"
PRICE = "stock price of acme today"


class CountingEmbedder(HashingEmbedder):
    """A HashingEmbedder that records every text it embeds."""

    def __init__(self, dim: int = 64, seed: int = 0) -> None:
        super().__init__(dim=dim, seed=seed)
        self.texts: list[str] = []
        self._count_lock = threading.Lock()

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        with self._count_lock:
            self.texts.extend(texts)
        return super()._embed_batch(texts)


def _block(
    manager: CacheManager, embedder: HashingEmbedder | None = None, **kw: Any
) -> NegativeCache:
    return NegativeCache(embedder=embedder or HashingEmbedder(dim=64), manager=manager, **kw)


def _patterns(block: NegativeCache) -> list[tuple[str, str]]:
    return [(p.pattern, p.reason) for p in block.list()]


@pytest.fixture
def disk_dir(tmp_path: Path) -> str:
    """A directory for a DiskBackend shared by several 'workers'."""
    return str(tmp_path / "shared-cache")


def test_blocklist_survives_a_restart(disk_dir: str) -> None:
    """Patterns added by one blocklist are there for a new one over the same disk."""
    first = _block(CacheManager(DiskBackend(disk_dir)))
    pid = first.add(BALANCE, reason="per-user data", threshold=0.9)
    first.add(PRICE, reason="live data")

    embedder = CountingEmbedder()
    second = _block(CacheManager(DiskBackend(disk_dir)), embedder)
    match = second.check("What is my account balance?")
    assert match is not None
    assert (match.pattern_id, match.reason) == (pid, "per-user data")
    assert _patterns(second) == [(BALANCE, "per-user data"), (PRICE, "live data")]
    assert [p.threshold for p in second.list()] == [0.9, second.threshold]
    # The stored embeddings were reused: only the query was embedded here.
    assert embedder.texts == ["What is my account balance?"]


def test_blocklist_is_shared_with_another_process(disk_dir: str) -> None:
    """A pattern added in a subprocess blocks queries here."""
    code = textwrap.dedent(
        f"""
        from omnicache_ai import CacheManager, DiskBackend
        from omnicache_ai.embedders import HashingEmbedder
        from omnicache_ai.layers.negative_cache import NegativeCache
        block = NegativeCache(embedder=HashingEmbedder(dim=64),
                              manager=CacheManager(DiskBackend({disk_dir!r})))
        block.add({BALANCE!r}, reason="per-user data")
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    here = _block(CacheManager(DiskBackend(disk_dir)))
    with pytest.raises(QueryBlockedError, match="per-user data"):
        here.screen("Tell me: what is my account balance?")


def test_changes_of_one_worker_reach_the_other(disk_dir: str) -> None:
    """add/remove/report_false_positive in one worker are seen by another after refresh."""
    a = _block(CacheManager(DiskBackend(disk_dir)), refresh=0)
    b = _block(CacheManager(DiskBackend(disk_dir)), refresh=0, threshold=0.5)
    a.add(PRICE, threshold=0.5)
    near = "stock price of acme yesterday"
    assert b.check(near) is not None
    assert b.report_false_positive(near) is not None
    assert a.check(near) is None  # the raised threshold reached a
    (p,) = a.list()
    assert p.false_positives == 1
    assert p.threshold > 0.5
    assert b.remove(PRICE) is True
    assert a.check(PRICE) is None
    assert len(a) == 0


def test_lookups_check_for_changes_only_every_refresh(disk_dir: str) -> None:
    """Within `refresh` seconds a worker answers from memory; list() always checks."""
    a = _block(CacheManager(DiskBackend(disk_dir)))
    b = _block(CacheManager(DiskBackend(disk_dir)), refresh=3600)
    assert b.check(BALANCE) is None  # b checked the store now
    a.add(BALANCE)
    assert b.check(BALANCE) is None  # not due yet
    assert _patterns(b) == [(BALANCE, "")]
    assert b.check(BALANCE) is not None


def test_changes_are_merged_not_overwritten(disk_dir: str) -> None:
    """Two workers adding different patterns from stale copies keep both."""
    a = _block(CacheManager(DiskBackend(disk_dir)), refresh=3600)
    b = _block(CacheManager(DiskBackend(disk_dir)), refresh=3600)
    assert a.check("x") is None
    assert b.check("x") is None  # both hold the empty list
    a.add(BALANCE)
    b.add(PRICE)  # b never saw BALANCE, yet must not drop it
    fresh = _block(CacheManager(DiskBackend(disk_dir)))
    assert sorted(p for p, _ in _patterns(fresh)) == sorted([BALANCE, PRICE])
    assert sorted(p for p, _ in _patterns(a)) == sorted([BALANCE, PRICE])


def test_clear_empties_the_stored_list(disk_dir: str) -> None:
    """clear() removes every pattern for every worker."""
    a = _block(CacheManager(DiskBackend(disk_dir)))
    a.add(BALANCE)
    a.add(PRICE)
    a.clear()
    assert a.check(BALANCE) is None
    assert _patterns(_block(CacheManager(DiskBackend(disk_dir)))) == []


def test_named_blocklists_are_separate() -> None:
    """Two blocklists with different names in one manager do not share patterns."""
    manager = CacheManager()
    _block(manager, name="privacy").add(BALANCE)
    assert _patterns(_block(manager, name="live-data")) == []
    assert _patterns(_block(manager, name="privacy")) == [(BALANCE, "")]


def test_another_embedder_re_embeds_the_patterns(disk_dir: str) -> None:
    """Stored vectors of another model are not reused: the patterns are embedded again."""
    _block(CacheManager(DiskBackend(disk_dir))).add(PRICE, threshold=0.5)
    other = CountingEmbedder(seed=3)
    block = _block(CacheManager(DiskBackend(disk_dir)), other)
    assert block.check("stock price of acme yesterday") is not None
    assert PRICE in other.texts


def test_tenant_blocklists_are_isolated(disk_dir: str) -> None:
    """A tenant's blocklist is stored in its scope: other tenants and the root never see it."""
    root = CacheManager(DiskBackend(disk_dir))
    _block(root.for_tenant("acme")).add(BALANCE, reason="acme policy")
    assert _block(root.for_tenant("acme")).check(BALANCE) is not None
    assert _block(root.for_tenant("globex")).check(BALANCE) is None
    assert _block(root).check(BALANCE) is None
    _block(root).add(PRICE)
    assert _patterns(_block(root.for_tenant("acme"))) == [(BALANCE, "acme policy")]


def test_backend_failure_keeps_the_blocklist_working(caplog: pytest.LogCaptureFixture) -> None:
    """With the backend down the blocklist works from memory; changes are saved on recovery."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    block = _block(manager, refresh=0)
    block.add(PRICE)
    flaky.down = True
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        block.add(BALANCE, reason="per-user data")
        assert block.check(BALANCE) is not None
        assert block.remove(PRICE) is True
        assert _patterns(block) == [(BALANCE, "per-user data")]
    assert caplog.text.count("blocklist.load failed") == 1
    assert manager.metrics.snapshot()["layers"]["blocklist"]["errors"] >= 3

    flaky.down = False
    assert block.check("anything else") is None  # pending changes are written now
    assert _patterns(_block(manager)) == [(BALANCE, "per-user data")]


def test_strict_manager_raises_on_blocklist_failure() -> None:
    """A strict manager's failures are raised, as for every other cache operation."""
    flaky = FlakyBackend(InMemoryBackend())
    block = _block(CacheManager(backend=flaky, strict=True))
    flaky.down = True
    with pytest.raises(CacheBackendError):
        block.add(BALANCE)


def test_unreadable_record_is_replaced(disk_dir: str) -> None:
    """A record this version cannot read is treated as absent and rewritten."""
    manager = CacheManager(DiskBackend(disk_dir))
    key = manager.key_builder.build("blocklist", {"list": "default"})
    manager.set(key, {"v": 99, "patterns": "garbage"}, 0, layer="blocklist")
    block = _block(manager)
    assert block.check(BALANCE) is None
    block.add(BALANCE)
    assert _patterns(_block(CacheManager(DiskBackend(disk_dir)))) == [(BALANCE, "")]


def test_semantic_cache_uses_the_stored_blocklist(disk_dir: str) -> None:
    """A SemanticCache in another worker refuses what the stored blocklist blocks."""
    _block(CacheManager(DiskBackend(disk_dir))).add(BALANCE, reason="per-user data")
    manager = CacheManager(DiskBackend(disk_dir))
    cache = SemanticCache(manager, embedder=HashingEmbedder(dim=64), blocklist=_block(manager))
    calls: list[int] = []
    with pytest.raises(QueryBlockedError):
        cache.get_or_set("What is my account balance?", lambda: calls.append(1))
    assert calls == []


def test_without_manager_nothing_is_stored() -> None:
    """A blocklist without a manager keeps its patterns to itself."""
    block = NegativeCache(embedder=HashingEmbedder(dim=64))
    block.add(BALANCE)
    assert block.manager is None
    assert block.check(BALANCE) is not None
    assert "memory" in repr(block)


def test_bad_arguments() -> None:
    """name, refresh and manager are validated."""
    with pytest.raises(ValueError, match="name"):
        NegativeCache(embedder=HashingEmbedder(), name="")
    with pytest.raises(ValueError, match="refresh"):
        NegativeCache(embedder=HashingEmbedder(), refresh=-1)
    with pytest.raises(TypeError, match="manager"):
        NegativeCache(embedder=HashingEmbedder(), manager="redis://")  # type: ignore[arg-type]


async def test_async_twins(disk_dir: str) -> None:
    """aadd/acheck/alist/areport_false_positive/aremove/aclear store like their sync twins."""
    a = _block(CacheManager(DiskBackend(disk_dir)), refresh=0, threshold=0.5)
    await a.aadd(PRICE, reason="live data")
    b = _block(CacheManager(DiskBackend(disk_dir)), refresh=0, threshold=0.5)
    near = "stock price of acme yesterday"
    assert await b.acheck(near) is not None
    assert await b.areport_false_positive(near) is not None
    assert await a.acheck(near) is None
    assert [p.false_positives for p in await a.alist()] == [1]
    assert await a.aremove(PRICE) is True
    assert await b.alist() == []
    await b.aadd(BALANCE)
    await b.aclear()
    assert await a.alist() == []


async def test_async_backend_failure_degrades() -> None:
    """The async paths survive a failing backend too, and save the changes on recovery."""
    flaky = FlakyBackend(InMemoryBackend())
    manager = CacheManager(backend=flaky)
    block = _block(manager, refresh=0)
    flaky.down = True
    await block.aadd(BALANCE)
    with pytest.raises(QueryBlockedError):
        await block.ascreen("what is my account balance now")
    flaky.down = False
    assert await block.acheck("unrelated") is None
    assert [p.pattern for p in await _block(manager).alist()] == [BALANCE]
