"""Typed tools: the run's chat model fills their arguments, asynchronously, inside run_specialist."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.runnables import RunnableLambda
from langgraph.runtime import Runtime
from mcp.server.mcpserver import MCPServer

from micromarket.errors import MicromarketError
from micromarket.graphs.context import Context
from micromarket.graphs.state import WorkerState
from micromarket.nodes.run_specialist import run_specialist
from micromarket.nodes.tool_arguments import fill_arguments

ADD_DAYS_SCHEMA = {
    "type": "object",
    "properties": {"date": {"type": "string", "description": "ISO date"}, "days": {"type": "integer"}},
    "required": ["date", "days"],
}


class FillerModel(FakeListChatModel):
    """Async structured output for dict (tool) schemas returns a fixed object. Any sync call fails the test."""

    fill: dict = {}
    seen: list = []

    def with_structured_output(self, schema, **kw):
        async def run(prompt):
            self.seen.append((schema, str(prompt)))
            return dict(self.fill)

        def blocking(_):
            raise AssertionError("sync structured output on the event loop")

        return RunnableLambda(blocking, afunc=run)

    def invoke(self, *a, **kw):
        raise AssertionError("sync invoke on the event loop")


class AsyncOnlyListModel(FakeListChatModel):
    """No structured output (like a plain completion model); replies from the list, async only."""

    def invoke(self, *a, **kw):
        raise AssertionError("sync invoke on the event loop")


async def test_structured_output_is_conformed_to_the_schema():
    m = FillerModel(responses=["unused"], fill={"date": "2024-02-27", "days": "3", "invented": 1})
    args = await fill_arguments(m, ADD_DAYS_SCHEMA, "3 days after 2024-02-27", tool_name="add_days")
    assert args == {"date": "2024-02-27", "days": 3}  # invented parameter dropped, "3" coerced
    schema, prompt = m.seen[-1]
    assert schema["title"] == "add_days" and schema["required"] == ["date", "days"] and "2024-02-27" in prompt


@pytest.mark.parametrize("reply", ['{"date": "2024-01-01", "days": 10}', 'Here you go:\n```json\n{"date": "2024-01-01", "days": 10}\n```'])
async def test_a_model_without_structured_output_replies_json(reply):
    m = AsyncOnlyListModel(responses=[reply])
    assert await fill_arguments(m, ADD_DAYS_SCHEMA, "10 days after new year 2024") == {"date": "2024-01-01", "days": 10}


async def test_a_reply_that_is_not_json_is_a_clear_error():
    with pytest.raises(MicromarketError, match="not a JSON object"):
        await fill_arguments(AsyncOnlyListModel(responses=["ten days after new year"]), ADD_DAYS_SCHEMA, "10 days after new year", tool_name="add_days")


async def test_a_missing_required_argument_is_an_error():
    m = FillerModel(responses=["unused"], fill={"date": "2024-02-27"})
    with pytest.raises(MicromarketError, match="days"):
        await fill_arguments(m, ADD_DAYS_SCHEMA, "some days after 2024-02-27", tool_name="add_days")


# ---------------------------------------------------------------- inside run_specialist


def typed_server() -> MCPServer:
    mcp = MCPServer("calendar", log_level="WARNING")

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
                           tools=[tool], transport=Transport(kind="inprocess", target=f"{__name__}:typed_server"))


def _branch(card) -> WorkerState:
    cap = card.capabilities[0]
    cand = {"key": f"{card.id}.{cap.name}", "specialist_id": card.id, "capability": cap.name}
    return WorkerState(run_id="r1", subtask={"id": "s1", "text": "Add 3 days to the date 2024-02-27", "depends_on": []},
                       candidates=[cand], inputs={}, context="")


async def test_run_specialist_fills_typed_arguments_with_the_runs_model(fake_market, monkeypatch):
    card = fake_market.register(_typed_card())
    filler = FillerModel(responses=["unused"], fill={"date": "2024-02-27", "days": 3})
    monkeypatch.setattr(type(fake_market.services), "chat_model", lambda self, spec: filler if spec == "fake:filler" else None)
    home = str(fake_market.settings.home)

    # no chat model: a clear 'unfilled' failure of the attempt, not a crash, and not the specialist's fault
    (r,) = (await run_specialist(_branch(card), Runtime(context=Context(home=home))))["results"]
    assert r["status"] == "failed" and [a["outcome"] for a in r["attempts"]] == ["unfilled"]
    assert "configure a chat model" in r["attempts"][0]["error"]
    from micromarket.capability_index.outcomes import EVIDENCE_FOR

    assert "unfilled" not in EVIDENCE_FOR  # the orchestrator's own failure records no evidence against anyone

    (r,) = (await run_specialist(_branch(card), Runtime(context=Context(home=home, chat_model="fake:filler"))))["results"]
    assert r["status"] == "ok" and r["specialist"] == "calendar" and r["answer"] == "2024-03-01", r
    assert r["provenance"]["specialist"] == "calendar"


async def test_typed_tool_through_the_whole_graph(fake_market, monkeypatch):
    fake_market.register(_typed_card())
    filler = FillerModel(responses=["unused"], fill={"date": "2024-02-27", "days": 3})
    monkeypatch.setattr(type(fake_market.services), "chat_model", lambda self, spec: filler if spec == "fake:filler" else None)
    out = await fake_market.asolve("Add 3 days to the date 2024-02-27", chat_model="fake:filler")
    (sub,) = out["subtasks"]
    assert sub["status"] == "ok" and sub["answer"] == "2024-03-01", sub
