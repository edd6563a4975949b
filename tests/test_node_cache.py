"""Node caching: ``add_node(..., cache_policy=CachePolicy())`` with ``compile(cache=InMemoryCache())``.

Expected results and stream chunks were checked against LangGraph 1.2.22 with
the same graphs.
"""

from __future__ import annotations

import asyncio
import operator
import time
from typing import Annotated, Any, TypedDict

import pytest

from pausegraph.cache.memory import InMemoryCache
from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import GraphBuildError, InvalidConfigError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import CachePolicy, Send


class XY(TypedDict, total=False):
    x: int
    y: int


class S(XY, total=False):
    log: Annotated[list[str], operator.add]


def counting(policy: CachePolicy | None = None, cache: Any = None) -> tuple[Any, list[int]]:
    calls: list[int] = []

    def slow(state: XY) -> dict[str, Any]:
        calls.append(state["x"])
        return {"y": state["x"] * 10}

    builder = StateGraph(XY)
    builder.add_node("slow", slow, cache_policy=policy or CachePolicy())
    builder.add_edge(START, "slow")
    return builder.compile(cache=cache if cache is not None else InMemoryCache()), calls


def test_a_node_runs_once_per_input() -> None:
    graph, calls = counting()
    assert graph.invoke({"x": 1}) == {"x": 1, "y": 10}
    assert list(graph.stream({"x": 1}, stream_mode="updates")) == [
        {"slow": {"y": 10}, "__metadata__": {"cached": True}}
    ]
    assert list(graph.stream({"x": 2}, stream_mode="updates")) == [{"slow": {"y": 20}}]
    assert calls == [1, 2]
    debug = [c["type"] for c in graph.stream({"x": 2}, stream_mode="debug")]
    assert debug == ["task"]  # a cached task starts and reports no result, as in LangGraph
    graph.clear_cache()
    assert graph.invoke({"x": 1}) == {"x": 1, "y": 10}
    assert calls == [1, 2, 1]


def test_ttl_and_key_func() -> None:
    graph, calls = counting(CachePolicy(ttl=0.2))
    graph.invoke({"x": 5})
    graph.invoke({"x": 5})
    time.sleep(0.3)
    graph.invoke({"x": 5})
    assert calls == [5, 5]
    parity, calls = counting(CachePolicy(key_func=lambda s: str(s["x"] % 2)))
    assert parity.invoke({"x": 1}) == {"x": 1, "y": 10}
    assert parity.invoke({"x": 3}) == {"x": 3, "y": 10}  # same key: the saved result
    assert calls == [1]


def test_without_a_graph_cache_nodes_always_run() -> None:
    calls: list[int] = []
    builder = StateGraph(S)
    builder.add_node("n", lambda s: calls.append(1) or {}, cache_policy=CachePolicy())
    builder.add_edge(START, "n")
    graph = builder.compile()
    graph.invoke({"x": 1})
    graph.invoke({"x": 1})
    assert calls == [1, 1]
    with pytest.raises(InvalidConfigError, match=r"no cache to clear"):
        graph.clear_cache()


def test_cached_routing_parallel_sends_checkpoints_and_async() -> None:
    calls: list[str] = []

    def fan(state: S) -> list[Send]:
        return [Send("work", {"x": i}) for i in (1, 2, 1)]

    def work(state: S) -> dict[str, Any]:
        calls.append(f"work{state['x']}")
        return {"log": [f"w{state['x']}"]}

    builder = StateGraph(S)
    builder.add_node("work", work, cache_policy=CachePolicy())
    builder.add_conditional_edges(START, fan, ["work"])
    builder.add_edge("work", END)
    graph = builder.compile(checkpointer=InMemorySaver(), cache=InMemoryCache())
    first = graph.invoke({"log": []}, {"configurable": {"thread_id": "1"}})
    assert sorted(first["log"]) == ["w1", "w1", "w2"]
    assert sorted(calls) == ["work1", "work1", "work2"]  # one step: no hits inside it
    second = asyncio.run(graph.ainvoke({"log": []}, {"configurable": {"thread_id": "2"}}))
    assert sorted(second["log"]) == ["w1", "w1", "w2"] and len(calls) == 3  # all cached
    state = graph.get_state({"configurable": {"thread_id": "2"}})
    assert sorted(state.values["log"]) == ["w1", "w1", "w2"]
    graph.clear_cache(["work"])
    graph.invoke({"log": []}, {"configurable": {"thread_id": "3"}})
    assert len(calls) == 6


def test_saved_results_are_copies() -> None:
    builder = StateGraph(S)
    builder.add_node("n", lambda s: {"log": ["a"]}, cache_policy=CachePolicy())
    builder.add_edge(START, "n")
    graph = builder.compile(cache=InMemoryCache())
    out = graph.invoke({"log": []})
    out["log"].append("changed")
    assert graph.invoke({"log": []}) == {"log": ["a"]}


def test_bad_policies_and_nodes_are_refused() -> None:
    builder = StateGraph(S)
    with pytest.raises(GraphBuildError, match=r"cache_policy must be a CachePolicy"):
        builder.add_node("n", lambda s: {}, cache_policy={"ttl": 5})
    graph, _ = counting()
    with pytest.raises(InvalidConfigError, match=r"clear_cache names 'nope'"):
        graph.clear_cache(["nope"])


def test_tasks_of_an_entrypoint_cache_their_results() -> None:
    """Checked against LangGraph: results, the cached update, and clear_cache keeping tasks'."""
    from pausegraph.func import entrypoint, task

    calls: list[int] = []

    @task(cache_policy=CachePolicy())
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    @entrypoint(cache=InMemoryCache())
    def workflow(xs: list[int]) -> list[int]:
        return [double(x).result() for x in xs]

    assert workflow.invoke([1, 2, 1]) == [2, 4, 2] and calls == [1, 2]
    assert workflow.invoke([1, 3]) == [2, 6] and calls == [1, 2, 3]
    assert list(workflow.stream([1], stream_mode="updates")) == [
        {"double": 2, "__metadata__": {"cached": True}},
        {"workflow": [2]},
    ]
    workflow.clear_cache()  # the entrypoint's node; its tasks' results stay, as in LangGraph
    assert workflow.invoke([1]) == [2] and calls == [1, 2, 3]

    @task(cache_policy=CachePolicy())
    async def adouble(x: int) -> int:
        calls.append(-x)
        return 2 * x

    @entrypoint(cache=InMemoryCache())
    async def aworkflow(xs: list[int]) -> list[int]:
        return [await adouble(x) for x in xs]

    assert asyncio.run(aworkflow.ainvoke([4, 4])) == [8, 8] and calls[-1:] == [-4]


def test_a_task_without_an_entrypoint_cache_runs_every_time() -> None:
    from pausegraph.func import entrypoint, task

    calls: list[int] = []

    @task(cache_policy=CachePolicy())
    def once(x: int) -> int:
        calls.append(x)
        return x

    @entrypoint()
    def workflow(x: int) -> int:
        return once(x).result() + once(x).result()

    assert workflow.invoke(3) == 6 and calls == [3, 3]


def test_an_entrypoint_with_a_cache_policy_reuses_its_result() -> None:
    """Checked against LangGraph: the second call with the same input does not run."""
    from pausegraph.func import entrypoint

    calls: list[int] = []

    @entrypoint(cache_policy=CachePolicy(), cache=InMemoryCache())
    def workflow(x: int) -> int:
        calls.append(x)
        return x * 2

    assert (workflow.invoke(1), workflow.invoke(1), workflow.invoke(2)) == (2, 2, 4)
    assert calls == [1, 2]
