"""Interrupt/resume cycles leave no reference cycles behind: their runs are freed at once.

A run that only the garbage collector can free holds its state, its saver's
records and its frames until the next collection, and makes collections run
more often under load.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any, TypedDict

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class Answer(TypedDict):
    answer: str


def _ask(state: Answer) -> dict[str, str]:
    return {"answer": interrupt("q?")}


async def _ask_async(state: Answer) -> dict[str, str]:
    return {"answer": interrupt("q?")}


def _graph(ask: Any) -> Any:
    builder = StateGraph(Answer).add_node("ask", ask).add_node("done", lambda s: {})
    builder.add_edge(START, "ask").add_edge("ask", "done").add_edge("done", END)
    return builder.compile(checkpointer=InMemorySaver())


@pytest.fixture
def no_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _cycles(graph: Any, thread: str) -> dict[str, Any]:
    cfg = {"configurable": {"thread_id": thread}}
    paused = graph.invoke({"answer": ""}, cfg)
    assert paused["__interrupt__"][0].value == "q?"
    out: dict[str, Any] = graph.invoke(Command(resume="yes"), cfg)
    return out


@pytest.mark.usefixtures("no_collector")
def test_a_sync_interrupt_cycle_leaves_nothing_for_the_collector() -> None:
    graph = _graph(_ask)
    assert _cycles(graph, "warm") == {"answer": "yes"}  # first use fills caches
    gc.collect()
    for i in range(5):
        assert _cycles(graph, f"t{i}") == {"answer": "yes"}
    assert gc.collect() == 0


@pytest.mark.usefixtures("no_collector")
async def test_an_async_interrupt_cycle_leaves_nothing_for_the_collector() -> None:
    graph = _graph(_ask_async)

    async def cycle(thread: str) -> Any:
        cfg = {"configurable": {"thread_id": thread}}
        paused = await graph.ainvoke({"answer": ""}, cfg)
        assert paused["__interrupt__"][0].value == "q?"
        return await graph.ainvoke(Command(resume="yes"), cfg)

    assert await cycle("warm") == {"answer": "yes"}
    gc.collect()
    for i in range(5):
        assert await cycle(f"t{i}") == {"answer": "yes"}
    assert gc.collect() == 0
