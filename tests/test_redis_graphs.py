"""Graphs on the Redis savers: the seed notebook, resuming elsewhere, async runs, expiry.

The notebook (seed 000) runs exactly as written for LangGraph's Redis saver,
on a plain server, and must print what it prints on the in-memory saver.
"""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

import pytest

pytest.importorskip("redis", reason="redis-py is not installed (pip install 'pausegraph[redis]')")

import redis.asyncio

from _redis import keys_under
from _savers import REDIS_URL
from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.checkpoint.redis import AsyncRedisSaver, RedisSaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt, once


class State(TypedDict):
    input: str


def step_1(state: State) -> State:
    return state


def step_2(state: State) -> State:
    if len(state["input"]) > 5:
        value = interrupt(
            {
                "reason": f"Input exceeds 5 characters: '{state['input']}'",
                "input_length": len(state["input"]),
                "input": state["input"],
            }
        )
        if value and isinstance(value, str):
            return {"input": value}
    return state


def step_3(state: State) -> State:
    return state


def notebook_graph(checkpointer: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("step_1", step_1)
    builder.add_node("step_2", step_2)
    builder.add_node("step_3", step_3)
    builder.add_edge(START, "step_1")
    builder.add_edge("step_1", "step_2")
    builder.add_edge("step_2", "step_3")
    builder.add_edge("step_3", END)
    return builder.compile(checkpointer=checkpointer)


def plain(value: Any) -> Any:
    """Interrupts as their values: their ids differ from run to run."""
    if isinstance(value, tuple) and value and hasattr(value[0], "value"):
        return tuple(i.value for i in value)
    return value


def run_notebook(graph: Any, run: str) -> list[Any]:
    """Every cell of the notebook; returns what it prints (ids and times left out)."""
    out: list[Any] = []

    def cfg(n: int) -> dict[str, Any]:
        return {"configurable": {"thread_id": f"{run}-{n}"}}

    def state(n: int) -> None:
        s = graph.get_state(cfg(n))
        out.append((s.values, s.next, [(t.name, [i.value for i in t.interrupts]) for t in s.tasks]))
        out.append([i.value for i in s.interrupts])

    def stream(inp: Any, n: int) -> None:
        events = graph.stream(inp, cfg(n), stream_mode="values")
        out.append([{k: plain(v) for k, v in e.items()} for e in events])

    stream({"input": "hello"}, 1)
    state(1)
    stream({"input": "hello world"}, 2)
    state(2)
    stream(Command(resume="short"), 2)
    state(2)
    stream({"input": "hello world"}, 3)
    graph.update_state(config=cfg(3), values={"input": "foo"})
    stream(None, 3)
    state(3)
    stream({"input": "hello world"}, 4)
    graph.update_state(config=cfg(4), values=None, as_node="step_2")
    stream(None, 4)
    state(4)
    stream({"input": "hello world"}, 5)
    state(5)
    stream(Command(resume="hi"), 5)
    state(5)
    return out


def test_the_seed_notebook_runs_on_plain_redis_as_on_memory(client):
    assert client.execute_command("MODULE", "LIST") == []  # no RediSearch, no RedisJSON
    with RedisSaver.from_conn_string(REDIS_URL) as cp:  # the notebook's own lines
        cp.setup()
        memory = cp
    graph = notebook_graph(memory)  # used after the block, as in the notebook
    run = f"notebook-{uuid.uuid4().hex}"
    try:
        printed = run_notebook(graph, run)
    finally:
        for n in range(1, 6):
            memory.delete_thread(f"{run}-{n}")
    assert printed == run_notebook(notebook_graph(InMemorySaver()), run)
    question = {"reason": "Input exceeds 5 characters: 'hello world'", "input_length": 11}
    assert printed[3][-1]["__interrupt__"][0] == {**question, "input": "hello world"}
    assert printed[4] == ({"input": "hello world"}, ("step_2",), [("step_2", printed[5])])
    assert printed[6] == [{"input": "hello world"}, {"input": "short"}, {"input": "short"}]
    assert printed[7][:2] == ({"input": "short"}, ())
    assert printed[11][:2] == ({"input": "foo"}, ())  # updated, then resumed
    assert printed[15][:2] == ({"input": "hello world"}, ())  # step_2 skipped via as_node
    assert printed[-2:] == [({"input": "hi"}, (), []), []]


def test_a_thread_paused_on_one_saver_resumes_on_a_new_one(prefix):
    config: Any = {"configurable": {"thread_id": "t"}}
    with RedisSaver.from_conn_string(REDIS_URL, prefix=prefix) as first:
        paused = notebook_graph(first).invoke({"input": "hello world"}, config)
    assert paused["__interrupt__"][0].value["input_length"] == 11
    with RedisSaver.from_conn_string(REDIS_URL, prefix=prefix) as second:
        graph = notebook_graph(second)
        [waiting] = graph.list_waiting().items
        assert (waiting.thread_id, waiting.interrupts[0].node) == ("t", "step_2")
        assert graph.get_state(config).next == ("step_2",)
        assert graph.invoke(Command(resume="yes"), config) == {"input": "yes"}
        assert graph.list_waiting().items == ()
        history = [s.metadata["source"] for s in graph.get_state_history(config)]
        assert history == ["loop", "loop", "loop", "loop", "input"]


async def test_the_async_saver_pauses_and_resumes_under_ainvoke_and_astream(prefix):
    config: Any = {"configurable": {"thread_id": "a"}}
    async with AsyncRedisSaver.from_conn_string(REDIS_URL, prefix=prefix) as saver:
        await saver.asetup()
        graph = notebook_graph(saver)
        paused = await graph.ainvoke({"input": "hello world"}, config)
        assert paused["__interrupt__"][0].value["input"] == "hello world"
        assert (await graph.aget_state(config)).next == ("step_2",)
        assert graph.get_state(config).next == ("step_2",)  # sync calls work too
        [waiting] = (await saver.alist_waiting()).items
        assert waiting.thread_id == "a"
        events = [
            e async for e in graph.astream(Command(resume="short"), config, stream_mode="values")
        ]
        assert events == [{"input": "hello world"}, {"input": "short"}, {"input": "short"}]
        assert (await graph.aget_state(config)).values == {"input": "short"}
        sources = [s.metadata["source"] async for s in graph.aget_state_history(config)]
        assert sources == ["loop", "loop", "loop", "loop", "input"]
        await saver.adelete_thread("a")
        assert await saver.aload("a") is None


async def test_the_async_saver_takes_an_existing_client_and_journals_once(prefix):
    aclient = redis.asyncio.Redis.from_url(REDIS_URL)
    saver = AsyncRedisSaver(aclient, prefix=prefix)
    saver.setup()  # the sync setup works on the async saver too
    charged: list[int] = []

    async def pay(state: State) -> State:
        receipt = once(lambda: charged.append(len(charged)) or f"r{len(charged)}")
        answer = interrupt({"receipt": receipt})
        return {"input": f"{receipt}:{answer}"}

    builder = StateGraph(State)
    builder.add_node("pay", pay)
    builder.add_edge(START, "pay")
    builder.add_edge("pay", END)
    graph = builder.compile(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "p"}}
    await graph.ainvoke({"input": "x"}, config)
    assert await graph.ainvoke(Command(resume="ok"), config) == {"input": "r1:ok"}
    assert charged == [0]
    await aclient.ping()  # the saver did not close the caller's client
    await aclient.aclose()


def test_a_finished_graph_expires_and_a_paused_one_waits(client, prefix):
    with RedisSaver.from_conn_string(REDIS_URL, prefix=prefix, ttl=3600) as saver:
        graph = notebook_graph(saver)
        graph.invoke({"input": "hi"}, {"configurable": {"thread_id": "done"}})
        graph.invoke({"input": "hello world"}, {"configurable": {"thread_id": "wait"}})
    done = {client.pttl(k) for k in keys_under(client, f"{prefix}t:done")}
    waiting = {client.pttl(k) for k in keys_under(client, f"{prefix}t:wait")}
    assert waiting == {-1} and all(3_500_000 < ms <= 3_600_000 for ms in done)
    graph.invoke(Command(resume="ok"), {"configurable": {"thread_id": "wait"}})
    assert all(ms > 0 for ms in (client.pttl(k) for k in keys_under(client, f"{prefix}t:wait")))
