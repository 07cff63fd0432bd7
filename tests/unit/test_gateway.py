"""The tool-search gateway (search_tools / call_tool) through the API and through the MCP front door (mcp SDK client,
in process): real names and schemas, routed calls with trust, refusals that name the problem."""

from __future__ import annotations

import asyncio

import pytest

from micromarket.errors import InputError, QuarantinedError, SpecialistCallError
from tests.conftest import MILES, inproc_card


def _row(mp, sid):
    return [r for r in mp.trust() if r["specialist_id"] == sid][0]


def test_search_tools_returns_real_tool_names_servers_and_schemas(fake_market):
    found = fake_market.search_tools("how many kilometers is 12 miles", k=2)
    assert found[0]["name"] == "miles.convert_length" and found[0]["tool"] == "solve" and found[0]["server"] == "miles"
    assert found[0]["input_schema"]["properties"]["task"]["type"] == "string"
    assert [f["score"] for f in found] == sorted((f["score"] for f in found), reverse=True)
    assert len(fake_market.search_tools("integrate x^2", k=1)) == 1


def test_call_tool_runs_the_tool_and_a_caller_cannot_move_its_trust(fake_market):
    before = _row(fake_market, "miles")
    out = fake_market.call_tool("miles.convert_length", {"task": "convert 5 miles to km"})
    assert out["tool"] == "solve" and out["server"] == "miles"
    assert out["structured"]["value"] == pytest.approx(8.04672)
    # the caller chose the arguments: neither an answer nor an error of a direct call is evidence about the tool
    with pytest.raises(SpecialistCallError):
        fake_market.call_tool("miles.convert_length", {"wrong": "arguments"})
    after = _row(fake_market, "miles")
    assert (after["n"], after["mean"]) == (before["n"], before["mean"])
    # a bare tool name works when one server offers it; "solve" is offered by two here
    with pytest.raises(InputError, match="miles, calculus|calculus, miles"):
        fake_market.call_tool("solve", {"task": "x"})
    with pytest.raises(InputError, match="no tool named 'nope.tool'"):
        fake_market.call_tool("nope.tool", {})
    with pytest.raises(InputError, match="must be an object"):
        fake_market.call_tool("miles.convert_length", ["5 miles"])  # type: ignore[arg-type]


def test_call_tool_refuses_injection_and_quarantined_servers(fake_market):
    mp = fake_market
    mp.register(inproc_card("injector", "tests.fakes.hostile:injecting_server", [MILES]))
    with pytest.raises(SpecialistCallError, match="instructions instead of data") as ei:
        mp.call_tool("injector.convert_length", {"task": "5 miles"})
    assert ei.value.kind == "injection" and "ignore all previous" not in str(ei.value)
    assert mp.status("injector") == "quarantined"
    assert _row(mp, "injector")["verified_failed"] >= 1
    with pytest.raises(QuarantinedError, match="quarantined"):
        mp.call_tool("injector.convert_length", {"task": "5 miles"})
    assert all(t["server"] != "injector" for t in mp.search_tools("convert miles to kilometers", k=5))


def test_gateway_through_the_front_door_with_the_mcp_client(fake_market):
    from mcp import Client

    from micromarket import server

    async def go():
        async with Client(server.build_server(fake_market)) as c:
            names = {t.name for t in (await c.list_tools()).tools}
            assert {"search_tools", "call_tool", "solve"} <= names
            found = (await c.call_tool("search_tools", {"query": "convert miles to km", "k": 3})).structured_content
            best = found["tools"][0]
            assert best["name"] == "miles.convert_length" and best["input_schema"]["required"] == ["task"]
            res = await c.call_tool("call_tool", {"name": best["name"], "arguments": {"task": "convert 5 miles to km"}})
            assert not res.is_error, res.content
            assert res.structured_content["tool"] == "solve" and res.structured_content["server"] == "miles"
            assert "8.05 km" in res.structured_content["result"]["answer"]
            bad = await c.call_tool("call_tool", {"name": "nope", "arguments": {}})
            assert bad.is_error and "search_tools" in bad.content[0].text

    asyncio.run(go())
