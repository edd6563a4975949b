"""A scripted tool-calling agent for the prebuilt tests: dict messages, no model needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import START, MessagesState, StateGraph
from pausegraph.prebuilt import ToolNode, tools_condition

CFG = {"configurable": {"thread_id": "agent"}}


def call(name: str, call_id: str = "c1", **args: Any) -> dict[str, Any]:
    """A tool call as a model writes it."""
    return {"id": call_id, "name": name, "args": args}


def ai(*calls: dict[str, Any], content: str = "") -> dict[str, Any]:
    """An assistant message, with tool calls or without."""
    return {"role": "assistant", "content": content, "tool_calls": list(calls)}


@dataclass
class Agent:
    """The compiled agent and the history lengths its model was called with."""

    graph: Any
    model_saw: list[int] = field(default_factory=list)


def agent_graph(tools: list[Any], turns: list[dict[str, Any]], saver: Any = None) -> Agent:
    """model -> tools_condition -> ToolNode -> model; the model answers with ``turns`` in order."""
    agent = Agent(graph=None)

    def model(state: MessagesState) -> dict[str, Any]:
        agent.model_saw.append(len(state["messages"]))
        return {"messages": [turns.pop(0)]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", model)
    builder.add_node(ToolNode(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    agent.graph = builder.compile(checkpointer=saver if saver is not None else InMemorySaver())
    return agent
