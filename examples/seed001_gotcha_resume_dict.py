"""Seed 001 (langgraph-interrupts skill), "Gotchas" 3: resume with Command, not a dict.

A plain dict is new input, not an answer. In LangGraph the unknown key ``resume_data``
is silently dropped and the run restarts; pausegraph refuses it with
InvalidUpdateError (see examples/expected/DIFFERENCES.md). ``Command(resume=...)``
is the correct way in both.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import InvalidUpdateError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    draft: str
    status: str


def review(state):
    print("  review runs")
    decision = interrupt({"question": "Approve this draft?", "draft": state["draft"]})
    return {"status": decision}


graph = (
    StateGraph(State)
    .add_node("review", review)
    .add_edge(START, "review")
    .add_edge("review", END)
    .compile(checkpointer=InMemorySaver())
)
config = {"configurable": {"thread_id": "1"}}
print(graph.invoke({"draft": "content"}, config))

# WRONG - Passing regular dict
try:
    print(graph.invoke({"resume_data": "approve"}, config))  # Restarts!
except InvalidUpdateError as exc:
    print("InvalidUpdateError:", "resume_data" in str(exc))
print("still paused at:", graph.get_state(config).next)

# CORRECT - Use Command
print(graph.invoke(Command(resume="approve"), config))
