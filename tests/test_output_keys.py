"""``invoke(..., output_keys=...)`` returns what LangGraph 1.2 returns (values checked against it)."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import InvalidConfigError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class S(TypedDict, total=False):
    a: int
    b: str
    c: list[int]


def two_steps() -> Any:
    builder = StateGraph(S)
    builder.add_node("n1", lambda s: {"a": 1, "b": "x"})
    builder.add_node("n2", lambda s: {"c": [1]})
    builder.add_edge(START, "n1")
    builder.add_edge("n1", "n2")
    builder.add_edge("n2", END)
    return builder.compile()


def asking() -> Any:
    builder = StateGraph(S)
    builder.add_node("ask", lambda s: {"b": interrupt("q")})
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["a"], {"a": 1}),
        ("a", 1),  # a str: the bare value
        (["a", "c"], {"a": 1, "c": [1]}),
        ("c", [1]),
        ([], None),
    ],
)
def test_invoke_returns_only_the_keys_asked(keys: Any, expected: Any) -> None:
    graph = two_steps()
    assert graph.invoke({}, output_keys=keys) == expected
    assert asyncio.run(graph.ainvoke({}, output_keys=keys)) == expected


def test_keys_without_a_value_give_none() -> None:
    builder = StateGraph(S)
    builder.add_node("n1", lambda s: {"a": 1})
    builder.add_edge(START, "n1")
    graph = builder.compile()
    assert graph.invoke({}, output_keys=["c"]) is None
    assert graph.invoke({}, output_keys="c") is None


def test_a_paused_run_keeps_its_interrupts() -> None:
    graph = asking()
    one = {"configurable": {"thread_id": "1"}}
    paused = graph.invoke({"a": 5}, one, output_keys=["a"])
    assert list(paused) == ["a", "__interrupt__"] and paused["a"] == 5
    assert paused["__interrupt__"][0].value == "q"
    two = {"configurable": {"thread_id": "2"}}
    assert list(graph.invoke({"a": 5}, two, output_keys="a")) == ["__interrupt__"]
    assert list(graph.invoke({"a": 5}, {"configurable": {"thread_id": "3"}}, output_keys=[])) == [
        "__interrupt__"
    ]
    assert graph.invoke(Command(resume="yes"), two, output_keys="b") == "yes"


def test_an_unknown_key_is_refused_before_anything_runs() -> None:
    graph = asking()
    config = {"configurable": {"thread_id": "1"}}
    with pytest.raises(InvalidConfigError, match=r"output_keys names 'zz', which the state"):
        graph.invoke({"a": 5}, config, output_keys=["a", "zz"])
    assert graph.get_state(config).values == {}  # nothing ran


def test_a_replayed_request_is_selected_too() -> None:
    graph = asking()
    graph.invoke({"a": 5}, {"configurable": {"thread_id": "1"}})
    keyed = {"configurable": {"thread_id": "1", "idempotency_key": "r1"}}
    assert graph.invoke(Command(resume="yes"), keyed, output_keys="b") == "yes"
    assert graph.invoke(Command(resume="no"), keyed, output_keys="b") == "yes"  # not run again
