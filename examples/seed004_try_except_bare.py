"""Seed 004 (Interrupts guide), "Do not wrap interrupt calls in try/except": the bad way.

DELIBERATE DIFFERENCE (see examples/expected/DIFFERENCES.md): in LangGraph the
interrupt signal is an ``Exception``, so the bare ``except Exception`` swallows it, the
node prints it and returns, and the graph never pauses. pausegraph's interrupt signal
derives from ``BaseException``, so the same node pauses and resumes normally.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    name: str


def node_a(state: State):
    # Bad (in LangGraph): wrapping interrupt in bare try/except
    # will catch the interrupt exception
    try:
        interrupt("What's your name?")
    except Exception as e:
        print(e)

    return state


builder = StateGraph(State)
builder.add_node("node_a", node_a)
builder.add_edge(START, "node_a")
builder.add_edge("node_a", END)
graph = builder.compile(checkpointer=InMemorySaver())

config = {"configurable": {"thread_id": "1"}}
print(graph.invoke({"name": "?"}, config))
print("next:", graph.get_state(config).next)
print(graph.invoke(Command(resume="Ada"), config))
print("next:", graph.get_state(config).next)
