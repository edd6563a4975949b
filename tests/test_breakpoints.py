"""Static breakpoints, NodeInterrupt, editing a paused thread, replaying an interrupt.

Expected values come from notes Q1i, Q2, Q3 and Q15 and seeds 002/003; each
test runs on every saver.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

import pytest

from pausegraph.errors import NodeInterrupt
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, Interrupt

CFG = {"configurable": {"thread_id": "t1"}}


def assert_paused_before(graph: Any, node: str, step: int, values: dict[str, Any]) -> None:
    state = graph.get_state(CFG)
    assert state.next == (node,)
    assert state.values == values
    assert state.metadata == {"source": "loop", "step": step, "parents": {}}
    assert state.interrupts == ()
    assert [(t.name, t.path, t.interrupts) for t in state.tasks] == [
        (node, ("__pregel_pull", node), ())
    ]


@pytest.mark.parametrize(
    "compile_kw", [{"interrupt_before": ["step_2"]}, {"interrupt_after": ["step_1"]}]
)
def test_compile_time_breakpoint_pauses_and_resumes_with_none(make_seed, compile_kw):
    seed = make_seed(**compile_kw)

    assert seed.graph.invoke({"input": "hi"}, CFG) == {"input": "hi"}  # no "__interrupt__"

    assert seed.calls == ["step_1"]
    assert_paused_before(seed.graph, "step_2", 1, {"input": "hi"})
    assert seed.graph.invoke(None, CFG) == {"input": "hi!"}
    assert seed.calls == ["step_1", "step_2", "step_3"]
    assert seed.graph.get_state(CFG).metadata == {"source": "loop", "step": 3, "parents": {}}


def test_breakpoint_values_stream_has_no_interrupt_key(make_seed):
    seed = make_seed(interrupt_before=["step_2"])

    chunks = list(seed.graph.stream({"input": "hi"}, CFG, stream_mode="values"))

    assert chunks == [{"input": "hi"}, {"input": "hi"}]


def test_breakpoint_resumes_with_a_command_too(make_seed):
    seed = make_seed(interrupt_before=["step_2"])
    seed.graph.invoke({"input": "hi"}, CFG)

    assert seed.graph.invoke(Command(resume="x"), CFG) == {"input": "hi!"}
    assert seed.calls == ["step_1", "step_2", "step_3"]


def test_interrupt_after_the_last_node_ends_the_run(make_seed):
    seed = make_seed(interrupt_after=["step_3"])

    assert seed.graph.invoke({"input": "hi"}, CFG) == {"input": "hi!"}
    assert seed.graph.get_state(CFG).next == ()
    assert seed.graph.invoke(None, CFG) == {"input": "hi!"}
    assert seed.calls == ["step_1", "step_2", "step_3"]


@pytest.mark.parametrize(
    "run_kw", [{"interrupt_before": ["step_3"]}, {"interrupt_after": ["step_2"]}]
)
def test_run_time_breakpoint_applies_to_that_call_only(make_seed, run_kw):
    seed = make_seed()

    assert seed.graph.invoke({"input": "hi"}, CFG, **run_kw) == {"input": "hi"}

    assert_paused_before(seed.graph, "step_3", 2, {"input": "hi"})
    assert seed.graph.invoke(None, CFG) == {"input": "hi!"}
    assert seed.calls == ["step_1", "step_2", "step_3"]


@pytest.mark.parametrize(
    ("compile_kw", "pauses"),
    [
        # (result, next) after the first invoke and after each invoke(None)
        (
            {"interrupt_before": "*"},
            [("hi", ("step_1",)), ("hi", ("step_2",)), ("hi", ("step_3",)), ("hi!", ())],
        ),
        ({"interrupt_after": "*"}, [("hi", ("step_2",)), ("hi", ("step_3",)), ("hi!", ())]),
    ],
)
def test_star_pauses_at_every_node(make_seed, compile_kw, pauses):
    seed = make_seed(**compile_kw)
    seen = []

    result = seed.graph.invoke({"input": "hi"}, CFG)
    seen.append((result["input"], seed.graph.get_state(CFG).next))
    for _ in pauses[1:]:
        result = seed.graph.invoke(None, CFG)
        seen.append((result["input"], seed.graph.get_state(CFG).next))

    assert seen == pauses
    assert seed.calls == ["step_1", "step_2", "step_3"]
    assert seed.graph.invoke(None, CFG) == {"input": "hi!"}  # nothing left: a no-op
    assert seed.calls == ["step_1", "step_2", "step_3"]


def test_first_star_pause_is_before_step_1_not_start(make_seed):
    seed = make_seed(interrupt_before="*")
    seed.graph.invoke({"input": "hi"}, CFG)

    assert_paused_before(seed.graph, "step_1", 0, {"input": "hi"})
    assert seed.calls == []


def test_static_then_dynamic_pause(make_seed):
    seed = make_seed(interrupt_before=["step_2"])

    assert seed.graph.invoke({"input": "hello world"}, CFG) == {"input": "hello world"}
    paused = seed.graph.invoke(None, CFG)
    assert [i.value for i in paused.pop("__interrupt__")] == [
        {"question": "too long", "input": "hello world"}
    ]
    assert paused == {"input": "hello world"}
    assert seed.graph.invoke(Command(resume="ok"), CFG) == {"input": "ok!"}


@pytest.mark.parametrize("as_node", [None, "step_1"])
def test_update_while_paused_then_resume_runs_the_paused_node_without_pausing_again(
    make_seed, as_node
):
    seed = make_seed(interrupt_before=["step_2"])
    seed.graph.invoke({"input": "hi"}, CFG)
    seed.calls.clear()

    seed.graph.update_state(CFG, {"input": "x"}, as_node=as_node)

    state = seed.graph.get_state(CFG)
    assert (state.values, state.next, state.interrupts) == ({"input": "x"}, ("step_2",), ())
    assert state.metadata == {"source": "update", "step": 2, "parents": {}}
    assert seed.graph.invoke(None, CFG) == {"input": "x!"}
    assert seed.calls == ["step_2", "step_3"]
    assert seed.graph.get_state(CFG).metadata == {"source": "loop", "step": 4, "parents": {}}


def test_update_as_the_paused_node_skips_it(make_seed):
    seed = make_seed(interrupt_before=["step_2"])
    seed.graph.invoke({"input": "hi"}, CFG)
    seed.calls.clear()

    seed.graph.update_state(CFG, None, as_node="step_2")

    assert seed.graph.get_state(CFG).next == ("step_3",)
    assert seed.graph.invoke(None, CFG) == {"input": "hi!"}
    assert seed.calls == ["step_3"]


# -- NodeInterrupt (legacy, seed 003) -------------------------------------------------


class SeedState(TypedDict):
    input: str


def build_node_interrupt(saver: Any) -> tuple[Any, list[str]]:
    calls: list[str] = []

    def step_1(state: SeedState) -> SeedState:
        calls.append("step_1")
        return state

    def step_2(state: SeedState) -> dict[str, str]:
        calls.append("step_2")
        if len(state["input"]) > 5:
            raise NodeInterrupt({"reason": "too long"})
        return {"input": state["input"] + "?"}

    def step_3(state: SeedState) -> dict[str, str]:
        calls.append("step_3")
        return {"input": state["input"] + "!"}

    builder = StateGraph(SeedState)
    for name, fn in (("step_1", step_1), ("step_2", step_2), ("step_3", step_3)):
        builder.add_node(name, fn)
    builder.add_edge(START, "step_1")
    builder.add_edge("step_1", "step_2")
    builder.add_edge("step_2", "step_3")
    builder.add_edge("step_3", END)
    return builder.compile(checkpointer=saver), calls


NODE_INTERRUPT = Interrupt(value={"reason": "too long"}, id="placeholder-id")


def test_node_interrupt_pauses_with_a_placeholder_id(saver):
    graph, calls = build_node_interrupt(saver)

    result = graph.invoke({"input": "hello world"}, CFG)

    assert calls == ["step_1", "step_2"]

    assert result == {"input": "hello world", "__interrupt__": [NODE_INTERRUPT]}
    state = graph.get_state(CFG)
    assert state.next == ("step_2",)
    assert [(t.name, t.path, t.interrupts) for t in state.tasks] == [
        ("step_2", ("__pregel_pull", "step_2"), (NODE_INTERRUPT,))
    ]
    assert state.interrupts == (NODE_INTERRUPT,)


@pytest.mark.parametrize("resume", [None, Command(resume="x")], ids=["none", "command"])
def test_node_interrupt_fires_again_until_the_state_changes(saver, resume):
    graph, calls = build_node_interrupt(saver)
    graph.invoke({"input": "hello world"}, CFG)

    again = graph.invoke(resume, CFG)

    assert again == {"input": "hello world", "__interrupt__": [NODE_INTERRUPT]}
    assert calls == ["step_1", "step_2", "step_2"]

    graph.update_state(CFG, {"input": "ok"})
    assert graph.invoke(None, CFG) == {"input": "ok?!"}
    assert calls == ["step_1", "step_2", "step_2", "step_2", "step_3"]


# -- time travel to before an interrupt --------------------------------------------


def test_replaying_from_before_an_interrupt_fires_it_again(make_seed):
    seed = make_seed()
    seed.graph.invoke({"input": "hello world"}, CFG)
    assert seed.graph.invoke(Command(resume="short"), CFG) == {"input": "short!"}
    target = next(s for s in seed.graph.get_state_history(CFG) if s.metadata["step"] == 1)
    assert target.next == ("step_2",)
    seed.calls.clear()

    replay = seed.graph.invoke(None, target.config)

    (again,) = replay.pop("__interrupt__")
    assert replay == {"input": "hello world"}
    assert again.value == {"question": "too long", "input": "hello world"}
    assert re.fullmatch(r"[0-9a-f]{32}", again.id)
    assert seed.calls == ["step_2"]
    head = seed.graph.get_state(CFG)
    assert head.metadata == {"source": "fork", "step": 2, "parents": {}}
    assert (head.next, head.interrupts) == (("step_2",), (again,))

    assert seed.graph.invoke(Command(resume="again"), CFG) == {"input": "again!"}
    assert seed.calls == ["step_2", "step_2", "step_3"]
