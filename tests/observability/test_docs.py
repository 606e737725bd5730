"""The docs and the Grafana dashboard use exactly the metric names the exporter produces."""

from __future__ import annotations

import json
import re
from pathlib import Path

from _ci import need

need("prometheus_client", extra="observability")

from prometheus_client.parser import text_string_to_metric_families

from omnicache_ai.observability.prometheus import OmnicacheCollector

DOCS = Path(__file__).resolve().parents[2] / "docs"
_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}


def exported_names() -> tuple[set[str], set[str]]:
    """(family names, sample names) the collector can produce."""
    families = OmnicacheCollector().describe()
    samples = {f.name + suffix for f in families for suffix in _SUFFIXES[f.type]}
    return {f.name for f in families}, samples


def test_every_name_in_the_docs_is_exported() -> None:
    """Each omnicache_* name in observability.md exists, and every family is documented."""
    text = (DOCS / "observability.md").read_text(encoding="utf-8")
    families, samples = exported_names()
    mentioned = set(re.findall(r"\bomnicache_[a-z_]+", text)) - {"omnicache_ai"}  # the package
    assert mentioned <= samples | families, mentioned - samples - families
    table = set(re.findall(r"^\| `(omnicache_[a-z_]+)`", text, flags=re.MULTILINE))
    documented = {name.removesuffix("_total") for name in table}
    assert documented == families


def test_the_scraped_sample_in_the_docs_parses() -> None:
    """The sample in the docs is valid exposition text with the exported names."""
    text = (DOCS / "observability.md").read_text(encoding="utf-8")
    sample = text.split("### A scraped sample", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    parsed = {f.name: f for f in text_string_to_metric_families(sample)}
    families, _ = exported_names()
    assert set(parsed) == families
    requests = {s.labels["result"]: s.value for s in parsed["omnicache_requests"].samples}
    assert requests == {"hit": 3.0, "miss": 1.0}


def test_dashboard_queries_use_exported_metrics() -> None:
    """The Grafana dashboard is valid JSON and queries only metrics the exporter serves."""
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text(encoding="utf-8"))
    _, samples = exported_names()
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert exprs
    used = {name for e in exprs for name in re.findall(r"\bomnicache_[a-z_]+", e)}
    assert used <= samples, used - samples
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert {v["name"] for v in dashboard["templating"]["list"]} == {"datasource", "tenant", "layer"}
