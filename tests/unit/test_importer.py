"""mcpServers config parsing, the model-filled arguments of typed tools, and their use inside a run."""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.runnables import RunnableLambda
from mcp.server.fastmcp import FastMCP

from micromarket.errors import InputError, MicromarketError
from micromarket.importer import fill_arguments, load_config, specialist_id_for, transport_for

ADD_DAYS_SCHEMA = {
    "type": "object",
    "properties": {"date": {"type": "string", "description": "ISO date"}, "days": {"type": "integer"}},
    "required": ["date", "days"],
}


class FillerModel(FakeListChatModel):
    """Structured output for dict (tool) schemas returns a fixed object; everything else fails (the run falls back)."""

    fill: dict = {}
    seen: list = []

    def with_structured_output(self, schema, **kw):
        if isinstance(schema, dict):
            def run(prompt):
                self.seen.append((schema, str(prompt)))
                return dict(self.fill)

            return RunnableLambda(run)

        def fail(_):
            raise ValueError("only tool schemas in this fake")

        return RunnableLambda(fail)

    def invoke(self, *a, **kw):
        raise RuntimeError("no prose from the fake")

    async def ainvoke(self, *a, **kw):
        raise RuntimeError("no prose from the fake")


# ---------------------------------------------------------------- config


def test_transport_for_stdio_and_http():
    t = transport_for("files", {"command": "npx", "args": ["-y", "server-x", 3], "env": {"TOKEN": "abc"}})
    assert t.kind == "stdio" and t.command == ["npx", "-y", "server-x", "3"] and t.env == {"TOKEN": "abc"}
    h = transport_for("remote", {"url": "http://127.0.0.1:9/mcp"})
    assert h.kind == "http" and h.url.endswith("/mcp")


@pytest.mark.parametrize(
    "spec, msg",
    [
        ({}, "needs 'command'"),
        ("npx", "expected an object"),
        ({"url": "ftp://x"}, "must start with http"),
        ({"url": "http://x/sse", "type": "sse"}, "SSE"),
        ({"command": "x", "args": "nope"}, "args"),
        ({"command": "x", "env": ["A=1"]}, "env"),
    ],
)
def test_transport_for_names_the_problem(spec, msg):
    with pytest.raises(InputError, match=msg):
        transport_for("bad", spec)


def test_load_config(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"mcpServers": {"a": {"command": "x"}}}))
    assert load_config(p) == {"a": {"command": "x"}}
    p.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_config(p)
    p.write_text(json.dumps({"servers": {}}))
    with pytest.raises(InputError, match="mcpServers"):
        load_config(p)
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "missing.json")


def test_specialist_ids_are_valid():
    assert specialist_id_for("My Server (prod)") == "my-server-prod"
    assert specialist_id_for("???") == "server"


# ---------------------------------------------------------------- fill_arguments


def test_fill_arguments_structured_output_and_coercion():
    m = FillerModel(responses=["unused"], fill={"date": "2024-02-27", "days": "3", "invented": 1})
    args = fill_arguments(m, ADD_DAYS_SCHEMA, "3 days after 2024-02-27", tool_name="add_days")
    assert args == {"date": "2024-02-27", "days": 3}
    schema, prompt = m.seen[-1]
    assert schema["title"] == "add_days" and schema["required"] == ["date", "days"] and "2024-02-27" in prompt


def test_fill_arguments_json_fallback_without_structured_output():
    m = FakeListChatModel(responses=['Sure: {"date": "2024-01-01", "days": 10} done'])
    assert fill_arguments(m, ADD_DAYS_SCHEMA, "10 days after new year 2024") == {"date": "2024-01-01", "days": 10}


def test_fill_arguments_missing_required_is_an_error():
    m = FillerModel(responses=["unused"], fill={"date": "2024-02-27"})
    with pytest.raises(MicromarketError, match="days"):
        fill_arguments(m, ADD_DAYS_SCHEMA, "some days after 2024-02-27", tool_name="add_days")


# ---------------------------------------------------------------- inside a run


def typed_server() -> FastMCP:
    mcp = FastMCP("calendar", log_level="WARNING")

    @mcp.tool()
    def add_days(date: str, days: int) -> str:
        """Add a number of days to a calendar date (ISO yyyy-mm-dd) and return the new date."""
        import datetime as dt

        return (dt.date.fromisoformat(date) + dt.timedelta(days=days)).isoformat()

    return mcp


def _typed_card():
    from micromarket.capability_index.cards import Transport, card_from_tools

    tool = {"name": "add_days", "description": "Add a number of days to a calendar date (ISO yyyy-mm-dd) and return the new date",
            "inputSchema": ADD_DAYS_SCHEMA}
    return card_from_tools(specialist_id="calendar", server_name="calendar", server_description="calendar arithmetic",
                           tools=[tool], transport=Transport(kind="inprocess", target="tests.unit.test_importer:typed_server"))


async def test_typed_tool_needs_a_model_and_gets_its_arguments_from_it(fake_market):
    from micromarket import llm

    fake_market.register(_typed_card())
    task = "Add 3 days to the date 2024-02-27"
    out = await fake_market.asolve(task)  # no chat model: a clear 'schema' failure, not a crash
    (sub,) = out["subtasks"]
    assert sub["status"] == "failed" and any(a["outcome"] == "schema" for a in sub["attempts"])

    llm._cache["fake:filler"] = FillerModel(responses=["unused"], fill={"date": "2024-02-27", "days": 3})
    try:
        out = await fake_market.asolve(task, chat_model="fake:filler")
    finally:
        llm._cache.pop("fake:filler", None)
    (sub,) = out["subtasks"]
    assert sub["status"] == "ok" and sub["specialist"] == "calendar", sub
    assert sub["answer"] == "2024-03-01"
