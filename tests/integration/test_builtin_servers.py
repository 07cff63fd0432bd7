"""Start every built-in specialist as a real stdio MCP server and talk to it.

The servers are started concurrently (each import of the MCP SDK costs a few seconds).
"""

import asyncio
import sys

import pytest
from mcp import Client, StdioServerParameters

from micromarket.capability_index.cards import parse_card

pytestmark = pytest.mark.integration

CASES = {
    "math": ("integrate x^2*sin(x) from 0 to pi", 5.8696044),
    "units": ("Convert 26.2 miles to kilometers", 42.1648128),
    "dates": ("Tue 4 Jan 22", "2022-01-04"),
    "stats": ("mean of 1, 2, 3, 4, 100", 22.0),
    "chemistry": ("molar mass of Ca(OH)2", 74.092),
    "finance": ("monthly payment on a $300,000 loan at 6% for 30 years", 1798.6515755),
    "quickcalc": ("multiply 42.1648 by 4", 168.6592),
}
TYPED = {  # one typed tool per server: (tool, arguments, expected value)
    "math": ("integrate", {"expression": "x^2", "variable": "x", "lower": "0", "upper": "3"}, 9.0),
    "units": ("convert", {"value": 26.2, "from_unit": "mi", "to_unit": "km"}, 42.1648128),
    "dates": ("add_duration", {"start": "2024-02-10", "days": 45}, "2024-03-26"),
    "stats": ("correlation", {"x": [1, 2, 3], "y": [2, 4, 7]}, 0.9933992678),
    "chemistry": ("molar_mass", {"formula": "CuSO4·5H2O"}, 249.677),
    "finance": ("loan_payment", {"principal": 300000, "annual_rate_percent": 6, "years": 30}, 1798.6515755),
    "quickcalc": ("calculate", {"expression": "15% of 80"}, 12.0),
}


def _check_value(got, expected):
    if isinstance(expected, float):
        assert got == pytest.approx(expected, rel=1e-6)
    else:
        assert got == expected


async def _exercise(card_id: str) -> None:
    task, expected = CASES[card_id]
    params = StdioServerParameters(command=sys.executable, args=["-m", f"micromarket.specialists.builtin.{card_id}"])
    async with Client(params) as session:

        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert "solve" in tools, card_id
        schema = tools["solve"].output_schema
        assert schema and {"answer", "confidence", "explanation", "value"} <= set(schema["properties"])
        assert set(tools["solve"].input_schema["properties"]) == {"task", "context"}
        assert all(t.output_schema for t in tools.values()), card_id

        result = await session.call_tool("solve", {"task": task, "context": ""})
        assert not result.is_error, card_id
        data = result.structured_content
        assert data["confidence"] >= 0.8 and data["answer"], data
        _check_value(data["value"], expected)

        off = (await session.call_tool("solve", {"task": "what will the weather be in Paris tomorrow"})).structured_content
        assert off["confidence"] == 0, (card_id, off)

        tool, args, want = TYPED[card_id]
        typed = await session.call_tool(tool, args)
        assert not typed.is_error, (card_id, typed)
        _check_value(typed.structured_content["value"], want)

        res = await session.read_resource(f"card://{card_id}")
        card = parse_card(res.contents[0].text, source=f"card://{card_id}")
        assert card.id == card_id and card.capabilities


@pytest.mark.timeout(120)
async def test_every_builtin_server_over_stdio():
    results = await asyncio.gather(*(_exercise(cid) for cid in sorted(CASES)), return_exceptions=True)
    failures = {cid: r for cid, r in zip(sorted(CASES), results) if isinstance(r, BaseException)}
    assert not failures, failures
