"""Generator for the planner's split: compound requests made of the domains' sentences.

Each request of a compound is one span (``SUB``); the words that join them ("and", "then", ";", "Also,") are
outside. A statement followed by its question ("I have 250 grams. How many ounces is that?") is one span.
Sub-requests come from the domains' templates on the same side of the template split as the compound's.
A later request may work on the earlier one's result ("..., then square it", "... and then convert that to
grams"): a follow-up from ``FOLLOW`` joined by a ``CHAIN`` joiner; the gold then records the dependency.
Joiners, chain joiners and follow-ups are each split by template.
"""

from __future__ import annotations

import random

from micromarket.specialists.reading.generate import Domain, Example, held_out, render, Fill

JOINS = ["{a} and {b}", "{a}. {b}", "{a}; {b}", "{a}, and also {b}", "{a}? Also, {b}", "{a}, then {b}", "{a}. Next, {b}",
         "{a} as well as {b}", "{a} plus {b}", "{a}; and {b}", "{a}. Then {b}", "{a} & {b}", "{a}, {b}", "{a}. After that, {b}",
         "{a}? And {b}", "{a}; also {b}"]
LISTS = ["{a}\n{b}", "1. {a}\n2. {b}", "- {a}\n- {b}"]
CHAIN = ["{a}, then {b}", "{a} and then {b}", "{a}. Then {b}", "{a}; then {b}", "{a}, and then {b}", "{a}. After that, {b}",
         "{a}, after that {b}", "{a} - then {b}", "{a}. Next, {b}", "{a}, and finally {b}", "{a}, then {b} please", "{a}; after that, {b}",
         "{a}. Once you have that, {b}", "{a}, and next {b}"]
# a request on the previous result (the back-reference is what makes the dependency)
FOLLOW = [
    "square it", "square that", "add {n} to that", "add {n} to it", "subtract {n} from that", "multiply that by {n}",
    "multiply the result by {n}", "divide it by {n}", "divide the result by {n}", "double it", "halve that", "cube the result",
    "take the square root of that", "round it to {d} decimal places", "convert that to {u}", "express the result in {u}",
    "evaluate it at x = {n}", "what is that in {u}", "add {n} {u} to that", "what is {n}% of that", "subtract that from {n}",
    "what is that plus {n}", "how many {u} is that", "give that in {u}", "multiply it by {n}", "raise that to the power {d}",
    "what's that minus {n}", "take {n} percent of the result", "convert it into {u}", "add that to {n}",
]
_UNITS = ["grams", "pounds", "kilometers", "miles", "ounces", "feet", "cups", "liters", "celsius", "hours", "days", "km/h", "psi",
          "weeks", "meters", "gallons", "kg", "inches"]


def _parts(rng: random.Random, heldout: bool, k: int) -> list[str]:
    from micromarket.specialists.reading.domains import domains

    doms = [d for n, d in domains().items() if n != "planner"]
    out = []
    for _ in range(k):
        text = rng.choice(doms).sample(1, rng, heldout_templates=heldout)[0].text.rstrip("?. ")
        out.append(text[0].upper() + text[1:] if rng.random() < 0.4 else text)
    return out


def _follow(rng: random.Random, heldout: bool) -> str:
    t = rng.choice([f for f in FOLLOW if held_out(f, salt="plannerfollow") == heldout])
    return t.format(n=rng.choice([rng.randint(2, 99), round(rng.uniform(0.5, 50), 1)]), d=rng.randint(1, 4), u=rng.choice(_UNITS))


class PlannerDomain(Domain):
    def split_templates(self, heldout: bool) -> list[tuple[str, str]]:
        return [("split", j) for j in JOINS + LISTS if held_out(j, salt="planner") == heldout]

    def sample(self, n: int, rng: random.Random, *, heldout_templates: bool = False, heldout_words: bool = False,
               typos: float = 0.0, qualified: float = 0.0, wrapped: float = 0.0) -> list[Example]:
        joins = [j for _, j in self.split_templates(heldout_templates)]
        chains = [c for c in CHAIN if held_out(c, salt="plannerchain") == heldout_templates]
        out = []
        while len(out) < n:
            k = rng.choice([1, 2, 2, 3])
            parts = _parts(rng, heldout_templates or heldout_words, k)
            deps: list[list[str]] = [[]]
            template = "{PA}"
            for i in range(1, k):
                if rng.random() < 0.35:  # a follow-up on the previous result
                    parts[i] = _follow(rng, heldout_templates)
                    join = rng.choice(chains)
                    deps.append([f"s{i}"])
                else:
                    join = rng.choice(joins)
                    deps.append([])
                template = join.replace("{a}", template).replace("{b}", "{P%s}" % "ABC"[i])
            fills = {f"P{'ABC'[i]}": Fill(p, "SUB") for i, p in enumerate(parts)}
            ex = render(template, fills, "split", {"parts": parts, "deps": deps})
            ex.template = template
            out.append(ex)
        return out


DOMAIN = PlannerDomain("planner", {}, lambda *a: ({}, {}), ["SUB"])
