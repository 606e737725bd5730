"""Side by side: omnicache-ai against the peers that are installed, on the same baselines.

Usage::

    .venv/bin/python benchmarks/bench_compare.py              # every row, every installed peer
    .venv/bin/python benchmarks/bench_compare.py --quick      # small sizes, 1 repeat: a smoke run
    .venv/bin/python benchmarks/bench_compare.py --only 1,3 --markdown --json out.json

Contenders (build the peers' environments once with ``bash scripts/bench_envs.sh``; a peer
whose environment or interpreter is missing is skipped with the reason printed):

* ``ours``: this checkout, in the interpreter running this script (``.venv``);
* ``ref``: the published omnicache-ai 0.3.0, the reference implementation of the same API
  (``.venv-bench-ref``, Python >= 3.12);
* ``gptcache``, ``lc-memory``, ``lc-sqlite``, ``semantic-llm-cache``: GPTCache, LangChain's
  ``InMemoryCache`` and ``SQLiteCache``, semantic-llm-cache (``.venv-bench``, Python 3.11).

Every contender runs in a process of its own (its own interpreter and environment: this file
is the worker, run with ``-I`` so it imports only the contender's packages), and every ratio
is to a bare baseline timed *in that same process*, interleaved with the contender's rounds:
what the ratio measures is the library, not the interpreter version or the machine's load.
Each figure is the median of the repeats (3, or 1 with ``--quick``).

Rows (``--only`` takes their numbers):

1. ResponseCache-style hit for a chat request (3 messages + sampling params), with 1 request
   repeated, 4,096 distinct requests in turn and 100k distinct requests in turn, all stored;
   baseline ``json.dumps(request, sort_keys=True)`` + sha256 + dict lookup. Peers key a
   string: they get the request as the JSON text of the messages plus the model and params
   (what an application has to build to use them), built inside the timed call.
2. In-memory key lookup hit (``CacheManager.get``; peers: their lookup of a string key) vs
   ``d[sha256(key).hexdigest()]``, 1 key repeated and 100k distinct keys in turn.
3. Redis hit, untagged and tagged (2 tags), 1 key and 4,096 keys in turn, vs a bare
   redis-py ``GET`` of a value of the same size (a redis-server is started on a free port).
4. Memory per cached entry: 100k x 300-byte values, RSS growth in a fresh process, ratio to a
   plain dict holding the same keys and values, built in another fresh process of the same
   interpreter.
5. Filling a SemanticCache with 100k entries, vectors given (``set_many`` when the cache has
   it, else ``set`` in a loop), numpy and FAISS stores; baseline: stacking the vectors into a
   matrix (numpy) or one ``IndexFlatIP.add`` (FAISS) plus a dict of the answers.
6. Zero-config semantic lookup p50 at 100k entries (random unit vectors of dim 384 given
   directly, no model; each query a stored vector plus noise, under new text); baseline: a
   flat numpy scan (``argmax(M @ q)``).
7. 10k-entry FAISS single-query search p50 with default threading while a busy-loop process
   holds a core; baseline: the same flat numpy scan.
8. Multi-process Redis hits/s with 1, 2 and 4 worker processes, vs a bare redis-py ``GET``
   loop at the same N; also the share of a core redis-server used (near 1.0: the server is
   the bottleneck; near the core count: the clients are).

Rows 1-2 time this process's CPU (``time.process_time``), immune to other processes on a
busy machine; rows 3 and 5-8 are wall clock (they wait on a server or on threads). Lower
ratios are better, except row 8 (hits/s: higher is better).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).resolve()

MODEL = "gpt-4o"
SYSTEM = {"role": "system", "content": "You are a helpful assistant that answers briefly."}
PARAMS = {"temperature": 0.2, "max_tokens": 256, "seed": 7, "stop": ["\n\n"]}
DIM = 384
VALUE_BYTES = 300
TAGS = ["model:gpt-4o", "tenant:acme"]

# name, label, environment directory (None: this interpreter), module that proves it is installed
CONTENDERS: list[tuple[str, str, str | None, str]] = [
    ("ours", "omnicache-ai (this checkout)", None, "omnicache_ai"),
    ("ref", "omnicache-ai 0.3.0", ".venv-bench-ref", "omnicache_ai"),
    ("gptcache", "GPTCache", ".venv-bench", "gptcache"),
    ("lc-memory", "LangChain InMemoryCache", ".venv-bench", "langchain_core"),
    ("lc-sqlite", "LangChain SQLiteCache", ".venv-bench", "langchain_community"),
    ("semantic-llm-cache", "semantic-llm-cache", ".venv-bench", "semantic_llm_cache"),
]
DISTRIBUTION = {
    "ours": "omnicache-ai",
    "ref": "omnicache-ai",
    "gptcache": "gptcache",
    "lc-memory": "langchain-core",
    "lc-sqlite": "langchain-community",
    "semantic-llm-cache": "semantic-llm-cache",
}
SLOW = 100e-6  # seconds per hit above which a pass over many items is sampled (budgeted())
# Peers too slow to fill with 100k entries in a benchmark run hold at most this many.
FILL_CAP = {"lc-sqlite": 10_000}
ROWS = {
    1: "ResponseCache-style hit vs json.dumps + sha256 + dict",
    2: "in-memory get hit vs dict[sha256(key)]",
    3: "Redis hit vs bare redis-py GET",
    4: "memory per entry (100k x 300 B) vs a dict",
    5: "fill a SemanticCache with 100k entries (vectors given)",
    6: "zero-config semantic lookup p50 at 100k",
    7: "10k FAISS single-query search p50, other core busy",
    8: "multi-process Redis hits/s (1, 2, 4 processes)",
}
# Which contenders take part in each row, and why the others do not.
PARTICIPANTS = {
    1: ["ours", "ref", "gptcache", "lc-memory", "lc-sqlite", "semantic-llm-cache"],
    2: ["ours", "ref", "gptcache", "lc-memory", "lc-sqlite", "semantic-llm-cache"],
    3: ["ours", "ref"],
    4: ["ours", "ref", "gptcache", "lc-memory", "semantic-llm-cache"],
    5: ["ours", "ref"],
    6: ["ours", "ref"],
    7: ["ours", "ref"],
    8: ["ours", "ref"],
}
ABSENT_REASON = {
    3: "the peers' Redis caches are not wired here (this row compares the same API)",
    4: "SQLiteCache keeps entries on disk: RSS says nothing about it",
    5: "semantic mode of the peers needs an embedding model (no vectors-given API wired)",
    6: "semantic mode of the peers needs an embedding model (no vectors-given API wired)",
    7: "measures omnicache's own FAISS store",
    8: "the peers' Redis caches are not wired here",
}


# ======================================================================================
# Worker side: runs inside the contender's interpreter; stdlib + the contender's packages.
# ======================================================================================


def cpu_time_rounds(
    cases: Sequence[Callable[[], int]], repeats: int, clock: Callable[[], float]
) -> list[float]:
    """Median seconds per call of each case; each case runs a batch and returns its call count.

    Rounds interleave the cases, so a burst of load from elsewhere hits them alike.
    """
    runs: list[list[float]] = [[] for _ in cases]
    for _ in range(repeats):
        for i, case in enumerate(cases):
            start = clock()
            calls = case()
            runs[i].append((clock() - start) / calls)
    return [statistics.median(r) for r in runs]


def loop_over(fn: Callable[[Any], Any], items: Sequence[Any]) -> Callable[[], int]:
    """A batch that calls ``fn`` on every item once."""

    def batch() -> int:
        for item in items:
            fn(item)
        return len(items)

    return batch


def repeat_one(fn: Callable[[Any], Any], item: Any, calls: int) -> Callable[[], int]:
    """A batch that calls ``fn(item)`` ``calls`` times."""

    def batch() -> int:
        for _ in range(calls):
            fn(item)
        return calls

    return batch


def budgeted(fn: Callable[[Any], Any], items: Sequence[Any], budget: float) -> list[Any]:
    """``items`` thinned (evenly spread, still distinct) so one pass costs about ``budget`` s.

    Caches under ``SLOW`` seconds a call keep every item (so a pattern of distinct requests
    stays what it is); a peer that takes milliseconds per hit would otherwise keep a 100k pass
    running for minutes. The variant then notes how many items were timed.
    """
    probe = items[: min(len(items), 20)]
    start = time.process_time()  # CPU time: a loaded machine must not make a fast cache "slow"
    for item in probe:
        fn(item)
    per_call = (time.process_time() - start) / len(probe)
    keep = max(50, int(budget / per_call)) if per_call > SLOW else len(items)
    if keep >= len(items):
        return list(items)
    step = len(items) / keep
    return [items[int(i * step)] for i in range(keep)]


def one_repeated(
    base_get: Callable[[Any], Any], get: Callable[[Any], Any], item: Any, p: dict[str, Any]
) -> tuple[float, float]:
    """CPU seconds per call of the baseline and the contender, one item looked up again and
    again (``p["calls"]`` times, fewer for a slow peer)."""
    calls = len(budgeted(get, [item] * p["calls"], p["budget"]))
    cases = [repeat_one(base_get, item, calls), repeat_one(get, item, calls)]
    base, ours = cpu_time_rounds(cases, p["repeats"], time.process_time)
    return base, ours


def make_request(i: int) -> dict[str, Any]:
    """The ``i``-th distinct chat request (system + two user turns, model, params)."""
    return {
        "model": MODEL,
        "messages": [
            SYSTEM,
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "user", "content": f"Question {i}: what is {i} times 7?"},
        ],
        "params": PARAMS,
    }


def make_requests(n: int) -> list[dict[str, Any]]:
    return [make_request(i) for i in range(n)]


def request_digest(req: dict[str, Any]) -> str:
    """The baseline's key: canonical JSON of the whole request, sha256."""
    body = {"model": req["model"], "messages": req["messages"], **req["params"]}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def request_strings(req: dict[str, Any]) -> tuple[str, str]:
    """(prompt, llm_string) for the string-keyed peers, as an application would build them."""
    prompt = json.dumps(req["messages"])
    llm = json.dumps({"model": req["model"], **req["params"]}, sort_keys=True)
    return prompt, llm


def answer(i: int) -> str:
    return f"Answer {i}: {i * 7}."


def value_300(i: int) -> str:
    """A distinct 300-character answer."""
    head = f"{i:09d} "
    return head + "x" * (VALUE_BYTES - len(head))


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class StringCache:
    """A peer reduced to what the rows need: store and look up a value under two strings."""

    def __init__(self, kind: str, tmp: str, size: int) -> None:
        self.kind = kind
        if kind == "lc-memory":
            from langchain_core.caches import InMemoryCache
            from langchain_core.outputs import Generation

            self._gen = Generation
            self._cache: Any = InMemoryCache()
        elif kind == "lc-sqlite":
            from langchain_community.cache import SQLiteCache
            from langchain_core.outputs import Generation

            self._gen = Generation
            self._cache = SQLiteCache(database_path=os.path.join(tmp, "langchain.db"))
        elif kind == "gptcache":
            from gptcache import Cache
            from gptcache.manager import get_data_manager
            from gptcache.processor.pre import get_prompt

            self._cache = Cache()
            # The default map store is an LRU of 1,000 entries: size it to hold every entry.
            self._cache.init(
                pre_embedding_func=get_prompt,
                data_manager=get_data_manager(
                    data_path=os.path.join(tmp, "gptcache.txt"), max_size=size + 10
                ),
            )
            from gptcache.adapter import api

            self._api = api
        elif kind == "semantic-llm-cache":
            from semantic_llm_cache import cache

            self._pending: list[Any] = [None]

            def call_model(prompt: str) -> Any:
                value = self._pending[0]
                if value is None:
                    raise LookupError("a lookup reached the model: that was a cache miss")
                return value

            # similarity=1.0: its exact mode (its semantic mode needs an embedding model)
            self._ask = cache(similarity=1.0, ttl=None, namespace="bench")(call_model)
        else:
            raise ValueError(f"not a string-keyed peer: {kind}")

    def put(self, prompt: str, llm: str, value: str) -> None:
        if self.kind in ("lc-memory", "lc-sqlite"):
            self._cache.update(prompt, llm, [self._gen(text=value)])
        elif self.kind == "gptcache":
            self._api.put(llm + "\n" + prompt, value, cache_obj=self._cache)
        else:
            self._pending[0] = value
            try:
                self._ask(llm + "\n" + prompt)
            finally:
                self._pending[0] = None

    def getter(self) -> Callable[[str, str], Any]:
        """The raw lookup, as fast as the peer's API allows (bound methods, no wrapper)."""
        if self.kind in ("lc-memory", "lc-sqlite"):
            return self._cache.lookup  # type: ignore[no-any-return]
        if self.kind == "gptcache":
            get, obj = self._api.get, self._cache
            return lambda prompt, llm: get(llm + "\n" + prompt, cache_obj=obj)
        ask = self._ask
        return lambda prompt, llm: ask(llm + "\n" + prompt)

    def unwrap(self, found: Any) -> Any:
        if self.kind in ("lc-memory", "lc-sqlite"):
            return None if not found else found[0].text
        return found


def omnicache(kind: str) -> Any:
    """The ``omnicache_ai`` of this process: this checkout for ``ours``, 0.3.0 for ``ref``."""
    if kind not in ("ours", "ref"):
        raise ValueError(f"{kind} is not an omnicache-ai contender")
    return importlib.import_module("omnicache_ai")


def memory_manager(kind: str, size: int) -> Any:
    oc = omnicache(kind)
    if kind == "ref":  # 0.3.0: key builder required, LRU of 10,000 by default
        return oc.CacheManager(oc.InMemoryBackend(max_size=size + 10), oc.CacheKeyBuilder("bench"))
    return oc.CacheManager(backend=oc.InMemoryBackend(max_size=size + 10))


def check(found: Any, expected: Any, what: str) -> None:
    if found != expected:
        raise AssertionError(f"mis-wired: {what} returned {found!r}, expected {expected!r}")


def variant(name: str, value: float, base: float, unit: str, **extra: Any) -> dict[str, Any]:
    return {"variant": name, "value": value, "base": base, "unit": unit, **extra}


def row_response(kind: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    sizes: list[int] = [n for n in p["distinct"] if n <= FILL_CAP.get(kind, n)]
    reqs = make_requests(max(sizes))
    store = {request_digest(r): answer(i) for i, r in enumerate(reqs)}

    def base_get(req: dict[str, Any]) -> Any:
        return store[request_digest(req)]

    if kind in ("ours", "ref"):
        oc = omnicache(kind)
        rc = oc.ResponseCache(memory_manager(kind, len(reqs)))
        for i, r in enumerate(reqs):
            rc.set(r["messages"], answer(i), model_id=r["model"], params=r["params"])

        def get(req: dict[str, Any]) -> Any:
            return rc.get(req["messages"], model_id=req["model"], params=req["params"])

        unwrap: Callable[[Any], Any] = lambda found: found  # noqa: E731
    else:
        peer = StringCache(kind, p["tmp"], len(reqs))
        for i, r in enumerate(reqs):
            peer.put(*request_strings(r), answer(i))
        lookup = peer.getter()

        def get(req: dict[str, Any]) -> Any:
            return lookup(*request_strings(req))

        unwrap = peer.unwrap
    expected = {id(r): answer(i) for i, r in enumerate(reqs)}
    out = []
    clock = time.process_time
    base, ours = one_repeated(base_get, get, reqs[0], p)
    out.append(variant("1 request repeated", ours * 1e6, base * 1e6, "us"))
    for n in sizes:
        subset = budgeted(get, reqs[:n], p["budget"])
        for r in subset:  # every request timed is a hit with the right answer
            check(unwrap(get(r)), expected[id(r)], f"{kind} hit for {r['messages'][-1]}")
            check(base_get(r), expected[id(r)], "baseline")
        base, ours = cpu_time_rounds(
            [loop_over(base_get, subset), loop_over(get, subset)], p["repeats"], clock
        )
        note = {} if len(subset) == n else {"note": f"{len(subset):,} of them timed (slow hits)"}
        out.append(variant(f"{n:,} distinct in turn", ours * 1e6, base * 1e6, "us", **note))
    out += [
        {"variant": f"{n:,} distinct in turn", "skipped": f"fill capped at {FILL_CAP[kind]:,}"}
        for n in p["distinct"]
        if n not in sizes
    ]
    return out


def row_kv(kind: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    n = min(p["entries"], FILL_CAP.get(kind, p["entries"]))
    keys = [f"user:{i}:answer" for i in range(n)]
    plain = {hashlib.sha256(k.encode()).hexdigest(): answer(i) for i, k in enumerate(keys)}

    def base_get(key: str) -> Any:
        return plain[hashlib.sha256(key.encode()).hexdigest()]

    if kind in ("ours", "ref"):
        manager = memory_manager(kind, n)
        for i, k in enumerate(keys):
            manager.set(k, answer(i))
        get: Callable[[str], Any] = manager.get
        unwrap: Callable[[Any], Any] = lambda found: found  # noqa: E731
    else:
        peer = StringCache(kind, p["tmp"], n)
        for i, k in enumerate(keys):
            peer.put(k, "", answer(i))
        lookup = peer.getter()

        def get(key: str) -> Any:
            return lookup(key, "")

        unwrap = peer.unwrap
    expected = {k: answer(i) for i, k in enumerate(keys)}
    timed = budgeted(get, keys, p["budget"])
    for k in timed:
        check(unwrap(get(k)), expected[k], f"{kind} hit for key {k}")
    clock = time.process_time
    base1, one = one_repeated(base_get, get, keys[0], p)
    based, many = cpu_time_rounds(
        [loop_over(base_get, timed), loop_over(get, timed)], p["repeats"], clock
    )
    notes = []
    if n < p["entries"]:
        notes.append(f"holds {n:,} entries (fill capped)")
    if len(timed) < n:
        notes.append(f"{len(timed):,} of them timed (slow hits)")
    note = {"note": "; ".join(notes)} if notes else {}
    return [
        variant("1 key repeated", one * 1e6, base1 * 1e6, "us", **note),
        variant(f"{p['entries']:,} distinct keys in turn", many * 1e6, based * 1e6, "us", **note),
    ]


def row_redis(kind: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    import redis

    url, n = p["redis_url"], p["redis_keys"]
    raw = redis.Redis.from_url(url)
    oc = omnicache(kind)
    prefix = f"cmp-{kind}:"
    if kind == "ref":
        from omnicache_ai.backends.redis_backend import RedisBackend

        manager = oc.CacheManager(RedisBackend(url, key_prefix=prefix), oc.CacheKeyBuilder("b"))
    else:
        from omnicache_ai.backends.redis_backend import RedisBackend

        manager = oc.CacheManager(backend=RedisBackend(url, prefix=prefix))
    value = value_300(0)
    plain = [f"u:{i}" for i in range(n)]
    tagged = [f"t:{i}" for i in range(n)]
    bare = [f"{prefix}bare:{i}".encode() for i in range(n)]
    for i in range(n):
        manager.set(plain[i], value)
        manager.set(tagged[i], value, tags=TAGS)
        raw.set(bare[i], value.encode())
    for keys in (plain, tagged):
        for k in keys[:50]:
            check(manager.get(k), value, f"{kind} Redis hit {k}")
    check(raw.get(bare[0]), value.encode(), "bare GET")
    clock = time.perf_counter
    out = []
    for label, keys in (("untagged", plain), ("tagged (2 tags)", tagged)):
        base1, one, based, many = cpu_time_rounds(
            [
                repeat_one(raw.get, bare[0], p["redis_calls"]),
                repeat_one(manager.get, keys[0], p["redis_calls"]),
                loop_over(raw.get, bare),
                loop_over(manager.get, keys),
            ],
            p["repeats"],
            clock,
        )
        out.append(variant(f"{label}, 1 key", one * 1e6, base1 * 1e6, "us"))
        out.append(variant(f"{label}, {n:,} keys in turn", many * 1e6, based * 1e6, "us"))
    raw.close()
    return out


def row_memory(kind: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    """One measurement per process: ``p["what"]`` says which store this process fills."""
    n, what = p["entries"], p["what"]
    keep: Any  # requests and values are built one at a time: only the store keeps them
    if what == "base-kv":
        keep = {}

        def put(i: int) -> None:
            keep[f"user:{i}:answer"] = value_300(i)
    elif what == "base-response":
        keep = {}

        def put(i: int) -> None:
            keep[request_digest(make_request(i))] = value_300(i)
    elif what == "kv" and kind in ("ours", "ref"):
        keep = memory_manager(kind, n)

        def put(i: int) -> None:
            keep.set(f"user:{i}:answer", value_300(i))
    elif what == "response":
        keep = omnicache(kind).ResponseCache(memory_manager(kind, n))

        def put(i: int) -> None:
            r = make_request(i)
            keep.set(r["messages"], value_300(i), model_id=r["model"], params=r["params"])
    else:
        keep = StringCache(kind, p["tmp"], n)

        def put(i: int) -> None:
            keep.put(f"user:{i}:answer", "", value_300(i))

    put(n)  # warm up: lazy imports and first-use allocations are not per-entry costs
    gc.collect()
    before = rss_bytes()
    for i in range(n):
        put(i)
    gc.collect()
    after = rss_bytes()
    # spot check: the store really holds the entries
    if what == "kv" and kind in ("ours", "ref"):
        check(keep.get(f"user:{n - 1}:answer"), value_300(n - 1), f"{kind} memory entry")
    elif what == "response":
        r = make_request(n - 1)
        found = keep.get(r["messages"], model_id=r["model"], params=r["params"])
        check(found, value_300(n - 1), f"{kind} memory entry")
    elif what == "kv":
        found = keep.unwrap(keep.getter()(f"user:{n - 1}:answer", ""))
        check(found, value_300(n - 1), f"{kind} memory entry")
    return [{"variant": what, "bytes": after - before, "per_entry": (after - before) / n}]


def unit_vectors(n: int, seed: int) -> Any:
    import numpy as np

    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def near(vectors: Any, noise: float, seed: int) -> Any:
    """Each row moved by a little noise and renormalised (cosine ~0.98 to the original)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    q = vectors + rng.standard_normal(vectors.shape).astype(np.float32) * np.float32(
        noise / np.sqrt(DIM)
    )
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q


def semantic_cache(kind: str, store: str, n: int, embed: Callable[[str], Any]) -> tuple[Any, str]:
    """A SemanticCache over ``store`` (``numpy``, ``faiss`` or ``default``) and its description."""
    oc = omnicache(kind)
    if kind == "ref":
        if store == "numpy":
            raise LookupError("0.3.0 has no numpy vector store")
        from omnicache_ai.backends.vector_backend import FAISSBackend

        exact = oc.InMemoryBackend(max_size=n + 10)
        cache = oc.SemanticCache(exact, FAISSBackend(dim=DIM), embed)
        return cache, "FAISSBackend (flat; 0.3.0 has no default store)"
    kwargs: dict[str, Any] = {"embed_fn": embed}
    if store == "numpy":
        from omnicache_ai.backends.vector import NumpyBackend

        kwargs["vector_backend"] = NumpyBackend(dim=DIM)
    elif store == "faiss":
        from omnicache_ai.backends.vector import FAISSBackend

        kwargs["vector_backend"] = FAISSBackend(dim=DIM)
    manager = oc.CacheManager(backend=oc.InMemoryBackend(max_size=n + 10))
    cache = oc.SemanticCache(manager, **kwargs)
    return cache, "default store" if store == "default" else f"{store} store"


def fill(cache: Any, texts: list[str], values: list[str], vectors: Any) -> str:
    """Store every entry; ``set_many`` when the cache has it. Returns the path taken."""
    many = getattr(cache, "set_many", None)
    if many is not None:
        params = inspect.signature(many).parameters
        pairs = list(zip(texts, values, strict=True))
        if "vectors" in params:
            many(pairs, vectors=vectors)
            return "set_many(vectors=)"
        many(pairs)
        return "set_many"
    for t, v in zip(texts, values, strict=True):
        cache.set(t, v)
    return "set() loop"


def row_fill(kind: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    import numpy as np

    n = p["entries"]
    vectors = unit_vectors(n, seed=1)
    texts = [f"question {i} about topic {i % 97}" for i in range(n)]
    values = [answer(i) for i in range(n)]
    index = {t: vectors[i] for i, t in enumerate(texts)}
    out = []
    for store in ("numpy", "faiss"):
        if store == "faiss" and importlib.util.find_spec("faiss") is None:
            out.append({"variant": f"{store} store, {n:,} entries", "skipped": "no faiss"})
            continue

        def baseline(store: str = store) -> int:
            answers = dict(zip(texts, values, strict=True))
            if store == "numpy":
                matrix = np.ascontiguousarray(np.stack(list(index.values())))
                assert matrix.shape == (n, DIM)
                assert len(answers) == n
            else:
                import faiss

                flat = faiss.IndexFlatIP(DIM)
                flat.add(np.stack(list(index.values())))
                assert flat.ntotal == n
            return 1

        times, base_times, how = [], [], ""
        try:
            for _ in range(p["repeats"]):
                cache, _ = semantic_cache(kind, store, n, index.__getitem__)
                start = time.perf_counter()
                how = fill(cache, texts, values, vectors)
                times.append(time.perf_counter() - start)
                check(cache.get(texts[0]), values[0], f"{kind} semantic entry 0")
                check(cache.get(texts[-1]), values[-1], f"{kind} semantic entry {n - 1}")
                del cache
                gc.collect()
                start = time.perf_counter()
                baseline()
                base_times.append(time.perf_counter() - start)
        except LookupError as err:
            out.append({"variant": f"{store} store, {n:,} entries", "skipped": str(err)})
            continue
        out.append(
            variant(
                f"{store} store, {n:,} entries",
                statistics.median(times),
                statistics.median(base_times),
                "s",
                note=how,
            )
        )
    return out


def p50_ms(fn: Callable[[Any], Any], items: Sequence[Any], repeats: int) -> float:
    """Median over repeats of the per-item p50 latency, in milliseconds."""
    p50s = []
    for _ in range(repeats):
        lat = []
        for item in items:
            start = time.perf_counter()
            fn(item)
            lat.append(time.perf_counter() - start)
        p50s.append(statistics.median(lat))
    return statistics.median(p50s) * 1e3


def row_lookup(kind: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    import numpy as np

    n, nq = p["entries"], p["queries"]
    vectors = unit_vectors(n, seed=2)
    texts = [f"question {i} about topic {i % 97}" for i in range(n)]
    values = [answer(i) for i in range(n)]
    rng = np.random.default_rng(3)
    src = [int(i) for i in rng.choice(n, nq, replace=False)]
    qvecs = near(vectors[src], 0.2, seed=4)
    qtexts = [f"{texts[i]}, please" for i in src]
    index = {t: vectors[i] for i, t in enumerate(texts)}
    index.update({t: qvecs[j] for j, t in enumerate(qtexts)})
    probe = vectors[0]

    def embed(text: str) -> Any:  # the zero-config cache embeds a probe text to learn the dim
        found = index.get(text)
        return probe if found is None else found

    try:
        cache, desc = semantic_cache(kind, "default", n, embed)
    except LookupError as err:
        return [{"variant": "default store", "skipped": str(err)}]
    how = fill(cache, texts, values, vectors)
    served = sum(cache.get(t) == values[i] for t, i in zip(qtexts, src, strict=True))
    if served < nq:
        raise AssertionError(f"mis-wired: {kind} served {served}/{nq} near queries right")
    matrix = np.ascontiguousarray(vectors)

    def flat(j: int) -> int:
        return int(np.argmax(matrix @ qvecs[j]))

    assert all(flat(j) == src[j] for j in range(nq))
    order = list(range(nq))
    ours = p50_ms(lambda j: cache.get(qtexts[j]), order, p["repeats"])
    base = p50_ms(flat, order, p["repeats"])
    return [variant(f"{n:,} entries", ours, base, "ms", note=f"{desc}, filled by {how}")]


def row_faiss_busy(kind: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    import numpy as np

    n, nq = p["faiss_entries"], p["queries"]
    vectors = unit_vectors(n, seed=5)
    queries = near(vectors[:nq], 0.2, seed=6)
    if kind == "ref":
        from omnicache_ai.backends.vector_backend import FAISSBackend

        store: Any = FAISSBackend(dim=DIM)
        for i in range(n):
            store.add(f"k{i}", vectors[i], {"value": i})

        def search(j: int) -> Any:
            return store.search(queries[j], top_k=1)[0][0]
    else:
        from omnicache_ai.backends.vector import FAISSBackend as OurFAISS

        store = OurFAISS(dim=DIM)
        ids = [f"k{i}" for i in range(n)]
        for start in range(0, n, 1000):
            store.add(ids[start : start + 1000], vectors[start : start + 1000])

        def search(j: int) -> Any:
            return store.search(queries[j], k=1)[0].id

    for j in range(nq):
        check(search(j), f"k{j}", f"{kind} FAISS top hit")
    matrix = np.ascontiguousarray(vectors)
    order = list(range(nq))
    ours = p50_ms(search, order, p["repeats"])
    base = p50_ms(lambda j: int(np.argmax(matrix @ queries[j])), order, p["repeats"])
    return [variant(f"{n:,} entries, default threads", ours, base, "ms")]


def _hits_worker(job: dict[str, Any], conn: Any) -> None:
    """One of row 8's processes: hits for ``job["seconds"]`` after a start signal."""
    import redis

    kind, url, bare, keys = job["kind"], job["url"], job["bare"], job["keys"]

    prefix = f"mp-{kind}:"
    if bare:
        client = redis.Redis.from_url(url)
        names = [f"{prefix}bare:{i}".encode() for i in range(keys)]
        get: Callable[[Any], Any] = client.get
    else:
        oc = omnicache(kind)
        from omnicache_ai.backends.redis_backend import RedisBackend

        if kind == "ref":
            backend = RedisBackend(url, key_prefix=prefix)
            manager = oc.CacheManager(backend, oc.CacheKeyBuilder("b"))
        else:
            manager = oc.CacheManager(backend=RedisBackend(url, prefix=prefix))
        names = [f"u:{i}" for i in range(keys)]
        get = manager.get
    if get(names[0]) is None:
        conn.send(("error", "mis-wired: the first lookup missed"))
        return
    conn.send(("ready", 0))
    conn.recv()  # start together
    count, start_cpu = 0, time.process_time()
    deadline = time.perf_counter() + job["seconds"]
    while time.perf_counter() < deadline:
        for name in names[:64]:
            get(name)
        count += 64
        names = names[64:] + names[:64]
    conn.send((count, time.process_time() - start_cpu))


def row_procs(kind: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    import multiprocessing as mp

    import redis

    url, keys, seconds = p["redis_url"], 1024, p["proc_seconds"]
    raw = redis.Redis.from_url(url)
    value = value_300(0)
    prefix = f"mp-{kind}:"
    for i in range(keys):
        raw.set(f"{prefix}bare:{i}".encode(), value.encode())
    oc = omnicache(kind)
    from omnicache_ai.backends.redis_backend import RedisBackend

    if kind == "ref":
        manager = oc.CacheManager(RedisBackend(url, key_prefix=prefix), oc.CacheKeyBuilder("b"))
    else:
        manager = oc.CacheManager(backend=RedisBackend(url, prefix=prefix))
    for i in range(keys):
        manager.set(f"u:{i}", value)
    ctx = mp.get_context("fork")

    def run(nproc: int, bare: bool) -> tuple[float, float, float]:
        pipes, procs = [], []
        for _ in range(nproc):
            parent, child = ctx.Pipe()
            job = {"kind": kind, "url": url, "bare": bare, "keys": keys, "seconds": seconds}
            proc = ctx.Process(target=_hits_worker, args=(job, child))
            proc.start()
            pipes.append(parent)
            procs.append(proc)
        for pipe in pipes:
            status, detail = pipe.recv()
            if status != "ready":
                raise AssertionError(detail)
        cpu0 = raw.info("cpu")
        start = time.perf_counter()
        for pipe in pipes:
            pipe.send("go")
        results = [pipe.recv() for pipe in pipes]
        wall = time.perf_counter() - start
        cpu1 = raw.info("cpu")
        for proc in procs:
            proc.join()
        server = sum(cpu1[k] - cpu0[k] for k in ("used_cpu_sys", "used_cpu_user")) / wall
        hits = sum(r[0] for r in results) / wall
        client = sum(r[1] for r in results) / wall
        return hits, server, client

    out = []
    for nproc in p["procs"]:
        runs = [(run(nproc, True), run(nproc, False)) for _ in range(p["repeats"])]
        base = statistics.median(r[0][0] for r in runs)
        hits = statistics.median(r[1][0] for r in runs)
        server = statistics.median(r[1][1] for r in runs)
        client = statistics.median(r[1][2] for r in runs)
        out.append(
            variant(
                f"{nproc} process{'es' if nproc > 1 else ''}",
                hits,
                base,
                "hits/s",
                note=f"server {server:.2f} core, clients {client:.2f} cores",
            )
        )
    raw.close()
    return out


WORKERS: dict[int, Callable[[str, dict[str, Any]], list[dict[str, Any]]]] = {
    1: row_response,
    2: row_kv,
    3: row_redis,
    4: row_memory,
    5: row_fill,
    6: row_lookup,
    7: row_faiss_busy,
    8: row_procs,
}


def worker_main(spec: str) -> None:
    job = json.loads(spec)
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        job["params"]["tmp"] = tmp
        result = WORKERS[job["row"]](job["kind"], job["params"])
    print("RESULT " + json.dumps(result))


# ======================================================================================
# Driver side: runs in .venv; starts the workers, the Redis server and the busy loop.
# ======================================================================================


def sizes(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "repeats": 1,
            "calls": 2000,
            "budget": 0.2,
            "distinct": [256, 2000],
            "entries": 2000,
            "redis_keys": 200,
            "redis_calls": 500,
            "queries": 20,
            "faiss_entries": 2000,
            "procs": [1, 2],
            "proc_seconds": 0.3,
        }
    return {
        "repeats": 3,
        "calls": 50_000,
        "budget": 2.0,
        "distinct": [4096, 100_000],
        "entries": 100_000,
        "redis_keys": 4096,
        "redis_calls": 5000,
        "queries": 200,
        "faiss_entries": 10_000,
        "procs": [1, 2, 4],
        "proc_seconds": 2.0,
    }


def probe(name: str, envdir: str | None, module: str) -> tuple[str | None, str]:
    """(python executable, version text) of a contender, or (None, why it is skipped)."""
    if envdir is None:
        python = sys.executable
    else:
        python = str(ROOT / envdir / "bin" / "python")
        if not Path(python).exists():
            why = f"{envdir} not built (bash scripts/bench_envs.sh)"
            if name == "ref" and not any(
                shutil.which(c) for c in ("python3.12", "python3.13", "python3.14")
            ):
                why = "needs Python >= 3.12 and none is on PATH; " + why
            return None, why
    code = (
        f"import importlib.metadata as m, sys; import {module}; "
        f"print(m.version({DISTRIBUTION[name]!r}), sys.version.split()[0])"
    )
    proc = subprocess.run(
        [python, "-I", "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    if proc.returncode != 0:
        return None, f"{module} does not import in {envdir}: {proc.stderr.strip()[-200:]}"
    version, pyver = proc.stdout.split()
    return python, f"{version} on Python {pyver}"


@contextlib.contextmanager
def redis_server() -> Iterator[str | None]:
    """A throwaway redis-server on a free port, in a temporary directory (None if absent)."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="bench-compare-redis-") as tmp:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(250):
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=0.2) as c,
                ):
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        break
                time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def busy_core() -> Iterator[None]:
    """A process spinning on one core for the duration of the block."""
    proc = subprocess.Popen([sys.executable, "-I", "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        yield
    finally:
        proc.kill()
        proc.wait()


def run_worker(python: str, row: int, kind: str, params: dict[str, Any]) -> Any:
    spec = json.dumps({"row": row, "kind": kind, "params": params})
    proc = subprocess.run(
        [python, "-I", str(SCRIPT), "--worker", spec],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        cwd=tempfile.gettempdir(),
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    raise RuntimeError(f"worker failed ({proc.returncode}): {tail[-300:]}")


def measure_row(row: int, kind: str, python: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    if row == 4:  # one fresh process per store, contender's and baseline's alike
        out = []
        variants = [("kv", "base-kv", "key -> value")]
        if kind in ("ours", "ref"):
            variants.append(("response", "base-response", "chat request -> answer"))
        for what, base_what, label in variants:
            meas = run_worker(python, row, kind, {**params, "what": what})[0]
            base = run_worker(python, row, kind, {**params, "what": base_what})[0]
            out.append(
                variant(
                    f"{label}, {params['entries']:,} x {VALUE_BYTES} B",
                    meas["per_entry"],
                    base["per_entry"],
                    "B/entry",
                )
            )
        return out
    if row == 7:
        with busy_core():
            return list(run_worker(python, row, kind, params))
    return list(run_worker(python, row, kind, params))


def fmt_value(v: float, unit: str) -> str:
    if unit == "hits/s":
        return f"{v:,.0f}/s"
    if unit == "B/entry":
        return f"{v:,.0f} B"
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "ms":
        return f"{v:.2f} ms"
    return f"{v:.2f} us"


def cell(m: dict[str, Any]) -> str:
    if "error" in m:
        return "error: " + m["error"]
    if "skipped" in m:
        return "n/a: " + m["skipped"]
    ratio = m["value"] / m["base"] if m["base"] else float("nan")
    shown = f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.3f}"  # 0.004x, not 0.00x
    return f"{shown}x ({fmt_value(m['value'], m['unit'])})"


def table(results: dict[str, Any], kinds: list[str], labels: dict[str, str]) -> list[list[str]]:
    """Rows of the report: row, variant, baseline, one cell per contender."""
    lines = [["row", "variant", "baseline", *(labels[k] for k in kinds)]]
    for row_id, by_kind in results.items():
        row = int(row_id)
        order: list[str] = []
        for measures in by_kind.values():
            for m in measures:
                if m["variant"] not in order:
                    order.append(m["variant"])
        if not order:
            lines.append([f"{row}. {ROWS[row]}", "", "", *("" for _ in kinds)])
        for v in order:
            cells, base = [], ""
            for k in kinds:
                found = [m for m in by_kind.get(k, []) if m["variant"] == v]
                if k not in by_kind:
                    cells.append("")
                elif not found:
                    cells.append("-")
                else:
                    cells.append(cell(found[0]))
                    if not base and "base" in found[0]:
                        base = fmt_value(found[0]["base"], found[0]["unit"])
            lines.append([f"{row}. {ROWS[row]}" if v == order[0] else "", v, base, *cells])
    return lines


def render(lines: list[list[str]], markdown: bool) -> str:
    if markdown:
        head, *body = lines
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in body]
        return "\n".join(out)
    widths = [max(len(r[i]) for r in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines)


def parse_rows(text: str) -> list[int]:
    try:
        rows = list(dict.fromkeys(int(part) for part in text.split(",") if part.strip()))
    except ValueError:
        raise SystemExit(f"--only takes row numbers like 1,3,5, got {text!r}") from None
    bad = [r for r in rows if r not in ROWS]
    if bad or not rows:
        raise SystemExit(f"--only: rows are 1-{len(ROWS)}, got {text!r}")
    return rows


def run_rows(
    *,
    rows: list[int],
    kinds: list[str],
    pythons: dict[str, str],
    labels: dict[str, str],
    params: dict[str, Any],
    report: dict[str, Any],
    save: Callable[[], None],
) -> None:
    """Every (row, contender) worker in turn, into ``report``; ``save()`` after each one.

    A failing worker becomes an error cell, not a crash.
    """
    results: dict[str, dict[str, list[dict[str, Any]]]] = report["results"]
    notes: list[str] = report["notes"]
    needs_redis = any(row in (3, 8) for row in rows)
    with redis_server() if needs_redis else contextlib.nullcontext() as url:
        params["redis_url"] = url
        for row in rows:
            results[str(row)] = {}
            if row in (3, 8) and url is None:
                notes.append(f"row {row} skipped: redis-server not found on PATH")
                continue
            for kind in kinds:
                if kind not in PARTICIPANTS[row]:
                    continue
                started = time.perf_counter()
                try:
                    measured = measure_row(row, kind, pythons[kind], params)
                except (RuntimeError, subprocess.TimeoutExpired) as err:
                    measured = [{"variant": "(all)", "error": str(err)}]
                took = time.perf_counter() - started
                print(f"row {row}: {labels[kind]} ({took:.0f} s)", file=sys.stderr, flush=True)
                results[str(row)][kind] = measured
                save()
            absent = [labels[k] for k in kinds if k not in PARTICIPANTS[row]]
            if absent and row in ABSENT_REASON:
                notes.append(f"row {row}: not run for {', '.join(absent)}: {ABSENT_REASON[row]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat (smoke run)")
    parser.add_argument(
        "--only", default="", help="comma-separated row numbers, run in that order (default: all)"
    )
    parser.add_argument(
        "--contenders",
        default="",
        help="comma-separated subset of: " + ", ".join(c[0] for c in CONTENDERS),
    )
    parser.add_argument("--json", dest="json_out", help="also write every figure to this file")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    parser.add_argument(
        "--from-json", metavar="FILE", help="print the table of a run saved with --json, and exit"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.worker)
        return 0
    if args.from_json:
        print_report(json.loads(Path(args.from_json).read_text()), args.markdown)
        return 0

    rows = parse_rows(args.only) if args.only else list(ROWS)
    wanted = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = sorted(set(wanted) - {c[0] for c in CONTENDERS})
    if unknown:
        raise SystemExit(f"--contenders: unknown {', '.join(unknown)}")
    params = sizes(args.quick)
    labels = {c[0]: c[1] for c in CONTENDERS}
    pythons: dict[str, str] = {}
    versions: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for name, _, envdir, module in CONTENDERS:
        if wanted and name not in wanted:
            continue
        python, text = probe(name, envdir, module)
        if python is None:
            skipped[name] = text
        else:
            pythons[name], versions[name] = python, text
    kinds = [c[0] for c in CONTENDERS if c[0] in pythons]

    report: dict[str, Any] = {
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "load_before": [round(x, 2) for x in os.getloadavg()],
            "load_after": None,
            "quick": args.quick,
            "repeats": params["repeats"],
        },
        "contenders": {k: {"label": labels[k], "version": versions[k]} for k in kinds},
        "skipped": {k: {"label": labels[k], "why": why} for k, why in skipped.items()},
        "results": {},
        "notes": [],
        "complete": False,
    }

    def save() -> None:  # after every cell, so an interrupted run keeps what it measured
        report["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(report, indent=2))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanups (redis-server)
    run_rows(
        rows=rows,
        kinds=kinds,
        pythons=pythons,
        labels=labels,
        params=params,
        report=report,
        save=save,
    )
    report["complete"] = True
    save()
    print_report(report, args.markdown)
    cells = [m for by_kind in report["results"].values() for ms in by_kind.values() for m in ms]
    return 1 if any("error" in m for m in cells) else 0


INCOMPLETE = "; INCOMPLETE: partial figures (run interrupted or still going)"


def print_report(report: dict[str, Any], markdown: bool) -> None:
    """The header (machine, load, versions, skips), the table and the notes under it."""
    machine = report["machine"]
    labels = {k: c["label"] for k, c in report["contenders"].items()}
    kinds = list(labels)
    after = machine["load_after"] or ["?"]
    print(
        f"machine: {machine['cores']} cores, {machine['platform']}; load average (1/5/15 min) "
        f"before {'/'.join(map(str, machine['load_before']))}, "
        f"after {'/'.join(map(str, after))}; median of {machine['repeats']} "
        f"repeat(s){' (--quick sizes)' if machine['quick'] else ''}"
        f"{'' if report.get('complete', True) else INCOMPLETE}"
    )
    for k in kinds:
        print(f"  {labels[k]}: {report['contenders'][k]['version']}")
    for skip in report["skipped"].values():
        print(f"  {skip['label']}: skipped: {skip['why']}")
    print(
        "cells: ratio to the bare baseline timed in the same process (absolute figure); "
        "lower is better except hits/s\n"
    )
    print(render(table(report["results"], kinds, labels), markdown))
    bullet = "- " if markdown else "  "
    extra = [
        f"{labels[k]} row {r} {m['variant']}: {m['note']}"
        for r, by_kind in report["results"].items()
        for k, ms in by_kind.items()
        for m in ms
        if m.get("note")
    ]
    for block in (report["notes"], extra):
        if block:
            print()
            for line in block:
                print(bullet + line)


if __name__ == "__main__":
    sys.exit(main())
