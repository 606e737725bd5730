"""PromptCacheLayer: cache_control breakpoints within Anthropic's rules, usage accounting."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from layer_payloads import anthropic_message, openai_completion, sdk

from omnicache_ai import CacheManager, PromptCacheLayer
from omnicache_ai.layers.prompt_cache import min_cacheable_tokens

EPHEMERAL = {"type": "ephemeral"}
LONG_SYSTEM = "You review contracts for a law firm and cite clauses precisely. " * 80  # ~1300 tok
CONTRACT = "Clause 4.2: The supplier shall deliver goods within thirty days. " * 150  # ~2400 tok
TOOLS = [
    {
        "name": f"tool_{i}",
        "description": "Looks up a clause in the firm's precedent database. " * 12,
        "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
    }
    for i in range(6)
]


def markers(request: dict[str, Any]) -> list[str]:
    """Where cache_control markers sit, as readable paths."""
    found = [
        f"tools[{i}]" for i, t in enumerate(request.get("tools") or []) if "cache_control" in t
    ]
    system = request.get("system")
    if isinstance(system, list):
        found += [f"system[{i}]" for i, b in enumerate(system) if "cache_control" in b]
    for mi, msg in enumerate(request.get("messages") or []):
        if isinstance(msg["content"], list):
            found += [
                f"messages[{mi}][{bi}]"
                for bi, b in enumerate(msg["content"])
                if "cache_control" in b
            ]
    return found


def request_with(**parts: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Does clause 4.2 allow late delivery?"}],
        **parts,
    }


@pytest.fixture
def layer(manager: CacheManager) -> PromptCacheLayer:
    """A prompt-cache layer with the default token estimate."""
    return PromptCacheLayer(manager)


def test_system_prompt_string_gets_a_breakpoint(layer: PromptCacheLayer) -> None:
    """A long system string becomes one text block carrying cache_control."""
    out = layer.prepare(request_with(system=LONG_SYSTEM))
    assert out["system"] == [{"type": "text", "text": LONG_SYSTEM, "cache_control": EPHEMERAL}]
    assert markers(out) == ["system[0]"]


def test_tools_system_and_document_breakpoints_in_prefix_order(layer: PromptCacheLayer) -> None:
    """Tools, system and a long document each get a marker; tools end at the last tool."""
    req = request_with(
        tools=TOOLS,
        system=[{"type": "text", "text": "Be precise."}, {"type": "text", "text": LONG_SYSTEM}],
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": CONTRACT},
                    },
                    {"type": "text", "text": "Does clause 4.2 allow late delivery?"},
                ],
            }
        ],
    )
    out = layer.prepare(req)
    assert markers(out) == ["tools[5]", "system[1]", "messages[0][0]"]
    plan = layer.plan(req)
    assert [b.prefix_tokens for b in plan] == sorted(b.prefix_tokens for b in plan)


def test_caller_request_is_never_mutated(layer: PromptCacheLayer) -> None:
    """prepare copies what it changes; the original request stays byte-for-byte equal."""
    req = request_with(
        tools=TOOLS,
        system=[{"type": "text", "text": LONG_SYSTEM}],
        messages=[{"role": "user", "content": [{"type": "text", "text": CONTRACT}]}],
    )
    before = copy.deepcopy(req)
    out = layer.prepare(req)
    assert req == before
    assert markers(out)
    assert out["tools"] is not req["tools"]
    assert out["tools"][0] is req["tools"][0]  # untouched parts are shared, not copied


def test_short_prefixes_get_no_breakpoint(layer: PromptCacheLayer) -> None:
    """Below the model's minimum cacheable length no marker is added."""
    out = layer.prepare(request_with(system="Be brief."))
    assert out["system"] == "Be brief."
    assert markers(out) == []


def test_minimum_depends_on_the_model(manager: CacheManager) -> None:
    """~1300 tokens qualify for Sonnet 4.5 (1024) but not for Haiku 3.5 (2048)."""
    layer = PromptCacheLayer(manager)
    assert markers(layer.prepare(request_with(system=LONG_SYSTEM)))
    haiku = request_with(system=LONG_SYSTEM, model="claude-3-5-haiku-20241022")
    assert markers(layer.prepare(haiku)) == []
    assert min_cacheable_tokens("us.anthropic.claude-3-5-haiku-20241022-v1:0") == 2048
    assert min_cacheable_tokens("claude-opus-4-5") == 4096
    assert min_cacheable_tokens("claude-opus-4-20250514") == 1024


def test_never_more_than_four_breakpoints_counting_existing_ones(layer: PromptCacheLayer) -> None:
    """With three markers already present only one more is added; with four, none."""
    docs = [
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": CONTRACT},
        }
        for _ in range(6)
    ]
    req = request_with(system=LONG_SYSTEM, messages=[{"role": "user", "content": docs}])
    assert len(markers(layer.prepare(req))) == 4
    pre_marked = [{**d, "cache_control": EPHEMERAL} for d in docs[:3]] + docs[3:]
    req2 = request_with(messages=[{"role": "user", "content": pre_marked}])
    assert len(markers(layer.prepare(req2))) == 4
    four = [{**d, "cache_control": EPHEMERAL} for d in docs[:4]] + docs[4:]
    req3 = request_with(system=LONG_SYSTEM, messages=[{"role": "user", "content": four}])
    assert layer.prepare(req3) == req3


def test_latest_documents_win_when_slots_run_out(manager: CacheManager) -> None:
    """With two slots, system first, then the latest document (it caches the longest prefix)."""
    layer = PromptCacheLayer(manager, max_breakpoints=2)
    doc = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": CONTRACT},
    }
    req = request_with(system=LONG_SYSTEM, messages=[{"role": "user", "content": [doc, doc, doc]}])
    assert markers(layer.prepare(req)) == ["system[0]", "messages[0][2]"]


def test_long_string_message_becomes_a_marked_block(layer: PromptCacheLayer) -> None:
    """A long plain-string user message is converted to a text block with a marker."""
    out = layer.prepare(request_with(messages=[{"role": "user", "content": CONTRACT}]))
    assert out["messages"][0]["content"] == [
        {"type": "text", "text": CONTRACT, "cache_control": EPHEMERAL}
    ]


def test_thinking_blocks_are_never_marked(layer: PromptCacheLayer) -> None:
    """Thinking blocks cannot carry cache_control, however long."""
    thinking = {"type": "thinking", "thinking": CONTRACT, "signature": "sig"}
    req = request_with(
        messages=[
            {"role": "user", "content": "Think."},
            {"role": "assistant", "content": [thinking, {"type": "text", "text": "Done."}]},
        ]
    )
    assert markers(layer.prepare(req)) == []


def test_one_hour_ttl_and_switches(manager: CacheManager) -> None:
    """ttl='1h' is written into markers; cache_system=False leaves the system prompt alone."""
    out = PromptCacheLayer(manager, ttl="1h").prepare(request_with(system=LONG_SYSTEM))
    assert out["system"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    off = PromptCacheLayer(manager, cache_system=False).prepare(request_with(system=LONG_SYSTEM))
    assert markers(off) == []


def test_custom_token_counter(manager: CacheManager) -> None:
    """A caller-supplied counter replaces the chars/4 estimate."""
    by_words = PromptCacheLayer(manager, token_counter=lambda t: len(t.split()))
    # ~800 words: under 1024 by words although ~1300 by chars/4.
    assert markers(by_words.prepare(request_with(system=LONG_SYSTEM))) == []


def test_openai_requests_are_left_as_they_are(layer: PromptCacheLayer) -> None:
    """OpenAI caches prefixes automatically: a gpt request gets no markers (but a copy)."""
    req = {"model": "gpt-4o", "messages": [{"role": "system", "content": LONG_SYSTEM}]}
    out = layer.prepare(req)
    assert out == req
    assert out is not req


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_breakpoints": 5}, ValueError, "max_breakpoints"),
        ({"max_breakpoints": 0}, ValueError, "max_breakpoints"),
        ({"ttl": "2h"}, ValueError, "ttl"),
        ({"min_tokens": -1}, ValueError, "min_tokens"),
        ({"token_counter": 4}, TypeError, "token_counter"),
    ],
)
def test_bad_settings(
    manager: CacheManager, kwargs: dict[str, Any], error: type, match: str
) -> None:
    """Settings outside Anthropic's rules are refused at construction."""
    with pytest.raises(error, match=match):
        PromptCacheLayer(manager, **kwargs)


@pytest.mark.parametrize("shape", ["dict", "sdk"])
def test_record_usage_anthropic(manager: CacheManager, shape: str) -> None:
    """Anthropic cache reads and writes land in the metrics with the read discount saved."""
    body = anthropic_message(
        input_tokens=20, cache_read=10_000, cache_write=2_000, model="claude-sonnet-4-5"
    )
    resp = sdk("Message", body) if shape == "sdk" else body
    usage = PromptCacheLayer(manager).record_usage(resp)
    assert (usage.read_tokens, usage.write_tokens) == (10_000, 2_000)
    # claude-sonnet-4 list prices: input 3.00, cached input 0.30 per million.
    assert usage.saved == pytest.approx(10_000 * (3.00 - 0.30) / 1e6)
    stats = manager.metrics.snapshot()["layers"]["prompt"]
    assert stats["provider_cache_read_tokens"] == 10_000
    assert stats["provider_cache_write_tokens"] == 2_000
    assert stats["provider_cost_saved"] == pytest.approx(usage.saved)


@pytest.mark.parametrize("shape", ["dict", "sdk"])
def test_record_usage_openai(manager: CacheManager, shape: str) -> None:
    """OpenAI prompt_tokens_details.cached_tokens are counted as provider cache reads."""
    body = openai_completion(prompt_tokens=3000, cached_tokens=2048)
    resp = sdk("ChatCompletion", body) if shape == "sdk" else body
    usage = PromptCacheLayer(manager).record_usage(resp, model="gpt-4o")
    assert (usage.read_tokens, usage.write_tokens) == (2048, 0)
    assert usage.saved == pytest.approx(2048 * (2.50 - 1.25) / 1e6)


def test_record_usage_from_stream_and_unknown(manager: CacheManager) -> None:
    """Stream event lists are read too; a response without usage counts nothing."""
    layer = PromptCacheLayer(manager)
    start = anthropic_message(cache_read=1500)
    events = [{"type": "message_start", "message": start}, {"type": "message_stop"}]
    assert layer.record_usage(events).read_tokens == 1500
    assert layer.record_usage("plain text").saved == 0.0
