"""OmnicacheSettings.from_env: every README variable, clear errors for bad values."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from omnicache_ai import (
    CacheManager,
    ConfigurationError,
    DiskBackend,
    GzipCompressor,
    InMemoryBackend,
    JsonSerializer,
    OmnicacheSettings,
)


def test_readme_defaults() -> None:
    """Defaults match the README's table."""
    s = OmnicacheSettings.from_env({})
    assert (s.backend, s.redis_url, s.default_ttl, s.namespace, s.semantic_threshold) == (
        "memory", "redis://localhost:6379/0", 3600, "omnicache", None,
    )  # fmt: skip
    assert (s.embedder, s.effective_semantic_threshold()) == ("wordllama", 0.89)
    assert (s.ttl_embedding, s.ttl_retrieval, s.ttl_context, s.ttl_response) == (
        86400, 3600, 1800, 600,
    )  # fmt: skip


def test_every_readme_variable_is_read(tmp_path: Path) -> None:
    """Each README variable changes the corresponding setting."""
    env = {
        "OMNICACHE_BACKEND": "disk",
        "OMNICACHE_REDIS_URL": "redis://cache:6380/2",
        "OMNICACHE_DISK_PATH": str(tmp_path),
        "OMNICACHE_DEFAULT_TTL": "0",
        "OMNICACHE_NAMESPACE": "shop",
        "OMNICACHE_SEMANTIC_THRESHOLD": "0.9",
        "OMNICACHE_TTL_EMBEDDING": "10",
        "OMNICACHE_TTL_RETRIEVAL": "11",
        "OMNICACHE_TTL_CONTEXT": "12",
        "OMNICACHE_TTL_RESPONSE": "13",
        "OMNICACHE_COMPRESSION": "gzip",
        "OMNICACHE_SERIALIZER": "json",
        "OMNICACHE_STRICT": "yes",
    }
    s = OmnicacheSettings.from_env(env)
    assert s.backend == "disk"
    assert s.disk_path == str(tmp_path)
    assert s.namespace == "shop"
    assert s.ttl_policy().ttl_for("response") == 13.0
    assert s.ttl_policy().ttl_for("other") is None  # 0 = no expiry
    manager = CacheManager.from_settings(s)
    assert isinstance(manager.backend, DiskBackend)
    assert isinstance(manager.compressor, GzipCompressor)
    assert isinstance(manager.serializer, JsonSerializer)
    assert manager.strict
    assert manager.key_builder.namespace == "shop"
    manager.close()


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("OMNICACHE_BACKEND", "mongo", "OMNICACHE_BACKEND"),
        ("OMNICACHE_DEFAULT_TTL", "soon", "OMNICACHE_DEFAULT_TTL"),
        ("OMNICACHE_DEFAULT_TTL", "-5", "OMNICACHE_DEFAULT_TTL"),
        ("OMNICACHE_SEMANTIC_THRESHOLD", "1.5", "OMNICACHE_SEMANTIC_THRESHOLD"),
        ("OMNICACHE_STRICT", "maybe", "OMNICACHE_STRICT"),
        ("OMNICACHE_MAX_ENTRIES", "many", "OMNICACHE_MAX_ENTRIES"),
    ],
)
def test_bad_values_name_the_variable(var: str, value: str, message: str) -> None:
    """A bad value raises ConfigurationError naming the variable."""
    with pytest.raises(ConfigurationError, match=message):
        OmnicacheSettings.from_env({var: value})


def test_unknown_variables_are_reported(caplog: pytest.LogCaptureFixture) -> None:
    """A misspelt OMNICACHE_ variable is logged rather than silently ignored."""
    with caplog.at_level(logging.WARNING, logger="omnicache_ai"):
        OmnicacheSettings.from_env({"OMNICACHE_BACKNED": "redis"})
    assert "OMNICACHE_BACKNED" in caplog.text


def test_from_settings_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """CacheManager.from_settings(OmnicacheSettings.from_env()) honours the environment."""
    monkeypatch.setenv("OMNICACHE_MAX_ENTRIES", "3")
    manager = CacheManager.from_settings(OmnicacheSettings.from_env())
    assert isinstance(manager.backend, InMemoryBackend)
    for i in range(5):
        manager.set(f"k{i}", i)
    assert len(manager.backend) == 3
    assert manager.metrics.snapshot()["evictions"] == 2
