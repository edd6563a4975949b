"""``output_keys=`` in ``invoke`` and in streams gives what LangGraph 1.2 gives (checked against it)."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import InvalidConfigError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, Interrupt, interrupt


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


# -- streams -------------------------------------------------------------------


def three_steps() -> Any:
    """n1 writes a and c, n2 writes b, n3 asks and writes b: each step writes some keys only."""
    builder = StateGraph(S)
    builder.add_node("n1", lambda s: {"a": s["a"] + 1, "c": [1]})
    builder.add_node("n2", lambda s: {"b": "done"})
    builder.add_node("n3", lambda s: {"b": interrupt("q")})
    builder.add_edge(START, "n1")
    builder.add_edge("n1", "n2")
    builder.add_edge("n2", "n3")
    builder.add_edge("n3", END)
    return builder.compile(checkpointer=InMemorySaver())


def _plain(chunks: list[Any]) -> list[Any]:
    """Chunks with each Interrupt replaced by its value (ids differ per thread)."""

    def plain(x: Any) -> Any:
        if isinstance(x, Interrupt):
            return ("Interrupt", x.value)
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return type(x)(plain(v) for v in x)
        return x

    return [plain(c) for c in chunks]


Q = (("Interrupt", "q"),)

# (stream_mode, output_keys, chunks until the pause, chunks after Command(resume="R"))
STREAMS = [
    ("values", ["a"], [{"a": 0}, {"a": 1}, {"a": 1, "__interrupt__": Q}], [{"a": 1}]),
    ("values", "b", ["", "done", {"__interrupt__": Q}], ["done", "R"]),
    (
        "values",
        ["b", "c"],
        [
            {"b": "", "c": []},
            {"b": "", "c": [1]},
            {"b": "done", "c": [1]},
            {"b": "done", "c": [1], "__interrupt__": Q},
        ],
        [{"b": "done", "c": [1]}, {"b": "R", "c": [1]}],
    ),
    ("updates", ["a"], [{"n1": {"a": 1}}, {"n2": None}, {"__interrupt__": Q}], [{"n3": None}]),
    ("updates", "b", [{"n1": None}, {"n2": "done"}, {"__interrupt__": Q}], [{"n3": "R"}]),
    (
        ["values", "updates"],
        "b",
        [
            ("values", ""),
            ("updates", {"n1": None}),
            ("updates", {"n2": "done"}),
            ("values", "done"),
            ("updates", {"__interrupt__": Q}),
            ("values", {"__interrupt__": Q}),
        ],
        [("values", "done"), ("updates", {"n3": "R"}), ("values", "R")],
    ),
]


@pytest.mark.parametrize(("mode", "keys", "paused", "resumed"), STREAMS)
def test_streams_show_only_the_keys_asked(mode: Any, keys: Any, paused: Any, resumed: Any) -> None:
    """A values chunk comes after a step only if it wrote one of the keys; updates are cut to them."""
    graph = three_steps()
    config = {"configurable": {"thread_id": "1"}}
    start = {"a": 0, "b": "", "c": []}
    assert _plain(list(graph.stream(start, config, stream_mode=mode, output_keys=keys))) == paused
    resume = Command(resume="R")
    assert _plain(list(graph.stream(resume, config, stream_mode=mode, output_keys=keys))) == resumed


@pytest.mark.parametrize(("mode", "keys", "paused", "resumed"), STREAMS)
def test_astream_shows_only_the_keys_asked(mode: Any, keys: Any, paused: Any, resumed: Any) -> None:
    graph = three_steps()
    config = {"configurable": {"thread_id": "1"}}

    async def collect(inp: Any) -> list[Any]:
        return [c async for c in graph.astream(inp, config, stream_mode=mode, output_keys=keys)]

    assert _plain(asyncio.run(collect({"a": 0, "b": "", "c": []}))) == paused
    assert _plain(asyncio.run(collect(Command(resume="R")))) == resumed


def test_invoke_with_another_stream_mode_selects_the_chunks() -> None:
    graph = three_steps()
    config = {"configurable": {"thread_id": "1"}}
    chunks = graph.invoke(
        {"a": 0, "b": "", "c": []}, config, stream_mode="updates", output_keys="b"
    )
    assert _plain(chunks) == [{"n1": None}, {"n2": "done"}, {"__interrupt__": Q}]


def test_other_stream_modes_are_not_cut() -> None:
    """As in LangGraph: tasks, checkpoints and debug events show whole states and results."""
    graph = three_steps()
    config = {"configurable": {"thread_id": "1"}}
    start = {"a": 0, "b": "", "c": []}
    tasks = list(graph.stream(start, config, stream_mode="tasks", output_keys=["a"]))
    assert tasks[1] == {
        "id": tasks[0]["id"],
        "name": "n1",
        "error": None,
        "result": {"a": 1, "c": [1]},
        "interrupts": [],
    }


def test_a_stream_refuses_an_unknown_key_before_anything_runs() -> None:
    graph = three_steps()
    config = {"configurable": {"thread_id": "1"}}
    with pytest.raises(InvalidConfigError, match=r"output_keys names 'zz'"):
        list(graph.stream({"a": 0}, config, output_keys="zz"))
    assert graph.get_state(config).values == {}


def test_a_replayed_stream_is_selected_too() -> None:
    graph = asking()
    graph.invoke({"a": 5}, {"configurable": {"thread_id": "1"}})
    keyed = {"configurable": {"thread_id": "1", "idempotency_key": "r1"}}
    first = list(graph.stream(Command(resume="yes"), keyed, stream_mode="values", output_keys="b"))
    again = list(graph.stream(Command(resume="no"), keyed, stream_mode="values", output_keys="b"))
    assert first[-1] == "yes"
    assert again == ["yes"]  # the end state, selected, without running again
