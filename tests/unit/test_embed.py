"""The marketplace inside another agent: LangChain tool, node function, subgraph (fake embeddings, in-process specialists)."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

TASK = "convert 5 miles to km"


async def test_as_tool_content_and_artifact(fake_market):
    tool = fake_market.as_tool()
    assert tool.name == "micromarket_solve" and "task" in tool.args
    msg = await tool.ainvoke({"type": "tool_call", "name": tool.name, "id": "c1", "args": {"task": TASK}})
    assert "8.05 km" in msg.content and "miles" in msg.content and "run_id" in msg.content
    assert msg.artifact["run_id"] and msg.artifact["subtasks"][0]["specialist"] == "miles"


def test_as_tool_sync(fake_market):
    content = fake_market.as_tool().invoke({"task": TASK})
    assert "8.05 km" in content


async def test_as_node_and_subgraph(fake_market):
    class S(TypedDict, total=False):
        question: str
        reply: str
        marketplace: dict

    g = StateGraph(S)
    g.add_node("ask", fake_market.as_node(task_key="question", answer_key="reply"))
    g.add_edge(START, "ask")
    g.add_edge("ask", END)
    out = await g.compile().ainvoke({"question": TASK})
    assert "8.05 km" in out["reply"] and out["marketplace"]["run_id"]

    class P(TypedDict, total=False):
        task: str
        answer: str

    p = StateGraph(P)
    p.add_node("marketplace", fake_market.graph)
    p.add_edge(START, "marketplace")
    p.add_edge("marketplace", END)
    out = await p.compile().ainvoke({"task": TASK}, context=fake_market.context())
    assert "8.05 km" in out["answer"]
