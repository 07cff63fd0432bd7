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


_ALT_RE = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")


def expand(template: str, rng: random.Random, heldout: bool, salt: str = "") -> str:
    """Resolve the alternation groups ``[a|b|c]`` of a compositional template. Each alternative falls on one side
    of a stable split (about 30% held out): a training sentence uses training alternatives only, a held-out one
    prefers held-out alternatives."""
    def pick(m: re.Match) -> str:
        alts = m.group(1).split("|")
        side = [a for a in alts if held_out(a.strip() or "<none>", 0.3, salt + "alt") == heldout]
        return rng.choice(side or (alts if heldout else alts[:1]))
    prev = None
    while prev != template:  # nested groups: innermost first
        prev, template = template, _ALT_RE.sub(pick, template)
    return template


# Everyday wrapping of any request: lead-ins, a statement of context before it, and tails. Split like words.
LEADS = ["please ", "hey, ", "quick question: ", "can you tell me ", "I'd like to know ", "could you work out ", "hi! ",
         "question - ", "so ", "ok so ", "help: ", "I need to know ", "do you know ", "tell me, ", "hello, ", "um, ",
         "just wondering, ", "for a project, ", "my teacher asked: ", "real quick, ", "pls ", "could you check ",
         "can u tell me ", "I was asked ", "Hi there. ", "Good morning! ", "one more: ", "next question: "]
CONTEXTS = ["I'm doing my homework. ", "This is for a spreadsheet at work. ", "We're planning a trip. ",
            "Sorry if this is basic. ", "My friend and I disagree about this. ", "Need this for a report. ",
            "Another one for you. ", "Thanks in advance. ", "I can't figure this out. ", "Here's a question. ",
            "Just checking my math. ", "I'm new to this. ", "My sister asked me this. ", "Settle a bet for us. ",
            "I keep getting different answers. ", "For a school assignment: ", "Context: I'm writing a blog post. ",
            "This came up at dinner. ", "No rush. ", "I'm trying to plan ahead. ", "Just a quick one. ",
            "Only asking once. ", "Without looking it up: ", "Excuse the simple question. "]
TAILS = [" please", " thanks", ", thanks!", " for me", " - thank you", " asap", " thx", " (just the number)", " quickly",
         " if you can", ", please help", " cheers", " - for a report", " :)", ", I'm curious", " exactly", " roughly",
         " please and thank you", ", ty", " again", " - just curious", ", only roughly", " without the working",
         ", no explanation needed", " and nothing else", ", only the answer please", " (no rounding)", ", just the result",
         " without any fuss", ", only need the figure"]


def wrap(template: str, rng: random.Random, heldout: bool, p: float = 0.35) -> str:
    """With probability `p`, a lead-in or a context sentence before the template and/or a tail after it."""
    if rng.random() >= p:
        return template
    side = lambda xs, salt: [x for x in xs if held_out(x, 0.3, salt) == heldout] or xs  # noqa: E731
    r = rng.random()
    t = template
    if r < 0.7:
        lead = rng.choice(side(LEADS, "lead") if r < 0.4 else side(CONTEXTS, "ctx"))
        if r < 0.4 and len(t) > 1 and t[0].isupper() and t[1].islower():
            t = t[0].lower() + t[1:]
        t = lead + t
    if r > 0.4:
        tail = rng.choice(side(TAILS, "tail"))
        core = t.rstrip("?.! ")
        t = core + tail + t[len(core):]
    return t


def qualify(template: str, rng: random.Random) -> str:
    """The template with a qualifier the engine's call cannot express (``{XQ}``, tagged X) added at its end or
    before its question: the reader learns to mark such words rather than read past them."""
    core = template.rstrip("?.! ")
    end = template[len(core):]
    if rng.random() < 0.7:
        return core + rng.choice([" {XQ}", ", {XQ}", " - {XQ}"]) + end
    return rng.choice(["{XQ}, ", "{XQ}: "]) + template


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
    # phrases that change the computation in a way the engine's call cannot express ("excluding weekends",
    # "before tax"): tagged X, a reading with an X span declines. Split by hash like words.
    qualifiers: list[str] = field(default_factory=list)

    def __post_init__(self):
        if self.qualifiers and "X" not in self.tags:
            self.tags = [*self.tags, "X"]

    def qualifier_words(self, heldout: bool) -> list[str]:
        return [q for q in self.qualifiers if held_out(q, 0.3, self.name + "qual") == heldout] or self.qualifiers

    def finish(self, t: str, rng: random.Random, heldout_templates: bool, heldout_words: bool, qualified: float,
               fills: dict[str, Fill], wrapped: float = 0.0) -> tuple[str, bool]:
        """The resolved template wrapped (with probability `wrapped`) and given a qualifier (`qualified`)."""
        t = wrap(t, rng, heldout_templates, wrapped) if wrapped else t
        if qualified and self.qualifiers and rng.random() < qualified:
            fills["XQ"] = Fill(rng.choice(self.qualifier_words(heldout_words)), "X")
            return qualify(t, rng), True
        return t, False

    def split_templates(self, heldout: bool) -> list[tuple[str, str]]:
        return [(op, t) for op, ts in self.templates.items() for t in ts if held_out(t, salt=self.name) == heldout]

    def draft(self, op: str, template: str, rng: random.Random, heldout_templates: bool,
              heldout_words: bool) -> tuple[dict[str, Fill], dict, str]:
        """The template's fragments chosen and its slots filled: (fills, gold, template). Domains whose filler
        rewrites the template, or whose templates have no fragments, override this."""
        t = expand(template, rng, heldout_templates, self.name)
        fills, gold = self.fill(op, t, rng, heldout_words)
        return fills, gold, t

    def polish(self, t: str, fills: dict[str, Fill], gold: dict, rng: random.Random) -> str:
        """A last domain-specific variation of the sentence before it is rendered (none by default)."""
        return t

    def sample(self, n: int, rng: random.Random, *, heldout_templates: bool = False, heldout_words: bool = False,
               typos: float = 0.0, qualified: float = 0.0, wrapped: float = 0.0) -> list[Example]:
        """`wrapped`: the share of sentences given a lead-in, context or tail; `qualified`: the share given a
        qualifier (their gold gets ``qualified: True``)."""
        pool = self.split_templates(heldout_templates)
        out = []
        while len(out) < n:
            op, t0 = rng.choice(pool)
            fills, gold, t = self.draft(op, t0, rng, heldout_templates, heldout_words)
            t, q = self.finish(t, rng, heldout_templates, heldout_words, qualified, fills, wrapped)
            if q:
                gold = {**gold, "qualified": True}
            if typos and rng.random() < typos:
                t = typo(t, rng)
            # "convert/compound": templates of one operation, filled differently
            ex = render(self.polish(t, fills, gold, rng), fills, op.split("/")[0], gold)
            ex.template = t0
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
