"""Seed 004 (Interrupts guide), "Approve or reject": full example, both decisions.

``approval_node`` pauses, then routes with ``Command(goto="proceed" | "cancel")``
depending on the resume value. Thread approval-123 approves (as in the seed); a
second thread rejects.
"""

from typing import Literal

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import MemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class ApprovalState(TypedDict):
    action_details: str
    status: Literal["pending", "approved", "rejected"] | None


def approval_node(state: ApprovalState) -> Command[Literal["proceed", "cancel"]]:
    # Expose details so the caller can render them in a UI
    decision = interrupt(
        {
            "question": "Approve this action?",
            "details": state["action_details"],
        }
    )

    # Route to the appropriate node after resume
    return Command(goto="proceed" if decision else "cancel")


def proceed_node(state: ApprovalState):
    return {"status": "approved"}


def cancel_node(state: ApprovalState):
    return {"status": "rejected"}


builder = StateGraph(ApprovalState)
builder.add_node("approval", approval_node)
builder.add_node("proceed", proceed_node)
builder.add_node("cancel", cancel_node)
builder.add_edge(START, "approval")
builder.add_edge("proceed", END)
builder.add_edge("cancel", END)

# Use a more durable checkpointer in production
checkpointer = MemorySaver()
graph = builder.compile(checkpointer=checkpointer)

config = {"configurable": {"thread_id": "approval-123"}}

initial = graph.invoke(
    {"action_details": "Transfer $500", "status": "pending"},
    config=config,
)
print(initial["__interrupt__"])
# -> [Interrupt(value={'question': ..., 'details': ...})]

# Resume with the decision; True routes to proceed, False to cancel
resumed = graph.invoke(Command(resume=True), config=config)
print(resumed["status"])
# -> "approved"

# To reject
config = {"configurable": {"thread_id": "approval-456"}}
initial = graph.invoke({"action_details": "Transfer $9000", "status": "pending"}, config=config)
print(initial["__interrupt__"])
resumed = graph.invoke(Command(resume=False), config=config)
print(resumed["status"])
print(resumed)
