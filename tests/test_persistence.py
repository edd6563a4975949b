"""Checkpoints, get_state and get_state_history, as LangGraph 1.2 shows them.

Expected values come from /work/notes/langgraph-behaviour.md (Q1d, Q1k, Q5, Q9,
Q14); each test runs on every saver.
"""

from __future__ import annotations

import asyncio
import operator
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, TypedDict

import pytest

from pausegraph.graph import START, StateGraph
from pausegraph.types import Command, Interrupt, PregelTask, StateSnapshot, interrupt

CFG = {"configurable": {"thread_id": "t1"}}
INTERRUPT_ID = re.compile(r"[0-9a-f]{32}")
QUESTION = {"question": "too long", "input": "hello world"}


def steps(history: list[StateSnapshot]) -> list[int]:
    return [s.metadata["step"] for s in history]


def test_a_checkpoint_is_saved_after_the_input_and_after_each_step(make_seed):
    seed = make_seed()
    assert seed.graph.invoke({"input": "hi"}, CFG) == {"input": "hi!"}

    history = list(seed.graph.get_state_history(CFG))

    assert [s.metadata for s in history] == [
        {"source": "loop", "step": 3, "parents": {}},
        {"source": "loop", "step": 2, "parents": {}},
        {"source": "loop", "step": 1, "parents": {}},
        {"source": "loop", "step": 0, "parents": {}},
        {"source": "input", "step": -1, "parents": {}},
    ]
    assert [s.next for s in history] == [(), ("step_3",), ("step_2",), ("step_1",), ("__start__",)]
    assert [s.values for s in history] == [
        {"input": "hi!"}, {"input": "hi"}, {"input": "hi"}, {"input": "hi"}, {},
    ]  # fmt: skip
    # Each checkpoint's parent is the one listed after it; the oldest has none.
    assert [s.parent_config for s in history] == [s.config for s in history[1:]] + [None]
    assert len({s.config["configurable"]["checkpoint_id"] for s in history}) == 5


def test_checkpoint_metadata_keeps_the_configs_plain_values_as_langgraph(make_seed):
    # LangGraph's savers keep config["metadata"] and config["configurable"] values
    # that are str, int, float or bool, except where-the-run-is keys and "__" ones.
    seed = make_seed()
    config = {
        "configurable": {"thread_id": "t1", "user_id": "ann", "n": 3, "ok": True,
                         "items": [1], "none": None, "__hidden": "x", "checkpoint_ns": ""},
        "metadata": {"team": "ops", "ratio": 0.5, "tags": ["a"]},
    }  # fmt: skip
    seed.graph.invoke({"input": "hi"}, config)
    expected = {"team": "ops", "ratio": 0.5, "user_id": "ann", "n": 3, "ok": True}
    for state in seed.graph.get_state_history(CFG):
        assert state.metadata == {
            "source": state.metadata["source"], "step": state.metadata["step"], "parents": {},
            **expected,
        }  # fmt: skip
    assert len(list(seed.graph.get_state_history(CFG, filter={"user_id": "ann"}))) == 5
    seed.graph.update_state({"configurable": {"thread_id": "t1", "user_id": "bob"}}, {"input": "x"})
    assert seed.graph.get_state(CFG).metadata == {
        "source": "update", "step": 4, "parents": {}, "user_id": "bob",
    }  # fmt: skip


def test_a_resume_records_its_own_configs_metadata_not_the_first_runs(make_seed):
    """Metadata belongs to the run that wrote the checkpoint, not to the thread.

    Checked against LangGraph 1.2.22: a thread started with metadata and a
    configurable key, then resumed with a bare config, has the resume's
    checkpoints without them (so a history filter on them finds the first run only).
    """
    seed = make_seed()
    started = {"configurable": {"thread_id": "t1", "user_id": "ann"}, "metadata": {"team": "ops"}}
    seed.graph.invoke({"input": "hello world"}, started)

    seed.graph.invoke(Command(resume="short"), CFG)

    history = list(seed.graph.get_state_history(CFG))
    resumed = [s.metadata for s in history if s.metadata["step"] > 1]
    assert resumed and all(
        m == {"source": "loop", "step": m["step"], "parents": {}} for m in resumed
    )
    assert [s.metadata["step"] for s in history if s.metadata.get("team") == "ops"] == [1, 0, -1]
    assert history[-1].metadata == {
        "source": "input", "step": -1, "parents": {}, "team": "ops", "user_id": "ann",
    }  # fmt: skip


def test_get_state_of_an_old_checkpoint_shows_its_tasks_results(make_seed):
    """get_state on an old checkpoint's config shows what its step's tasks returned.

    Checked against LangGraph 1.2.22: each checkpoint's task carries the same
    result through get_state(config) as through get_state_history, sync and async.
    """
    seed = make_seed()
    seed.graph.invoke({"input": "hi"}, CFG)
    history = list(seed.graph.get_state_history(CFG))

    shown = [[(t.name, t.result) for t in seed.graph.get_state(s.config).tasks] for s in history]
    shown_async = [
        [(t.name, t.result) for t in asyncio.run(seed.graph.aget_state(s.config)).tasks]
        for s in history
    ]

    assert shown == [[(t.name, t.result) for t in s.tasks] for s in history]
    assert shown == shown_async
    assert shown == [
        [],
        [("step_3", {"input": "hi!"})],
        [("step_2", {"input": "hi"})],
        [("step_1", {"input": "hi"})],
        [("__start__", {"input": "hi"})],
    ]


class TwoKeys(TypedDict, total=False):
    x: str
    log: Annotated[list[str], operator.add]


def test_a_task_result_in_history_lists_its_keys_in_schema_order(saver):
    """A step's only task shows its result keys as the node wrote them (schema order here).

    Checked against LangGraph 1.2.22: the history entry before "ask" has the
    task result {'x': 'A', 'log': ['ask']} in that key order, though "log"
    already had a value and "x" did not.
    """

    def ask(state: TwoKeys) -> dict[str, Any]:
        return {"x": interrupt("q"), "log": ["ask"]}

    builder = StateGraph(TwoKeys)
    builder.add_node("pre", lambda state: {"log": ["pre"]})
    builder.add_node("ask", ask)
    builder.add_edge(START, "pre")
    builder.add_edge("pre", "ask")
    graph = builder.compile(checkpointer=saver)
    graph.invoke({"log": []}, CFG)
    graph.invoke(Command(resume="A"), CFG)

    before_ask = next(s for s in graph.get_state_history(CFG) if s.next == ("ask",))

    (task,) = before_ask.tasks
    assert list(task.result.items()) == [("x", "A"), ("log", ["ask"])]


def test_get_state_while_interrupted_has_every_snapshot_field(make_seed):
    seed = make_seed()
    seed.graph.invoke({"input": "hello world"}, CFG)
    history = list(seed.graph.get_state_history(CFG))

    state = seed.graph.get_state(CFG)

    assert StateSnapshot._fields == (
        "values", "next", "config", "metadata", "created_at", "parent_config", "tasks",
        "interrupts",
    )  # fmt: skip
    assert PregelTask._fields == ("id", "name", "path", "error", "interrupts", "state", "result")
    assert state.values == {"input": "hello world"}
    assert state.next == ("step_2",)
    assert list(state.config["configurable"]) == ["thread_id", "checkpoint_ns", "checkpoint_id"]
    assert state.config["configurable"]["thread_id"] == "t1"
    assert state.config["configurable"]["checkpoint_ns"] == ""
    # The interrupt does not add a checkpoint: the snapshot is the one taken after step_1.
    assert state.config == history[0].config
    assert state.metadata == {"source": "loop", "step": 1, "parents": {}}
    assert state.parent_config == history[1].config
    created = datetime.fromisoformat(state.created_at)
    assert created.utcoffset() == timedelta(0)
    assert state.created_at.endswith("+00:00")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", state.created_at)

    (task,) = state.tasks
    assert isinstance(task, PregelTask)
    assert (task.name, task.path, task.error, task.state, task.result) == (
        "step_2", ("__pregel_pull", "step_2"), None, None, None,
    )  # fmt: skip
    (intr,) = task.interrupts
    assert intr.value == QUESTION
    assert INTERRUPT_ID.fullmatch(intr.id)
    assert state.interrupts == (intr,)
    # Addressing the same checkpoint by id gives the same snapshot.
    assert seed.graph.get_state(state.config) == state


def test_get_state_of_an_unknown_thread_is_the_empty_snapshot(make_seed):
    seed = make_seed()

    state = seed.graph.get_state({"configurable": {"thread_id": "nobody"}})

    assert state == StateSnapshot(
        values={},
        next=(),
        config={"configurable": {"thread_id": "nobody"}},
        metadata=None,
        created_at=None,
        parent_config=None,
        tasks=(),
        interrupts=(),
    )
    assert list(seed.graph.get_state_history({"configurable": {"thread_id": "nobody"}})) == []


@pytest.mark.parametrize(
    ("kwargs", "expected_steps"),
    [
        ({}, [3, 2, 1, 0, -1]),
        ({"limit": 2}, [3, 2]),
        ({"filter": {"source": "loop"}}, [3, 2, 1, 0]),
        ({"filter": {"source": "input"}}, [-1]),
        ({"filter": {"step": 1}}, [1]),
        ({"filter": {"source": "loop"}, "limit": 3}, [3, 2, 1]),
    ],
)
def test_history_is_newest_first_and_honours_limit_and_filter(make_seed, kwargs, expected_steps):
    seed = make_seed()
    seed.graph.invoke({"input": "hi"}, CFG)

    assert steps(list(seed.graph.get_state_history(CFG, **kwargs))) == expected_steps


def test_history_before_lists_only_older_checkpoints(make_seed):
    seed = make_seed()
    seed.graph.invoke({"input": "hi"}, CFG)
    step_2 = next(iter(seed.graph.get_state_history(CFG, filter={"step": 2})))

    older = list(seed.graph.get_state_history(CFG, before=step_2.config))
    assert steps(older) == [1, 0, -1]
    assert steps(list(seed.graph.get_state_history(CFG, before=step_2.config, limit=1))) == [1]


def test_history_tasks_carry_the_writes_of_finished_steps(make_seed):
    # Notes Q1k: in history, PregelTask.result holds the writes the task produced.
    seed = make_seed()
    seed.graph.invoke({"input": "hi"}, CFG)

    history = list(seed.graph.get_state_history(CFG))

    assert [[(t.name, t.result) for t in s.tasks] for s in history] == [
        [],
        [("step_3", {"input": "hi!"})],
        [("step_2", {"input": "hi"})],
        [("step_1", {"input": "hi"})],
        [("__start__", {"input": "hi"})],
    ]
    start_task = history[-1].tasks[0]
    assert (start_task.path, start_task.error, start_task.interrupts) == (
        ("__pregel_pull", "__start__"), None, (),
    )  # fmt: skip


# -- a parallel step where one task finished and the other interrupted (notes Q5) ----


class ParallelState(TypedDict):
    log: Annotated[list, operator.add]
    x: int


def build_one_done_one_paused(saver: Any) -> tuple[Any, dict[str, int]]:
    counts = {"a": 0, "b": 0, "c": 0}

    def a(state: ParallelState) -> dict[str, Any]:
        counts["a"] += 1
        return {"log": ["a"], "x": 1}

    def b(state: ParallelState) -> dict[str, Any]:
        counts["b"] += 1
        return {"log": [f"b={interrupt('ask b')}"]}

    def c(state: ParallelState) -> dict[str, Any]:
        counts["c"] += 1
        return {"log": ["c"]}

    builder = StateGraph(ParallelState)
    builder.add_node("a", a)
    builder.add_node("b", b)
    builder.add_node("c", c)
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    builder.add_edge(["a", "b"], "c")
    return builder.compile(checkpointer=saver), counts


def test_live_get_state_shows_finished_sibling_writes_but_the_checkpoint_does_not(saver):
    graph, counts = build_one_done_one_paused(saver)

    result = graph.invoke({"log": []}, CFG)
    assert type(result["__interrupt__"]) is list
    (pending,) = result.pop("__interrupt__")
    assert (type(pending), pending.value) == (Interrupt, "ask b")
    assert result == {"log": ["a"], "x": 1}  # the finished sibling's writes are included

    live = graph.get_state(CFG)
    assert live.next == ("b",)
    assert live.values == {"log": ["a"], "x": 1}
    assert live.metadata == {"source": "loop", "step": 0, "parents": {}}
    assert [(t.name, t.path, t.result, len(t.interrupts)) for t in live.tasks] == [
        ("a", ("__pregel_pull", "a"), {"log": ["a"], "x": 1}, 0),
        ("b", ("__pregel_pull", "b"), None, 1),
    ]
    assert live.interrupts == live.tasks[1].interrupts
    assert live.interrupts[0].value == "ask b"

    stored = graph.get_state(live.config)
    newest = next(iter(graph.get_state_history(CFG)))
    for view in (stored, newest):
        assert view.config == live.config
        assert view.next == ("a", "b")
        assert view.values == {"log": []}
        assert [(t.name, t.result, len(t.interrupts)) for t in view.tasks] == [
            ("a", {"log": ["a"], "x": 1}, 0),
            ("b", None, 1),
        ]

    assert graph.invoke(Command(resume="B"), CFG) == {"log": ["a", "b=B", "c"], "x": 1}
    assert counts == {"a": 1, "b": 2, "c": 1}  # the finished sibling does not run again
    assert graph.get_state(CFG).metadata == {"source": "loop", "step": 2, "parents": {}}
