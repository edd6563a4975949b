"""Seed 004 (Interrupts guide), "Using with subgraphs called as functions".

A parent node calls ``subgraph.invoke(...)``; a node of the subgraph interrupts. On
resume both the parent node and the subgraph node re-run from their beginning, which
the ``some_code()`` / ``some_other_code()`` prints show. The subgraph is compiled
without a checkpointer and uses the parent's.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    name: str
    greeting: str


def some_code():
    print("  some_code() runs in the parent node")


def some_other_code():
    print("  some_other_code() runs in the subgraph node")


def node_in_subgraph(state: State):
    some_other_code()  # <-- This will also re-execute when resumed
    result = interrupt("What's your name?")
    return {"name": result}


subgraph = (
    StateGraph(State)
    .add_node("node_in_subgraph", node_in_subgraph)
    .add_edge(START, "node_in_subgraph")
    .add_edge("node_in_subgraph", END)
    .compile()
)


def node_in_parent_graph(state: State):
    some_code()  # <-- This will re-execute when resumed
    # Invoke a subgraph as a function.
    # The subgraph contains an `interrupt` call.
    some_input = {"name": state["name"]}
    subgraph_result = subgraph.invoke(some_input)
    return {"name": subgraph_result["name"], "greeting": f"Hello, {subgraph_result['name']}!"}


graph = (
    StateGraph(State)
    .add_node("node_in_parent_graph", node_in_parent_graph)
    .add_edge(START, "node_in_parent_graph")
    .add_edge("node_in_parent_graph", END)
    .compile(checkpointer=InMemorySaver())
)

config = {"configurable": {"thread_id": "1"}}
print("first run")
result = graph.invoke({"name": "?"}, config)
print(result["__interrupt__"])
print("next:", graph.get_state(config).next)
print("resume")
print(graph.invoke(Command(resume="Ada"), config))
