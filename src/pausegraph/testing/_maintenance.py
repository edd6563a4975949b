"""Conformance: thread leases, the request log, listing threads and pruning."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pausegraph.checkpoint._records import PendingWrite
from pausegraph.checkpoint.capabilities import (
    FoldedLeases,
    RequestLog,
    ThreadLeases,
    ThreadMaintenance,
    WaitingIndex,
)
from pausegraph.errors import RequestAlreadyRanError, ThreadBusyError
from pausegraph.testing._factories import (
    ask_graph,
    config,
    make_checkpoint,
    pair_graph,
    require,
    save_chain,
)
from pausegraph.types import Command

__all__ = [
    "test_a_key_whose_checkpoint_was_pruned_does_not_run_again",
    "test_a_lease_is_exclusive_until_released",
    "test_a_leased_load_takes_the_lease_with_the_load",
    "test_a_run_takes_and_gives_back_its_lease_with_its_store_calls",
    "test_after_pruning_a_paused_thread_still_resumes",
    "test_an_expired_lease_can_be_taken",
    "test_async_folded_leases",
    "test_async_leases",
    "test_async_runs_keep_the_request_log_with_async_methods",
    "test_idempotency_keys_hold_for_async_streams",
    "test_idempotency_keys_hold_for_streams",
    "test_idempotency_keys_run_a_request_once",
    "test_last_writes_store_and_give_the_lease_back",
    "test_list_threads_is_sorted_and_unique",
    "test_only_the_owner_releases_a_lease",
    "test_prune_each_namespace_and_only_that_thread",
    "test_prune_keeps_the_newest_and_what_they_read",
    "test_prune_keeps_writes_of_kept_checkpoints_only",
    "test_prune_refuses_to_keep_nothing",
    "test_request_log_keeps_the_first_checkpoint",
    "test_the_owner_renews_its_lease",
]


def test_a_lease_is_exclusive_until_released(saver: Any) -> None:
    require(saver, ThreadLeases)
    assert saver.acquire_lease("t1", "ann", 30) is True
    assert saver.acquire_lease("t1", "bob", 30) is False
    assert saver.acquire_lease("t2", "bob", 30) is True  # leases are per thread
    saver.release_lease("t1", "ann")
    assert saver.acquire_lease("t1", "bob", 30) is True
    assert saver.acquire_lease("t1", "ann", 30) is False


def test_the_owner_renews_its_lease(saver: Any) -> None:
    require(saver, ThreadLeases)
    assert saver.acquire_lease("t1", "ann", 0.2) is True
    assert saver.acquire_lease("t1", "ann", 30) is True  # renewed: now 30 s from now
    time.sleep(0.3)
    assert saver.acquire_lease("t1", "bob", 30) is False


def test_only_the_owner_releases_a_lease(saver: Any) -> None:
    require(saver, ThreadLeases)
    assert saver.acquire_lease("t1", "ann", 30) is True
    saver.release_lease("t1", "bob")  # not bob's: nothing happens
    saver.release_lease("t2", "ann")  # no lease there: nothing happens
    assert saver.acquire_lease("t1", "bob", 30) is False
    saver.release_lease("t1", "ann")
    saver.release_lease("t1", "ann")  # twice is fine
    assert saver.acquire_lease("t1", "bob", 30) is True


def test_an_expired_lease_can_be_taken(saver: Any) -> None:
    require(saver, ThreadLeases)
    assert saver.acquire_lease("t1", "ann", 0.05) is True
    time.sleep(0.15)
    assert saver.acquire_lease("t1", "bob", 30) is True
    assert saver.acquire_lease("t1", "ann", 30) is False  # the late owner lost it


@pytest.mark.asyncio
async def test_async_leases(saver: Any) -> None:
    require(saver, ThreadLeases)
    assert await saver.aacquire_lease("t1", "ann", 30) is True
    assert await saver.aacquire_lease("t1", "bob", 30) is False
    assert saver.acquire_lease("t1", "bob", 30) is False  # the sync view agrees
    await saver.arelease_lease("t1", "bob")
    assert await saver.aacquire_lease("t1", "bob", 30) is False
    await saver.arelease_lease("t1", "ann")
    assert await saver.aacquire_lease("t1", "bob", 30) is True


def test_a_leased_load_takes_the_lease_with_the_load(saver: Any) -> None:
    require(saver, FoldedLeases)
    assert saver.load_leased("new", "", None, "ann", 30) == (True, None)  # nothing stored yet
    assert saver.acquire_lease("new", "bob", 30) is False
    chain = save_chain(saver, 3, thread="t1")
    taken, loaded = saver.load_leased("t1", "", None, "ann", 30)
    assert taken is True and loaded is not None
    assert loaded.checkpoint.id == chain[-1].id and loaded.checkpoint.values == chain[-1].values
    assert saver.load_leased("t1", "", None, "bob", 30) == (False, None)  # busy: nothing loaded
    assert saver.acquire_lease("t1", "bob", 30) is False
    saver.release_lease("t1", "ann")
    taken, loaded = saver.load_leased("t1", "", chain[0].id, "bob", 30)  # one checkpoint
    assert taken is True and loaded is not None and loaded.checkpoint.id == chain[0].id
    assert saver.load_leased("t1", "", chain[0].id, "bob", 30)[0] is True  # the owner renews


def test_last_writes_store_and_give_the_lease_back(saver: Any) -> None:
    require(saver, FoldedLeases)
    first = make_checkpoint({"a": 1}, thread="t1")
    saver.save(first, final=False)
    assert saver.load_leased("t1", "", None, "ann", 30)[0] is True
    second = make_checkpoint({"a": 2}, first, thread="t1")
    saver.save_released(second, [PendingWrite("task-1", "a", 2)], "ann")
    stored = saver.load("t1")
    assert stored is not None and stored.checkpoint.id == second.id
    parent = saver.load("t1", "", first.id)
    assert parent is not None and parent.writes == (PendingWrite("task-1", "a", 2),)
    assert saver.load_leased("t1", "", None, "bob", 30) == (True, stored)
    saver.save_writes_released("t1", "", second.id, [PendingWrite("task-2", "b", [3])], "bob")
    again = saver.load("t1")
    assert again is not None and again.writes == (PendingWrite("task-2", "b", [3]),)
    assert saver.acquire_lease("t1", "cy", 30) is True  # bob gave it back
    # Another owner's last write stores but leaves cy's lease alone.
    saver.save_writes_released("t1", "", second.id, [PendingWrite("task-3", "c", 4)], "bob")
    assert saver.acquire_lease("t1", "dee", 30) is False


@pytest.mark.asyncio
async def test_async_folded_leases(saver: Any) -> None:
    require(saver, FoldedLeases)
    first = make_checkpoint({"a": 1}, thread="t1")
    await saver.asave(first, final=False)
    taken, loaded = await saver.aload_leased("t1", "", None, "ann", 30)
    assert taken is True and loaded is not None and loaded.checkpoint.id == first.id
    assert await saver.aload_leased("t1", "", None, "bob", 30) == (False, None)
    second = make_checkpoint({"a": 2}, first, thread="t1")
    await saver.asave_released(second, [], "ann")
    assert (await saver.aload_leased("t1", "", None, "bob", 30))[0] is True
    await saver.asave_writes_released("t1", "", second.id, [PendingWrite("x", "a", 5)], "bob")
    assert saver.acquire_lease("t1", "cy", 30) is True
    stored = await saver.aload("t1")
    assert stored is not None and stored.writes == (PendingWrite("x", "a", 5),)


def test_a_run_takes_and_gives_back_its_lease_with_its_store_calls(saver: Any) -> None:
    require(saver, FoldedLeases)
    graph = ask_graph(saver)
    graph.invoke({"question": "ok?", "answer": ""}, config("t1"))
    assert saver.acquire_lease("t1", "probe", 30) is True  # the pause gave it back
    with pytest.raises(ThreadBusyError):
        graph.invoke(Command(resume="yes"), config("t1"))
    saver.release_lease("t1", "probe")
    assert graph.invoke(Command(resume="yes"), config("t1"))["answer"] == "yes"
    assert saver.acquire_lease("t1", "probe", 30) is True  # so did the end


def test_request_log_keeps_the_first_checkpoint(saver: Any) -> None:
    require(saver, RequestLog)
    assert saver.recall_request("t1", "req-1") is None
    saver.remember_request("t1", "req-1", "cp-1")
    saver.remember_request("t1", "req-1", "cp-2")  # a retry does not move it
    saver.remember_request("t2", "req-1", "cp-3")  # keys are per thread
    saver.remember_request("t1", "req-2", "cp-4")
    assert saver.recall_request("t1", "req-1") == "cp-1"
    assert saver.recall_request("t2", "req-1") == "cp-3"
    assert saver.recall_request("t1", "req-2") == "cp-4"
    saver.save(make_checkpoint({"a": 1}, thread="t1"))
    saver.delete_thread("t1")  # deleting a thread forgets its requests
    assert saver.recall_request("t1", "req-1") is None
    assert saver.recall_request("t2", "req-1") == "cp-3"


def test_idempotency_keys_run_a_request_once(saver: Any) -> None:
    require(saver, RequestLog)
    graph = ask_graph(saver)
    graph.invoke({"question": "q"}, config("t1"))
    keyed = {"configurable": {"thread_id": "t1", "idempotency_key": "answer-1"}}
    assert graph.invoke(Command(resume="yes"), keyed) == {"question": "q", "answer": "yes"}
    head = graph.get_state(config("t1")).config["configurable"]["checkpoint_id"]
    assert saver.recall_request("t1", "answer-1") == head
    # The retry runs nothing (a second resume would fail: nothing waits) and returns the result.
    assert graph.invoke(Command(resume="no"), keyed) == {"question": "q", "answer": "yes"}
    assert graph.get_state(config("t1")).config["configurable"]["checkpoint_id"] == head


def test_idempotency_keys_hold_for_streams(saver: Any) -> None:
    require(saver, RequestLog)
    graph = ask_graph(saver)
    keyed = {"configurable": {"thread_id": "t1", "idempotency_key": "ask-1"}}
    first = list(graph.stream({"question": "q"}, keyed))
    assert [list(chunk) for chunk in first] == [["__interrupt__"]]
    # The retry runs nothing: the thread stays where the first stream left it,
    # and the stream says how that run ended.
    head = graph.get_state(config("t1")).config["configurable"]["checkpoint_id"]
    assert list(graph.stream({"question": "q"}, keyed)) == first
    assert graph.get_state(config("t1")).config["configurable"]["checkpoint_id"] == head
    answer = {"configurable": {"thread_id": "t1", "idempotency_key": "answer-1"}}
    done = list(graph.stream(Command(resume="yes"), answer, stream_mode="values"))
    assert done[-1] == {"question": "q", "answer": "yes"}
    again = list(graph.stream(Command(resume="no"), answer, stream_mode=["values", "updates"]))
    assert again == [("values", {"question": "q", "answer": "yes"})]


@pytest.mark.asyncio
async def test_idempotency_keys_hold_for_async_streams(saver: Any) -> None:
    require(saver, RequestLog)
    graph = ask_graph(saver)
    await graph.ainvoke({"question": "q"}, config("t2"))
    keyed = {"configurable": {"thread_id": "t2", "idempotency_key": "answer-1"}}
    chunks = [c async for c in graph.astream(Command(resume="yes"), keyed)]
    assert chunks == [{"ask": {"answer": "yes"}}]
    assert [c async for c in graph.astream(Command(resume="no"), keyed)] == []
    retried = [c async for c in graph.astream(Command(resume="no"), keyed, stream_mode="values")]
    assert retried == [{"question": "q", "answer": "yes"}]
    assert (await graph.aget_state(config("t2"))).values["answer"] == "yes"


@pytest.mark.asyncio
async def test_async_runs_keep_the_request_log_with_async_methods(
    saver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(saver, RequestLog)
    if not hasattr(saver, "arecall_request"):
        pytest.skip(f"{type(saver).__name__} has no async request log (its sync one is used)")

    def blocking(*args: Any) -> None:
        raise AssertionError("async code called a sync request-log method")

    monkeypatch.setattr(saver, "recall_request", blocking)
    monkeypatch.setattr(saver, "remember_request", blocking)
    graph = ask_graph(saver)
    await graph.ainvoke({"question": "q"}, config("t3"))
    keyed = {"configurable": {"thread_id": "t3", "idempotency_key": "answer-1"}}
    assert await graph.ainvoke(Command(resume="yes"), keyed) == {"question": "q", "answer": "yes"}
    head = (await graph.aget_state(config("t3"))).config["configurable"]["checkpoint_id"]
    assert await saver.arecall_request("t3", "answer-1") == head
    assert await graph.ainvoke(Command(resume="no"), keyed) == {"question": "q", "answer": "yes"}
    retried = [c async for c in graph.astream(Command(resume="no"), keyed, stream_mode="values")]
    assert retried == [{"question": "q", "answer": "yes"}]
    streamed = {"configurable": {"thread_id": "t4", "idempotency_key": "ask-1"}}
    first = [c async for c in graph.astream({"question": "q"}, streamed)]
    assert [list(chunk) for chunk in first] == [["__interrupt__"]]
    assert [c async for c in graph.astream({"question": "q"}, streamed)] == first


@pytest.mark.asyncio
async def test_a_key_whose_checkpoint_was_pruned_does_not_run_again(saver: Any) -> None:
    require(saver, RequestLog)
    require(saver, ThreadMaintenance)
    graph = ask_graph(saver)
    await graph.ainvoke({"question": "q1"}, config("t5"))
    keyed = {"configurable": {"thread_id": "t5", "idempotency_key": "answer-1"}}
    assert await graph.ainvoke(Command(resume="yes"), keyed) == {"question": "q1", "answer": "yes"}
    # A later pause that rewrites every key, so nothing kept reads answer-1's checkpoint.
    await graph.ainvoke({"question": "q2", "answer": ""}, config("t5"))
    assert saver.prune("t5", keep_last=1) > 0  # drops where answer-1 ended
    head = (await graph.aget_state(config("t5"))).config["configurable"]["checkpoint_id"]
    # The retry must not answer the later pause with the old request.
    with pytest.raises(RequestAlreadyRanError, match=r"'answer-1' already ran on thread 't5'"):
        await graph.ainvoke(Command(resume="yes"), keyed)
    with pytest.raises(RequestAlreadyRanError, match="pruned"):
        [c async for c in graph.astream(Command(resume="yes"), keyed)]
    state = await graph.aget_state(config("t5"))
    assert state.config["configurable"]["checkpoint_id"] == head
    assert state.values == {"question": "q2", "answer": ""} and state.next == ("ask",)


def test_list_threads_is_sorted_and_unique(saver: Any) -> None:
    require(saver, ThreadMaintenance)
    assert saver.list_threads() == []
    save_chain(saver, 2, thread="b")
    save_chain(saver, 1, thread="a")
    save_chain(saver, 1, thread="b", ns="sub:1")
    save_chain(saver, 1, thread="c", ns="sub:1")
    assert saver.list_threads() == ["a", "b", "c"]
    saver.delete_thread("b")
    assert saver.list_threads() == ["a", "c"]


def test_prune_keeps_the_newest_and_what_they_read(saver: Any) -> None:
    require(saver, ThreadMaintenance)
    cps = save_chain(saver, 9)  # x changes every time, y at 0, 3 and 6
    assert saver.prune("t", keep_last=2) == 6  # 8 and 7 stay, and 6 (they read its y)
    assert [s.checkpoint for s in saver.history("t")] == [cps[8], cps[7], cps[6]]
    # Kept checkpoints read values of older kept ones, which read older ones again.
    a = make_checkpoint({"a": 1, "b": 1, "c": 1}, thread="u")
    b = make_checkpoint({"a": 2}, a, thread="u")
    c = make_checkpoint({"b": 2}, b, thread="u")
    d = make_checkpoint({"c": 2}, c, thread="u")
    for cp in (a, b, c, d):
        saver.save(cp)
    assert saver.prune("u", keep_last=1) == 0  # d reads b and c, which read a
    assert [s.checkpoint for s in saver.history("u")] == [d, c, b, a]
    e = make_checkpoint({"a": 3, "b": 3, "c": 3}, d, thread="u")
    saver.save(e)
    assert saver.prune("u", keep_last=1) == 4
    assert [s.checkpoint for s in saver.history("u")] == [e]
    assert saver.prune("u", keep_last=1) == 0


def test_prune_keeps_writes_of_kept_checkpoints_only(saver: Any) -> None:
    require(saver, ThreadMaintenance)
    cps = save_chain(saver, 3)
    for cp in cps:
        saver.save_writes("t", "", cp.id, [PendingWrite("task", "c", cp.id)])
    assert saver.prune("t", keep_last=1) == 1  # 2 stays, and 0 (2 reads its y)
    assert [(s.checkpoint.id, s.writes) for s in saver.history("t")] == [
        (cps[2].id, (PendingWrite("task", "c", cps[2].id),)),
        (cps[0].id, (PendingWrite("task", "c", cps[0].id),)),
    ]
    assert saver.load("t", "", cps[1].id) is None
    stored = saver.load("t")
    assert stored is not None and stored.checkpoint.values == {"x": 2, "y": [0]}


def test_prune_each_namespace_and_only_that_thread(saver: Any) -> None:
    require(saver, ThreadMaintenance)
    root = save_chain(saver, 3)
    sub = save_chain(saver, 3, ns="sub:1")
    other = save_chain(saver, 3, thread="u")
    assert saver.prune("t", keep_last=1) == 2  # each namespace keeps 2, and 0 (2 reads its y)
    assert [s.checkpoint.id for s in saver.history("t")] == [root[2].id, root[0].id]
    assert [s.checkpoint.id for s in saver.history("t", "sub:1")] == [sub[2].id, sub[0].id]
    assert [s.checkpoint.id for s in saver.history("u")] == [c.id for c in reversed(other)]
    assert saver.prune("nobody", keep_last=1) == 0


def test_prune_refuses_to_keep_nothing(saver: Any) -> None:
    require(saver, ThreadMaintenance)
    cps = save_chain(saver, 2)
    with pytest.raises(ValueError, match="keep_last must be at least 1, got 0"):
        saver.prune("t", keep_last=0)
    assert [s.checkpoint for s in saver.history("t")] == list(reversed(cps))


def test_after_pruning_a_paused_thread_still_resumes(saver: Any) -> None:
    require(saver, ThreadMaintenance)
    graph = pair_graph(saver)
    cfg = config("t1")
    result = graph.invoke({"total": 10}, cfg)
    asked = {i.value: i.id for i in result["__interrupt__"]}
    graph.invoke(Command(resume={asked["left?"]: "L"}), cfg)
    state = graph.get_state(cfg)
    before = [s.config for s in graph.get_state_history(cfg)]
    deleted = saver.prune("t1", keep_last=1)
    after = list(graph.get_state_history(cfg))  # every checkpoint left loads
    assert deleted > 0 and len(after) == len(before) - deleted
    assert after[0].config == state.config
    pruned = graph.get_state(cfg)
    assert (pruned.values, pruned.next, pruned.interrupts) == (
        state.values,
        state.next,
        state.interrupts,
    )
    if isinstance(saver, WaitingIndex):
        assert [e.thread_id for e in saver.list_waiting().items] == ["t1"]
    final = graph.invoke(Command(resume={asked["right?"]: "R"}), cfg)
    assert final == {
        "total": 11,
        "left": "L",
        "right": "R",
        "log": ["count", "left", "right", "done"],
    }
