"""Seed 002 (Breakpoints concept page), "Static Breakpoints": compile time and run time.

``interrupt_before=["node_a"]`` and ``interrupt_after=["node_b", "node_c"]``, set at
compile time, then passed to ``invoke`` at run time, followed by the seed's
update-then-resume sequence. The seed calls ``graph.update_state(update,
config=thread_config)``, which passes the config twice; the config goes first here.
"""

import operator
from typing import Annotated

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph


class State(TypedDict):
    topic: str
    log: Annotated[list[str], operator.add]


def node_a(state):
    print("---node_a---")
    return {"log": ["node_a"]}


def node_b(state):
    print("---node_b---")
    return {"log": ["node_b"]}


def node_c(state):
    print("---node_c---")
    return {"log": ["node_c"]}


graph_builder = StateGraph(State)
graph_builder.add_node("node_a", node_a)
graph_builder.add_node("node_b", node_b)
graph_builder.add_node("node_c", node_c)
graph_builder.add_edge(START, "node_a")
graph_builder.add_edge("node_a", "node_b")
graph_builder.add_edge("node_b", "node_c")
graph_builder.add_edge("node_c", END)

inputs = {"topic": "breakpoints", "log": []}
update = {"log": ["human"]}


def show(graph, config):
    snapshot = graph.get_state(config)
    print("   state:", snapshot.values, "next:", snapshot.next)


print("=== Compile time ===")
graph = graph_builder.compile(
    interrupt_before=["node_a"],
    interrupt_after=["node_b", "node_c"],
    checkpointer=InMemorySaver(),  # Specify a checkpointer
)

thread_config = {"configurable": {"thread_id": "some_thread"}}

# Run the graph until the breakpoint
print(graph.invoke(inputs, config=thread_config))
show(graph, thread_config)

# Optionally update the graph state based on user input
graph.update_state(thread_config, update)
show(graph, thread_config)

# Resume the graph (and keep resuming until it is done)
for _ in range(3):
    print(graph.invoke(None, config=thread_config))
    show(graph, thread_config)

print("=== Run time ===")
graph = graph_builder.compile(checkpointer=InMemorySaver())

print(
    graph.invoke(
        inputs,
        config={"configurable": {"thread_id": "some_thread"}},
        interrupt_before=["node_a"],
        interrupt_after=["node_b", "node_c"],
    )
)

thread_config = {"configurable": {"thread_id": "some_thread"}}
show(graph, thread_config)

# Run the graph until the breakpoint (no breakpoints are passed this time)
print(graph.invoke(inputs, config=thread_config))
show(graph, thread_config)

# Optionally update the graph state based on user input
graph.update_state(thread_config, update)
show(graph, thread_config)

# Resume the graph
print(graph.invoke(None, config=thread_config))
show(graph, thread_config)
