"""Async runs: mixed sync/async nodes, concurrency, cancellation, many paused threads."""

from __future__ import annotations

import asyncio
import operator
import threading
from typing import Annotated, Any, TypedDict

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import InvalidConfigError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class S(TypedDict):
    log: Annotated[list[str], operator.add]


async def test_sync_and_async_nodes_mix_and_async_routers_work() -> None:
    sync_threads: list[str] = []

    def sync_node(state: S) -> dict[str, Any]:
        sync_threads.append(threading.current_thread().name)
        return {"log": ["sync"]}

    async def async_node(state: S) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"log": ["async"]}

    async def router(state: S) -> str:
        return END if len(state["log"]) >= 2 else "async_node"

    builder = StateGraph(S).add_node("sync_node", sync_node).add_node("async_node", async_node)
    builder.add_edge(START, "sync_node").add_conditional_edges("sync_node", router)
    result = await builder.compile().ainvoke({"log": []})
    assert result == {"log": ["sync", "async"]}
    # Sync nodes run in worker threads under asyncio, so they cannot block the loop.
    assert sync_threads and sync_threads[0] != threading.current_thread().name


async def test_parallel_async_branches_overlap() -> None:
    events: list[str] = []
    release = asyncio.Event()

    def node(name: str) -> Any:
        async def run(state: S) -> dict[str, Any]:
            events.append(f"start {name}")
            if len(events) == 2:
                release.set()
            await release.wait()  # both must have started before either ends
            events.append(f"end {name}")
            return {"log": [name]}

        return run

    builder = StateGraph(S).add_node("a", node("a")).add_node("b", node("b"))
    graph = builder.add_edge(START, "a").add_edge(START, "b").compile()
    result = await asyncio.wait_for(graph.ainvoke({"log": []}), timeout=5)
    assert result == {"log": ["a", "b"]}
    assert events[:2] == ["start a", "start b"] or events[:2] == ["start b", "start a"]


async def test_parallel_sync_branches_block_neither_each_other_nor_the_loop() -> None:
    both = threading.Barrier(2, timeout=5)  # each waits until the other started
    go = threading.Event()  # set by a coroutine: only if the loop is not blocked
    waited: list[bool] = []

    def node(name: str) -> Any:
        def run(state: S) -> dict[str, Any]:
            both.wait()
            waited.append(go.wait(timeout=5))
            return {"log": [name]}

        return run

    async def release() -> None:
        await asyncio.sleep(0.01)
        go.set()

    builder = StateGraph(S).add_node("a", node("a")).add_node("b", node("b"))
    graph = builder.add_edge(START, "a").add_edge(START, "b").compile()
    result, _ = await asyncio.gather(graph.ainvoke({"log": []}), release())
    assert result == {"log": ["a", "b"]}
    assert waited == [True, True]


def test_sync_invoke_of_an_async_graph_names_the_fix() -> None:
    async def node(state: S) -> dict[str, Any]:
        return {"log": ["x"]}

    graph = StateGraph(S).add_node("node", node).add_edge(START, "node").compile()
    with pytest.raises(InvalidConfigError, match=r"ainvoke"):
        graph.invoke({"log": []})


async def test_cancelling_the_caller_stops_the_run_and_keeps_committed_steps() -> None:
    started = asyncio.Event()

    async def slow(state: S) -> dict[str, Any]:
        started.set()
        await asyncio.sleep(30)
        return {"log": ["slow"]}

    saver = InMemorySaver()
    builder = StateGraph(S).add_node("fast", lambda s: {"log": ["fast"]}).add_node("slow", slow)
    graph = builder.add_edge(START, "fast").add_edge("fast", "slow").compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "c"}}
    run = asyncio.create_task(graph.ainvoke({"log": []}, cfg))
    await asyncio.wait_for(started.wait(), timeout=5)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    state = await graph.aget_state(cfg)
    assert (state.values, state.next) == ({"log": ["fast"]}, ("slow",))
    # The thread is free again (its lease was released) and can run on.
    replacement = StateGraph(S).add_node("fast", lambda s: {"log": ["fast"]})
    replacement.add_node("slow", lambda s: {"log": ["slow done"]})
    replacement.add_edge(START, "fast").add_edge("fast", "slow")
    again = replacement.compile(checkpointer=saver)
    assert await again.ainvoke(None, cfg) == {"log": ["fast", "slow done"]}


async def test_a_hundred_threads_paused_and_resumed_concurrently(saver: Any) -> None:
    async def ask(state: S) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"log": [interrupt("ok?")]}

    graph = StateGraph(S).add_node("ask", ask).add_edge(START, "ask").add_edge("ask", END)
    graph = graph.compile(checkpointer=saver)
    configs = [{"configurable": {"thread_id": f"t{i}"}} for i in range(100)]
    paused = await asyncio.gather(*(graph.ainvoke({"log": []}, c) for c in configs))
    assert all(p["__interrupt__"][0].value == "ok?" for p in paused)
    assert len(graph.list_waiting(limit=1000).items) == 100
    done = await asyncio.gather(
        *(graph.ainvoke(Command(resume=f"yes {i}"), c) for i, c in enumerate(configs))
    )
    assert done == [{"log": [f"yes {i}"]} for i in range(100)]
    assert graph.list_waiting().items == ()


class _TracingLoads(InMemorySaver):
    calls: list[str]

    async def aload(self, *args: Any) -> Any:
        self.calls.append("aload")
        return self.load(*args)


@pytest.mark.parametrize("saver_class", [InMemorySaver, _TracingLoads])
async def test_async_saver_methods_a_saver_defines_are_awaited(saver_class: type) -> None:
    # In-process savers' async methods only call the sync ones, so runs call those
    # directly; one a class or an instance defines itself must still be awaited.
    calls: list[str] = []
    saver = saver_class()
    saver.calls = calls
    sync_save = saver.save

    async def asave(checkpoint: Any, parent_writes: Any = (), *, final: bool = True) -> None:
        calls.append("asave")
        sync_save(checkpoint, parent_writes, final=final)

    saver.asave = asave
    builder = StateGraph(S).add_node("a", lambda s: {"log": ["a"]})
    graph = builder.add_edge(START, "a").add_edge("a", END).compile(checkpointer=saver)
    out = await graph.ainvoke({"log": []}, {"configurable": {"thread_id": "t"}})
    assert out == {"log": ["a"]}
    loads = ["aload"] if saver_class is _TracingLoads else []
    assert calls == [*loads, "asave", "asave", "asave"]  # input, START step, a


@pytest.mark.parametrize("routed", [False, True])
async def test_the_input_step_is_the_same_under_invoke_and_ainvoke(routed: bool) -> None:
    # The input step runs without a task flow unless conditional edges leave START.
    def build() -> Any:
        builder = StateGraph(S).add_node("a", lambda s: {"log": ["a"]})
        if routed:
            builder.add_conditional_edges(START, lambda s: "a" if s["log"] == ["in"] else END)
        else:
            builder.add_edge(START, "a")
        return builder.add_edge("a", END).compile(checkpointer=InMemorySaver())

    def shape(graph: Any, cfg: Any) -> list[Any]:
        return [
            (h.metadata["step"], h.metadata["source"], h.values, h.next)
            for h in graph.get_state_history(cfg)
        ]

    cfg = {"configurable": {"thread_id": "t"}}
    sync_graph, async_graph = build(), build()
    sync_chunks = list(sync_graph.stream({"log": ["in"]}, cfg, stream_mode="updates"))
    async_chunks = [
        c async for c in async_graph.astream({"log": ["in"]}, cfg, stream_mode="updates")
    ]
    assert sync_chunks == async_chunks == [{"a": {"log": ["a"]}}]
    assert shape(sync_graph, cfg) == shape(async_graph, cfg)
    assert shape(async_graph, cfg) == [
        (1, "loop", {"log": ["in", "a"]}, ()),
        (0, "loop", {"log": ["in"]}, ("a",)),
        (-1, "input", {"log": []}, ("__start__",)),
    ]


async def test_parallel_async_nodes_that_end_together_report_in_start_order() -> None:
    """Tasks finished in the same turn of the loop are reported in the order they started.

    Checked against LangGraph 1.2.22 (astream, updates + values): the interrupt of
    a comes before b's, and on the resume a's update before b's, every run.
    """

    async def a(state: S) -> dict[str, Any]:
        return {"log": [f"a:{interrupt('qa')}"]}

    async def b(state: S) -> dict[str, Any]:
        return {"log": [f"b:{interrupt('qb')}"]}

    builder = StateGraph(S).add_node("a", a).add_node("b", b)
    builder.add_edge(START, "a").add_edge(START, "b")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}

    paused = [c async for c in graph.astream({"log": []}, config, stream_mode="updates")]
    asked = [i.value for c in paused for i in c.get("__interrupt__", ())]
    assert asked == ["qa", "qb"]
    ids = {i.value: i.id for i in (await graph.aget_state(config)).interrupts}
    resume = Command(resume={ids["qb"]: "B", ids["qa"]: "A"})
    resumed = [c async for c in graph.astream(resume, config, stream_mode="updates")]
    assert resumed == [{"a": {"log": ["a:A"]}}, {"b": {"log": ["b:B"]}}]
