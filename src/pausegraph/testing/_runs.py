"""Conformance: whole graph runs that pause and resume on the saver, sync and async."""

from __future__ import annotations

from typing import Any

import pytest

from pausegraph.checkpoint.capabilities import WaitingIndex
from pausegraph.testing._factories import ask_graph, config, pair_graph
from pausegraph.types import Command

__all__ = [
    "test_a_graph_pauses_and_resumes",
    "test_a_graph_pauses_and_resumes_under_asyncio",
    "test_parallel_questions_are_answered_together",
]


def test_a_graph_pauses_and_resumes(saver: Any) -> None:
    graph = ask_graph(saver)
    cfg = config("t1")
    paused = graph.invoke({"question": "ship it?"}, cfg)
    (asked,) = paused["__interrupt__"]
    assert asked.value == {"ask": "ship it?"}
    state = graph.get_state(cfg)
    assert state.next == ("ask",)
    assert [i.id for i in state.interrupts] == [asked.id]
    assert graph.invoke(Command(resume="yes"), cfg) == {"question": "ship it?", "answer": "yes"}
    done = graph.get_state(cfg)
    assert done.next == () and done.values == {"question": "ship it?", "answer": "yes"}
    sources = [(s.metadata or {}).get("source") for s in graph.get_state_history(cfg)]
    assert sources == ["loop", "loop", "input"]


def test_parallel_questions_are_answered_together(saver: Any) -> None:
    graph = pair_graph(saver)
    cfg = config("t1")
    paused = graph.invoke({}, cfg)
    asked = {i.value: i.id for i in paused["__interrupt__"]}
    assert set(asked) == {"left?", "right?"}
    assert set(graph.get_state(cfg).next) == {"left", "right"}
    answers = {asked["left?"]: "L", asked["right?"]: "R"}
    assert graph.invoke(Command(resume=answers), cfg) == {
        "total": 1,
        "left": "L",
        "right": "R",
        "log": ["count", "left", "right", "done"],
    }


@pytest.mark.asyncio
async def test_a_graph_pauses_and_resumes_under_asyncio(saver: Any) -> None:
    graph = ask_graph(saver, name="async-asker")
    cfg = config("t1", team="x")
    chunks = [c async for c in graph.astream({"question": "q"}, cfg, stream_mode="updates")]
    (asked,) = chunks[-1]["__interrupt__"]
    assert asked.value == {"ask": "q"}
    state = await graph.aget_state(cfg)
    assert state.next == ("ask",)
    if isinstance(saver, WaitingIndex):
        (entry,) = (await graph.alist_waiting()).items
        assert (entry.thread_id, entry.graph, dict(entry.metadata)) == (
            "t1",
            "async-asker",
            {"team": "x"},
        )
        assert entry.checkpoint_id == state.config["configurable"]["checkpoint_id"]
    assert await graph.ainvoke(Command(resume="yes"), cfg) == {"question": "q", "answer": "yes"}
    history = [s.values async for s in graph.aget_state_history(cfg)]
    assert history[0] == {"question": "q", "answer": "yes"} and len(history) == 3
    if isinstance(saver, WaitingIndex):
        assert (await graph.alist_waiting()).items == ()
