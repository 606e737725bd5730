"""Core hit/set cost against bare baselines, in one run.

    python benchmarks/bench_core.py [--n 200000]

Prints, side by side:
* in-memory: ``CacheManager.get`` hit vs a plain dict lookup of a sha256 key (goal <= 3x),
  and ``CacheManager.set`` vs dict assignment;
* disk: ``CacheManager.get`` hit on ``DiskBackend`` vs raw ``diskcache.Cache.get`` of the same
  bytes (goal <= 1.5x), and ``set``.
Each figure is the best of 5 repeats (microseconds per call), which filters scheduler noise
on a shared machine.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import timeit
from collections.abc import Callable

import diskcache

from omnicache_ai import CacheManager, DiskBackend, InMemoryBackend

VALUE = "The capital of France is Paris."  # a typical short LLM answer


def best_us(fn: Callable[[], object], n: int) -> float:
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000, help="calls per repeat (memory)")
    args = parser.parse_args()
    n, nd = args.n, max(args.n // 20, 2000)
    key = "user:42:answer"
    rows: list[tuple[str, float, float, str]] = []

    # -- in-memory ------------------------------------------------------------------------
    plain: dict[str, str] = {hashlib.sha256(key.encode()).hexdigest(): VALUE}
    manager = CacheManager(backend=InMemoryBackend())
    manager.set(key, VALUE)
    assert manager.get(key) == VALUE
    base_get = best_us(lambda: plain.get(hashlib.sha256(key.encode()).hexdigest()), n)
    hit = best_us(lambda: manager.get(key), n)
    rows.append(("memory get (hit)", hit, base_get, "dict + sha256(key)"))

    def dict_set() -> None:
        plain[hashlib.sha256(key.encode()).hexdigest()] = VALUE

    base_set = best_us(dict_set, n)
    mset = best_us(lambda: manager.set(key, VALUE), n)
    rows.append(("memory set", mset, base_set, "dict + sha256(key)"))
    miss = best_us(lambda: manager.get("absent"), n)
    rows.append(("memory get (miss)", miss, base_get, "dict + sha256(key)"))

    # -- disk -----------------------------------------------------------------------------
    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        raw = diskcache.Cache(d1)
        disk_manager = CacheManager(backend=DiskBackend(d2))
        disk_manager.set(key, VALUE)
        stored = disk_manager.backend.get(key)  # the exact envelope bytes
        raw.set(key, stored)
        raw_get = best_us(lambda: raw.get(key), nd)
        dhit = best_us(lambda: disk_manager.get(key), nd)
        rows.append(("disk get (hit)", dhit, raw_get, "diskcache.get(same bytes)"))
        raw_set = best_us(lambda: raw.set(key, stored), nd // 4)
        dset = best_us(lambda: disk_manager.set(key, VALUE), nd // 4)
        rows.append(("disk set", dset, raw_set, "diskcache.set(same bytes)"))
        raw.close()
        disk_manager.close()

    print(f"{'operation':<20}{'omnicache':>12}{'baseline':>12}{'ratio':>8}  baseline is")
    for name, ours, base, what in rows:
        print(f"{name:<20}{ours:>10.2f}us{base:>10.2f}us{ours / base:>7.2f}x  {what}")
    print("goals: memory get hit <= 3x dict+sha256; disk get hit <= 1.5x raw diskcache")


if __name__ == "__main__":
    main()
