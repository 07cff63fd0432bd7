"""Learned reading models: a frozen MiniLM encoder with small trained heads per built-in domain.

A reader maps a request in everyday words to tagged spans (quantity, source unit, dates, principal, rate ...)
and an operation; each built-in's normaliser turns those spans into its engine's structured call. The heads
are trained from the generators in this package (`python -m micromarket.specialists.reading.train`) and ship
as small ``weights/<domain>.npz`` files. The rules in each built-in stay as the fallback reading.
"""

from micromarket.specialists.reading.model import Reading, available, read

__all__ = ["Reading", "available", "read"]
