"""Conformance: several saves and writes in one call (``BatchedWrites``)."""

from __future__ import annotations

from typing import Any

import pytest

from pausegraph.checkpoint._records import PendingWrite
from pausegraph.checkpoint.capabilities import (
    INBOX_TASK,
    WAITING,
    BatchedWrites,
    FoldedLeases,
    SaveItem,
    WaitingIndex,
    WaitingInterrupt,
    WaitingThread,
    WritesItem,
    encode_waiting,
)
from pausegraph.errors import CorruptCheckpointError
from pausegraph.testing._factories import make_checkpoint, require

__all__ = [
    "test_a_batch_gives_the_lease_back_after_its_last_item",
    "test_a_batch_keeps_the_waiting_index",
    "test_a_batch_stores_saves_and_writes_in_order",
    "test_a_batch_writing_to_a_missing_checkpoint_fails",
    "test_async_batches",
]


def test_a_batch_stores_saves_and_writes_in_order(saver: Any) -> None:
    require(saver, BatchedWrites)
    first = make_checkpoint({"a": 1, "log": ["x"]}, thread="t1")
    saver.save(first)
    second = make_checkpoint({"a": 2}, first, thread="t1")
    third = make_checkpoint({"log": ["x", "y"]}, second, thread="t1")
    saver.write_batch(
        [
            SaveItem(second, [PendingWrite("task-a", "a", 2)]),  # onto a stored checkpoint
            WritesItem("t1", "", second.id, [PendingWrite("task-b", "b", [1])]),
            SaveItem(third, [PendingWrite("task-c", "log", ["y"])]),  # onto one of the batch
            WritesItem("t1", "", third.id, [PendingWrite("task-d", "d", 4)]),
        ]
    )
    assert [c.checkpoint.id for c in saver.history("t1")] == [third.id, second.id, first.id]
    stored = {c.checkpoint.id: c for c in saver.history("t1")}
    assert stored[first.id].writes == (PendingWrite("task-a", "a", 2),)
    assert stored[second.id].writes == (
        PendingWrite("task-b", "b", [1]),
        PendingWrite("task-c", "log", ["y"]),
    )
    assert stored[third.id].writes == (PendingWrite("task-d", "d", 4),)
    assert stored[third.id].checkpoint.values == {"a": 2, "log": ["x", "y"]}
    saver.write_batch([SaveItem(make_checkpoint({"a": 3}, third, thread="t1"), [])], final=True)
    latest = saver.load("t1")
    assert latest is not None and latest.checkpoint.values == {"a": 3, "log": ["x", "y"]}


def test_a_batch_writing_to_a_missing_checkpoint_fails(saver: Any) -> None:
    require(saver, BatchedWrites)
    first = make_checkpoint({"a": 1}, thread="t1")
    with pytest.raises(CorruptCheckpointError, match="'nope' of thread 't1'"):
        saver.write_batch(
            [SaveItem(first, []), WritesItem("t1", "", "nope", [PendingWrite("x", "a", 1)])]
        )
    assert saver.load("t1", "", "nope") is None


def test_a_batch_gives_the_lease_back_after_its_last_item(saver: Any) -> None:
    require(saver, BatchedWrites)
    require(saver, FoldedLeases)
    first = make_checkpoint({"a": 1}, thread="t1")
    assert saver.load_leased("t1", "", None, "ann", 30) == (True, None)
    second = make_checkpoint({"a": 2}, first, thread="t1")
    saver.write_batch([SaveItem(first, []), SaveItem(second, [])], final=True, release="ann")
    assert saver.acquire_lease("t1", "bob", 30) is True
    write = PendingWrite("t", "a", 3)
    batch = [SaveItem(make_checkpoint({"a": 3}, second, thread="t1"), [])]
    saver.write_batch([*batch, WritesItem("t1", "", second.id, [write])], release="ann")
    assert saver.acquire_lease("t1", "cy", 30) is False  # not ann's to give back
    saver.write_batch([WritesItem("t1", "", second.id, [write])], release="bob")
    assert saver.acquire_lease("t1", "cy", 30) is True


def test_a_batch_keeps_the_waiting_index(saver: Any) -> None:
    require(saver, BatchedWrites)
    require(saver, WaitingIndex)
    first = make_checkpoint({"a": 1}, thread="t1")
    second = make_checkpoint({"a": 2}, first, thread="t1")
    ask = WaitingInterrupt("i1", "ok?", "ask")
    entry = WaitingThread("t1", second.id, "g", "2025-01-01T00:00:01+00:00", (ask,), {})
    pause = PendingWrite(INBOX_TASK, WAITING, encode_waiting(entry))
    saver.write_batch(
        [SaveItem(first, []), SaveItem(second, []), WritesItem("t1", "", second.id, [pause])]
    )
    assert [w.thread_id for w in saver.list_waiting().items] == ["t1"]
    third = make_checkpoint({"a": 3}, second, thread="t1")
    saver.write_batch([SaveItem(third, [])])
    assert not saver.list_waiting().items  # a new checkpoint moved the thread on
    # A pause on a new checkpoint replaces the entry; a cleared one is gone.
    fourth = make_checkpoint({"a": 4}, third, thread="t1")
    again = WaitingThread("t1", fourth.id, "g", "2025-01-01T00:00:02+00:00", (ask,), {})
    repause = PendingWrite(INBOX_TASK, WAITING, encode_waiting(again))
    saver.write_batch([SaveItem(third, []), WritesItem("t1", "", third.id, [pause])])
    saver.write_batch([SaveItem(fourth, []), WritesItem("t1", "", fourth.id, [repause])])
    assert [(w.checkpoint_id, w.paused_at) for w in saver.list_waiting().items] == [
        (fourth.id, "2025-01-01T00:00:02+00:00")
    ]
    fifth = make_checkpoint({"a": 5}, fourth, thread="t1")
    cleared = PendingWrite(INBOX_TASK, WAITING, None)
    nested = make_checkpoint({"a": 1}, thread="t1", ns="child:1")
    saver.write_batch([SaveItem(nested, [])])  # a nested checkpoint leaves the entry alone
    assert [w.checkpoint_id for w in saver.list_waiting().items] == [fourth.id]
    nested_next = make_checkpoint({"a": 2}, nested, thread="t1", ns="child:1")
    clear_nested = WritesItem("t1", "child:1", nested_next.id, [cleared])
    saver.write_batch([SaveItem(nested_next, []), clear_nested])  # a nested resume clears it
    assert not saver.list_waiting().items
    last = WaitingThread("t1", fifth.id, "g", "2025-01-01T00:00:03+00:00", (ask,), {})
    last_pause = PendingWrite(INBOX_TASK, WAITING, encode_waiting(last))
    saver.write_batch([SaveItem(fifth, []), WritesItem("t1", "", fifth.id, [last_pause])])
    assert [w.checkpoint_id for w in saver.list_waiting().items] == [fifth.id]
    saver.write_batch([SaveItem(fifth, []), WritesItem("t1", "", fifth.id, [cleared])])
    assert not saver.list_waiting().items


@pytest.mark.asyncio
async def test_async_batches(saver: Any) -> None:
    require(saver, BatchedWrites)
    first = make_checkpoint({"a": 1}, thread="t1")
    second = make_checkpoint({"a": 2}, first, thread="t1")
    await saver.awrite_batch(
        [SaveItem(first, []), SaveItem(second, [PendingWrite("t", "a", 2)])], final=True
    )
    stored = await saver.aload("t1", "", first.id)
    assert stored is not None and stored.writes == (PendingWrite("t", "a", 2),)
    latest = await saver.aload("t1")
    assert latest is not None and latest.checkpoint.id == second.id
