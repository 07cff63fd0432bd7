"""Generator for the `dates` reader: differences, weekdays and added durations in everyday phrasings."""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta

from micromarket.specialists.reading.generate import Domain, Fill, words_of

HOLIDAYS = {"christmas": (["Christmas", "Christmas Day", "Xmas"], (12, 25)), "newyear": (["New Year's Day", "New Year's", "new years"], (1, 1)),
            "halloween": (["Halloween"], (10, 31)), "valentine": (["Valentine's Day", "valentines day"], (2, 14)),
            "nye": (["New Year's Eve"], (12, 31)), "july4": (["Independence Day", "the Fourth of July"], (7, 4)),
            "boxing": (["Boxing Day"], (12, 26)), "xmaseve": (["Christmas Eve"], (12, 24))}
# the output unit of a difference: pint-free names the engine takes
OUT_UNITS = {"days": ["days", "day"], "weeks": ["weeks", "wks"], "months": ["months", "full months"], "years": ["years", "full years", "yrs"],
             "business days": ["business days", "working days", "weekdays"], "hours": ["hours", "hrs"]}
DUR_UNITS = {"days": ["days", "day", "d"], "weeks": ["weeks", "week", "wks"], "months": ["months", "month"], "years": ["years", "year", "yrs"],
             "fortnights": ["fortnights"]}
_SPELLED_N = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten",
              12: "twelve", 14: "fourteen", 15: "fifteen", 20: "twenty", 30: "thirty"}

BETWEEN = [
    "how many {U} between {D} and {D:2}?", "How many {U} are there between {D} and {D:2}", "{U} from {D} to {D:2}",
    "how many {U} from {D} until {D:2}", "count the {U} between {D} and {D:2}", "number of {U} between {D} and {D:2}",
    "how many {U} is it from {D} to {D:2}?", "what's the number of {U} from {D} to {D:2}", "how many {U} separate {D} and {D:2}",
    "how many {U} old is someone born on {D} on {D:2}?", "I was born {D}. how many {U} old am I on {D:2}?",
    "how long in {U} is it between {D} and {D:2}", "from {D} to {D:2}, how many {U}?", "{U} between {D} and {D:2}",
    "how many {U} until {D:2} counting from {D}", "if I start on {D} and finish on {D:2}, how many {U} is that?",
    "how many {U} passed between {D} and {D:2}", "the project ran from {D} to {D:2}; how many {U} was that?",
    "how many {U} did the lease last, {D} to {D:2}", "how many {U} till {D:2} from {D}", "time between {D} and {D:2} in {U}",
    "tell me the {U} between {D} and {D:2}", "how many {U} elapsed from {D} through {D:2}?", "what is the gap in {U} between {D} and {D:2}",
]
WEEKDAY = [
    "what day of the week is {D}?", "What day of the week was {D}", "which weekday is {D}", "what weekday does {D} fall on?",
    "day of the week for {D}", "was {D} a monday or a friday?", "on what day of the week will {D} be", "what day was {D}?",
    "which day of the week is {D} on", "tell me the weekday of {D}", "what day will {D} land on", "is {D} a weekend day?",
    "{D} is which day of the week?", "what day of the week does {D} fall on", "my birthday is {D}, what day of the week is that?",
    "what day of the week is {D} going to be", "find the weekday for {D}", "the meeting is on {D}; which day is that?",
]
ADD = [
    "what date is {N} {DU} after {D}?", "{D} plus {N} {DU}", "add {N} {DU} to {D}", "what is the date {N} {DU} from {D}",
    "what's {N} {DU} after {D}", "which date comes {N} {DU} after {D}?", "if today is {D}, what date is it in {N} {DU}?",
    "the invoice is dated {D} and due in {N} {DU}; what is the due date?", "{N} {DU} later than {D} is what date",
    "starting {D}, what date is {N} {DU} later", "move {D} forward by {N} {DU}", "what will the date be {N} {DU} after {D}",
    "count {N} {DU} on from {D}", "date {N} {DU} past {D}", "a trial starting {D} lasts {N} {DU}. when does it end?",
]
SUB = [
    "what date is {N} {DU} before {D}?", "{D} minus {N} {DU}", "subtract {N} {DU} from {D}", "what was the date {N} {DU} before {D}",
    "{N} {DU} prior to {D}", "go back {N} {DU} from {D}", "which date is {N} {DU} earlier than {D}?", "what's {N} {DU} before {D}",
    "the deadline is {D}; what date is {N} {DU} before it?", "take {N} {DU} off {D}", "move {D} back by {N} {DU}",
]

# Compositional templates: [a|b] groups are resolved per sentence, each alternative split like the templates.
BETWEEN += [
    "[how many|the number of|count the|how many total] {U} [are there |is it |][between|from] {D} [and|to|until|till|through] {D:2}[?|]",
    "[I was born on|I was born|my son was born on|she was born on|he came into the world on] {D}. [how many|exactly how many] {U} old [am I|is he|is she|is the child|are they] [on|as of|by] {D:2}?",
    "[what is|what's|tell me|give me] the [number of|count of|total] {U} [from|between] {D} [to|and|up to] {D:2}",
    "[we|they|I] [moved in|started|began] on {D} and [moved out|stopped|finished] on {D:2}. [how many|how long in] {U} [was that|did that take|is that]?",
    "{D} [to|until|->|through] {D:2}: [how many|number of] {U}[?|]",
    "[starting|counting] from {D}, how many {U} [until|before|till|to] {D:2}?",
    "[how long|what is the duration], in {U}, [from|between] {D} [to|and] {D:2}?",
    "[what's|what is] the [difference|gap|span|distance] [in|measured in] {U} between {D} and {D:2}",
    "[if|when] [a contract|the lease|my subscription|the warranty] runs from {D} to {D:2}, how many {U} [is that|does it cover|long is it]?",
    "[count|work out|figure out|calculate] [the|how many] {U} [between|from] {D} [and|to] {D:2}",
    "how old in {U} [will I be|is someone|was she] on {D:2} if born [on|] {D}",
    "between {D} and {D:2}, [how many|what number of] {U} [pass|elapse|go by|are there]?",
    "{U} [between|from] {D} [and|to] {D:2}[, please| please|?|]",
    "age in {U} on {D:2} for [someone|a person|a baby] born {D}",
    "my [visa|passport|membership|insurance] [is valid|lasts|runs] from {D} to {D:2}; how many {U} is that?",
]
WEEKDAY += [
    "[what|which] [day of the week|weekday|day] [is|was|will be] {D}[?|]",
    "[on|in] what [day of the week|weekday] [did|does|will] {D} [fall|land|occur][?|]",
    "{D} [was|is|will be|falls on] a [what day|which weekday][?|]",
    "[do you know|can you tell me|I wonder] what [day of the week|weekday] {D} [is|was|falls on]",
    "[my wedding|the concert|our flight|the exam|her birthday party] is on {D}. [what day of the week is that|which weekday will that be]?",
    "[was|is|will] {D} [a weekday|a weekend|a Saturday or a Sunday]?",
    "[weekday|day of week|day name] [of|for] {D}",
    "[I was born on|we met on|they married on] {D}; [what|which] day of the week was it?",
]
ADD += [
    "[what|which] date is it {N} {DU} [after|from|following|later than] {D}?",
    "[add|put|count] {N} {DU} [to|onto|on from] {D}[. what date is that?|]",
    "[if|when] [the contract|my leave|the trial|the warranty|the subscription] [starts|begins] on {D} and [lasts|runs for] {N} {DU}, [when does it end|what is the end date]?",
    "{D} [plus|+|and] {N} {DU}[ is what date|?|]",
    "[the package|my order|the letter] [shipped|was sent] on {D} and takes {N} {DU}; [when will it arrive|what day does it arrive]?",
    "[what's|what is|give me] the date {N} {DU} [after|past|beyond] {D}",
    "[in|after] {N} {DU} from {D}, what [date|day] [will it be|is it]?",
    "[a payment|the rent|the bill] [dated|issued on] {D} is due {N} {DU} later; [when is it due|what's the due date]?",
    "[fast forward|skip ahead|jump] {N} {DU} from {D}",
]
SUB += [
    "[what|which] date [was|is] {N} {DU} [before|prior to|earlier than|ahead of] {D}?",
    "[count|go|step] back {N} {DU} from {D}",
    "{D} [minus|-|less] {N} {DU}[?|]",
    "[the wedding|the launch|the exam|the deadline] is on {D}; [I need to start|we must book|applications close] {N} {DU} before. [what date is that?|when is that?]",
    "{N} {DU} [before|earlier than|prior to] {D} [was|is] [what date|which day][?|]",
    "[subtract|take away|remove] {N} {DU} [from|off] {D}",
]

# More phrasings of each question, written as people ask them.
BETWEEN += [
    "[how many|what number of] {U} [lie|fall] between {D} and {D:2}?", "[please |]work out how many {U} from {D} to {D:2}",
    "[our trip|the course|the season|my internship|the exhibition] [is|runs|lasts] from {D} [to|until|till] {D:2}. [how many|how long in] {U} [is that|in total]?",
    "[I|we] [signed up|joined|arrived] on {D}[,| and] [today is|it is now|now it's] {D:2}: [how many|how long in] {U}[ has it been|]?",
    "{U} [elapsed|passed|gone by] [between|from] {D} [and|to] {D:2}[?|]",
    "[exactly |]how many {U} [are|were] [left |]between {D} and {D:2}[?|]",
    "[duration|length|interval] [in|as] {U} [from|between] {D} [to|and] {D:2}",
    "[a|the] [baby|puppy|company|website] [born|founded|launched|started] on {D} [is|will be|was] how many {U} old on {D:2}?",
    "{D} and {D:2}: how many {U} apart[?|]",
    "how far apart are {D} and {D:2} in {U}?",
]
WEEKDAY += [
    "[so |]{D} - [what|which] day [is|was] that[?|]", "[what|which] day [is|falls on] {D}, [a weekday or the weekend|which weekday]?",
    "[is|was] {D} [a Monday|a Tuesday|a Sunday|a Friday|on a weekend]? [what day is it|which day]?",
    "[tell me|give me|I need] the day of the week [of|for|on] {D}",
    "[the party|the match|our anniversary|the appointment|graduation] [falls on|is set for|will be] {D} - [which|what] day of the week?",
    "[name|say] the weekday [of|for] {D}",
]
ADD += [
    "[the lease|my contract|the permit|the trial period] [begins|starts] {D} and [runs|lasts|is valid] for {N} {DU}. [when|what day] does it [end|expire|run out]?",
    "[set|move|push] {D} [ahead|forward|on] [by |]{N} {DU}[: what date?|]", "{N} {DU} [after|following|from] {D} [falls on|is] [which|what] date?",
    "[if I|if we|if you] [wait|count forward|go forward] {N} {DU} from {D}, [what|which] date [is it|do I get|is that]?",
    "[deliver|ship|finish] {N} {DU} after {D}: [which|what] date?", "[date|day] [that is|which is] {N} {DU} [after|past] {D}",
]
SUB += [
    "[if|when] [the event|my exam|the wedding|the trip] is [on|] {D}, [what date|which day] is {N} {DU} [earlier|before]?",
    "[rewind|go back|step back] {D} by {N} {DU}", "{N} {DU} [earlier than|before|ahead of] {D}: [which|what] date?",
    "[the deadline|the due date|the launch] is {D}. [we need to start|the work must begin|I should begin] {N} {DU} [before|earlier]; [on what date|what date is that]?",
    "[what|which] [date|day] [was it|is it] {N} {DU} [before|prior to] {D}",
]

_MONTHS = list(calendar.month_name)[1:]
_ABBR = list(calendar.month_abbr)[1:]


# how a date may be written: {M} month name, {A} its abbreviation, {o} the day's ordinal suffix
_DATE_FORMS = {
    "iso": "{y:04d}-{m:02d}-{d:02d}", "mdy": "{M} {d} {y}", "mdy_comma": "{M} {d}, {y}", "dmy": "{d} {M} {y}",
    "abbr": "{A} {d}, {y}", "abbr_nc": "{A} {d} {y}", "dabbr": "{d} {A} {y}", "slash": "{y}/{m:02d}/{d:02d}",
    "ord": "{M} {d}{o}, {y}", "dmy_of": "the {d}{o} of {M} {y}", "ord_nc": "{d}{o} {M} {y}",
}


def _date_text(d: date, rng: random.Random, heldout: bool) -> str:
    forms = list(_DATE_FORMS)
    forms = [f for f in forms if (f in ("ord", "dmy_of", "ord_nc")) == heldout] if rng.random() < 0.5 else forms[:3]
    suffix = "th" if 11 <= d.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
    return _DATE_FORMS[rng.choice(forms)].format(
        y=d.year, m=d.month, d=d.day, M=_MONTHS[d.month - 1], A=_ABBR[d.month - 1], o=suffix
    )


def _a_date(rng: random.Random, heldout: bool, lo: int = 1950, hi: int = 2040) -> tuple[str, date]:
    if rng.random() < 0.2:
        hol = words_of({k: v[0] for k, v in HOLIDAYS.items()}, heldout, "dates")
        k = rng.choice(list(hol))
        y = rng.randint(2000, 2040)
        return f"{rng.choice(hol[k])} {y}", date(y, *HOLIDAYS[k][1])
    d = date(rng.randint(lo, hi), 1, 1) + timedelta(days=rng.randint(0, 364))
    return _date_text(d, rng, heldout), d


def _fill(op: str, template: str, rng: random.Random, heldout: bool):
    fills: dict = {}
    a_text, a = _a_date(rng, heldout)
    fills["D"] = Fill(a_text, "DATE")
    if op == "between":
        b_text, b = _a_date(rng, heldout)
        if b < a:
            (a_text, a), (b_text, b) = (b_text, b), (a_text, a)
            fills["D"] = Fill(a_text, "DATE")
        fills["D:2"] = Fill(b_text, "DATE")
        units = words_of(OUT_UNITS, heldout, "dates")
        if "old" in template:
            units = {k: v for k, v in units.items() if k in ("days", "weeks", "months", "years")}
        u = rng.choice(list(units))
        fills["U"] = Fill(rng.choice(units[u]), "OUT")
        return fills, {"op": "between", "dates": [a.isoformat(), b.isoformat()], "unit": u}
    if op == "weekday":
        return fills, {"op": "weekday", "dates": [a.isoformat()]}
    units = words_of(DUR_UNITS, heldout, "dates")
    u = rng.choice(list(units))
    n = rng.randint(1, 120 if u == "days" else 30)
    spelled = words_of({str(k): [w] for k, w in _SPELLED_N.items()}, heldout, "datesnum")
    said = spelled[str(n)][0] if str(n) in spelled and rng.random() < 0.4 else str(n)
    fills["N"] = Fill(said, "NUM")
    du = rng.choice(units[u])
    fills["DU"] = Fill(du if n != 1 or not du.endswith("s") or du in ("yrs", "wks") else du[:-1], "DUR")
    k, u = (2, "weeks") if u == "fortnights" else (1, u)
    return fills, {"op": op, "dates": [a.isoformat()], "n": k * n * (1 if op == "add" else -1), "unit": u}


# Conditions the date engine's call cannot express: a reading that finds one declines.
QUALIFIERS = ["excluding weekends", "not counting weekends", "excluding public holidays", "but skip Sundays",
              "without counting holidays", "except Saturdays", "leaving out bank holidays", "not including the end date",
              "counting only Mondays", "ignoring leap days", "in the lunar calendar", "minus the holidays",
              "after removing weekends", "with weekends off", "excluding the first day", "only Fridays",
              "not counting the start day", "but not Sundays", "skipping weekends", "excluding school holidays",
              "apart from weekends", "except public holidays", "leaving out Saturdays and Sundays", "on the Hebrew calendar",
              "excluding my vacation", "not counting Christmas week", "only counting school days", "without the weekends",
              "excluding holidays and weekends", "if I skip Fridays", "but only weekends", "except the last day"]

DOMAIN = Domain("dates", {"between": BETWEEN, "weekday": WEEKDAY, "add": ADD, "subtract": SUB}, _fill, ["DATE", "OUT", "NUM", "DUR"],
                QUALIFIERS)
