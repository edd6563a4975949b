"""Threads with histories, shared by the storage tests.

:func:`log_graph` appends to a list at every step (compact storage stores
only the appended items). The migration tests of the SQL savers write
:func:`fill`'s threads in their saver's old layout, migrate, and call
:func:`carry_on`: every checkpoint must read back as it was, and runs must go
on, appending to lists whose chunks the old layout wrote.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from pausegraph.checkpoint._records import StoredCheckpoint
from pausegraph.graph import END, START, StateGraph
from pausegraph.testing._factories import ask_graph, config
from pausegraph.types import Command

__all__ = ["carry_on", "fill", "log_graph"]


class Log(TypedDict):
    items: Annotated[list[str], operator.add]
    n: int


def log_graph(saver: Any, until: int, item: Callable[[int], str] = "item{}".format) -> Any:
    """START -> step, looping until ``n`` reaches ``until``; each step appends ``item(n)``."""

    def step(state: Log) -> dict[str, Any]:
        return {"items": [item(state["n"])], "n": state["n"] + 1}

    builder = StateGraph(Log)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", lambda s: "step" if s["n"] < until else END)
    return builder.compile(checkpointer=saver)


def fill(saver: Any) -> dict[str, list[StoredCheckpoint]]:
    """Threads with a chained list (``log``), a fork and a pause (``ask``); their histories."""
    graph = log_graph(saver, 5)
    for thread in ("log", "fork"):
        graph.invoke({"items": [], "n": 0}, config(thread))
    old = next(s for s in graph.get_state_history(config("fork")) if s.values.get("n") == 2)
    graph.update_state(old.config, {"items": ["fork"]})
    paused = ask_graph(saver).invoke({"question": "q"}, config("ask"))
    assert [i.value for i in paused["__interrupt__"]] == [{"ask": "q"}]
    return {thread: list(saver.history(thread)) for thread in ("log", "fork", "ask")}


def carry_on(saver: Any, before: dict[str, list[StoredCheckpoint]]) -> None:
    """Check that :func:`fill`'s threads read back as ``before`` and that runs go on."""
    for thread, history in before.items():
        assert list(saver.history(thread)) == history, thread
    # "log" appends to chunks the old layout wrote, "fork" to a snapshot it
    # wrote, and "ask" resumes.
    graph = log_graph(saver, 8)
    out = graph.invoke({"items": ["more"]}, config("log"))
    assert out["items"] == [f"item{i}" for i in range(5)] + ["more", "item5", "item6", "item7"]
    out = graph.invoke({"items": ["more"]}, config("fork"))
    assert out["items"][:5] == ["item0", "item1", "fork", "more", "item2"]
    assert ask_graph(saver).invoke(Command(resume="yes"), config("ask")) == {
        "question": "q",
        "answer": "yes",
    }
    for thread in ("log", "fork"):
        latest = graph.get_state(config(thread))
        assert saver.prune(thread, keep_last=1) > 0
        assert graph.get_state(config(thread)).values == latest.values
