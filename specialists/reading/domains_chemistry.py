"""Generator for the `chemistry` reader: molar masses, grams <-> moles and mass composition."""

from __future__ import annotations

import random

from micromarket.specialists.reading.generate import Domain, Fill, held_out

FORMULAS = ["H2O", "CO2", "NaCl", "KCl", "MgO", "CaCO3", "C6H12O6", "H2SO4", "NH3", "CH4", "Fe2O3", "Al2O3", "NaOH", "KNO3",
            "C2H5OH", "Ca(OH)2", "Mg(OH)2", "CuSO4", "AgNO3", "Na2CO3", "K2Cr2O7", "C8H10N4O2", "C9H8O4", "HNO3", "H3PO4",
            "SO2", "NO2", "N2O", "Li2O", "BaSO4", "ZnCl2", "PbI2", "KMnO4", "C3H8", "C4H10", "C2H4", "C2H2", "(NH4)2SO4",
            "Cu(NO3)2", "NaHCO3", "CaCl2", "MgSO4", "Fe3O4", "SiO2", "P4O10", "C12H22O11", "HCl", "KOH", "LiOH", "CH3COOH",
            "Al(OH)3", "Na2SO4", "K2CO3", "CaSO4", "C6H6", "C7H8", "NaBr", "KI", "AgCl", "ZnO"]
NAMES = {"water": "H2O", "carbon dioxide": "CO2", "table salt": "NaCl", "glucose": "C6H12O6", "sulfuric acid": "H2SO4",
         "ammonia": "NH3", "methane": "CH4", "baking soda": "NaHCO3", "caffeine": "C8H10N4O2", "aspirin": "C9H8O4",
         "ethanol": "C2H5OH", "calcium carbonate": "CaCO3", "sodium hydroxide": "NaOH", "propane": "C3H8", "sugar": "C12H22O11",
         "nitric acid": "HNO3", "hydrochloric acid": "HCl", "butane": "C4H10"}
ELEMENTS = {"H": ["hydrogen", "H"], "C": ["carbon", "C"], "O": ["oxygen", "O"], "N": ["nitrogen", "N"], "Na": ["sodium", "Na"],
            "Cl": ["chlorine", "Cl"], "Ca": ["calcium", "Ca"], "K": ["potassium", "K"], "S": ["sulfur", "sulphur", "S"],
            "Fe": ["iron", "Fe"], "Mg": ["magnesium", "Mg"], "Cu": ["copper", "Cu"], "Al": ["aluminium", "aluminum", "Al"]}
MASS_UNITS = {"g": ["grams", "g", "gram"], "mg": ["milligrams", "mg"], "kg": ["kilograms", "kg"]}
MOL_UNITS = ["moles", "mol", "mole"]

MOLAR = [
    "What is the molar mass of {F}?", "How many grams per mole is {F}?", "molar mass of {F}", "what's the molecular weight of {F}",
    "How heavy is one mole of {F}?", "find the formula mass of {F}", "how much does a mole of {F} weigh", "{F}: molar mass?",
    "How many grams per mole is {F}, {F:2}?", "give me the molar mass for {F}", "molecular mass of {F} please",
    "what is the mass of one mole of {F}", "calculate the g/mol of {F}", "the molar mass of {F} is what?", "{F} molar mass",
    "tell me how many g/mol {F} has", "What's the molecular weight of {F} ({F:2})?", "compute the molar mass of the compound {F}",
]
TO_MOL = [
    "How many moles are in {Q} {U} of {F}?", "convert {Q} {U} of {F} to moles", "{Q} {U} of {F} is how many moles",
    "moles in {Q} {U} of {F}", "I have {Q} {U} of {F}; how many moles is that?", "how many mol of {F} are there in {Q} {U}?",
    "number of moles in {Q} {U} of {F}", "{Q} {U} {F} to mol", "a sample of {Q} {U} of {F} contains how many moles",
    "what amount in moles is {Q} {U} of {F}", "turn {Q} {U} of {F} into moles",
]
TO_GRAMS = [
    "How many grams is {Q} {M} of {F}?", "mass of {Q} {M} of {F}", "convert {Q} {M} of {F} to grams", "what do {Q} {M} of {F} weigh in grams",
    "{Q} {M} of {F} in grams", "how much does {Q} {M} of {F} weigh", "I need {Q} {M} of {F}. how many grams?",
    "grams in {Q} {M} of {F}", "what is the mass in grams of {Q} {M} {F}", "weigh out {Q} {M} of {F}: how many grams",
]
COMPOSITION = [
    "What percentage of {F} is {E}?", "percent by mass of {E} in {F}", "mass percent of {E} in {F}",
    "what fraction of {F} is {E} by mass, in percent", "how much {E} is in {F} by mass (%)", "percentage of {E} in {F}",
    "by mass, what percent of {F} is {E}", "the mass percentage of {E} in {F}", "% {E} in {F} by mass",
]


# More phrasings, as people ask them.
MOLAR += [
    "what's the molar mass of {F}", "molar mass for {F}?", "I need the molar mass of {F}", "how many g/mol is {F}",
    "what does one mole of {F} weigh?", "grams per mole of {F}", "look up the molecular weight of {F} for me",
    "{F} - what is its molar mass?", "can you work out the molar mass of {F}", "mass of a mole of {F} in grams",
    "what is the formula weight of {F}?", "how much does one mol of {F} weigh in grams", "molar weight of {F}",
    "what's {F}'s molar mass", "for {F}, what is the molar mass?",
]
TO_MOL += [
    "how many moles is {Q} {U} of {F}?", "{Q} {U} of {F} - how many mol?", "work out the moles in {Q} {U} of {F}",
    "calculate the number of moles in {Q} {U} of {F}", "I weighed out {Q} {U} of {F}. how many moles?",
    "moles of {F} in {Q} {U}?", "{Q} {U} of {F} equals how many moles", "change {Q} {U} of {F} into mol",
    "find the amount of substance in {Q} {U} of {F}", "what is {Q} {U} of {F} in moles",
]
TO_GRAMS += [
    "what is the mass of {Q} {M} of {F}?", "{Q} {M} of {F} is how many grams", "how heavy are {Q} {M} of {F}",
    "how many grams are {Q} {M} of {F}", "convert {Q} {M} {F} into grams", "find the mass of {Q} {M} of {F}",
    "{Q} {M} of {F}: mass in grams?", "I need {Q} {M} of {F}; what mass is that", "what does {Q} {M} of {F} come to in grams",
    "calculate the grams in {Q} {M} of {F}",
]
COMPOSITION += [
    "how much of {F} is {E}, as a percentage?", "what is the percent {E} in {F}", "{E} content of {F} by mass",
    "find the mass percentage of {E} in {F}", "what share of the mass of {F} is {E}?", "percent composition of {E} in {F}",
    "in {F}, what percent by mass is {E}?", "how many percent of {F} is {E}",
]


def _compound(rng: random.Random, heldout: bool) -> tuple[Fill, str, Fill | None]:
    """A formula (or a name) on one side of the word split."""
    pool = [f for f in FORMULAS if held_out(f, 0.25, "chem") == heldout]
    if rng.random() < 0.25:
        names = [n for n in NAMES if held_out(n, 0.25, "chemname") == heldout]
        n = rng.choice(names)
        return Fill(n, "FORM"), NAMES[n], Fill(NAMES[n], "FORM")
    f = rng.choice(pool)
    names = {v: k for k, v in NAMES.items()}
    return Fill(f, "FORM"), f, (Fill(names[f], "FORM") if f in names else None)


def _qty(rng: random.Random) -> tuple[str, float]:
    v = rng.choice([rng.randint(1, 500), round(rng.uniform(0.01, 50), 2)])
    return f"{v:g}", float(v)


def _fill(op: str, template: str, rng: random.Random, heldout: bool):
    f, formula, other = _compound(rng, heldout)
    fills = {"F": f, "F:2": other or Fill(formula, "FORM")}
    if "{F:2}" in template and other is None:
        fills["F:2"] = Fill(formula, "FORM")
    gold = {"op": op, "formula": formula}
    if op == "to_mol":
        q, v = _qty(rng)
        u = rng.choice(list(MASS_UNITS))
        fills["Q"], fills["U"] = Fill(q, "QTY"), Fill(rng.choice(MASS_UNITS[u]), "UNIT")
        gold.update(amount=v, unit=u)
    elif op == "to_grams":
        q, v = _qty(rng)
        fills["Q"], fills["M"] = Fill(q, "QTY"), Fill(rng.choice(MOL_UNITS), "UNIT")
        gold.update(amount=v, unit="mol")
    elif op == "composition":
        from micromarket.specialists.builtin.chemistry import parse_formula

        els = [e for e in parse_formula(formula) if e in ELEMENTS]
        if not els:
            return _fill(op, template, rng, heldout)
        e = rng.choice(els)
        fills["E"] = Fill(rng.choice(ELEMENTS[e]), "ELEM")
        gold["element"] = e
    return fills, gold


DOMAIN = Domain("chemistry", {"molar_mass": MOLAR, "to_mol": TO_MOL, "to_grams": TO_GRAMS, "composition": COMPOSITION}, _fill,
                ["FORM", "QTY", "UNIT", "ELEM"])
