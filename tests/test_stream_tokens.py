"""stream_mode="messages": tokens of chat models that nodes call, as they come (LangChain)."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, MessagesState, StateGraph

pytest.importorskip("langchain_core.messages")
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import (
    FakeMessagesListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.runnables.config import var_child_runnable_config

HI = {"messages": [HumanMessage("hi", id="h1")]}


def streaming(*texts: str) -> GenericFakeChatModel:
    """A chat model that streams each answer word by word (spaces are tokens too)."""
    return GenericFakeChatModel(
        messages=iter([AIMessage(t, id=f"ai{i}") for i, t in enumerate(texts)])
    )


def one_node(node: Any, checkpointer: Any = None) -> Any:
    builder = StateGraph(MessagesState).add_node("chat", node)
    return builder.add_edge(START, "chat").add_edge("chat", END).compile(checkpointer=checkpointer)


def contents(chunks: list[Any]) -> list[tuple[str, str]]:
    return [(type(m).__name__, m.content) for m, _ in chunks]


def test_tokens_come_one_by_one_and_the_message_once() -> None:
    model = streaming("hello big world")
    graph = one_node(lambda state: {"messages": [model.invoke(state["messages"])]})
    chunks = list(graph.stream(HI, stream_mode="messages"))
    assert contents(chunks) == [
        ("AIMessageChunk", "hello"),
        ("AIMessageChunk", " "),
        ("AIMessageChunk", "big"),
        ("AIMessageChunk", " "),
        ("AIMessageChunk", "world"),
    ]  # the node's returned AIMessage (same id) does not come again
    assert {m.id for m, _ in chunks} == {"ai0"}
    _, meta = chunks[0]
    assert (meta["langgraph_node"], meta["langgraph_step"], meta["langgraph_path"]) == (
        "chat",
        1,
        ("__pregel_pull", "chat"),
    )
    assert meta["ls_provider"] == "genericfakechatmodel"  # the model's own metadata
    assert re.fullmatch(r"chat:[0-9a-f-]{36}", meta["langgraph_checkpoint_ns"])
    assert meta["checkpoint_ns"] == meta["langgraph_checkpoint_ns"]


def test_a_node_passing_its_config_on_streams_too_with_the_run_metadata() -> None:
    model = streaming("a b")
    graph = one_node(
        lambda state, config: {"messages": [model.invoke(state["messages"], config)]},
        InMemorySaver(),
    )
    cfg = {"configurable": {"thread_id": "t"}, "metadata": {"user": "ada"}}
    chunks = list(graph.stream(HI, cfg, stream_mode=["messages", "updates"]))
    assert [mode for mode, _ in chunks] == ["messages"] * 3 + ["updates"]
    _, (message, meta) = chunks[0]
    assert (type(message), message.content, meta["thread_id"], meta["user"]) == (
        AIMessageChunk,
        "a",
        "t",
        "ada",
    )
    assert graph.get_state(cfg).values["messages"][-1] == AIMessage("a b", id="ai0")


def test_token_metadata_keys_come_in_langgraphs_order() -> None:
    model = streaming("a")
    graph = one_node(lambda state: {"messages": [model.invoke(state["messages"])]}, InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}, "metadata": {"user": "ada"}}
    (_, meta), *_ = graph.stream(HI, cfg, stream_mode="messages")
    assert list(meta) == [
        "user", "thread_id", "ls_integration", "langgraph_step", "langgraph_node",
        "langgraph_triggers", "langgraph_path", "langgraph_checkpoint_ns", "checkpoint_ns",
        "ls_provider", "ls_model_type", "lc_versions",
    ]  # fmt: skip


def test_a_model_that_cannot_stream_reports_its_whole_message_when_it_ends() -> None:
    model = FakeMessagesListChatModel(responses=[AIMessage("whole", id="w1")])
    graph = one_node(lambda state: {"messages": [model.invoke(state["messages"])]})
    chunks = list(graph.stream(HI, stream_mode="messages"))
    assert contents(chunks) == [("AIMessage", "whole")]
    assert chunks[0][1]["ls_provider"] == "fakemessageslistchatmodel"  # from the callback


def test_a_model_tagged_nostream_is_not_streamed() -> None:
    model = streaming("a b").with_config(tags=["nostream"])
    graph = one_node(lambda state: {"messages": [model.invoke(state["messages"])]})
    chunks = list(graph.stream(HI, stream_mode="messages"))
    assert contents(chunks) == [("AIMessage", "a b")]  # as the node returned it
    assert "ls_provider" not in chunks[0][1]


def test_tokens_reach_the_caller_while_the_node_runs() -> None:
    model = streaming("one two")
    read_a_token = threading.Event()

    def chat(state: MessagesState) -> dict[str, Any]:
        message = model.invoke(state["messages"])
        # Returns only once the caller has read a token: tokens must come live.
        assert read_a_token.wait(10), "no token reached the caller while the node ran"
        return {"messages": [message]}

    graph = one_node(chat)
    seen = []
    for message, _ in graph.stream(HI, stream_mode="messages"):
        seen.append(message.content)
        read_a_token.set()
    assert seen == ["one", " ", "two"]


async def test_astream_streams_tokens_of_async_nodes() -> None:
    model = streaming("x y")

    async def chat(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = one_node(chat)
    chunks = [c async for c in graph.astream(HI, stream_mode="messages")]
    assert contents(chunks) == [
        ("AIMessageChunk", "x"),
        ("AIMessageChunk", " "),
        ("AIMessageChunk", "y"),
    ]
    assert chunks[0][1]["langgraph_node"] == "chat"


async def test_astream_streams_tokens_of_sync_nodes() -> None:
    model = streaming("p q")
    graph = one_node(lambda state: {"messages": [model.invoke(state["messages"])]})
    chunks = [c async for c in graph.astream(HI, stream_mode="messages")]
    assert contents(chunks) == [
        ("AIMessageChunk", "p"),
        ("AIMessageChunk", " "),
        ("AIMessageChunk", "q"),
    ]


def subgraph_parent() -> Any:
    model = streaming("sub tok")
    inner = one_node(lambda state: {"messages": [model.invoke(state["messages"])]})
    builder = StateGraph(MessagesState).add_node("outer", inner)
    return builder.add_edge(START, "outer").add_edge("outer", END).compile(InMemorySaver())


def test_a_subgraphs_tokens_come_under_its_namespace_with_subgraphs() -> None:
    graph = subgraph_parent()
    cfg = {"configurable": {"thread_id": "s"}}
    chunks = list(graph.stream(HI, cfg, stream_mode="messages", subgraphs=True))
    assert [(ns[0].split(":")[0], m.content) for ns, (m, _) in chunks] == [
        ("outer", "sub"),
        ("outer", " "),
        ("outer", "tok"),
    ]
    meta = chunks[0][1][1]
    assert meta["langgraph_node"] == "chat"
    assert re.fullmatch(r"outer:[0-9a-f-]{36}\|chat:[0-9a-f-]{36}", meta["langgraph_checkpoint_ns"])
    assert meta["checkpoint_ns"] == meta["langgraph_checkpoint_ns"].split("|")[0]


def test_without_subgraphs_a_subgraphs_message_comes_whole_from_its_node() -> None:
    graph = subgraph_parent()
    chunks = list(graph.stream(HI, {"configurable": {"thread_id": "s"}}, stream_mode="messages"))
    assert contents(chunks) == [("AIMessage", "sub tok")]  # as LangGraph: no tokens
    assert chunks[0][1]["langgraph_node"] == "outer"


def test_the_caller_never_sees_the_runs_callbacks() -> None:
    model = streaming("a b")
    graph = one_node(lambda state: {"messages": [model.invoke(state["messages"])]})
    configs = [var_child_runnable_config.get() for _ in graph.stream(HI, stream_mode="messages")]
    assert configs == [None, None, None] and var_child_runnable_config.get() is None


def test_the_callers_own_callbacks_still_get_the_tokens() -> None:
    class Tokens(BaseCallbackHandler):
        def __init__(self) -> None:
            self.tokens: list[str] = []

        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            self.tokens.append(token)

    mine = Tokens()
    model = streaming("m n")
    graph = one_node(lambda state, config: {"messages": [model.invoke(state["messages"], config)]})
    chunks = list(graph.stream(HI, {"callbacks": [mine]}, stream_mode="messages"))
    assert [m.content for m, _ in chunks] == mine.tokens == ["m", " ", "n"]


def test_other_stream_modes_do_not_stream_tokens() -> None:
    model = streaming("a b")
    graph = one_node(lambda state: {"messages": [model.invoke(state["messages"])]})
    updates = list(graph.stream(HI, stream_mode="updates"))
    assert updates == [{"chat": {"messages": [AIMessage("a b", id="ai0")]}}]


def test_parallel_nodes_tokens_are_told_apart() -> None:
    left, right = streaming("l1 l2"), streaming("r1 r2")
    builder = StateGraph(MessagesState)
    builder.add_node("left", lambda s: {"messages": [left.invoke(s["messages"])]})
    builder.add_node("right", lambda s: {"messages": [right.invoke(s["messages"])]})
    builder.add_edge(START, "left").add_edge(START, "right")
    chunks = list(builder.compile().stream(HI, stream_mode="messages"))
    by_node: dict[str, str] = {}
    for message, meta in chunks:
        by_node[meta["langgraph_node"]] = by_node.get(meta["langgraph_node"], "") + message.content
    assert by_node == {"left": "l1 l2", "right": "r1 r2"}
