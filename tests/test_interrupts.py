"""Dynamic interrupt(): payload shapes, resuming, several and parallel interrupts, Command.

Expected values come from notes Q1, Q4, Q11, Q16 and seed 004; each test runs
on every saver.
"""

from __future__ import annotations

import operator
import re
import threading
from typing import Annotated, Any, Literal, TypedDict

import pytest

from pausegraph.errors import ResumeError, UnreachableNodeWarning
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, Interrupt, interrupt

CFG = {"configurable": {"thread_id": "t1"}}
HEX32 = re.compile(r"[0-9a-f]{32}")
QUESTION = {"question": "too long", "input": "hello world"}


def test_invoke_returns_the_interrupts_as_a_list(make_seed):
    seed = make_seed()

    result = seed.graph.invoke({"input": "hello world"}, CFG)

    assert set(result) == {"input", "__interrupt__"}
    assert result["input"] == "hello world"
    assert type(result["__interrupt__"]) is list
    (intr,) = result["__interrupt__"]
    assert type(intr) is Interrupt
    assert intr.value == QUESTION
    assert HEX32.fullmatch(intr.id)
    assert intr == Interrupt(value=QUESTION, id=intr.id)


def test_updates_stream_yields_the_interrupts_as_a_tuple(make_seed):
    seed = make_seed()

    chunks = list(seed.graph.stream({"input": "hello world"}, CFG, stream_mode="updates"))

    assert chunks[0] == {"step_1": {"input": "hello world"}}
    assert len(chunks) == 2
    assert list(chunks[1]) == ["__interrupt__"]
    assert type(chunks[1]["__interrupt__"]) is tuple
    (intr,) = chunks[1]["__interrupt__"]
    assert intr.value == QUESTION and HEX32.fullmatch(intr.id)


def test_values_stream_ends_with_the_state_and_the_interrupts(make_seed):
    seed = make_seed()

    chunks = list(seed.graph.stream({"input": "hello world"}, CFG, stream_mode="values"))

    assert chunks[:2] == [{"input": "hello world"}, {"input": "hello world"}]
    assert len(chunks) == 3
    last = chunks[2]
    assert type(last["__interrupt__"]) is tuple
    (intr,) = last.pop("__interrupt__")
    assert last == {"input": "hello world"}
    assert intr.value == QUESTION


def test_get_state_shows_the_pending_interrupt(make_seed):
    seed = make_seed()
    (intr,) = seed.graph.invoke({"input": "hello world"}, CFG)["__interrupt__"]

    state = seed.graph.get_state(CFG)

    assert state.next == ("step_2",)
    assert [(t.name, t.interrupts) for t in state.tasks] == [("step_2", (intr,))]
    assert state.interrupts == (intr,)


def test_resume_reruns_the_node_from_its_first_line_and_returns_the_answer(make_seed):
    seed = make_seed()
    seed.graph.invoke({"input": "hello world"}, CFG)

    assert seed.graph.invoke(Command(resume="short"), CFG) == {"input": "short!"}

    assert seed.resumed_with == ["short"]
    assert seed.calls == ["step_1", "step_2", "step_2", "step_3"]
    state = seed.graph.get_state(CFG)
    assert (state.next, state.interrupts, state.tasks) == ((), (), ())
    assert state.metadata == {"source": "loop", "step": 3, "parents": {}}


def test_the_answer_is_not_checked_again(make_seed):
    seed = make_seed()
    seed.graph.invoke({"input": "hello world"}, CFG)

    assert seed.graph.invoke(Command(resume="still very long"), CFG) == {
        "input": "still very long!"
    }


def test_resume_with_none_interrupts_again_with_the_same_id(make_seed):
    seed = make_seed()
    (first,) = seed.graph.invoke({"input": "hello world"}, CFG)["__interrupt__"]
    before = list(seed.graph.get_state_history(CFG))

    again = seed.graph.invoke(None, CFG)

    assert again == {"input": "hello world", "__interrupt__": [first]}
    assert seed.calls == ["step_1", "step_2", "step_2"]
    assert list(seed.graph.get_state_history(CFG)) == before  # no checkpoint added


# -- several interrupts in one node: the validation loop of seed 004 ---------------------


class AgeState(TypedDict):
    age: int


def build_age_loop(saver: Any) -> tuple[Any, list[str]]:
    runs: list[str] = []

    def get_age(state: AgeState) -> dict[str, Any]:
        runs.append("get_age")
        prompt = "What is your age?"
        while True:
            answer = interrupt(prompt)
            if isinstance(answer, int) and answer > 0:
                break
            prompt = f"'{answer}' is not a valid age. Please enter a positive number."
        return {"age": answer}

    builder = StateGraph(AgeState)
    builder.add_node("get_age", get_age)
    builder.add_edge(START, "get_age")
    builder.add_edge("get_age", END)
    return builder.compile(checkpointer=saver), runs


def test_several_interrupts_in_a_node_are_answered_in_order_with_distinct_ids(saver):
    graph, runs = build_age_loop(saver)

    (first,) = graph.invoke({}, CFG)["__interrupt__"]
    (second,) = graph.invoke(Command(resume="abc"), CFG)["__interrupt__"]
    (second_again,) = graph.invoke(None, CFG)["__interrupt__"]
    (third,) = graph.invoke(Command(resume=-5), CFG)["__interrupt__"]
    done = graph.invoke(Command(resume=42), CFG)

    assert first.value == "What is your age?"
    assert second.value == "'abc' is not a valid age. Please enter a positive number."
    assert third.value == "'-5' is not a valid age. Please enter a positive number."
    assert len({first.id, second.id, third.id}) == 3
    assert all(HEX32.fullmatch(i.id) for i in (first, second, third))
    assert second_again == second  # stable across re-runs
    assert done == {"age": 42}
    assert runs == ["get_age"] * 5
    history = list(graph.get_state_history(CFG))
    assert [(s.metadata["step"], s.next) for s in history] == [
        (1, ()), (0, ("get_age",)), (-1, ("__start__",)),
    ]  # fmt: skip


# -- parallel interrupts (notes Q4) -------------------------------------------------------


class LogState(TypedDict):
    log: Annotated[list, operator.add]
    x: int


def build_two_askers(saver: Any) -> tuple[Any, dict[str, int]]:
    counts = {"a": 0, "b": 0, "c": 0}

    def a(state: LogState) -> dict[str, Any]:
        counts["a"] += 1
        return {"log": [f"a={interrupt('ask a')}"]}

    def b(state: LogState) -> dict[str, Any]:
        counts["b"] += 1
        return {"log": [f"b={interrupt('ask b')}"]}

    def c(state: LogState) -> dict[str, Any]:
        counts["c"] += 1
        return {"log": ["c"]}

    builder = StateGraph(LogState)
    for name, fn in (("a", a), ("b", b), ("c", c)):
        builder.add_node(name, fn)
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    builder.add_edge(["a", "b"], "c")
    return builder.compile(checkpointer=saver), counts


def paused_pair(saver: Any) -> tuple[Any, dict[str, int], Interrupt, Interrupt]:
    graph, counts = build_two_askers(saver)
    result = graph.invoke({"log": []}, CFG)
    assert result["log"] == []
    by_value = {i.value: i for i in result["__interrupt__"]}
    assert sorted(by_value) == ["ask a", "ask b"]
    state = graph.get_state(CFG)
    assert state.next == ("a", "b")
    assert state.interrupts == (by_value["ask a"], by_value["ask b"])
    return graph, counts, by_value["ask a"], by_value["ask b"]


def test_a_bare_resume_value_with_two_pending_interrupts_is_refused(saver, view):
    graph, counts, _, _ = paused_pair(saver)
    before = view(graph, CFG)

    with pytest.raises(ResumeError) as info:
        graph.invoke(Command(resume="x"), CFG)

    message = str(info.value)
    assert "2 pending interrupts" in message
    assert "Command(resume={" in message and "id" in message
    assert view(graph, CFG) == before
    assert counts == {"a": 1, "b": 1, "c": 0}


def test_parallel_interrupts_answered_one_id_at_a_time(saver):
    graph, counts, ia, ib = paused_pair(saver)

    after_a = graph.invoke(Command(resume={ia.id: "A"}), CFG)

    assert after_a == {"log": ["a=A"], "__interrupt__": [ib]}  # b asks again, same id
    state = graph.get_state(CFG)
    assert (state.next, state.values, state.interrupts) == (("b",), {"log": ["a=A"]}, (ib,))
    assert [(t.name, t.result) for t in state.tasks] == [("a", {"log": ["a=A"]}), ("b", None)]

    assert graph.invoke(Command(resume={ib.id: "B"}), CFG) == {"log": ["a=A", "b=B", "c"]}
    assert (counts["a"], counts["c"]) == (2, 1)  # a did not run again for b's answer
    assert graph.get_state(CFG).metadata["step"] == 2


def test_answering_one_parallel_interrupt_leaves_the_other_node_untouched(saver):
    # Deliberate difference: LangGraph re-runs b too (its code before interrupt()
    # runs again for nothing); pausegraph keeps b paused until its own answer.
    graph, counts, ia, ib = paused_pair(saver)

    graph.invoke(Command(resume={ia.id: "A"}), CFG)
    assert counts == {"a": 2, "b": 1, "c": 0}

    graph.invoke(Command(resume={ib.id: "B"}), CFG)
    assert counts == {"a": 2, "b": 2, "c": 1}


def test_parallel_interrupts_answered_together(saver):
    graph, counts, ia, ib = paused_pair(saver)

    result = graph.invoke(Command(resume={ia.id: "A", ib.id: "B"}), CFG)

    assert result == {"log": ["a=A", "b=B", "c"]}
    assert counts == {"a": 2, "b": 2, "c": 1}


def test_history_keeps_the_answered_interrupts_of_a_parallel_step(saver):
    """History records the interrupts a step raised, answered ones too; get_state only what waits.

    Checked against LangGraph 1.2.22: after both answers, the step-0 snapshot in
    get_state_history lists both interrupts on its tasks and in .interrupts.
    """
    graph, _, ia, ib = paused_pair(saver)
    graph.invoke(Command(resume={ia.id: "A"}), CFG)
    assert graph.get_state(CFG).interrupts == (ib,)  # live: only what still waits

    graph.invoke(Command(resume={ib.id: "B"}), CFG)

    step0 = next(h for h in graph.get_state_history(CFG) if h.metadata["step"] == 0)
    assert [(t.name, t.interrupts) for t in step0.tasks] == [("a", (ia,)), ("b", (ib,))]
    assert step0.interrupts == (ia, ib)
    assert [t.result for t in step0.tasks] == [{"log": ["a=A"]}, {"log": ["b=B"]}]


def test_streams_of_a_step_where_one_parallel_node_pauses_match_langgraph(saver):
    # As LangGraph 1.2: a step that paused ends with the values holding the
    # finished node's write; the resume starts from the stored values (with its
    # update) and replays that node's update marked cached.
    finished = threading.Event()

    def ask(state: LogState) -> dict[str, Any]:
        finished.wait(5)  # pause after "done" ended, so the chunks come in one order
        return {"log": [f"ask={interrupt('ask')}"]}

    def done(state: LogState) -> dict[str, Any]:
        finished.set()
        return {"log": ["done"]}

    builder = StateGraph(LogState)
    builder.add_node("ask", ask).add_node("done", done)
    builder.add_node("join", lambda s: {"log": ["join"]})
    builder.add_edge(START, "ask").add_edge(START, "done").add_edge(["ask", "done"], "join")
    graph = builder.compile(checkpointer=saver)
    first = list(graph.stream({"log": []}, CFG, stream_mode=["updates", "values"]))
    (intr,) = graph.get_state(CFG).interrupts
    assert first == [
        ("values", {"log": []}),
        ("updates", {"done": {"log": ["done"]}}),
        ("updates", {"__interrupt__": (intr,)}),
        ("values", {"log": [], "__interrupt__": (intr,)}),
        ("values", {"log": ["done"]}),
    ]
    resumed = list(
        graph.stream(Command(resume="A", update={"x": 1}), CFG, stream_mode=["updates", "values"])
    )
    assert resumed == [
        ("values", {"log": [], "x": 1}),
        ("updates", {"done": {"log": ["done"]}, "__metadata__": {"cached": True}}),
        ("updates", {"ask": {"log": ["ask=A"]}}),
        ("values", {"log": ["ask=A", "done"], "x": 1}),
        ("updates", {"join": {"log": ["join"]}}),
        ("values", {"log": ["ask=A", "done", "join"], "x": 1}),
    ]


def test_a_resumed_run_reports_its_checkpoint_first(saver):
    graph, _ = build_two_askers(saver)
    graph.invoke({"log": []}, {"configurable": {**CFG["configurable"], "user": "u"}})
    ia, ib = graph.get_state(CFG).interrupts
    chunks = list(graph.stream(Command(resume={ia.id: "A"}), CFG, stream_mode="debug"))
    first = chunks[0]
    assert (first["type"], first["step"]) == ("checkpoint", 0)
    # Read back from the saver: with the config's keys (here the thread's user).
    assert first["payload"]["metadata"] == {"source": "loop", "step": 0, "parents": {}, "user": "u"}
    assert first["payload"]["next"] == ["a", "b"]
    assert first["payload"]["tasks"][1]["interrupts"] == (
        {"value": "ask b", "id": ib.id, "response_schema": None},
    )
    assert [c["type"] for c in chunks[1:]][:1] == ["task"]


# -- Command(resume=..., update=...) and Command(goto=...) ---------------------------


def test_resume_with_an_update_applies_it_before_the_node_reruns(saver):
    seen: list[dict[str, Any]] = []

    def ask(state: LogState) -> dict[str, Any]:
        seen.append(dict(state))
        return {"log": [f"ask={interrupt('q?')}"]}

    builder = StateGraph(LogState)
    builder.add_node("ask", ask)
    builder.add_node("after", lambda state: {"log": ["after"]})
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "after")
    graph = builder.compile(checkpointer=saver)
    graph.invoke({"log": [], "x": 0}, CFG)

    result = graph.invoke(Command(resume="v", update={"x": 1}), CFG)

    assert result == {"log": ["ask=v", "after"], "x": 1}
    assert seen == [{"log": [], "x": 0}, {"log": [], "x": 1}]


class PlainState(TypedDict, total=False):
    x: str
    log: str


def test_resumed_node_may_write_the_key_the_resume_updated(saver):
    """The update lands before the step, so the node's write to the same plain key wins.

    Checked against LangGraph 1.2.22: the result is {'x': 'U|R', 'log': 'b'}
    and no InvalidUpdateError is raised (the key has no reducer).
    """

    def ask(state: PlainState) -> dict[str, str]:
        return {"x": f"{state['x']}|{interrupt('q')}"}

    builder = StateGraph(PlainState)
    builder.add_node("ask", ask)
    builder.add_node("b", lambda state: {"log": "b"})
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "b")
    graph = builder.compile(checkpointer=saver)
    graph.invoke({"x": "0"}, CFG)

    result = graph.invoke(Command(resume="R", update={"x": "U"}), CFG)

    assert result == {"x": "U|R", "log": "b"}
    history = list(graph.get_state_history(CFG))
    assert [h.values for h in history[:2]] == [{"x": "U|R", "log": "b"}, {"x": "U|R"}]


def test_a_resumes_update_and_goto_apply_once_when_a_later_step_pauses(saver):
    """The update and goto of a resume belong to the step it starts, not to the next pause.

    Checked against LangGraph 1.2.22: 'U' is added once and c runs once; the
    paused state is {'log': ['U', 'a:A', 'c']} with next ('b',); history shows
    the resumed checkpoint with the update and a's own result.
    """
    ran: list[str] = []

    def node(name: str) -> Any:
        def run(state: LogState) -> dict[str, Any]:
            ran.append(name)
            return {"log": [f"{name}:{interrupt(name)}" if name != "c" else "c"]}

        return run

    builder = StateGraph(LogState)
    for name in "abc":
        builder.add_node(name, node(name))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    with pytest.warns(UnreachableNodeWarning):  # only the goto leads to c
        graph = builder.compile(checkpointer=saver)
    graph.invoke({"log": []}, CFG)

    graph.invoke(Command(resume="A", goto="c", update={"log": ["U"]}), CFG)
    state = graph.get_state(CFG)
    assert (state.values, state.next) == ({"log": ["U", "a:A", "c"]}, ("b",))

    assert graph.invoke(Command(resume="B"), CFG) == {"log": ["U", "a:A", "c", "b:B"]}
    assert ran == ["a", "a", "c", "b", "b"]
    resumed = next(h for h in graph.get_state_history(CFG) if h.metadata["step"] == 0)
    assert resumed.values == {"log": ["U"]}
    assert [(t.name, t.result) for t in resumed.tasks] == [("a", {"log": ["a:A"]})]


class ApprovalState(TypedDict):
    action_details: str
    status: str


def build_approval(saver: Any) -> tuple[Any, list[str]]:
    ran: list[str] = []

    def approval(state: ApprovalState) -> Command[Literal["proceed", "cancel"]]:
        decision = interrupt(
            {"question": "Approve this action?", "details": state["action_details"]}
        )
        return Command(goto="proceed" if decision else "cancel")

    def proceed(state: ApprovalState) -> dict[str, str]:
        ran.append("proceed")
        return {"status": "approved"}

    def cancel(state: ApprovalState) -> dict[str, str]:
        ran.append("cancel")
        return {"status": "rejected"}

    builder = StateGraph(ApprovalState)
    builder.add_node("approval", approval)
    builder.add_node("proceed", proceed)
    builder.add_node("cancel", cancel)
    builder.add_edge(START, "approval")
    builder.add_edge("proceed", END)
    builder.add_edge("cancel", END)
    return builder.compile(checkpointer=saver), ran


@pytest.mark.parametrize(("answer", "status", "node"), [(True, "approved", "proceed"), (False, "rejected", "cancel")])  # fmt: skip
def test_command_goto_routes_on_the_answer(saver, answer, status, node):
    graph, ran = build_approval(saver)
    first = graph.invoke({"action_details": "Transfer $500", "status": "pending"}, CFG)
    assert [i.value for i in first["__interrupt__"]] == [
        {"question": "Approve this action?", "details": "Transfer $500"}
    ]

    result = graph.invoke(Command(resume=answer), CFG)

    assert result == {"action_details": "Transfer $500", "status": status}
    assert ran == [node]


def test_a_node_a_resume_goto_ran_is_not_listed_while_the_step_waits(saver):
    # Command(goto=...) without an answer runs "proceed" and asks again; as in
    # LangGraph, the snapshot lists only the waiting node until the step completes.
    graph, ran = build_approval(saver)
    graph.invoke({"action_details": "x", "status": "pending"}, CFG)

    graph.invoke(Command(goto="proceed"), CFG)

    state = graph.get_state(CFG)
    assert ran == ["proceed"]
    assert (state.next, [t.name for t in state.tasks]) == (("approval",), ["approval"])
    assert state.values == {"action_details": "x", "status": "pending"}
    head, *_ = graph.get_state_history(CFG)
    assert head.next == ("approval",)
