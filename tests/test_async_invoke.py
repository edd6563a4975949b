"""ainvoke's own drive (a plain coroutine): same effects as astream, cancellation, errors.

Also the pieces the interrupt/resume cycle leans on: call sites remembered per
code object, the waiting entry built from its fields, the lease heartbeat.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypedDict

import pytest

from pausegraph.checkpoint._records import PendingWrite, pending_write
from pausegraph.checkpoint.capabilities import (
    INBOX_TASK,
    WAITING,
    WaitingInterrupt,
    WaitingThread,
    encode_waiting,
    waiting_record,
)
from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import SerializationError
from pausegraph.graph import END, START, StateGraph
from pausegraph.runtime import _context, _lease
from pausegraph.types import Command, interrupt


class Answer(TypedDict):
    answer: str


class _Recording(InMemorySaver):
    """Records every store call a run makes (its async twins only call these)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[Any, ...]] = []

    def load(self, thread_id: str, ns: str = "", checkpoint_id: str | None = None) -> Any:
        self.calls.append(("load", checkpoint_id))
        return super().load(thread_id, ns, checkpoint_id)

    def save(self, checkpoint: Any, parent_writes: Any = (), *, final: bool = True) -> None:
        self.calls.append(("save", checkpoint.step, len(parent_writes), final))
        super().save(checkpoint, parent_writes, final=final)

    def save_writes(self, thread_id: str, ns: str, checkpoint_id: str, writes: Any) -> None:
        self.calls.append(("save_writes", tuple(sorted(w.channel for w in writes))))
        super().save_writes(thread_id, ns, checkpoint_id, writes)

    def acquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        self.calls.append(("acquire_lease",))
        return super().acquire_lease(thread_id, owner, ttl)

    def release_lease(self, thread_id: str, owner: str) -> None:
        self.calls.append(("release_lease",))
        super().release_lease(thread_id, owner)


def _ask_graph(saver: Any, done: Any = None) -> Any:
    async def ask(state: Answer) -> dict[str, str]:
        return {"answer": interrupt("q?")}

    builder = StateGraph(Answer).add_node("ask", ask).add_node("done", done or (lambda s: {}))
    builder.add_edge(START, "ask").add_edge("ask", "done").add_edge("done", END)
    return builder.compile(checkpointer=saver)


async def test_ainvoke_stores_exactly_what_astream_stores() -> None:
    async def cycle(use_stream: bool) -> tuple[list[Any], list[Any]]:
        saver = _Recording()
        graph = _ask_graph(saver)
        cfg = {"configurable": {"thread_id": "t"}}
        results = []
        inputs: tuple[Any, ...] = ({"answer": ""}, Command(resume="yes"))
        for inp in inputs:
            if use_stream:
                chunks = [c async for c in graph.astream(inp, cfg, stream_mode="values")]
                results.append(chunks[-1])
            else:
                results.append(await graph.ainvoke(inp, cfg))
        return saver.calls, results

    (invoked, results), (streamed, _) = await cycle(False), await cycle(True)
    assert invoked == streamed
    assert [c[0] for c in invoked] == [
        "acquire_lease",
        "load",
        "save",  # the input checkpoint
        "save",  # after the input step, stored with it before ask runs
        "save_writes",  # the pause: interrupt, waiting entry
        "release_lease",
        "acquire_lease",
        "load",
        "save",  # ask answered
        "save",  # done: the run's last write
        "release_lease",
    ]
    assert results[0]["__interrupt__"][0].value == "q?"
    assert results[1] == {"answer": "yes"}


async def test_cancelling_ainvoke_in_a_sync_node_keeps_committed_steps_and_frees_the_thread() -> (
    None
):
    entered, release = threading.Event(), threading.Event()

    def done(state: Answer) -> dict[str, Any]:
        entered.set()
        release.wait(5)
        return {}

    saver = InMemorySaver()
    graph = _ask_graph(saver, done)
    cfg = {"configurable": {"thread_id": "c"}}
    await graph.ainvoke({"answer": ""}, cfg)
    run = asyncio.create_task(graph.ainvoke(Command(resume="yes"), cfg))
    await asyncio.to_thread(entered.wait, 5)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    release.set()
    state = await graph.aget_state(cfg)
    assert (state.values, state.next) == ({"answer": "yes"}, ("done",))
    assert await graph.ainvoke(None, cfg) == {"answer": "yes"}  # the lease was given back


async def test_a_failing_node_under_ainvoke_raises_and_frees_the_thread() -> None:
    def done(state: Answer) -> dict[str, Any]:
        raise KeyError("boom")

    graph = _ask_graph(InMemorySaver(), done)
    cfg = {"configurable": {"thread_id": "f"}}
    await graph.ainvoke({"answer": ""}, cfg)
    with pytest.raises(KeyError, match="boom"):
        await graph.ainvoke(Command(resume="yes"), cfg)
    state = await graph.aget_state(cfg)
    assert (state.values, state.next) == ({"answer": "yes"}, ("done",))
    with pytest.raises(KeyError, match="boom"):  # runs again: nothing holds the thread
        await graph.ainvoke(None, cfg)


async def test_a_resume_given_as_a_read_only_mapping_answers_by_id() -> None:
    graph = _ask_graph(InMemorySaver())
    cfg = {"configurable": {"thread_id": "m"}}
    paused = await graph.ainvoke({"answer": ""}, cfg)
    answer = MappingProxyType({paused["__interrupt__"][0].id: "by id"})
    assert await graph.ainvoke(Command(resume=answer), cfg) == {"answer": "by id"}


# -- call sites ------------------------------------------------------------------------


def _site_of(path: Path, source: str | None = None) -> list[Any]:
    if source is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    namespace: dict[str, Any] = {"call_site": _context.call_site}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace["where"]()  # type: ignore[no-any-return]


def test_call_sites_tell_lines_apart_and_repeat_for_the_same_line(tmp_path: Path) -> None:
    one, two = tmp_path / "a" / "pkg" / "made.py", tmp_path / "b" / "pkg" / "made.py"
    first = _site_of(one, "def where(): return call_site(1)  # one\n")
    second = _site_of(two, "def where(): return call_site(1)  # two\n")
    assert first[:3] == second[:3] == ["pkg/made.py", 1, "where"]
    assert first[3] and second[3] and first[3] != second[3]  # the lines' text differs
    assert _site_of(one) == first  # a new code object for the same line: the same site


def test_remembered_call_sites_stay_bounded(tmp_path: Path) -> None:
    for i in range(1100):
        _site_of(tmp_path / "pkg" / f"m{i}.py", f"def where(): return call_site(1)  # {i}\n")
    assert 0 < len(_context._sites) <= 1024


# -- the waiting entry -------------------------------------------------------------------


def test_waiting_record_is_what_encode_waiting_makes() -> None:
    meta = {"user": "ann"}
    entry = WaitingThread(
        "t1", "cp1", "g", "2025-01-01T00:00:00+00:00", (WaitingInterrupt("i1", "q?", "ask"),), meta
    )
    record = waiting_record(
        "t1", "cp1", "g", "2025-01-01T00:00:00+00:00", [["i1", "q?", "ask"]], meta
    )
    assert record == encode_waiting(entry)
    assert record["metadata"] is not meta  # a copy, as encode_waiting makes


def test_save_writes_refuses_an_unstorable_value_and_changes_nothing() -> None:
    saver = InMemorySaver()
    graph = _ask_graph(saver)
    cfg = {"configurable": {"thread_id": "w"}}
    graph_run = asyncio.run(graph.ainvoke({"answer": ""}, cfg))
    assert graph_run["__interrupt__"]
    head = saver.load("w")
    assert head is not None
    before = (head.writes, [w.thread_id for w in saver.list_waiting().items])
    bad = [
        PendingWrite(INBOX_TASK, WAITING, None),  # would clear the waiting entry
        PendingWrite("task", "__journal__", [object()]),
    ]
    with pytest.raises(SerializationError):
        saver.save_writes("w", "", head.checkpoint.id, bad)
    after = saver.load("w")
    assert after is not None
    assert (after.writes, [w.thread_id for w in saver.list_waiting().items]) == before


# -- the lease heartbeat ---------------------------------------------------------------


def test_leases_added_from_many_threads_start_one_heartbeat() -> None:
    beat = _lease._Heartbeat()
    started: list[int] = []
    beat._run = lambda: started.append(threading.get_ident())  # type: ignore[method-assign]
    saver = InMemorySaver()
    leases = [_lease.Lease(saver, f"t{i}", 30, folded=False) for i in range(64)]
    gate = threading.Barrier(8)

    def add(chunk: list[Any]) -> None:
        gate.wait(5)
        for lease in chunk:
            beat.add(lease)

    threads = [threading.Thread(target=add, args=(leases[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert beat._thread is not None
    beat._thread.join(5)
    assert len(started) == 1
    assert beat._leases == set(leases)
    for lease in leases:
        beat.discard(lease)
    assert beat._leases == set()


def test_pending_write_makes_the_same_frozen_record() -> None:
    fast = pending_write("task", "__writes__", [["k", 1]])
    made = PendingWrite("task", "__writes__", [["k", 1]])
    assert type(fast) is PendingWrite
    assert fast == made and repr(fast) == repr(made)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.value = None  # type: ignore[misc]
    assert hash(pending_write("t", "c", 1)) == hash(PendingWrite("t", "c", 1))
