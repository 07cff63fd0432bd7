"""The words each reader was trained on, and the words of a request that belong to another reader's domain.

A reader's tagger and operation head only know the phrasings of their own generator. When a request names an
operation or a quantity from another domain ("the *mean* of 3, 5 and 10" read by quickcalc as 3 + 5 + 10, a
date "1996-03-30" read by math as a subtraction), the reading leaves that word unaccounted for and its answer
computes something else. ``foreign(domain, text, used)`` lists such words: outside the spans the reading used,
a content word that the domain's training sentences never hold but another domain's do (distinctively: at most
two domains use it); and anywhere in the request, a shape (a date, a clock time, a chemical formula) the domain
never saw. Words no generator holds (unseen phrasings, typos) are not foreign: they are nobody's.

The vocabulary is the training side of each generator (training templates, fragments, words and wrappers, as
``train.py`` samples them), stemmed, without stop words; ``python -m micromarket.specialists.reading.vocabulary``
writes ``weights/vocabulary.json`` (``train.py`` rewrites it after training).
"""

from __future__ import annotations

import json
import random
import re
from functools import lru_cache
from pathlib import Path

from micromarket.specialists.reading.words import split

PATH = Path(__file__).parent / "weights" / "vocabulary.json"
SHAPES = (("<date>", re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}")),
          ("<time>", re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")),
          ("<formula>", re.compile(r"(?:[A-Z][a-z]?\d*|\((?:[A-Z][a-z]?\d*)+\)\d*)+")))
MIN_SHARE = 0.02  # a word in fewer of a domain's sentences is incidental there, not its vocabulary
KNOWN_SHARE = 0.003  # ... but still a word of it where it applies to what was read ("the log of 8")
MAX_DOMAINS = 2  # a word more domains use is general, not one domain's
_OF_RE = re.compile(r"\s+of\s+(?:(?:the|these|those|this|my|our|a|an)\s+)?", re.I)


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer  # PyStemmer (a dependency; C, fast)

        return Stemmer.Stemmer("english").stemWord
    except ImportError:  # pragma: no cover - PyStemmer is a dependency
        return lambda w: w


def keys(text: str) -> list[tuple[str, int, int, bool]]:
    """The request's vocabulary keys with their offsets: (key, start, end, is_shape). A key is a shape name or a
    stemmed lower-case word of three letters or more."""
    out = []
    stem = _stemmer()
    for w, a, b in split(text):
        shape = next((k for k, rx in SHAPES if rx.fullmatch(w)), None)
        if shape and (shape != "<formula>" or re.search(r"\d", w)):  # "CO2", "C8H10N4O2"; "NaCl" is a word
            out.append((shape, a, b, True))
        elif re.fullmatch(r"[A-Za-z][A-Za-z']{2,}", w):
            out.append((stem(w.lower().replace("'", "")), a, b, False))
    return out


def build(n: int = 4000, seed: int = 0) -> dict:
    """Each domain's training-side vocabulary: ``shares``: key -> the share of its sentences that hold it (stop words
    left out); ``applies``: the keys it uses as a function of what follows ("mean of", "log(").
    """
    from micromarket.specialists.reading.domains import domains
    from micromarket.specialists.reading.words import stop_words

    stops = {_stemmer()(w) for w in stop_words()} | set(stop_words())
    shares, applies = {}, {}
    for name, dom in domains().items():
        if name == "planner":  # compounds of the others' sentences
            continue
        rng = random.Random(seed)
        counts: dict[str, int] = {}
        fn: dict[str, int] = {}
        for e in dom.sample(n, rng, qualified=0.12, wrapped=0.35):  # as train.py samples, without typos
            ks = keys(e.text)
            for k in {k for k, *_ in ks} - stops:
                counts[k] = counts.get(k, 0) + 1
            for k in {k for k, _, b, _ in ks if _OF_RE.match(e.text, b) or e.text.startswith("(", b)} - stops:
                fn[k] = fn.get(k, 0) + 1
        shares[name] = {k: round(c / n, 5) for k, c in sorted(counts.items())}
        applies[name] = sorted(k for k, c in fn.items() if c / n >= KNOWN_SHARE)
    return {"shares": shares, "applies": applies}


def save(vocab: dict, path: Path = PATH) -> None:
    path.write_text(json.dumps(vocab, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")


@lru_cache(maxsize=1)
def _vocab() -> dict:
    try:
        return json.loads(PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _load() -> dict[str, dict[str, float]]:
    return _vocab().get("shares", {})


@lru_cache(maxsize=None)
def _applies(key: str) -> bool:
    """Whether another domain uses `key` as a function of what follows it ("mean of", "half of", "log(")."""
    return any(key in ks for ks in _vocab().get("applies", {}).values())


@lru_cache(maxsize=None)
def _foreign_keys(domain: str, share: float = MIN_SHARE) -> frozenset[str]:
    """The keys other domains' sentences hold (at least `share` of them, in at most MAX_DOMAINS domains) and
    `domain`'s never do; shapes whoever holds them."""
    vocab = _load()
    if not vocab or domain not in vocab:
        return frozenset()
    own = vocab[domain]
    users: dict[str, list[float]] = {}
    for name, words in vocab.items():
        for k, s in words.items():
            users.setdefault(k, []).append(s)
    return frozenset(k for k, shares in users.items() if k not in own
                     and (k.startswith("<") or (len(shares) <= MAX_DOMAINS and max(shares) >= share)))


@lru_cache(maxsize=None)
def _users(key: str) -> tuple[str, ...]:
    """The domains whose training sentences hold `key` (at least KNOWN_SHARE of them)."""
    return tuple(d for d, words in (_load() or {}).items() if words.get(key, 0.0) >= KNOWN_SHARE or (key.startswith("<") and key in words))


def foreign(domain: str, text: str, used: list[tuple[int, int]] = ()) -> list[tuple[str, tuple[str, ...], bool]]:
    """The words of `text` that other domains' training sentences hold and `domain`'s do not: (word, those
    domains, applied). Content words outside the `used` spans (character offsets), distinctive of one or two
    domains; shapes anywhere; and, `applied`, a word of another domain that applies to a used span ("the *log*
    of 8", "*half* of 5 kg": a function of what was read)."""
    out: dict[str, tuple[tuple[str, ...], bool]] = {}
    distinctive, known = _foreign_keys(domain), _foreign_keys(domain, KNOWN_SHARE)
    starts = {a for a, _ in used}
    for k, a, b, shape in keys(text):
        if k not in known or (not shape and any(x <= a and b <= y for x, y in used)):
            continue
        of = _OF_RE.match(text, b)
        applied = shape or (of is not None and of.end() in starts and _applies(k))
        if (k in distinctive or applied) and text[a:b] not in out:
            out[text[a:b]] = (_users(k), applied)
    return [(w, u, ap) for w, (u, ap) in out.items()]


if __name__ == "__main__":
    save(build())
    print(f"wrote {PATH}")
