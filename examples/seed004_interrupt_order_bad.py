"""Seed 004 (Interrupts guide), "Do not reorder interrupt calls": skipping and looping.

The state the condition reads is changed between runs with
``Command(resume=..., update=...)``, so the second run calls the interrupts in a
different order than the first. DELIBERATE DIFFERENCE (see
examples/expected/DIFFERENCES.md): LangGraph matches answers by position only and
hands an answer to whichever interrupt() comes at its position (the age question
gets the city, item c gets item a's answer); pausegraph refuses with
InterruptMismatchError.
"""

import linecache
import os
import re

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import InterruptMismatchError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    needs_age: bool
    name: str
    city: str
    dynamic_list: list[str]
    results: list[str]


def skipping_node(state: State):
    # Bad: conditionally skipping interrupts changes the order
    name = interrupt("What's your name?")

    # On first run, this might skip the interrupt
    # On resume, it might not skip it - causing index mismatch
    if state.get("needs_age"):
        age = interrupt("What's your age?")
        print("  age =", age)

    city = interrupt("What's your city?")

    return {"name": name, "city": city}


def looping_node(state: State):
    # Bad: looping based on non-deterministic data
    # The number of interrupts changes between executions
    results = []
    for item in state.get("dynamic_list", []):  # List might change between runs
        result = interrupt(f"Approve {item}?")
        print(f"  {item} -> {result}")
        results.append(result)

    return {"results": results}


def source_line(site: str) -> str:
    """`file:line (function)` -> the text of that line."""
    match = re.fullmatch(r"(.*):(\d+) \((.*)\)", site)
    if not match:
        return site
    path, lineno, func = match.groups()
    # Sites name the last two parts of the path (the same on every machine).
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.path.basename(path))
    return f"{func}: {linecache.getline(here, int(lineno)).strip()}"


def report(exc: InterruptMismatchError) -> None:
    print(f"{type(exc).__name__}: a stored answer would reach a different interrupt()")
    print("  answered at:", source_line(exc.answered_at))
    print("  called at:  ", source_line(exc.called_at))


def build(node):
    builder = StateGraph(State)
    builder.add_node("node_a", node)
    builder.add_edge(START, "node_a")
    builder.add_edge("node_a", END)
    return builder.compile(checkpointer=InMemorySaver())


print("--- skipping: answered on the first run, skipped on the next ---")
graph = build(skipping_node)
config = {"configurable": {"thread_id": "skip-1"}}
print(graph.invoke({"needs_age": True}, config)["__interrupt__"][0].value)
print(graph.invoke(Command(resume="Ada"), config)["__interrupt__"][0].value)
print(graph.invoke(Command(resume=36), config)["__interrupt__"][0].value)
try:
    # The city's answer, given while needs_age flips to False: the stored answer to
    # "What's your age?" would be handed to "What's your city?"
    print(graph.invoke(Command(resume="Paris", update={"needs_age": False}), config))
except InterruptMismatchError as exc:
    report(exc)
print("next:", graph.get_state(config).next)

print("--- skipping: skipped on the first run, not on the next (the seed's comment) ---")
config = {"configurable": {"thread_id": "skip-2"}}
print(graph.invoke({"needs_age": False}, config)["__interrupt__"][0].value)
print(graph.invoke(Command(resume="Ada"), config)["__interrupt__"][0].value)
try:
    # The city's answer, given while needs_age flips to True: it would be handed to
    # "What's your age?"
    print(graph.invoke(Command(resume="Paris", update={"needs_age": True}), config))
except InterruptMismatchError as exc:
    report(exc)
print("next:", graph.get_state(config).next)

print("--- looping over a list that changes between runs ---")
graph = build(looping_node)
config = {"configurable": {"thread_id": "loop"}}
print(graph.invoke({"dynamic_list": ["a", "b"]}, config)["__interrupt__"][0].value)
print(graph.invoke(Command(resume="yes-a"), config)["__interrupt__"][0].value)
try:
    # b's answer, given while the list grows at the front: the stored answer to
    # "Approve a?" would be handed to "Approve c?"
    update = {"dynamic_list": ["c", "a", "b"]}
    print(graph.invoke(Command(resume="yes-b", update=update), config))
except InterruptMismatchError as exc:
    report(exc)
print("next:", graph.get_state(config).next)
