"""`micromarket train roman`: a from-scratch micro-LLM reading Roman numerals as integers ("MCMXCIV" -> 1994).

Roman numerals 1-3999 (canonical subtractive form only). The number-words task (`micromarket train numwords`,
train_numwords.py) shares this module's generators: number words 0-999,999 with style variants ("and", hyphens,
"a hundred", commas) and year-style readings (1100-2099).
Wrappers: fixed sentences, and (like the dates task) random runs of filler words, random letter strings and
punctuation around the number, so a new sentence is a new combination of unknown words, not a new skill.
Evaluation splits (all on numbers never seen in training):
  unseen_numbers       training wrappers
  unseen_combinations  (number words only) style combinations excluded from training
  heldout_templates    wrapper sentences never used in training; none of their words is ever generated
Out-of-domain inputs (non-canonical numerals, dates, arithmetic, noise) must give "UNKNOWN".
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

from micromarket.specialists.microllm.engine import ServeConfig
from micromarket.specialists.microllm.train_app import make_app
from micromarket.specialists.microllm.trainer import Example

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
WRAPPERS = ["{}", "{}", "{}", "what is {}?", "{} in digits", "convert {} to a number", "number: {}", "value of {}", "{} =", "read {}",
            "[{}]", "({})", '"{}"', "please convert {}", "{} please", "the numeral {}", "digits for {} pls", "how much is {}", "{}.", "it says {}"]
FILLERS = ["ok", "hey", "so", "um", "please", "thanks", "pls", "the", "number", "value", "this", "for", "me", "note", "quick", "re", "fyi",
           "count", "total", "amount", "page", "chapter", "year", "item", "find", "get", "show", "tell", "us", "is", "was", "what"]
PUNCT = [">>", "<<", "--", "**", "::", "!!", "?", "...", "->", "=>", "|", "~", "#", "*", "(", ")", "[", "]", ":", ";", "!", '"', "'", ",", "."]
HELDOUT_WRAPPERS = ["could you write {} with arabic numerals?", "the inscription reads {} apparently", "{} <- what integer is that",
                    "my answer was {}, right?", "translate {} into plain figures", "turn {} into an integer"]
HELDOUT_WORDS = {w.strip("?,.<-") for t in HELDOUT_WRAPPERS for w in t.replace("{}", " ").split()} - {""}
# only in the validation split (early exit): neither trained on nor in the test splits
VAL_WRAPPERS = ["engraved on the stone: {}", "{} according to the ledger", "the clock shows {} today", "scribbled {} nearby",
                "{} -- double check it", "label says {} hmm"]
VAL_WORDS = {w.strip(":-") for t in VAL_WRAPPERS for w in t.replace("{}", " ").split()} - {""} - set(FILLERS)
WORD_STYLES = [(a, h, o, c) for a in (0, 1) for h in (0, 1) for o in (0, 1) for c in (0, 1)]  # and, hyphen, "a hundred", comma
HELDOUT_STYLES = {(1, 0, 1, 1), (0, 1, 1, 0), (1, 1, 0, 1)}
OOD_SENTENCES = ["march 3rd, 2021", "what is the capital of france", "two plus two", "convert 5 km to miles", "hello there",
                 "the 5th of july 1999", "sort 5 3 9", "one banana", "how are things", "solve x^2 = 9", "3/4/21", "good morning"]
OOD_HELDOUT = ["meet at noon", "a dozen eggs", "several hundred people", "tuesday", "pi to three places", "room 12b", "many thousands"]


def roman(n: int) -> str:
    out = []
    for v, s in ROMAN:
        while n >= v:
            out.append(s)
            n -= v
    return "".join(out)


CANONICAL = {roman(n) for n in range(1, 4000)}


def is_test_number(n: int) -> bool:
    """~10% of numbers never appear in training. Never 0: it is the only number read as "zero", so holding it
    out would test a word never seen, not a new number (it was ~14 % of the numwords test split: 5/6 x 1/6)."""
    return n > 0 and (n * 2654435761) % 1009 < 101


def is_val_number(n: int) -> bool:
    """Another ~4%, neither trained on nor tested: the validation split of the early exit."""
    return 101 <= (n * 2654435761) % 1009 < 141


def below_100(n: int, hyphen: bool) -> str:
    if n < 20:
        return ONES[n]
    return TENS[n // 10] + ("" if n % 10 == 0 else ("-" if hyphen else " ") + ONES[n % 10])


def below_1000(n: int, style: tuple[int, int, int, int], lead: bool) -> str:
    use_and, hyphen, a_one, _ = style
    h, r = divmod(n, 100)
    parts = []
    if h:
        parts.append(("a" if (a_one and h == 1 and lead) else ONES[h]) + " hundred")
    if r:
        parts.append(("and " if (use_and and h) else "") + below_100(r, hyphen))
    return " ".join(parts)


def words(n: int, style: tuple[int, int, int, int]) -> str:
    if n == 0:
        return "zero"
    use_and, hyphen, a_one, comma = style
    th, r = divmod(n, 1000)
    if not th:
        return below_1000(r, style, True)
    head = ("a" if (a_one and th == 1) else below_1000(th, style, True)) + " thousand"
    if not r:
        return head
    tail = below_1000(r, style, False)
    if use_and and r < 100:
        tail = "and " + tail
    return head + ("," if comma else "") + " " + tail


def year_words(n: int, hyphen: bool) -> str:
    """Year-style reading: 1984 -> 'nineteen eighty-four', 1905 -> 'nineteen oh five', 1900 -> 'nineteen hundred'."""
    hi, lo = divmod(n, 100)
    if lo == 0:
        return below_100(hi, hyphen) + " hundred"
    return below_100(hi, hyphen) + " " + (("oh " + ONES[lo]) if lo < 10 else below_100(lo, hyphen))


def casing(s: str, rng: random.Random) -> str:
    r = rng.random()
    return s.upper() if r < 0.15 else s.title() if r < 0.4 else s.lower() if r < 0.6 else s


NUMBER_WORDS = set(ONES) | set(TENS) | {"hundred", "thousand", "and", "a", "oh"}


def random_word(rng: random.Random) -> str:
    """Letters that are neither a Roman numeral, a number word nor a word of a held-out wrapper."""
    while True:
        w = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 7)))
        if w.upper() not in CANONICAL and w not in NUMBER_WORDS and w not in HELDOUT_WORDS | VAL_WORDS:
            return w


TRAIN_FILLERS = [w for w in FILLERS if w not in HELDOUT_WORDS]


def filler(rng: random.Random) -> str:
    return rng.choice(TRAIN_FILLERS) if rng.random() < 0.6 else random_word(rng)


def filler_run(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(PUNCT) if rng.random() < 0.12 else filler(rng) for _ in range(rng.randint(lo, hi)))


def wrap(text: str, rng: random.Random, wrappers: list[str] = WRAPPERS, runs: bool = True) -> str:
    if runs and rng.random() < 0.4:  # a random sentence around the number: unseen wrappers are new combinations
        text = (filler_run(rng, 1, 5) + " " if rng.random() < 0.8 else "") + text + (" " + filler_run(rng, 1, 4) if rng.random() < 0.6 else "")
    else:
        text = rng.choice(wrappers).format(text)
    if rng.random() < 0.15:
        text = filler_run(rng, 1, 2) + " " + text
    if rng.random() < 0.15:
        text = text + " " + filler_run(rng, 1, 2)
    return text


def sample_number(rng: random.Random, test: bool, lo: int, hi: int, val: bool = False) -> int:
    """A number of the test split (``test``), the validation split (``val``) or, with neither, the training split."""
    while True:
        # uniform number of digits, then uniform: small numbers are common too
        digits = rng.randint(len(str(lo)), len(str(hi)))
        n = rng.randint(max(lo, 10 ** (digits - 1) if digits > 1 else 0), min(hi, 10**digits - 1))
        if is_test_number(n) == test and is_val_number(n) == val:
            return n


def render_roman(rng: random.Random, test: bool, val: bool = False) -> Example:
    n = sample_number(rng, test, 1, 3999, val)
    return casing(roman(n), rng) if rng.random() < 0.3 else roman(n).upper() if rng.random() < 0.8 else roman(n).lower(), str(n)


def render_words(rng: random.Random, test: bool, styles: list[tuple[int, int, int, int]], val: bool = False) -> Example:
    if rng.random() < 1 / 6:
        n = sample_number(rng, test, 1100, 2099, val)
        while n % 100 == 0 and rng.random() < 0.8:
            n = sample_number(rng, test, 1100, 2099, val)
        return casing(year_words(n, rng.random() < 0.6), rng), str(n)
    n = sample_number(rng, test, 0, 999_999, val)
    return casing(words(n, rng.choice(styles)), rng), str(n)


def invalid_roman(rng: random.Random) -> str:
    while True:
        s = "".join(rng.choice("IVXLCDM") for _ in range(rng.randint(2, 9)))
        if s not in CANONICAL:
            return s


def ood_text(rng: random.Random, heldout: bool = False) -> str:
    r = rng.random()
    if heldout and r < 0.4:
        return rng.choice(OOD_HELDOUT)
    if r < 0.35:
        s = invalid_roman(rng)
        return s if rng.random() < 0.7 else s.lower()
    if r < 0.65:
        return rng.choice(OOD_SENTENCES)
    return " ".join(filler(rng) if rng.random() < 0.3 else random_word(rng) for _ in range(rng.randint(1, 5)))


@dataclass
class RomanTask:
    name: str = "roman"
    specialist_id: str = "microllm-roman"
    capability: str = "roman_to_integer"
    description: str = (
        "Read a Roman numeral (I-MMMCMXCIX, e.g. 'MCMXCIV', 'what is XLII in digits?') and give the integer. "
        "A character-level micro-LLM trained from scratch."
    )
    examples: list[str] = field(default_factory=lambda: ["MCMXCIV", "what is XLII in digits?", "chapter xiv", "convert MMXXI to a number"])
    domains: list[str] = field(default_factory=lambda: ["numbers", "roman numerals"])
    alphabet: str = string.ascii_lowercase + string.digits + " -/.,'()[]:;!?&#*+=<>\"_~|@$%^"
    serve: ServeConfig = field(
        default_factory=lambda: ServeConfig(use_context=False, max_new_tokens=8, confidence="min", unknown="UNKNOWN", allowed_chars="0123456789", validator="integer")
    )
    split_names: tuple[str, ...] = ("unseen_numbers", "heldout_templates")
    max_chars: int = 110
    instruction: str = "Write the Roman numeral in the text as an integer in digits. Reply UNKNOWN if it holds none."  # system message for --base
    acceptance: dict[str, float] = field(default_factory=lambda: {"heldout_templates": 0.90})  # the quality gate
    # early exit, on validation data only: stricter than the gate, so the test splits clear it with a margin
    val_acceptance: dict[str, float] = field(default_factory=lambda: {"val_numbers": 0.99, "val_wrappers": 0.97})
    ood_rate: float = 0.12

    def render(self, rng: random.Random, test: bool, val: bool = False) -> Example:
        return render_roman(rng, test, val)

    def train_example(self, rng: random.Random, progress: float = 1.0) -> Example:
        while True:
            if rng.random() < self.ood_rate:
                text, ans = wrap(self.ood(rng), rng), "UNKNOWN"
            else:
                text, ans = self.render(rng, False)
                text = wrap(text, rng)
            if len(text) <= self.max_chars:
                return text, ans

    def ood(self, rng: random.Random, heldout: bool = False) -> str:
        if rng.random() < 0.2:  # number words belong to the numwords task
            return words(sample_number(rng, False, 0, 999_999), rng.choice(WORD_STYLES))
        return ood_text(rng, heldout)

    def eval_sets(self, rng: random.Random, n: int) -> dict[str, list[Example]]:
        seen = [(wrap(t, rng), a) for t, a in (self.render(rng, True) for _ in range(n))]
        templates = [(rng.choice(HELDOUT_WRAPPERS).format(t), a) for t, a in (self.render(rng, True) for _ in range(n))]
        ood = [(wrap(self.ood(rng, heldout=True), rng, HELDOUT_WRAPPERS + ["{}"], runs=False), "UNKNOWN") for _ in range(n)]
        return {"unseen_numbers": seen, "heldout_templates": templates, "ood": ood}

    def val_sets(self, rng: random.Random, n: int) -> dict[str, list[Example]]:
        """Validation (early exit): validation-only numbers wrapped as in training (``val_numbers``) and in wrapper
        sentences of their own (``val_wrappers``); none of it is ever trained on or tested."""
        numbers = [(wrap(t, rng), a) for t, a in (self.render(rng, False, True) for _ in range(n))]
        wrapped = [(rng.choice(VAL_WRAPPERS).format(t), a) for t, a in (self.render(rng, False, True) for _ in range(n))]
        return {"val_numbers": numbers, "val_wrappers": wrapped}


app = make_app(RomanTask, "Train the Roman-numeral micro-LLM (roman_to_integer) from scratch, evaluate it and write its card.")

if __name__ == "__main__":
    app()
