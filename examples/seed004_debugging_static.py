"""Seed 004 (Interrupts guide), "Debugging with interrupts": static breakpoints.

``interrupt_before=["node_a"]`` and ``interrupt_after=["node_b", "node_c"]`` at compile
time (each ``invoke(None)`` runs to the next breakpoint), then the same lists passed
to ``invoke`` at run time (they apply to that call only, so one resume finishes).
"""

import operator
from typing import Annotated

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph


class State(TypedDict):
    steps: Annotated[list[str], operator.add]


def make_node(name):
    def node(state: State):
        print(f"  running {name}")
        return {"steps": [name]}

    return node


builder = StateGraph(State)
for name in ["node_a", "node_b", "node_c"]:
    builder.add_node(name, make_node(name))
builder.add_edge(START, "node_a")
builder.add_edge("node_a", "node_b")
builder.add_edge("node_b", "node_c")
builder.add_edge("node_c", END)

inputs = {"steps": []}

print("--- at compile time ---")
checkpointer = InMemorySaver()
graph = builder.compile(
    interrupt_before=["node_a"],
    interrupt_after=["node_b", "node_c"],
    checkpointer=checkpointer,
)

# Pass a thread ID to the graph
config = {"configurable": {"thread_id": "some_thread"}}

# Run the graph until the breakpoint
print(graph.invoke(inputs, config=config), graph.get_state(config).next)

# Resume the graph (until the next breakpoint, and again)
for _ in range(3):
    print(graph.invoke(None, config=config), graph.get_state(config).next)

print("--- at run time ---")
graph = builder.compile(checkpointer=InMemorySaver())
config = {"configurable": {"thread_id": "some_thread"}}

# Run the graph until the breakpoint
print(
    graph.invoke(
        inputs,
        interrupt_before=["node_a"],
        interrupt_after=["node_b", "node_c"],
        config=config,
    ),
    graph.get_state(config).next,
)

# Resume the graph
print(graph.invoke(None, config=config), graph.get_state(config).next)
