"""The registry of reading domains (one generator each)."""

from __future__ import annotations

from micromarket.specialists.reading.generate import Domain


def domains() -> dict[str, Domain]:
    from micromarket.specialists.reading import domains_units

    found = [domains_units.DOMAIN]
    for mod in ("domains_dates", "domains_finance", "domains_chemistry", "domains_stats", "domains_math", "domains_quickcalc",
                "domains_planner"):
        try:
            m = __import__(f"micromarket.specialists.reading.{mod}", fromlist=["DOMAIN"])
        except ModuleNotFoundError:
            continue
        found.append(m.DOMAIN)
    return {d.name: d for d in found}
