"""Seed 004 (Interrupts guide), "Validating human input": a loop of interrupts.

``get_age_node`` asks again, with a clearer prompt, until the answer is a positive
int. First the guide's short version (``while True`` with ``break``) on an in-memory
saver, then its full example on a SqliteSaver whose file lives in a temporary
directory (``check_same_thread=False``: LangGraph writes from a worker thread).
"""

import os
import sqlite3
import tempfile

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.checkpoint.sqlite import SqliteSaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class FormState(TypedDict):
    age: int | None


def get_age_node_short(state: FormState):
    prompt = "What is your age?"
    while True:
        answer = interrupt(prompt)  # payload surfaces in result["__interrupt__"]

        # Validate the input
        if isinstance(answer, int) and answer > 0:
            # Valid input - continue
            break
        else:
            # Invalid input - ask again with a more specific prompt
            prompt = f"'{answer}' is not a valid age. Please enter a positive number."

    return {"age": answer}


def get_age_node(state: FormState):
    prompt = "What is your age?"
    while True:
        answer = interrupt(prompt)  # payload surfaces in result["__interrupt__"]

        if isinstance(answer, int) and answer > 0:
            return {"age": answer}

        prompt = f"'{answer}' is not a valid age. Please enter a positive number."


def build(node, checkpointer):
    builder = StateGraph(FormState)
    builder.add_node("collect_age", node)
    builder.add_edge(START, "collect_age")
    builder.add_edge("collect_age", END)
    return builder.compile(checkpointer=checkpointer)


print("--- short version ---")
graph = build(get_age_node_short, InMemorySaver())
config = {"configurable": {"thread_id": "short"}}
print(graph.invoke({"age": None}, config=config)["__interrupt__"])
print(graph.invoke(Command(resume=-3), config=config)["__interrupt__"])
print(graph.invoke(Command(resume="abc"), config=config)["__interrupt__"])
print(graph.invoke(Command(resume=7), config=config))

print("--- full example ---")
with tempfile.TemporaryDirectory() as tmp:
    conn = sqlite3.connect(os.path.join(tmp, "forms.db"), check_same_thread=False)
    checkpointer = SqliteSaver(conn)
    graph = build(get_age_node, checkpointer)

    config = {"configurable": {"thread_id": "form-1"}}

    first = graph.invoke({"age": None}, config=config)
    print(first["__interrupt__"])
    # -> [Interrupt(value='What is your age?', ...)]

    # Provide invalid data; the node re-prompts
    retry = graph.invoke(Command(resume="thirty"), config=config)
    print(retry["__interrupt__"])
    # -> [Interrupt(value="'thirty' is not a valid age...", ...)]

    # Provide valid data; loop exits and state updates
    final = graph.invoke(Command(resume=30), config=config)
    print(final["age"])
    # -> 30

    history = list(graph.get_state_history(config))
    print("checkpoints:", [(s.metadata["step"], s.next) for s in history])
    conn.close()
