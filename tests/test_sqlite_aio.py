"""AsyncSqliteSaver: graphs under ainvoke/astream, its async methods, and the conformance suite.

The module's ``saver`` fixture runs the whole conformance suite on an
``AsyncSqliteSaver`` too (its sync methods call the wrapped ``SqliteSaver``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pausegraph.checkpoint._records import PendingWrite
from pausegraph.checkpoint.base import BaseCheckpointSaver
from pausegraph.checkpoint.capabilities import (
    BatchedWrites,
    FoldedLeases,
    RequestLog,
    SaveItem,
    ThreadLeases,
    ThreadMaintenance,
    WaitingIndex,
    WritesItem,
)
from pausegraph.checkpoint.sqlite import SqliteSaver, _schema
from pausegraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from pausegraph.errors import CorruptCheckpointError, StorageError, ThreadBusyError
from pausegraph.testing import make_checkpoint, save_chain
from pausegraph.testing._factories import ask_graph, config
from pausegraph.testing.conformance import *  # noqa: F403
from pausegraph.types import Command


@pytest.fixture
def saver(tmp_path: Path) -> Iterator[AsyncSqliteSaver]:
    """The conformance suite's saver: an AsyncSqliteSaver on a fresh file."""
    conn = sqlite3.connect(tmp_path / "aio.db", check_same_thread=False, isolation_level=None)
    cp = AsyncSqliteSaver(conn)
    cp.sync.setup()
    yield cp
    conn.close()


@pytest.fixture
async def aio(tmp_path: Path) -> AsyncIterator[AsyncSqliteSaver]:
    async with AsyncSqliteSaver.from_conn_string(tmp_path / "cp.db") as cp:
        await cp.setup()
        yield cp


def test_it_offers_every_capability(saver: AsyncSqliteSaver) -> None:
    assert isinstance(saver, BaseCheckpointSaver)
    capabilities = (WaitingIndex, ThreadLeases, FoldedLeases, BatchedWrites)
    for capability in (*capabilities, RequestLog, ThreadMaintenance):
        assert isinstance(saver, capability), capability.__name__
    assert saver.serde is saver.sync.serde  # one serializer: graphs register their types once


async def test_from_conn_string_sets_up_and_closes(tmp_path: Path) -> None:
    db = tmp_path / "cp.db"
    async with AsyncSqliteSaver.from_conn_string(db) as cp:
        await cp.setup()
        await cp.setup()  # twice is fine
        version = "SELECT value FROM pausegraph_meta WHERE key = 'schema_version'"
        assert cp.conn.execute(version).fetchone() == (str(_schema.SCHEMA_VERSION),)
        await cp.asave(make_checkpoint({"a": 1}))
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        cp.conn.execute("SELECT 1")
    with SqliteSaver.from_conn_string(db) as sync:  # the same file, read by the sync saver
        stored = sync.load("t")
        assert stored is not None and stored.checkpoint.values == {"a": 1}


async def test_calls_run_on_the_savers_worker_thread(aio: AsyncSqliteSaver) -> None:
    seen: list[str] = []
    load = aio.sync.load

    def spy(*args: Any) -> Any:
        seen.append(threading.current_thread().name)
        return load(*args)

    aio.sync.load = spy  # type: ignore[method-assign]
    await aio.aload("t")
    assert len(seen) == 1 and seen[0].startswith("pausegraph-sqlite")
    assert seen[0] != threading.current_thread().name


async def test_a_cycle_makes_no_trip_to_the_worker_for_its_lease(aio: AsyncSqliteSaver) -> None:
    # The lease rides on the first load and the last write, and the input
    # checkpoint travels with the first step's: every trip is a hand-over.
    trips: list[str] = []
    run = aio._run

    def spy(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        trips.append(fn.__name__)
        return run(fn, *args, **kwargs)

    aio._run = spy  # type: ignore[method-assign]
    graph = ask_graph(aio)
    await graph.ainvoke({"question": "q"}, config("t1"))
    assert trips == ["load_leased", "write_batch", "save_writes_released"]
    trips.clear()
    assert (await graph.ainvoke(Command(resume="a"), config("t1")))["answer"] == "a"
    assert trips == ["load_leased", "save_released"]


async def test_ahistory_pages_through_long_histories(aio: AsyncSqliteSaver) -> None:
    cps = save_chain(aio, 75)
    ids = [s.checkpoint.id async for s in aio.ahistory("t")]
    assert ids == [c.id for c in reversed(cps)]
    limited = [s.checkpoint.id async for s in aio.ahistory("t", before=cps[50].id, limit=40)]
    assert limited == [c.id for c in reversed(cps[10:50])]
    inputs = [s async for s in aio.ahistory("t", filter={"step": 3})]
    assert [s.checkpoint for s in inputs] == [cps[4]]


async def test_async_capability_methods(aio: AsyncSqliteSaver) -> None:
    graph = ask_graph(aio, name="inbox")
    await graph.ainvoke({"question": "q1"}, config("t1", team="x"))
    await graph.ainvoke({"question": "q2"}, config("t2", team="y"))
    page = await aio.alist_waiting(metadata={"team": "y"})
    assert [(e.thread_id, e.graph) for e in page.items] == [("t2", "inbox")]
    assert await aio.aacquire_lease("t1", "ann", 30) is True
    assert await aio.aacquire_lease("t1", "bob", 30) is False
    await aio.arelease_lease("t1", "ann")
    assert await aio.aacquire_lease("t1", "bob", 30) is True
    await aio.arelease_lease("t1", "bob")
    assert await aio.arecall_request("t1", "k") is None
    await aio.aremember_request("t1", "k", "cp-1")
    await aio.aremember_request("t1", "k", "cp-2")
    assert await aio.arecall_request("t1", "k") == "cp-1"
    assert await aio.alist_threads() == ["t1", "t2"]
    await graph.ainvoke(Command(resume="a1"), config("t1"))
    assert len([s async for s in graph.aget_state_history(config("t1"))]) == 3
    assert await aio.aprune("t1", keep_last=1) == 1  # the input checkpoint holds the question
    assert len([s async for s in graph.aget_state_history(config("t1"))]) == 2
    assert (await graph.aget_state(config("t1"))).values == {"question": "q1", "answer": "a1"}


async def test_a_graph_pauses_under_astream_and_resumes_on_a_new_saver(tmp_path: Path) -> None:
    db = tmp_path / "cp.db"
    cfg = config("t1")
    async with AsyncSqliteSaver.from_conn_string(db) as cp:
        await cp.setup()
        graph = ask_graph(cp)
        chunks = [c async for c in graph.astream({"question": "ship?"}, cfg)]
        assert chunks[-1]["__interrupt__"][0].value == {"ask": "ship?"}
    async with AsyncSqliteSaver.from_conn_string(db) as cp:  # another process, say
        graph = ask_graph(cp)
        (waiting,) = (await graph.alist_waiting()).items
        assert waiting.thread_id == "t1" and waiting.interrupts[0].value == {"ask": "ship?"}
        assert (await graph.aget_state(cfg)).next == ("ask",)
        result = await graph.ainvoke(Command(resume="yes"), cfg)
        assert result == {"question": "ship?", "answer": "yes"}
        assert (await graph.alist_waiting()).items == ()
        sources = [(s.metadata or {}).get("source") async for s in graph.aget_state_history(cfg)]
        assert sources == ["loop", "loop", "input"]


async def test_a_run_holds_the_threads_lease(aio: AsyncSqliteSaver) -> None:
    graph = ask_graph(aio)
    assert aio.acquire_lease("t1", "someone-else", 30) is True
    with pytest.raises(ThreadBusyError, match="Thread 't1' is already running"):
        await graph.ainvoke({"question": "q"}, config("t1"))
    aio.release_lease("t1", "someone-else")
    result = await graph.ainvoke({"question": "q"}, config("t1"))
    assert [i.value for i in result["__interrupt__"]] == [{"ask": "q"}]
    assert aio.acquire_lease("t1", "someone-else", 30) is True  # the run gave it back


async def test_async_writes_loads_and_deletes(aio: AsyncSqliteSaver) -> None:
    cp = make_checkpoint({"a": 1})
    await aio.asave(cp)
    await aio.asave_writes("t", "", cp.id, [PendingWrite("task", "c", 1)])
    stored = await aio.aload("t")
    assert stored is not None and stored.writes == (PendingWrite("task", "c", 1),)
    await aio.adelete_thread("t")
    assert await aio.aload("t") is None


# -- calls queued together share one transaction ----------------------------------------


async def _together(aio: AsyncSqliteSaver, *calls: Awaitable[Any]) -> list[Any]:
    """Run ``calls`` as one burst of the worker: queued while it waits at a gate."""
    waiting, gate = threading.Event(), threading.Event()

    def wait_at_gate() -> None:
        waiting.set()
        gate.wait()

    blocker = aio._run(wait_at_gate)
    await asyncio.to_thread(waiting.wait)  # the worker runs the blocker alone
    tasks = [asyncio.ensure_future(call) for call in calls]
    await asyncio.sleep(0)  # each task runs up to its hand-over, so all queue behind the gate
    gate.set()
    await blocker
    return await asyncio.gather(*tasks, return_exceptions=True)


async def test_queued_calls_commit_once(aio: AsyncSqliteSaver) -> None:
    statements: list[str] = []
    aio.conn.set_trace_callback(statements.append)
    cps = [make_checkpoint({"a": i}, thread=f"t{i}") for i in range(5)]
    assert await _together(aio, *(aio.asave(cp) for cp in cps)) == [None] * 5
    assert statements.count("COMMIT") == 1 and statements.count("BEGIN IMMEDIATE") == 1
    for i, cp in enumerate(cps):
        stored = await aio.aload(f"t{i}")
        assert stored is not None and stored.checkpoint.id == cp.id


async def test_a_failing_call_is_undone_alone(aio: AsyncSqliteSaver) -> None:
    first = make_checkpoint({"a": 1}, thread="t1")
    second = make_checkpoint({"a": 2}, first, thread="t1")
    write = PendingWrite("task", "b", 1)
    outcomes = await _together(
        aio,
        aio.asave(first),
        aio.awrite_batch([SaveItem(second, []), WritesItem("t1", "", "nope", [write])]),
        aio.asave_writes("t1", "", first.id, [write]),
    )
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], CorruptCheckpointError)
    assert [c.checkpoint.id for c in aio.history("t1")] == [first.id]  # not the batch's save
    stored = aio.load("t1")
    assert stored is not None and stored.writes == (write,)


async def test_a_group_whose_commit_fails_reports_it_to_every_call(tmp_path: Path) -> None:
    db = tmp_path / "cp.db"
    conn = sqlite3.connect(db, timeout=0.05, isolation_level=None, check_same_thread=False)
    aio = AsyncSqliteSaver(conn)
    await aio.setup()
    conn.execute("PRAGMA journal_mode=DELETE")  # COMMIT then waits for readers to leave
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM pausegraph_checkpoints").fetchone()
    cps = [make_checkpoint({"a": i}, thread=f"t{i}") for i in range(3)]
    outcomes = await _together(aio, *(aio.asave(cp) for cp in cps))
    assert [type(o) for o in outcomes] == [StorageError] * 3
    assert "stayed locked" in str(outcomes[0])
    reader.execute("ROLLBACK")
    assert not conn.in_transaction and aio.list_threads() == []  # nothing of the group stayed
    await aio.asave(cps[0])
    assert aio.list_threads() == ["t0"]
    reader.close()
    await aio._run(conn.close)


async def test_a_group_on_a_locked_file_still_reads(tmp_path: Path) -> None:
    db = tmp_path / "cp.db"
    with SqliteSaver.from_conn_string(db) as other:
        other.save(make_checkpoint({"a": 1}, thread="t1"))
        conn = sqlite3.connect(db, timeout=0.05, isolation_level=None, check_same_thread=False)
        aio = AsyncSqliteSaver(conn)
        await aio.setup()
        other.conn.execute("BEGIN IMMEDIATE")  # another writer keeps the write lock
        first, second, save = await _together(
            aio, aio.aload("t1"), aio.aload("t1"), aio.asave(make_checkpoint({"a": 2}))
        )
        other.conn.execute("ROLLBACK")
        assert first is not None and first.checkpoint.values == {"a": 1} and first == second
        assert isinstance(save, StorageError) and "stayed locked" in str(save)
        await aio._run(conn.close)
