"""`chemistry` specialist: molar masses, mass composition and gram/mole conversions from chemical formulas.

Standard atomic weights are IUPAC conventional values (mass number of the most stable
isotope for elements without a standard weight). Run as ``python -m specialists.builtin.chemistry``.
"""

from __future__ import annotations

import re
from collections import Counter

from micromarket.specialists.builtin._common import (
    reader,
    qualified,
    NUMBER_RE,
    capped,
    checked,
    compete,
    clean,
    fail,
    make_server,
    serve,
    to_float,
    understood,
)
from micromarket.specialists.reading import read
from micromarket.specialists.reading.numbers import amount
from micromarket.specialists.result import SolveResult

SPECIALIST_ID = "chemistry"

ATOMIC_WEIGHTS: dict[str, float] = {
    "H": 1.008, "He": 4.0026, "Li": 6.94, "Be": 9.0122, "B": 10.81, "C": 12.011, "N": 14.007, "O": 15.999,
    "F": 18.998, "Ne": 20.180, "Na": 22.990, "Mg": 24.305, "Al": 26.982, "Si": 28.085, "P": 30.974, "S": 32.06,
    "Cl": 35.45, "Ar": 39.95, "K": 39.098, "Ca": 40.078, "Sc": 44.956, "Ti": 47.867, "V": 50.942, "Cr": 51.996,
    "Mn": 54.938, "Fe": 55.845, "Co": 58.933, "Ni": 58.693, "Cu": 63.546, "Zn": 65.38, "Ga": 69.723, "Ge": 72.630,
    "As": 74.922, "Se": 78.971, "Br": 79.904, "Kr": 83.798, "Rb": 85.468, "Sr": 87.62, "Y": 88.906, "Zr": 91.224,
    "Nb": 92.906, "Mo": 95.95, "Tc": 97.0, "Ru": 101.07, "Rh": 102.91, "Pd": 106.42, "Ag": 107.87, "Cd": 112.41,
    "In": 114.82, "Sn": 118.71, "Sb": 121.76, "Te": 127.60, "I": 126.90, "Xe": 131.29, "Cs": 132.91, "Ba": 137.33,
    "La": 138.91, "Ce": 140.12, "Pr": 140.91, "Nd": 144.24, "Pm": 145.0, "Sm": 150.36, "Eu": 151.96, "Gd": 157.25,
    "Tb": 158.93, "Dy": 162.50, "Ho": 164.93, "Er": 167.26, "Tm": 168.93, "Yb": 173.05, "Lu": 174.97, "Hf": 178.49,
    "Ta": 180.95, "W": 183.84, "Re": 186.21, "Os": 190.23, "Ir": 192.22, "Pt": 195.08, "Au": 196.97, "Hg": 200.59,
    "Tl": 204.38, "Pb": 207.2, "Bi": 208.98, "Po": 209.0, "At": 210.0, "Rn": 222.0, "Fr": 223.0, "Ra": 226.0,
    "Ac": 227.0, "Th": 232.04, "Pa": 231.04, "U": 238.03, "Np": 237.0, "Pu": 244.0, "Am": 243.0, "Cm": 247.0,
    "Bk": 247.0, "Cf": 251.0, "Es": 252.0, "Fm": 257.0, "Md": 258.0, "No": 259.0, "Lr": 266.0, "Rf": 267.0,
    "Db": 268.0, "Sg": 269.0, "Bh": 270.0, "Hs": 269.0, "Mt": 278.0, "Ds": 281.0, "Rg": 282.0, "Cn": 285.0,
    "Nh": 286.0, "Fl": 289.0, "Mc": 290.0, "Lv": 293.0, "Ts": 294.0, "Og": 294.0,
}
ELEMENT_NAMES = {
    "hydrogen": "H", "helium": "He", "lithium": "Li", "carbon": "C", "nitrogen": "N", "oxygen": "O", "fluorine": "F",
    "sodium": "Na", "magnesium": "Mg", "aluminium": "Al", "aluminum": "Al", "silicon": "Si", "phosphorus": "P",
    "sulfur": "S", "sulphur": "S", "chlorine": "Cl", "potassium": "K", "calcium": "Ca", "iron": "Fe", "copper": "Cu",
    "zinc": "Zn", "silver": "Ag", "gold": "Au", "lead": "Pb", "mercury": "Hg", "iodine": "I", "bromine": "Br",
    "manganese": "Mn", "chromium": "Cr", "nickel": "Ni", "cobalt": "Co", "tin": "Sn", "uranium": "U", "barium": "Ba",
}
# Common names, read with slightly lower confidence (the name had to be interpreted).
COMMON_COMPOUNDS = {
    "water": "H2O", "table salt": "NaCl", "salt": "NaCl", "sodium chloride": "NaCl", "glucose": "C6H12O6",
    "sucrose": "C12H22O11", "sugar": "C12H22O11", "ethanol": "C2H5OH", "methanol": "CH3OH", "carbon dioxide": "CO2",
    "carbon monoxide": "CO", "ammonia": "NH3", "methane": "CH4", "sulfuric acid": "H2SO4", "sulphuric acid": "H2SO4",
    "hydrochloric acid": "HCl", "nitric acid": "HNO3", "acetic acid": "CH3COOH", "baking soda": "NaHCO3",
    "sodium bicarbonate": "NaHCO3", "calcium carbonate": "CaCO3", "sodium hydroxide": "NaOH", "caffeine": "C8H10N4O2",
    "aspirin": "C9H8O4", "hydrogen peroxide": "H2O2", "ozone": "O3", "propane": "C3H8", "butane": "C4H10",
    "calcium hydroxide": "Ca(OH)2", "potassium permanganate": "KMnO4", "copper sulfate": "CuSO4",
}


class FormulaError(ValueError):
    pass


def parse_formula(formula: str) -> Counter:
    """Atom counts of a formula with groups and hydrates: 'Ca(OH)2' , 'CuSO4·5H2O', 'K4[Fe(CN)6]'."""
    f = formula.strip().replace(" ", "")
    if not f:
        raise FormulaError("empty formula")
    total: Counter = Counter()
    for part in re.split(r"[·•∙*.]", f):
        if not part:
            raise FormulaError(f"empty part in {formula!r}")
        m = re.match(r"(\d+)(?=[A-Z(\[])", part)
        mult = int(m.group(1)) if m else 1
        body = part[m.end():] if m else part
        counts, pos = _group(body, 0)
        if pos != len(body):
            raise FormulaError(f"unexpected {body[pos]!r} in {formula!r}")
        for el, n in counts.items():
            total[el] += n * mult
    return total


def _group(s: str, i: int) -> tuple[Counter, int]:
    counts: Counter = Counter()
    while i < len(s):
        c = s[i]
        if c in "([":
            inner, i = _group(s, i + 1)
            if i >= len(s) or s[i] not in ")]":
                raise FormulaError("unbalanced parentheses")
            i += 1
        elif c in ")]":
            if not counts:
                raise FormulaError("empty parentheses")
            return counts, i
        elif c.isupper():
            m = re.match(r"[A-Z][a-z]?", s[i:])
            sym = m.group(0)
            if sym not in ATOMIC_WEIGHTS:
                sym = sym[0]
                if sym not in ATOMIC_WEIGHTS:
                    raise FormulaError(f"unknown element {m.group(0)!r}")
            inner, i = Counter({sym: 1}), i + len(sym)
        else:
            raise FormulaError(f"unexpected {c!r}")
        m = re.match(r"\d+", s[i:])
        n = int(m.group(0)) if m else 1
        if m:
            i += len(m.group(0))
        if n == 0:
            raise FormulaError("a count of zero")
        for el, k in inner.items():
            counts[el] += k * n
    return counts, i


def mass_of(counts: Counter) -> float:
    return sum(ATOMIC_WEIGHTS[el] * n for el, n in counts.items())


def _pretty(formula: str) -> str:
    return formula.replace("*", "·").replace(".", "·")


def molar_mass(formula: str) -> SolveResult:
    """Molar mass in g/mol of a chemical formula."""
    try:
        counts = parse_formula(formula)
    except FormulaError as e:
        return fail(str(e))
    m = mass_of(counts)
    terms = " + ".join(f"{n}×{el} ({ATOMIC_WEIGHTS[el]})" if n > 1 else f"{el} ({ATOMIC_WEIGHTS[el]})" for el, n in counts.items())
    return SolveResult(answer=f"Molar mass of {_pretty(formula)} = {m:.3f} g/mol", confidence=0.97,
                       explanation=f"{terms} = {m:.4f} g/mol (IUPAC standard atomic weights)", value=round(m, 6))


def composition(formula: str, element: str | None = None) -> SolveResult:
    """Percentage by mass of each element (or of one element) in a compound."""
    try:
        counts = parse_formula(formula)
    except FormulaError as e:
        return fail(str(e))
    total = mass_of(counts)
    pct = {el: 100 * ATOMIC_WEIGHTS[el] * n / total for el, n in counts.items()}
    if element:
        el = ELEMENT_NAMES.get(element.lower(), element)
        if el not in pct:
            return fail(f"{element} is not in {formula}")
        return SolveResult(answer=f"{el} is {pct[el]:.2f}% of {_pretty(formula)} by mass", confidence=0.96,
                           explanation=f"{counts[el]}×{ATOMIC_WEIGHTS[el]} / {total:.3f} g/mol", value=round(pct[el], 6))
    body = ", ".join(f"{el} {p:.2f}%" for el, p in pct.items())
    return SolveResult(answer=f"Composition of {_pretty(formula)} by mass: {body}", confidence=0.96,
                       explanation=f"molar mass {total:.3f} g/mol", value=body)


def grams_moles(amount: float, unit: str, formula: str) -> SolveResult:
    """Convert grams of a substance to moles (unit 'g') or moles to grams (unit 'mol')."""
    try:
        mm = mass_of(parse_formula(formula))
    except FormulaError as e:
        return fail(str(e))
    if unit.lower().startswith("mol"):
        g = amount * mm
        return SolveResult(answer=f"{amount:g} mol of {_pretty(formula)} = {g:.4g} g", confidence=0.96,
                           explanation=f"mass = moles × molar mass = {amount:g} × {mm:.3f} g/mol", value=round(g, 9))
    factor = _grams_per(unit)
    mol = amount * factor / mm
    return SolveResult(answer=f"{amount:g} {unit} of {_pretty(formula)} = {mol:.4g} mol", confidence=0.96,
                       explanation=f"moles = mass / molar mass = {amount * factor:g} g / {mm:.3f} g/mol", value=round(mol, 12))


# --- routing of free text -------------------------------------------------------------------------------

_FORMULA_TOKEN = re.compile(r"(?<![A-Za-z])(?:\d*[A-Z(\[][A-Za-z0-9()\[\]]*)(?:[·•∙*.]\d*[A-Z(\[][A-Za-z0-9()\[\]]*)*")


def find_formula(text: str) -> tuple[str, float, str] | None:
    """The formula in a request, with a confidence factor and a note. Common names are accepted too."""
    low = text.lower()
    for name in sorted(COMMON_COMPOUNDS, key=len, reverse=True):
        if re.search(rf"\b{re.escape(name)}\b", low):
            return COMMON_COMPOUNDS[name], 0.9, f"read {name!r} as {COMMON_COMPOUNDS[name]}"
    found = []
    for tok in _FORMULA_TOKEN.findall(text):
        tok = tok.rstrip(".")
        if not tok or (len(tok) > 1 and tok.isalpha() and tok[1:].islower() and tok not in ATOMIC_WEIGHTS):
            continue  # a capitalised word such as 'What'
        try:
            parse_formula(tok)
        except FormulaError:
            continue
        found.append(tok)
    if len(found) > 1:
        found = [t for t in found if t not in ("I", "A")] or found  # the pronoun / article, not iodine
    if not found:
        return None
    best = max(found, key=len)
    return best, (1.0 if len(found) == 1 else 0.8), "" if len(found) == 1 else f"several formulas found ({', '.join(found)}); used {best}"


def _element_in(text: str) -> str | None:
    m = re.search(r"(?:percent(?:age)?|%|fraction|proportion)\s+(?:of\s+)?(?:by\s+mass\s+of\s+)?(\w+)\s+(?:by\s+mass\s+)?in\b", text, re.I)
    if not m:
        m = re.search(r"(?:percent(?:age)?|%|fraction|proportion)\s+of\s+\S+\s+(?:is|are)\s+(?:made\s+up\s+of\s+)?(\w+)\s*$", text, re.I)
    if not m:
        return None
    return _element(m.group(1))


def _element(word: str) -> str | None:
    """The element a word names: a name ("carbon") or a symbol ("C"); None otherwise."""
    return ELEMENT_NAMES.get(word.lower()) or (word if word in ATOMIC_WEIGHTS else None)


_MASS_UNIT = r"kg|kilograms?|mg|milligrams?|g|grams?"


def _grams_per(unit: str) -> float:
    """Grams in one `unit` (g, kg, mg, spelled out or not)."""
    u = unit.lower()
    return 1000.0 if u.startswith("k") else 0.001 if u.startswith("m") else 1.0


def _with(res: SolveResult, factor: float, note: str) -> SolveResult:
    if res.confidence:
        res.confidence = round(res.confidence * factor, 3)
        if note:
            res.explanation += f" ({note})"
    return res


# A chemistry question names what it asks for; without one of these a capital letter is prose ("I", "US").
_CUE_RE = re.compile(
    r"\bmol(?:e|es|ar)?\b|g/mol|\bmolecular\b|\bformula\b|\bcomposition\b|\bcompound\b|\bby\s+mass\b|"
    r"\batomic\s+(?:weight|mass)\b|\bchemical\b|\bstoichiometr|\bmass\s+(?:percent|fraction)\b|"
    r"(?:percent(?:age)?|%|fraction|proportion)\s+(?:of\s+)?\w+\s+(?:by\s+mass\s+)?in\b",
    re.I,
)
# Letters that spell a word in prose as well as a formula: accepted only right after "of"/"for" or before "molar".
_PROSE_WORDS = {"I", "A", "US", "CO", "NO", "HI", "OH", "IN", "AS", "BE", "SO", "ON", "OK", "TV", "UK", "AI", "PC", "IS",
                "AT", "BY", "HE", "NB", "PS", "CV", "ID", "BS", "P", "S", "K", "B", "C", "N", "O", "F", "H", "V", "W", "U", "Y"}


def _plausible(text: str, formula: str) -> bool:
    if formula not in _PROSE_WORDS:
        return True
    f = re.escape(formula)
    return bool(re.search(rf"\b(?:of|for|is)\s+(?:the\s+)?(?:compound\s+|element\s+|formula\s+)?{f}(?![\w'])|(?<![\w']){f}\s+(?:molar|molecular|atomic)\b|^\s*{f}\s*$", text))


def solve_task(task: str, context: str = "") -> SolveResult:
    """Answer a chemistry-formula request: molar mass, mass composition, grams <-> moles. The learned reader reads
    first; the rules read what it cannot."""
    shaped = read_shapes(task)
    if shaped is not None:
        return shaped
    return compete(task, read_by_model(task), lambda: solve_by_rules(task, context), SPECIALIST_ID)


_ARROW = re.compile(r"\s*(?:->|-->|→|⟶|=>|=|\byields\b|\bgives\b|\bproduces\b|\bmakes\b|\breacts?\s+to\s+(?:form|give)\b)\s*", re.I)


def balance(text: str) -> SolveResult | None:
    """Balance a chemical equation ("balance H2 + O2 -> H2O"): the smallest whole coefficients that conserve every
    element (the null space of the element-count matrix, with sympy). None when the text holds no equation."""
    import sympy as sp  # deferred: sympy is heavy

    if not re.search(r"\bbalanc", text, re.I):
        return None
    body = re.sub(r"^.*?\bbalanc\w*\b\s*(?:the\s+)?(?:chemical\s+)?(?:equation|reaction)?\s*:?\s*", "", text, flags=re.I).strip(" ?.")
    sides = _ARROW.split(body)
    if len(sides) != 2:
        return None
    try:
        species = [[t.strip() for t in re.split(r"\s+\+\s+|\s*\+\s*(?=[A-Z(\d])", side) if t.strip()] for side in sides]
        species = [[re.sub(r"^\d+\s*(?=[A-Z(])", "", t) for t in side] for side in species]  # given coefficients are recomputed
        counts = [[parse_formula(t) for t in side] for side in species]
    except FormulaError:
        return None
    if not all(species):
        return None
    elements = sorted({el for side in counts for c in side for el in c})
    columns = [c for c in counts[0]] + [c for c in counts[1]]
    matrix = sp.Matrix([[c.get(el, 0) * (1 if i < len(counts[0]) else -1) for i, c in enumerate(columns)] for el in elements])
    null = matrix.nullspace()
    if len(null) != 1:
        return fail("the equation cannot be balanced uniquely" if null else "the equation cannot be balanced (an element appears on one side only)")
    vec = null[0] * sp.ilcm(*[sp.fraction(x)[1] for x in null[0]])
    vec = vec / sp.igcd(*[int(x) for x in vec])
    if any(x <= 0 for x in vec):
        vec = -vec
    if any(x <= 0 for x in vec):
        return fail("the equation cannot be balanced with positive coefficients")
    coef = [int(x) for x in vec]
    names = species[0] + species[1]
    term = lambda k, n: f"{'' if k == 1 else k}{n}"  # noqa: E731
    left = " + ".join(term(k, n) for k, n in zip(coef[:len(species[0])], names))
    right = " + ".join(term(k, n) for k, n in zip(coef[len(species[0]):], names[len(species[0]):]))
    res = SolveResult(answer=f"{left} → {right}", confidence=0.97, value=f"{left} -> {right}",
                      explanation=f"coefficients {coef} conserve {', '.join(elements)}")
    return understood(res, f"balance {body}")


AVOGADRO = 6.02214076e23
_PARTICLE_WORD = re.compile(r"\b(?:molecules|atoms|particles|ions|formula\s+units)\b", re.I)
_PARTICLES = re.compile(r"\bhow\s+many\s+(?:(?P<el0>[A-Za-z]+)\s+)?(?P<what>molecules|atoms|particles|ions|formula\s+units)\b(?:\s+of\s+(?P<el>[A-Za-z]+))?"
                        r"|\bnumber\s+of\s+(?P<what2>molecules|atoms|particles|ions|formula\s+units)\b(?:\s+of\s+(?P<el2>[A-Za-z]+))?", re.I)
_QUANTITY = re.compile(rf"(?P<n>\d+(?:\.\d+)?)\s*(?P<u>moles?|mol|{_MASS_UNIT})\b\s*(?:of\s+)?(?P<rest>.*)$", re.I)


def particles(text: str) -> SolveResult | None:
    """Molecules, atoms or formula units in an amount of a substance ("how many molecules are in 2 moles of water",
    "atoms of hydrogen in 9 g of H2O"): moles × Avogadro's number, times the atoms of each kind asked for."""
    ask = _PARTICLES.search(text)
    if not ask:  # particles named but not asked in a shape read here: no other reading answers them
        return fail("a count of molecules or atoms was asked in a way not read here") if _PARTICLE_WORD.search(text) else None
    what, el_word = (ask["what"] or ask["what2"]).lower(), ask["el"] or ask["el2"] or ask["el0"]
    if what == "ions":
        return fail("a count of ions depends on how the compound dissociates, which is not computed")
    q = _QUANTITY.search(text[ask.end():]) or _QUANTITY.search(text)
    if q is None:
        return fail("a count of molecules or atoms needs an amount in moles or grams of a substance")
    found = find_formula(q["rest"]) or (find_formula(el_word) if el_word else None)
    if found is None:  # an element by name: "12 grams of carbon"
        named = [ELEMENT_NAMES[w.lower()] for w in re.findall(r"[A-Za-z]+", q["rest"]) if w.lower() in ELEMENT_NAMES]
        found = (named[0], 1.0, "") if len(named) == 1 else None
    if found is None:
        return fail(f"no substance was recognised in {q['rest']!r}")
    formula, factor, note = found
    try:
        counts = parse_formula(formula)
    except FormulaError as e:
        return fail(str(e))
    n, u = float(q["n"]), q["u"].lower()
    mol = n if u.startswith("mol") else n * _grams_per(u) / mass_of(counts)
    per, kind = 1, what
    if what == "atoms":
        el_word = None if el_word and el_word.lower() in ("the", "a", "an", "total", "individual", "all") else el_word
        el = _element(el_word) if el_word else None
        if el_word and el is None:
            return fail(f"{el_word!r} is not an element")
        if el and el in counts:
            per, kind = counts[el], f"atoms of {el}"
        elif el and el not in counts and el != formula:
            return fail(f"{el} is not in {formula}")
        else:
            per = sum(counts.values())
    count = mol * AVOGADRO * per
    shown = f"{count:.4e}".replace("e+", " × 10^")
    res = SolveResult(answer=f"{count:.4e} {kind} ({shown})", confidence=round(0.95 * factor, 3), value=float(f"{count:.6g}"),
                      explanation=f"{mol:.6g} mol × 6.02214076×10^23 /mol" + (f" × {per} per formula unit" if per != 1 else "")
                                  + (f"; {note}" if note else ""))
    return understood(res, f"{kind} in {q['n']} {q['u']} of {formula}")


_SAMPLE = re.compile(rf"(?P<n>\d+(?:\.\d+)?)\s*(?P<u>{_MASS_UNIT}|moles?|mol)\b\s*(?:of\s+)?(?P<rest>.+)$", re.I)


def element_mass(text: str) -> SolveResult | None:
    """The mass of one element in a sample of a compound ("how many grams of carbon are in 100 g of glucose"):
    the sample's mass times the element's mass fraction. None when the text does not ask that."""
    m = re.search(rf"\b(?:how\s+(?:many|much)\s+(?P<u>{_MASS_UNIT})\s+of|how\s+much|(?:the\s+)?mass\s+of)\s+(?P<el>[A-Za-z]+)\s+(?:is\s+|are\s+|would\s+be\s+|will\s+be\s+)?(?:there\s+)?(?:in|contained\s+in|(?:needed|required|used)\s+(?:to\s+(?:make|produce|form)|for)|to\s+(?:make|produce|form))\s+(?P<sample>.+)$", text, re.I)
    if not m:
        return None
    word = m["el"]
    el = _element(word)
    sample = _SAMPLE.search(m["sample"])
    if el is None or sample is None:
        return None
    found = find_formula(sample["rest"])
    if found is None:
        return None
    formula, factor, note = found
    try:
        counts = parse_formula(formula)
    except FormulaError:
        return None
    if el not in counts:
        return fail(f"{el} is not in {formula}")
    share = ATOMIC_WEIGHTS[el] * counts[el] / mass_of(counts)
    per = mass_of(counts) if sample["u"].lower().startswith("mol") else _grams_per(sample["u"])  # moles weigh moles × molar mass
    grams = float(sample["n"]) * per * share
    out_per = _grams_per(m["u"] or "g")
    value = grams / out_per
    unit = {1000.0: "kg", 0.001: "mg"}.get(out_per, "g")
    res = SolveResult(answer=f"{value:.4g} {unit} of {el} in {sample['n']} {sample['u']} of {_pretty(formula)}",
                      confidence=round(0.96 * factor, 3), value=round(value, 9),
                      explanation=f"{el} is {100 * share:.2f}% of {formula} by mass ({counts[el]}×{ATOMIC_WEIGHTS[el]} / {mass_of(counts):.3f} g/mol)"
                                  + (f"; {note}" if note else ""))
    return understood(res, f"{m['u'] or 'mass'} of {el} ({word}) in {sample['n']} {sample['u']} of {formula}")


def _model_formula(spans: list[str]) -> tuple[str, str] | None:
    """(formula, as said) from the compound spans: a formula that parses wins over a name; names must agree."""
    found = []
    for sp in spans:
        sp = re.sub(r"(?<=\w)['’]s?$", "", sp.strip())  # a possessive: "NaOH's molar mass", "water's"
        name = COMMON_COMPOUNDS.get(sp.strip().lower())
        if name:
            found.append((name, sp))
            continue
        try:
            parse_formula(sp.strip())
        except FormulaError:
            return None
        found.append((sp.strip(), sp))
    if not found or len({f for f, _ in found}) > 1:
        return None
    return found[0]


@reader(SPECIALIST_ID)
def read_by_model(task: str) -> SolveResult | None:
    """The learned reading (see micromarket.specialists.reading): the operation, the compound, an amount and its
    unit, an element. None when no model ships or its reading is unsure or incomplete (the rules then read)."""
    text = clean(task)
    r = read("chemistry", text) if text else None
    if qualified(r) is not None:  # a condition the engine's call cannot express: not read past
        return qualified(r)
    if r is None or r.op == "none" or r.confidence < 0.5:
        return None
    got = _model_formula(r.get("FORM"))
    if got is None:
        return None
    formula, said = got
    if formula in _PROSE_WORDS:
        return None
    by = f" [read by {r.model}]"
    qty, unit = r.get("QTY"), r.get("UNIT")
    if text.strip() == said.strip():
        return None  # a bare formula: no question asked (the rules answer it, unsure)
    if r.op == "molar_mass" and not qty:
        res = understood(molar_mass(formula), f"molar mass of {said} ({formula}) in grams per mole (g/mol){by}")
        if res.confidence and said.strip() != formula:  # a name had to be interpreted
            res.confidence = round(res.confidence * 0.9, 3)
            res.explanation += f" (read {said.strip()!r} as {formula})"
        return capped(r.confidence, res)
    if r.op == "composition":
        els = r.get("ELEM")
        el = ELEMENT_NAMES.get(els[0].lower(), els[0]) if len(els) == 1 else None
        if len(els) > 1 or (el is not None and el not in ATOMIC_WEIGHTS):
            return None
        return capped(r.confidence, understood(composition(formula, el), f"percent by mass of {els[0] if els else 'each element'} in {said} ({formula}){by}"))
    if len(qty) != 1 or len(unit) != 1:
        return None
    amount_ = amount(qty[0])
    u = unit[0].strip().lower()
    is_mol = u.startswith("mol")  # the amount's unit sets the direction: moles -> grams, a mass -> moles
    if amount_ is None or not (is_mol or u in ("g", "gram", "grams", "mg", "milligram", "milligrams", "kg", "kilogram", "kilograms")):
        return None
    res = grams_moles(amount_, unit[0].strip(), formula)
    return capped(r.confidence, understood(res, f"{qty[0]} {unit[0]} of {said} ({formula}) -> {'grams' if is_mol else 'moles'}{by}"))


def solve_by_rules(task: str, context: str = "") -> SolveResult:
    """The rule-based reading (regular expressions): the fallback, and the benchmark's baseline."""
    text = clean(task)
    if not text:
        return fail("empty request")
    low = text.lower()
    bare_formula = re.fullmatch(r"[A-Z][A-Za-z0-9()\[\]·.*]*", text) is not None and text not in _PROSE_WORDS
    element_share = re.search(r"\bpercent|%|\bfraction\b|\bproportion\b", low) and any(re.search(rf"\b{n}\b", low) for n in ELEMENT_NAMES)
    if not (bare_formula or element_share or _CUE_RE.search(text) or re.search(r"\bhow\s+heavy\b|\bweight\s+of\b", low)):
        return fail("no chemistry question (molar mass, moles, composition by mass) was asked")
    found = find_formula(text)
    if found is None:
        return fail("no chemical formula or known compound name found")
    formula, factor, note = found
    if not _plausible(text, formula):
        return fail(f"{formula!r} reads as a word here, not as a chemical formula")
    if re.search(r"\b(?:percent|percentage|%|composition|fraction|proportion)\b|%", low):
        el = _element_in(text)
        if el is not None and el == formula:
            rest = text.replace(el, " ", 1)
            found2 = find_formula(rest)
            if found2:
                formula, factor, note = found2
        return _with(composition(formula, el), factor, note)
    m = re.search(rf"({NUMBER_RE})\s*(mol(?:es?)?|moles?|g|grams?|kg|kilograms?|mg|milligrams?)\b(?:\s+of)?", text, re.I)
    if m and re.search(r"\bmoles?\b|\bmol\b|\bgrams?\b|\bmass\s+of\b|\bweigh", low):
        to = "grams" if m.group(2).lower().startswith("mol") else "moles"
        return understood(_with(grams_moles(to_float(m.group(1)), m.group(2), formula), factor, note),
                          f"{m.group(1)} {m.group(2)} of {formula} -> {to}")
    if re.search(r"molar\s+mass|molecular\s+(?:weight|mass)|formula\s+(?:weight|mass)|\bmw\b|\bweigh|\bheavy\b|\bmass\b|g/mol", low):
        return _with(molar_mass(formula), factor, note)
    res = molar_mass(formula)
    return _with(res, factor * 0.5, (note + "; " if note else "") + "no quantity named; gave the molar mass")


_ASKED_OF = re.compile(rf"\b(?:how\s+(?:many|much)|what\s+mass\s+of|the\s+mass\s+of)\s+(?:(?:{_MASS_UNIT}|moles?|mol)\s+of\s+)?(?P<s>.+?)\s+"
                       r"(?:is|are|would\s+be|will\s+be|do\s+(?:I|you|we)\s+need|needed|required|used|produced|formed|made|react|reacts)\b", re.I)


def two_substances(text: str) -> SolveResult | None:
    """A decline where the substance asked about is another than the one whose amount is given, and not an element
    of it ("grams of water needed to make 2 moles of H2"): a reaction's stoichiometry, which is not computed."""
    asked = _ASKED_OF.search(text)
    given = _SAMPLE.search(text[asked.end():]) if asked else None
    if not asked or not given:
        return None
    a, b = find_formula(asked["s"]), find_formula(given["rest"])
    if a is None or b is None or a[0] == b[0]:
        return None
    try:
        if set(parse_formula(a[0])) <= set(parse_formula(b[0])) and len(parse_formula(a[0])) == 1:
            return None  # an element of the given compound (element_mass reads it)
    except FormulaError:
        return None
    return fail(f"the amount asked is of {a[0]} but the amount given is of {b[0]}: a reaction's stoichiometry is not computed")


def read_shapes(task: str) -> SolveResult | None:
    """Shapes the reader's schema has no slot for: an equation to balance, an element's mass in a sample, particles;
    two substances in one question are declined."""
    text = clean(task)
    return balance(text) or element_mass(text) or particles(text) or two_substances(text)


# --- MCP server --------------------------------------------------------------------------------------

mcp = make_server(SPECIALIST_ID, "chemistry", "Chemical formulas: molar mass, mass composition, grams-to-moles conversion.")


@mcp.tool(name="solve", structured_output=True)
def solve_tool(task: str, context: str = "") -> SolveResult:
    """Answer a formula question in plain language, e.g. 'molar mass of Ca(OH)2'."""
    return checked(task, solve_task(task, context))


@mcp.tool(name="molar_mass", structured_output=True)
def molar_mass_tool(formula: str) -> SolveResult:
    """Molar mass (g/mol) of a formula; parentheses, brackets and hydrates ('CuSO4·5H2O') allowed."""
    return molar_mass(formula)


@mcp.tool(name="composition", structured_output=True)
def composition_tool(formula: str, element: str = "") -> SolveResult:
    """Mass percentage of each element in `formula`, or of `element` only."""
    return composition(formula, element or None)


def main() -> None:
    serve(mcp)


if __name__ == "__main__":
    main()
