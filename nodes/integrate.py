"""integrate: combine the answers, in plan order, each with its provenance.

With a chat model the answer is prose, accepted only when it keeps every specialist's value
(nodes/values.py); otherwise the deterministic list. Transient model errors propagate to the
node's RetryPolicy; any other model failure falls back to the deterministic list with a warning.
"""

from __future__ import annotations

import json
import logging

from langgraph.runtime import Runtime

from micromarket.capability_index.output_guard import as_data
from micromarket.graphs.context import Context
from micromarket.graphs.state import State
from micromarket.nodes import prompts
from micromarket.nodes.common import chat_model_of, is_transient, results_of_run
from micromarket.nodes.values import value_check

log = logging.getLogger("micromarket.integrate")


def provenance_line(r: dict) -> str:
    if r["status"] == "ok":
        conf = f", confidence {r['confidence']:.2f}" if r.get("confidence") is not None else ""
        line = f"- {r['text']}: {r['answer']}  [{r['specialist']}.{r['capability']} v{r.get('version') or '?'}{conf}]"
        if r.get("explanation"):
            line += f"\n  evidence: {r['explanation'][:300]}"
        cons = r.get("consensus")
        alts = r.get("alternatives") or []
        if cons and cons.get("disagreement"):
            others = "; ".join(f"{a['specialist']}: {a['answer']}" + (f" (confidence {a['confidence']:.2f})" if a.get("confidence") is not None else "")
                               for a in alts)
            sup = cons.get("support")
            line += f"\n  ! specialists disagree: {r['specialist']} says {r['answer']}; {others}"
            if sup is not None:
                line += f" (the answer shown has {100 * sup:.0f}% of the weight)"
        elif cons and cons.get("agreed"):
            line += f"\n  agreed by {1 + len(alts)} specialists (" + ", ".join([str(r["specialist"])] + [a["specialist"] for a in alts]) + ")"
        return line
    label = "unsupported" if r["status"] == "unsupported" else "failed"
    return f"- {r['text']}: {label}: {r.get('reason') or 'no answer'}. Nothing was made up for it."


def deterministic_answer(results: list[dict]) -> str:
    if not results:
        return "The task is empty: there is nothing to solve."
    return "\n".join(provenance_line(r) for r in results)


async def write_prose(model, task: str, results: list[dict]) -> str:
    data = [
        {"subtask": r["text"], "status": r["status"], "specialist": r.get("specialist"), "reason": r.get("reason"),
         "answer": as_data(r["answer"], r.get("specialist") or "none")}  # specialist text only ever as fenced data
        for r in results
    ]
    fenced = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    msg = await model.ainvoke(prompts.INTEGRATE.format(task=task, results=fenced))
    content = getattr(msg, "content", msg)
    if isinstance(content, list):  # content blocks
        content = "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content).strip()


async def integrate_with_model(model, task: str, results: list[dict]) -> tuple[str | None, str | None]:
    """(prose, None) when the model's prose keeps every value, else (None, why). Transient errors propagate."""
    try:
        prose = await write_prose(model, task, results)
    except Exception as e:  # noqa: BLE001 - transient errors are retried by the graph; the rest fall back
        if is_transient(e):
            raise
        return None, f"the chat model failed to integrate ({type(e).__name__}: {str(e)[:200]}); used the deterministic integration"
    ok, missing, extra = value_check(prose, results, task) if prose else (False, [], [])
    if ok:
        return prose, None
    why = "; ".join(p for p in (f"dropped or changed {', '.join(missing[:5])}" if missing else "",
                                 f"added {', '.join(extra[:5])}" if extra else "") if p) or "empty summary"
    return None, f"the chat model's summary did not preserve the specialists' values ({why}); used the deterministic integration"


async def integrate(state: State, runtime: Runtime[Context]) -> dict:
    order = {s["id"]: i for i, s in enumerate(state.get("plan") or [])}
    results = sorted(results_of_run(state), key=lambda r: order.get(r["subtask_id"], 1 << 30))
    answer = deterministic_answer(results)
    integration = "deterministic"
    warnings: list[str] = []
    if any(r["status"] == "ok" for r in results):
        model = await chat_model_of(runtime)
        if model is not None:
            prose, why = await integrate_with_model(model, state.get("task", ""), results)
            if prose is not None:
                answer, integration = prose + "\n\nSources:\n" + answer, "model"
            else:
                warnings.append(why)
                log.warning(why)
    unsupported = [{"subtask_id": r["subtask_id"], "text": r["text"], "reason": r.get("reason", "")} for r in results if r["status"] == "unsupported"]
    return {"answer": answer, "subtasks": results, "unsupported": unsupported, "warnings": warnings, "integration": integration}
