"""Generator for the `stats` reader: one statistic of a list of numbers."""

from __future__ import annotations

import random

from micromarket.specialists.reading.generate import Domain, Fill, expand, words_of

OP_WORDS = {
    "mean": ["mean", "average", "arithmetic mean", "avg", "mean value"], "median": ["median", "middle value", "median value"],
    "std": ["standard deviation", "std dev", "stdev", "sample standard deviation"], "variance": ["variance", "sample variance", "var"],
    "min": ["minimum", "smallest value", "lowest value", "min"], "max": ["maximum", "largest value", "highest value", "max"],
    "range": ["range", "spread from lowest to highest"], "sum": ["sum", "total"], "mode": ["mode", "most common value", "most frequent value"],
}
TEMPLATES = [
    "What is the {W} of {NUMS}?", "find the {W} of these numbers: {NUMS}", "my test scores were {NUMS}; what's the {W}?",
    "{W} of {NUMS}", "compute the {W} for the data {NUMS}", "Take the {W} of {NUMS}", "what's the {W} of {NUMS}",
    "calculate the {W}: {NUMS}", "Give me the {W} of the values {NUMS}", "the {W} of {NUMS} is what?",
    "I measured {NUMS}. What is the {W}?", "daily sales were {NUMS}; find the {W}", "{NUMS}: {W}?",
    "determine the {W} of the sample {NUMS}", "for the numbers {NUMS}, what is the {W}", "tell me the {W} of {NUMS}",
    "temperatures this week: {NUMS}. what was the {W}?", "the {W} of the list {NUMS} please", "work out the {W} of {NUMS}",
    "what is the {W} of the data set {NUMS}?",
]

# Compositional templates: [a|b] groups resolved per sentence, each alternative split like the templates.
TEMPLATES += [
    "[what is|what's|find|calculate|compute|get|give me|tell me] the {W} [of|for|across] [these numbers|the numbers|the values|the data|this list|this data set|the list]: {NUMS}",
    "[my|our|the team's|the class's|her] [scores|grades|times|marks|results|readings|weights|heights] [were|are|came out as|came to] {NUMS}. [what's|what is|find|compute] the {W}?",
    "{NUMS} [-|:|—|=>] [what's the|find the|the|compute the] {W}[?|]",
    "[the|a] [sample|dataset|data set|series|set of measurements|list] {NUMS} has what {W}?",
    "[I recorded|we measured|they counted|she logged|the sensor gave] {NUMS}[ this week| today| over five days|]. [what was|what is|give me] the {W}?",
    "[can you|could you|please] [find|work out|compute|calculate] the {W} of {NUMS}[?|]",
    "[given|for|with] the [numbers|values|data|observations] {NUMS}, [what is|find|determine] the {W}",
    "{W} [for|of] [the data |the numbers |][{NUMS}|{NUMS} please]",
    "[prices|temperatures|ages|rainfall amounts|speeds|wait times] [were|of] {NUMS}; [what's|what is|calculate] [their|the] {W}?",
    "[what|which] is the {W} [if the values are|when the data is|for a list of] {NUMS}?",
]


def _fill(op: str, template: str, rng: random.Random, heldout: bool):
    words = words_of(OP_WORDS, heldout, "stats", whole_keys=False)
    k = rng.randint(3, 8)
    dec = rng.random() < 0.3
    xs = [round(rng.uniform(-20, 200), 1) if dec else rng.randint(0 if rng.random() < 0.8 else -50, 120) for _ in range(k)]
    if op == "mode":
        xs[rng.randrange(k)] = xs[0]
        xs = xs[:k]
    strs = [f"{x:g}" for x in xs]
    style = rng.choice(["comma_and", "comma", "bracket", "space", "semi"])
    fills = {}
    if style == "bracket":
        template = template.replace("{NUMS}", "[" + ", ".join("{N:%s}" % "abcdefgh"[i] for i in range(k)) + "]")
    elif style == "comma_and":
        template = template.replace("{NUMS}", ", ".join("{N:%s}" % "abcdefgh"[i] for i in range(k - 1)) + " and {N:%s}" % "abcdefgh"[k - 1])
    else:
        sep = {"comma": ", ", "space": " ", "semi": "; "}[style]
        template = template.replace("{NUMS}", sep.join("{N:%s}" % "abcdefgh"[i] for i in range(k)))
    for i, s in enumerate(strs):
        fills["N:" + "abcdefgh"[i]] = Fill(s, "NUM")
    fills["W"] = Fill(rng.choice(words[op]), None)
    return fills, {"op": op, "numbers": [float(x) for x in xs]}, template


class StatsDomain(Domain):
    def draft(self, op, template, rng, heldout_templates, heldout_words):
        return self.fill(op, expand(template, rng, heldout_templates, self.name), rng, heldout_words)  # rewrites it


# Conditions the statistic's call cannot express: a reading that finds one declines.
QUALIFIERS = ["excluding outliers", "ignoring the highest value", "without the lowest score", "only the even numbers",
              "weighted by frequency", "of the top three", "after dropping the first value", "leaving out negatives",
              "of the last three", "excluding zeros", "for the odd ones only", "after removing the maximum",
              "not counting the smallest", "of the positive values only", "ignoring duplicates", "weighted by their position",
              "for values above the cutoff", "minus the extremes", "excluding the first and last", "of the middle values",
              "only counting the ones over fifty", "without repeats", "of every other number", "trimmed of extremes"]

DOMAIN = StatsDomain("stats", {op: list(TEMPLATES) for op in OP_WORDS}, _fill, ["NUM"], QUALIFIERS)
