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

# Compositional templates: [a|b] groups resolved per sentence, each alternative split like the templates.
COMPOUND += [
    "[I invest|I put|we invest|she deposits|he puts] {A} [in|into] [a savings account|an account|a fund|a CD|the bank] [at|paying|earning|that pays] {R}[ interest|], compounded {F}. [how much|what] [will I have|is it worth|will it be|do I end up with] [after|in] {T}?",
    "[what is|what's|find|calculate] the [future value|final balance|value|ending balance] of {A} [invested|saved|deposited|left] [at|earning] {R} [compounded {F}|with {F} compounding] for {T}",
    "{A} [earning|at|growing at] {R} [compounded|compounding] {F} [for|over] {T}[: how much?|, final amount?|]",
    "[how much|what] will {A} [grow to|become|turn into|be worth] [after|in|over] {T} [at|with] {R} [interest |][compounded|compounding] {F}?",
    "[if I|suppose I|say I] [leave|keep|park] {A} in [an account|the bank|a deposit] at {R}, compounded {F}, [what's the balance|how much is there] after {T}?",
    "[my|our] [savings|nest egg|inheritance|bonus] of {A} [earns|gets|makes] {R} compounded {F}. [value|balance|worth] [after|in] {T}?",
    "[compound|grow] {A} at {R} [compounded |][{F} |]for {T}",
    "{T} of [compound interest|compounding] on {A} at {R}[, compounded {F}| compounded {F}]: [total?|how much?|what's the balance?]",
]
LOAN += [
    "[what's|what is|how much is|calculate] the {M} [payment|installment|repayment] [on|for] a {A} [mortgage|loan|car loan|home loan] at {R} [over|for] {T}[?|]",
    "[I|we] [borrow|borrowed|took out|take out] {A} [at|with|for] {R}[ interest| APR|] [over|for] {T}. [what|how much] [is|are|will be] [my|our|the] {M} [payment|payments|repayments]?",
    "a {A} [mortgage|loan|home loan|car loan|personal loan] at {R} [over|for|across] {T}: how much [do I pay|is it|will it cost] {PM}?",
    "[how much|what] [will I pay|do I owe|would I repay] {PM} on a {A} [loan|mortgage] at {R} [for|over] {T}?",
    "{M} [cost|payment|bill] of [borrowing|a loan of] {A} at {R} for {T}",
    "[mortgage|loan] [payment|calculation]: {A} [principal|borrowed], {R} [rate|interest], {T}",
    "[we want to|I want to|we plan to] [buy a house|buy a car|renovate] with a {A} [loan|mortgage] at {R} [over|for] {T}. [what would we pay|what's the payment] {PM}?",
    "[repay|pay back|pay off] {A} [borrowed |][at|with] {R} [in|over|within] {T}: {M} [payment|amount]?",
]
ANNUITY += [
    "[I|we|she] [save|put away|deposit|invest|set aside] {A} {F} [at|earning|returning] {R} [for|over] {T}. [how much|what] [will I have|will that be|is the total|do we end with]?",
    "[if I|suppose I] [contribute|add|pay in] {A} {F} [to|into] [an account|a pension|a fund|my savings] [at|earning|paying] {R}, [what's the balance|how much will it be] after {T}?",
    "[future value|final value|total value] of [saving|depositing|investing] {A} {F} [at|with] {R} for {T}",
    "{A} {F} [for|over] {T} at {R} [compounded {F:2}|]: [how much at the end?|final balance?|total?]",
    "[how much|what] [will|would] [my|our] [savings|retirement fund|account] [be|grow to] if [I|we] [deposit|save] {A} {F} for {T} at {R}?",
]
SIMPLE += [
    "[what is|what's|find|calculate] the simple interest [on|for|earned on] {A} at {R} [for|over|in] {T}[?|]",
    "[how much|what] simple interest [does|will|would] {A} [earn|make|get|accrue] [at|with] {R} [over|in|after] {T}?",
    "{A} [borrowed|lent|deposited] at {R} simple interest for {T}: [interest?|how much interest?|total interest?]",
    "simple interest[:|,] [principal|amount] {A}, [rate|interest rate] {R}, [time|period|term] {T}",
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
    elif op == "compound":  # no compounding frequency stated: annual
        gold["per_year"] = 1
    for slot, word in (("M", "monthly"), ("PM", "per month"), ("EM", "each month")):  # a loan's payments
        fills[slot] = Fill(word, "FREQ")
    return fills, gold


# Conditions the finance engine's call cannot express: a reading that finds one declines.
QUALIFIERS = ["before tax", "after tax", "after inflation", "net of fees", "with a small annual fee", "after fees",
              "in today's dollars", "adjusted for inflation", "after capital gains tax", "minus the broker's commission",
              "with a down payment", "excluding insurance", "with a balloon payment at the end", "if rates rise",
              "in real terms", "including taxes", "plus closing costs", "with interest paid in advance",
              "after the management fee", "with an interest-only period", "net of inflation", "including insurance",
              "after paying tax on the interest", "with a variable rate", "with extra payments", "less the fees",
              "taking tax into account", "in inflation-adjusted terms", "with early repayment", "after withholding tax"]

DOMAIN = Domain("finance", {"compound": COMPOUND, "loan": LOAN, "annuity": ANNUITY, "simple": SIMPLE}, _fill,
                ["AMT", "RATE", "TERM", "FREQ"], QUALIFIERS)
