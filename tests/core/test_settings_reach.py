"""Every OMNICACHE_* variable reaches the manager and layers built from it, and every bad
value is one ConfigurationError naming the variable."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import pytest

from omnicache_ai import (
    CacheManager,
    ConfigurationError,
    ContextCache,
    EmbeddingCache,
    InMemoryBackend,
    OmnicacheSettings,
    ResponseCache,
    RetrievalCache,
)
from omnicache_ai.config import settings as settings_module
from omnicache_ai.core.serializer import PickleSerializer

_LAYER_TTLS = {
    "OMNICACHE_TTL_EMBEDDING": 1001.0,
    "OMNICACHE_TTL_RETRIEVAL": 2002.0,
    "OMNICACHE_TTL_CONTEXT": 3003.0,
    "OMNICACHE_TTL_RESPONSE": 4004.0,
    "OMNICACHE_TTL_SEMANTIC": 5005.0,
    "OMNICACHE_DEFAULT_TTL": 6006.0,
}


def _remaining_ttls(backend: InMemoryBackend) -> list[float]:
    """Seconds left on every entry the in-memory backend holds (private, but exact)."""
    now = time.monotonic()
    return [deadline - now for deadline in backend._store.deadlines()]


def _closest(ttls: list[float], expected: float) -> bool:
    # The deadline was set moments ago; a minute of slack never confuses values 1000 s apart.
    return any(abs(t - expected) < 60 for t in ttls)


def test_per_layer_ttl_variables_reach_every_layer() -> None:
    """OMNICACHE_TTL_<LAYER> is the TTL each layer built on a settings manager writes with."""
    s = OmnicacheSettings.from_env(
        {k: str(v) for k, v in _LAYER_TTLS.items()} | {"OMNICACHE_EMBEDDER": "hashing"}
    )
    manager = CacheManager.from_settings(s)
    backend = manager.backend
    assert isinstance(backend, InMemoryBackend)

    def written(action: Any) -> list[float]:
        backend.clear()
        action()
        return _remaining_ttls(backend)

    embedding = EmbeddingCache(manager)
    assert _closest(written(lambda: embedding.set("t", [0.1, 0.2], model_id="m")), 1001)
    retrieval = RetrievalCache(manager)
    assert _closest(written(lambda: retrieval.set("q", ["d"], retriever_id="r")), 2002)
    context = ContextCache(manager)
    assert _closest(written(lambda: context.set("s", 0, [{"role": "user"}])), 3003)
    response = ResponseCache(manager)
    msgs = [{"role": "user", "content": "hi"}]
    assert _closest(written(lambda: response.set(msgs, "hello", model_id="m")), 4004)
    semantic = s.build_semantic_cache(manager)
    assert _closest(written(lambda: semantic.set("what is the refund window", "30 days")), 5005)
    assert _closest(written(lambda: manager.set("plain", 1)), 6006)


def test_max_bytes_reaches_the_memory_backend() -> None:
    """OMNICACHE_MAX_BYTES bounds the built in-memory backend: old entries are evicted."""
    s = OmnicacheSettings.from_env({"OMNICACHE_MAX_BYTES": "4000"})
    manager = CacheManager.from_settings(s)
    for i in range(40):
        manager.set(f"k{i}", "x" * 500)
    kept = sum(manager.get(f"k{i}") is not None for i in range(40))
    assert 0 < kept <= 8
    assert manager.get("k39") == "x" * 500  # the newest survives
    unbounded = CacheManager.from_settings(OmnicacheSettings.from_env({}))
    for i in range(40):
        unbounded.set(f"k{i}", "x" * 500)
    assert all(unbounded.get(f"k{i}") is not None for i in range(40))


def test_max_entries_reaches_the_memory_backend() -> None:
    """OMNICACHE_MAX_ENTRIES bounds the built in-memory backend."""
    manager = CacheManager.from_settings(OmnicacheSettings.from_env({"OMNICACHE_MAX_ENTRIES": "3"}))
    for i in range(10):
        manager.set(f"k{i}", i)
    assert [manager.get(f"k{i}") for i in range(10)] == [None] * 7 + [7, 8, 9]


def test_pickle_secret_reaches_the_serializer() -> None:
    """OMNICACHE_PICKLE_SECRET signs entries: a manager with another secret cannot read them."""
    backend = InMemoryBackend()
    env = {"OMNICACHE_SERIALIZER": "pickle", "OMNICACHE_PICKLE_SECRET": "alpha"}
    s = OmnicacheSettings.from_env(env)
    writer = CacheManager(backend=backend, serializer=s.build_serializer())
    assert isinstance(writer.serializer, PickleSerializer)
    assert writer.serializer.signed
    writer.set("k", {1, 2})
    same = OmnicacheSettings.from_env(env).build_serializer()
    assert CacheManager(backend=backend, serializer=same).get("k") == {1, 2}
    other = OmnicacheSettings.from_env({**env, "OMNICACHE_PICKLE_SECRET": "beta"})
    assert CacheManager(backend=backend, serializer=other.build_serializer()).get("k") is None


def test_unsigned_pickle_is_refused_naming_both_variables() -> None:
    """OMNICACHE_SERIALIZER=pickle without a secret fails at start-up naming both variables."""
    with pytest.raises(ConfigurationError) as info:
        OmnicacheSettings.from_env({"OMNICACHE_SERIALIZER": "pickle"})
    assert "OMNICACHE_SERIALIZER" in str(info.value)
    assert "OMNICACHE_PICKLE_SECRET" in str(info.value)
    assert "OMNICACHE_ALLOW_UNSIGNED_PICKLE" in str(info.value)
    with pytest.raises(ConfigurationError):
        OmnicacheSettings(serializer="pickle")


def test_unsigned_pickle_opt_out_warns(caplog: pytest.LogCaptureFixture) -> None:
    """OMNICACHE_ALLOW_UNSIGNED_PICKLE=true builds an unsigned pickle serializer and warns once."""
    env = {"OMNICACHE_SERIALIZER": "pickle", "OMNICACHE_ALLOW_UNSIGNED_PICKLE": "true"}
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        s = OmnicacheSettings.from_env(env)
        serializer = s.build_serializer()
    assert isinstance(serializer, PickleSerializer)
    assert not serializer.signed
    warnings = [r for r in caplog.records if "OMNICACHE_PICKLE_SECRET" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("OMNICACHE_DEFAULT_TTL", "nan"),
        ("OMNICACHE_DEFAULT_TTL", "inf"),
        ("OMNICACHE_DEFAULT_TTL", "-inf"),
        ("OMNICACHE_DEFAULT_TTL", "1e20"),
        ("OMNICACHE_L1_TTL", "nan"),
        ("OMNICACHE_TTL_EMBEDDING", "inf"),
        ("OMNICACHE_TTL_RETRIEVAL", "1e20"),
        ("OMNICACHE_TTL_CONTEXT", "-1"),
        ("OMNICACHE_TTL_RESPONSE", "nan"),
        ("OMNICACHE_TTL_SEMANTIC", "1e300"),
        ("OMNICACHE_MAX_ENTRIES", "0"),
        ("OMNICACHE_MAX_ENTRIES", "-3"),
        ("OMNICACHE_MAX_BYTES", "0"),
        ("OMNICACHE_COMPRESSION_MIN_SIZE", "-1"),
        ("OMNICACHE_SEMANTIC_THRESHOLD", "nan"),
        ("OMNICACHE_SEMANTIC_TARGET_FALSE_HIT_RATE", "inf"),
        ("OMNICACHE_PRICING", "{not json"),
        ("OMNICACHE_PRICING", "[1, 2]"),
        ("OMNICACHE_PRICING", "/nonexistent/prices.json"),
        ("OMNICACHE_ALLOW_UNSIGNED_PICKLE", "perhaps"),
    ],
)
def test_bad_value_is_one_configuration_error_naming_the_variable(var: str, value: str) -> None:
    """Each bad value raises ConfigurationError (a ValueError) naming the variable, on one line."""
    with pytest.raises(ConfigurationError) as info:
        OmnicacheSettings.from_env({var: value})
    assert isinstance(info.value, ValueError)
    assert var in str(info.value)
    assert "\n" not in str(info.value)


def test_configuration_error_is_exported_from_settings() -> None:
    """The settings module exports the one error type its checks raise."""
    assert "ConfigurationError" in settings_module.__all__
    assert settings_module.ConfigurationError is ConfigurationError


def test_largest_ttl_is_accepted() -> None:
    """A long but finite TTL (a century) is accepted; only past that is a typo."""
    s = OmnicacheSettings.from_env({"OMNICACHE_DEFAULT_TTL": str(settings_module.MAX_TTL)})
    assert math.isfinite(s.default_ttl)


def test_bad_disk_path_names_the_variable(tmp_path: Path) -> None:
    """A disk path that cannot be created is a ConfigurationError naming OMNICACHE_DISK_PATH."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    s = OmnicacheSettings.from_env(
        {"OMNICACHE_BACKEND": "disk", "OMNICACHE_DISK_PATH": str(blocker / "cache")}
    )
    with pytest.raises(ConfigurationError, match="OMNICACHE_DISK_PATH"):
        CacheManager.from_settings(s)


def test_bad_pricing_variable_fails_manager_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    """OMNICACHE_PRICING that is not JSON makes CacheManager() raise naming the variable."""
    monkeypatch.setenv("OMNICACHE_PRICING", "{not json")
    with pytest.raises(ConfigurationError, match="OMNICACHE_PRICING"):
        CacheManager()
