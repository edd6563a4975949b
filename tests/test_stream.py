"""Streaming: values, updates, debug and custom modes; several modes; async runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import InvalidConfigError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Send, StreamWriter, get_stream_writer


class Seed(TypedDict):
    input: str


def seed_graph(**compile_kw: Any) -> Any:
    """The notes' shared fixture without its interrupt: step_1 -> step_2 -> step_3 (adds '!')."""
    builder = StateGraph(Seed).add_sequence(
        [
            ("step_1", lambda s: {"input": s["input"]}),
            ("step_2", lambda s: {"input": s["input"]}),
            ("step_3", lambda s: {"input": s["input"] + "!"}),
        ]
    )
    return builder.add_edge(START, "step_1").add_edge("step_3", END).compile(**compile_kw)


class X(TypedDict):
    x: int


def a_node(state: X) -> dict[str, int]:
    return {"x": 1}


def a_node_talking(state: X, writer: StreamWriter) -> dict[str, int]:
    writer({"progress": 1})
    get_stream_writer()("plain string")
    return {"x": 1}


def shapes_graph(*, talking: bool = False) -> Any:
    """The notes' Q12 graph: a -> n (returns None) -> e (returns {}).

    With ``talking``, a also emits two custom chunks (by its ``writer`` and by
    ``get_stream_writer()``), as in the notes.
    """
    builder = StateGraph(X).add_node("a", a_node_talking if talking else a_node)
    builder.add_node("n", lambda s: None).add_node("e", lambda s: {})
    return builder.add_edge(START, "a").add_edge("a", "n").add_edge("n", "e").compile()


def thread(tid: str = "t1") -> dict[str, Any]:
    return {"configurable": {"thread_id": tid}}


# -- values and updates ---------------------------------------------------------------


def test_values_starts_with_the_input_then_the_state_after_each_step() -> None:
    chunks = list(seed_graph().stream({"input": "hi"}, stream_mode="values"))
    assert chunks == [{"input": "hi"}, {"input": "hi"}, {"input": "hi"}, {"input": "hi!"}]


def test_values_skips_steps_without_writes() -> None:
    assert list(shapes_graph().stream({"x": 0}, stream_mode="values")) == [{"x": 0}, {"x": 1}]


def test_updates_maps_each_node_to_its_update_and_none_for_empty() -> None:
    chunks = list(shapes_graph().stream({"x": 0}, stream_mode="updates"))
    assert chunks == [{"a": {"x": 1}}, {"n": None}, {"e": None}]


def test_stream_defaults_to_updates() -> None:
    chunks = list(seed_graph().stream({"input": "hi"}))
    assert chunks == [
        {"step_1": {"input": "hi"}},
        {"step_2": {"input": "hi"}},
        {"step_3": {"input": "hi!"}},
    ]


def test_invoke_with_a_stream_mode_returns_the_chunks() -> None:
    result = seed_graph().invoke({"input": "hi"}, stream_mode="updates")
    assert result == [
        {"step_1": {"input": "hi"}},
        {"step_2": {"input": "hi"}},
        {"step_3": {"input": "hi!"}},
    ]


# -- debug --------------------------------------------------------------------------


def test_debug_events_match_langgraph_sequence() -> None:
    events = list(
        seed_graph(checkpointer=InMemorySaver()).stream(
            {"input": "hi"}, thread(), stream_mode="debug"
        )
    )
    assert all(set(e) == {"step", "timestamp", "type", "payload"} for e in events)
    shape = [(e["step"], e["type"], e["payload"].get("name")) for e in events]
    node_events = [
        (step, kind, None if kind == "checkpoint" else name)
        for step, name in enumerate(("step_1", "step_2", "step_3"), start=1)
        for kind in ("task", "task_result", "checkpoint")
    ]
    assert shape == [(-1, "checkpoint", None), (0, "checkpoint", None), *node_events]


def test_debug_payload_shapes() -> None:
    events = list(
        seed_graph(checkpointer=InMemorySaver()).stream(
            {"input": "hi"}, thread(), stream_mode="debug"
        )
    )
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_type.setdefault(e["type"], []).append(e)
        assert dt.datetime.fromisoformat(e["timestamp"]).tzinfo is not None
    checkpoint = by_type["checkpoint"][-1]["payload"]
    assert set(checkpoint) == {"config", "parent_config", "values", "metadata", "next", "tasks"}
    assert checkpoint["values"] == {"input": "hi!"}
    assert checkpoint["metadata"]["source"] == "loop" and checkpoint["metadata"]["step"] == 3
    assert list(checkpoint["next"]) == [] and list(checkpoint["tasks"]) == []
    task = next(e["payload"] for e in by_type["task"] if e["payload"]["name"] == "step_3")
    assert set(task) == {"id", "name", "input", "triggers"}
    assert task["input"] == {"input": "hi"}
    result = next(e["payload"] for e in by_type["task_result"] if e["payload"]["name"] == "step_3")
    assert result["id"] == task["id"]
    assert {k: result[k] for k in ("error", "result", "interrupts")} == {
        "error": None,
        "result": {"input": "hi!"},
        "interrupts": [],
    }


class Fan(TypedDict):
    items: Annotated[list[str], operator.add]


def test_task_triggers_name_sends_and_joins_as_langgraph_does() -> None:
    builder = StateGraph(Fan)
    for name in ("a", "b", "c", "d"):
        builder.add_node(name, lambda s, name=name: {"items": [name]})
    builder.add_conditional_edges(START, lambda s: [Send("a", {}), "b", "c"])
    builder.add_edge(["c", "b"], "d").add_edge(["a", "b"], "d")
    chunks = list(builder.compile().stream({"items": []}, stream_mode="tasks"))
    triggers = {c["name"]: c["triggers"] for c in chunks if "triggers" in c}
    assert triggers == {
        "a": ("__pregel_push",),
        "b": ("branch:to:b",),
        "c": ("branch:to:c",),
        "d": ("branch:to:d", "join:a+b:d", "join:c+b:d"),
    }


def test_a_step_starts_sends_first_then_nodes_by_name_as_langgraph_does() -> None:
    builder = StateGraph(Fan)
    for name in ("zeta", "beta", "alpha", "d"):
        builder.add_node(name, lambda s, name=name: {"items": [name]})
    builder.add_conditional_edges(
        START, lambda s: [Send("d", {}), "zeta", "alpha", Send("beta", {}), "beta"]
    )
    graph = builder.compile(checkpointer=InMemorySaver(), interrupt_before=["zeta"])
    config = thread()
    checkpoints = [
        c["payload"]
        for c in graph.stream({"items": []}, config, stream_mode="debug")
        if c["type"] == "checkpoint"
    ]
    # The checkpoint a run reports lists the tasks in the order the step runs them,
    assert checkpoints[-1]["next"] == ["d", "beta", "alpha", "beta", "zeta"]
    # get_state lists Sends first, then nodes in the order they were added.
    state = graph.get_state(config)
    assert state.next == ("d", "beta", "zeta", "beta", "alpha")
    assert [t.path for t in state.tasks][:2] == [
        ("__pregel_push", 0, False),
        ("__pregel_push", 1, False),
    ]
    started = [c["name"] for c in graph.stream(None, config, stream_mode="tasks") if "input" in c]
    assert started == ["d", "beta", "alpha", "beta", "zeta"]


def test_values_come_before_the_checkpoint_they_are_stored_in_as_in_langgraph() -> None:
    graph = seed_graph(checkpointer=InMemorySaver(), interrupt_before=["step_3"])
    modes = ["values", "checkpoints", "updates"]
    first = [m for m, _ in graph.stream({"input": "hi"}, thread(), stream_mode=modes)]
    assert first == [
        "checkpoints", "values", "checkpoints", "updates", "values", "checkpoints",
        "updates", "values", "checkpoints", "updates",
    ]  # fmt: skip
    # A resumed run starts with the values and the checkpoint it continues from.
    resumed = [m for m, _ in graph.stream(None, thread(), stream_mode=modes)]
    assert resumed == ["values", "checkpoints", "updates", "values", "checkpoints"]


def test_tasks_carry_the_callers_metadata_and_tags_checkpoint_events_do_not() -> None:
    # As LangGraph 1.2: a task event names the run's metadata and tags; a checkpoint
    # event only what the run wrote (source, step, parents).
    config = {**thread(), "metadata": {"team": "ops"}, "tags": ["nightly"]}
    chunks = list(
        seed_graph(checkpointer=InMemorySaver()).stream(
            {"input": "hi"}, config, stream_mode="debug"
        )
    )
    starts = [c["payload"] for c in chunks if c["type"] == "task"]
    assert starts[0]["metadata"] == {"team": "ops", "tags": ["nightly"]}
    results = [c["payload"] for c in chunks if c["type"] == "task_result"]
    assert "metadata" not in results[0]
    checkpoints = [c["payload"]["metadata"] for c in chunks if c["type"] == "checkpoint"]
    assert checkpoints[-1] == {"source": "loop", "step": 3, "parents": {}}
    plain = list(seed_graph().stream({"input": "hi"}, stream_mode="tasks"))
    assert "metadata" not in plain[0]


# -- custom -------------------------------------------------------------------------


def test_custom_chunks_from_writer_kwarg_and_get_stream_writer() -> None:
    chunks = list(shapes_graph(talking=True).stream({"x": 0}, stream_mode="custom"))
    assert chunks == [{"progress": 1}, "plain string"]


def test_several_modes_give_mode_chunk_pairs_in_order() -> None:
    chunks = list(shapes_graph(talking=True).stream({"x": 0}, stream_mode=["updates", "custom"]))
    assert chunks == [
        ("custom", {"progress": 1}),
        ("custom", "plain string"),
        ("updates", {"a": {"x": 1}}),
        ("updates", {"n": None}),
        ("updates", {"e": None}),
    ]


def test_values_and_updates_together() -> None:
    chunks = list(seed_graph().stream({"input": "hi"}, stream_mode=["values", "updates"]))
    assert [mode for mode, _ in chunks] == ["values"] + ["updates", "values"] * 3
    assert chunks[-2:] == [("updates", {"step_3": {"input": "hi!"}}), ("values", {"input": "hi!"})]


def test_get_stream_writer_is_a_no_op_without_custom_mode() -> None:
    def a(state: X) -> dict[str, int]:
        get_stream_writer()("dropped")
        return {"x": 1}

    graph = StateGraph(X).add_node("a", a).add_edge(START, "a").compile()
    assert list(graph.stream({"x": 0}, stream_mode="values")) == [{"x": 0}, {"x": 1}]


def test_writer_kwarg_is_a_no_op_without_custom_mode() -> None:
    graph = shapes_graph(talking=True)
    assert list(graph.stream({"x": 0}, stream_mode="values")) == [{"x": 0}, {"x": 1}]


@pytest.mark.parametrize("mode", ["bogus", ["values", "bogus"]])
def test_unknown_stream_mode_is_refused(mode: Any) -> None:
    # LangGraph silently yields nothing; pausegraph refuses before running anything.
    ran: list[str] = []
    graph = StateGraph(X).add_node("a", lambda s: ran.append("a")).add_edge(START, "a").compile()
    with pytest.raises(InvalidConfigError, match="'bogus'"):
        list(graph.stream({"x": 0}, stream_mode=mode))
    with pytest.raises(InvalidConfigError, match="'bogus'"):
        graph.invoke({"x": 0}, stream_mode="bogus")
    assert ran == []


# -- async ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["values", "updates", "custom", ["updates", "custom"]])
async def test_astream_matches_stream(mode: Any) -> None:
    graph = shapes_graph(talking="custom" in mode)
    expected = list(graph.stream({"x": 0}, stream_mode=mode))
    assert [c async for c in graph.astream({"x": 0}, stream_mode=mode)] == expected


async def test_ainvoke_matches_invoke() -> None:
    graph = seed_graph()
    assert await graph.ainvoke({"input": "hi"}) == graph.invoke({"input": "hi"}) == {"input": "hi!"}
    assert await graph.ainvoke({"input": "hi"}, stream_mode="updates") == graph.invoke(
        {"input": "hi"}, stream_mode="updates"
    )


async def test_astream_debug_matches_stream_debug_shape() -> None:
    def shape(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(e["step"], e["type"], e["payload"].get("name")) for e in events]

    sync_events = list(
        seed_graph(checkpointer=InMemorySaver()).stream(
            {"input": "hi"}, thread(), stream_mode="debug"
        )
    )
    async_graph = seed_graph(checkpointer=InMemorySaver())
    async_events = [
        e async for e in async_graph.astream({"input": "hi"}, thread(), stream_mode="debug")
    ]
    assert shape(async_events) == shape(sync_events)


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


async def test_async_nodes_run_under_ainvoke() -> None:
    async def fetch(state: Log) -> dict[str, list[str]]:
        await asyncio.sleep(0)
        return {"log": ["fetched"]}

    def summarize(state: Log) -> dict[str, list[str]]:
        return {"log": [f"{len(state['log'])} item"]}

    builder = StateGraph(Log).add_sequence([fetch, summarize]).add_edge(START, "fetch")
    assert await builder.compile().ainvoke({"log": []}) == {"log": ["fetched", "1 item"]}


async def test_async_node_custom_chunks_via_get_stream_writer() -> None:
    async def talk(state: Log) -> dict[str, list[str]]:
        get_stream_writer()("from async")
        return {"log": ["talked"]}

    graph = StateGraph(Log).add_node("talk", talk).add_edge(START, "talk").compile()
    chunks = [c async for c in graph.astream({"log": []}, stream_mode=["custom", "updates"])]
    assert chunks == [("custom", "from async"), ("updates", {"talk": {"log": ["talked"]}})]


async def test_parallel_async_nodes_overlap() -> None:
    events: list[str] = []

    def sleeper(name: str) -> Callable[[Log], Any]:
        async def node(state: Log) -> dict[str, list[str]]:
            events.append(f"start {name}")
            await asyncio.sleep(0.05)
            events.append(f"end {name}")
            return {"log": [name]}

        return node

    builder = StateGraph(Log)
    for name in ("a", "b"):
        builder.add_node(name, sleeper(name)).add_edge(START, name)
    assert await builder.compile().ainvoke({"log": []}) == {"log": ["a", "b"]}
    # Both started before either ended: they ran concurrently, not one after the other.
    assert sorted(events[:2]) == ["start a", "start b"]
    assert sorted(events[2:]) == ["end a", "end b"]


def async_graph() -> Any:
    async def think(state: Log) -> dict[str, list[str]]:
        return {"log": ["thought"]}

    return StateGraph(Log).add_node("think", think).add_edge(START, "think").compile()


def test_sync_invoke_of_async_node_points_to_ainvoke() -> None:
    with pytest.raises(InvalidConfigError) as info:
        async_graph().invoke({"log": []})
    assert "'think'" in str(info.value)
    assert "ainvoke" in str(info.value)


def test_sync_stream_of_async_node_points_to_ainvoke() -> None:
    with pytest.raises(InvalidConfigError, match="ainvoke"):
        list(async_graph().stream({"log": []}, stream_mode="values"))


def failing_fan_out() -> Any:
    """``ok`` and ``bad`` in one step; ``bad`` raises after ``ok`` has finished."""
    import time

    def bad(state: Log) -> dict[str, Any]:
        time.sleep(0.05)
        raise ValueError("boom")

    builder = StateGraph(Log)
    builder.add_node("ok", lambda s: {"log": ["ok"]})
    builder.add_node("bad", bad)
    builder.add_edge(START, "ok")
    builder.add_edge(START, "bad")
    return builder.compile(checkpointer=InMemorySaver())


def _until_error(chunks: Any) -> tuple[list[Any], BaseException | None]:
    seen: list[Any] = []
    try:
        for chunk in chunks:
            seen.append(chunk)
    except ValueError as exc:
        return seen, exc
    return seen, None


def test_a_failed_step_reports_its_finished_tasks_before_the_error() -> None:
    graph = failing_fan_out()
    config = {"configurable": {"thread_id": "1"}}
    seen, error = _until_error(graph.stream({"log": []}, config))
    assert (seen, str(error)) == ([{"ok": {"log": ["ok"]}}], "boom")  # as LangGraph 1.2
    results, error = _until_error(
        graph.stream({"log": []}, {"configurable": {"thread_id": "2"}}, stream_mode="tasks")
    )
    ends = [(c["name"], c["result"], c["error"]) for c in results if "result" in c]
    assert ends[0] == ("ok", {"log": ["ok"]}, None)
    name, result, raised = ends[1]
    assert (name, result, type(raised), error) == ("bad", {}, ValueError, raised)


def test_a_failed_async_step_reports_its_finished_tasks_before_the_error() -> None:
    graph = failing_fan_out()

    async def run() -> tuple[list[Any], BaseException | None]:
        seen: list[Any] = []
        try:
            async for chunk in graph.astream({"log": []}, {"configurable": {"thread_id": "a"}}):
                seen.append(chunk)
        except ValueError as exc:
            return seen, exc
        return seen, None

    seen, error = asyncio.run(run())
    assert (seen, str(error)) == ([{"ok": {"log": ["ok"]}}], "boom")
