"""`micromarket bench context [--json]`: how much context the slicer transfers, and whether the needed facts survive.

Procedurally generates long contexts (5k to 50k tokens) of varied distractor text
about invented towns, companies, people and ships, with numbers everywhere, and
plants the facts a few subtasks need (1 to 3 per subtask). Distractors include
hard negatives: other facts about the *same* entities (founding year, mayor,
other roads from the same town...). For each subtask the slicer
(nodes.context_slicing, with the real MiniLM embeddings) sees only the subtask
text and the context; the benchmark then checks which planted facts are in the
slice. It reports tokens transferred against the full context and the recall of
needed facts. Targets: >= 80% fewer tokens, >= 98% recall.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass

import typer

app = typer.Typer(add_completion=False)

SIZES = (5_000, 15_000, 30_000, 50_000)  # --sizes to change; embedding 100k tokens takes ~30 s on 2 idle cores

_ON = ["var", "quen", "bor", "tal", "mir", "dun", "esk", "fal", "gor", "hal", "ith", "kel", "lor", "mar", "nor", "ost", "pel", "ral",
       "sel", "tor", "ul", "ven", "wes", "yar", "zan", "brek", "cal", "dray", "fen", "grim", "hol", "jor", "kip", "lun", "mos", "nim"]
_END = ["holt", "by", "ford", "wick", "mere", "stead", "ton", "dale", "mouth", "burg", "field", "haven", "ley", "more", "wyn", "ridge"]
_FIRST = ["Alice", "Bram", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Keiko", "Luis", "Maya", "Nikhil",
          "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Viktor", "Wen", "Xavier", "Yusuf", "Zoe"]
_LAST = ["Ashdown", "Brennan", "Castell", "Duval", "Eriksen", "Fairlie", "Galvez", "Holloway", "Ibarra", "Jansen", "Kowalski", "Lindqvist",
         "Moreau", "Nakamura", "Okafor", "Petrov", "Quist", "Rinaldi", "Sorensen", "Takeda", "Ueda", "Vasquez", "Whitlock", "Yilmaz"]
_CO_SUFFIX = ["Logistics", "Foods", "Robotics", "Textiles", "Mining", "Software", "Ceramics", "Shipping", "Energy", "Pharma"]
_GOODS = ["copper wire", "olive oil", "cotton bales", "glass panels", "wheat", "coffee beans", "steel beams", "paper rolls", "salt", "tea"]
_WEATHER = ["light rain", "heavy fog", "clear skies", "strong winds", "scattered showers", "a thunderstorm", "sleet", "a heat wave"]
_SPORTS = ["football", "hockey", "rugby", "basketball", "handball", "cricket", "volleyball"]
_FOOD = ["lentil soup", "rye bread", "apple tart", "fish stew", "barley salad", "plum jam", "onion pie"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


class Names:
    """Invented names. Planted facts get fresh names (``fresh=True``) that distractors only
    reuse as hard negatives; distractor names may repeat among themselves, as in real text."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.reserved: set[str] = set()

    def _pick(self, make, fresh: bool) -> str:
        for _ in range(1000):
            n = make()
            if n not in self.reserved:
                if fresh:
                    self.reserved.add(n)
                return n
        raise RuntimeError("name pool exhausted")

    def town(self, fresh: bool = False) -> str:
        r = self.rng
        return self._pick(lambda: (r.choice(_ON) + (r.choice(_ON) if r.random() < 0.5 else "") + r.choice(_END)).capitalize(), fresh)

    def person(self, fresh: bool = False) -> str:
        return self._pick(lambda: f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}", fresh)

    def company(self, fresh: bool = False) -> str:
        r = self.rng
        return self._pick(lambda: f"{(r.choice(_ON) + r.choice(_ON)).capitalize()} {r.choice(_CO_SUFFIX)}", fresh)


def _num(rng: random.Random, lo: float, hi: float, nd: int = 0) -> str:
    x = rng.uniform(lo, hi)
    return f"{x:,.{nd}f}" if nd else f"{int(x):,}"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


# ------------------------------------------------------------------ distractors

def _about_town(rng: random.Random, t: str, nm: Names, avoid: set[str]) -> tuple[str, str]:
    """(attribute, sentence) about town t; attributes in `avoid` are never used (they belong to a planted fact)."""
    opts = [
        ("founded", lambda: f"{t} was founded in {rng.randint(1200, 1950)} by a group of {rng.choice(['fishermen', 'monks', 'miners', 'weavers'])}."),
        ("mayor", lambda: f"The current mayor of {t}, {nm.person()}, was re-elected with {rng.randint(51, 79)}% of the vote."),
        ("weather", lambda: f"On {rng.choice(_MONTHS)} {rng.randint(1, 28)} {t} saw {rng.choice(_WEATHER)} and a high of {rng.randint(-5, 36)} degrees."),
        ("sport", lambda: f"The {t} {rng.choice(_SPORTS)} club won {rng.randint(2, 9)} to {rng.randint(0, 4)} against {nm.town()} last weekend."),
        ("market", lambda: f"Stalls at the {t} market sold {rng.choice(_FOOD)} for {_num(rng, 2, 30, 2)} crowns a portion."),
        ("school", lambda: f"The secondary school in {t} enrolled {rng.randint(120, 1900)} pupils this autumn, {rng.randint(3, 40)} more than last year."),
        ("elevation", lambda: f"The old church tower in {t} stands {rng.randint(18, 95)} metres tall and was restored in {rng.randint(1960, 2020)}."),
        ("rail", lambda: f"Trains from {t} to {nm.town()} leave every {rng.choice([15, 20, 30, 45, 60])} minutes on weekdays."),
    ]
    opts = [o for o in opts if o[0] not in avoid]
    attr, make = rng.choice(opts)
    return attr, make()


def _generic(rng: random.Random, nm: Names) -> str:
    t, p, c = nm.town(), nm.person(), nm.company()
    templates = [
        lambda: f"{c} opened a new office in {t} with {rng.randint(12, 480)} employees.",
        lambda: f"{p} said the harvest in {t} was the best in {rng.randint(3, 30)} years.",
        lambda: f"A ferry carrying {rng.randint(40, 900)} passengers left {t} at {rng.randint(5, 22)}:{rng.choice(['00', '15', '30', '45'])}.",
        lambda: f"The {t} library received a donation of {rng.randint(200, 9000)} books from {p}.",
        lambda: f"{c} shipped {_num(rng, 1, 900)} tonnes of {rng.choice(_GOODS)} through the port of {t} in {rng.choice(_MONTHS)}.",
        lambda: f"In the meeting on {_date(rng)}, {p} proposed moving the warehouse of {c} to {t}.",
        lambda: f"{p}: I think we should budget about {_num(rng, 1, 90)} thousand crowns for the {t} renovation.",
        lambda: f"{p} wrote that the bridge near {t} is {_num(rng, 20, 700)} metres long and needs repairs.",
        lambda: f"Ticket prices for the {t} museum rose from {rng.randint(4, 12)} to {rng.randint(13, 25)} crowns.",
        lambda: f"The reservoir above {t} held {rng.randint(40, 99)} percent of its capacity after the spring rains.",
        lambda: f"{c} reported a quarterly profit of {_num(rng, 0.5, 80, 1)} million crowns, according to {p}.",
        lambda: f"Volunteers planted {rng.randint(100, 5000)} trees along the river between {t} and {nm.town()}.",
        lambda: f"Everyone agreed the {rng.choice(_FOOD)} served at the {t} fair was excellent, though the queue was long.",
        lambda: f"{p} asked whether the deadline for the {c} audit could move to {rng.choice(_MONTHS)}.",
        lambda: f"The hospital in {t} has {rng.randint(40, 700)} beds and an average wait of {rng.randint(10, 240)} minutes.",
        lambda: f"Fog delayed {rng.randint(2, 40)} flights at the {t} airfield on {_date(rng)}.",
        lambda: f"It was a quiet week; most of the discussion was about the new parking rules in {t}.",
        lambda: f"{p} and {nm.person()} will present the {c} roadmap at the next all-hands.",
    ]
    return rng.choice(templates)()


# ------------------------------------------------------------------ planted facts and subtasks

@dataclass
class Fact:
    sentence: str
    entity: str
    attribute: str


def _subtask(rng: random.Random, nm: Names, n_facts: int) -> tuple[str, list[Fact]]:
    kind = rng.choice(["road", "population", "shipment", "event"] if n_facts == 1 else ["road", "population", "shipment"])
    if kind == "road":
        towns = [nm.town(fresh=True) for _ in range(n_facts + 1)]
        facts = [Fact(f"The road from {a} to {b} is {_num(rng, 3, 140, 1)} miles long.", a, f"road:{b}") for a, b in zip(towns, towns[1:])]
        if n_facts == 1:
            text = f"Convert the distance of the road from {towns[0]} to {towns[1]} to kilometres"
        else:
            text = "Add up the road distances " + ", then ".join(f"from {a} to {b}" for a, b in zip(towns, towns[1:]))
        return text, facts
    if kind == "population":
        towns = [nm.town(fresh=True) for _ in range(n_facts)]
        facts = [Fact(f"According to the last census, {t} has a population of {_num(rng, 800, 250000)}.", t, "population") for t in towns]
        text = ("What is the population of " + towns[0] + " divided by 12") if n_facts == 1 else \
            "Sum the populations of " + ", ".join(towns[:-1]) + " and " + towns[-1]
        return text, facts
    if kind == "shipment":
        cos = [nm.company(fresh=True) for _ in range(n_facts)]
        good = rng.choice(_GOODS)
        facts = [Fact(f"Last month {c} delivered a shipment of {good} weighing {_num(rng, 100, 9000)} kg.", c, "shipment") for c in cos]
        text = f"Convert the weight of the {good} shipment from {cos[0]} to pounds" if n_facts == 1 else \
            f"What is the total weight of the {good} shipments delivered by " + ", ".join(cos[:-1]) + " and " + cos[-1]
        return text, facts
    name = nm.town(fresh=True)
    d = _date(rng)
    facts = [Fact(f"The {name} lantern festival is scheduled to start on {d}.", name, "festival")]
    return f"How many days after 2024-01-01 does the {name} lantern festival start", facts


def _count(text: str) -> int:
    from micromarket.nodes.context_slicing import count_tokens

    return count_tokens(text)


def make_case(rng: random.Random, size: int, n_subtasks: int = 3) -> dict:
    """A context of ~size tokens with facts for n_subtasks subtasks planted at random positions."""
    nm = Names(rng)
    subtasks = []
    for _ in range(n_subtasks):
        text, facts = _subtask(rng, nm, rng.randint(1, 3))
        subtasks.append({"text": text, "facts": [f.sentence for f in facts], "_facts": facts})
    planted = [f for s in subtasks for f in s["_facts"]]
    # hard negatives: 2-5 other statements about every entity a fact names
    sentences: list[str] = []
    for f in planted:
        for _ in range(rng.randint(2, 5)):
            if f.attribute.startswith("road"):
                other = nm.town()
                sentences.append(rng.choice([
                    f"The road from {f.entity} to {other} is {_num(rng, 3, 140, 1)} miles long.",
                    f"Cyclists ride from {f.entity} to {other} in about {rng.randint(1, 9)} hours.",
                    _about_town(rng, f.entity, nm, set())[1],
                ]))
            elif f.attribute in ("population", "festival"):
                sentences.append(_about_town(rng, f.entity, nm, set())[1])
            else:
                sentences.append(rng.choice([
                    f"{f.entity} hired {rng.randint(3, 90)} new drivers in {rng.choice(_MONTHS)}.",
                    f"{f.entity} reported a quarterly profit of {_num(rng, 0.5, 80, 1)} million crowns.",
                    f"Last year {f.entity} delivered a shipment of {rng.choice(_GOODS)} to {nm.town()} two weeks late.",
                ]))
    tokens = sum(_count(s) for s in sentences) + sum(_count(f.sentence) for f in planted)
    while tokens < size:
        s = _generic(rng, nm) if rng.random() < 0.8 else _about_town(rng, nm.town(), nm, set())[1]
        sentences.append(s)
        tokens += _count(s)
    rng.shuffle(sentences)
    for f in planted:
        sentences.insert(rng.randrange(len(sentences) + 1), f.sentence)
    # paragraphs of 3-8 sentences, some as conversation turns
    paras, i = [], 0
    while i < len(sentences):
        k = rng.randint(3, 8)
        paras.append(" ".join(sentences[i : i + k]))
        i += k
    context = "\n\n".join(paras)
    for s in subtasks:
        s.pop("_facts")
    return {"context": context, "tokens": _count(context), "subtasks": subtasks}


def run(n_per_size: int = 1, seed: int = 7, budget: int = 2048, model: str | None = None, sizes: tuple[int, ...] = SIZES) -> dict:
    from micromarket.settings import Settings
    from micromarket.nodes.context_slicing import prepare, select_chunks

    model = model or Settings.from_env().embedding_model
    rng = random.Random(seed)
    rows = []
    t_embed = t_select = 0.0
    for size in sizes:
        for _ in range(n_per_size):
            case = make_case(rng, size)
            t0 = time.perf_counter()
            prep = prepare(case["context"], model)
            t_embed += time.perf_counter() - t0
            for s in case["subtasks"]:
                t0 = time.perf_counter()
                sl = select_chunks(prep, s["text"], budget)
                t_select += time.perf_counter() - t0
                found = [f for f in s["facts"] if f in sl.text]
                rows.append({"context_tokens": prep.total_tokens, "subtask": s["text"], "needed": len(s["facts"]),
                             "recalled": len(found), "transferred": sl.tokens, "missing": [f for f in s["facts"] if f not in found]})
    full = sum(r["context_tokens"] for r in rows)
    sent = sum(r["transferred"] for r in rows)
    needed = sum(r["needed"] for r in rows)
    recalled = sum(r["recalled"] for r in rows)
    reductions = [1 - r["transferred"] / r["context_tokens"] for r in rows]
    return {
        "model": model, "budget_tokens": budget, "contexts": len(sizes) * n_per_size, "subtasks": len(rows),
        "context_tokens_min": min(r["context_tokens"] for r in rows), "context_tokens_max": max(r["context_tokens"] for r in rows),
        "full_context_tokens": full, "tokens_transferred": sent,
        "token_reduction": round(1 - sent / full, 4), "min_subtask_reduction": round(min(reductions), 4),
        "needed_facts": needed, "recalled_facts": recalled, "recall": round(recalled / needed, 4),
        "embed_seconds": round(t_embed, 2), "select_ms_per_subtask": round(1000 * t_select / len(rows), 2),
        "targets": {"token_reduction": 0.80, "recall": 0.98},
        "passed": (1 - sent / full) >= 0.80 and recalled / needed >= 0.98,
        "misses": [{"subtask": r["subtask"], "missing": r["missing"]} for r in rows if r["missing"]],
    }


@app.command()
def main(
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON"),
    n: int = typer.Option(1, "--n", help="Contexts per size (sizes 5k..50k tokens)"),
    seed: int = typer.Option(7, help="Random seed"),
    budget: int = typer.Option(2048, help="Card token budget (context_tokens)"),
    model: str = typer.Option(None, help="Embedding model (default: the settings' model, packaged MiniLM)"),
    sizes: str = typer.Option(",".join(map(str, SIZES)), help="Context sizes in tokens, comma-separated (5000..50000)"),
) -> None:
    """Tokens transferred vs full context, and recall of the planted facts."""
    size_list = tuple(int(x) for x in sizes.split(",") if x.strip())
    rep = run(n_per_size=n, seed=seed, budget=budget, model=model, sizes=size_list)
    if json_out:
        typer.echo(json.dumps(rep, indent=2))
        return
    typer.echo(f"context slicing with {rep['model']} (budget {rep['budget_tokens']} tokens)")
    typer.echo(f"  {rep['contexts']} contexts of {rep['context_tokens_min']:,}-{rep['context_tokens_max']:,} tokens, {rep['subtasks']} subtasks")
    typer.echo(f"  tokens transferred: {rep['tokens_transferred']:,} of {rep['full_context_tokens']:,} "
               f"-> {100 * rep['token_reduction']:.1f}% fewer (worst subtask {100 * rep['min_subtask_reduction']:.1f}%)  [target >= 80%]")
    typer.echo(f"  recall of needed facts: {rep['recalled_facts']}/{rep['needed_facts']} = {100 * rep['recall']:.1f}%  [target >= 98%]")
    typer.echo(f"  embedding {rep['embed_seconds']} s total, selection {rep['select_ms_per_subtask']} ms per subtask")
    for m in rep["misses"][:10]:
        typer.echo(f"  missed for {m['subtask']!r}: {m['missing']}")
    typer.echo("PASS" if rep["passed"] else "FAIL")


if __name__ == "__main__":
    app()
