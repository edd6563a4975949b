"""Seed 001 (langgraph-interrupts skill), "Gotchas" 1, 2 and 4.

1. Checkpointer required: without one the run cannot be resumed.
2. Thread ID required: a graph with a checkpointer refuses a run without ``thread_id``.
4. Static breakpoints pause for everyone; a dynamic ``interrupt()`` pauses only when needed.
(Gotcha 3 is in seed001_gotcha_resume_dict.py.) Errors are shown by the LangGraph
exception class they are compatible with, since pausegraph raises subclasses.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    data: str
    requires_approval: bool
    approved: bool


def node(state):
    if state["requires_approval"]:  # Conditional
        answer = interrupt({"action": "approve?"})
        return {"approved": answer == "yes"}
    return {"approved": True}


def action(state):
    print("  action runs, approved =", state.get("approved"))
    return {"data": state["data"] + "!"}


builder = StateGraph(State)
builder.add_node("node", node)
builder.add_node("action", action)
builder.add_edge(START, "node")
builder.add_edge("node", "action")
builder.add_edge("action", END)

inputs = {"data": "test", "requires_approval": True}

# ### 1. Checkpointer Required
# WRONG - No checkpointer
graph = builder.compile()  # No persistence!
result = graph.invoke(inputs)  # Interrupt won't work
print("no checkpointer:", result)
try:
    graph.invoke(Command(resume="yes"))
except Exception as exc:
    print("resume without checkpointer -> RuntimeError:", isinstance(exc, RuntimeError))

# CORRECT
checkpointer = InMemorySaver()
graph = builder.compile(checkpointer=checkpointer)

# ### 2. Thread ID Required
# WRONG - No thread_id
try:
    graph.invoke({"data": "test", "requires_approval": True})  # Can't resume!
except Exception as exc:
    print("no thread_id -> ValueError:", isinstance(exc, ValueError))

# CORRECT
config = {"configurable": {"thread_id": "session-1"}}
print(graph.invoke({"data": "test", "requires_approval": True}, config))
print(graph.invoke(Command(resume="yes"), config))

# ### 4. Static Breakpoints Not Recommended for HITL
# ANTI-PATTERN - Static breakpoints for all users
static = builder.compile(checkpointer=InMemorySaver(), interrupt_before=["action"])
for i, needs in enumerate([True, False]):
    config = {"configurable": {"thread_id": f"static-{i}"}}
    result = static.invoke({"data": "x", "requires_approval": needs}, config)
    print(f"static, requires_approval={needs}:", result, static.get_state(config).next)

# BETTER - Dynamic interrupts with logic
for i, needs in enumerate([True, False]):
    config = {"configurable": {"thread_id": f"dynamic-{i}"}}
    result = graph.invoke({"data": "x", "requires_approval": needs}, config)
    print(f"dynamic, requires_approval={needs}:", result, graph.get_state(config).next)
