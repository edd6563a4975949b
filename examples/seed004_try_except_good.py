"""Seed 004 (Interrupts guide), "Do not wrap interrupt calls in try/except": the good ways.

"Separating logic" interrupts first and handles errors afterwards; "Explicit exception
handling" catches only a specific exception type. ``fetch_data`` and
``NetworkException`` are left undefined by the seed; here ``fetch_data`` always fails.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    name: str


class NetworkException(Exception):
    pass


def fetch_data():
    raise NetworkException("network is unreachable")


def node_a_separated(state: State):
    # Good: interrupting first, then handling
    # error conditions separately
    interrupt("What's your name?")
    try:
        fetch_data()  # This can fail
    except Exception as e:
        print(e)
    return state


def node_a_explicit(state: State):
    # Good: catching specific exception types
    # will not catch the interrupt exception
    try:
        name = interrupt("What's your name?")
        print("name:", name)
        fetch_data()  # This can fail
    except NetworkException as e:
        print(e)
    return state


for label, node in [("separating logic", node_a_separated), ("explicit", node_a_explicit)]:
    print(f"--- {label} ---")
    builder = StateGraph(State)
    builder.add_node("node_a", node)
    builder.add_edge(START, "node_a")
    builder.add_edge("node_a", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "1"}}
    print(graph.invoke({"name": "?"}, config))
    print(graph.invoke(Command(resume="Ada"), config))
