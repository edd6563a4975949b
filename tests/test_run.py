"""Running graphs: supersteps, reducers, Send, limits, errors, retries, Command, schemas."""

from __future__ import annotations

import asyncio
import dataclasses
import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

import pydantic
import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import (
    GraphRecursionError,
    InvalidRouteError,
    InvalidUpdateError,
    PauseGraphError,
)
from pausegraph.graph import END, START, MessagesState, StateGraph
from pausegraph.graph.message import REMOVE_ALL_MESSAGES
from pausegraph.types import Command, RetryPolicy, Send, StreamWriter


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


class Counters(TypedDict):
    total: Annotated[int, operator.add]
    other: int
    plain: str


def appender(name: str) -> Callable[[Any], dict[str, list[str]]]:
    """A node that appends its own name to ``log``."""

    def node(state: Any) -> dict[str, list[str]]:
        return {"log": [name]}

    return node


def fan_out(*names: str, schema: Any = Log) -> StateGraph:
    """START -> each of ``names`` in parallel (no edges out of them yet)."""
    builder = StateGraph(schema)
    for name in names:
        builder.add_node(name, appender(name)).add_edge(START, name)
    return builder


# -- supersteps and reducers ---------------------------------------------------


def test_parallel_branches_share_a_step_and_join_waits_for_both() -> None:
    seen: dict[str, list[str]] = {}

    def recorder(name: str) -> Callable[[Any], dict[str, list[str]]]:
        def node(state: Any) -> dict[str, list[str]]:
            seen[name] = list(state["log"])
            return {"log": [name]}

        return node

    builder = StateGraph(Log)
    for name in ("a", "b1", "b2", "c"):
        builder.add_node(name, recorder(name))
    builder.add_edge(START, "a").add_edge(START, "b1").add_edge("b1", "b2")
    builder.add_edge(["a", "b2"], "c").add_edge("c", END)
    assert builder.compile().invoke({"log": []}) == {"log": ["a", "b1", "b2", "c"]}
    assert seen == {"a": [], "b1": [], "b2": ["a", "b1"], "c": ["a", "b1", "b2"]}


def test_parallel_writes_apply_in_node_name_order_not_insertion_order() -> None:
    builder = fan_out("zeta", "alpha", "Mid")
    assert builder.compile().invoke({"log": ["init"]}) == {"log": ["init", "Mid", "alpha", "zeta"]}


def test_pull_tasks_come_before_sends_in_send_order() -> None:
    builder = StateGraph(Log)
    builder.add_node("aa", appender("aa"))
    builder.add_node("w", lambda arg: {"log": [arg]})
    builder.add_edge(START, "aa")
    builder.add_conditional_edges(START, lambda s: [Send("w", "w2"), Send("w", "w1")])
    assert builder.compile().invoke({"log": []}) == {"log": ["aa", "w2", "w1"]}


def test_reducer_int_is_zero_and_plain_key_absent_when_never_written() -> None:
    seen: list[dict[str, Any]] = []

    def a(state: Counters) -> dict[str, int]:
        seen.append(dict(state))
        return {"other": state["other"] + 1}

    builder = StateGraph(Counters).add_node("a", a).add_edge(START, "a")
    assert builder.compile().invoke({"other": 0}) == {"total": 0, "other": 1}
    assert seen == [{"total": 0, "other": 0}]


def test_input_for_a_reducer_key_goes_through_the_reducer() -> None:
    builder = StateGraph(Counters).add_node("a", lambda s: {"total": 2}).add_edge(START, "a")
    assert builder.compile().invoke({"total": 3}) == {"total": 5}


def test_send_map_reduce_with_fifty_sends_keeps_send_order() -> None:
    class Items(TypedDict):
        n: int
        out: Annotated[list[int], operator.add]

    builder = StateGraph(Items).add_node("square", lambda arg: {"out": [arg * arg]})
    builder.add_conditional_edges(START, lambda s: [Send("square", i) for i in range(s["n"])])
    assert builder.compile().invoke({"n": 50}) == {"n": 50, "out": [i * i for i in range(50)]}


# -- limits and invalid updates ---------------------------------------------------


def self_loop(counter: list[int]) -> StateGraph:
    def a(state: Counters) -> dict[str, int]:
        counter.append(1)
        return {"total": 1}

    builder = StateGraph(Counters).add_node("a", a).add_edge(START, "a")
    return builder.add_conditional_edges("a", lambda s: "a", ["a"])


def test_self_loop_hits_recursion_limit_after_that_many_runs() -> None:
    runs: list[int] = []
    with pytest.raises(GraphRecursionError) as info:
        self_loop(runs).compile().invoke({"total": 0}, {"recursion_limit": 5})
    assert len(runs) == 5
    assert isinstance(info.value, RecursionError)
    assert "Recursion limit of 5 reached" in str(info.value)
    assert "recursion_limit" in str(info.value)


@pytest.mark.parametrize(("limit", "ok"), [(3, False), (4, True)])
def test_linear_graph_of_three_nodes_needs_limit_four(limit: int, ok: bool) -> None:
    builder = StateGraph(Log).add_sequence([("a", appender("a")), ("b", appender("b"))])
    builder.add_node("c", appender("c")).add_edge("b", "c").add_edge(START, "a")
    graph = builder.compile()
    if ok:
        assert graph.invoke({"log": []}, {"recursion_limit": limit}) == {"log": ["a", "b", "c"]}
    else:
        with pytest.raises(GraphRecursionError):
            graph.invoke({"log": []}, {"recursion_limit": limit})


def test_two_writes_to_a_plain_key_in_one_step() -> None:
    class X(TypedDict):
        x: int

    builder = StateGraph(X)
    builder.add_node("a", lambda s: {"x": 1}).add_node("b", lambda s: {"x": 1})
    builder.add_edge(START, "a").add_edge(START, "b")
    with pytest.raises(InvalidUpdateError) as info:
        builder.compile().invoke({"x": 0})
    message = str(info.value)
    assert "'x'" in message
    assert "'a'" in message and "'b'" in message


def test_node_returning_non_dict() -> None:
    builder = StateGraph(Log).add_node("a", lambda s: 5).add_edge(START, "a")
    with pytest.raises(InvalidUpdateError) as info:
        builder.compile().invoke({"log": []})
    message = str(info.value)
    assert message.startswith("Expected dict, got 5")
    assert "Node 'a' returned a int" in message
    assert info.value.__notes__[0].startswith("During task with name 'a' and id '")


def test_node_writing_unknown_key_is_refused() -> None:
    builder = StateGraph(Log).add_node("a", lambda s: {"surprise": 1}).add_edge(START, "a")
    with pytest.raises(InvalidUpdateError) as info:
        builder.compile().invoke({"log": []})
    assert "'surprise'" in str(info.value)
    assert "'a'" in str(info.value)


def test_router_returning_unknown_node() -> None:
    builder = fan_out("a").add_conditional_edges("a", lambda s: "nowhere")
    with pytest.raises(InvalidRouteError) as info:
        builder.compile().invoke({"log": []})
    assert "'nowhere'" in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, PauseGraphError)


def test_node_exception_propagates_unchanged_with_a_note() -> None:
    class Boom(Exception):
        pass

    def b(state: Log) -> dict[str, list[str]]:
        raise Boom("boom in b")

    builder = fan_out("a").add_node("b", b).add_edge(START, "b")
    with pytest.raises(Boom) as info:
        builder.compile().invoke({"log": []})
    assert type(info.value) is Boom
    assert str(info.value) == "boom in b"
    assert info.value.__notes__[0].startswith("During task with name 'b' and id '")


# -- retries ---------------------------------------------------------------------


class Flaky(Exception):
    pass


def flaky_graph(
    failures: int, policy: RetryPolicy, exc: type[Exception] = Flaky
) -> tuple[StateGraph, list[int]]:
    calls: list[int] = []

    def node(state: Log) -> dict[str, list[str]]:
        calls.append(1)
        if len(calls) <= failures:
            raise exc(f"failure {len(calls)}")
        return {"log": ["ok"]}

    builder = StateGraph(Log).add_node("node", node, retry_policy=policy).add_edge(START, "node")
    return builder, calls


def policy(**kw: Any) -> RetryPolicy:
    return RetryPolicy(initial_interval=0, jitter=False, retry_on=Flaky, **kw)


def test_retry_succeeds_within_max_attempts() -> None:
    builder, calls = flaky_graph(2, policy(max_attempts=3))
    assert builder.compile().invoke({"log": []}) == {"log": ["ok"]}
    assert len(calls) == 3


def test_retry_gives_up_after_max_attempts() -> None:
    builder, calls = flaky_graph(2, policy(max_attempts=2))
    with pytest.raises(Flaky, match="failure 2"):
        builder.compile().invoke({"log": []})
    assert len(calls) == 2


def test_retry_on_filters_exceptions() -> None:
    builder, calls = flaky_graph(1, policy(max_attempts=3), exc=KeyError)
    with pytest.raises(KeyError):
        builder.compile().invoke({"log": []})
    assert len(calls) == 1


def test_retry_on_predicate() -> None:
    retry = RetryPolicy(
        max_attempts=3, initial_interval=0, jitter=False, retry_on=lambda e: "2" not in str(e)
    )
    builder, calls = flaky_graph(5, retry)
    with pytest.raises(Flaky, match="failure 2"):
        builder.compile().invoke({"log": []})
    assert len(calls) == 2


# -- node outputs and injected arguments ----------------------------------------------


def test_node_returning_none_changes_nothing() -> None:
    builder = fan_out("a").add_node("quiet", lambda s: None).add_edge("a", "quiet")
    assert builder.compile().invoke({"log": ["x"]}) == {"log": ["x", "a"]}


def test_command_goto_and_static_edge_are_both_followed() -> None:
    builder = StateGraph(Log)
    builder.add_node("a", lambda s: Command(update={"log": ["a"]}, goto="b"))
    builder.add_node("b", appender("b")).add_node("c", appender("c"))
    builder.add_edge(START, "a").add_edge("a", "c")
    assert builder.compile().invoke({"log": []}) == {"log": ["a", "b", "c"]}


def test_command_goto_list_and_goto_end() -> None:
    builder = StateGraph(Log)
    builder.add_node("a", lambda s: Command(goto=["c", "b"]))
    builder.add_node("b", appender("b")).add_node("c", appender("c")).add_edge(START, "a")
    assert builder.compile().invoke({"log": []}) == {"log": ["b", "c"]}

    ends = StateGraph(Log).add_node("a", lambda s: Command(update={"log": ["a"]}, goto=END))
    ends.add_node("b", appender("b")).add_edge(START, "a").add_edge("a", "b")
    assert ends.compile().invoke({"log": []}) == {"log": ["a", "b"]}


def test_node_receives_the_run_config() -> None:
    got: list[dict[str, Any]] = []

    def node(state: Log, config: dict[str, Any]) -> None:
        got.append(config)

    graph = StateGraph(Log).add_node("node", node).add_edge(START, "node").compile()
    assert graph.invoke({"log": []}, {"configurable": {"user": "u1"}, "recursion_limit": 7}) == {
        "log": []
    }
    assert got[0]["configurable"]["user"] == "u1"
    assert got[0]["recursion_limit"] == 7


def test_writer_kwarg_is_a_callable_no_op_under_invoke() -> None:
    def node(state: Log, writer: StreamWriter) -> dict[str, list[str]]:
        writer({"progress": 1})  # invoke streams no custom chunks; LangGraph passes a no-op
        return {"log": ["wrote"]}

    graph = StateGraph(Log).add_node("node", node).add_edge(START, "node").compile()
    assert graph.invoke({"log": []}) == {"log": ["wrote"]}


@dataclasses.dataclass
class DataState:
    name: str
    log: Annotated[list[str], operator.add] = dataclasses.field(default_factory=list)


class PydState(pydantic.BaseModel):
    name: str
    log: Annotated[list[str], operator.add] = []


@pytest.mark.parametrize("schema", [DataState, PydState])
def test_class_states_give_nodes_instances_and_invoke_a_dict(schema: Any) -> None:
    seen: list[Any] = []

    def greet(state: Any) -> dict[str, list[str]]:
        seen.append(state)
        return {"log": [f"hi {state.name}"]}

    graph = StateGraph(schema).add_node("greet", greet).add_edge(START, "greet").compile()
    result = graph.invoke({"name": "ada"})
    assert type(result) is dict
    assert result == {"name": "ada", "log": ["hi ada"]}
    assert type(seen[0]) is schema
    assert seen[0].name == "ada" and seen[0].log == []


class Draft(pydantic.BaseModel):
    title: str = "untitled"
    note: str | None = None
    tags: Annotated[list[str], operator.add] = []


def test_pydantic_model_update_skips_none_fields_it_did_not_set() -> None:
    # LangGraph writes a returned (or input) model's fields except those left at
    # None by default, so a partly filled model does not wipe other keys.
    def retitle(state: Draft) -> Draft:
        return Draft(title="final")

    def clear(state: Draft) -> Draft:
        return Draft(title=state.title, note=None)

    graph = (
        StateGraph(Draft)
        .add_sequence([("retitle", retitle), ("clear", clear)])
        .add_edge(START, "retitle")
        .compile()
    )
    chunks = list(graph.stream({"note": "keep", "tags": ["a"]}, stream_mode="updates"))
    assert chunks == [
        {"retitle": {"title": "final", "tags": []}},
        {"clear": {"title": "final", "note": None, "tags": []}},
    ]
    values = list(graph.stream(Draft(title="t"), stream_mode="values"))
    assert values[0] == {"title": "t", "tags": []}


def test_pydantic_input_is_validated() -> None:
    graph = StateGraph(PydState).add_node("a", appender("a")).add_edge(START, "a").compile()
    with pytest.raises(InvalidUpdateError, match="PydState") as info:
        graph.invoke({"name": 42})
    assert isinstance(info.value.__cause__, pydantic.ValidationError)


class Question(TypedDict):
    question: str


class Answer(TypedDict):
    answer: str


class Overall(Question, Answer):
    scratch: str


def test_input_and_output_schemas() -> None:
    def think(state: Question) -> dict[str, str]:
        return {"scratch": state["question"] * 2}

    def reply(state: Overall) -> dict[str, str]:
        return {"answer": state["scratch"].upper()}

    builder = StateGraph(Overall, input_schema=Question, output_schema=Answer)
    builder.add_sequence([think, reply]).add_edge(START, "think")
    assert builder.compile().invoke({"question": "ab"}) == {"answer": "ABAB"}
    # As LangGraph: only invoke's result keeps to the output schema; the values
    # stream and get_state show every key, private ones included.
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "schemas"}}
    assert list(graph.stream({"question": "ab"}, config, stream_mode="values")) == [
        {"question": "ab"},
        {"question": "ab", "scratch": "abab"},
        {"question": "ab", "answer": "ABAB", "scratch": "abab"},
    ]
    assert graph.get_state(config).values == {"question": "ab", "answer": "ABAB", "scratch": "abab"}


class Secret(TypedDict):
    secret: str


class QA(Question, Answer):
    pass


def test_private_keys_show_in_state_and_values_but_not_in_the_result() -> None:
    def hide(state: Question) -> Secret:
        return {"secret": state["question"] + "?"}

    def reveal(state: Secret) -> dict[str, str]:
        return {"answer": state["secret"]}

    builder = StateGraph(QA).add_sequence([hide, reveal]).add_edge(START, "hide")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "private"}}
    assert graph.invoke({"question": "q"}, config) == {"question": "q", "answer": "q?"}
    assert graph.get_state(config).values == {"question": "q", "answer": "q?", "secret": "q?"}
    chunks = list(graph.stream({"question": "r"}, config, stream_mode="values"))
    assert chunks[-1] == {"question": "r", "answer": "r?", "secret": "r?"}


# -- messages ---------------------------------------------------------------------


# These build and read dict messages: run as without langchain-core (see conftest).
dict_messages = pytest.mark.usefixtures("dict_messages")


def chat(reply: Callable[[MessagesState], Any]) -> Any:
    return StateGraph(MessagesState).add_node("bot", reply).add_edge(START, "bot").compile()


@dict_messages
def test_messages_get_ids_and_append() -> None:
    graph = chat(lambda s: {"messages": [{"role": "assistant", "content": "hello"}]})
    messages = graph.invoke({"messages": [{"role": "user", "content": "hi"}]})["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [("user", "hi"), ("assistant", "hello")]
    assert all(isinstance(m["id"], str) and m["id"] for m in messages)
    assert messages[0]["id"] != messages[1]["id"]


@dict_messages
def test_message_with_known_id_replaces_it() -> None:
    graph = chat(lambda s: {"messages": [{"role": "user", "content": "edited", "id": "m1"}]})
    result = graph.invoke({"messages": [{"role": "user", "content": "hi", "id": "m1"}]})
    assert result == {"messages": [{"role": "user", "content": "edited", "id": "m1"}]}


@dict_messages
def test_message_removal_by_id_and_remove_all() -> None:
    inp = {"messages": [{"role": "user", "content": c, "id": c} for c in ("a", "b", "c")]}
    graph = chat(lambda s: {"messages": [{"type": "remove", "id": "b"}]})
    assert [m["id"] for m in graph.invoke(inp)["messages"]] == ["a", "c"]

    clear = chat(
        lambda s: {"messages": [{"type": "remove", "id": REMOVE_ALL_MESSAGES}, ("ai", "fresh")]}
    )
    assert [(m["role"], m["content"]) for m in clear.invoke(inp)["messages"]] == [("ai", "fresh")]


def test_deferred_node_runs_once_after_the_longer_branch() -> None:
    # LangGraph's defer=True: the fan-in waits until nothing else is left to run,
    # so branches of different lengths reach it once, together.
    seen: list[list[str]] = []

    def collect(state: Log) -> dict[str, list[str]]:
        seen.append(list(state["log"]))
        return {"log": ["d"]}

    builder = StateGraph(Log)
    for name in ("a", "b", "b_2", "c"):
        builder.add_node(name, appender(name))
    builder.add_node("d", collect, defer=True)
    builder.add_edge(START, "a").add_edge("a", "b").add_edge("a", "c").add_edge("b", "b_2")
    builder.add_edge("b_2", "d").add_edge("c", "d").add_edge("d", END)
    graph = builder.compile(checkpointer=InMemorySaver(), interrupt_before=["d"])
    config = {"configurable": {"thread_id": "defer"}}
    assert graph.invoke({"log": []}, config) == {"log": ["a", "b", "c", "b_2"]}
    state = graph.get_state(config)
    assert state.next == ("d",) and state.metadata is not None and state.metadata["step"] == 3
    assert [s.next for s in graph.get_state_history(config)][1:3] == [("b_2",), ("b", "c")]
    assert graph.invoke(None, config) == {"log": ["a", "b", "c", "b_2", "d"]}
    assert seen == [["a", "b", "c", "b_2"]]


def test_batch_and_abatch_run_one_graph_per_input_in_order() -> None:
    def double(state: Counters) -> dict[str, Any]:
        if state["other"] < 0:
            raise ValueError("negative")
        return {"other": state["other"] * 2}

    graph = StateGraph(Counters).add_node("double", double).add_edge(START, "double").compile()
    inputs = [{"other": n} for n in (1, 2, 3)]
    assert [r["other"] for r in graph.batch(inputs)] == [2, 4, 6]
    mixed = graph.batch([{"other": 1}, {"other": -1}], return_exceptions=True)
    assert mixed[0]["other"] == 2 and isinstance(mixed[1], ValueError)
    with pytest.raises(ValueError, match="negative"):
        graph.batch([{"other": 1}, {"other": -1}])
    assert [r["other"] for r in asyncio.run(graph.abatch(inputs))] == [2, 4, 6]
    with pytest.raises(ValueError, match="2 inputs but 1 configs"):
        graph.batch([{"other": 1}, {"other": 2}], [{}])


@dataclasses.dataclass
class Ctx:
    user: str = "nobody"


def test_nodes_get_the_run_context_through_runtime_as_in_langgraph() -> None:
    from pausegraph.runtime import Runtime, get_runtime

    def greet(state: Log, runtime: Runtime[Ctx]) -> dict[str, list[str]]:
        runtime.stream_writer({"user": runtime.context.user})
        return {"log": [f"hi {runtime.context.user}"]}

    def check(state: Log) -> dict[str, list[str]]:
        return {"log": [repr(get_runtime(Ctx).context)]}

    inner = StateGraph(Log).add_node("check", check).add_edge(START, "check").compile()
    builder = StateGraph(Log, context_schema=Ctx).add_node("greet", greet).add_node("inner", inner)
    graph = builder.add_edge(START, "greet").add_edge("greet", "inner").compile()
    assert graph.invoke({"log": []}, context=Ctx("ann")) == {
        "log": ["hi ann", "hi ann", "Ctx(user='ann')"]
    }
    # A dict becomes the context schema; no context is None.
    assert graph.invoke({"log": []}, context={"user": "bob"})["log"][0] == "hi bob"
    assert list(graph.stream({"log": []}, context=Ctx("c"), stream_mode="custom")) == [
        {"user": "c"}
    ]
    assert asyncio.run(graph.ainvoke({"log": []}, context=Ctx("d")))["log"][0] == "hi d"
    assert inner.invoke({"log": []}) == {"log": ["None"]}


def test_with_config_binds_config_under_each_calls_own() -> None:
    def count(state: Counters, config: Any) -> dict[str, Any]:
        return {"other": state["other"] + len(config["configurable"].get("extra", ""))}

    builder = StateGraph(Counters).add_node("count", count).add_edge(START, "count")
    builder.add_conditional_edges("count", lambda s: "count" if s["other"] < 10 else END)
    graph = builder.compile(checkpointer=InMemorySaver())
    bound = graph.with_config({"recursion_limit": 3}, configurable={"thread_id": "w", "extra": "x"})
    assert type(bound) is type(graph)
    with pytest.raises(GraphRecursionError):
        bound.invoke({"other": 0})
    assert graph.get_state({"configurable": {"thread_id": "w"}}).values["other"] == 3
    lenient = graph.with_config(configurable={"thread_id": "v", "extra": "x"})
    assert lenient.invoke({"other": 5}, {"configurable": {"extra": "xxxxx"}})["other"] == 10
    assert graph.get_state({"configurable": {"thread_id": "v"}}).values["other"] == 10
