"""`micromarket train dates`: a from-scratch micro-LLM that normalises written dates to ISO (YYYY-MM-DD).

Data is generated from components (day / month / year / weekday renderings, separators, filler
words, wrappers) in random orders, so unseen templates are new combinations of familiar parts:
unknown words may sit between any two parts, a weekday may come before or after the date, a single
junction may have no separator, wrappers are also random word/punctuation runs, and year-first is
seen in numeric dates and in the named year-day-month order.
Conventions: all-numeric dates with "/" are month/day/year, with "." or "-" day.month.year, and
year-first when the 4-digit year leads; two-digit years 00-49 -> 20xx, 50-99 -> 19xx.
Evaluation splits (all on dates never seen in training):
  unseen_dates         training formats
  unseen_combinations  (order, day, month, year) format tuples excluded from training
  heldout_templates    structures never generated in training: named year-month-day order, the
                       words "day" and "year" ("day of", "in the year"), no separator at both
                       junctions ("05JUL1999"), a weekday in brackets after the date, and new
                       wrapper sentences (no held-out wrapper, word or bracketed weekday is ever
                       generated for training)
Out-of-domain inputs (other tasks, partial or impossible dates, noise) must give "UNKNOWN".
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, timedelta

from micromarket.specialists.microllm.engine import ServeConfig
from micromarket.specialists.microllm.train_app import make_app
from micromarket.specialists.microllm.trainer import Example

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WD_ABBR = [["mon"], ["tue", "tues"], ["wed"], ["thu", "thur", "thurs"], ["fri"], ["sat"], ["sun"]]
UNITS = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
         "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"]

DAY_FMTS = ["d", "dd", "dth", "dword", "the_dth", "the_dword"]
MONTH_FMTS = ["m", "mm", "name", "abbr", "abbr."]
YEAR_FMTS = ["yyyy", "yy", "'yy"]
NUMERIC_ORDERS = {"YMD": ["-", "/", ".", " "], "MDY": ["/"], "DMY": [".", "-"]}
NAMED_ORDERS = ["DMY", "MDY", "DYM", "MYD", "YDM"]  # named year-month-day order is held out (templates)
SEPS = [" ", ", ", "-", "/", ".", " - ", " , ", "  ", ". ", " / ", ",", " of "]
WRAPPERS = ["{}", "{}", "{}", "please normalise: {}", "normalize: {}", "normalise {} please", "date: {} thanks", "convert {} to iso",
            "{} -> iso", "what date is {}?", "iso for {} pls", "when: {}", "parse {}", "{}.", "on {}", "due {}", "dated {}",
            "[{}]", "({})", '"{}"', "the date is {}", "{} is the deadline", "event on {} ok", "hey, {}", "deadline: {}!", "starts {}",
            "normalise the date {} to iso 8601", "normalize {} to yyyy-mm-dd", "convert the date {} to iso format", "{} as yyyy-mm-dd",
            "what is {} in iso 8601?", "iso date for {}", "format {} as iso", "rewrite {} in iso 8601 format"]
PUNCT = [">>", "<<", "--", "**", "::", "!!", "?", "...", "->", "=>", "|", "~", "#", "*", "(", ")", "[", "]", ":", ";", "!", '"', "'"]
FILLERS = ["ok", "hey", "so", "um", "the", "date", "is", "please", "thanks", "pls", "kindly", "format", "this", "for", "me",
           "today", "note", "deadline", "event", "birthday", "start", "end", "from", "until", "by", "at", "invoice", "report",
           "meeting", "trip", "payment", "due", "on", "around", "exactly", "approx", "circa", "fwd", "re", "urgent", "fyi", "iso"]
# only in held-out templates: never generated for training
HELDOUT_WRAPPERS = ["could you turn {} into yyyy-mm-dd?", "i was born on {}.", "the meeting moved to {} apparently",
                    "reminder >> {} <<", "{} is when it happened", "write {} the standard way"]
HELDOUT_WORDS = {"day", "year", "born", "happened", "reminder", "standard", "apparently", "moved", "meeting", "turn", "write", "way"}
# only in the validation split (early exit): neither trained on nor in the test splits
VAL_WRAPPERS = ["archive entry {} (scanned)", "signed {} by the clerk", "{} according to the ledger", "postmarked {}",
                "the ticket says {}", "{} -- check the calendar"]
VAL_WORDS = {"archive", "entry", "scanned", "signed", "clerk", "according", "ledger", "postmarked", "ticket", "says", "check", "calendar"}
HELDOUT_COMBOS = {("DMY", "dword", "abbr.", "yy"), ("MDY", "the_dth", "abbr", "'yy"), ("DMY", "dd", "name", "'yy"),
                  ("MDY", "dword", "name", "yyyy"), ("YMD", "d", "mm", "yyyy"), ("DMY", "dd", "m", "yy")}
LO, HI = date(1900, 1, 1), date(2099, 12, 31)
LO2, HI2 = date(1950, 1, 1), date(2049, 12, 31)
OOD_SENTENCES = ["what is the capital of france", "convert 5 km to miles", "mcmxciv", "what is 17 times 3", "hello how are you",
                 "sort these numbers 5 3 9", "translate good morning to spanish", "the quick brown fox", "2 + 2", "solve x^2 = 9",
                 "how many grams in a pound", "one thousand two hundred", "call me at 555 0199", "room 404", "version 2.1.3"]
OOD_HELDOUT = ["it costs $3.50", "meet at 10:45 pm", "add 3/4 cup of flour", "tel +44 20 7946 0958", "order #20210304x",
               "what is the weather like", "chapter 12 verse 3", "page 31 of 2000", "temperature 21.5 c", "score 3-1"]


def _date_bucket(d: date) -> int:
    return (d.toordinal() * 2654435761) % 1009


def is_test_date(d: date) -> bool:
    """~10% of days never appear in training."""
    return _date_bucket(d) < 101


def is_val_date(d: date) -> bool:
    """Another ~4% of days, neither trained on nor tested: the validation split of the early exit."""
    return 101 <= _date_bucket(d) < 141


def ordinal_suffix(n: int) -> str:
    return "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def ordinal_word(n: int, rng: random.Random) -> str:
    if n < 20:
        return UNITS[n]
    tens = {2: ("twenty", "twentieth"), 3: ("thirty", "thirtieth")}[n // 10]
    if n % 10 == 0:
        return tens[1]
    return tens[0] + rng.choice(["-", " ", "-"]) + UNITS[n % 10]


def render_day(d: int, fmt: str, rng: random.Random) -> str:
    return {
        "d": lambda: str(d),
        "dd": lambda: f"{d:02d}",
        "dth": lambda: f"{d}{ordinal_suffix(d)}",
        "dword": lambda: ordinal_word(d, rng),
        "the_dth": lambda: f"the {d}{ordinal_suffix(d)}",
        "the_dword": lambda: "the " + ordinal_word(d, rng),
    }[fmt]()


def render_month(m: int, fmt: str, rng: random.Random) -> str:
    if fmt == "m":
        return str(m)
    if fmt == "mm":
        return f"{m:02d}"
    if fmt == "name":
        return MONTHS[m - 1]
    ab = "sept" if m == 9 and rng.random() < 0.3 else MONTHS[m - 1][:3]
    return ab + "." if fmt == "abbr." else ab


def render_year(y: int, fmt: str) -> str:
    return {"yyyy": str(y), "yy": f"{y % 100:02d}", "'yy": f"'{y % 100:02d}"}[fmt]


def render_weekday(d: date, rng: random.Random) -> str:
    i = d.weekday()
    return WEEKDAYS[i] if rng.random() < 0.4 else rng.choice(WD_ABBR[i])


def casing(s: str, rng: random.Random) -> str:
    r = rng.random()
    return s.upper() if r < 0.1 else s.title() if r < 0.45 else s


def random_word(rng: random.Random) -> str:
    while True:
        w = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 7)))
        if not any(w.startswith(m[:3]) for m in MONTHS + WEEKDAYS) and w not in HELDOUT_WORDS | VAL_WORDS | {"in", "of", "th", "st", "nd", "rd"}:
            return w


TRAIN_FILLERS = [w for w in FILLERS if w not in HELDOUT_WORDS]


def filler(rng: random.Random) -> str:
    return rng.choice(TRAIN_FILLERS) if rng.random() < 0.6 else random_word(rng)


def filler_run(rng: random.Random, lo: int, hi: int) -> str:
    """lo..hi unknown-ish words and punctuation: teaches the model to skip whatever surrounds the date parts."""
    out = []
    for _ in range(rng.randint(lo, hi)):
        out.append(rng.choice(PUNCT) if rng.random() < 0.12 else filler(rng))
    return " ".join(out)


def sample_date(rng: random.Random, test: bool, two_digit: bool, val: bool = False) -> date:
    """A date of the test split (``test``), the validation split (``val``) or, with neither, the training split."""
    lo, hi = (LO2, HI2) if two_digit else (LO, HI)
    while True:
        d = lo + timedelta(days=rng.randrange((hi - lo).days + 1))
        if is_test_date(d) == test and is_val_date(d) == val:
            return d


@dataclass
class Fmt:
    order: str
    day: str
    month: str
    year: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.order, self.day, self.month, self.year)

    @property
    def numeric(self) -> bool:
        return self.month in ("m", "mm")


def random_fmt(rng: random.Random) -> Fmt:
    if rng.random() < 0.35:
        order = rng.choice(list(NUMERIC_ORDERS))
        year = "yyyy" if order == "YMD" else rng.choice(["yyyy", "yy"])
        return Fmt(order, rng.choice(["d", "dd"]), rng.choice(["m", "mm"]), year)
    f = Fmt(rng.choice(NAMED_ORDERS), rng.choice(DAY_FMTS), rng.choice(["name", "abbr", "abbr."]), rng.choice(YEAR_FMTS))
    if f.order in ("DYM", "MYD") and f.year == "yy" and f.day in ("d", "dd"):
        f.year = "'yy"  # a bare two-digit year mid-date would be ambiguous with the day
    if f.order[0] == "Y":
        f.year = "yyyy"  # year first only with four digits
    return f


def _glue_ok(left: str, right: str) -> bool:
    """An empty separator only between letters and digits (never digit-digit: '5' + '1999' is unreadable)."""
    return bool(left and right) and (left[-1].isdigit() != right[0].isdigit())


def render(d: date, f: Fmt, rng: random.Random, *, filler_p: float = 0.22, glue_p: float = 0.08) -> str:
    parts = {"D": render_day(d.day, f.day, rng), "M": render_month(d.month, f.month, rng), "Y": render_year(d.year, f.year)}
    if f.numeric:
        sep = rng.choice(NUMERIC_ORDERS[f.order])
        text = sep.join(parts[c] for c in f.order)
    else:
        text = parts[f.order[0]]
        glued = False  # at most one junction without a separator: both glued ("05jul1999") is a held-out template
        for c in f.order[1:]:
            r = rng.random()
            if r < filler_p:
                sep = rng.choice([" ", ", ", " - "]) + filler_run(rng, 1, 3) + rng.choice([" ", ", "])
            elif r < filler_p + glue_p and not glued and _glue_ok(text, parts[c]):
                sep, glued = "", True
            else:
                sep = rng.choice(SEPS)
                if sep == " of " and not (c == "M" and text.endswith(parts["D"])):
                    sep = " "
            text += sep + parts[c]
    r = rng.random()
    if r < 0.14:
        text = render_weekday(d, rng) + rng.choice([" ", ", ", ". ", " - "]) + text
    elif r < 0.22:  # after the date, never in brackets (held out)
        text = text + rng.choice([" ", ", ", " - ", " ... "]) + render_weekday(d, rng)
    return casing(text, rng)


def wrap(text: str, rng: random.Random, wrappers: list[str] = WRAPPERS) -> str:
    if rng.random() < 0.35:  # a random sentence around the date: new wrappers are combinations of unknown words
        text = (filler_run(rng, 1, 5) + " " if rng.random() < 0.8 else "") + text + (" " + filler_run(rng, 1, 4) if rng.random() < 0.6 else "")
    else:
        text = rng.choice(wrappers).format(text)
    if rng.random() < 0.15:
        text = filler_run(rng, 1, 2) + " " + text
    if rng.random() < 0.15:
        text = text + " " + filler_run(rng, 1, 2)
    return text


def heldout_template(d: date, rng: random.Random) -> str:
    """One of the structures the training generator never produces."""
    n, y = d.day, d.year
    name, abbr = MONTHS[d.month - 1], MONTHS[d.month - 1][:3]
    k = rng.randrange(7)
    if k == 0:
        return f"{ordinal_word(n, rng)} day of {name} {y}"
    if k == 1:
        return f"{name} {n}{ordinal_suffix(n)} in the year {y}"
    if k == 2:
        return f"{y}, {rng.choice([name, abbr])} {rng.choice([str(n), f'{n}{ordinal_suffix(n)}'])}"
    if k == 3:
        return f"{n:02d}{abbr.upper()}{y}"
    if k == 4:
        return f"{y}/{d.month:02d}/{n:02d} ({render_weekday(d, rng)})"
    if k == 5:
        return f"the {n}{ordinal_suffix(n)} day of {name}, {y}"
    return f"{n}{ordinal_suffix(n)} {abbr}, year {y}"


def invalid_date_text(rng: random.Random) -> str:
    """A date-shaped string that names no real day (e.g. 31 April, month 13)."""
    y = rng.randint(1950, 2049)
    if rng.random() < 0.3:
        m, dd = rng.randint(13, 19), rng.randint(13, 28)  # no valid reading in either numeric order
        return rng.choice([f"{y}-{m:02d}-{dd:02d}", f"{dd}.{m}.{y}"])
    m = rng.choice([2, 4, 6, 9, 11])
    n = rng.randint(30 if m == 2 else 31, 31)
    f = random_fmt(rng)
    while f.numeric and f.order != "YMD":
        f = random_fmt(rng)
    parts = {"D": render_day(n, f.day, rng), "M": render_month(m, f.month, rng), "Y": render_year(y, f.year)}
    sep = "-" if f.numeric else " "
    return sep.join(parts[c] for c in f.order)


def ood_text(rng: random.Random, heldout: bool = False) -> str:
    r = rng.random()
    if heldout and r < 0.5:
        return rng.choice(OOD_HELDOUT)
    if r < 0.25:
        return invalid_date_text(rng)
    if r < 0.45:  # partial: month + year, day + month, a bare year
        d = sample_date(rng, False, False)
        k = rng.randrange(3)
        return [f"{MONTHS[d.month - 1]} {d.year}", f"{render_day(d.day, 'dth', rng)} of {MONTHS[d.month - 1]}", str(d.year)][k]
    if r < 0.6:
        return rng.choice(OOD_SENTENCES)
    if r < 0.8:  # numbers that are not dates, among words
        words = [filler(rng) for _ in range(rng.randint(0, 4))]
        words.insert(rng.randint(0, len(words)), number_ish(rng))
        return " ".join(words)
    return " ".join(filler(rng) if rng.random() < 0.5 else random_word(rng) for _ in range(rng.randint(1, 6)))


def number_ish(rng: random.Random) -> str:
    k = rng.randrange(8)
    n = rng.randint(0, 9999)
    return [str(n), f"{rng.randint(1, 999)}.{rng.randint(0, 99)}", f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}",
            f"${rng.randint(1, 999)}", f"{rng.randint(1, 9)}/{rng.randint(2, 16)}", f"{rng.randint(1, 100)}%",
            f"#{rng.randint(1, 99999)}", f"{rng.randint(1, 12)} {rng.choice(['kg', 'km', 'pm', 'am', 'items', 'pages'])}"][k]


@dataclass
class DatesTask:
    name: str = "dates"
    specialist_id: str = "microllm-dates"
    capability: str = "normalize_date"
    description: str = (
        "Normalise a date written in words or numbers (e.g. 'March 3rd, 2021', '3/4/21', 'the 5th of July 1999', "
        "'Tue 4 Jan 22') to ISO 8601 YYYY-MM-DD. A 1M-parameter character-level model trained from scratch; "
        "numeric dates with '/' read month/day/year, with '.' or '-' day.month.year."
    )
    examples: list[str] = field(default_factory=lambda: ["March 3rd, 2021", "3/4/21", "the 5th of July 1999", "Tue 4 Jan 22", "please normalise: 2021-03-04"])
    domains: list[str] = field(default_factory=lambda: ["dates", "time"])
    alphabet: str = string.ascii_lowercase + string.digits + " -/.,'()[]:;!?&#*+=<>\"_~|@$%^"
    serve: ServeConfig = field(
        default_factory=lambda: ServeConfig(use_context=False, max_new_tokens=12, confidence="min", unknown="UNKNOWN", allowed_chars="0123456789-", validator="iso_date")
    )
    split_names: tuple[str, str, str] = ("unseen_dates", "unseen_combinations", "heldout_templates")
    max_chars: int = 110
    instruction: str = "Rewrite the date in the text as YYYY-MM-DD. Reply UNKNOWN if it holds no valid date."  # system message for a pretrained chat model (--base)
    acceptance: dict[str, float] = field(default_factory=lambda: {"unseen_dates": 0.995, "heldout_templates": 0.90})  # the quality gate
    # early exit, on validation data only: stricter than the gate, so the test splits clear it with a margin
    val_acceptance: dict[str, float] = field(default_factory=lambda: {"val_dates": 0.998, "val_wrappers": 0.99})
    ood_rate: float = 0.12
    # single-token domain words (build_char_tokenizer): off. Measured (docs/microllm.md): with month/weekday names and
    # ordinal words as tokens the default run was at 28 % on validation dates after 1,000 steps, pure characters at 55 %
    words: tuple[str, ...] = ()

    # the task's recipe over TrainConfig's (trainer.config_for). lr 6e-3 jumped late (90.7 % unseen dates at 4,000
    # steps); 3e-3 jumped by step 500 on two seeds and was still rising on validation at 4,000 (99.0 / 90.6 %)
    # val_n 2,000: 0.05-point resolution for keeping the best checkpoint (500 resolved 0.2, the gate's whole margin)
    train_defaults: dict = field(default_factory=lambda: {"lr": 3e-3, "steps": 6000, "val_n": 2000})

    curriculum: float = 0.25  # fraction of training over which wrappers and fillers ramp up from 20% to 100%

    def train_example(self, rng: random.Random, progress: float = 1.0) -> Example:
        """One training example; early in training (``progress`` < curriculum) mostly bare dates: short and easy."""
        level = 1.0 if self.curriculum <= 0 else min(1.0, 0.2 + 0.8 * progress / self.curriculum)
        while True:
            ex = self._train_example(rng, level)
            if len(ex[0]) <= self.max_chars:
                return ex

    def _train_example(self, rng: random.Random, level: float = 1.0) -> Example:
        if rng.random() < self.ood_rate:
            return wrap(ood_text(rng), rng), "UNKNOWN"
        f = random_fmt(rng)
        while f.key in HELDOUT_COMBOS:
            f = random_fmt(rng)
        d = sample_date(rng, False, f.year != "yyyy")
        text = render(d, f, rng, filler_p=0.22 * level, glue_p=0.08)
        return (wrap(text, rng) if rng.random() < level else text), d.isoformat()

    def eval_sets(self, rng: random.Random, n: int) -> dict[str, list[Example]]:
        seen, combos, templates, ood = [], [], [], []
        while len(seen) < n:
            f = random_fmt(rng)
            if f.key not in HELDOUT_COMBOS:
                d = sample_date(rng, True, f.year != "yyyy")
                seen.append((wrap(render(d, f, rng), rng), d.isoformat()))
        held = sorted(HELDOUT_COMBOS)
        while len(combos) < n:
            f = Fmt(*rng.choice(held))
            d = sample_date(rng, True, f.year != "yyyy")
            combos.append((wrap(render(d, f, rng), rng), d.isoformat()))
        while len(templates) < n:
            d = sample_date(rng, True, False)
            text = heldout_template(d, rng)
            text = casing(text, rng)
            templates.append((rng.choice(HELDOUT_WRAPPERS).format(text) if rng.random() < 0.5 else text, d.isoformat()))
        while len(ood) < n:
            ood.append((wrap(ood_text(rng, heldout=True), rng, HELDOUT_WRAPPERS + ["{}"]), "UNKNOWN"))
        return {"unseen_dates": seen, "unseen_combinations": combos, "heldout_templates": templates, "ood": ood}

    def val_sets(self, rng: random.Random, n: int) -> dict[str, list[Example]]:
        """Validation (early exit): validation-only dates in training formats, bare or wrapped as in training
        (``val_dates``), and in wrapper sentences of their own (``val_wrappers``); none of it is ever trained on."""
        dates, wrapped = [], []
        while len(dates) < n:
            f = random_fmt(rng)
            if f.key not in HELDOUT_COMBOS:
                d = sample_date(rng, False, f.year != "yyyy", val=True)
                dates.append((wrap(render(d, f, rng), rng), d.isoformat()))
                d = sample_date(rng, False, f.year != "yyyy", val=True)
                wrapped.append((rng.choice(VAL_WRAPPERS).format(casing(render(d, f, rng), rng)), d.isoformat()))
        return {"val_dates": dates, "val_wrappers": wrapped}


app = make_app(DatesTask, "Train the dates micro-LLM (normalize_date) from scratch, evaluate it and write its card.")

if __name__ == "__main__":
    app()
