"""Subgraphs: compiled graphs as nodes or called in nodes, interrupting and resuming inside."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import GraphBuildError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt

CFG = {"configurable": {"thread_id": "sub"}}


class S(TypedDict):
    log: Annotated[list[str], operator.add]


def _logger(calls: list[str], name: str, ask: bool = False) -> Any:
    def node(state: S) -> dict[str, Any]:
        calls.append(name)
        if ask:
            return {"log": [f"{name}={interrupt(f'{name}?')}"]}
        return {"log": [name]}

    node.__name__ = name
    return node


def _chain(calls: list[str], *names: str, ask: str | None = None) -> Any:
    builder = StateGraph(S)
    previous = START
    for name in names:
        builder.add_node(name, _logger(calls, name, ask == name))
        builder.add_edge(previous, name)
        previous = name
    return builder


def test_interrupt_inside_a_subgraph_node_pauses_and_resumes_inside(saver: Any) -> None:
    calls: list[str] = []
    inner = _chain(calls, "i1", "i2", "i3", ask="i2").compile()
    app = StateGraph(S).add_node("inner", inner).add_node("after", _logger(calls, "after"))
    app = app.add_edge(START, "inner").add_edge("inner", "after").compile(checkpointer=saver)

    paused = app.invoke({"log": []}, CFG)
    assert [i.value for i in paused["__interrupt__"]] == ["i2?"]
    assert app.get_state(CFG).next == ("inner",)
    result = app.invoke(Command(resume="yes"), CFG)
    assert result == {"log": ["i1", "i2=yes", "i3", "after"]}
    assert calls == ["i1", "i2", "i2", "i3", "after"]  # i1 did not run again


def test_shared_reducer_keys_come_back_whole_as_in_langgraph(saver: Any) -> None:
    # A subgraph node returns its whole state; with a shared appending key the
    # parent's items are added again. LangGraph 1.2 does the same; use distinct
    # keys or a wrapper node to avoid it.
    calls: list[str] = []
    inner = _chain(calls, "i1").compile()
    app = _chain(calls, "before").add_node("inner", inner).add_edge("before", "inner")
    result = app.compile(checkpointer=saver).invoke({"log": []}, CFG)
    assert result == {"log": ["before", "before", "i1"]}


def test_two_levels_deep(saver: Any) -> None:
    calls: list[str] = []
    deepest = _chain(calls, "d1", ask="d1").compile()
    middle = StateGraph(S).add_node("deep", deepest).add_edge(START, "deep")
    middle = middle.add_node("m2", _logger(calls, "m2")).add_edge("deep", "m2").compile()
    app = StateGraph(S).add_node("mid", middle).add_edge(START, "mid").compile(checkpointer=saver)

    assert [i.value for i in app.invoke({"log": []}, CFG)["__interrupt__"]] == ["d1?"]
    assert app.invoke(Command(resume="ok"), CFG) == {"log": ["d1=ok", "m2"]}
    assert calls == ["d1", "d1", "m2"]


def test_get_state_with_subgraphs_and_update_state_on_a_subgraph(saver: Any) -> None:
    calls: list[str] = []
    inner = _chain(calls, "i1", "i2", ask="i2").compile()
    app = StateGraph(S).add_node("inner", inner).add_edge(START, "inner")
    app = app.compile(checkpointer=saver)
    app.invoke({"log": []}, CFG)

    shallow = app.get_state(CFG)
    sub_config = shallow.tasks[0].state
    assert sub_config["configurable"]["checkpoint_ns"].startswith("inner:")
    deep = app.get_state(CFG, subgraphs=True).tasks[0].state
    assert (deep.values, deep.next) == ({"log": ["i1"]}, ("i2",))
    assert [i.value for i in deep.interrupts] == ["i2?"]

    app.update_state(sub_config, {"log": ["edited"]}, as_node="i1")
    assert app.get_state(sub_config).values == {"log": ["i1", "edited"]}
    assert app.invoke(Command(resume="A"), CFG) == {"log": ["i1", "edited", "i2=A"]}


def test_a_nested_checkpoint_names_its_parents_as_in_langgraph(saver: Any) -> None:
    calls: list[str] = []
    deepest = _chain(calls, "d1", ask="d1").compile()
    middle = StateGraph(S).add_node("deep", deepest).add_edge(START, "deep").compile()
    app = StateGraph(S).add_node("mid", middle).add_edge(START, "mid").compile(checkpointer=saver)
    app.invoke({"log": []}, CFG)

    root = app.get_state(CFG, subgraphs=True)
    mid = root.tasks[0].state
    deep = mid.tasks[0].state
    mid_ns, deep_ns = (
        mid.config["configurable"]["checkpoint_ns"],
        deep.config["configurable"]["checkpoint_ns"],
    )
    root_id, mid_id = (
        root.config["configurable"]["checkpoint_id"],
        mid.config["configurable"]["checkpoint_id"],
    )
    deep_id = deep.config["configurable"]["checkpoint_id"]
    assert root.metadata["parents"] == {}
    assert mid.metadata["parents"] == {"": root_id}
    assert deep.metadata["parents"] == {"": root_id, mid_ns: mid_id}
    assert deep.config["configurable"]["checkpoint_map"] == {
        "": root_id,
        mid_ns: mid_id,
        deep_ns: deep_id,
    }
    assert "checkpoint_map" not in root.config["configurable"]
    # An update of the nested graph keeps them.
    new_config = app.update_state(deep.config, {"log": ["edited"]})
    assert app.get_state(new_config).metadata["parents"] == deep.metadata["parents"]


def test_nodes_of_a_subgraph_see_the_callers_config(saver: Any) -> None:
    # As LangGraph: configurable keys, metadata and tags reach nested nodes, whether
    # the subgraph is a node or is invoked inside one.
    seen: list[tuple[Any, ...]] = []

    def leaf(state: S, config: Any) -> dict[str, Any]:
        seen.append((config["configurable"].get("user"), config["metadata"].get("team")))
        return {"log": ["leaf"]}

    inner = StateGraph(S).add_node("leaf", leaf).add_edge(START, "leaf").compile()
    app = StateGraph(S).add_node("inner", inner).add_node("call", lambda s: inner.invoke(s))
    app = app.add_edge(START, "inner").add_edge("inner", "call").compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "sub", "user": "ann"}, "metadata": {"team": "ops"}}
    app.invoke({"log": []}, config)
    assert seen == [("ann", "ops"), ("ann", "ops")]
    deep = app.get_state(config, subgraphs=True)
    assert deep.metadata["user"] == "ann"


class Turn(TypedDict):
    q: str
    out: str


def test_a_subgraph_compiled_with_checkpointer_true_remembers_across_runs(saver: Any) -> None:
    # As LangGraph: checkpointer=True keeps the subgraph's own state per thread,
    # under the node's name, so each parent run continues it.
    remember = StateGraph(S).add_node("remember", lambda s: {"log": ["seen"]})
    inner = remember.add_edge(START, "remember").compile(checkpointer=True)

    def call(state: Turn) -> dict[str, str]:
        return {"out": str(len(inner.invoke({"log": [state["q"]]})["log"]))}

    app = (
        StateGraph(Turn).add_node("call", call).add_edge(START, "call").compile(checkpointer=saver)
    )
    assert [app.invoke({"q": q}, CFG)["out"] for q in ("a", "b")] == ["2", "4"]
    chunks = list(app.stream({"q": "c"}, CFG, stream_mode="updates", subgraphs=True))
    assert chunks[0] == (("call",), {"remember": {"log": ["seen"]}})
    fresh = remember.compile()  # without: each run starts afresh

    def call_fresh(state: Turn) -> dict[str, str]:
        return {"out": str(len(fresh.invoke({"log": [state["q"]]})["log"]))}

    app = StateGraph(Turn).add_node("call", call_fresh).add_edge(START, "call")
    app = app.compile(checkpointer=saver)
    other = {"configurable": {"thread_id": "fresh"}}
    assert [app.invoke({"q": q}, other)["out"] for q in ("a", "b")] == ["2", "2"]


def test_stream_with_subgraphs_yields_namespaces(saver: Any) -> None:
    calls: list[str] = []
    inner = _chain(calls, "i1", "i2").compile()
    app = _chain(calls, "before").add_node("inner", inner).add_edge("before", "inner")
    app = app.compile(checkpointer=saver)

    items = list(app.stream({"log": []}, CFG, stream_mode="updates", subgraphs=True))
    namespaces = [ns for ns, _ in items]
    assert namespaces[0] == () and namespaces[-1] == ()
    inner_ns = {ns for ns in namespaces if ns}
    assert len(inner_ns) == 1 and next(iter(inner_ns))[0].startswith("inner:")
    assert [chunk for ns, chunk in items if ns] == [
        {"i1": {"log": ["i1"]}},
        {"i2": {"log": ["i2"]}},
    ]
    modes = {
        mode
        for _, mode, _ in app.stream(
            {"log": []},
            {"configurable": {"thread_id": "m"}},
            stream_mode=["updates", "values"],
            subgraphs=True,
        )
    }
    assert modes == {"updates", "values"}


def test_parallel_subgraphs_answered_one_at_a_time_or_together(saver: Any) -> None:
    calls: list[str] = []
    left = _chain(calls, "l1", ask="l1").compile()
    right = _chain(calls, "r1", ask="r1").compile()
    builder = StateGraph(S).add_node("left", left).add_node("right", right)
    app = builder.add_edge(START, "left").add_edge(START, "right").compile(checkpointer=saver)

    interrupts = app.invoke({"log": []}, CFG)["__interrupt__"]
    assert sorted(i.value for i in interrupts) == ["l1?", "r1?"]
    by_value = {i.value: i.id for i in interrupts}
    after_left = app.invoke(Command(resume={by_value["l1?"]: "L"}), CFG)
    assert [i.value for i in after_left["__interrupt__"]] == ["r1?"]
    assert app.invoke(Command(resume={by_value["r1?"]: "R"}), CFG) == {"log": ["l1=L", "r1=R"]}

    other = {"configurable": {"thread_id": "together"}}
    ids = {i.value: i.id for i in app.invoke({"log": []}, other)["__interrupt__"]}
    both = app.invoke(Command(resume={ids["l1?"]: "1", ids["r1?"]: "2"}), other)
    assert both == {"log": ["l1=1", "r1=2"]}


def test_command_parent_routes_the_parent(saver: Any) -> None:
    def jump(state: S) -> Command[Any]:
        return Command(graph=Command.PARENT, goto="target", update={"log": ["jumped"]})

    inner = StateGraph(S).add_node("jump", jump).add_edge(START, "jump").compile()
    builder = StateGraph(S).add_node("inner", inner, destinations=("target",))
    builder.add_node("target", lambda s: {"log": ["target"]}).add_edge(START, "inner")
    app = builder.compile(checkpointer=saver)
    assert app.invoke({"log": []}, CFG) == {"log": ["jumped", "target"]}


class Other(TypedDict):
    text: str


def test_a_subgraph_with_its_own_schema_through_a_wrapper_node(saver: Any) -> None:
    inner = StateGraph(Other).add_node("shout", lambda s: {"text": s["text"].upper() + "?"})
    inner_app = (
        inner.add_edge(START, "shout")
        .add_node("ask", lambda s: {"text": s["text"] + interrupt("ok?")})
        .add_edge("shout", "ask")
        .compile()
    )

    def wrapper(state: S) -> dict[str, Any]:
        result = inner_app.invoke({"text": state["log"][-1]})
        return {"log": [result["text"]]}

    app = StateGraph(S).add_node("wrapper", wrapper).add_edge(START, "wrapper")
    app = app.compile(checkpointer=saver)
    assert [i.value for i in app.invoke({"log": ["hi"]}, CFG)["__interrupt__"]] == ["ok?"]
    assert app.invoke(Command(resume="!"), CFG) == {"log": ["hi", "HI?!"]}


def test_a_subgraph_node_sharing_no_key_is_refused() -> None:
    inner = StateGraph(Other).add_node("x", lambda s: s).add_edge(START, "x").compile()
    with pytest.raises(GraphBuildError, match="shares no state key"):
        StateGraph(S).add_node("inner", inner)


def test_finished_subgraph_is_not_run_again_when_the_parent_node_reruns(saver: Any) -> None:
    calls: list[str] = []
    inner = _chain(calls, "work").compile()

    def parent(state: S) -> dict[str, Any]:
        done = inner.invoke({"log": []})
        answer = interrupt("confirm?")
        return {"log": [*done["log"], answer]}

    app = StateGraph(S).add_node("parent", parent).add_edge(START, "parent").add_edge("parent", END)
    app = app.compile(checkpointer=saver)
    app.invoke({"log": []}, CFG)
    assert app.invoke(Command(resume="yes"), CFG) == {"log": ["work", "yes"]}
    assert calls == ["work"]


# -- static breakpoints of a subgraph ---------------------------------------------


def test_a_subgraph_node_stops_at_its_own_breakpoint_as_in_langgraph(saver: Any) -> None:
    calls: list[str] = []
    inner = _chain(calls, "i1", "i2").compile(interrupt_before=["i2"])
    app = _chain(calls, "before").add_node("inner", inner).add_edge("before", "inner")
    app = app.compile(checkpointer=saver)

    assert app.invoke({"log": []}, CFG) == {"log": ["before"]}  # no __interrupt__: a breakpoint
    state = app.get_state(CFG, subgraphs=True)
    assert state.next == ("inner",) and state.interrupts == ()
    deep = state.tasks[0].state
    assert (deep.values, deep.next) == ({"log": ["before", "i1"]}, ("i2",))
    assert app.list_waiting().items == ()  # nobody is asked anything
    # None goes on past the breakpoint, inside the subgraph: i1 does not run again.
    assert app.invoke(None, CFG) == {"log": ["before", "before", "i1", "i2"]}
    assert calls == ["before", "i1", "i2"]
    assert app.get_state(CFG).next == ()


def test_a_subgraph_breakpoint_two_levels_deep_and_after_a_node(saver: Any) -> None:
    calls: list[str] = []
    deepest = _chain(calls, "d1", "d2").compile(interrupt_after=["d1"])
    middle = StateGraph(S).add_node("deep", deepest).add_edge(START, "deep").compile()
    app = StateGraph(S).add_node("mid", middle).add_edge(START, "mid").compile(checkpointer=saver)

    assert app.invoke({"log": []}, CFG) == {"log": []}
    mid = app.get_state(CFG, subgraphs=True).tasks[0].state
    assert mid.next == ("deep",) and mid.tasks[0].state.next == ("d2",)
    assert app.invoke(None, CFG) == {"log": ["d1", "d2"]}
    assert calls == ["d1", "d2"]


def test_a_subgraph_called_in_a_node_stops_the_node_at_its_breakpoint(saver: Any) -> None:
    calls: list[str] = []
    inner = _chain(calls, "i1", "i2").compile(interrupt_before=["i2"])

    def call(state: S) -> dict[str, Any]:
        calls.append("call")
        return {"log": inner.invoke({"log": []})["log"]}

    app = StateGraph(S).add_node("call", call).add_edge(START, "call").compile(checkpointer=saver)
    chunks = list(app.stream({"log": []}, CFG))
    assert chunks == [{"__interrupt__": ()}]
    assert app.get_state(CFG).next == ("call",)
    assert list(app.stream(None, CFG)) == [{"call": {"log": ["i1", "i2"]}}]
    assert calls == ["call", "i1", "call", "i2"]


def test_breakpoints_named_by_the_call_replace_the_subgraphs_own(saver: Any) -> None:
    calls: list[str] = []
    inner = _chain(calls, "i1", "i2").compile(interrupt_before=["i2"])

    def call(state: S) -> dict[str, Any]:
        return {"log": inner.invoke({"log": []}, interrupt_before=[])["log"]}

    app = StateGraph(S).add_node("call", call).add_edge(START, "call").compile(checkpointer=saver)
    assert app.invoke({"log": []}, CFG) == {"log": ["i1", "i2"]}


@pytest.mark.asyncio
async def test_a_subgraph_breakpoint_under_ainvoke(saver: Any) -> None:
    calls: list[str] = []
    inner = _chain(calls, "i1", "i2").compile(interrupt_before=["i2"])
    app = (
        StateGraph(S).add_node("inner", inner).add_edge(START, "inner").compile(checkpointer=saver)
    )
    assert await app.ainvoke({"log": []}, CFG) == {"log": []}
    assert (await app.aget_state(CFG)).next == ("inner",)
    assert await app.ainvoke(None, CFG) == {"log": ["i1", "i2"]}
    assert calls == ["i1", "i2"]


def test_get_subgraphs_lists_subgraph_nodes_as_langgraph() -> None:
    calls: list[str] = []
    deep = _chain(calls, "d1").compile()
    inner = StateGraph(S).add_node("deep", deep).add_edge(START, "deep").compile()
    app = _chain(calls, "a").add_node("sub", inner).add_edge("a", "sub").compile()
    assert [(n, g) for n, g in app.get_subgraphs()] == [("sub", inner)]
    assert [n for n, _ in app.get_subgraphs(recurse=True)] == ["sub", "sub|deep"]
    assert [n for n, _ in app.get_subgraphs(namespace="nope")] == []

    async def listed() -> list[str]:
        return [n async for n, _ in app.aget_subgraphs(recurse=True)]

    assert asyncio.run(listed()) == ["sub", "sub|deep"]
    assert asyncio.run(app.aget_graph()).draw_mermaid() == app.get_graph().draw_mermaid()


def _caller_of(graph: Any) -> Any:
    """A node function that maps the parent's state into ``graph`` and back."""

    def node(state: S) -> dict[str, Any]:
        return {"log": [*graph.invoke({"log": []})["log"], "node"]}

    return node


def test_a_graph_called_in_a_node_shows_in_get_state_and_takes_updates(saver: Any) -> None:
    """As for a subgraph node, found among the names the node function refers to.

    Checked against LangGraph 1.2.22: get_state(subgraphs=True) gives the task
    the paused inner state (values and next), without subgraphs the config with
    checkpoint_ns "node:<task id>"; update_state on that config edits the inner
    state and the resume sees it; get_subgraphs() lists the calling node.
    """
    calls: list[str] = []
    inner = _chain(calls, "i1", "i2", ask="i2").compile()
    app = StateGraph(S).add_node("node", _caller_of(inner)).add_edge(START, "node")
    app = app.compile(checkpointer=saver)
    app.invoke({"log": []}, CFG)

    task = app.get_state(CFG).tasks[0]
    assert task.state == {"configurable": {"thread_id": "sub", "checkpoint_ns": f"node:{task.id}"}}
    inner_state = app.get_state(CFG, subgraphs=True).tasks[0].state
    assert (inner_state.values, inner_state.next) == ({"log": ["i1"]}, ("i2",))
    app.update_state(inner_state.config, {"log": ["edited"]})

    assert app.invoke(Command(resume="ok"), CFG) == {"log": ["i1", "edited", "i2=ok", "node"]}
    assert [name for name, _ in app.get_subgraphs()] == ["node"]


@pytest.mark.parametrize("resume", [Command(resume="unused"), None])
def test_a_subgraph_finished_by_update_state_as_its_paused_node_is_not_run_again(
    saver: Any, resume: Any
) -> None:
    """update_state(sub_config, values, as_node=<the paused node>) settles the pause.

    Checked against LangGraph 1.2.22: resuming the parent (with a Command or
    None) ends the subgraph with the patched state, {'log': ['i1', 'patched']},
    without running i1 again or asking i2's question again.
    """
    calls: list[str] = []
    inner = _chain(calls, "i1", "i2", ask="i2").compile()
    app = StateGraph(S).add_node("inner", inner).add_edge(START, "inner")
    app = app.compile(checkpointer=saver)
    app.invoke({"log": []}, CFG)
    sub_config = app.get_state(CFG).tasks[0].state

    app.update_state(sub_config, {"log": ["patched"]}, as_node="i2")

    assert app.invoke(resume, CFG) == {"log": ["i1", "patched"]}
    assert calls == ["i1", "i2"]
    assert app.get_state(CFG).next == ()


def test_a_resume_after_the_parent_state_changed_reaches_the_subgraph() -> None:
    """Checked against LangGraph: update_state on the parent while a subgraph node waits
    gives that node a new task (so the subgraph starts afresh, with the new state); the
    resume value still answers its interrupt() instead of being dropped."""

    class Upd(TypedDict, total=False):
        x: str
        log: str

    def ask(state: Upd) -> dict[str, Any]:
        return {"log": f"s1:{state.get('x')}:{interrupt('q')}"}

    inner = StateGraph(Upd)
    inner.add_node("s1", ask)
    inner.add_edge(START, "s1")
    builder = StateGraph(Upd)
    builder.add_node("pre", lambda s: {"x": "A"})
    builder.add_node("sub", inner.compile())
    builder.add_edge(START, "pre")
    builder.add_edge("pre", "sub")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    assert [i.value for i in graph.invoke({"x": ""}, config)["__interrupt__"]] == ["q"]
    graph.update_state(config, {"x": "P"})
    assert graph.get_state(config).interrupts == ()
    out = graph.invoke(Command(resume="R"), config)
    assert out["log"] == "s1:P:R" and "__interrupt__" not in out
