"""Seed 001 (langgraph-interrupts skill), "Stream with Interrupts": astream, spot, resume.

Streams with ``stream_mode=["updates", "messages"]``, stops at the ``__interrupt__``
chunk, and resumes with ``Command(resume=user_input)`` until the run finishes. The
seed's graph and ``get_user_input`` are undefined; here a node asks for approval of a
query and a scripted ``get_user_input`` answers.
"""

import asyncio

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    query: str
    answer: str


def plan(state):
    return {"query": state["query"].strip()}


def confirm(state):
    choice = interrupt({"question": "Run this query?", "query": state["query"]})
    return {"answer": f"ran {state['query']!r}" if choice == "yes" else "skipped"}


graph = (
    StateGraph(State)
    .add_node("plan", plan)
    .add_node("confirm", confirm)
    .add_edge(START, "plan")
    .add_edge("plan", "confirm")
    .add_edge("confirm", END)
    .compile(checkpointer=InMemorySaver())
)


def get_user_input(interrupt_info):
    print("  asked:", interrupt_info)
    return "yes"


async def main():
    initial_input = {"query": "test"}
    while initial_input is not None:
        next_input = None
        async for mode, chunk in graph.astream(
            initial_input,
            stream_mode=["updates", "messages"],
            config={"configurable": {"thread_id": "1"}},
        ):
            print(mode, chunk)
            if mode == "updates" and "__interrupt__" in chunk:
                # Handle interrupt
                interrupt_info = chunk["__interrupt__"][0].value
                user_input = get_user_input(interrupt_info)

                # Resume
                next_input = Command(resume=user_input)
                break
        initial_input = next_input

    state = await graph.aget_state({"configurable": {"thread_id": "1"}})
    print("final:", state.values, state.next)


asyncio.run(main())
