"""The marketplace graph: decompose -> discover -> select -> run_specialist (Send, in waves) -> integrate -> update_trust.

`builder` is uncompiled so host apps compile it with their own checkpointer and
store; `graph` is compiled without a checkpointer for LangGraph Studio.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from micromarket.graphs.context import Context
from micromarket.graphs.state import InputState, OutputState, State
from micromarket.nodes.common import MODEL_RETRY
from micromarket.nodes.decompose import decompose
from micromarket.nodes.discover import discover
from micromarket.nodes.integrate import integrate
from micromarket.nodes.run_specialist import run_specialist
from micromarket.nodes.select import dispatch, select
from micromarket.nodes.update_trust import update_trust


async def join(state: State) -> dict:
    """Waits for a wave of Send branches; the router then sends the next wave or integrates."""
    return {}


def make_builder() -> StateGraph:
    """A fresh, uncompiled marketplace graph."""
    b = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
    b.add_node("decompose", decompose, retry_policy=MODEL_RETRY)  # a chat model's transient errors are retried
    b.add_node("discover", discover)
    b.add_node("select", select)
    b.add_node("run_specialist", run_specialist)  # retries and fallbacks happen inside, per candidate
    b.add_node("join", join)
    b.add_node("integrate", integrate, retry_policy=MODEL_RETRY)
    b.add_node("update_trust", update_trust)
    b.add_edge(START, "decompose")
    b.add_edge("decompose", "discover")
    b.add_edge("discover", "select")
    b.add_conditional_edges("select", dispatch, ["run_specialist", "integrate"])
    b.add_edge("run_specialist", "join")
    b.add_conditional_edges("join", dispatch, ["run_specialist", "integrate"])
    b.add_edge("integrate", "update_trust")
    b.add_edge("update_trust", END)
    return b


builder = make_builder()
graph = builder.compile(name="micromarket")
