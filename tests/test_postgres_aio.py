"""The async Postgres saver: graphs under ainvoke/astream, connections, pools, sync bridges.

Each test gets a schema of its own (see ``postgres_schema`` in ``tests/_savers.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

pytest.importorskip(
    "psycopg", reason="psycopg is not installed (pip install 'pausegraph[postgres]')"
)

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from _savers import postgres_schema
from pausegraph.checkpoint.postgres import PostgresSaver
from pausegraph.checkpoint.postgres.aio import AsyncPostgresSaver
from pausegraph.errors import StorageError
from pausegraph.testing import make_checkpoint
from pausegraph.testing._factories import ask_graph, config, pair_graph
from pausegraph.types import Command, Interrupt


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema() as conninfo:
        yield conninfo


@pytest.fixture
async def acp(url: str) -> AsyncIterator[AsyncPostgresSaver]:
    async with AsyncPostgresSaver.from_conn_string(url) as saver:
        await saver.setup()
        yield saver


async def test_ainvoke_pauses_and_resumes(acp: AsyncPostgresSaver) -> None:
    graph = ask_graph(acp)
    paused = await graph.ainvoke({"question": "q"}, config("t"))
    assert [i.value for i in paused["__interrupt__"]] == [{"ask": "q"}]
    assert (await graph.aget_state(config("t"))).next == ("ask",)
    assert await graph.ainvoke(Command(resume="yes"), config("t")) == {
        "question": "q",
        "answer": "yes",
    }
    history = [s.next async for s in graph.aget_state_history(config("t"))]
    assert history == [(), ("ask",), ("__start__",)]
    assert (await acp.alist_waiting()).items == ()


async def test_astream_shows_the_interrupt_then_resumes_parallel_questions(
    acp: AsyncPostgresSaver,
) -> None:
    graph = pair_graph(acp)
    chunks = [c async for c in graph.astream({"total": 0}, config("t"), stream_mode="updates")]
    asked = [i for chunk in chunks for i in chunk.get("__interrupt__", ())]
    assert sorted(i.value for i in asked) == ["left?", "right?"]
    assert all(isinstance(i, Interrupt) for i in asked)
    [entry] = (await acp.alist_waiting(graph="pair")).items
    assert sorted(i.node for i in entry.interrupts) == ["left", "right"]
    answers = {i.id: f"{i.value[:-1]}!" for i in asked}
    async for _ in graph.astream(Command(resume=answers), config("t")):
        pass
    state = await graph.aget_state(config("t"))
    assert (state.values["left"], state.values["right"], state.next) == ("left!", "right!", ())
    assert state.values["log"] == ["count", "left", "right", "done"]


async def test_an_async_connection_and_a_pool(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        saver = AsyncPostgresSaver(conn)
        await ask_graph(saver).ainvoke({"question": "q"}, config("t"))
        assert [e.thread_id for e in (await saver.alist_waiting()).items] == ["t"]
    pool = AsyncConnectionPool(url, min_size=1, max_size=4, kwargs={"autocommit": True}, open=False)
    async with pool:
        saver = AsyncPostgresSaver(pool)
        graph = ask_graph(saver)
        await asyncio.gather(
            *(graph.ainvoke({"question": str(i)}, config(f"p{i}")) for i in range(10))
        )
        assert len((await saver.alist_waiting()).items) == 11
        assert await graph.ainvoke(Command(resume="a"), config("t")) == {
            "question": "q",
            "answer": "a",
        }


async def test_many_runs_share_one_connection(acp: AsyncPostgresSaver) -> None:
    graph = ask_graph(acp)
    await asyncio.gather(
        *(graph.ainvoke({"question": str(i)}, config(f"t{i:02d}")) for i in range(20))
    )
    results = await asyncio.gather(
        *(graph.ainvoke(Command(resume=i), config(f"t{i:02d}")) for i in range(20))
    )
    assert [r["answer"] for r in results] == list(range(20))
    assert await acp.alist_threads() == [f"t{i:02d}" for i in range(20)]


async def test_paused_async_resumed_sync_on_a_new_saver(url: str) -> None:
    async with AsyncPostgresSaver.from_conn_string(url) as first:
        await first.setup()
        await ask_graph(first).ainvoke({"question": "q"}, config("t"))

    def resume() -> Any:
        with PostgresSaver.from_conn_string(url) as second:
            return ask_graph(second).invoke(Command(resume="sync"), config("t"))

    assert await asyncio.to_thread(resume) == {"question": "q", "answer": "sync"}


async def test_sync_methods_run_on_a_second_connection(url: str) -> None:
    async with AsyncPostgresSaver.from_conn_string(url) as acp:
        first = make_checkpoint({"a": 1})
        await acp.asave(first)
        stored = acp.load("t")  # on the loop's own thread: the sync connection serves it
        assert stored is not None and stored.checkpoint == first
        assert await asyncio.to_thread(acp.acquire_lease, "t", "me", 30)
        assert not await acp.aacquire_lease("t", "you", 30)
        acp.release_lease("t", "me")
        assert await acp.aacquire_lease("t", "you", 30)
        state = await asyncio.to_thread(ask_graph(acp).get_state, config("t"))
        assert state.config["configurable"]["checkpoint_id"] == first.id
        twin = acp._twin
        assert twin is not None and isinstance(twin.conn, psycopg.Connection)
        main = acp.conn
        assert isinstance(main, psycopg.AsyncConnection)
    assert twin.conn.closed and main.closed


async def test_sync_methods_of_a_saver_on_a_given_connection_or_pool(url: str) -> None:
    with_password = make_conninfo(url, password="pw")  # trust auth ignores it
    async with await psycopg.AsyncConnection.connect(with_password, autocommit=True) as conn:
        saver = AsyncPostgresSaver(conn)
        assert "password=pw" in saver._sync_args[0]
        await saver.asave(make_checkpoint({"a": 1}))
        assert saver.list_threads() == ["t"]  # same database and schema
        saver.close_sync()
    pool = AsyncConnectionPool(url, min_size=1, kwargs={"autocommit": True}, open=False)
    async with pool:
        saver = AsyncPostgresSaver(pool)
        assert saver.list_threads() == ["t"]
        saver.close_sync()


async def test_an_idempotency_key_runs_an_async_resume_once(acp: AsyncPostgresSaver) -> None:
    graph = ask_graph(acp)
    await graph.ainvoke({"question": "q"}, config("t"))
    keyed = {"configurable": {"thread_id": "t", "idempotency_key": "answer-1"}}
    assert await graph.ainvoke(Command(resume="yes"), keyed) == {"question": "q", "answer": "yes"}
    head = (await graph.aget_state(config("t"))).config["configurable"]["checkpoint_id"]
    assert await acp.arecall_request("t", "answer-1") == head
    assert await graph.ainvoke(Command(resume="no"), keyed) == {"question": "q", "answer": "yes"}


async def test_request_log_and_pruning(acp: AsyncPostgresSaver) -> None:
    await acp.aremember_request("t", "k", "c1")
    await acp.aremember_request("t", "k", "c2")  # the first one stored wins
    assert await acp.arecall_request("t", "k") == "c1"
    base = None
    for i in range(5):
        base = make_checkpoint({"a": i}, base)
        await acp.asave(base)
    assert await acp.aprune("t", keep_last=2) == 3
    assert [s.checkpoint.values async for s in acp.ahistory("t")] == [{"a": 4}, {"a": 3}]
    await acp.adelete_thread("t")
    assert await acp.arecall_request("t", "k") is None and await acp.aload("t") is None


async def test_a_down_server_fails_fast_without_the_password() -> None:
    start = time.monotonic()
    with pytest.raises(StorageError) as err:
        async with AsyncPostgresSaver.from_conn_string("postgresql://al:s3cret@127.0.0.1:1/x"):
            pass
    assert time.monotonic() - start < 5
    assert "postgresql://al:***@127.0.0.1:1/x" in str(err.value) and "s3cret" not in str(err.value)
