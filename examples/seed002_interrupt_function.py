"""Seed 002 (Breakpoints concept page), "`interrupt` function": a human_approval node.

The node surfaces the LLM output with ``interrupt()`` and branches on
``answer['approved']``; resuming with ``Command(resume={"approved": ...})``. The seed
elides the node's two branches; here they set ``decision``. One thread approves,
another rejects.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    llm_output: str
    decision: str


def human_approval(state: State):
    print("---human_approval---")
    answer = interrupt(
        # This value will be sent to the client.
        # It can be any JSON serializable value.
        {
            "question": "OK to proceed?",
            # Surface some context to the client.
            "llm_output": state["llm_output"],
        }
    )

    if answer["approved"]:
        # Proceed with the action
        return {"decision": "proceed"}
    else:
        # Do something else
        return {"decision": "revise"}


graph_builder = StateGraph(State)
# Add the node to the graph
graph_builder.add_node("human_approval", human_approval)
graph_builder.add_edge(START, "human_approval")
graph_builder.add_edge("human_approval", END)
# Compile the graph with a checkpointer
checkpointer = InMemorySaver()
graph = graph_builder.compile(checkpointer=checkpointer)

inputs = {"llm_output": "DROP TABLE users;"}

for thread_id, approved in [("some_thread", True), ("other_thread", False)]:
    # Run the graph until the breakpoint
    thread_config = {"configurable": {"thread_id": thread_id}}
    print(graph.invoke(inputs, config=thread_config))

    # Resume the graph with the user's input
    print(graph.invoke(Command(resume={"approved": approved}), config=thread_config))
