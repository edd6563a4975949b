"""Seed 002 (Breakpoints concept page), "Resuming" and "Options for resuming execution".

The same paused thread is resumed in each of the seed's ways, each on its own thread:
``Command(resume={"age": "25"})``; updating the state then ``invoke(None)`` (without
the Command primitive); and ``Command(update=...)``. The node prints a line before
its ``interrupt()`` to show that it re-runs from the top. ``Command(goto=...)`` is in
seed002_resume_goto.py.
"""

import operator
from typing import Annotated

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    name: str
    age: str
    log: Annotated[list[str], operator.add]


def ask_age(state):
    print("  ask_age runs from the top")
    if state.get("age"):
        return {"log": ["age known"]}
    answer = interrupt({"question": "How old are you?", "name": state["name"]})
    return {"age": answer["age"], "log": ["age answered"]}


def greet(state):
    return {"log": [f"hello {state['name']}, age {state['age']}"]}


builder = StateGraph(State)
builder.add_node("ask_age", ask_age)
builder.add_node("greet", greet)
builder.add_edge(START, "ask_age")
builder.add_edge("ask_age", "greet")
builder.add_edge("greet", END)
graph = builder.compile(checkpointer=InMemorySaver())

inputs = {"name": "Ada", "log": []}


def pause(thread_id):
    config = {"configurable": {"thread_id": thread_id}}
    print(f"[{thread_id}]", graph.invoke(inputs, config=config))  # pauses at the interrupt
    return config


print("--- Command(resume=...) ---")
config = pause("resume")
# Resume graph execution with the user's input.
print(graph.invoke(Command(resume={"age": "25"}), config))

print("--- Without the Command primitive ---")
config = pause("update")
graph.update_state(config, {"age": "31"})
print(graph.invoke(None, config=config))

print("--- Command(update=...) ---")
config = pause("command-update")
print(graph.invoke(Command(update={"age": "42"}), config))

print("--- Command(update=...) that leaves the question open ---")
config = pause("command-update-name")
print(graph.invoke(Command(update={"name": "Grace"}), config))
print(graph.invoke(Command(resume={"age": "50"}), config))
