"""Generator for the `units` reader: quantities, source units and target units in everyday phrasings."""

from __future__ import annotations

import random

from micromarket.specialists.reading.generate import Domain, Fill, words_of

# dimension -> pint unit -> spellings (first = the common one)
UNITS: dict[str, dict[str, list[str]]] = {
    "length": {
        "meter": ["meters", "metres", "m", "meter", "metre"], "kilometer": ["kilometers", "km", "kilometres", "kms", "kilometer"],
        "centimeter": ["centimeters", "cm", "centimetres"], "millimeter": ["millimeters", "mm", "millimetres"],
        "mile": ["miles", "mi", "mile"], "yard": ["yards", "yd", "yds"], "foot": ["feet", "ft", "foot"],
        "inch": ["inches", "in", "inch"], "nautical_mile": ["nautical miles", "nmi"], "furlong": ["furlongs"],
        "light_year": ["light years", "lightyears"],
    },
    "mass": {
        "gram": ["grams", "g", "grammes"], "kilogram": ["kilograms", "kg", "kilos", "kgs"], "milligram": ["milligrams", "mg"],
        "pound": ["pounds", "lbs", "lb"], "ounce": ["ounces", "oz"], "stone": ["stone", "st"], "metric_ton": ["tonnes", "metric tons"],
        "ton": ["tons", "short tons"],
    },
    "volume": {
        "liter": ["liters", "litres", "L", "l"], "milliliter": ["milliliters", "ml", "millilitres", "mL"],
        "gallon": ["gallons", "gal"], "quart": ["quarts", "qt"], "pint": ["pints", "pt"], "cup": ["cups", "cup"],
        "tablespoon": ["tablespoons", "tbsp"], "teaspoon": ["teaspoons", "tsp"], "fluid_ounce": ["fluid ounces", "fl oz"],
        "imperial_gallon": ["imperial gallons", "UK gallons"],
    },
    "temperature": {
        "degC": ["celsius", "degrees celsius", "°C", "C", "centigrade"], "degF": ["fahrenheit", "degrees fahrenheit", "°F", "F"],
        "kelvin": ["kelvin", "K"],
    },
    "speed": {
        "mile/hour": ["mph", "miles per hour"], "km/hour": ["km/h", "kph", "kilometers per hour", "kmh"],
        "m/s": ["m/s", "meters per second", "metres per second"], "knot": ["knots", "kt"],
    },
    "pressure": {"psi": ["psi"], "atm": ["atm", "atmospheres"], "bar": ["bar"], "kilopascal": ["kPa", "kilopascals"], "mmHg": ["mmHg"]},
    "energy": {"kilocalorie": ["calories", "kcal"], "joule": ["joules", "J"], "kilojoule": ["kilojoules", "kJ"], "kWh": ["kWh", "kilowatt hours"],
               "BTU": ["BTU", "btus"]},
    "area": {"acre": ["acres"], "hectare": ["hectares", "ha"], "ft**2": ["square feet", "sq ft"], "m**2": ["square meters", "sq m", "m²"],
             "mile**2": ["square miles", "sq mi"], "km**2": ["square kilometers", "km²"]},
    "data": {"byte": ["bytes", "B"], "bit": ["bits"], "gigabyte": ["GB", "gigabytes"], "megabyte": ["MB", "megabytes"], "terabyte": ["TB", "terabytes"], "kilobyte": ["KB", "kilobytes"],
             "gibibyte": ["GiB", "gibibytes"]},
    "time": {"hour": ["hours", "hrs", "h"], "minute": ["minutes", "mins", "min"], "second": ["seconds", "secs", "s"], "day": ["days"],
             "week": ["weeks"]},
}
# Compound measures: (big, small, max of small)
COMPOUNDS = [("foot", "inch", 11), ("pound", "ounce", 15), ("hour", "minute", 59), ("stone", "pound", 13), ("meter", "centimeter", 99),
             ("gallon", "quart", 3), ("kilogram", "gram", 999)]
SPELLED = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12,
           "twenty": 20, "a": 1, "an": 1, "one": 1}

CONVERT = [
    "{Q} {S} to {T}", "convert {Q} {S} to {T}", "Convert {Q} {S} into {T}", "what is {Q} {S} in {T}?", "what's {Q} {S} in {T}",
    "how many {T} is {Q} {S}?", "how many {T} are in {Q} {S}?", "how many {T} in {Q} {S}", "{Q} {S} in {T}?",
    "I weigh {Q} {S}, what's that in {T}?", "I drove {Q} {S}, how many {T} is that?", "A recipe needs {Q} {S} of flour; how many {T} is that?",
    "please change {Q} {S} to {T}", "express {Q} {S} in {T}", "{Q} {S} equals how many {T}?", "can you turn {Q} {S} into {T} for me",
    "my suitcase is {Q} {S}, how much is that in {T}", "the tank holds {Q} {S}. what is that in {T}?", "{Q} {S} = ? {T}",
    "how much is {Q} {S} in {T}", "I need {Q} {S} of milk in {T}", "the oven is at {Q} {S}, what is it in {T}?",
    "what does {Q} {S} come to in {T}", "give me {Q} {S} as {T}", "If a road is {Q} {S} long, how long is it in {T}?",
    "how many {T} make {Q} {S}?", "{Q} {S} -> {T}", "the thermometer reads {Q} {S}; convert that to {T}",
    "tell me {Q} {S} in {T} please", "convert {Q} {S} to {T} and round it", "We walked {Q} {S} today. How far is that in {T}?",
    "the box weighs {Q} {S}; how heavy is that in {T}?", "change {Q} {S} over to {T}", "my download is {Q} {S}, how many {T} is it",
    "roughly how many {T} is {Q} {S}", "{Q} {S} converted to {T}", "what would {Q} {S} be in {T}",
    "quick one: {Q} {S} in {T}", "How many {T} does {Q} {S} equal?", "a speed of {Q} {S} in {T}", "I have {Q} {S} of water, how much in {T}",
    "in {T}, what is {Q} {S}?", "{Q} {S} expressed as {T}", "find {Q} {S} in {T}",
    "I ran {Q} {S} this morning, how many {T} is that?", "The recipe says {Q} {S}. How many {T} is that?",
    "It's {Q} {S} to the coast; what's that in {T}?", "we have {Q} {S} left, how much is that in {T}",
    "she is carrying {Q} {S} - how many {T} would that be?", "a parcel of {Q} {S}: how many {T}?",
    "the sign says {Q} {S}. what is that in {T}", "he lifted {Q} {S}, how many {T} is that",
]
COMPOUND = [
    "what's {Q} {S} {Q:2} {S:2} in {T}?", "convert {Q} {S} {Q:2} {S:2} to {T}", "I am {Q} {S} {Q:2} {S:2} tall, how many {T} is that?",
    "{Q} {S} and {Q:2} {S:2} in {T}", "how many {T} is {Q} {S} {Q:2} {S:2}", "the baby weighed {Q} {S} {Q:2} {S:2}; what's that in {T}",
    "{Q} {S}, {Q:2} {S:2} to {T}", "express {Q} {S} {Q:2} {S:2} as {T}",
]
MULTI = [
    "convert {Q} {S} to {T} and {T:2}", "what is {Q} {S} in {T} and in {T:2}?", "{Q} {S} in {T}, {T:2} and {T:3}",
    "how many {T} and {T:2} is {Q} {S}", "give {Q} {S} in both {T} and {T:2}",
]
# Compositional templates: [a|b] groups resolved per sentence, each alternative split like the templates.
CONVERT += [
    "[convert|change|turn|switch] {Q} {S} [to|into|in] {T}[ please| for me|?|]",
    "[what is|what's|how much is|what are] {Q} {S} [in|as|converted to|expressed in] {T}[?|]",
    "how many {T} [is|are|make|equal|are there in|is there in] {Q} {S}[?|]",
    "[I have|we have|there are|there is|I've got|she has] {Q} {S} [of water|of flour|of fuel|of rice|of sugar|of paint|]. [how many|how much is that in|what is that in] {T}?",
    "[the|my|our|this] [bag|parcel|suitcase|box|dog|bike|fish|tank|bottle|pot|room|garden|file|car] [weighs|holds|is|measures|takes up|goes] {Q} {S}[ long| wide| tall|]; [what's|what is|how much is] that in {T}?",
    "[a recipe|the recipe|my recipe|the instructions|the label] [calls for|needs|says|asks for|uses] {Q} {S}[ of butter| of milk| of sugar| of oil|]. [how many|what's that in|how much is that in] {T}[?| is that?]",
    "[we|I|they|he|she] [drove|walked|ran|cycled|hiked|flew|swam] {Q} {S} [today|yesterday|this week|last year|]. [how many|how far is that in|what's that in] {T}?",
    "[it is|it's|the forecast says|the thermometer shows|the oven is at|the water is] {Q} {S} [outside|today|now|]. [what's|what is] that in {T}?",
    "{Q} {S} [equals|is|makes|comes to|=] [how many|what in] {T}[?|]",
    "[in|as] {T}, [what is|how much is|how many is] {Q} {S}?",
    "[please |][give|tell|show] me {Q} {S} [in|as] {T}",
    "[speed limit|top speed|the speed] [is|of] {Q} {S}: [how fast is that in|what's that in] {T}?",
    "{Q} {S} [->|to|=>|in|→] {T}",
    "[roughly|approximately|about|exactly] how many {T} [is|are in|make up] {Q} {S}?",
    "[I need to know|I want to know|do you know|could you tell me] how many {T} [are in|is|make] {Q} {S}",
    "[my|the] [baby|cat|luggage|package|patient|horse] [weighs|weighed|is] {Q} {S}; [what is that|how heavy is that|what's the weight] in {T}?",
    "[the|our] [pool|tank|jug|bathtub|aquarium|barrel] [holds|contains|can take] {Q} {S}. [how many|what's that in] {T}?",
    "[the|a] [file|download|movie|backup|photo] is {Q} {S}; [how many|how big is that in|what's that in] {T}?",
]
COMPOUND += [
    "[I'm|I am|he is|she is|my son is] {Q} {S} {Q:2} {S:2} [tall|]. [what's that|how tall is that|how much is that] in {T}?",
    "[convert|change|turn] {Q} {S} [and |]{Q:2} {S:2} [to|into|in] {T}",
    "[the baby|my dog|the parcel|the turkey|the fish] weighed {Q} {S} [and |]{Q:2} {S:2}; [how many|what is that in] {T}?",
    "how many {T} [is|are in|make] {Q} {S} [and |]{Q:2} {S:2}?",
    "{Q} {S} [and|plus|,] {Q:2} {S:2} [in|to|as] {T}",
]
MULTI += [
    "[convert|change|express] {Q} {S} [to|into|in] [both |]{T} and {T:2}",
    "[what is|what's|how much is] {Q} {S} in {T} [and|and also|as well as|or] [in |]{T:2}?",
    "{Q} {S}: [in|as] {T} and [in |]{T:2}[?|]",
    "[how many|what are the] {T} and {T:2} [in|for|is] {Q} {S}?",
]

_ALL = {k: v for dim in UNITS.values() for k, v in dim.items()}


def _value(rng: random.Random, small: bool = False) -> tuple[str, float]:
    r = rng.random()
    if small:
        v = rng.randint(1, 11)
        return str(v), float(v)
    if r < 0.08:
        w = rng.choice(list(SPELLED))
        return w, float(SPELLED[w])
    if r < 0.4:
        v = round(rng.uniform(0.1, 500), rng.choice([1, 2]))
        return f"{v:g}", v
    if r < 0.5:
        v = rng.randint(1000, 250000)
        return f"{v:,}", float(v)
    if r < 0.55:
        v = rng.randint(-40, 120)
        return str(v), float(v)
    v = rng.randint(1, 999)
    return str(v), float(v)


def _fill(op: str, template: str, rng: random.Random, heldout: bool):
    vocab = words_of(_ALL, heldout, "units")
    dims = [d for d, us in UNITS.items() if sum(u in vocab for u in us) >= 2]
    fills: dict = {}
    if op == "convert/compound" and "{S:2}" in template:
        opts = [c for c in COMPOUNDS if c[0] in vocab and c[1] in vocab]
        big, small, top = rng.choice(opts)
        dim = next(d for d, us in UNITS.items() if big in us)
        tgts = [u for u in UNITS[dim] if u in vocab and u not in (big, small)]
        tgt = rng.choice(tgts)
        a, av = _value(rng, small=True)
        b = rng.randint(1, top)
        fills["Q"], fills["S"] = Fill(a, "QTY"), Fill(rng.choice(vocab[big]), "SRC")
        fills["Q:2"], fills["S:2"] = Fill(str(b), "QTY"), Fill(rng.choice(vocab[small]), "SRC")
        fills["T"] = Fill(rng.choice(vocab[tgt]), "TGT")
        return fills, {"quantities": [(av, big), (float(b), small)], "targets": [tgt]}
    dim = rng.choice(dims)
    units = [u for u in UNITS[dim] if u in vocab]
    n_t = template.count("{T")
    while len(units) < 1 + n_t:
        dim = rng.choice(dims)
        units = [u for u in UNITS[dim] if u in vocab]
    picked = rng.sample(units, 1 + n_t)
    src, tgts = picked[0], picked[1:]
    s, v = _value(rng)
    if s in ("a", "an") and not template.startswith(("convert", "what", "how")):
        s, v = "1", 1.0
    fills["Q"], fills["S"] = Fill(s, "QTY"), Fill(rng.choice(vocab[src]), "SRC")
    for i, t in enumerate(tgts):
        fills["T" if i == 0 else f"T:{i + 1}"] = Fill(rng.choice(vocab[t]), "TGT")
    return fills, {"quantities": [(v, src)], "targets": tgts}


# Conditions the conversion's call cannot express: a reading that finds one declines.
QUALIFIERS = ["per person", "per day", "for each guest", "at high altitude", "when cooked", "per square meter",
              "divided among the team", "for the round trip", "there and back", "both ways", "after it evaporates",
              "once it's frozen", "split between us", "each way", "per hour of driving", "for every member",
              "if it shrinks", "after drying", "per serving", "for the whole class", "halved", "doubled",
              "times the number of guests", "shared by four people", "per week", "for each of us", "twice over",
              "per child", "if it expands", "after boiling"]

DOMAIN = Domain("units", {"convert": CONVERT, "convert/compound": COMPOUND, "convert/multi": MULTI}, _fill, ["QTY", "SRC", "TGT"],
                QUALIFIERS)
