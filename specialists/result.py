"""The structured result every specialist's ``solve`` tool returns."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SolveResult(BaseModel):
    """Answer of a specialist, published as the tool's outputSchema."""

    answer: str = Field(description="The answer in words, with units where they apply")
    confidence: float = Field(ge=0.0, le=1.0, description="How sure the specialist is; low when the request was only partly understood")
    explanation: str = Field(default="", description="How the answer was obtained")
    value: float | str | None = Field(default=None, description="Machine-readable main value (number or normalised string), for consensus checks")


def unparsed(task: str, why: str) -> SolveResult:
    """A low-confidence result for a request the specialist could not parse."""
    return SolveResult(answer="", confidence=0.0, explanation=f"could not parse the request: {why}")
