"""Generator for the planner's split: compound requests made of the domains' sentences.

Each request of a compound is one span (``SUB``); the words that join them ("and", "then", ";", "Also,") are
outside. A statement followed by its question ("I have 250 grams. How many ounces is that?") is one span.
Sub-requests come from the domains' templates on the same side of the template split as the compound's.
"""

from __future__ import annotations

import random

from micromarket.specialists.reading.generate import Domain, Example, held_out, render, Fill

JOINS = ["{a} and {b}", "{a}. {b}", "{a}; {b}", "{a}, and also {b}", "{a}? Also, {b}", "{a}, then {b}", "{a}. Next, {b}",
         "{a} as well as {b}", "{a} plus {b}", "{a}; and {b}", "{a}. Then {b}", "{a} & {b}", "{a}, {b}", "{a}. After that, {b}",
         "{a}? And {b}", "{a}; also {b}"]
LISTS = ["{a}\n{b}", "1. {a}\n2. {b}", "- {a}\n- {b}"]


def _parts(rng: random.Random, heldout: bool, k: int) -> list[str]:
    from micromarket.specialists.reading.domains import domains

    doms = [d for n, d in domains().items() if n != "planner"]
    out = []
    for _ in range(k):
        text = rng.choice(doms).sample(1, rng, heldout_templates=heldout)[0].text.rstrip("?. ")
        out.append(text[0].upper() + text[1:] if rng.random() < 0.4 else text)
    return out


class PlannerDomain(Domain):
    def split_templates(self, heldout: bool) -> list[tuple[str, str]]:
        return [("split", j) for j in JOINS + LISTS if held_out(j, salt="planner") == heldout]

    def sample(self, n: int, rng: random.Random, *, heldout_templates: bool = False, heldout_words: bool = False,
               typos: float = 0.0) -> list[Example]:
        joins = [j for _, j in self.split_templates(heldout_templates)]
        out = []
        while len(out) < n:
            k = rng.choice([1, 2, 2, 3])
            parts = _parts(rng, heldout_templates or heldout_words, k)
            template = "{PA}"
            for i in range(1, k):
                template = rng.choice(joins).replace("{a}", template).replace("{b}", "{P%s}" % "ABC"[i])
            fills = {f"P{'ABC'[i]}": Fill(p, "SUB") for i, p in enumerate(parts)}
            ex = render(template, fills, "split", {"parts": parts})
            ex.template = template
            out.append(ex)
        return out


DOMAIN = PlannerDomain("planner", {}, lambda *a: ({}, {}), ["SUB"])
