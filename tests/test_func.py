"""The functional API (``@entrypoint``, ``@task``); behaviour tests run on every saver.

Expected shapes come from probes of LangGraph 1.2's ``langgraph.func``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, TypedDict

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import (
    GraphBuildError,
    InterruptMismatchError,
    InvalidConfigError,
    OutsideNodeError,
)
from pausegraph.func import entrypoint, task
from pausegraph.graph import START, StateGraph
from pausegraph.types import Command, Interrupt, RetryPolicy, interrupt

CFG = {"configurable": {"thread_id": "t1"}}


def test_sync_entrypoint_returns_the_function_value_and_keeps_previous(saver: Any) -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    @entrypoint(checkpointer=saver)
    def total(n: int, *, previous: int | None = None) -> int:
        return (previous or 0) + double(n).result()

    assert total.invoke(1, CFG) == 2
    assert total.invoke(10, CFG) == 22
    assert total.get_state(CFG).values == 22
    assert total.invoke(1, {"configurable": {"thread_id": "other"}}) == 2


def test_final_returns_one_value_and_saves_another(saver: Any) -> None:
    @entrypoint(checkpointer=saver)
    def counter(n: int, *, previous: int | None = None) -> entrypoint.final[int, int]:
        prev = previous or 0
        return entrypoint.final(value=prev, save=prev + n)

    assert [counter.invoke(n, CFG) for n in (1, 2, 3)] == [0, 1, 3]
    assert counter.get_state(CFG).values == 3  # what was returned, as in LangGraph
    assert repr(entrypoint.final(value=1, save=2)) == "entrypoint.final(value=1, save=2)"

    counter.update_state(CFG, 100)  # sets the value and the next run's previous
    state = counter.get_state(CFG)
    assert (state.values, state.next, state.metadata["source"]) == (100, (), "update")
    assert counter.invoke(1, CFG) == 100


async def test_async_entrypoint_with_async_and_sync_tasks() -> None:
    @task
    async def square(x: int) -> int:
        await asyncio.sleep(0)
        return x * x

    @task
    def negate(x: int) -> int:
        return -x

    @entrypoint(checkpointer=InMemorySaver())
    async def flow(n: int, *, previous: Any = None) -> list[int]:
        squares = await asyncio.gather(*[square(i) for i in range(n)])
        return [*squares, await negate(n)]

    assert await flow.ainvoke(3, CFG) == [0, 1, 4, -3]
    assert (await flow.aget_state(CFG)).values == [0, 1, 4, -3]
    with pytest.raises(InvalidConfigError, match="ainvoke"):
        flow.invoke(3, CFG)


def test_sync_tasks_run_in_parallel() -> None:
    events: list[str] = []
    barrier = threading.Barrier(3, timeout=5)  # breaks unless all three run at once

    @task
    def work(i: int) -> int:
        events.append(f"start {i}")
        barrier.wait()
        time.sleep(0.01)
        events.append(f"end {i}")
        return i

    @entrypoint()
    def fan_out(n: int) -> list[int]:
        futures = [work(i) for i in range(n)]
        return [f.result() for f in futures]

    assert fan_out.invoke(3) == [0, 1, 2]
    assert {e.split()[0] for e in events[:3]} == {"start"}
    assert {e.split()[0] for e in events[3:]} == {"end"}


async def test_async_tasks_run_concurrently() -> None:
    started = 0
    all_started = asyncio.Event()

    @task
    async def work(i: int) -> int:
        nonlocal started
        started += 1
        if started == 3:
            all_started.set()
        await asyncio.wait_for(all_started.wait(), 5)
        return i

    @entrypoint()
    async def fan_out(n: int) -> list[int]:
        futures = [work(i) for i in range(n)]
        return [await f for f in futures]

    assert await fan_out.ainvoke(3) == [0, 1, 2]


def test_resume_reruns_the_entrypoint_but_not_finished_tasks(saver: Any) -> None:
    calls: list[str] = []

    @task
    def fetch(name: str, delay: float) -> str:
        calls.append(name)
        time.sleep(delay)
        return name.upper()

    @entrypoint(checkpointer=saver)
    def review(topic: str) -> dict[str, Any]:
        slow, fast = fetch("slow", 0.05), fetch("fast", 0.0)  # finish out of call order
        answer = interrupt({"approve": [slow.result(), fast.result()]})
        return {"docs": [slow.result(), fast.result()], "answer": answer}

    paused = review.invoke("x", CFG)
    (intr,) = paused["__interrupt__"]
    assert paused == {"__interrupt__": [intr]}
    assert intr.value == {"approve": ["SLOW", "FAST"]}
    state = review.get_state(CFG)
    assert (state.values, state.next, state.interrupts) == (None, ("review",), (intr,))

    assert review.invoke(Command(resume="ok"), CFG) == {"docs": ["SLOW", "FAST"], "answer": "ok"}
    assert sorted(calls) == ["fast", "slow"]  # each ran once


def test_interrupt_in_a_task_pauses_and_the_task_reruns_with_the_answer(saver: Any) -> None:
    calls: list[str] = []

    @task
    def ask(question: str) -> str:
        calls.append(question)
        return f"{question}={interrupt(question)}"

    @task
    def prepare() -> str:
        calls.append("prepare")
        return "ready"

    @entrypoint(checkpointer=saver)
    def survey(questions: list[str]) -> list[str]:
        ready = prepare()
        answers = [ask(q) for q in questions]  # parallel: one interrupt at a time
        return [ready.result(), *[a.result() for a in answers]]

    first = survey.invoke(["a", "b"], CFG)["__interrupt__"]
    assert [i.value for i in first] == ["a"]
    second = survey.invoke(Command(resume=1), CFG)["__interrupt__"]
    assert [i.value for i in second] == ["b"]
    assert survey.invoke(Command(resume=2), CFG) == ["ready", "a=1", "b=2"]
    assert calls.count("prepare") == 1
    assert calls.count("a") == 2 and calls.count("b") == 3  # asked, answered (b: asked again)


async def test_async_task_interrupt_and_resume() -> None:
    runs: list[int] = []

    @task
    async def draft(n: int) -> str:
        runs.append(n)
        return f"draft {n}"

    @task
    async def confirm(text: str) -> bool:
        return bool(interrupt({"confirm": text}))

    @entrypoint(checkpointer=InMemorySaver())
    async def publish(n: int) -> tuple[str, bool]:
        text = await draft(n)
        return text, await confirm(text)

    paused = await publish.ainvoke(7, CFG)
    assert [i.value for i in paused["__interrupt__"]] == [{"confirm": "draft 7"}]
    assert await publish.ainvoke(Command(resume=1), CFG) == ("draft 7", True)
    assert runs == [7]


def test_a_task_that_raises_surfaces_at_result() -> None:
    @task
    def boom(x: int) -> int:
        raise ValueError(f"bad {x}")

    @entrypoint()
    def caught(x: int) -> str:
        boom(0)  # not awaited: its failure does not fail the run (as in LangGraph)
        try:
            boom(x).result()
        except ValueError as exc:
            return str(exc)
        return "unreachable"

    @entrypoint()
    def uncaught(x: int) -> int:
        return boom(x).result()

    assert caught.invoke(1) == "bad 1"
    with pytest.raises(ValueError, match="bad 2"):
        uncaught.invoke(2)


def test_after_a_failure_invoke_none_skips_finished_tasks(saver: Any) -> None:
    calls: list[int] = []
    failures = [RuntimeError("flaky")]

    @task
    def step(x: int) -> int:
        calls.append(x)
        return x + 1

    @entrypoint(checkpointer=saver)
    def flow(x: int) -> int:
        y = step(x).result()
        if failures:
            raise failures.pop()
        return y

    with pytest.raises(RuntimeError, match="flaky"):
        flow.invoke(1, CFG)
    assert flow.invoke(None, CFG) == 2
    assert calls == [1]


def test_task_retry_policy() -> None:
    attempts: list[int] = []

    @task(retry_policy=RetryPolicy(max_attempts=3, initial_interval=0, jitter=False))
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return x

    @entrypoint()
    def flow(x: int) -> int:
        return flaky(x).result()

    assert flow.invoke(5) == 5
    assert attempts == [5, 5, 5]


def test_public_names_and_misuse_errors() -> None:
    import pausegraph.errors
    import pausegraph.func

    assert pausegraph.func.__all__ == ["entrypoint", "task"]
    assert "OutsideNodeError" in pausegraph.errors.__all__

    @task
    def plain(x: int) -> int:
        return x

    @task
    async def coro(x: int) -> int:
        return x

    with pytest.raises(OutsideNodeError, match=r"'plain' was called outside .*plain\.func"):
        plain(1)  # also a RuntimeError, as in LangGraph
    assert issubclass(OutsideNodeError, RuntimeError)
    assert plain.func(1) == 1

    @entrypoint()
    def sync_flow(x: int) -> int:
        return coro(x).result()

    with pytest.raises(InvalidConfigError, match="'coro' is an async function"):
        sync_flow.invoke(1)
    with pytest.raises(GraphBuildError, match="at least one parameter"):
        entrypoint()(lambda: 1)
    with pytest.raises(GraphBuildError, match="parentheses"):
        entrypoint(lambda x: x)


def test_calls_made_in_another_order_on_resume_are_refused(saver: Any) -> None:
    order = ["a", "b"]

    @task
    def a() -> str:
        return "a"

    @task
    def b() -> str:
        return "b"

    @entrypoint(checkpointer=saver)
    def flow(x: int) -> Any:
        first = {"a": a, "b": b}[order[0]]().result()
        return first, interrupt("go?")

    flow.invoke(1, CFG)
    order.reverse()
    with pytest.raises(InterruptMismatchError, match=r"task 'b'.*task 'a'"):
        flow.invoke(Command(resume=True), CFG)


def test_tasks_inside_graph_nodes_and_tasks(saver: Any) -> None:
    calls: list[str] = []

    class State(TypedDict):
        n: int

    @task
    def inner(n: int) -> int:
        calls.append("inner")
        return n + 1

    @task
    def outer(n: int) -> int:
        return inner(n).result() * 10

    def node(state: State) -> State:
        n = outer(state["n"]).result()
        return {"n": n + interrupt("add?")}

    builder = StateGraph(State)
    builder.add_node(node)
    builder.add_edge(START, "node")
    graph = builder.compile(checkpointer=saver)
    graph.invoke({"n": 1}, CFG)
    assert graph.invoke(Command(resume=5), CFG) == {"n": 25}
    assert calls == ["inner"]


def test_durable_run_resumes_on_a_new_sqlite_saver(tmp_path: Path, sqlite_saver_cls: Any) -> None:
    calls: list[int] = []

    @task
    def fetch(i: int) -> dict[str, int]:
        calls.append(i)
        return {"i": i}

    def build(saver: Any) -> Any:
        @entrypoint(checkpointer=saver)
        def approve(ids: list[int]) -> dict[str, Any]:
            docs = [f.result() for f in [fetch(i) for i in ids]]
            return {"docs": docs, "ok": interrupt({"docs": docs})}

        return approve

    db = str(tmp_path / "flows.db")
    with sqlite_saver_cls.from_conn_string(db) as saver:
        assert "__interrupt__" in build(saver).invoke([1, 2, 3], CFG)
    with sqlite_saver_cls.from_conn_string(db) as saver:
        flow = build(saver)
        assert [w.thread_id for w in flow.list_waiting().items] == ["t1"]
        result = flow.invoke(Command(resume=True), CFG)
    assert result == {"docs": [{"i": 1}, {"i": 2}, {"i": 3}], "ok": True}
    assert sorted(calls) == [1, 2, 3]


def test_stream_shapes(saver: Any) -> None:
    @task
    def add_one(x: int) -> int:
        return x + 1

    @entrypoint(checkpointer=saver)
    def wf(x: int, *, writer: Any) -> dict[str, Any]:
        writer({"progress": x})
        a = add_one(x).result()
        return {"a": a, "ok": interrupt({"a": a})}

    chunks = list(wf.stream(1, CFG, stream_mode="updates"))
    assert chunks[0] == {"add_one": 2}
    assert list(chunks[1]) == ["__interrupt__"] and type(chunks[1]["__interrupt__"]) is tuple
    resumed = list(wf.stream(Command(resume="y"), CFG, stream_mode=["updates", "custom"]))
    assert resumed == [("custom", {"progress": 1}), ("updates", {"wf": {"a": 2, "ok": "y"}})]

    # values: the returned value; a pause shows it merged with the interrupts (as LangGraph)
    paused = list(wf.stream(5, CFG, stream_mode="values"))
    assert paused == [{"a": 2, "ok": "y", "__interrupt__": paused[0]["__interrupt__"]}]
    assert list(wf.stream(Command(resume="n"), CFG, stream_mode="values")) == [
        {"a": 2, "ok": "y"},
        {"a": 6, "ok": "n"},
    ]
    result = wf.invoke(7, CFG)
    assert set(result) == {"a", "ok", "__interrupt__"}
    # A resume starts with the last returned value; None on a thread's first run.
    other = {"configurable": {"thread_id": "first"}}
    wf.invoke(1, other)
    assert list(wf.stream(Command(resume="y"), other, stream_mode="values")) == [
        None,
        {"a": 2, "ok": "y"},
    ]
    events = list(wf.stream(3, other, stream_mode="tasks"))
    started = [c for c in events if "triggers" in c]
    assert started[0]["name"] == "wf" and started[0]["triggers"] == ("__start__",)
    # As LangGraph: add_one reports its result; the paused entrypoint reports its
    # interrupt; nothing else ends.
    ended = [(c["name"], c["result"], len(c["interrupts"])) for c in events if "result" in c]
    assert ended == [("add_one", {"__return__": 4}, 0), ("wf", {}, 1)]
    assert isinstance(result["__interrupt__"][0], Interrupt)


def test_a_task_that_pauses_reports_no_result_in_the_tasks_stream(saver: Any) -> None:
    @task
    def ask(x: int) -> Any:
        return interrupt({"x": x})

    @entrypoint(checkpointer=saver)
    def wf(x: int) -> Any:
        return ask(x).result()

    events = list(wf.stream(1, CFG, stream_mode="tasks"))
    assert [(c["name"], "result" in c) for c in events] == [
        ("wf", False),
        ("ask", False),
        ("wf", True),  # as LangGraph: only the entrypoint ends, paused
    ]
    assert events[-1]["interrupts"][0]["value"] == {"x": 1}


def test_an_entrypoint_draws_as_langgraph_draws_it() -> None:
    @entrypoint()
    def flow(x: int) -> int:
        return x

    assert flow.get_graph().draw_mermaid() == (
        "---\nconfig:\n  flowchart:\n    curve: linear\n---\ngraph TD;\n"
        "\tflow(flow)\n"
        "\t__start__([<p>__start__</p>]):::first\n"
        "\t__end__([<p>__end__</p>]):::last\n"
        "\t__start__ --> flow;\n"
        "\tflow -.-> __end__;\n"
        "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
        "\tclassDef first fill-opacity:0\n"
        "\tclassDef last fill:#bfb6fc\n"
    )
