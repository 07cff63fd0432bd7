"""Training and test data from generators: templates with typed slots, filled from vocabularies.

Every domain declares templates (``{SLOT}`` markers) and slot fillers. Templates and vocabulary words are each
split in two by a stable hash, so the benchmark can report accuracy on templates and on words the heads never
saw. Sentences of the other domains are the negatives (all words outside, operation ``none``).
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass, field
from typing import Callable

from micromarket.specialists.reading.words import split

_SLOT_RE = re.compile(r"\{([A-Z_]+)(?::(\w+))?\}")


def held_out(key: str, share: float = 0.25, salt: str = "") -> bool:
    """Stable split: True for about `share` of keys (the held-out part)."""
    return (zlib.crc32((salt + key).encode()) % 1000) < share * 1000


@dataclass
class Example:
    text: str
    op: str
    tags: list[str]  # one BIO tag per word of words.split(text)
    gold: dict = field(default_factory=dict)
    template: str = ""


@dataclass
class Fill:
    """A slot's text and what it contributes to the gold call."""

    text: str
    tag: str | None  # None: the text is context, outside every span
    gold: dict = field(default_factory=dict)


def render(template: str, fills: dict[str, Fill], op: str, gold: dict) -> Example:
    """The sentence of `template` with its slots filled, and each word's BIO tag (char-level, then per word)."""
    text, labels = "", []
    pos = 0
    span_id = 0
    for m in _SLOT_RE.finditer(template):
        lit = template[pos: m.start()]
        text += lit
        labels += [None] * len(lit)
        key = m.group(1) + (":" + m.group(2) if m.group(2) else "")
        f = fills[key]
        span_id += 1
        text += f.text
        labels += [(f.tag, span_id) if f.tag else None] * len(f.text)
        pos = m.end()
    text += template[pos:]
    labels += [None] * (len(template) - pos)
    tags, prev = [], None
    for w, a, _ in split(text):
        lab = labels[a]
        if lab is None:
            tags.append("O")
        else:
            tags.append(("I-" if prev == lab else "B-") + lab[0])
        prev = lab
    return Example(text, op, tags, gold, template)


def typo(text: str, rng: random.Random) -> str:
    """One small typo in a longer word of the literal text (swap, drop or double a letter)."""
    ws = [m for m in re.finditer(r"[a-z]{5,}", text)]
    if not ws:
        return text
    m = rng.choice(ws)
    w = m.group(0)
    i = rng.randrange(1, len(w) - 1)
    k = rng.randrange(3)
    w2 = w[:i] + w[i + 1] + w[i] + w[i + 2:] if k == 0 else (w[:i] + w[i + 1:] if k == 1 else w[:i] + w[i] + w[i:])
    return text[: m.start()] + w2 + text[m.end():]


@dataclass
class Domain:
    """A domain's generator: templates per operation and a filler for their slots."""

    name: str
    templates: dict[str, list[str]]  # op -> templates
    fill: Callable[[str, str, random.Random, bool], tuple[dict[str, Fill], dict]]  # (op, template, rng, heldout words)
    tags: list[str]

    def split_templates(self, heldout: bool) -> list[tuple[str, str]]:
        return [(op, t) for op, ts in self.templates.items() for t in ts if held_out(t, salt=self.name) == heldout]

    def sample(self, n: int, rng: random.Random, *, heldout_templates: bool = False, heldout_words: bool = False,
               typos: float = 0.0) -> list[Example]:
        pool = self.split_templates(heldout_templates)
        out = []
        while len(out) < n:
            op, t = rng.choice(pool)
            fills, gold = self.fill(op, t, rng, heldout_words)
            label = op.split("/")[0]  # "convert/compound": templates of one operation, filled differently
            ex = render(t, fills, label, gold)
            if typos and rng.random() < typos:
                lit_typo = typo(t, rng)
                if lit_typo != t:
                    ex = render(lit_typo, fills, label, gold)
            ex.template = t
            out.append(ex)
        return out


def negatives(examples: list[Example]) -> list[Example]:
    """Other domains' sentences as negatives: operation none, every word outside."""
    return [Example(e.text, "none", ["O"] * len(e.tags), {}, e.template) for e in examples]


def words_of(vocab: dict[str, list[str]], heldout: bool, salt: str, whole_keys: bool = True) -> dict[str, list[str]]:
    """The vocabulary on one side of the word split. About a fifth of the keys (whole units, holidays...) are
    held out entirely (unless `whole_keys` is False: a closed set such as frequencies); of the others, about
    30% of the spellings beyond the first."""
    out = {}
    for k, spellings in vocab.items():
        if whole_keys and held_out(k, 0.2, salt + "key"):
            if heldout:
                out[k] = spellings
            continue
        if heldout:
            out[k] = [s for s in spellings[1:] if held_out(s, 0.3, salt)] or spellings[:1]
        else:
            out[k] = [s for i, s in enumerate(spellings) if i == 0 or not held_out(s, 0.3, salt)]
    return out
