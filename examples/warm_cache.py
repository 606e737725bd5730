"""Pre-populate a cache from a CSV file before traffic arrives.

Run: python examples/warm_cache.py
"""

import csv
import tempfile
from pathlib import Path

from omnicache_ai import CacheManager, CacheWarmer

path = Path(tempfile.mkdtemp()) / "faq.csv"
with path.open("w", newline="", encoding="utf-8") as fh:
    writer = csv.writer(fh)
    writer.writerow(["question", "answer"])
    for i in range(1000):
        writer.writerow([f"faq:{i}", f"answer number {i}"])

manager = CacheManager()
report = CacheWarmer(manager, progress=False).from_csv(path, "question", "answer", ttl=3600)
print(f"warmed {report.written} entries; faq:500 -> {manager.get('faq:500')!r}")
