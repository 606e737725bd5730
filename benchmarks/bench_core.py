"""Core hit/set cost and memory per entry against bare baselines, in one run.

    python benchmarks/bench_core.py            # full run (about a minute on a quiet machine)
    python benchmarks/bench_core.py --quick    # fewer calls, smaller memory run
    python benchmarks/bench_core.py --no-memory --no-disk

Prints, side by side, each as a ratio to a bare baseline timed in the same process:

* in-memory ``CacheManager.get`` hit vs ``dict.get(sha256(key).hexdigest())`` (goal <= 1.5x),
  for one hot key and for 100k distinct keys read in turn; ``set`` and a miss;
* disk: ``CacheManager.get`` hit on ``DiskBackend`` vs raw ``diskcache.Cache.get`` of the
  same bytes (goal <= 1.5x), and ``set``;
* memory per cached entry (100k entries of 300-character values): the resident-set growth
  of a fresh subprocess filling a ``CacheManager`` vs one filling a plain dict with the
  same keys and values, and a ``ResponseCache`` (one chat message + two sampling
  parameters per request) vs a dict keyed by the sha256 of the request's sorted JSON
  (goal <= 1.2x for both; median of three subprocesses each).

Timing: CPU time of this process (``time.process_time``), so other processes competing for
the cores inflate the figures less. Each repeat times the baseline and then the contender
back to back; the ratio printed is the median of the per-repeat ratios, the microseconds
the median of the contender's repeats. On a shared, loaded machine the absolute figures
move by 2x between runs while the ratios stay within about 10%.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable

VALUE = "The capital of France is Paris."  # a typical short LLM answer
KEY = "user:42:answer"


def timed(fn: Callable[[], object], number: int) -> float:
    """Seconds of this process's CPU time per call of ``fn``."""
    return timeit.Timer(fn, timer=time.process_time).timeit(number) / number


def paired(
    base: Callable[[], object], ours: Callable[[], object], number: int, repeat: int
) -> tuple[float, float, float]:
    """``(our median us, baseline median us, median of per-repeat ratios)``."""
    base(), ours()
    b, o = [], []
    for _ in range(repeat):
        b.append(timed(base, number))
        o.append(timed(ours, number))
    ratio = statistics.median(x / y for x, y in zip(o, b, strict=True))
    return statistics.median(o) * 1e6, statistics.median(b) * 1e6, ratio


def cycling(fn: Callable[[str], object], keys: list[str]) -> Callable[[], None]:
    """One call does ``fn(k)`` for every key in turn (time it with ``number=1``)."""

    def run() -> None:
        for k in keys:
            fn(k)

    return run


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc``; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        import os

        return pages * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def value_of(i: int, size: int) -> str:
    """A distinct ``size``-character ASCII answer."""
    head = f"answer {i}: "
    return head + "x" * (size - len(head))


def rss_child(contender: str, entries: int, size: int) -> None:
    """Fill one contender in this (fresh) process and print its RSS growth per entry."""
    from omnicache_ai import CacheManager, InMemoryBackend
    from omnicache_ai.layers import ResponseCache

    model, params = "gpt-4o", {"temperature": 0.2, "max_tokens": 256}
    holder: list[object] = []
    if contender == "dict":
        plain: dict[str, str] = {}
        holder.append(plain)

        def put(i: int) -> None:
            plain[f"user:{i}:answer"] = value_of(i, size)
    elif contender == "CacheManager":
        manager = CacheManager(backend=InMemoryBackend())
        manager.set("warm-up", "x")
        holder.append(manager)

        def put(i: int) -> None:
            manager.set(f"user:{i}:answer", value_of(i, size))
    elif contender == "dict(request)":
        by_digest: dict[str, str] = {}
        holder.append(by_digest)

        def put(i: int) -> None:
            request = {"model": model, "messages": [{"role": "user", "content": f"q{i}?"}]}
            text = json.dumps({**request, **params}, sort_keys=True)
            by_digest[hashlib.sha256(text.encode()).hexdigest()] = value_of(i, size)
    elif contender == "ResponseCache":
        rc = ResponseCache(CacheManager(backend=InMemoryBackend()))
        rc.set([{"role": "user", "content": "warm-up"}], "x", model_id=model, params=params)
        holder.append(rc)

        def put(i: int) -> None:
            messages = [{"role": "user", "content": f"q{i}?"}]
            rc.set(messages, value_of(i, size), model_id=model, params=params)
    else:
        raise SystemExit(f"unknown contender {contender!r}")
    gc.collect()
    before = rss_bytes()
    for i in range(entries):
        put(i)
    gc.collect()
    print((rss_bytes() - before) / entries)


def rss_per_entry(contender: str, entries: int, size: int) -> float:
    """Median RSS growth per entry over three fresh subprocesses."""
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, __file__, "--rss-child", contender, str(entries), str(size)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(float(out.strip().splitlines()[-1]))
    return statistics.median(runs)


Row = tuple[str, float, float, float, str]


def sha(key: str) -> str:
    """The baseline's key: a sha256 hex digest."""
    return hashlib.sha256(key.encode()).hexdigest()


def memory_rows(n: int, r: int, entries: int) -> list[Row]:
    """In-memory hit, set and miss for one hot key, and hits cycling ``entries`` keys."""
    from omnicache_ai import CacheManager, InMemoryBackend

    rows: list[Row] = []
    plain: dict[str, str] = {sha(KEY): VALUE}
    manager = CacheManager(backend=InMemoryBackend())
    manager.set(KEY, VALUE)
    assert manager.get(KEY) == VALUE
    got = paired(lambda: plain.get(sha(KEY)), lambda: manager.get(KEY), n, r)
    rows.append(("memory get (hit)", *got, "dict.get(sha256(key))"))

    def dict_set() -> None:
        plain[sha(KEY)] = VALUE

    got = paired(dict_set, lambda: manager.set(KEY, VALUE), n // 4, r)
    rows.append(("memory set", *got, "dict[sha256(key)] = v"))
    got = paired(lambda: plain.get(sha("absent")), lambda: manager.get("absent"), n, r)
    rows.append(("memory get (miss)", *got, "dict.get(sha256(key))"))

    keys = [f"user:{i}:answer" for i in range(entries)]
    many: dict[str, str] = {sha(k): VALUE for k in keys}
    big = CacheManager(backend=InMemoryBackend())
    big.set_many(dict.fromkeys(keys, VALUE))
    us, base_us, ratio = paired(
        cycling(lambda k: many.get(sha(k)), keys), cycling(big.get, keys), 1, r
    )
    name = f"memory get, {entries} keys"
    rows.append((name, us / entries, base_us / entries, ratio, "dict.get(sha256(key))"))
    return rows


def disk_rows(n: int, r: int) -> list[Row]:
    """Disk hit and set against raw diskcache holding the same envelope bytes."""
    import diskcache

    from omnicache_ai import CacheManager, DiskBackend

    nd = max(n // 20, 2000)
    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        raw = diskcache.Cache(d1)
        manager = CacheManager(backend=DiskBackend(d2))
        manager.set(KEY, VALUE)
        stored = manager.backend.get(manager.storage_key(KEY))  # the exact envelope
        raw.set(KEY, stored)
        got = paired(lambda: raw.get(KEY), lambda: manager.get(KEY), nd, r)
        rows: list[Row] = [("disk get (hit)", *got, "diskcache.get(same bytes)")]
        got = paired(lambda: raw.set(KEY, stored), lambda: manager.set(KEY, VALUE), nd // 4, r)
        rows.append(("disk set", *got, "diskcache.set(same bytes)"))
        raw.close()
        manager.close()
    return rows


def print_memory(entries: int, size: int) -> None:
    """RSS growth per entry of each contender, in fresh subprocesses."""
    print(f"\nmemory per entry: {entries} entries x {size}-character values, RSS growth")
    for base_name, base, ours_name, ours in (
        ("dict[key] = value", "dict", "CacheManager.set", "CacheManager"),
        ("dict[sha256(request)]", "dict(request)", "ResponseCache.set", "ResponseCache"),
    ):
        base_b = rss_per_entry(base, entries, size)
        ours_b = rss_per_entry(ours, entries, size)
        print(f"{base_name:<26}{base_b:>10.0f} B")
        print(f"{ours_name:<26}{ours_b:>10.0f} B  {ours_b / base_b:.2f}x (goal <= 1.2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="calls per repeat (memory)")
    parser.add_argument("--repeat", type=int, default=5, help="repeats (median is kept)")
    parser.add_argument("--entries", type=int, default=100_000, help="entries in use")
    parser.add_argument("--value-bytes", type=int, default=300, help="value size (memory run)")
    parser.add_argument("--quick", action="store_true", help="fewer calls and entries")
    parser.add_argument("--no-disk", action="store_true", help="skip the disk rows")
    parser.add_argument("--no-memory", action="store_true", help="skip the RSS measurement")
    parser.add_argument("--rss-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        who, entries, size = args.rss_child
        rss_child(who, int(entries), int(size))
        return
    if args.quick:
        args.n, args.repeat, args.entries = 50_000, 3, 20_000

    rows = memory_rows(args.n, args.repeat, args.entries)
    if not args.no_disk:
        rows += disk_rows(args.n, args.repeat)
    print(f"{'operation':<26}{'omnicache':>12}{'baseline':>12}{'ratio':>8}  baseline is")
    for name, ours, base, ratio, what in rows:
        print(f"{name:<26}{ours:>10.2f}us{base:>10.2f}us{ratio:>7.2f}x  {what}")
    print("goals: memory get hit <= 1.5x dict+sha256; disk get hit <= 1.5x raw diskcache")
    if not args.no_memory:
        print_memory(args.entries, args.value_bytes)


if __name__ == "__main__":
    main()
