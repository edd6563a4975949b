"""update_state: values applied as if a node returned them (notes Q1h-Q1j, Q17).

Each test runs on every saver.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from pausegraph.constants import END, START
from pausegraph.errors import InvalidUpdateError
from pausegraph.graph import StateGraph

CFG = {"configurable": {"thread_id": "t1"}}


def paused_seed(make_seed: Any) -> Any:
    """The seed graph, paused by the dynamic interrupt in step_2 (checkpoint step 1)."""
    seed = make_seed()
    result = seed.graph.invoke({"input": "hello world"}, CFG)
    assert "__interrupt__" in result
    seed.calls.clear()
    return seed


def test_update_while_paused_infers_the_last_writer_and_drops_the_interrupt(make_seed):
    seed = paused_seed(make_seed)
    paused = seed.graph.get_state(CFG)

    returned = seed.graph.update_state(CFG, {"input": "foo"})

    state = seed.graph.get_state(CFG)
    assert returned == state.config
    assert list(returned["configurable"]) == ["thread_id", "checkpoint_ns", "checkpoint_id"]
    assert (
        returned["configurable"]["checkpoint_id"] != paused.config["configurable"]["checkpoint_id"]
    )
    assert seed.graph.get_state(returned) == state
    assert state.values == {"input": "foo"}
    assert state.next == ("step_2",)  # as_node inferred as step_1, the last writer
    assert state.metadata == {"source": "update", "step": 2, "parents": {}}
    assert state.parent_config == paused.config
    assert state.interrupts == ()
    assert [(t.name, t.interrupts) for t in state.tasks] == [("step_2", ())]

    assert seed.graph.invoke(None, CFG) == {"input": "foo!"}
    assert seed.calls == ["step_2", "step_3"]
    assert seed.graph.get_state(CFG).metadata == {"source": "loop", "step": 4, "parents": {}}


@pytest.mark.parametrize(
    ("values", "expected"), [(None, "hello world!"), ({"input": "abc"}, "abc!")]
)
def test_update_as_a_node_skips_that_node(make_seed, values, expected):
    seed = paused_seed(make_seed)

    seed.graph.update_state(CFG, values, as_node="step_2")

    state = seed.graph.get_state(CFG)
    assert state.next == ("step_3",)
    assert state.values == {"input": expected[:-1]}
    assert state.metadata == {"source": "update", "step": 2, "parents": {}}
    assert state.interrupts == ()
    assert seed.graph.invoke(None, CFG) == {"input": expected}
    assert seed.calls == ["step_3"]
    assert seed.graph.get_state(CFG).metadata == {"source": "loop", "step": 3, "parents": {}}


def test_update_as_end_with_none_clears_the_pending_tasks(make_seed):
    seed = paused_seed(make_seed)

    seed.graph.update_state(CFG, None, as_node=END)

    state = seed.graph.get_state(CFG)
    assert (state.values, state.next, state.tasks, state.interrupts) == (
        {"input": "hello world"}, (), (), (),
    )  # fmt: skip
    assert state.metadata == {"source": "update", "step": 2, "parents": {}}
    history_len = len(list(seed.graph.get_state_history(CFG)))

    assert seed.graph.invoke(None, CFG) == {"input": "hello world"}
    assert seed.calls == []
    assert len(list(seed.graph.get_state_history(CFG))) == history_len


def test_update_as_end_with_values_is_refused(make_seed):
    seed = paused_seed(make_seed)
    before = list(seed.graph.get_state_history(CFG))

    with pytest.raises(InvalidUpdateError, match=r"__end__|END") as info:
        seed.graph.update_state(CFG, {"input": "zz"}, as_node=END)

    assert "None" in str(info.value)
    assert list(seed.graph.get_state_history(CFG)) == before


def test_update_as_start_reruns_the_graph_from_its_first_node(make_seed):
    seed = paused_seed(make_seed)

    seed.graph.update_state(CFG, {"input": "zz"}, as_node=START)

    state = seed.graph.get_state(CFG)
    assert (state.values, state.next) == ({"input": "zz"}, ("step_1",))
    assert state.metadata == {"source": "update", "step": 2, "parents": {}}
    assert seed.graph.invoke(None, CFG) == {"input": "zz!"}
    assert seed.calls == ["step_1", "step_2", "step_3"]


def test_update_on_a_fresh_thread_starts_it(make_seed):
    seed = make_seed()

    returned = seed.graph.update_state(CFG, {"input": "x"})

    state = seed.graph.get_state(CFG)
    assert returned == state.config
    assert (state.values, state.next) == ({"input": "x"}, ("step_1",))
    assert state.metadata == {"source": "update", "step": 0, "parents": {}}
    assert state.parent_config is None
    assert [t.name for t in state.tasks] == ["step_1"]
    assert seed.graph.invoke(None, CFG) == {"input": "x!"}
    assert seed.calls == ["step_1", "step_2", "step_3"]


def test_update_on_a_fresh_thread_as_a_node_continues_after_it(make_seed):
    seed = make_seed()

    seed.graph.update_state(CFG, {"input": "abc"}, as_node="step_1")

    state = seed.graph.get_state(CFG)
    assert (state.values, state.next) == ({"input": "abc"}, ("step_2",))
    assert state.metadata == {"source": "update", "step": 0, "parents": {}}
    assert seed.graph.invoke(None, CFG) == {"input": "abc!"}
    assert seed.calls == ["step_2", "step_3"]


def test_update_on_a_finished_thread_infers_the_last_node(make_seed):
    seed = make_seed()
    seed.graph.invoke({"input": "hi"}, CFG)
    seed.calls.clear()

    seed.graph.update_state(CFG, {"input": "zz"})

    state = seed.graph.get_state(CFG)
    assert (state.values, state.next) == ({"input": "zz"}, ())
    assert state.metadata == {"source": "update", "step": 4, "parents": {}}
    assert seed.graph.invoke(None, CFG) == {"input": "zz"}
    assert seed.calls == []


class LogState(TypedDict):
    log: Annotated[list, operator.add]


def test_update_after_a_parallel_step_needs_as_node(saver):
    builder = StateGraph(LogState)
    builder.add_node("a", lambda state: {"log": ["a"]})
    builder.add_node("b", lambda state: {"log": ["b"]})
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    graph = builder.compile(checkpointer=saver)
    assert graph.invoke({"log": []}, CFG) == {"log": ["a", "b"]}
    before = list(graph.get_state_history(CFG))

    with pytest.raises(InvalidUpdateError, match="as_node") as info:
        graph.update_state(CFG, {"log": ["x"]})

    assert "'a'" in str(info.value) and "'b'" in str(info.value)
    assert list(graph.get_state_history(CFG)) == before

    graph.update_state(CFG, {"log": ["x"]}, as_node="a")
    assert graph.get_state(CFG).values == {"log": ["a", "b", "x"]}


class Routed(TypedDict):
    n: int
    log: Annotated[list, operator.add]


def test_update_as_the_last_writer_routes_again_as_in_langgraph(saver):
    # Paused before the branch a's router chose; an update (as a, the last writer)
    # routes again with the new values, replacing that branch, as LangGraph does.
    builder = StateGraph(Routed)
    builder.add_node("a", lambda s: {"log": ["a"]})
    builder.add_node("big", lambda s: {"log": ["big"]})
    builder.add_node("small", lambda s: {"log": ["small"]})
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", lambda s: "big" if s["n"] > 5 else "small", ["big", "small"])
    graph = builder.compile(checkpointer=saver, interrupt_before=["big", "small"])
    graph.invoke({"n": 1, "log": []}, CFG)
    assert graph.get_state(CFG).next == ("small",)

    graph.update_state(CFG, {"n": 10})

    assert graph.get_state(CFG).next == ("big",)
    assert graph.invoke(None, CFG) == {"n": 10, "log": ["a", "big"]}


def test_update_as_a_pending_node_keeps_the_other_pending_ones(saver):
    # Not as LangGraph, which drops q too (it never runs): pausegraph skips only
    # p (the tasks of a node that did not run last stay); safer, so left as is.
    builder = StateGraph(LogState)
    for name in ("p", "q", "r"):
        builder.add_node(name, lambda s, name=name: {"log": [name]})
    builder.add_edge(START, "p").add_edge(START, "q").add_edge("p", "r")
    graph = builder.compile(checkpointer=saver, interrupt_before=["p", "q"])
    graph.invoke({"log": []}, CFG)

    graph.update_state(CFG, None, as_node="p")

    assert graph.get_state(CFG).next == ("q", "r")
