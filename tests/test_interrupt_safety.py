"""Beyond LangGraph 1-4 (DESIGN.md): interrupts that cannot be swallowed, mismatched
answers caught, typed answers validated before anything is written, once() side effects.

Each test runs on every saver.
"""

from __future__ import annotations

import inspect
import operator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from pydantic import BaseModel

from pausegraph.errors import (
    GraphInterrupt,
    InterruptMismatchError,
    NodeInterrupt,
    ResumeValidationError,
)
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt, once

CFG = {"configurable": {"thread_id": "t1"}}
HERE = Path(__file__).name


def one_node_graph(saver: Any, state: type, fn: Any) -> Any:
    builder = StateGraph(state)
    builder.add_node("node", fn)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    return builder.compile(checkpointer=saver)


class FormState(TypedDict, total=False):
    needs_age: bool
    name: str
    age: int
    city: str


# -- 1. except Exception cannot swallow the interrupt --------------------------------


def test_the_interrupt_signal_is_not_an_exception():
    assert not issubclass(GraphInterrupt, Exception)
    assert not issubclass(NodeInterrupt, Exception)
    assert issubclass(GraphInterrupt, BaseException)


def test_bare_except_exception_around_interrupt_does_not_swallow_it(saver):
    swallowed: list[BaseException] = []

    def node(state: FormState) -> dict[str, Any]:
        try:
            name = interrupt("What's your name?")
        except Exception as exc:  # the trap seed 004 warns about
            swallowed.append(exc)
            name = "swallowed"
        return {"name": name}

    graph = one_node_graph(saver, FormState, node)

    result = graph.invoke({"needs_age": False}, CFG)

    assert [i.value for i in result.pop("__interrupt__")] == ["What's your name?"]
    assert result == {"needs_age": False}
    assert swallowed == []
    assert graph.get_state(CFG).next == ("node",)
    assert graph.invoke(Command(resume="Ann"), CFG) == {"needs_age": False, "name": "Ann"}
    assert swallowed == []


# -- 2. reordered or skipped interrupt() calls ------------------------------------------


def ask_form(state: FormState) -> dict[str, Any]:
    """The "bad" node of seed 004: the age question depends on the state."""
    out: dict[str, Any] = {"name": interrupt("What's your name?")}
    if state.get("needs_age"):
        out["age"] = interrupt("What's your age?")
    out["city"] = interrupt("What's your city?")
    return out


def line_of(text: str) -> int:
    lines, start = inspect.getsourcelines(ask_form)
    return start + next(i for i, line in enumerate(lines) if text in line)


AGE_SITE = f"{HERE}:{line_of('your age?')}"
CITY_SITE = f"{HERE}:{line_of('your city?')}"


def test_interrupts_in_a_stable_order_are_answered_in_order(saver):
    graph = one_node_graph(saver, FormState, ask_form)
    graph.invoke({"needs_age": True}, CFG)
    graph.invoke(Command(resume="Ann"), CFG)
    graph.invoke(Command(resume=30), CFG)

    result = graph.invoke(Command(resume="Paris"), CFG)

    assert result == {"needs_age": True, "name": "Ann", "age": 30, "city": "Paris"}


@pytest.mark.parametrize(
    ("first_run", "answers", "answered_at", "called_at"),
    [
        # age skipped on the first runs, then asked: the city answer would reach age
        (False, ["Ann"], CITY_SITE, AGE_SITE),
        # age asked and answered, then skipped: the age answer would reach city
        (True, ["Ann", 30], AGE_SITE, CITY_SITE),
    ],
    ids=["skipped-then-asked", "asked-then-skipped"],
)
def test_a_flipped_condition_raises_interrupt_mismatch_naming_both_sites(
    saver, first_run, answers, answered_at, called_at
):
    graph = one_node_graph(saver, FormState, ask_form)
    graph.invoke({"needs_age": first_run}, CFG)
    for answer in answers:
        assert "__interrupt__" in graph.invoke(Command(resume=answer), CFG)

    with pytest.raises(InterruptMismatchError) as info:
        graph.invoke(Command(resume="Paris", update={"needs_age": not first_run}), CFG)

    message = str(info.value)
    assert answered_at in message and called_at in message
    assert "same order" in message
    assert answered_at in info.value.answered_at
    assert called_at in info.value.called_at
    # The answer was not handed to the wrong question.
    assert "city" not in graph.get_state(CFG).values


# -- 3. typed answers ------------------------------------------------------------------


class Decision(BaseModel):
    approved: bool
    note: str = ""


class Address(TypedDict):
    city: str
    zip: int


AGE_SCHEMA = {
    "type": "object",
    "properties": {"age": {"type": "integer", "minimum": 0}},
    "required": ["age"],
}


class AnswerState(TypedDict, total=False):
    topic: str
    answer: Any


@pytest.mark.parametrize(
    ("schema", "bad", "mentions", "good", "expected"),
    [
        (Decision, {"approved": "maybe"}, "approved", {"approved": True, "note": "ok"},
         Decision(approved=True, note="ok")),
        (Decision, {"note": "no verdict"}, "approved", {"approved": False},
         Decision(approved=False)),
        (Address, {"city": "Paris", "zip": "x"}, "zip", {"city": "Paris", "zip": 75001},
         {"city": "Paris", "zip": 75001}),
        (AGE_SCHEMA, {"age": -1}, "minimum", {"age": 30}, {"age": 30}),
        (AGE_SCHEMA, {}, "age", {"age": 0}, {"age": 0}),
    ],
    ids=["pydantic-type", "pydantic-missing", "typeddict", "json-minimum", "json-required"],
)  # fmt: skip
def test_a_bad_typed_answer_is_refused_and_the_thread_is_unchanged(
    saver, view, schema, bad, mentions, good, expected
):
    received: list[Any] = []

    def node(state: AnswerState) -> dict[str, Any]:
        answer = interrupt({"ask": state["topic"]}, response_schema=schema)
        received.append(answer)
        return {"answer": answer if not isinstance(answer, BaseModel) else answer.model_dump()}

    graph = one_node_graph(saver, AnswerState, node)
    graph.invoke({"topic": "t"}, CFG)
    before, state_before = view(graph, CFG), graph.get_state(CFG)

    with pytest.raises(ResumeValidationError) as info:
        graph.invoke(Command(resume=bad), CFG)

    error = info.value
    assert error.problems and all(isinstance(p, str) for p in error.problems)
    assert any(mentions in p for p in error.problems)
    assert all(p in str(error) for p in error.problems)
    assert "unchanged" in str(error)
    assert view(graph, CFG) == before
    assert graph.get_state(CFG) == state_before
    assert received == []

    result = graph.invoke(Command(resume=good), CFG)

    assert received == [expected]
    assert type(received[0]) is type(expected)
    assert result["answer"] == (expected.model_dump() if isinstance(expected, BaseModel) else good)
    assert graph.get_state(CFG).next == ()


# -- 4. once(): side effects that run once across resumes ----------------------------


class LogState(TypedDict):
    log: Annotated[list, operator.add]


def test_once_runs_a_side_effect_once_across_resumes(saver):
    charges: list[int] = []
    runs: list[str] = []

    def charge(amount: int) -> str:
        charges.append(amount)
        return f"receipt-{len(charges)}"

    def pay(state: LogState) -> dict[str, Any]:
        runs.append("pay")
        receipt = once(charge, 10)
        first = interrupt(f"first? ({receipt})")
        second = interrupt(f"second? ({receipt})")
        return {"log": [receipt, first, second]}

    graph = one_node_graph(saver, LogState, pay)

    assert [i.value for i in graph.invoke({"log": []}, CFG)["__interrupt__"]] == [
        "first? (receipt-1)"
    ]
    assert [i.value for i in graph.invoke(Command(resume="a"), CFG)["__interrupt__"]] == [
        "second? (receipt-1)"
    ]
    assert [i.value for i in graph.invoke(None, CFG)["__interrupt__"]] == ["second? (receipt-1)"]
    result = graph.invoke(Command(resume="b"), CFG)

    assert result == {"log": ["receipt-1", "a", "b"]}
    assert runs == ["pay"] * 4
    assert charges == [10]
