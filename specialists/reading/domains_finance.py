"""Generator for the `finance` reader: lump sums, deposits, loans, rates, terms and frequencies."""

from __future__ import annotations

import random

from micromarket.specialists.reading.generate import Domain, Fill, words_of

FREQ = {1: ["annually", "yearly", "once a year", "every year"], 4: ["quarterly", "every quarter", "each quarter"],
        12: ["monthly", "every month", "each month", "a month", "per month"], 2: ["semi-annually", "twice a year", "half-yearly"],
        365: ["daily", "every day"], 52: ["weekly", "every week", "each week"]}

COMPOUND = [
    "I invest {A} at {R} interest compounded {F}. How much do I have after {T}?", "{A} at {R} compounded {F} for {T}",
    "What will {A} grow to in {T} at {R} compounded {F}?", "future value of {A} invested for {T} at {R}, compounded {F}",
    "if I put {A} in a savings account paying {R} compounded {F}, what is the balance after {T}?",
    "how much is {A} worth after {T} at {R} compounded {F}", "compound {A} at {R} {F} for {T}",
    "my grandmother left me {A}; at {R} compounded {F}, what will it be in {T}?", "{A} grows at {R} a year compounded {F}; value after {T}?",
    "what does {A} become after {T} with {R} interest compounded {F}", "a CD of {A} pays {R} compounded {F}. balance in {T}?",
    "deposit {A} once at {R}, compounded {F}, for {T}: how much at the end?", "how much will I have in {T} if I invest {A} at {R} compounded {F}",
    "{A} invested at {R}, compounding {F}, over {T}", "what's the future value of {A} at {R} for {T} compounded {F}",
]
LOAN = [
    "{M} payment on a {A} mortgage at {R} for {T}", "How much is a {A} mortgage at {R} over {T} {PM}?",
    "what is the {M} payment for a {A} loan at {R} over {T}", "I borrow {A} at {R} for {T}. what are my {M} payments?",
    "car loan of {A}, {R} APR, {T}: {M} payment?", "payment on a {A} loan, {R} interest, {T} term",
    "If I take out a {A} home loan at {R} for {T}, what will I pay {EM}?", "{A} mortgage, {R}, {T} - {M} cost?",
    "what would the {M} installment be on {A} borrowed at {R} for {T}", "calculate the payment on a {T} loan of {A} at {R}",
    "a student loan of {A} at {R} paid off over {T}: how much {PM}?", "how much {PM} to repay {A} at {R} in {T}",
    "my mortgage is {A} at {R} for {T}; what's the {M} payment", "amortize {A} at {R} over {T}",
]
ANNUITY = [
    "What is the future value of {A} deposited {F} for {T} at {R} compounded {F:2}?", "I save {A} {F} at {R} for {T}. How much will I have?",
    "if I put away {A} {F} for {T} earning {R}, what will it be worth", "future value of {A} {F} contributions at {R} over {T}",
    "depositing {A} {F} into an account at {R}, what is the balance after {T}?", "how much will {A} saved {F} grow to in {T} at {R}",
    "{A} {F} for {T} at {R}: future value?", "I contribute {A} {F} to a retirement account returning {R}; balance after {T}?",
    "each period I set aside {A} {F}, at {R} for {T}. total?", "what will my savings be if I deposit {A} {F} at {R} for {T}",
    "an annuity pays in {A} {F} at {R} for {T}; what is its future value", "saving {A} {F}, {R} a year, {T} - what do I end with?",
]
SIMPLE = [
    "simple interest on {A} at {R} for {T}", "what is the simple interest on {A} at {R} over {T}?",
    "how much simple interest does {A} earn at {R} in {T}", "calculate simple interest: {A}, {R}, {T}",
    "{A} lent at {R} simple interest for {T}: how much interest?", "find the simple interest for {A} at {R} over {T}",
    "what simple interest will {A} earn in {T} at {R}", "simple interest, principal {A}, rate {R}, time {T}",
]


def _amount(rng: random.Random, heldout: bool) -> tuple[str, float]:
    base = rng.choice([rng.randint(1, 99) * 100, rng.randint(1, 500) * 1000, rng.randint(50, 900) * 1000, rng.randint(5, 500)])
    forms = ["${:,}", "{:,} dollars", "${}", "{} dollar", "$k", "k", "€{:,}", "{:,} euros", "$m", "{:,} USD", "{} bucks", "£{:,}"]
    forms = [f for i, f in enumerate(forms) if (i >= 8) == heldout] if rng.random() < 0.4 else forms[:4]
    f = rng.choice(forms)
    if f in ("$k", "k"):
        base = rng.randint(2, 950) * 1000
        return (f"${base // 1000}k" if f == "$k" else f"{base // 1000}k"), float(base)
    if f == "$m":
        v = rng.choice([1, 1.2, 1.5, 2, 2.5, 3])
        return f"${v:g} million", v * 1e6
    return f.format(base), float(base)


def _rate(rng: random.Random, heldout: bool) -> tuple[str, float]:
    r = round(rng.choice([rng.randint(1, 12), rng.uniform(0.5, 12)]), rng.choice([0, 1, 2]))
    forms = ["{:g}%", "{:g} percent", "{:g}% a year", "{:g}% per year", "an annual rate of {:g}%", "{:g} per cent", "{:g}% p.a."]
    forms = [f for i, f in enumerate(forms) if (i >= 5) == heldout] if rng.random() < 0.4 else forms[:2]
    return rng.choice(forms).format(r), float(r)


def _term(rng: random.Random, heldout: bool) -> tuple[str, float]:
    if rng.random() < 0.2:
        m = rng.choice([6, 12, 18, 24, 36, 48, 60, 72])
        return rng.choice([f"{m} months", f"{m} mos"] if heldout else [f"{m} months"]), m / 12
    y = rng.randint(1, 40)
    forms = ["{} years", "{} year", "{}-year", "{} yrs", "{} yr"]
    forms = [f for i, f in enumerate(forms) if (i >= 3) == heldout] if rng.random() < 0.4 else forms[:1]
    return rng.choice(forms).format(y), float(y)


def _fill(op: str, template: str, rng: random.Random, heldout: bool):
    a, av = _amount(rng, heldout)
    r, rv = _rate(rng, heldout)
    t, years = _term(rng, heldout)
    fills = {"A": Fill(a, "AMT"), "R": Fill(r, "RATE"), "T": Fill(t, "TERM")}
    gold = {"op": op, "amount": av, "rate": rv, "years": years}
    if "{F" in template:
        vocab = words_of({str(k): v for k, v in FREQ.items()}, heldout, "finance", whole_keys=False)
        k = rng.choice(list(vocab))
        fills["F"] = Fill(rng.choice(vocab[k]), "FREQ")
        fills["F:2"] = Fill(rng.choice(vocab[k]), "FREQ")
        gold["per_year"] = int(k)
    elif op == "loan":
        gold["per_year"] = 12
    for slot, word in (("M", "monthly"), ("PM", "per month"), ("EM", "each month")):  # a loan's payments
        fills[slot] = Fill(word, "FREQ")
    return fills, gold


DOMAIN = Domain("finance", {"compound": COMPOUND, "loan": LOAN, "annuity": ANNUITY, "simple": SIMPLE}, _fill,
                ["AMT", "RATE", "TERM", "FREQ"])
