"""Chunks a node sends, and what subgraphs stream, reach the caller while the node runs.

Each test is a handshake: the node waits (with a timeout) for the test to have
read a chunk it sent before it goes on. Delivered only after the node ends, the
node would time out and record it.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any, TypedDict

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.config import get_stream_writer
from pausegraph.graph import START, StateGraph

WAIT_S = 10  # only reached when a chunk is late: the test then fails on `waited`


class S(TypedDict, total=False):
    log: list[str]


def handshake_graph(read: threading.Event, waited: list[bool], **compile: Any) -> Any:
    def slow(state: S) -> dict[str, Any]:
        writer = get_stream_writer()
        writer({"progress": "started"})
        waited.append(read.wait(WAIT_S))  # the caller read "started" meanwhile
        writer({"progress": "done"})
        return {"log": ["slow"]}

    return StateGraph(S).add_node("slow", slow).add_edge(START, "slow").compile(**compile)


def test_a_custom_chunk_arrives_while_its_node_runs() -> None:
    read, waited = threading.Event(), []
    graph = handshake_graph(read, waited)
    chunks = []
    for chunk in graph.stream({"log": []}, stream_mode=["custom", "updates"]):
        chunks.append(chunk)
        if chunk == ("custom", {"progress": "started"}):
            read.set()
    assert waited == [True]
    assert chunks == [
        ("custom", {"progress": "started"}),
        ("custom", {"progress": "done"}),
        ("updates", {"slow": {"log": ["slow"]}}),
    ]


def test_a_subgraph_streams_while_the_parent_node_runs() -> None:
    read, waited = threading.Event(), []

    def first(state: S) -> dict[str, Any]:
        return {"log": ["first"]}

    def second(state: S) -> dict[str, Any]:
        waited.append(read.wait(WAIT_S))
        return {"log": ["second"]}

    inner = StateGraph(S).add_node("first", first).add_node("second", second)
    inner = inner.add_edge(START, "first").add_edge("first", "second").compile()
    graph = StateGraph(S).add_node("inner", inner).add_edge(START, "inner").compile()
    seen = []
    for namespace, chunk in graph.stream({"log": []}, subgraphs=True):
        seen.append((len(namespace), chunk))
        if chunk == {"first": {"log": ["first"]}}:
            read.set()
    assert waited == [True]
    assert seen == [
        (1, {"first": {"log": ["first"]}}),
        (1, {"second": {"log": ["second"]}}),
        (0, {"inner": {"log": ["second"]}}),
    ]


def test_a_caller_that_stops_reading_waits_for_the_node_and_frees_the_thread() -> None:
    read, waited = threading.Event(), []
    graph = handshake_graph(read, waited, checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    stream = graph.stream({"log": []}, config, stream_mode="custom")
    assert next(stream) == {"progress": "started"}
    read.set()
    stream.close()  # returns once the node has ended
    assert waited == [True]
    read.clear()
    threading.Timer(0, read.set).start()
    assert graph.invoke({"log": []}, config) == {"log": ["slow"]}  # the lease was given back


def test_the_step_runs_in_the_callers_context_and_its_errors_reach_the_caller() -> None:
    who: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")

    def node(state: S) -> dict[str, Any]:
        get_stream_writer()({"who": who.get()})
        raise ValueError("node failed")

    graph = StateGraph(S).add_node("node", node).add_edge(START, "node").compile()
    who.set("ada")
    chunks: list[Any] = []
    with pytest.raises(ValueError, match="node failed"):
        for chunk in graph.stream({"log": []}, stream_mode="custom"):
            chunks.append(chunk)
    assert chunks == [{"who": "ada"}]


# -- astream ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_astream_reports_as_async_and_sync_nodes_send() -> None:
    read_async, read_sync = asyncio.Event(), threading.Event()
    waited: list[bool] = []

    async def first(state: S) -> dict[str, Any]:
        get_stream_writer()({"from": "async"})
        try:
            await asyncio.wait_for(read_async.wait(), WAIT_S)
            waited.append(True)
        except TimeoutError:
            waited.append(False)
        return {"log": ["first"]}

    def second(state: S) -> dict[str, Any]:  # runs in a worker thread
        get_stream_writer()({"from": "sync"})
        waited.append(read_sync.wait(WAIT_S))
        return {"log": ["second"]}

    graph = StateGraph(S).add_node("first", first).add_node("second", second)
    graph = graph.add_edge(START, "first").add_edge("first", "second").compile()
    chunks = []
    async for chunk in graph.astream({"log": []}, stream_mode=["custom", "updates"]):
        chunks.append(chunk)
        if chunk == ("custom", {"from": "async"}):
            read_async.set()
        if chunk == ("custom", {"from": "sync"}):
            read_sync.set()
    assert waited == [True, True]
    assert chunks == [
        ("custom", {"from": "async"}),
        ("updates", {"first": {"log": ["first"]}}),
        ("custom", {"from": "sync"}),
        ("updates", {"second": {"log": ["second"]}}),
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["cancel the caller", "stop reading"])
async def test_astream_stopped_mid_node_cancels_it_and_frees_the_thread(how: str) -> None:
    cancelled = asyncio.Event()

    async def node(state: S) -> dict[str, Any]:
        get_stream_writer()("started")
        if cancelled.is_set():  # the second run
            return {"log": ["second run"]}
        try:
            await asyncio.sleep(WAIT_S)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {"log": ["never"]}

    graph = StateGraph(S).add_node("node", node).add_edge(START, "node")
    graph = graph.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    stream = graph.astream({"log": []}, config, stream_mode="custom")
    if how == "stop reading":
        assert await anext(stream) == "started"
        await stream.aclose()
    else:
        started = asyncio.Event()

        async def read() -> None:
            async for _ in stream:
                started.set()

        reader = asyncio.ensure_future(read())
        await asyncio.wait_for(started.wait(), WAIT_S)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
    assert cancelled.is_set()
    state = await graph.aget_state(config)
    assert state.next == ("node",)  # the input step is kept; the node runs again next time
    # The thread is free again (its lease was given back): the node runs again.
    assert await graph.ainvoke(None, config) == {"log": ["second run"]}
