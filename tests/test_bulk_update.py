"""``bulk_update_state`` and ``update_state(as_node="__copy__")``, checked against LangGraph 1.2.22.

The graph pauses before n2 (after START -> n1); every test updates it from there.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.checkpoint.sqlite import SqliteSaver
from pausegraph.errors import InvalidUpdateError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import StateUpdate


class S(TypedDict, total=False):
    a: int
    log: Annotated[list[str], operator.add]


@pytest.fixture(params=["memory", "sqlite"])
def graph(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    builder = StateGraph(S)
    for name in ("n1", "n2", "n3"):
        builder.add_node(name, lambda s, name=name: {"log": [name]})
    builder.add_edge(START, "n1")
    builder.add_edge("n1", "n2")
    builder.add_edge("n2", "n3")
    builder.add_edge("n3", END)
    if request.param == "memory":
        yield builder.compile(checkpointer=InMemorySaver(), interrupt_before=["n2"])
        return
    with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as saver:
        yield builder.compile(checkpointer=saver, interrupt_before=["n2"])


CONFIG = {"configurable": {"thread_id": "t"}}


def paused(graph: Any) -> Any:
    graph.invoke({"a": 1, "log": []}, CONFIG)
    return graph.get_state(CONFIG)


def summary(graph: Any) -> tuple[Any, ...]:
    state = graph.get_state(CONFIG)
    meta = state.metadata
    return state.values, state.next, meta["source"], meta["step"]


def test_each_superstep_is_a_checkpoint(graph: Any) -> None:
    paused(graph)
    config = graph.bulk_update_state(
        CONFIG, [[StateUpdate({"log": ["x"]}, "n1")], [StateUpdate({"log": ["y"]}, "n2")]]
    )
    assert summary(graph) == ({"a": 1, "log": ["n1", "x", "y"]}, ("n3",), "update", 3)
    assert (
        config["configurable"]["checkpoint_id"]
        == graph.get_state(CONFIG).config["configurable"]["checkpoint_id"]
    )
    sources = [s.metadata["source"] for s in graph.get_state_history(CONFIG)]
    assert sources == ["update", "update", "loop", "loop", "input"]
    assert graph.invoke(None, CONFIG) == {"a": 1, "log": ["n1", "x", "y", "n3"]}


def test_a_superstep_applies_its_updates_together(graph: Any) -> None:
    paused(graph)
    graph.bulk_update_state(
        CONFIG, [[StateUpdate({"log": ["x"]}, "n1"), StateUpdate({"log": ["y"]}, "n2")]]
    )
    # One checkpoint; the reducer folds both; each node's edges plan the next step.
    assert summary(graph) == ({"a": 1, "log": ["n1", "x", "y"]}, ("n2", "n3"), "update", 2)
    assert len(list(graph.get_state_history(CONFIG))) == 4


def test_two_updates_as_one_node_both_apply(graph: Any) -> None:
    paused(graph)
    graph.bulk_update_state(
        CONFIG, [[StateUpdate({"log": ["x"]}, "n1"), StateUpdate({"log": ["y"]}, "n1")]]
    )
    assert summary(graph) == ({"a": 1, "log": ["n1", "x", "y"]}, ("n2",), "update", 2)


def test_a_lone_update_may_leave_as_node_out(graph: Any) -> None:
    before = paused(graph)
    graph.bulk_update_state(CONFIG, [[StateUpdate({"a": 9})]])
    assert summary(graph) == ({"a": 9, "log": ["n1"]}, ("n2",), "update", 2)
    # The same as update_state on a twin of the thread.
    twin = {"configurable": {"thread_id": "twin"}}
    graph.invoke({"a": 1, "log": []}, twin)
    graph.update_state(twin, {"a": 9})
    assert graph.get_state(twin).values == graph.get_state(CONFIG).values
    assert graph.get_state(twin).next == graph.get_state(CONFIG).next
    assert before.next == ("n2",)


def test_plain_tuples_work_as_updates(graph: Any) -> None:
    """LangGraph needs all three fields; (values,) and (values, as_node) are enough here."""
    paused(graph)
    graph.bulk_update_state(CONFIG, [[({"log": ["x"]}, "n1"), ({"log": ["y"]}, "n2")]])
    assert summary(graph) == ({"a": 1, "log": ["n1", "x", "y"]}, ("n2", "n3"), "update", 2)
    graph.bulk_update_state(CONFIG, [[({"a": 2}, "n1")], [({"a": 3},)]])  # as n1 again
    assert summary(graph) == ({"a": 3, "log": ["n1", "x", "y"]}, ("n2",), "update", 4)


def test_end_drops_the_pending_tasks(graph: Any) -> None:
    paused(graph)
    graph.bulk_update_state(CONFIG, [[StateUpdate(None, END)]])
    assert summary(graph) == ({"a": 1, "log": ["n1"]}, (), "update", 2)


def test_two_values_for_a_key_without_reducer_change_nothing(graph: Any) -> None:
    before = paused(graph)
    with pytest.raises(InvalidUpdateError, match=r"'a' received 2 values in one step"):
        graph.bulk_update_state(CONFIG, [[({"a": 5}, "n1"), ({"a": 6}, "n2")]])
    assert graph.get_state(CONFIG) == before
    assert len(list(graph.get_state_history(CONFIG))) == 3


def test_a_bad_later_superstep_stores_none_of_them(graph: Any) -> None:
    """pausegraph checks every superstep first (LangGraph stores those before the bad one)."""
    before = paused(graph)
    with pytest.raises(InvalidUpdateError, match=r"'a' received 2 values"):
        graph.bulk_update_state(
            CONFIG, [[({"log": ["x"]}, "n1")], [({"a": 5}, "n1"), ({"a": 6}, "n2")]]
        )
    assert graph.get_state(CONFIG) == before
    assert len(list(graph.get_state_history(CONFIG))) == 3


@pytest.mark.parametrize(
    ("supersteps", "message"),
    [
        ([], r"got no supersteps"),
        ([[]], r"got an empty superstep"),
        ([[({"a": 1}, None), ({"a": 2}, None)]], r"as_node is required when a superstep applies"),
        ([[({"a": 1}, "zz")]], r"Node 'zz' does not exist, so bulk_update_state\(\) cannot"),
        ([[({"a": 1}, END)]], r"as_node=END only takes values=None"),
        ([[(None, END), ({"a": 1}, "n1")]], r"as_node=END drops the pending tasks, so it must"),
        ([[(None, "__copy__"), ({"a": 1}, "n1")]], r"'__copy__' copies a checkpoint as it is, so"),
        ([StateUpdate({"a": 1}, "n1")], r"Superstep 1 is a StateUpdate, not a list of updates"),
        ([[{"a": 1}]], r"Update 1 of superstep 1 must be StateUpdate\(values, as_node\)"),
        ({"a": 1}, r"supersteps must be a list of supersteps"),
    ],
)
def test_bad_supersteps_are_refused_before_anything_is_stored(
    graph: Any, supersteps: Any, message: str
) -> None:
    before = paused(graph)
    with pytest.raises(InvalidUpdateError, match=message):
        graph.bulk_update_state(CONFIG, supersteps)
    assert graph.get_state(CONFIG) == before


def test_copy_forks_the_checkpoint_as_it_is(graph: Any) -> None:
    before = paused(graph)
    config = graph.update_state(before.config, None, as_node="__copy__")
    copy = graph.get_state(config)
    assert (copy.values, copy.next) == (before.values, before.next)
    assert (copy.metadata["source"], copy.metadata["step"]) == ("fork", before.metadata["step"] + 1)
    assert copy.parent_config == before.parent_config  # a sibling, as in LangGraph
    assert graph.invoke(None, CONFIG) == {"a": 1, "log": ["n1", "n2", "n3"]}


def test_copy_then_update_in_one_call(graph: Any) -> None:
    paused(graph)
    graph.bulk_update_state(
        CONFIG, [[StateUpdate(None, "__copy__")], [StateUpdate({"a": 4}, "n1")]]
    )
    assert summary(graph) == ({"a": 4, "log": ["n1"]}, ("n2",), "update", 3)
    sources = [s.metadata["source"] for s in graph.get_state_history(CONFIG)]
    assert sources[:2] == ["update", "fork"]


def test_copy_refuses_values_and_empty_threads(graph: Any) -> None:
    before = paused(graph)
    with pytest.raises(InvalidUpdateError, match=r"takes values=None \(LangGraph ignores"):
        graph.update_state(CONFIG, {"a": 5}, as_node="__copy__")
    assert graph.get_state(CONFIG) == before
    empty = {"configurable": {"thread_id": "empty"}}
    with pytest.raises(InvalidUpdateError, match=r"Thread 'empty' has no checkpoint to copy"):
        graph.update_state(empty, None, as_node="__copy__")


def test_abulk_update_state(graph: Any) -> None:
    paused(graph)

    async def go() -> Any:
        return await graph.abulk_update_state(
            CONFIG, [[StateUpdate({"log": ["x"]}, "n1"), StateUpdate({"log": ["y"]}, "n2")]]
        )

    asyncio.run(go())
    assert summary(graph) == ({"a": 1, "log": ["n1", "x", "y"]}, ("n2", "n3"), "update", 2)
