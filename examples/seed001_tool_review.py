"""Seed 001 (langgraph-interrupts skill), "Tool Review Pattern": approve, edit or reject a tool call.

The seed's ``tool_executor`` pauses once per tool call of the last AI message. Here a
scripted fake model (an ``agent`` node) produces that message; messages are plain dicts
(langchain-core's AIMessage/ToolMessage are not needed), so ``.tool_calls`` becomes
``["tool_calls"]``. The seed's undefined ``results`` list and ``execute_tool`` are
defined below. Each of the three resume choices runs on its own thread.
"""

import operator
from typing import Annotated

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    messages: Annotated[list[dict], operator.add]


def fake_model(messages):
    """Stands in for an LLM with tools bound: always asks to run `search`."""
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"name": "search", "args": {"query": "weather in SF"}, "id": "call_1"},
        ],
    }


def agent(state):
    return {"messages": [fake_model(state["messages"])]}


def execute_tool(tool_call_or_args):
    # The seed passes a whole tool call on approve and bare args on edit.
    args = tool_call_or_args.get("args", tool_call_or_args)
    return f"Results for {args['query']!r}: sunny, 21C"


def tool_executor(state):
    tool_calls = state["messages"][-1]["tool_calls"]
    results = []

    for tool_call in tool_calls:
        # Pause for each tool call
        user_decision = interrupt(
            {
                "tool": tool_call["name"],
                "args": tool_call["args"],
                "question": "Execute this tool?",
            }
        )

        if user_decision["type"] == "approve":
            # Execute tool
            result = execute_tool(tool_call)
        elif user_decision["type"] == "edit":
            # Use edited args
            result = execute_tool(user_decision["args"])
        else:  # reject
            result = "Tool execution rejected"

        # Store result
        results.append({"role": "tool", "content": result, "tool_call_id": tool_call["id"]})

    return {"messages": results}


graph = (
    StateGraph(State)
    .add_node("agent", agent)
    .add_node("tools", tool_executor)
    .add_edge(START, "agent")
    .add_edge("agent", "tools")
    .add_edge("tools", END)
    .compile(checkpointer=InMemorySaver())
)

user_message = {"role": "user", "content": "What's the weather in SF?"}
decisions = {
    # Review and approve
    "approve": Command(resume={"type": "approve"}),
    # Or edit args
    "edit": Command(resume={"type": "edit", "args": {"query": "modified"}}),
    # Or reject
    "reject": Command(resume={"type": "reject"}),
}

for name, command in decisions.items():
    config = {"configurable": {"thread_id": name}}
    # Usage
    result = graph.invoke({"messages": [user_message]}, config)
    print(f"[{name}] paused:", result["__interrupt__"][0].value)
    result = graph.invoke(command, config)
    print(f"[{name}] tool message:", result["messages"][-1])
    print(f"[{name}] messages:", len(result["messages"]))
