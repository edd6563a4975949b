"""Seed 002 (Breakpoints concept page), "Options for resuming execution" 3: ``Command(goto=...)``.

"Navigate to another node": a thread paused in ``ask_age`` is sent to ``skip``, a node
that only a ``Command(goto=...)`` from the caller leads to (LangGraph accepts such a
node). ``skip`` runs, and ``ask_age``, still unanswered, runs again and pauses again.
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
    answer = interrupt({"question": "How old are you?", "name": state["name"]})
    return {"age": answer["age"], "log": ["age answered"]}


def greet(state):
    return {"log": [f"hello {state['name']}, age {state['age']}"]}


def skip(state):
    # No print here: skip runs in parallel with ask_age, so the order of their
    # prints would vary from run to run. Its "skipped" log entry shows it ran.
    return {"log": ["skipped"]}


builder = StateGraph(State)
builder.add_node("ask_age", ask_age)
builder.add_node("greet", greet)
builder.add_node("skip", skip)
builder.add_edge(START, "ask_age")
builder.add_edge("ask_age", "greet")
builder.add_edge("greet", END)
builder.add_edge("skip", END)
graph = builder.compile(checkpointer=InMemorySaver())

config = {"configurable": {"thread_id": "goto"}}
print(graph.invoke({"name": "Ada", "log": []}, config=config))
print(graph.invoke(Command(goto="skip"), config))
snapshot = graph.get_state(config)
print("next:", snapshot.next, "values:", snapshot.values)
print(graph.invoke(Command(resume={"age": "25"}), config))
