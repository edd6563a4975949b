"""The approval workflow behind ``pausegraph demo``.

A refund request is drafted, a person approves, edits or rejects it, and the
payment is sent exactly once. The thread lives in a SQLite file, so quitting
while the run waits and starting the demo again continues where it stopped.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from pausegraph.constants import END, START
from pausegraph.graph import StateGraph
from pausegraph.graph._compiled import CompiledStateGraph
from pausegraph.types import Command, interrupt, once

__all__ = ["ANSWER_SCHEMA", "RefundState", "build_demo_graph"]


class RefundState(TypedDict, total=False):
    """What the workflow knows: the request, its amount, its outcome and a log."""

    request: str
    amount: float
    status: str
    log: Annotated[list[str], operator.add]


ANSWER_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {
            "type": "object",
            "properties": {"action": {"const": "approve"}},
            "required": ["action"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"action": {"const": "reject"}},
            "required": ["action"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "action": {"const": "edit"},
                "amount": {"type": "number", "minimum": 0.01},
            },
            "required": ["action", "amount"],
            "additionalProperties": False,
        },
    ]
}
"""The answers the review step accepts; anything else is refused before it is stored."""


def draft(state: RefundState) -> dict[str, Any]:
    """Prepare the request a person will review."""
    return {
        "request": "Refund order #4521: the parcel arrived damaged",
        "amount": state.get("amount", 120.0),
        "status": "awaiting review",
        "log": ["drafted the refund request"],
    }


def review(state: RefundState) -> Command[Literal["pay", "review", "reject"]]:
    """Ask a person; route on their answer (an edit comes back here for another look)."""
    answer = interrupt(
        {
            "question": "Approve this refund?",
            "request": state["request"],
            "amount": state["amount"],
            "choices": ["approve", "edit <amount>", "reject"],
        },
        response_schema=ANSWER_SCHEMA,
    )
    if answer["action"] == "approve":
        return Command(goto="pay", update={"log": ["approved by a person"]})
    if answer["action"] == "edit":
        amount = float(answer["amount"])
        return Command(
            goto="review", update={"amount": amount, "log": [f"amount set to {amount:.2f}"]}
        )
    return Command(goto="reject", update={"log": ["rejected by a person"]})


def send_payment(amount: float) -> str:
    """Stand-in for a payment API: the side effect that must never run twice."""
    return f"payment of {amount:.2f} sent"


def pay(state: RefundState) -> dict[str, Any]:
    """Send the money, once, however often this node runs."""
    receipt = once(send_payment, state["amount"])
    return {"status": "paid", "log": [receipt]}


def reject(state: RefundState) -> dict[str, Any]:
    """Close the request without paying."""
    return {"status": "rejected"}


def build_demo_graph(checkpointer: Any) -> CompiledStateGraph:
    """The compiled refund-approval graph, persisted by ``checkpointer``."""
    builder = StateGraph(RefundState)
    builder.add_node("draft", draft)
    builder.add_node("review", review)
    builder.add_node("pay", pay)
    builder.add_node("reject", reject)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "review")
    builder.add_edge("pay", END)
    builder.add_edge("reject", END)
    return builder.compile(checkpointer=checkpointer, name="refund-approval")
