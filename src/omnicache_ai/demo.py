"""``omnicache demo``: a support bot answering repeated, rephrased and *near-miss* questions.

Customers ask a support bot the same dozen things over and over, often in other words, and
now and then something worded almost the same that needs another answer ("how much does
shipping cost" after "how long does shipping take"). The bot calls a (fake, offline) LLM with
realistic latency and token usage; omnicache-ai sits in front of it. Every figure printed is
measured in this run: call counts come from the fake LLM, hits and savings from the cache's
own metrics, latencies from the wall clock, and "answers differing from LLM" compares each
served answer with what the LLM itself answers to that question, so a semantic false hit on
a near-miss shows up there.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from omnicache_ai.testing.fake_llm import SUPPORT_FAQ, FakeChatModel

__all__ = ["NEAR_MISSES", "QUESTIONS", "DemoResult", "run_demo"]

SYSTEM_PROMPT = "You are Ada, the friendly support assistant of Acme Cloud. Answer briefly."

#: Canonical questions, each followed by rephrasings real users type.
QUESTIONS: list[list[str]] = [
    ["How do I reset my password?", "I forgot my password, how can I reset it?",
     "password reset steps please"],
    ["How long does shipping take?", "What is the delivery time for shipping?",
     "how many days does shipping take"],
    ["How do I get a refund?", "Can I get my money back? I want a refund.",
     "refund process?"],
    ["How do I cancel my subscription?", "I want to cancel my subscription",
     "steps to cancel subscription"],
    ["What are your opening hours?", "When is support open? Opening hours?",
     "support opening hours"],
    ["How do I change my email address?", "Can I change the email on my account?",
     "change email address"],
    ["Where can I download an invoice?", "I need a copy of my invoice",
     "where are invoices"],
    ["How do I enable two-factor authentication?", "Turn on two-factor login",
     "setup two-factor auth"],
    ["How do I delete my account?", "Please delete my account", "account deletion"],
    ["What is the API rate limit?", "How many requests per minute does the API rate limit allow?",
     "api rate limit"],
    ["How can I export my data?", "Export all my data", "data export"],
    ["How much does it cost? What is the pricing?", "What is your pricing?",
     "pricing plans"],
]  # fmt: skip

#: Per canonical question (same index as :data:`QUESTIONS`), questions worded almost the same
#: that need another answer. Some are caught by the guards, some by the threshold; any that
#: is served a cached answer counts in "answers differing from LLM".
NEAR_MISSES: list[list[str]] = [
    ["How do I reset my username?"],
    ["How much does shipping cost?", "How long does a return take?"],
    ["Why was my refund refused?"],
    ["How do I renew my subscription?", "How do I pause my subscription?"],
    ["What are your opening hours on public holidays?"],
    ["How do I change my billing address?"],
    ["When will I receive my invoice?"],
    ["How do I disable two-factor authentication?"],
    ["How do I delete my team?"],
    ["What happens when I exceed the API rate limit?"],
    ["How can I import my data?"],
    ["How much does the enterprise plan cost per seat?"],
]  # fmt: skip

#: The fake LLM's knowledge: the support FAQ plus an answer for each near-miss's topic, so a
#: near-miss served a cached answer is visibly wrong.
DEMO_KNOWLEDGE: dict[str, str] = SUPPORT_FAQ | {
    "reset username": "Usernames cannot be reset; change yours once a year in Settings.",
    "shipping cost": "Shipping is free over 50 EUR, otherwise 4.90 EUR.",
    "return take": "Returns are checked within 3 business days of arrival.",
    "refund refused": "A refund is refused when the item comes back used or after 30 days.",
    "renew subscription": "Subscriptions renew automatically; renew early under Billing.",
    "pause subscription": "Pause your plan for up to 3 months under Billing > Subscription.",
    "opening hours public holidays": "On public holidays support answers by email only.",
    "billing address": "Edit your billing address under Billing > Details.",
    "receive invoice": "Invoices are emailed on the first day of each billing period.",
    "disable two-factor": "Disable 2FA in Settings > Security > 2FA after confirming a code.",
    "delete team": "Team owners delete a team in Team settings > Danger zone.",
    "exceed api rate limit": "Over the limit the API answers 429; retry after the header's delay.",
    "import data": "Settings > Privacy > Import accepts the ZIP an export produced.",
    "enterprise plan seat": "Enterprise seats cost 25 EUR per month each, billed yearly.",
}
# Share of questions that are near-misses of a frequent question.
_NEAR_MISS_SHARE = 0.15


@dataclass
class DemoResult:
    """What one demo run measured."""

    requests: int = 0
    llm_calls: int = 0
    hit_latencies: list[float] = field(default_factory=list)
    miss_latencies: list[float] = field(default_factory=list)
    snapshot: dict[str, Any] = field(default_factory=dict)
    uncached_cost: float = 0.0
    spent: float = 0.0
    wrong_answers: int = 0
    near_misses: int = 0
    near_miss_wrong: int = 0
    #: Near-misses by what happened: "wrong answer", "guard veto", "below threshold" (no
    #: cached question close enough) and "asked before" (its own answer, exact tier).
    near_miss_outcomes: dict[str, int] = field(default_factory=dict)
    turned_away: dict[str, int] = field(default_factory=dict)


def _workload(n: int, seed: int) -> list[tuple[str, bool]]:
    """Questions with a popularity skew, as in real support traffic; True marks a near-miss."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(QUESTIONS))]
    out = []
    for _ in range(n):
        topic = rng.choices(range(len(QUESTIONS)), weights=weights)[0]
        variants = QUESTIONS[topic]
        roll = rng.random()
        if roll < _NEAR_MISS_SHARE:
            out.append((rng.choice(NEAR_MISSES[topic]), True))
        # Most askers type the common phrasing, the rest rephrase it.
        elif roll < 0.7:
            out.append((variants[0], False))
        else:
            out.append((rng.choice(variants[1:]), False))
    return out


def _pipeline(
    manager: Any, llm: FakeChatModel, out: Callable[[str], None], threshold: float | None = None
) -> tuple[Callable[[list[dict[str, str]]], Any], Any]:
    """Exact response cache first; on its miss, the semantic cache; on that miss, the LLM."""
    from omnicache_ai.layers.response_cache import ResponseCache

    responses = ResponseCache(manager)
    try:
        from omnicache_ai.embedders import get_default_embedder
        from omnicache_ai.layers.semantic_cache import SemanticCache

        semantic: Any = SemanticCache(manager, embedder=get_default_embedder(), model=llm.model,
                                      threshold=threshold)  # fmt: skip
    except ImportError as err:  # the [semantic] extra is not installed
        out(f"(semantic tier off: {err})\n")
        semantic = None

    def generate(messages: list[dict[str, str]]) -> Any:
        if semantic is None:
            return llm(messages)
        return semantic.get_or_set(messages, lambda: llm(messages))

    def ask(messages: list[dict[str, str]]) -> Any:
        return responses.get_or_generate(messages, generate, model_id=llm.model)

    return ask, semantic


def run_demo(
    requests: int = 80,
    seed: int = 7,
    latency_scale: float = 1.0,
    out: Callable[[str], None] = print,
    threshold: float | None = None,
) -> DemoResult:
    """Run the workload and print a report; returns the measurements.

    ``threshold`` overrides the semantic tier's calibrated similarity threshold (lower it to
    watch near-misses get served a wrong answer).
    """
    from omnicache_ai.config.settings import OmnicacheSettings
    from omnicache_ai.core.cache_manager import CacheManager

    settings = OmnicacheSettings.from_env()
    manager = CacheManager.from_settings(settings)
    manager.clear()
    llm = FakeChatModel(base_latency=0.12 * latency_scale, per_token_latency=0.002 * latency_scale,
                        knowledge=DEMO_KNOWLEDGE)  # fmt: skip
    ask, semantic = _pipeline(manager, llm, out, threshold)
    result = DemoResult(requests=requests)
    out(f"omnicache-ai demo: support bot, {requests} questions, backend={manager.backend_name}")
    out(f"fake LLM {llm.model}: ~{llm.base_latency * 1000:.0f} ms + "
        f"{llm.per_token_latency * 1000:.0f} ms/token, priced as {llm.model}\n")  # fmt: skip
    for question, near_miss in _workload(requests, seed):
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": question},
        ]
        calls_before = llm.calls
        vetoes_before = _vetoes(semantic)
        t0 = time.perf_counter()
        response = ask(messages)
        dt = time.perf_counter() - t0
        usage = response["usage"] if isinstance(response, dict) else {}
        served = response["choices"][0]["message"]["content"]
        wrong = served != llm.answer(question)  # what the LLM itself would have answered
        result.wrong_answers += wrong
        result.near_misses += near_miss
        result.near_miss_wrong += near_miss and wrong
        if near_miss:
            if wrong:
                outcome = "wrong answer"
            elif llm.calls == calls_before:
                outcome = "asked before"
            elif _vetoes(semantic) > vetoes_before:
                outcome = "guard veto"
            else:
                outcome = "below threshold"
            counts = result.near_miss_outcomes
            counts[outcome] = counts.get(outcome, 0) + 1
        price = manager.pricing.cost(
            llm.model, usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
        )
        result.uncached_cost += price
        if llm.calls > calls_before:
            result.miss_latencies.append(dt)
            result.spent += price
        else:
            result.hit_latencies.append(dt)
    result.llm_calls = llm.calls
    result.snapshot = manager.metrics.snapshot()
    if semantic is not None:
        st = semantic.stats()
        result.turned_away = dict(st["guard_rejections"])
        if st["outranked"]:
            result.turned_away["outranked"] = st["outranked"]
    _report(result, out)
    manager.close()
    return result


def _vetoes(semantic: Any) -> int:
    """Candidates the semantic tier has turned away so far (guards, verifier, rank rule)."""
    if semantic is None:
        return 0
    st = semantic.stats()
    return int(sum(st["guard_rejections"].values()) + st["outranked"])


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    return f"{values[len(values) // 2] * 1000:.3f} ms"


def _report(r: DemoResult, out: Callable[[str], None]) -> None:
    snap = r.snapshot
    served = r.requests - r.llm_calls
    out(f"{'questions asked':<28}{r.requests}")
    out(f"{'LLM calls made':<28}{r.llm_calls}")
    out(f"{'answered from cache':<28}{served} ({served / max(r.requests, 1):.0%})")
    for layer, s in sorted(snap.get("layers", {}).items()):
        if not s["hits"] + s["misses"]:
            continue
        out(f"  {layer + ' layer':<26}{s['hits']} hits, {s['misses']} misses")
    out(f"{'near-misses asked':<28}{r.near_misses} (worded like a cached question, another answer)")
    order = ("wrong answer", "guard veto", "below threshold", "asked before")
    outcomes = ", ".join(f"{k} {r.near_miss_outcomes.get(k, 0)}" for k in order)
    out(f"{'  of which':<28}{outcomes}")
    away = sum(r.turned_away.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(r.turned_away.items()))
    out(f"{'  turned away by guards':<28}{away}" + (f" ({detail})" if detail else ""))
    out(
        f"{'answers differing from LLM':<28}{r.wrong_answers} ({r.near_miss_wrong} of them "
        "on near-misses)"
    )
    out(f"{'median latency, cache hit':<28}{_ms(r.hit_latencies)}")
    out(f"{'median latency, LLM call':<28}{_ms(r.miss_latencies)}")
    out(f"{'tokens saved (exact layer)':<28}{snap.get('tokens_saved', 0)}")
    saved = r.uncached_cost - r.spent
    out(f"{'LLM spend without cache':<28}${r.uncached_cost:.4f}")
    out(f"{'LLM spend with cache':<28}${r.spent:.4f}")
    out(
        f"{'money saved':<28}${saved:.4f} ({saved / r.uncached_cost if r.uncached_cost else 0:.0%})"
    )
