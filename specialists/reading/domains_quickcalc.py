"""Generator for the `quickcalc` reader: arithmetic said in words ("12 squared minus 5 cubed", "what's 15% of 80").

Operations: ``expr`` (numbers and operator words in order; precedence as written maths), ``percent_of``
("15% of 80"), ``increase`` / ``decrease`` ("80 plus 15%", "15% off 80"), ``what_percent`` ("12 is what percent
of 80"), ``sub_from`` ("subtract 5 from 12": the numbers in reverse). Each number is a ``NUM`` span; each
operator word a span of its own tag (``PLUS`` ... ``ROOT``); a percentage ``PCT``; ``PART``/``WHOLE`` for
"what percent". Operator spellings and spelled numbers are split by word, templates by template.
"""

from __future__ import annotations

import random
import re

from micromarket.specialists.reading.generate import Domain, Fill, held_out, words_of

# operator tag -> spellings (first = the common one); binary operators between two numbers
BINARY = {
    "PLUS": ["plus", "+", "added to", "and", "increased by", "more than", "add", "together with", "summed with"],
    "MINUS": ["minus", "-", "less", "take away", "decreased by", "subtract", "reduced by", "subtracting"],
    "TIMES": ["times", "*", "x", "×", "multiplied by", "lots of", "multiplied with", "times by", "multiplied times"],
    "DIV": ["divided by", "/", "÷", "over", "shared equally by", "split by", "divided evenly by", "split evenly between"],
    "POW": ["to the power of", "^", "raised to", "**", "to the power", "raised to the power of", "to the exponent", "with exponent"],
}
POSTFIX = {"SQ": ["squared", "^2", "to the second power", "to the power of two", "to the power 2", "to the 2nd power", "raised to two"],
           "CUBE": ["cubed", "^3", "to the third power", "to the power of three", "to the 3rd power", "to the power 3"]}
PREFIX = {"ROOT": ["the square root of", "sqrt", "square root of", "root of", "the root of", "the sqrt of", "square-root of", "sq root of"]}
PRE_POWER = {"SQ": ["the square of", "square", "the square of the number", "square of"], "CUBE": ["the cube of", "cube", "cube of", "the cube of the number"]}
SPELLED = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten", 12: "twelve",
           20: "twenty", 11: "eleven", 15: "fifteen", 30: "thirty", 50: "fifty", 100: "a hundred"}

EXPR = [
    "{X}", "what is {X}?", "what's {X}", "calculate {X}", "{X} = ?", "how much is {X}", "work out {X}", "quick: {X}",
    "tell me {X}", "can you compute {X} for me", "{X} equals what", "what do you get from {X}?", "I need {X}",
    "compute {X} please", "what does {X} come to", "{X}, what is it", "hey, what's {X}?", "figure out {X}",
    "what would {X} be", "evaluate {X}", "give me the answer to {X}", "so {X} is how much?", "what is the value of {X}",
    "do {X} for me", "{X}?", "please calculate {X}", "what number is {X}", "and {X} makes what?", "result of {X}",
    "what's the result of {X}", "help me with {X}", "mental maths: {X}",
]
PERCENT_OF = [
    "what's {P} of {N}", "what is {P} of {N}?", "{P} of {N}", "calculate {P} of {N}", "how much is {P} of {N}",
    "find {P} of {N}", "{P} of {N} is what", "take {P} of {N}", "I need {P} of {N}", "what do you get for {P} of {N}?",
    "a tip of {P} on {N}: how much is the tip", "{P} of a {N} bill", "work out {P} of {N}", "what's {P} of {N} exactly",
    "how much is {P} out of {N}", "{P} of {N} equals?",
]
INCREASE = [
    "{N} plus {P}", "increase {N} by {P}", "what is {N} increased by {P}?", "{N} with {P} added", "add {P} to {N}",
    "{N} after a {P} rise", "raise {N} by {P}", "what's {N} plus {P}", "{N} marked up by {P}", "{N} grown by {P}",
    "if {N} goes up {P}, what is it", "{N} up {P}",
]
DECREASE = [
    "{N} minus {P}", "decrease {N} by {P}", "{P} off {N}", "what is {N} reduced by {P}?", "{N} less {P}",
    "take {P} off {N}", "{N} after a {P} discount", "a {N} item with {P} off: price?", "cut {N} by {P}",
    "what's {N} minus {P}", "{N} down {P}", "if {N} drops {P}, what is it",
]
WHAT_PERCENT = [
    "what percent of {W} is {A}?", "{A} is what percent of {W}", "what percentage is {A} of {W}", "{A} out of {W} as a percentage",
    "{A} as a percent of {W}", "what % of {W} is {A}", "express {A} as a percentage of {W}", "{A} of {W} is how many percent",
    "I scored {A} out of {W}; what percentage is that?", "how many percent of {W} is {A}",
]
SUB_FROM = [
    "subtract {B} from {A}", "take {B} away from {A}", "{B} subtracted from {A}",
    "deduct {B} from {A}", "remove {B} from {A}", "what's left if you take {B} from {A}", "subtract {B} from {A} please",
    "{B} less than {A}", "what do you get when you subtract {B} from {A}",
]
# More phrasings, as people ask them.
EXPR += ["what's the answer to {X}?", "{X} is what?", "calc {X}", "solve {X}", "need the result of {X}", "what comes out of {X}",
         "tell me what {X} is", "{X} - what do I get?", "so what's {X}", "can you do {X}?", "{X} makes?", "find {X}",
         "what is the answer for {X}", "could you calculate {X} please", "quick sum: {X}", "just work out {X}"]
PERCENT_OF += ["what's {P} of {N} dollars", "{P} of {N} please", "find {P} of the {N}", "compute {P} of {N}", "what amount is {P} of {N}?",
               "{P} of {N} comes to?", "the tip is {P} of {N}; how much?", "get {P} of {N}"]
INCREASE += ["{N} plus a {P} increase", "what is {N} after a {P} increase", "{N} raised by {P}", "boost {N} by {P}",
             "{N} with a {P} markup", "add {P} onto {N}"]
DECREASE += ["{N} with a {P} discount", "what is {N} after {P} off", "{N} lowered by {P}", "knock {P} off {N}",
             "reduce {N} by {P}", "{N} minus a {P} discount"]
WHAT_PERCENT += ["{A} out of {W} is what percent?", "what percentage of {W} is {A}", "{A} as a share of {W} in percent",
                 "percent: {A} of {W}", "{A} is how many percent of {W}?", "what fraction of {W} is {A}, in percent"]
SUB_FROM += ["take away {B} from {A}", "subtract {B} from the {A}", "minus {B} from {A}"]

# Prices, tips, taxes and discounts as people say them ({I}: what is bought, untagged context).
PERCENT_OF += ["how much is a {P} tip on a {N} {I}", "what's the tip at {P} on {N}", "{P} tip on a {N} {I}?",
               "the {P} tax on a {N} {I} is how much", "what would a {P} service charge be on {N}",
               "how much do I save with {P} off a {N} {I}", "sales tax of {P} on {N}: how much tax", "my {I} was {N}; what is a {P} tip",
               "what's my commission at {P} of {N}", "the deposit is {P} of the {N} {I}; how much is that"]
INCREASE += ["a {N} {I} with a {P} tip comes to how much", "{N} {I} plus {P} tip: total?", "what's the total for a {N} {I} with {P} tax",
             "{N} plus {P} sales tax", "a {N} {I} plus a {P} tip, what do I pay in total", "the {I} is {N} before {P} VAT; price with VAT?",
             "total with a {P} tip on {N}", "if I tip {P} on a {N} {I}, what do I pay altogether",
             "my pay of {N} goes up by {P}; new pay?", "what do I pay for a {N} {I} once {P} tax is added"]
DECREASE += ["{P} off a {N} {I}", "a {N} {I} is {P} off; what do I pay", "what does a {N} {I} cost at {P} off",
             "the {I} is {N} with a {P} discount: sale price?", "{N} {I}, {P} off - final price", "how much is a {N} {I} after {P} off",
             "sale: {P} off everything. what's a {N} {I} now", "with a {P} coupon, what does the {N} {I} cost",
             "my {N} {I} lost {P} of its value; what is it worth now"]
# Percent change: OLD and NEW amounts; a fall is answered as a positive decrease.
PCT_RISE = ["it went from {A} to {B}; by what percent did it rise?", "percentage increase from {A} to {B}",
            "what is the percent increase from {A} to {B}", "{A} to {B} is an increase of what percent",
            "the price rose from {A} to {B}. what's the percentage increase?", "by how many percent did it grow from {A} to {B}",
            "my rent went up from {A} to {B}; how much is that in percent", "sales climbed from {A} to {B}, what percent growth is that",
            "how big a percentage rise is {A} to {B}", "from {A} up to {B}: what percent increase", "{B} is what percent more than {A}",
            "a rise from {A} to {B} is how many percent", "if my wage goes from {A} to {B}, what's the raise in percent"]
PCT_FALL = ["it dropped from {A} to {B}; by what percent did it fall?", "percentage decrease from {A} to {B}",
            "what is the percent drop from {A} to {B}", "the price fell from {A} to {B}. what's the percentage decrease?",
            "by how many percent did it decline from {A} to {B}", "{A} down to {B} is a decrease of what percent",
            "my weight went down from {A} to {B}; how many percent is that", "{B} is what percent less than {A}",
            "a cut from {A} to {B} is how many percent", "visitors fell from {A} to {B}: what percent decrease",
            "what percentage reduction takes {A} to {B}"]
PCT_CHANGE = ["percent change from {A} to {B}", "what's the percentage change between {A} and {B}", "% change from {A} to {B}?",
              "compute the percent change: {A} -> {B}", "relative change from {A} to {B} in percent",
              "what percentage change is it going from {A} to {B}", "the percent difference from {A} to {B}, old to new"]
# The amount before a percentage was taken off or added.
BEFORE_DECREASE = ["after a {P} discount it costs {N}; what was the original price?", "I paid {N} after {P} off; what was the price before the discount?",
                   "a {I} is {N} after a {P} markdown; what did it cost originally?", "{N} is the price after {P} off. original price?",
                   "what was the full price if {N} is {P} off", "with {P} off I paid {N}: what was it before",
                   "the sale price is {N} at {P} off; what's the regular price", "{N} after a {P} reduction - what was it before the reduction?",
                   "it lost {P} and is now worth {N}; what was it worth before", "what did the {I} cost before {P} off if I paid {N}"]
BEFORE_INCREASE = ["{N} including {P} tax; what was the price before tax?", "after a {P} raise I earn {N}; what did I earn before?",
                   "the price with {P} VAT is {N}; what is it without VAT", "{N} is after a {P} increase; what was the original amount?",
                   "it grew by {P} to {N}: what was it before", "what number increased by {P} gives {N}",
                   "a {I} costs {N} including a {P} tip; how much before the tip?", "{N} with {P} markup included - the price before markup?",
                   "prices rose {P} and it now costs {N}; what did it cost before"]

PERCENT_OF += ["how much tax is {P} on a {N} {I}", "what's {P} of the {N} {I} price", "the {I} costs {N}; how much is {P} of that",
               "what does a {P} tip on {N} come to", "I want to leave {P} on a {N} {I}. how much is the tip?"]
INCREASE += ["{N} {I}, {P} tip included: what's the total", "how much is {N} after adding {P} tax", "add a {P} tip to {N}: total?"]
DECREASE += ["what's the sale price of a {N} {I} at {P} off", "I get {P} off a {N} {I}; how much do I pay", "{N} minus a {P} discount, final price?"]
PCT_RISE += ["the cost went up from {A} to {B}. what percentage rise is that", "{A} became {B}: by what percent did it increase"]
PCT_FALL += ["the cost came down from {A} to {B}. what percentage drop is that", "{A} became {B}: by what percent did it decrease"]
BEFORE_DECREASE += ["the {I} was reduced by {P} to {N}; what was it originally", "after {P} off it's {N}. what was the price before?",
                    "what was the original price of a {I} that costs {N} after a {P} discount"]
BEFORE_INCREASE += ["after a {P} increase it is {N}; what was it originally", "{N} includes a {P} service charge; what was it before the charge",
                    "what was the original price if it's {N} after a {P} rise"]

# Everyday framing (issue 22, fourth pass): whose thing it is ({O}: my, our, her ...), what it is ({C}: rent, the
# water bill, a salary), a rate after an amount ({R}: "a month", "per gallon"), all untagged context split by word;
# and splitting an amount between people (op ``split``: the amount NUM, the number of people or ways WAYS).
PCT_RISE += ["{O} {C} went from {A} to {B} {R}. by what percent did it go up?", "{O} {C} jumped from {A} to {B}; what percent increase is that",
             "{O} {C} was {A} {R} and now it's {B}. how much has it risen in percent?", "{O} {C} climbed from {A} {R} to {B}: percentage rise?",
             "last year {O} {C} was {A}, this year it is {B}. what's the percent increase", "{O} {C} is up from {A} to {B} {R}; by how many percent",
             "{O} {C} rose to {B} from {A}. percent increase?", "how many percent higher is {O} {C} now at {B} than before at {A}"]
PCT_FALL += ["{O} {C} dropped from {A} to {B} {R}; what was the percentage drop?", "{O} {C} fell from {A} to {B}. by what percent did it go down",
             "{O} {C} was cut from {A} {R} to {B}: what percent decrease is that", "{O} {C} went down from {A} to {B}; how much is that in percent",
             "{O} {C} used to be {A} {R}, now it's {B}. what's the drop in percent?", "{O} {C} slid from {A} to {B} {R}: how many percent lower"]
PCT_CHANGE += ["{O} {C}: {A} then {B}. what's the percent change", "how did {O} {C} change in percent from {A} to {B}"]
PERCENT_OF += ["{O} {C} is {N} {R}; how much is {P} of it", "{P} of {O} {C} of {N} {R} goes to savings. how much is that",
               "I put {P} of {O} {N} {C} aside; how much is that", "what is {P} of {O} {C} if it's {N}"]
INCREASE += ["{O} {C} of {N} {R} goes up {P}; what will it be", "{O} {C} is {N} {R} and rises by {P}. new amount?",
             "I earn {N} {R} and get a {P} raise; what do I earn now", "we had {I} for {N} and leave a {P} tip. what do we pay altogether?",
             "the {I} was {N} and I tip {P}, so what's the total", "a {N} {I} plus {P} tax, what's the full cost?",
             "{O} {I} came to {N}; add a {P} tip. what do I hand over in total"]
DECREASE += ["{O} {C} of {N} {R} drops by {P}; what is it now", "the {I} is priced at {N} and there's {P} off this week. what will I pay?",
             "the {I} costs {N} but it's {P} off. how much is it now?", "{O} {I} of {N} gets {P} off: discounted price?"]
BEFORE_INCREASE += ["I earn {N} {R} after a {P} raise; what did I earn before", "{O} {C} is {N} {R} after going up {P}. what was it before?",
                    "now that {O} {C} is {N} after a {P} rise, what was it originally"]
BEFORE_DECREASE += ["{O} {C} is {N} {R} after a {P} cut; what was it before", "I pay {N} {R} now that {O} {C} fell by {P}. what did I pay before?"]
WHAT_PERCENT += ["I earn {W_} {R} and spend {A} on {C}; what percent of my pay goes to {C}?", "{O} {C} is {A} out of a budget of {W_}: what percent is that",
                 "of the {W_} I make {R}, {A} goes on {C}. what percentage is that", "{A} of {O} {W_} {C} is spent; how many percent",
                 "we spend {A} of {W_} on {C}: what share in percent"]
SPLIT = ["split {N} {K} ways", "{K} friends split a {N} {I}. how much does each pay?", "divide {N} between {K} people",
         "{N} shared among {K} of us: how much each", "we are {K} and the {I} is {N}; what's each person's share",
         "split a {N} {I} evenly between {K}", "{K} of us owe {N} together. how much is each share?", "{N} split {K} ways: each pays?",
         "the {I} of {N} is shared by {K} people; how much per person", "{K} roommates share {O} {C} of {N} {R}. how much each?",
         "divide the {N} {I} among {K} friends", "how much is each share if {K} people split {N}",
         "we split the {N} {I} {K} ways, what does everyone pay", "{N} between {K} people is how much each",
         "{K} colleagues chip in for a {N} gift; how much does each give?", "split {O} {N} {C} between {K} of us"]
OWNERS = ["my", "our", "his", "her", "their", "your", "the", "my sister's", "my parents'", "the family's", "our team's", "this"]
THINGS = ["rent", "water bill", "gas price", "salary", "wage", "phone bill", "electricity bill", "bus fare", "house price",
          "grocery bill", "insurance", "membership fee", "tuition", "mortgage payment", "pay", "pension", "internet bill",
          "car payment", "subscription", "council tax", "heating bill", "budget", "allowance", "train ticket price", "income"]
RATES = ["a month", "per month", "a year", "per year", "each month", "a week", "per week", "an hour", "per hour", "per gallon",
         "a litre", "per kilo", "a night", "per night", "each", "a head", "monthly", "yearly", "", "", "", ""]
WAYS = {2: ["two", "2"], 3: ["three", "3"], 4: ["four", "4"], 5: ["five", "5"], 6: ["six", "6"], 7: ["seven", "7"],
        8: ["eight", "8"], 10: ["ten", "10"], 12: ["twelve", "12"]}

TEMPLATES = {"expr": EXPR, "percent_of": PERCENT_OF, "increase": INCREASE, "decrease": DECREASE,
             "what_percent": WHAT_PERCENT, "sub_from": SUB_FROM, "pct_change/rise": PCT_RISE, "pct_change/fall": PCT_FALL,
             "pct_change": PCT_CHANGE, "before_decrease": BEFORE_DECREASE, "before_increase": BEFORE_INCREASE, "split": SPLIT}
ITEMS = ["jacket", "dinner", "bill", "coat", "TV", "laptop", "meal", "pair of shoes", "sofa", "ticket", "book", "bike", "haircut",
         "taxi ride", "phone", "lamp", "check", "tab", "hotel room", "concert ticket", "blender", "watch", "rug", "order"]
# amounts of money: (currency) -> forms; split by word like the operator spellings
MONEY = {"dollar": ["${}", "{} dollars", "{} bucks", "{} USD", "US${}"], "euro": ["€{}", "{} euros", "{} EUR", "EUR {}"],
         "pound": ["£{}", "{} pounds sterling", "{} quid", "GBP {}"]}
# fractions of an amount ("3/4 of 96", "two thirds of 90"): spellings per fraction
FRACTIONS = {"half": ["half", "a half", "1/2", "one half"], "third": ["a third", "1/3", "one third"], "two_thirds": ["two thirds", "2/3"],
             "quarter": ["a quarter", "1/4", "one quarter", "one fourth"], "three_quarters": ["three quarters", "3/4", "three fourths"],
             "fifth": ["a fifth", "1/5", "one fifth"], "two_fifths": ["two fifths", "2/5"], "eighth": ["an eighth", "1/8"],
             "three_eighths": ["three eighths", "3/8"], "tenth": ["a tenth", "1/10", "one tenth"], "seven_tenths": ["seven tenths", "7/10"]}
MIXED = ["{} and a half", "{} and a quarter", "{} and three quarters", "{} 1/2", "{} and 3/4", "{} and a third"]
OPERATORS = {"PLUS": "+", "MINUS": "-", "TIMES": "*", "DIV": "/", "POW": "**", "SQ": "**2", "CUBE": "**3", "ROOT": "sqrt"}


def _money(rng: random.Random, heldout: bool) -> tuple[str, float]:
    forms = words_of(MONEY, heldout, "qcmoney", whole_keys=False)
    v = rng.choice([rng.randint(5, 300), round(rng.uniform(1, 250), 2), rng.randint(10, 90) * 10, rng.randint(1, 60) * 50])
    s = f"{v:,.2f}" if isinstance(v, float) else f"{v:,}"
    return rng.choice(forms[rng.choice(list(forms))]).format(s), float(s.replace(",", ""))


def _mixed(rng: random.Random, heldout: bool) -> tuple[str, float]:
    """A mixed number ("7 and a half", "2 1/2"); the forms split by word."""
    from micromarket.specialists.reading.numbers import amount

    forms = [f for f in MIXED if held_out(f, 0.3, "qcmixed") == heldout] or MIXED
    n, form = rng.randint(1, 20), rng.choice(forms)
    whole = SPELLED.get(n, str(n)) if rng.random() < 0.3 and " and " in form else str(n)  # "two 1/2" is no amount
    text = form.format(whole)
    return text, float(amount(text))


def _fraction(rng: random.Random, heldout: bool) -> tuple[str, float]:
    from micromarket.specialists.reading.numbers import fraction

    if rng.random() < 0.35:
        b = rng.randint(2, 12)
        text = f"{rng.randint(1, b - 1)}/{b}"
    else:
        words = words_of(FRACTIONS, heldout, "qcfrac")
        text = rng.choice(words[rng.choice(list(words))])
    return text, float(fraction(text))


def _number(rng: random.Random, heldout: bool, small: bool = False) -> tuple[str, float]:
    r = rng.random()
    if r > 0.95 and not small:
        return _mixed(rng, heldout)
    if r > 0.88 and not small:
        return _money(rng, heldout)
    if r < 0.1:
        words = words_of({str(k): [v] for k, v in SPELLED.items()}, heldout, "qcnum")
        k = rng.choice(list(words))
        return words[k][0], float(k)
    if small:
        v = rng.randint(2, 12)
        return str(v), float(v)
    if r < 0.3:
        v = round(rng.uniform(0.1, 500), rng.choice([1, 2]))
        return f"{v:g}", v
    if r < 0.4:
        v = rng.randint(1000, 99999)
        return f"{v:,}", float(v)
    v = rng.randint(1, 300)
    return str(v), float(v)


def _chain(rng: random.Random, heldout: bool) -> tuple[str, dict[str, Fill], str]:
    """A template fragment of 1-3 numbers joined by operator words, its fills and the Python expression."""
    binary = words_of(BINARY, heldout, "qcop", whole_keys=False)
    post = words_of(POSTFIX, heldout, "qcop", whole_keys=False)
    pre = words_of(PREFIX, heldout, "qcop", whole_keys=False)
    parts, fills, expr = [], {}, []
    k = rng.choice([2, 2, 2, 3]) if rng.random() < 0.85 else 1
    for i in range(k):
        if i:
            op = rng.choice([o for o in binary if not (o == "POW" and any("**" in x for x in expr))])  # no towers of powers
            slot = f"O:{i}"
            parts.append("{%s}" % slot)
            fills[slot] = Fill(rng.choice(binary[op]), op)
            expr.append(OPERATORS[op])
        s, v = _number(rng, heldout, small=bool(expr) and expr[-1] == "**")
        if rng.random() < (0.35 if k == 1 else 0.1) and not (expr and expr[-1] == "**"):  # "3/4 of 96", "half of 3,250"
            ft, fv = _fraction(rng, heldout)
            parts += ["{F:%d}" % i, "of", "{N:%d}" % i]
            fills[f"F:{i}"], fills[f"N:{i}"] = Fill(ft, "FRAC"), Fill(s, "NUM")
            expr.append(f"({fv!r}*{v!r})")
            continue
        root = rng.random() < 0.1
        if not root and rng.random() < 0.08 and not (expr and expr[-1] == "**"):  # "the square of 12", "cube 3"
            pp = words_of(PRE_POWER, heldout, "qcop", whole_keys=False)
            p = rng.choice(list(pp))
            parts.append("{W:%d}" % i)
            fills[f"W:{i}"] = Fill(rng.choice(pp[p]), p)
            s, v = _number(rng, heldout, small=True)
            parts.append("{N:%d}" % i)
            fills[f"N:{i}"] = Fill(s, "NUM")
            expr.append(f"({v!r}){OPERATORS[p]}")
            continue
        if root:
            parts.append("{R:%d}" % i)
            fills[f"R:{i}"] = Fill(rng.choice(pre["ROOT"]), "ROOT")
        parts.append("{N:%d}" % i)
        fills[f"N:{i}"] = Fill(s, "NUM")
        term = f"({v!r})"
        if root:
            term = f"sqrt({term})"
        if rng.random() < (0.5 if k == 1 else 0.25) and not (expr and expr[-1] == "**"):
            p = rng.choice(list(post))
            parts.append("{Q:%d}" % i)
            fills[f"Q:{i}"] = Fill(rng.choice(post[p]), p)
            term += OPERATORS[p]
        expr.append(term)
    if k == 1 and not any(k_.startswith(("Q", "R", "F")) for k_ in fills):  # one bare number is not a calculation
        fills["Q:0"] = Fill(rng.choice(post["SQ"]), "SQ")
        parts.append("{Q:0}")
        expr[-1] += "**2"
    return " ".join(parts), fills, " ".join(expr)


def _pct(rng: random.Random, heldout: bool) -> tuple[Fill, float]:
    p = rng.choice([rng.randint(1, 99), rng.choice([5, 10, 12.5, 15, 20, 25, 33, 40, 50, 75]), round(rng.uniform(0.5, 60), 1)])
    forms = ["{:g}%", "{:g} percent", "{:g} per cent", "{:g} pct"]
    forms = [f for i, f in enumerate(forms) if (i >= 2) == heldout] if rng.random() < 0.4 else forms[:2]
    if rng.random() < 0.08:  # "7 and a half percent"
        text, v = _mixed(rng, heldout)
        return Fill(rng.choice(forms).replace("{:g}", "{}").format(text), "PCT"), v
    return Fill(rng.choice(forms).format(p), "PCT"), float(p)


def _fill(op: str, template: str, rng: random.Random, heldout: bool):
    if op == "expr":
        frag, fills, expr = _chain(rng, heldout)
        return fills, {"op": op, "expr": expr}, template.replace("{X}", frag)
    if op == "what_percent" and "{W_}" not in template:
        w = rng.choice([rng.randint(10, 500), rng.randint(2, 40) * 25])
        a = rng.randint(1, w)
        ctx = {k: Fill(rng.choice(v), None) for k, v in (("O", OWNERS), ("C", THINGS), ("R", RATES)) if "{%s}" % k in template}
        return {"A": Fill(str(a), "PART"), "W": Fill(str(w), "WHOLE"), **ctx}, {"op": op, "expr": f"({a}/{w})*100"}, template
    if op == "sub_from":
        (sa, a), (sb, b) = _number(rng, heldout), _number(rng, heldout)
        return {"A": Fill(sa, "NUM"), "B": Fill(sb, "NUM")}, {"op": op, "expr": f"({a!r}) - ({b!r})"}, template
    items = [i for i in ITEMS if held_out(i, 0.3, "qcitem") == heldout] or ITEMS
    context = {"I": Fill(rng.choice(items), None)} if "{I}" in template else {}
    for slot, words, salt in (("O", OWNERS, "qcowner"), ("C", THINGS, "qcthing"), ("R", RATES, "qcrate")):
        if "{%s}" % slot in template:
            side = [w for w in words if held_out(w or "<none>", 0.3, salt) == heldout] or words
            context[slot] = Fill(rng.choice(side), None)
    if op == "split":
        s, n = _money(rng, heldout) if rng.random() < 0.6 else _number(rng, heldout)
        k = rng.choice([k for k in WAYS if held_out(str(k), 0.2, "qcways") == heldout] or list(WAYS))
        ways = WAYS[k][0] if re.search(r"\{K\} (?:ways|of us|friends|people|roommates|colleagues)", template) and rng.random() < 0.6 else WAYS[k][1]
        return {"N": Fill(s, "NUM"), "K": Fill(ways, "WAYS"), **context}, {"op": op, "expr": f"({n!r})/({k!r})"}, template
    if "{W_}" in template:  # what percent, with the whole said as an amount of money
        (sw, w) = _money(rng, heldout)
        a = round(rng.uniform(0.05, 0.95) * w, rng.choice([0, 2]))
        sa = f"{a:,.2f}" if a != int(a) else f"{int(a):,}"
        return ({"A": Fill(sa, "PART"), "W_": Fill(sw, "WHOLE"), **context}, {"op": op, "expr": f"({float(sa.replace(',', ''))!r}/{w!r})*100"},
                template)
    if op == "pct_change":  # rise: new above old; fall: below (answered as a positive decrease); change: either, signed
        kind = template.split("/")[1] if "/" in template else ""
        money = rng.random() < 0.4
        (sa, a), (sb, b) = [_money(rng, heldout) if money else _number(rng, heldout) for _ in range(2)]
        while a == b or a == 0:
            (sa, a), (sb, b) = [_money(rng, heldout) if money else _number(rng, heldout) for _ in range(2)]
        if (kind == "rise" and b < a) or (kind == "fall" and b > a):
            (sa, a), (sb, b) = (sb, b), (sa, a)
        expr = f"(({a!r})-({b!r}))/({a!r})*100" if kind == "fall" else f"(({b!r})-({a!r}))/({a!r})*100"
        return {"A": Fill(sa, "OLD"), "B": Fill(sb, "NEW"), **context}, {"op": op, "expr": expr}, template.split("/")[0]
    p, pv = _pct(rng, heldout)
    while op.startswith("before") and pv >= 100:
        p, pv = _pct(rng, heldout)
    s, n = _money(rng, heldout) if context or rng.random() < 0.3 else _number(rng, heldout)
    expr = {"percent_of": f"({pv!r}/100)*({n!r})", "increase": f"({n!r})*(1+{pv!r}/100)",
            "decrease": f"({n!r})*(1-{pv!r}/100)", "before_decrease": f"({n!r})/(1-{pv!r}/100)",
            "before_increase": f"({n!r})/(1+{pv!r}/100)"}[op]
    return {"P": p, "N": Fill(s, "NUM"), **context}, {"op": op, "expr": expr}, template


class QuickcalcDomain(Domain):
    def draft(self, op, template, rng, heldout_templates, heldout_words):
        return self.fill(op.split("/")[0], template + ("/" + op.split("/")[1] if "/" in op else ""), rng, heldout_words)


DOMAIN = QuickcalcDomain("quickcalc", TEMPLATES, _fill,
                         ["NUM", "PLUS", "MINUS", "TIMES", "DIV", "POW", "SQ", "CUBE", "ROOT", "PCT", "PART", "WHOLE", "FRAC", "OLD", "NEW", "WAYS"])
