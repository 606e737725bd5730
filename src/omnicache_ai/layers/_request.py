"""Request normalisation shared by the response-type layers and the LLM middleware.

A response is keyed by the model, the messages and every parameter that changes the answer.
Two requests that the provider answers alike must share a key, so before hashing:

* parameters that cannot change the answer are dropped (:data:`IGNORED_PARAMS`: transport,
  tracing and billing options such as ``stream``, ``user``, ``timeout``, ``extra_headers``);
* ``None`` and the SDKs' ``NOT_GIVEN``/``omit`` sentinels mean "not sent", so they are dropped;
* a parameter equal to its documented default is dropped (:data:`DEFAULT_PARAMS`), so an
  explicit ``temperature=1`` keys like an omitted one; ``tool_choice`` defaults depend on
  whether tools are present, as the OpenAI and Anthropic APIs define it;
* a few spellings are unified: ``max_completion_tokens`` is ``max_tokens``, a single ``stop``
  string is a one-item list, and a pydantic class passed as ``response_format`` is keyed by its
  JSON schema (the schema is what the provider sees).

Everything else (tools and their definitions, ``tool_choice``, ``response_format``, ``seed``,
``stop``, penalties, ``logit_bias``, ``reasoning_effort``, ``system``, ``thinking``, ...) stays
in the key as given.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

import orjson

from omnicache_ai.core.errors import SerializationError
from omnicache_ai.core.key_builder import CacheKeyBuilder, canonical_bytes

__all__ = [
    "DEFAULT_PARAMS",
    "IGNORED_PARAMS",
    "KeyMemo",
    "RequestKeyer",
    "fast_canonical_bytes",
    "normalize_params",
    "resolve_model",
]

#: Parameters that never change the answer: transport, retries, tracing, billing, routing.
IGNORED_PARAMS: Final[frozenset[str]] = frozenset(
    {
        "stream",
        "stream_options",
        "user",
        "safety_identifier",
        "metadata",
        "request_id",
        "idempotency_key",
        "timeout",
        "max_retries",
        "extra_headers",
        "extra_query",
        "api_key",
        "api_base",
        "base_url",
        "organization",
        "project",
        "store",
        "service_tier",
        "prompt_cache_key",
        "prompt_cache_retention",
        # Anthropic's top-level automatic prompt caching switch: billing, not content.
        "cache_control",
    }
)

#: Documented defaults shared by the OpenAI and Anthropic APIs: sending one of these values
#: is the same request as not sending the parameter. Empty tuples/dicts mean "empty is default".
DEFAULT_PARAMS: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "temperature": 1,
        "top_p": 1,
        "n": 1,
        "frequency_penalty": 0,
        "presence_penalty": 0,
        "logprobs": False,
        "parallel_tool_calls": True,
        "response_format": {"type": "text"},
        "modalities": ["text"],
        "stop": (),
        "stop_sequences": (),
        "tools": (),
        "functions": (),
        "logit_bias": {},
    }
)

_ALIASES: Final = {"max_completion_tokens": "max_tokens"}
_SDK_SENTINELS: Final = frozenset({"NotGiven", "Omit"})
_KEYED_APART: Final = frozenset({"model", "messages"})
_LIST_IF_STR: Final = frozenset({"stop", "stop_sequences"})
_NO_DEFAULT: Final = object()
_MAX_EXACT: Final = float(2**53)  # integral floats up to here are keyed as ints, like the core

# name -> (name in the key, default or _NO_DEFAULT): one lookup per parameter decides its
# alias and default; names without a rule are copied as they are.
_Rules = dict[str, tuple[str, Any]]


def _rules(defaults: Mapping[str, Any]) -> _Rules:
    rules: _Rules = {name: (name, default) for name, default in defaults.items()}
    for alias, name in _ALIASES.items():
        rules[alias] = (name, defaults.get(name, _NO_DEFAULT))
    return rules


_DEFAULT_RULES: Final = _rules(DEFAULT_PARAMS)
_DEFAULT_SKIP: Final = IGNORED_PARAMS | _KEYED_APART

# orjson refuses (TypeError) every type whose canonical encoding differs from its JSON
# form: dataclasses, datetimes, subclasses, numpy, bytes, sets, pydantic models, big ints.
_FAST_OPTS: Final = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_STRICT_INTEGER
)


_INTEGRAL_FLOAT: Final = re.compile(rb"\.0")
_UNICODE_ESCAPE: Final = re.compile(rb"\\u")
# Bound once: the hot paths call them without attribute lookups.
_integral_float: Final = _INTEGRAL_FLOAT.search
_unicode_escape: Final = _UNICODE_ESCAPE.search
_dumps: Final = orjson.dumps


def fast_canonical_bytes(obj: Any) -> bytes:
    """``canonical_bytes(obj)``, skipping the Python walk when orjson's output already is it.

    For plain JSON values the core's canonical form differs from orjson's output only on
    non-ASCII strings (NFC), strings holding NUL (escaping) and integral floats (``1.0`` is
    ``1``). Those show in the encoded bytes, so the common request (ASCII text, no
    integral floats) is encoded in one C call and anything else takes the exact path.
    Two known differences remain: enum members and UUIDs key like their JSON value, and NaN
    keys like ``None`` (no provider accepts a NaN in a request, so no answer is at stake).

    Example:
        >>> fast_canonical_bytes({"b": 1, "a": "x"}) == canonical_bytes({"a": "x", "b": 1.0})
        True
    """
    try:
        data = orjson.dumps(obj, option=_FAST_OPTS)
    except TypeError:
        return canonical_bytes(obj)
    # "92 in data" is a memchr with no argument parsing (bytes.find parses a format string);
    # the regexes run only when a backslash escape is present or to spot "N.0" (a regex on a
    # literal beats bytes.find for two-byte needles).
    if (
        data.isascii()
        and _integral_float(data) is None
        and (92 not in data or _unicode_escape(data) is None)
    ):
        return data
    return canonical_bytes(obj)


def _same(value: Any, default: Any) -> bool:
    if type(default) is tuple:  # "empty means default"
        return isinstance(value, list | tuple | dict) and not value
    if type(default) is bool or type(value) is bool:
        return type(value) is type(default) and value == default
    if type(default) is int:
        return type(value) in (int, float) and value == default
    if type(value) is tuple:
        value = list(value)
    return bool(value == default)


@functools.lru_cache(maxsize=256)
def _schema_of(cls: type) -> dict[str, Any]:
    schema = cls.model_json_schema()  # type: ignore[attr-defined]
    return {"type": "json_schema", "class": cls.__qualname__, "schema": schema}


def _norm_other(value: Any) -> Any:
    if isinstance(value, type) and callable(getattr(value, "model_json_schema", None)):
        return _schema_of(value)
    return value


def _tool_choice_is_default(choice: Any, has_tools: bool) -> bool:
    # OpenAI: "none" without tools, "auto" with tools; Anthropic: {"type": "auto"} with tools.
    kind = choice.get("type") if isinstance(choice, Mapping) and len(choice) == 1 else choice
    return kind == ("auto" if has_tools else "none")


def normalize_params(
    params: Mapping[str, Any] | None,
    *,
    defaults: Mapping[str, Any] | None = None,
    ignored: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The parameters that change the answer, with defaults and sentinels removed.

    ``model`` and ``messages`` are keyed separately and are not part of the result.

    Args:
        params: Request parameters.
        defaults: Defaults to drop (default: :data:`DEFAULT_PARAMS`).
        ignored: Names to drop (default: :data:`IGNORED_PARAMS`).

    Raises:
        TypeError: ``params`` is not a mapping with string keys.
        ValueError: A float parameter is NaN or infinite.

    Example:
        >>> normalize_params({"temperature": 1.0, "stream": True, "seed": 7, "stop": "END"})
        {'seed': 7, 'stop': ['END']}
    """
    rules = _DEFAULT_RULES if defaults is None else _rules(defaults)
    skip = _DEFAULT_SKIP if ignored is None else frozenset(ignored) | _KEYED_APART
    return _normalize(params, rules, skip)


def _normalize(
    params: Mapping[str, Any] | None, rules: _Rules, skip: frozenset[str]
) -> dict[str, Any]:
    # Hot path of every keyed request: the common cases (str, int, non-integral float, no
    # rule) are tested first and inline; _same/_norm_other only run for the rare ones.
    if params is None:
        return {}
    if type(params) is not dict and not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping of parameter names, got {type(params).__name__}")
    out: dict[str, Any] = {}
    rule_of = rules.get
    for name, raw in params.items():
        if name in skip:
            continue
        value: Any = raw
        t = type(raw)
        if t is float:
            if raw.is_integer():
                if -_MAX_EXACT <= raw <= _MAX_EXACT:
                    value = int(raw)
            elif raw - raw != 0.0:  # NaN or infinity
                raise ValueError(f"parameter {name!r} must be a finite number, got {raw!r}")
        elif t is str:
            if name in _LIST_IF_STR:
                value = [raw]
        elif raw is None:
            continue
        elif t is not int and t is not bool and t is not list and t is not dict:
            if t.__name__ in _SDK_SENTINELS:
                continue
            value = _norm_other(raw)
        rule = rule_of(name)
        if rule is None:
            if type(name) is not str:
                raise TypeError(f"parameter names must be str, got {name!r}")
            out[name] = value
        elif rule[1] is _NO_DEFAULT or not _same(value, rule[1]):
            out[rule[0]] = value
    if "tool_choice" in out and _tool_choice_is_default(out["tool_choice"], bool(out.get("tools"))):
        del out["tool_choice"]
    return out


def resolve_model(model_id: str | None, params: Mapping[str, Any] | None) -> str:
    """The model a request is for: ``model_id``, else ``params["model"]``.

    Raises:
        ValueError: No model is given, or ``model_id`` contradicts ``params["model"]``.
    """
    in_params = params.get("model") if params else None
    if model_id is None:
        model_id = in_params
    elif in_params is not None and in_params != model_id:
        raise ValueError(
            f"model_id={model_id!r} contradicts params['model']={in_params!r}; pass one model"
        )
    if type(model_id) is not str or not model_id:
        raise ValueError(
            f"a model id is required to key an LLM response (pass model_id='gpt-4o' or "
            f"params={{'model': ...}}), got {model_id!r}"
        )
    return model_id


def check_messages(messages: Any) -> None:
    """Reject what cannot be a prompt: only a non-empty str, list or tuple can.

    Raises:
        TypeError: ``messages`` is of another type.
        ValueError: ``messages`` is empty or holds ``None``.
    """
    t = type(messages)
    if t is not list and t is not str and t is not tuple:
        raise TypeError(
            f"messages must be a list of chat messages or a prompt string, got {t.__name__}"
        )
    if not messages:
        raise ValueError("messages must not be empty")
    if t is not str:
        for i, message in enumerate(messages):
            if message is None:
                raise ValueError(
                    f"messages[{i}] is None; each message must be a chat message (e.g. "
                    "{'role': 'user', 'content': '...'}) or a string"
                )


def request_bytes(model: str, messages: Any, params: dict[str, Any]) -> bytes:
    """Canonical bytes of one LLM request, naming the offending part when one cannot be keyed.

    Raises:
        TypeError: A message or parameter holds a value no cache key can be built from.
    """
    try:
        return fast_canonical_bytes([model, messages, params] if params else [model, messages])
    except SerializationError as err:
        culprit = "messages"
        for name, value in params.items():
            try:
                canonical_bytes(value)
            except SerializationError:
                culprit = f"parameter {name!r}"
                break
        raise TypeError(f"cannot build a cache key from {culprit}: {err}") from err


# Everything orjson would encode differently from the canonical form, or could not tell apart
# from another type, raises instead: those requests take the normal path.
_MEMO_OPTS: Final = (
    orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_STRICT_INTEGER
)


class RequestKeyer:
    """Builds the key of one LLM request with a layer's parameter tables.

    Args:
        param_defaults: Defaults to normalise away (default: :data:`DEFAULT_PARAMS`).
        ignored_params: Parameters left out of keys (default: :data:`IGNORED_PARAMS`).

    Example:
        >>> from omnicache_ai import CacheKeyBuilder
        >>> keyer, kb = RequestKeyer(), CacheKeyBuilder("app")
        >>> msgs = [{"role": "user", "content": "hi"}]
        >>> keyer.key(kb, "response", msgs, "gpt-4o", {"temperature": 1, "timeout": 5}) == (
        ...     keyer.key(kb, "response", msgs, "gpt-4o", None))
        True
    """

    __slots__ = ("_params_memo", "_rules", "_skip", "defaults", "ignored")

    #: Distinct parameter sets whose canonical encoding is remembered (cleared when full):
    #: an application sends few of them, whatever the number of distinct prompts.
    PARAMS_MEMO_SIZE: Final = 256
    #: Parameter sets whose JSON text is longer than this are normalised every time.
    PARAMS_MEMO_BYTES: Final = 2048

    def __init__(
        self,
        param_defaults: Mapping[str, Any] | None = None,
        ignored_params: Iterable[str] | None = None,
    ) -> None:
        if param_defaults is not None and not isinstance(param_defaults, Mapping):
            raise TypeError("param_defaults must be a mapping of parameter name -> default")
        if isinstance(ignored_params, str):
            raise TypeError("ignored_params must be an iterable of names, not a single string")
        self.defaults = dict(DEFAULT_PARAMS if param_defaults is None else param_defaults)
        self.ignored = IGNORED_PARAMS if ignored_params is None else frozenset(ignored_params)
        self._rules = _rules(self.defaults)
        self._skip = self.ignored | _KEYED_APART
        self._params_memo: dict[bytes, bytes] = {}

    def encode(
        self, messages: Any, model_id: str | None, params: Mapping[str, Any] | None
    ) -> tuple[bytes, str]:
        """``(canonical request bytes, model)`` of one request.

        The hot path of every request the memo does not answer, written out in one frame:
        the common call (a model id, a list of messages, a parameter dict seen before) costs
        two orjson calls, three byte scans and one concatenation.
        """
        if type(model_id) is not str or not model_id or (params and "model" in params):
            model_id = resolve_model(model_id, params)
        if type(messages) is not list or not messages or None in messages:
            check_messages(messages)
        tail: bytes | None = b""
        if params:
            # The parameters' encoding, remembered by their JSON text (see _params_tail).
            try:
                token = _dumps(params, None, _MEMO_OPTS)
            except TypeError:
                tail = None
            else:
                tail = self._params_memo.get(token)
                if tail is None:
                    tail = self._params_tail(params, token)
        if tail is not None:
            # Canonical JSON is compact, so the encoding of [model, messages, params] is that
            # of [model, messages] with the parameters' encoding spliced in. The scans are
            # fast_canonical_bytes's: orjson's output is canonical unless they find something.
            try:
                head = _dumps([model_id, messages], None, _FAST_OPTS)
                canonical = (
                    head.isascii()
                    and _integral_float(head) is None
                    and (92 not in head or _unicode_escape(head) is None)
                )
            except TypeError:
                canonical = False
            if not canonical:
                try:
                    head = canonical_bytes([model_id, messages])
                except SerializationError:
                    head = b""  # request_bytes below names the culprit
            if head:
                return (head[:-1] + tail if tail else head), model_id
        norm = _normalize(params, self._rules, self._skip) if params else {}
        return request_bytes(model_id, messages, norm), model_id

    def _params_tail(self, params: Mapping[str, Any], token: bytes) -> bytes | None:
        """``b",<canonical normalised params>]"`` (``b""`` when none are left), or ``None``.

        Called when ``token`` (the parameters' JSON text as given) is not in the memo. Many
        prompts share one parameter set, and normalising it is a third of the cost of
        keying a request seen for the first time, so the result is remembered by that text.
        As in :class:`KeyMemo`, whatever JSON cannot tell apart from another value
        (subclasses, SDK objects, ``None``, NaN) is not remembered: ``None`` is returned
        and the caller normalises on the exact path. The memo keeps bytes, never the
        caller's objects, so mutating a parameter later cannot change a remembered key.
        """
        if len(token) > self.PARAMS_MEMO_BYTES or b"null" in token:
            return None
        norm = _normalize(params, self._rules, self._skip)
        try:
            tail = b"," + fast_canonical_bytes(norm) + b"]" if norm else b""
        except SerializationError:
            return None
        memo = self._params_memo
        if len(memo) >= self.PARAMS_MEMO_SIZE:
            memo.clear()
        memo[bytes(memoryview(token))] = tail
        return tail

    def key(
        self,
        key_builder: CacheKeyBuilder,
        key_type: str,
        messages: Any,
        model_id: str | None,
        params: Mapping[str, Any] | None,
    ) -> tuple[str, str]:
        """``(key, model)`` of one request."""
        data, model = self.encode(messages, model_id, params)
        return key_builder.build(key_type, data), model


_NO_PARAMS: Final[dict[str, Any]] = {}


class KeyMemo:
    """Remembers the keys of recent requests, so a repeated request skips normalisation.

    A cache hit is a request seen before, and most of its cost is building the key:
    dropping ignored and default parameters, the canonical encoding and the hash. The memo
    maps the request *as given* (one orjson call, no sorting) to the key it produced. Two
    requests whose JSON text is identical are the same request to the provider, so they
    may share a key; anything else (SDK objects, subclasses, dataclasses, ``None``/NaN,
    which JSON cannot tell apart, requests over ``max_bytes``) is not memoized and takes
    the normal path.

    Bounded by two generations of ``max_entries / 2``: new keys enter the young one, and
    when it is full it becomes the old one and the previous old one is dropped; a request
    found in the old generation moves back to the young one. Requests in steady use stay,
    one-offs age out after two generations, and nothing is ever scanned or sorted (unlike a
    clear-all, a full memo does not forget its hot requests). Working sets larger than the
    memo are keyed on the normal path, which is itself cheaper than a hand-rolled
    ``json.dumps(sort_keys=True)`` + sha256 (see ``benchmarks/bench_layers.py``).
    Thread-safe: single dict operations; a race at a generation swap only drops an entry.

    A memo that keeps missing is not worth its lookup (the request's JSON text costs about
    a fifth of keying it afresh): when fewer than one lookup in eight of a window of
    :attr:`WINDOW` found its request, the caller is told (:attr:`bypass`) to skip the memo
    for the next seven windows' worth of requests, then it is tried again. Each further
    window of misses in a row doubles the pause, up to 28 windows (:attr:`MAX_PAUSE`), so
    working sets far larger than the memo (100k distinct prompts in turn) pay for one
    lookup in 29, not one in eight; a window with enough hits starts over at seven. The
    cap bounds what a switch to repeated traffic costs: at most 28 windows (7,168
    requests) keyed afresh before the memo is tried again.
    The counters are approximate under threads; a lost increment only shifts a window.

    Example:
        >>> memo = KeyMemo()
        >>> token = memo.token("gpt-4o", [{"role": "user", "content": "hi"}], {"seed": 1})
        >>> memo.get(token) is None
        True
        >>> memo.put(token, ("ns:response:abc", "gpt-4o"))
        >>> memo.get(token)
        ('ns:response:abc', 'gpt-4o')
        >>> memo.token(None, "hi", None) is None  # model from params: not memoized
        True
    """

    __slots__ = ("_half", "_hits", "_misses", "_old", "_pause", "_young", "bypass", "max_bytes")

    #: Lookups per hit-rate window.
    WINDOW: Final = 256
    #: Longest pause after windows of misses, in windows.
    MAX_PAUSE: Final = 28

    def __init__(self, max_entries: int = 2048, max_bytes: int = 4096) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._young: dict[bytes, tuple[str, str]] = {}
        self._old: dict[bytes, tuple[str, str]] = {}
        self._hits = self._misses = 0
        self._pause = 0  # windows skipped after the last window of misses (0: it had hits)
        #: Requests still to key without looking here (counted down by the caller).
        self.bypass = 0

    @property
    def max_entries(self) -> int:
        """Most requests remembered (both generations together)."""
        return 2 * self._half

    @max_entries.setter
    def max_entries(self, value: int) -> None:
        if type(value) is not int or value < 2:
            raise ValueError(f"max_entries must be an int >= 2, got {value!r}")
        self._half = value // 2

    def __len__(self) -> int:
        return len(self._young) + len(self._old)

    def token(self, model_id: Any, messages: Any, params: Any) -> bytes | None:
        """The memo key of a request, or ``None`` when it must not be memoized.

        A token holding ``null`` is returned (scanning every token for it would cost as
        much as the lookup) but never stored by :meth:`put`, so it can never be found.
        """
        if type(model_id) is not str:  # None: the model comes from params, keyed apart
            return None
        try:
            token = _dumps(
                (model_id, messages, _NO_PARAMS if params is None else params), None, _MEMO_OPTS
            )
        except TypeError:
            return None
        return token if len(token) <= self.max_bytes else None

    def get(self, token: bytes) -> tuple[str, str] | None:
        """``(key, model)`` remembered for ``token``."""
        keyed = self._young.get(token)
        if keyed is None:
            keyed = self._old.get(token)
            if keyed is None:
                self._missed()
                return None
            self.put(token, keyed)  # in use again: keep it through the next swap
        self._hits += 1
        return keyed

    def _missed(self) -> None:
        self._misses += 1
        looked = self._misses + self._hits
        if looked >= self.WINDOW:
            if self._hits * 8 < looked:
                pause = min(2 * self._pause, self.MAX_PAUSE) if self._pause else 7
                self._pause = pause
                self.bypass = pause * self.WINDOW
            else:
                self._pause = 0
            self._hits = self._misses = 0

    def put(self, token: bytes, keyed: tuple[str, str]) -> None:
        """Remember ``(key, model)`` for ``token``, unless it holds a JSON ``null``.

        ``None`` and NaN both encode as ``null`` (and ``None`` means "not sent" while NaN
        is refused), so such a request is keyed afresh every time.
        """
        if b"null" in token:
            return
        young = self._young
        if len(young) >= self._half:
            self._old = young
            self._young = young = {}
        # orjson hands out its output in a 4 KiB buffer: a right-sized copy is what a
        # long-lived memo key should hold (else 2,048 entries would pin 8 MiB).
        young[bytes(memoryview(token))] = keyed
