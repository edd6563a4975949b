"""Graph building and compile-time validation (pausegraph.graph.StateGraph)."""

from __future__ import annotations

import dataclasses
import operator
import typing
from collections.abc import Callable
from typing import Annotated, Any

import pydantic
import pytest
import typing_extensions

from pausegraph.errors import GraphBuildError, PauseGraphError, UnreachableNodeWarning
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Send


class State(typing.TypedDict):
    log: Annotated[list[str], operator.add]


def logger(name: str) -> Callable[[Any], dict[str, list[str]]]:
    """A node that appends its own name to ``log``."""

    def node(state: Any) -> dict[str, list[str]]:
        return {"log": [name]}

    node.__name__ = name
    return node


def builder_with(*names: str, schema: Any = State) -> StateGraph:
    """A builder with one logging node per name, and no edges yet."""
    builder = StateGraph(schema)
    for name in names:
        builder.add_node(name, logger(name))
    return builder


def run_log(builder: StateGraph, **compile_kw: Any) -> list[str]:
    return builder.compile(**compile_kw).invoke({"log": []})["log"]  # type: ignore[no-any-return]


# -- state schemas -------------------------------------------------------------


class ExtState(typing_extensions.TypedDict):
    log: Annotated[list[str], operator.add]


@dataclasses.dataclass
class DataState:
    log: Annotated[list[str], operator.add] = dataclasses.field(default_factory=list)


class PydState(pydantic.BaseModel):
    log: Annotated[list[str], operator.add] = []


@pytest.mark.parametrize("schema", [State, ExtState, DataState, PydState])
def test_each_state_schema_kind_builds_and_runs(schema: Any) -> None:
    builder = builder_with("a", "b", schema=schema)
    builder.add_edge(START, "a").add_edge("a", "b").add_edge("b", END)
    assert run_log(builder) == ["a", "b"]


def test_state_graph_requires_a_supported_schema() -> None:
    with pytest.raises(GraphBuildError, match="TypedDict"):
        StateGraph(int)


# -- nodes ---------------------------------------------------------------------


def test_add_node_with_callable_alone_uses_its_name() -> None:
    def shout(state: State) -> dict[str, list[str]]:
        return {"log": ["shout"]}

    builder = StateGraph(State).add_node(shout).add_edge(START, "shout")
    graph = builder.compile()
    assert list(graph.nodes) == ["__start__", "shout"]
    assert graph.invoke({"log": []}) == {"log": ["shout"]}


def test_add_node_returns_the_builder_for_chaining() -> None:
    builder = StateGraph(State)
    assert builder.add_node("a", logger("a")) is builder
    assert builder.add_edge(START, "a") is builder


def test_add_sequence_chains_callables_and_named_pairs() -> None:
    def first(state: State) -> dict[str, list[str]]:
        return {"log": ["first"]}

    builder = StateGraph(State).add_sequence([first, ("second", logger("second")), logger("z")])
    builder.add_edge(START, "first")
    assert run_log(builder) == ["first", "second", "z"]


def test_entry_and_finish_points() -> None:
    builder = builder_with("a", "b")
    builder.set_entry_point("a").add_edge("a", "b").set_finish_point("b")
    assert run_log(builder) == ["a", "b"]


def test_compile_name_defaults_to_langgraph_and_can_be_set() -> None:
    builder = builder_with("a").add_edge(START, "a")
    assert builder.compile().name == "LangGraph"
    assert builder.compile(name="review_flow").name == "review_flow"


# -- edges ---------------------------------------------------------------------


def test_join_edge_runs_target_once_after_all_sources() -> None:
    builder = builder_with("a", "b1", "b2", "c")
    builder.add_edge(START, "a").add_edge(START, "b1").add_edge("b1", "b2")
    builder.add_edge(["a", "b2"], "c")
    assert run_log(builder) == ["a", "b1", "b2", "c"]


def test_without_join_target_runs_after_each_source() -> None:
    builder = builder_with("a", "b1", "b2", "c")
    builder.add_edge(START, "a").add_edge(START, "b1").add_edge("b1", "b2")
    builder.add_edge("a", "c").add_edge("b2", "c")
    assert run_log(builder) == ["a", "b1", "b2", "c", "c"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("left", ["router", "left"]), ("right", ["router", "right"]), (END, ["router"])],
)
def test_router_returning_a_name_or_end(answer: str, expected: list[str]) -> None:
    builder = builder_with("router", "left", "right").add_edge(START, "router")
    builder.add_conditional_edges("router", lambda s: answer, ["left", "right", END])
    assert run_log(builder) == expected


def test_router_returning_a_list_runs_all_in_one_step() -> None:
    seen: dict[str, list[str]] = {}

    def watcher(name: str) -> Callable[[Any], dict[str, list[str]]]:
        def node(state: Any) -> dict[str, list[str]]:
            seen[name] = list(state["log"])
            return {"log": [name]}

        return node

    builder = builder_with("router").add_edge(START, "router")
    builder.add_node("x", watcher("x")).add_node("y", watcher("y"))
    builder.add_conditional_edges("router", lambda s: ["y", "x"])
    # Same step: neither sees the other's write; writes apply in node-name order.
    assert run_log(builder) == ["router", "x", "y"]
    assert seen == {"x": ["router"], "y": ["router"]}


def test_router_path_map_as_dict_translates_labels() -> None:
    builder = builder_with("router", "long_path", "short_path").add_edge(START, "router")
    builder.add_conditional_edges(
        "router",
        lambda s: "long" if len(s["log"]) > 1 else "short",
        {"long": "long_path", "short": "short_path"},
    )
    assert run_log(builder) == ["router", "short_path"]
    assert builder.compile().invoke({"log": ["seed"]})["log"] == ["seed", "router", "long_path"]


def test_router_returning_sends() -> None:
    class MapState(typing.TypedDict):
        items: list[str]
        out: Annotated[list[str], operator.add]

    def worker(arg: dict[str, str]) -> dict[str, list[str]]:
        return {"out": [arg["item"].upper()]}

    builder = StateGraph(MapState).add_node("worker", worker)
    builder.add_conditional_edges(
        START, lambda s: [Send("worker", {"item": i}) for i in s["items"]], ["worker"]
    )
    result = builder.compile().invoke({"items": ["a", "b", "c"]})
    assert result == {"items": ["a", "b", "c"], "out": ["A", "B", "C"]}


def test_literal_return_annotation_counts_as_path_map() -> None:
    def route(state: State) -> typing.Literal["b", "__end__"]:
        return "b"

    builder = builder_with("a", "b").add_edge(START, "a").add_conditional_edges("a", route)
    # "b" is reachable only through the Literal annotation; compile must accept it.
    assert run_log(builder) == ["a", "b"]


# -- errors --------------------------------------------------------------------


def test_build_errors_are_value_errors_in_the_pausegraph_tree() -> None:
    assert issubclass(GraphBuildError, ValueError)
    assert issubclass(GraphBuildError, PauseGraphError)


def test_edge_to_unknown_node_names_the_edge_and_node() -> None:
    builder = builder_with("a").add_edge(START, "a").add_edge("a", "nope")
    with pytest.raises(GraphBuildError) as info:
        builder.compile()
    message = str(info.value)
    assert "'a' -> 'nope'" in message
    assert "unknown node 'nope'" in message


def test_edge_from_unknown_node_names_the_edge_and_node() -> None:
    builder = builder_with("a").add_edge(START, "a").add_edge("ghost", "a")
    with pytest.raises(GraphBuildError, match=r"'ghost' -> 'a' starts at unknown node 'ghost'"):
        builder.compile()


def test_join_with_unknown_source_names_it() -> None:
    builder = builder_with("a", "c").add_edge(START, "a").add_edge(["a", "ghost"], "c")
    with pytest.raises(GraphBuildError, match="unknown node 'ghost'"):
        builder.compile()


def test_path_map_to_unknown_node_names_it() -> None:
    builder = builder_with("a").add_edge(START, "a")
    builder.add_conditional_edges("a", lambda s: "go", {"go": "missing"})
    with pytest.raises(GraphBuildError, match="unknown node 'missing'"):
        builder.compile()


def test_no_entry_point() -> None:
    builder = builder_with("a").add_edge("a", END)
    with pytest.raises(GraphBuildError, match="no entry point") as info:
        builder.compile()
    assert "START" in str(info.value)


def test_duplicate_node_name() -> None:
    builder = builder_with("a")
    with pytest.raises(GraphBuildError, match="'a' is already in the graph"):
        builder.add_node("a", logger("a"))


@pytest.mark.parametrize("name", [START, END, "tools:search"])
def test_reserved_node_names(name: str) -> None:
    with pytest.raises(GraphBuildError) as info:
        StateGraph(State).add_node(name, logger("x"))
    assert repr(name) in str(info.value)
    assert "reserved" in str(info.value)


def test_unreachable_node_is_named_in_a_warning() -> None:
    # A warning, not an error: a caller's Command(goto="orphan") may still run it
    # (seed 002 does exactly that), and LangGraph compiles such graphs.
    builder = builder_with("a", "orphan").add_edge(START, "a")
    with pytest.warns(UnreachableNodeWarning, match="'orphan' is not reachable"):
        builder.compile()


def test_reachable_graph_compiles_without_warnings() -> None:
    import warnings

    builder = builder_with("a", "b").add_edge(START, "a").add_edge("a", "b")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        builder.compile()


class Extra(typing.TypedDict):
    log: list[str]
    surprise: int


class Part(typing.TypedDict):
    log: list[str]


def test_node_returning_typeddict_with_unknown_key() -> None:
    def node(state: State) -> Extra:
        return {"log": [], "surprise": 1}

    builder = StateGraph(State).add_node("node", node).add_edge(START, "node")
    with pytest.raises(GraphBuildError) as info:
        builder.compile()
    message = str(info.value)
    assert "'node'" in message
    assert "'surprise'" in message
    assert "State" in message


def test_node_returning_typeddict_within_the_state_is_fine() -> None:
    def node(state: State) -> Part:
        return {"log": ["part"]}

    builder = StateGraph(State).add_node("node", node).add_edge(START, "node")
    assert run_log(builder) == ["part"]


@pytest.mark.parametrize("kind", ["interrupt_before", "interrupt_after"])
def test_breakpoint_on_unknown_node(kind: str) -> None:
    builder = builder_with("a").add_edge(START, "a")
    with pytest.raises(GraphBuildError) as info:
        builder.compile(**{kind: ["a", "nope"]})
    assert kind in str(info.value)
    assert "'nope'" in str(info.value)


def test_breakpoint_star_is_accepted() -> None:
    builder = builder_with("a").add_edge(START, "a")
    graph = builder.compile(interrupt_before="*")
    # Without a checkpointer the breakpoint still stops the run before "a".
    assert graph.invoke({"log": []}) == {"log": []}
