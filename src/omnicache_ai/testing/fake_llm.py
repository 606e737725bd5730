"""A deterministic, offline chat model for demos and tests.

It answers from a small knowledge base, sleeps like a real API (a fixed overhead plus a
per-token generation time), and returns OpenAI-shaped response dicts with real token
usage, so caches in front of it can measure latency and money honestly.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["SUPPORT_FAQ", "FakeChatModel"]

#: A support bot's knowledge: topic keywords -> answer.
SUPPORT_FAQ: dict[str, str] = {
    "password reset": "Open Settings > Security, choose 'Reset password' and follow the "
    "link we email you. The link is valid for 30 minutes.",
    "refund": "Refunds go back to the original payment method within 5-7 business days "
    "after we receive the returned item.",
    "shipping time": "Standard shipping takes 3-5 business days; express takes 1-2.",
    "cancel subscription": "Go to Billing > Subscription and press 'Cancel plan'. You keep "
    "access until the end of the paid period.",
    "opening hours": "Support is open Monday to Friday, 8:00-20:00 CET.",
    "change email": "Open Settings > Profile, edit the email field and confirm the code we "
    "send to the new address.",
    "invoice": "Invoices are under Billing > History; each can be downloaded as a PDF.",
    "two-factor": "Enable two-factor authentication in Settings > Security > 2FA with any "
    "TOTP app.",
    "delete account": "Settings > Privacy > Delete account. Deletion is final after 14 days.",
    "api rate limit": "The API allows 600 requests per minute per key; contact sales for more.",
    "export data": "Settings > Privacy > Export builds a ZIP of your data within an hour.",
    "pricing": "Plans start at 9 EUR per month; annual billing saves two months.",
}

_WORD = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> int:
    # ~4 characters per token, the usual rule of thumb for English with GPT tokenizers.
    return max(1, (len(text) + 3) // 4)


class FakeChatModel:
    """Deterministic chat "LLM" with simulated latency and token usage.

    Args:
        model: Model name reported in responses (prices come from the pricing table).
        base_latency: Seconds of fixed overhead per call (network + queueing).
        per_token_latency: Seconds per generated token.
        knowledge: Topic -> answer table.

    Example:
        >>> llm = FakeChatModel(base_latency=0, per_token_latency=0)
        >>> r = llm([{"role": "user", "content": "How long does shipping take?"}])
        >>> r["choices"][0]["message"]["content"].startswith("Standard shipping")
        True
    """

    def __init__(
        self,
        model: str = "gpt-4o",
        base_latency: float = 0.12,
        per_token_latency: float = 0.002,
        knowledge: Mapping[str, str] | None = None,
    ) -> None:
        self.model = model
        self.base_latency = base_latency
        self.per_token_latency = per_token_latency
        self.knowledge = dict(knowledge or SUPPORT_FAQ)
        self._lock = threading.Lock()
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0

    def answer(self, question: str) -> str:
        """The knowledge-base answer whose topic words overlap the question most."""
        words = set(_WORD.findall(question.lower()))
        best, best_score = None, 0
        for topic, text in self.knowledge.items():
            topic_words = set(_WORD.findall(topic))
            score = sum(2 for w in topic_words if w in words) + sum(
                1 for w in topic_words for q in words if len(w) > 4 and q.startswith(w[:5])
            )
            if score > best_score:
                best, best_score = text, score
        return best or "I'm not sure; let me connect you with a human agent."

    def _respond(self, messages: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], float]:
        question = str(messages[-1].get("content", "")) if messages else ""
        content = self.answer(question)
        prompt_tokens = sum(_tokens(str(m.get("content", ""))) + 4 for m in messages)
        completion_tokens = _tokens(content)
        with self._lock:
            self.calls += 1
            self.input_tokens += prompt_tokens
            self.output_tokens += completion_tokens
            n = self.calls
        response = {
            "id": f"chatcmpl-fake-{n}",
            "object": "chat.completion",
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        delay = self.base_latency + self.per_token_latency * completion_tokens
        return response, delay

    def __call__(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Answer synchronously (sleeps for the simulated latency)."""
        response, delay = self._respond(messages)
        if delay > 0:
            time.sleep(delay)
        return response

    async def acall(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Answer asynchronously (awaits the simulated latency)."""
        response, delay = self._respond(messages)
        if delay > 0:
            await asyncio.sleep(delay)
        return response
