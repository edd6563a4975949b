"""stream_mode="messages": the messages nodes return, with LangGraph's metadata keys."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypedDict

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import START, MessagesState, StateGraph, add_messages
from pausegraph.types import Command, interrupt

messages = pytest.importorskip("langchain_core.messages")
AIMessage, HumanMessage = messages.AIMessage, messages.HumanMessage

CFG = {"configurable": {"thread_id": "m"}, "metadata": {"user": "ada"}}


def chat_graph() -> Any:
    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("hello", id="a1"), AIMessage("and more")]}

    def ask(state: MessagesState) -> dict[str, Any]:
        return {"messages": AIMessage(f"you said {interrupt('ok?')}")}

    builder = StateGraph(MessagesState).add_node("agent", agent).add_node("ask", ask)
    builder = builder.add_edge(START, "agent").add_edge("agent", "ask")
    return builder.compile(checkpointer=InMemorySaver())


def test_node_messages_come_with_where_they_came_from() -> None:
    graph = chat_graph()
    chunks = list(graph.stream({"messages": [HumanMessage("hi")]}, CFG, stream_mode="messages"))
    assert [(type(m), m.content) for m, _ in chunks] == [
        (AIMessage, "hello"),
        (AIMessage, "and more"),
    ]  # not the input's message
    _, meta = chunks[0]
    assert {k: v for k, v in meta.items() if k != "langgraph_checkpoint_ns"} == {
        "user": "ada",
        "thread_id": "m",
        "ls_integration": "langgraph",
        "langgraph_step": 1,
        "langgraph_node": "agent",
        "langgraph_triggers": ("branch:to:agent",),
        "langgraph_path": ("__pregel_pull", "agent"),
    }
    assert re.fullmatch(r"agent:[0-9a-f-]{36}", meta["langgraph_checkpoint_ns"])
    # A message without an id is named once: the chunk and the state agree.
    stored = graph.get_state(CFG).values["messages"]
    assert [m.id for m in stored[1:]] == ["a1", chunks[1][0].id]
    resumed = list(graph.stream(Command(resume="yes"), CFG, stream_mode=["updates", "messages"]))
    assert [mode for mode, _ in resumed] == ["messages", "updates"]
    message, meta = resumed[0][1]
    assert (message.content, meta["langgraph_node"], meta["langgraph_step"]) == (
        "you said yes",
        "ask",
        2,
    )


@pytest.mark.asyncio
async def test_each_message_comes_once_under_astream_and_from_subgraphs() -> None:
    inner = StateGraph(MessagesState).add_node(
        "reply", lambda s: {"messages": [AIMessage("inner")]}
    )
    inner = inner.add_edge(START, "reply").compile()
    graph = StateGraph(MessagesState).add_node("sub", inner).add_edge(START, "sub").compile()
    inp = {"messages": [("user", "hi")]}
    # With subgraphs=True it comes from inside; the subgraph node returning its
    # whole state (the input's message and this one) adds nothing, as in LangGraph.
    chunks = [c async for c in graph.astream(inp, stream_mode="messages", subgraphs=True)]
    [(namespace, (message, meta))] = chunks
    assert (message.content, meta["langgraph_node"]) == ("inner", "reply")
    assert namespace[0].startswith("sub:")
    assert meta["langgraph_checkpoint_ns"].startswith(namespace[0] + "|reply:")
    # Without, it comes once, from the subgraph node.
    flat = [c async for c in graph.astream(inp, stream_mode="messages")]
    assert [(m.content, meta["langgraph_node"]) for m, meta in flat] == [("inner", "sub")]


def test_messages_a_node_got_in_its_input_do_not_come_again() -> None:
    def echo(state: MessagesState) -> dict[str, Any]:
        return {"messages": [*state["messages"], AIMessage("again")]}

    graph = StateGraph(MessagesState).add_node("echo", echo).add_edge(START, "echo").compile()
    inp = {"messages": [("user", "hi"), AIMessage("before", id="p")]}
    assert [m.content for m, _ in graph.stream(inp, stream_mode="messages")] == ["again"]


class Chat(TypedDict):
    messages: Annotated[list[Any], add_messages]
    note: dict[str, Any]


@pytest.mark.usefixtures("dict_messages")
def test_without_langchain_dict_messages_of_message_keys_come() -> None:
    def bot(state: Chat) -> dict[str, Any]:
        return {
            "messages": [{"role": "assistant", "content": "hi"}],
            "note": {"role": "assistant", "content": "not a message: not a messages key"},
        }

    graph = StateGraph(Chat).add_node("bot", bot).add_edge(START, "bot").compile()
    chunks = list(
        graph.stream({"messages": [{"role": "user", "content": "yo"}]}, stream_mode="messages")
    )
    assert [(m["role"], m["content"], meta["langgraph_node"]) for m, meta in chunks] == [
        ("assistant", "hi", "bot")
    ]
    assert isinstance(chunks[0][0]["id"], str)
