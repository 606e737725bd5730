"""The request-key memo: a repeated request skips normalisation but never changes its key."""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from layer_payloads import CHAT, WEATHER_TOOL

from omnicache_ai import CacheKeyBuilder, CacheManager, InMemoryBackend, ResponseCache
from omnicache_ai.layers._request import (
    KeyMemo,
    RequestKeyer,
    check_messages,
    normalize_params,
    request_bytes,
    resolve_model,
)

MODEL = "gpt-4o"


def fresh_key(rc: ResponseCache, messages: Any, params: Any, model: str | None = MODEL) -> str:
    """The key without any memo: what the request must always map to."""
    model = resolve_model(model, params)
    check_messages(messages)
    data = request_bytes(model, messages, normalize_params(params))
    return rc.key_builder.build("response", data)


@pytest.fixture
def rc() -> ResponseCache:
    return ResponseCache(CacheManager(backend=InMemoryBackend(), key_builder=CacheKeyBuilder("m")))


def test_a_repeated_request_is_served_from_the_memo_with_the_same_key(rc: ResponseCache) -> None:
    params = {"temperature": 0.2, "seed": 7, "stop": ["\n\n"], "tools": [WEATHER_TOOL]}
    first = rc.cache_key(CHAT, model_id=MODEL, params=params)
    token = rc._memo.token(MODEL, CHAT, params)
    assert token is not None
    assert rc._memo.get(token) == (first, MODEL)
    assert rc.cache_key(CHAT, model_id=MODEL, params=params) == first
    assert first == fresh_key(rc, CHAT, params)


def test_spellings_of_one_request_share_a_key_through_the_memo(rc: ResponseCache) -> None:
    """Explicit defaults, ignored params and key order hit the same entry, memo or not."""
    rc.set(CHAT, "Paris", model_id=MODEL, params={"seed": 1})
    for params in (
        {"seed": 1, "temperature": 1.0},
        {"temperature": 1, "seed": 1, "stream": True, "user": "u-42"},
        {"seed": 1.0},
    ):
        assert rc.get(CHAT, model_id=MODEL, params=params) == "Paris"
        assert rc.get(CHAT, model_id=MODEL, params=params) == "Paris"  # now from the memo
    assert rc.get(CHAT, model_id=MODEL, params={"seed": 2}) is None


def test_nan_still_raises_after_a_null_request_was_keyed(rc: ResponseCache) -> None:
    """JSON writes NaN and None alike, so requests holding either are never memoized."""
    rc.cache_key(CHAT, model_id=MODEL, params={"temperature": None})
    rc.cache_key(CHAT, model_id=MODEL, params={"temperature": None})
    token = rc._memo.token(MODEL, CHAT, {"temperature": None})
    assert token is not None
    assert rc._memo.get(token) is None  # looked up, never stored
    assert not len(rc._memo)
    rc._memo.put(token, ("k", MODEL))  # even when asked to
    assert rc._memo.get(token) is None
    with pytest.raises(ValueError, match="finite"):
        rc.cache_key(CHAT, model_id=MODEL, params={"temperature": math.nan})
    with pytest.raises(ValueError, match="finite"):
        rc.cache_key(CHAT, model_id=MODEL, params={"temperature": math.inf})


def test_errors_are_never_memoized(rc: ResponseCache) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        rc.cache_key([], model_id=MODEL)
    with pytest.raises(ValueError, match="must not be empty"):
        rc.cache_key([], model_id=MODEL)
    with pytest.raises(ValueError, match="contradicts"):
        rc.cache_key(CHAT, model_id=MODEL, params={"model": "gpt-4o-mini"})
    with pytest.raises(ValueError, match="contradicts"):
        rc.cache_key(CHAT, model_id=MODEL, params={"model": "gpt-4o-mini"})
    assert not len(rc._memo)


def test_objects_json_cannot_tell_apart_take_the_normal_path() -> None:
    @dataclass
    class Opts:
        seed: int

    class Text(str):
        pass

    memo = KeyMemo()
    assert memo.token(MODEL, CHAT, {"x": Opts(1)}) is None
    assert memo.token(MODEL, [{"role": "user", "content": Text("hi")}], None) is None
    assert memo.token(MODEL, CHAT, {"big": 2**70}) is None
    assert memo.token(MODEL, "x" * 5000, None) is None  # over max_bytes
    assert memo.token(MODEL, CHAT, None) is not None


def test_memo_is_bounded_and_per_key_builder(rc: ResponseCache) -> None:
    small = KeyMemo(max_entries=4)
    for i in range(10):
        token = small.token(MODEL, f"q{i}", None)
        assert token is not None
        small.put(token, (f"k{i}", MODEL))
        assert len(small) <= 4
    key_a = rc.cache_key(CHAT, model_id=MODEL)
    other = rc.with_key_builder(CacheKeyBuilder("other"))
    key_b = other.cache_key(CHAT, model_id=MODEL)
    assert key_b.startswith("other:")
    assert key_a.startswith("m:")
    assert rc.cache_key(CHAT, model_id=MODEL) == key_a


def test_memo_under_concurrent_callers(rc: ResponseCache) -> None:
    rc._memo.max_entries = 8  # force resets while other threads read
    errors: list[BaseException] = []
    expected = {i: fresh_key(rc, f"question {i}", {"seed": i}) for i in range(32)}
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            for _ in range(50):
                for i, want in expected.items():
                    assert rc.cache_key(f"question {i}", model_id=MODEL, params={"seed": i}) == want
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8,
)  # fmt: skip
_params = st.dictionaries(
    st.sampled_from(
        ["temperature", "top_p", "seed", "stop", "tools", "tool_choice", "n", "user", "x"]
    ),
    _json,
    max_size=4,
)


_SHARED = ResponseCache(CacheManager(key_builder=CacheKeyBuilder("p")))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(params=_params, content=st.text(max_size=20))
def test_memoized_key_always_equals_the_fresh_key(params: dict[str, Any], content: str) -> None:
    """Whatever the request, the key through the memo (twice) is the key without it.

    One cache serves every example, so a memo entry left by an earlier request that JSON
    writes alike would show up here as a wrong key.
    """
    rc = _SHARED
    messages = [{"role": "user", "content": content}]
    try:
        want = fresh_key(rc, messages, params)
    except (TypeError, ValueError) as err:
        with pytest.raises(type(err)):
            rc.cache_key(messages, model_id=MODEL, params=params)
        return
    assert rc.cache_key(messages, model_id=MODEL, params=params) == want
    assert rc.cache_key(messages, model_id=MODEL, params=params) == want


def test_a_request_in_use_survives_a_full_memo() -> None:
    """Filling the memo with one-offs ages them out; a request read meanwhile stays."""
    memo = KeyMemo(max_entries=8)
    hot = memo.token(MODEL, "hot", None)
    assert hot is not None
    memo.put(hot, ("k-hot", MODEL))
    for i in range(100):
        token = memo.token(MODEL, f"one-off {i}", None)
        assert token is not None
        memo.put(token, (f"k{i}", MODEL))
        assert memo.get(hot) == ("k-hot", MODEL)
        assert len(memo) <= 8
    first = memo.token(MODEL, "one-off 0", None)
    assert first is not None
    assert memo.get(first) is None


# ---- the parameter memo of RequestKeyer (a prompt seen for the first time) ----------------


def test_a_shared_parameter_set_is_normalised_once_and_keys_alike() -> None:
    """Distinct prompts with one parameter set reuse its encoding; keys equal the exact path."""
    keyer, kb = RequestKeyer(), CacheKeyBuilder("m")
    rc = ResponseCache(CacheManager(key_builder=kb))
    params = {"temperature": 0.2, "seed": 7, "stop": "END", "stream": True, "top_p": 1.0}
    for i in range(3):
        msgs = [{"role": "user", "content": f"question {i}"}]
        assert keyer.key(kb, "response", msgs, MODEL, params)[0] == fresh_key(rc, msgs, params)
    assert len(keyer._params_memo) == 1
    # Only defaults and ignored names: nothing is left, and the key is that of no params.
    only_defaults = {"temperature": 1, "stream": True}
    key = keyer.key(kb, "response", CHAT, MODEL, only_defaults)[0]
    assert key == keyer.key(kb, "response", CHAT, MODEL, only_defaults)[0]
    assert key == fresh_key(rc, CHAT, None)


def test_mutating_a_parameter_after_keying_never_reuses_the_old_encoding() -> None:
    """The memo keeps bytes: an edited stop list keys as the new request, the old one as before."""
    keyer, kb = RequestKeyer(), CacheKeyBuilder("m")
    rc = ResponseCache(CacheManager(key_builder=kb))
    stop = ["a"]
    params = {"stop": stop, "seed": 1}
    before = keyer.key(kb, "response", CHAT, MODEL, params)[0]
    stop.append("b")
    after = keyer.key(kb, "response", CHAT, MODEL, params)[0]
    assert after != before
    assert after == fresh_key(rc, CHAT, {"stop": ["a", "b"], "seed": 1})
    assert keyer.key(kb, "response", CHAT, MODEL, {"stop": ["a"], "seed": 1})[0] == before


def test_parameter_memo_is_bounded_and_skips_what_json_cannot_tell_apart() -> None:
    keyer, kb = RequestKeyer(), CacheKeyBuilder("m")
    for seed in range(RequestKeyer.PARAMS_MEMO_SIZE + 10):
        keyer.key(kb, "response", CHAT, MODEL, {"seed": seed})
    assert 0 < len(keyer._params_memo) <= RequestKeyer.PARAMS_MEMO_SIZE
    keyer._params_memo.clear()
    keyer.key(kb, "response", CHAT, MODEL, {"temperature": None, "seed": 1})
    keyer.key(kb, "response", CHAT, MODEL, {"seed": "x" * (RequestKeyer.PARAMS_MEMO_BYTES + 1)})
    assert keyer._params_memo == {}
    with pytest.raises(ValueError, match="finite"):
        keyer.key(kb, "response", CHAT, MODEL, {"temperature": math.nan})


def test_a_memo_that_keeps_missing_is_skipped_for_a_while_then_tried_again() -> None:
    """Distinct prompts in turn stop paying for the memo; repeated prompts bring it back."""
    rc = ResponseCache(CacheManager(key_builder=CacheKeyBuilder("m")))
    memo, window = rc._memo, KeyMemo.WINDOW
    for i in range(window):  # every request new: a window of misses
        rc.cache_key([{"role": "user", "content": f"q{i}"}], model_id=MODEL)
    assert memo.bypass == 7 * window
    before = len(memo)
    msgs = [{"role": "user", "content": "bypassed"}]
    key = rc.cache_key(msgs, model_id=MODEL)
    assert key == fresh_key(rc, msgs, None)  # keyed afresh, same key, not remembered
    assert len(memo) == before
    assert memo.bypass == 7 * window - 1
    memo.bypass = 1
    rc.cache_key(msgs, model_id=MODEL)
    assert memo.bypass == 0
    for _ in range(2 * window):  # one hot request: the memo pays off and stays in use
        assert rc.cache_key(CHAT, model_id=MODEL) == fresh_key(rc, CHAT, None)
    assert memo.bypass == 0
    assert memo.get(memo.token(MODEL, CHAT, None) or b"") is not None
    memo.bypass = -1  # two threads counted the last one down together
    token = memo.token(MODEL, [{"role": "user", "content": "raced"}], None)
    rc.cache_key([{"role": "user", "content": "raced"}], model_id=MODEL)
    assert token is not None
    assert memo.get(token) is not None  # the memo is still in use


def test_the_pause_doubles_while_windows_keep_missing_and_resets_on_hits() -> None:
    """Distinct traffic pays for fewer and fewer lookups; a useful window starts over."""
    memo, window = KeyMemo(), KeyMemo.WINDOW
    seen = 0

    def miss_a_window() -> int:
        """Miss until the memo asks for a pause (a window's end need not align with ours)."""
        nonlocal seen
        for _ in range(2 * window):
            if memo.bypass:
                break
            seen += 1
            token = b"cold-%d" % seen
            assert memo.get(token) is None
            memo.put(token, ("k", MODEL))
        pause, memo.bypass = memo.bypass, 0  # the caller's countdown, skipped
        return pause // window

    assert KeyMemo.MAX_PAUSE == 28
    assert [miss_a_window() for _ in range(5)] == [7, 14, 28, KeyMemo.MAX_PAUSE, KeyMemo.MAX_PAUSE]
    for i in range(window):  # a window where every other lookup hits
        token = b"hot" if i % 2 else b"cold-again-%d" % i
        if memo.get(token) is None:
            memo.put(token, ("k", MODEL))
    assert memo.bypass == 0
    assert miss_a_window() == 7


def test_a_memo_with_enough_hits_is_never_bypassed() -> None:
    """One repeated request in four is enough to keep looking (the bar is one in eight)."""
    memo = KeyMemo()
    for i in range(4 * KeyMemo.WINDOW):
        token = b"hot" if i % 4 == 0 else b"cold-%d" % i
        if memo.get(token) is None:
            memo.put(token, ("k", MODEL))
    assert memo.bypass == 0


def test_layer_keys_follow_the_builders_digest_size_and_a_subclass_digest() -> None:
    """The inline hash is the builder's own: same size, and a subclass's digest is used."""

    class Sha256Keys(CacheKeyBuilder):
        def digest(self, payload: Any) -> str:
            data = payload if type(payload) is bytes else b"?"
            return "sha-" + hashlib.sha256(data).hexdigest()[:8]

    for kb in (CacheKeyBuilder("m", digest_size=8), CacheKeyBuilder("m", digest_size=32)):
        rc = ResponseCache(CacheManager(key_builder=kb))
        key = rc.cache_key(CHAT, model_id=MODEL, params={"seed": 3})
        assert key == fresh_key(rc, CHAT, {"seed": 3})
        assert len(key.rsplit(":", 1)[1]) == 2 * kb.digest_size
    rc = ResponseCache(CacheManager(key_builder=CacheKeyBuilder("m"))).with_key_builder(
        Sha256Keys("s")
    )
    data = request_bytes(MODEL, CHAT, {"seed": 3})
    expected = "s:response:sha-" + hashlib.sha256(data).hexdigest()[:8]
    assert rc.cache_key(CHAT, model_id=MODEL, params={"seed": 3}) == expected
