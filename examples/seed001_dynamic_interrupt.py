"""Seed 001 (langgraph-interrupts skill), "Dynamic Interrupt": a review node that pauses.

The seed leaves ``State`` undefined; it is a TypedDict with the keys the example uses.
A second thread takes the "reject" branch of the same node.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    needs_review: bool
    draft: str
    status: str


def review_node(state):
    # Conditionally pause for review
    if state["needs_review"]:
        # Pause and surface data to user
        user_response = interrupt(
            {
                "action": "review",
                "data": state["draft"],
                "question": "Approve this draft?",
            }
        )

        # user_response comes from Command(resume=...)
        if user_response == "reject":
            return {"status": "rejected"}

    return {"status": "approved"}


checkpointer = InMemorySaver()

graph = (
    StateGraph(State)
    .add_node("review", review_node)
    .add_edge(START, "review")
    .add_edge("review", END)
    .compile(checkpointer=checkpointer)  # Required!
)

# Initial invocation - will pause
config = {"configurable": {"thread_id": "1"}}
result = graph.invoke({"needs_review": True, "draft": "content"}, config)

# Check for interrupt
if "__interrupt__" in result:
    print(result["__interrupt__"])  # See interrupt payload

# Resume with user decision
result = graph.invoke(
    Command(resume="approve"),  # User's response
    config,
)
print(result)

# The other branch: the reviewer rejects the draft
config = {"configurable": {"thread_id": "2"}}
result = graph.invoke({"needs_review": True, "draft": "content"}, config)
print(result["__interrupt__"])
print(graph.invoke(Command(resume="reject"), config))

# No review needed: the node never pauses
config = {"configurable": {"thread_id": "3"}}
print(graph.invoke({"needs_review": False, "draft": "content"}, config))
