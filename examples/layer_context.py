"""ContextCache: conversation turns per session, history and session eviction (offline).

Run: python examples/layer_context.py
"""

from omnicache_ai import CacheManager, ContextCache

ctx = ContextCache(CacheManager())
turns = [
    [{"role": "user", "content": "Hi, I'm Ada."}],
    [{"role": "assistant", "content": "Hello Ada! How can I help?"}],
    [{"role": "user", "content": "What's my name?"}, {"role": "assistant", "content": "Ada."}],
]
for i, messages in enumerate(turns):
    ctx.set(session_id="user-123", turn_index=i, messages=messages)

print("turn 1:", ctx.get(session_id="user-123", turn_index=1))
print("latest turn:", ctx.latest_turn("user-123"))
print("history:", [m["content"] for m in ctx.get_history("user-123")])
print("last turn only:", ctx.get_history("user-123", last_n=1))
ctx.invalidate_session("user-123")
print("after invalidate_session:", ctx.get_history("user-123"))
