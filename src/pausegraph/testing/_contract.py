"""Conformance: the base saver contract (load, save, save_writes, history, delete_thread)."""

from __future__ import annotations

import threading

import pytest

from pausegraph.checkpoint._records import Checkpoint, PendingWrite, new_checkpoint_id
from pausegraph.checkpoint.base import BaseCheckpointSaver
from pausegraph.errors import CorruptCheckpointError
from pausegraph.testing._factories import make_checkpoint as make
from pausegraph.testing._factories import save_chain

__all__ = [
    "test_async_twins",
    "test_concurrent_writes_from_worker_threads",
    "test_delete_thread_removes_every_namespace_and_only_that_thread",
    "test_history_does_not_hold_the_saver_between_items",
    "test_history_filter_matches_metadata_and_limits_after_filtering",
    "test_history_is_newest_first_with_before_limit_and_paging",
    "test_load_of_unknown_thread_or_checkpoint_is_none",
    "test_load_rebuilds_full_state_from_partial_checkpoints",
    "test_namespaces_are_separate",
    "test_parent_writes_are_saved_with_the_checkpoint",
    "test_pending_writes_replace_same_task_and_channel_keeping_order",
    "test_states_with_many_keys_round_trip",
    "test_writes_for_a_missing_checkpoint_are_refused",
]


def test_load_rebuilds_full_state_from_partial_checkpoints(saver: BaseCheckpointSaver) -> None:
    first = make({"a": 1, "b": [1, {"deep": (1, 2)}], "c": "x"})
    second = make({"a": 2}, first)
    third = make({"b": [3]}, second, metadata={"user": "ann"})
    for cp in (first, second, third):
        saver.save(cp)
    latest = saver.load("t")
    assert latest is not None
    assert latest.checkpoint == third
    assert dict(latest.checkpoint.values) == {"a": 2, "b": [3], "c": "x"}
    assert latest.writes == ()
    older = saver.load("t", "", second.id)
    assert older is not None and older.checkpoint == second
    assert older.checkpoint.values == {"a": 2, "b": [1, {"deep": (1, 2)}], "c": "x"}


def test_states_with_many_keys_round_trip(saver: BaseCheckpointSaver) -> None:
    first = make({f"k{i}": i for i in range(450)})  # more keys than one SQL lookup binds
    second = make({"k7": "seven"}, first)
    saver.save(first)
    saver.save(second)
    latest = saver.load("t")
    assert latest is not None
    assert latest.checkpoint.values == {**first.values, "k7": "seven"}


def test_load_of_unknown_thread_or_checkpoint_is_none(saver: BaseCheckpointSaver) -> None:
    saver.save(make({"a": 1}))
    assert saver.load("other") is None
    assert saver.load("t", "sub:1") is None
    assert saver.load("t", "", new_checkpoint_id()) is None


def test_namespaces_are_separate(saver: BaseCheckpointSaver) -> None:
    root, sub = make({"a": 1}), make({"a": 2}, ns="sub:1")
    saver.save(root)
    saver.save(sub)
    assert _checkpoint(saver, "t") == root
    assert _checkpoint(saver, "t", "sub:1") == sub
    assert [s.checkpoint.id for s in saver.history("t", "sub:1")] == [sub.id]


def test_pending_writes_replace_same_task_and_channel_keeping_order(
    saver: BaseCheckpointSaver,
) -> None:
    cp = make({"a": 1})
    saver.save(cp)
    saver.save_writes("t", "", cp.id, [PendingWrite("t1", "__writes__", [["a", 1]])])
    saver.save_writes(
        "t",
        "",
        cp.id,
        [
            PendingWrite("t2", "__interrupt__", [{"value": "q?"}]),
            PendingWrite("t1", "__next__", []),
        ],
    )
    saver.save_writes("t", "", cp.id, [PendingWrite("t1", "__writes__", [["a", 2]])])
    stored = saver.load("t")
    assert stored is not None
    assert stored.writes == (
        PendingWrite("t1", "__writes__", [["a", 2]]),
        PendingWrite("t2", "__interrupt__", [{"value": "q?"}]),
        PendingWrite("t1", "__next__", []),
    )


def test_parent_writes_are_saved_with_the_checkpoint(saver: BaseCheckpointSaver) -> None:
    first = make({"a": 1})
    saver.save(first)
    saver.save_writes("t", "", first.id, [PendingWrite("t1", "__writes__", "old")])
    second = make({"a": 2}, first)
    saver.save(second, [PendingWrite("t1", "__writes__", "new"), PendingWrite("t2", "c", 2)])
    parent = saver.load("t", "", first.id)
    assert parent is not None
    assert parent.writes == (PendingWrite("t1", "__writes__", "new"), PendingWrite("t2", "c", 2))
    assert _stored_writes(saver, second.id) == ()


def test_writes_for_a_missing_checkpoint_are_refused(saver: BaseCheckpointSaver) -> None:
    cp = make({"a": 1})
    saver.save(cp)
    missing = new_checkpoint_id()
    for writes in ([PendingWrite("t1", "__writes__", [])], []):
        with pytest.raises(CorruptCheckpointError, match=f"{missing!r}.*does not exist"):
            saver.save_writes("t", "", missing, writes)
    saver.save_writes("t", "", cp.id, [])  # an existing checkpoint: a no-op
    assert _stored_writes(saver, cp.id) == ()
    assert saver.load("t", "", missing) is None


def test_history_is_newest_first_with_before_limit_and_paging(saver: BaseCheckpointSaver) -> None:
    cps = save_chain(saver, 70)  # more than one page of the SQL savers
    newest_first = [cp.id for cp in reversed(cps)]
    got = list(saver.history("t"))
    assert [s.checkpoint.id for s in got] == newest_first
    assert [s.checkpoint for s in got] == list(reversed(cps))
    assert [s.checkpoint.id for s in saver.history("t", limit=3)] == newest_first[:3]
    before = [s.checkpoint.id for s in saver.history("t", before=cps[40].id, limit=35)]
    assert before == newest_first[30:65]
    assert list(saver.history("t", limit=0)) == []
    assert list(saver.history("nobody")) == []


def test_history_does_not_hold_the_saver_between_items(saver: BaseCheckpointSaver) -> None:
    cps = save_chain(saver, 40)
    for stored in saver.history("t"):  # writing while iterating must not deadlock
        cid = stored.checkpoint.id
        saver.save_writes("t", "", cid, [PendingWrite("t1", "__writes__", cid)])
    assert [s.writes[0].value for s in saver.history("t")] == [c.id for c in reversed(cps)]


def test_history_filter_matches_metadata_and_limits_after_filtering(
    saver: BaseCheckpointSaver,
) -> None:
    cps: list[Checkpoint] = []
    for i in range(40):
        source = "input" if i % 10 == 0 else "loop"
        cps.append(make({"x": i}, cps[-1] if cps else None, source=source, metadata={"n": i % 4}))
        saver.save(cps[-1])
    inputs = [s.checkpoint.id for s in saver.history("t", filter={"source": "input"})]
    assert inputs == [cps[i].id for i in (30, 20, 10, 0)]
    two = list(saver.history("t", filter={"source": "input"}, limit=2))
    assert [s.checkpoint.id for s in two] == [cps[30].id, cps[20].id]
    assert two[0].checkpoint.values == {"x": 30}
    both = saver.history("t", filter={"source": "loop", "n": 1, "step": cps[33].step})
    assert [s.checkpoint.id for s in both] == [cps[33].id]
    assert list(saver.history("t", filter={"n": 1, "missing": None})) == []


def test_delete_thread_removes_every_namespace_and_only_that_thread(
    saver: BaseCheckpointSaver,
) -> None:
    save_chain(saver, 3)
    sub = save_chain(saver, 2, ns="sub:1")
    saver.save_writes("t", "sub:1", sub[-1].id, [PendingWrite("t1", "__writes__", [])])
    kept = save_chain(saver, 2, thread="u")
    saver.delete_thread("t")
    assert saver.load("t") is None and saver.load("t", "sub:1") is None
    assert list(saver.history("t")) == [] and list(saver.history("t", "sub:1")) == []
    assert _checkpoint(saver, "u") == kept[-1]
    saver.delete_thread("never-existed")
    assert _checkpoint(saver, "u") == kept[-1]


def test_concurrent_writes_from_worker_threads(saver: BaseCheckpointSaver) -> None:
    cp = make({"a": 1})
    saver.save(cp)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                saver.save_writes("t", "", cp.id, [PendingWrite(f"task{n}-{i}", "__writes__", i)])
        except BaseException as exc:  # reported below: a worker's error would be lost
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    writes = _stored_writes(saver, cp.id)
    assert len(writes) == 200
    assert {w.task_id for w in writes} == {f"task{n}-{i}" for n in range(8) for i in range(25)}


@pytest.mark.asyncio
async def test_async_twins(saver: BaseCheckpointSaver) -> None:
    first = make({"a": 1})
    await saver.asave(first)
    second = make({"a": 2}, first)
    await saver.asave(second, [PendingWrite("t0", "c", 0)])
    await saver.asave_writes("t", "", second.id, [PendingWrite("t1", "c", 1)])
    stored = await saver.aload("t")
    assert stored is not None and stored.checkpoint == second
    assert stored.writes == (PendingWrite("t1", "c", 1),)
    older = await saver.aload("t", "", first.id)
    assert older is not None and older.writes == (PendingWrite("t0", "c", 0),)
    assert [s.checkpoint.id async for s in saver.ahistory("t")] == [second.id, first.id]
    assert [s.checkpoint.id async for s in saver.ahistory("t", limit=1)] == [second.id]
    await saver.adelete_thread("t")
    assert await saver.aload("t") is None
    assert [s async for s in saver.ahistory("t")] == []


def _checkpoint(saver: BaseCheckpointSaver, thread_id: str, ns: str = "") -> Checkpoint | None:
    stored = saver.load(thread_id, ns)
    return None if stored is None else stored.checkpoint


def _stored_writes(saver: BaseCheckpointSaver, checkpoint_id: str) -> tuple[PendingWrite, ...]:
    stored = saver.load("t", "", checkpoint_id)
    assert stored is not None, f"checkpoint {checkpoint_id!r} is missing"
    return stored.writes
