"""The reading heads: a token tagger (BIO spans) and an operation classifier over the frozen encoder.

Inference is numpy over the encoder's features; weights are ``weights/<domain>.npz`` (see train.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).parent / "weights"


@dataclass
class Reading:
    """What a reader understood: the operation and the tagged spans, in order of appearance."""

    domain: str
    op: str
    op_confidence: float
    spans: list[tuple[str, str]] = field(default_factory=list)  # (tag, text)
    confidence: float = 0.0  # the least sure of the op and every tagged word
    model: str = ""
    offsets: list[tuple[int, int]] = field(default_factory=list)  # each span's characters in the text
    op_probs: dict[str, float] = field(default_factory=dict)
    tag_confidence: float = 0.0  # the least sure word

    def op_among(self, ops: tuple[str, ...]) -> tuple[str, float]:
        """The likeliest of `ops` (the operations the tagged spans allow) and its share of their probability."""
        total = sum(self.op_probs.get(o, 0.0) for o in ops)
        best = max(ops, key=lambda o: self.op_probs.get(o, 0.0))
        return best, (self.op_probs.get(best, 0.0) / total if total else 0.0)

    def get(self, tag: str) -> list[str]:
        return [t for g, t in self.spans if g == tag]


def _mlp(x: np.ndarray, w: dict, p: str) -> np.ndarray:
    h = np.maximum(0, x @ w[p + "W1"] + w[p + "b1"])
    z = h @ w[p + "W2"] + w[p + "b2"]
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@lru_cache(maxsize=None)
def _weights(domain: str) -> dict | None:
    path = WEIGHTS / f"{domain}.npz"
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k].astype(np.float32) if z[k].dtype == np.float16 else z[k] for k in z.files}  # float16 on disk


def pool_context(rows: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Mean and max of the encoder states of the words outside every span (the phrasing, not the values): the
    operation classifier's view of "after" vs "before" that a whole-sentence mean dilutes."""
    h = rows[:, :384]
    if not outside.any():
        outside = np.ones(len(rows), dtype=bool)
    return np.concatenate([h[outside].mean(axis=0), h[outside].max(axis=0)]).astype(np.float32)


def available(domain: str) -> bool:
    return _weights(domain) is not None


def model_name(domain: str) -> str:
    return f"minilm+heads:{domain}"


@lru_cache(maxsize=1)
def _blas():
    from threadpoolctl import ThreadpoolController  # deferred: a scan of the loaded BLAS libraries

    return ThreadpoolController()


def read_features(domain: str, text: str, ws, rows: np.ndarray, sent: np.ndarray) -> Reading | None:
    w = _weights(domain)
    if w is None or not ws:
        return None
    # the heads' matrices are tiny: one BLAS thread (2 threads on a busy 2-core machine made each 20 ms, not 0.2)
    with _blas().limit(limits=1, user_api="blas"):
        return _read(domain, text, ws, rows, sent, w)


def _read(domain: str, text: str, ws, rows: np.ndarray, sent: np.ndarray, w: dict) -> Reading:
    tags, ops = [str(t) for t in w["tags"]], [str(o) for o in w["ops"]]
    pt = _mlp(rows, w, "t")
    ids = pt.argmax(axis=1)
    if "cpool" in w:  # heads trained with the context pooling
        sent = np.concatenate([sent, pool_context(rows, ids == tags.index("O"))])
    po = _mlp(sent[None, :], w, "c")[0]
    found = _decode_seq(ws, text, ids, tags)
    op = int(po.argmax())
    tag_conf = float(pt.max(axis=1).min())
    conf = min(float(po[op]), tag_conf)
    return Reading(domain, ops[op], float(po[op]), [(t, text[a:b]) for t, a, b in found], round(conf, 3), model_name(domain),
                   [(a, b) for _, a, b in found], {o: float(p) for o, p in zip(ops, po)}, round(tag_conf, 3))


def _decode_seq(ws, text, ids, tags):
    spans: list[list] = []
    prev = "O"
    for (_, a, b), t in zip(ws, ids):
        name = tags[int(t)]
        if name == "O":
            prev = "O"
            continue
        kind, tag = name.split("-", 1)
        touching = spans and spans[-1][0] == tag and spans[-1][2] == a  # "-" "10": no space, one span
        if (kind == "I" and prev != "O" and prev.split("-", 1)[1] == tag and spans) or touching:
            spans[-1][2] = b
        else:
            spans.append([tag, a, b])
        prev = name
    return [(t, a, b) for t, a, b in spans]


_CACHE: dict[str, tuple] = {}  # text -> encoder features: several readers read the same text (the planner's segments)
_CACHE_MAX = 256
_CACHE_LOCK = threading.Lock()


def prime(texts: list[str]) -> None:
    """Encode `texts` in batches ahead of reading them (each reader then reads without encoding again)."""
    from micromarket.specialists.reading.encoder import features  # deferred: the encoder session

    todo = list(dict.fromkeys(t for t in texts if t not in _CACHE))
    for t, f in zip(todo, features(todo) if todo else []):
        with _CACHE_LOCK:
            while len(_CACHE) >= _CACHE_MAX:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[t] = f


_SEEN = threading.local()  # the readings made inside `collect()` (per thread)


@contextmanager
def collect():
    """Collect the readings `read` makes inside the block: (text, reading, its tagged spans with offsets, as read,
    before a normaliser edits them)."""
    prev = getattr(_SEEN, "out", None)
    _SEEN.out = []
    try:
        yield _SEEN.out
    finally:
        _SEEN.out = prev


def read(domain: str, text: str) -> Reading | None:
    """The reading of `text` by `domain`'s model, or None when no model ships for it."""
    if not available(domain):
        return None
    prime([text])
    ws, rows, sent = _CACHE.get(text) or _encode_now(text)
    r = read_features(domain, text, ws, rows, sent)
    seen = getattr(_SEEN, "out", None)
    if seen is not None and r is not None:
        seen.append((text, r, list(zip(r.spans, r.offsets))))
    return r


def _encode_now(text: str) -> tuple:
    from micromarket.specialists.reading.encoder import features  # deferred: the encoder session

    return features([text])[0]
