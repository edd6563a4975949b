"""Seed 004 (Interrupts guide), "Do not reorder interrupt calls within a node": the good way.

Three interrupts in the same order on every run; each resume answers the next one, and
earlier answers are replayed by position.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    name: str
    age: int
    city: str


def node_a(state: State):
    # Good: interrupt calls happen in the same order every time
    name = interrupt("What's your name?")
    age = interrupt("What's your age?")
    city = interrupt("What's your city?")

    return {
        "name": name,
        "age": age,
        "city": city,
    }


builder = StateGraph(State)
builder.add_node("node_a", node_a)
builder.add_edge(START, "node_a")
builder.add_edge("node_a", END)
graph = builder.compile(checkpointer=InMemorySaver())

config = {"configurable": {"thread_id": "1"}}
print(graph.invoke({"name": ""}, config))
print(graph.invoke(Command(resume="Ada"), config))
print(graph.invoke(Command(resume=36), config))
print(graph.invoke(Command(resume="London"), config))
