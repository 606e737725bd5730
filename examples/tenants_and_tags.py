"""Multi-tenant caching on one shared backend, with per-tenant tag invalidation.

Run: python examples/tenants_and_tags.py
"""

import tempfile

from omnicache_ai import CacheManager, DiskBackend

shared = CacheManager(backend=DiskBackend(path=tempfile.mkdtemp()))
acme, globex = shared.for_tenant("acme"), shared.for_tenant("globex")

acme.set("faq:hours", "9-17 CET", tags=["faq"])
globex.set("faq:hours", "24/7", tags=["faq"])
print("acme sees:", acme.get("faq:hours"), "| globex sees:", globex.get("faq:hours"))

acme.invalidate("faq")  # only acme's FAQ entries are retired
print("after acme invalidates 'faq': acme ->", acme.get("faq:hours"),
      "| globex ->", globex.get("faq:hours"))  # fmt: skip
print("globex's keys:", globex.keys())
shared.close()
