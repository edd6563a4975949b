"""Seed 004 (Interrupts guide), "Pause using interrupt" and "Resuming interrupts".

``approval_node`` pauses with a question; the caller reads ``result["__interrupt__"]``
and resumes with ``Command(resume=True)`` on the same thread. The seed leaves
``State`` and the graph undefined; here the graph is START -> approval -> END.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    input: str
    approved: bool


def approval_node(state: State):
    # Pause and ask for approval
    approved = interrupt("Do you approve this action?")

    # When you resume, Command(resume=...) returns that value here
    return {"approved": approved}


builder = StateGraph(State)
builder.add_node("approval", approval_node)
builder.add_edge(START, "approval")
builder.add_edge("approval", END)
graph = builder.compile(checkpointer=InMemorySaver())

# Initial run - hits the interrupt and pauses
# thread_id is the persistent pointer (stores a stable ID in production)
config = {"configurable": {"thread_id": "thread-1"}}
result = graph.invoke({"input": "data"}, config=config)

# Check what was interrupted
# __interrupt__ contains the payload that was passed to interrupt()
print(result["__interrupt__"])
# > [Interrupt(value='Do you approve this action?')]

# Resume with the human's response
# The resume payload becomes the return value of interrupt() inside the node
print(graph.invoke(Command(resume=True), config=config))

# Using another thread id starts a brand-new thread with an empty state
other = {"configurable": {"thread_id": "thread-2"}}
print(graph.get_state(other).values, graph.get_state(other).next)
