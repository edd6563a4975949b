"""``astream_events(version="v2")``: the events LangGraph 1.2.22 reports for the same runs.

Expected sequences were recorded from LangGraph on these graphs; run ids are
random there, so the tests compare how events point at each other instead.
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import InvalidConfigError
from pausegraph.graph import END, START, MessagesState, StateGraph
from pausegraph.types import Command, Send, interrupt


class S(TypedDict):
    x: int
    ans: str


def asking() -> Any:
    builder = StateGraph(S)
    builder.add_node("n1", lambda s: {"x": s["x"] + 1})
    builder.add_node("n2", lambda s: {"ans": interrupt("q?")})
    builder.add_edge(START, "n1")
    builder.add_edge("n1", "n2")
    builder.add_edge("n2", END)
    return builder.compile(checkpointer=InMemorySaver())


def events(graph: Any, inp: Any, config: Any = None, **kwargs: Any) -> list[dict[str, Any]]:
    kwargs.setdefault("version", "v2")

    async def collect() -> list[dict[str, Any]]:
        return [e async for e in graph.astream_events(inp, config, **kwargs)]

    return asyncio.run(collect())


def brief(evs: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    """(event, name, data) with interrupts as their values."""

    def plain(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, tuple) and x and hasattr(x[0], "value"):
            return tuple(("Interrupt", i.value) for i in x)
        return x

    return [(e["event"], e["name"], plain(e["data"])) for e in evs]


def test_a_run_that_pauses_then_resumes() -> None:
    graph = asking()
    config = {"configurable": {"thread_id": "t"}}
    paused = events(graph, {"x": 0, "ans": ""}, config)
    assert brief(paused) == [
        ("on_chain_start", "LangGraph", {"input": {"x": 0, "ans": ""}}),
        ("on_chain_start", "n1", {"input": {"x": 0, "ans": ""}}),
        ("on_chain_stream", "n1", {"chunk": {"x": 1}}),
        ("on_chain_end", "n1", {"output": {"x": 1}, "input": {"x": 0, "ans": ""}}),
        ("on_chain_stream", "LangGraph", {"chunk": {"n1": {"x": 1}}}),
        ("on_chain_start", "n2", {"input": {"x": 1, "ans": ""}}),  # it pauses: no end
        ("on_chain_stream", "LangGraph", {"chunk": {"__interrupt__": (("Interrupt", "q?"),)}}),
        ("on_chain_end", "LangGraph", {"output": {"x": 1, "ans": ""}}),
    ]
    resumed = events(graph, Command(resume="yes"), config)
    assert brief(resumed) == [
        ("on_chain_start", "LangGraph", {"input": Command(resume="yes")}),
        ("on_chain_start", "n2", {"input": {"x": 1, "ans": ""}}),
        ("on_chain_stream", "n2", {"chunk": {"ans": "yes"}}),
        ("on_chain_end", "n2", {"output": {"ans": "yes"}, "input": {"x": 1, "ans": ""}}),
        ("on_chain_stream", "LangGraph", {"chunk": {"n2": {"ans": "yes"}}}),
        ("on_chain_end", "LangGraph", {"output": {"x": 1, "ans": "yes"}}),
    ]


def test_tags_metadata_and_ids() -> None:
    graph = asking()
    config = {"configurable": {"thread_id": "t"}, "tags": ["t1"], "metadata": {"m": 1}}
    evs = events(graph, {"x": 0, "ans": ""}, config)
    root, node = evs[0], evs[1]
    assert (root["tags"], root["parent_ids"]) == (["t1"], [])
    assert root["metadata"] == {"m": 1, "thread_id": "t", "ls_integration": "langgraph"}
    assert node["tags"] == ["graph:step:1", "t1"]
    assert node["parent_ids"] == [root["run_id"]]
    meta = node["metadata"]
    assert {k: v for k, v in meta.items() if k != "langgraph_checkpoint_ns"} == {
        "m": 1,
        "thread_id": "t",
        "ls_integration": "langgraph",
        "langgraph_step": 1,
        "langgraph_node": "n1",
        "langgraph_triggers": ("branch:to:n1",),
        "langgraph_path": ("__pregel_pull", "n1"),
    }
    assert meta["langgraph_checkpoint_ns"].startswith("n1:")
    # A node's events share its run id; the graph's all share the root's.
    assert {e["run_id"] for e in evs if e["name"] == "n1"} == {node["run_id"]}
    assert {e["run_id"] for e in evs if e["name"] == "LangGraph"} == {root["run_id"]}
    assert len({e["run_id"] for e in evs}) == 3  # the graph, n1, n2


class L(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


def test_subgraph_nodes_send_tasks_and_nodes_that_return_nothing() -> None:
    inner = StateGraph(L)
    inner.add_node("inner1", lambda s: {"log": ["i1"]})
    inner.add_edge(START, "inner1")
    inner.add_edge("inner1", END)
    builder = StateGraph(L)
    builder.add_node("a", lambda s: None)
    builder.add_node("sub", inner.compile())

    async def c(s: L) -> dict[str, Any]:
        return {"log": ["c"]}

    builder.add_node("c", c)
    builder.add_edge(START, "a")
    builder.add_edge("a", "sub")
    builder.add_conditional_edges("sub", lambda s: [Send("c", s)], ["c"])
    builder.add_edge("c", END)
    evs = events(builder.compile(), {"x": 0, "log": []})
    by = {(e["event"], e["name"]): e for e in evs}
    assert by[("on_chain_end", "a")]["data"]["output"] is None  # what the node returned
    sub, inner1 = by[("on_chain_start", "sub")], by[("on_chain_start", "inner1")]
    assert inner1["parent_ids"] == [evs[0]["run_id"], sub["run_id"]]
    assert inner1["metadata"]["langgraph_checkpoint_ns"].startswith(
        sub["metadata"]["langgraph_checkpoint_ns"] + "|inner1:"
    )
    assert by[("on_chain_end", "inner1")]["data"]["output"] == {"log": ["i1"]}
    push = by[("on_chain_start", "c")]["metadata"]
    assert (push["langgraph_path"], push["langgraph_triggers"]) == (
        ("__pregel_push", 0, False),
        ("__pregel_push",),
    )
    assert by[("on_chain_end", "LangGraph")]["data"]["output"] == {
        "x": 0,
        "log": ["i1", "c"],
    }


def chat_graph() -> Any:
    fake = pytest.importorskip("langchain_core.language_models.fake_chat_models")
    from langchain_core.messages import AIMessage

    model = fake.GenericFakeChatModel(messages=iter([AIMessage(content="hello world")]))
    builder = StateGraph(MessagesState)
    builder.add_node("chat", lambda s: {"messages": [model.invoke(s["messages"])]})
    builder.add_edge(START, "chat")
    builder.add_edge("chat", END)
    return builder.compile()


def test_chat_models_report_each_token() -> None:
    graph = chat_graph()
    evs = events(graph, {"messages": [("user", "hi")]})
    kinds = [(e["event"], e["name"]) for e in evs]
    model = "GenericFakeChatModel"
    assert kinds == [
        ("on_chain_start", "LangGraph"),
        ("on_chain_start", "chat"),
        ("on_chat_model_start", model),
        ("on_chat_model_stream", model),
        ("on_chat_model_stream", model),
        ("on_chat_model_stream", model),
        ("on_chat_model_end", model),
        ("on_chain_stream", "chat"),
        ("on_chain_end", "chat"),
        ("on_chain_stream", "LangGraph"),
        ("on_chain_end", "LangGraph"),
    ]
    tokens = [e["data"]["chunk"].content for e in evs if e["event"] == "on_chat_model_stream"]
    assert tokens == ["hello", " ", "world"]
    start = evs[2]
    assert start["data"]["input"]["messages"][0][0].content == "hi"
    assert start["parent_ids"] == [evs[0]["run_id"], evs[1]["run_id"]]
    meta = start["metadata"]
    assert (meta["langgraph_node"], meta["ls_integration"], meta["ls_provider"]) == (
        "chat",
        "langchain_chat_model",
        "genericfakechatmodel",
    )
    assert meta["checkpoint_ns"] == meta["langgraph_checkpoint_ns"]
    assert evs[6]["data"]["output"].content == "hello world"


def test_filters_keep_and_drop_events() -> None:
    tokens = events(chat_graph(), {"messages": [("user", "hi")]}, include_types=["chat_model"])
    assert {e["event"] for e in tokens} == {
        "on_chat_model_start",
        "on_chat_model_stream",
        "on_chat_model_end",
    }
    graph = asking()
    config = {"configurable": {"thread_id": "t"}}
    named = events(graph, {"x": 0, "ans": ""}, config, include_names=["n1"])
    assert [e["event"] for e in named] == ["on_chain_start", "on_chain_stream", "on_chain_end"]
    config = {"configurable": {"thread_id": "u"}}
    no_steps = events(graph, {"x": 0, "ans": ""}, config, exclude_tags=["graph:step:1"])
    assert "n1" not in {e["name"] for e in no_steps} and "n2" in {e["name"] for e in no_steps}


def test_only_v2_is_offered() -> None:
    with pytest.raises(InvalidConfigError, match=r"version='v2'"):
        events(asking(), {"x": 0}, {"configurable": {"thread_id": "t"}}, version="v1")


def test_stopping_early_ends_the_run_and_frees_the_thread() -> None:
    graph = asking()
    config = {"configurable": {"thread_id": "t"}}

    async def first_node_start() -> None:
        async for event in graph.astream_events({"x": 0, "ans": ""}, config, version="v2"):
            if event["event"] == "on_chain_start" and event["name"] == "n1":
                break

    asyncio.run(first_node_start())
    # The thread is free: a new run starts at once (no ThreadBusyError).
    assert brief(events(graph, {"x": 5, "ans": ""}, config))[1] == (
        "on_chain_start",
        "n1",
        {"input": {"x": 5, "ans": ""}},
    )


def test_a_failing_node_raises_after_the_events_before_it() -> None:
    builder = StateGraph(S)

    def boom(s: S) -> dict[str, Any]:
        raise ValueError("boom")

    builder.add_node("boom", boom)
    builder.add_edge(START, "boom")
    seen: list[tuple[str, str]] = []

    async def run() -> None:
        async for e in builder.compile().astream_events({"x": 0}, version="v2"):
            seen.append((e["event"], e["name"]))

    with pytest.raises(ValueError, match="boom"):
        asyncio.run(run())
    assert seen == [("on_chain_start", "LangGraph"), ("on_chain_start", "boom")]
