"""Conformance: the waiting index (:class:`~pausegraph.checkpoint.capabilities.WaitingIndex`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from pausegraph.checkpoint._records import PendingWrite
from pausegraph.checkpoint.capabilities import (
    INBOX_TASK,
    WAITING,
    WaitingIndex,
    WaitingInterrupt,
    WaitingThread,
    cursor_of,
    encode_waiting,
)
from pausegraph.errors import CorruptCheckpointError
from pausegraph.testing._factories import ask_graph, config, make_checkpoint, pair_graph, require
from pausegraph.types import Command

__all__ = [
    "test_a_graph_run_lists_its_paused_thread",
    "test_a_resumed_thread_leaves_the_index",
    "test_alist_waiting_matches_list_waiting",
    "test_delete_thread_takes_a_thread_out_of_the_index",
    "test_graph_runs_page_and_filter_by_graph",
    "test_saving_a_root_checkpoint_clears_the_entry_a_subgraph_one_does_not",
    "test_time_travel_into_a_pause_lists_the_thread_again",
    "test_update_state_takes_a_thread_out_of_the_index",
    "test_waiting_entries_for_a_missing_checkpoint_are_refused",
    "test_waiting_filters_by_graph_and_metadata",
    "test_waiting_pages_follow_pause_time_then_thread_id",
    "test_waiting_writes_set_the_index_and_are_not_stored_as_writes",
]

_ASK = WaitingInterrupt("i1", {"q": "ok?", "n": (1, 2)}, "ask")


def _pause(
    saver: Any,
    thread_id: str,
    paused_at: str,
    *,
    graph: str = "g",
    metadata: Mapping[str, Any] | None = None,
) -> WaitingThread:
    """Save a root checkpoint of ``thread_id`` and index it as waiting, as a paused run does."""
    cp = make_checkpoint({"a": 1}, thread=thread_id)
    saver.save(cp)
    entry = WaitingThread(thread_id, cp.id, graph, paused_at, (_ASK,), dict(metadata or {}))
    saver.save_writes(thread_id, "", cp.id, [_waiting_write(entry)])
    return entry


def _waiting_write(entry: WaitingThread | None) -> PendingWrite:
    return PendingWrite(INBOX_TASK, WAITING, None if entry is None else encode_waiting(entry))


def _ids(saver: Any, **kw: Any) -> list[str]:
    return [e.thread_id for e in saver.list_waiting(**kw).items]


def _at(second: int) -> str:
    return f"2025-01-01T00:00:{second:02d}.000000+00:00"


def test_waiting_writes_set_the_index_and_are_not_stored_as_writes(saver: Any) -> None:
    require(saver, WaitingIndex)
    entry = _pause(saver, "t1", _at(1), metadata={"team": "x"})
    assert saver.list_waiting().items == (entry,)
    assert saver.list_waiting().next_cursor is None
    stored = saver.load("t1")
    assert stored.writes == ()
    cid = stored.checkpoint.id
    # One call may carry plain writes too: those are stored, the entry is replaced.
    later = WaitingThread("t1", cid, "g", _at(2), (WaitingInterrupt("i2", "again?", "b"),))
    saver.save_writes("t1", "", cid, [PendingWrite("task", "c", 1), _waiting_write(later)])
    assert saver.list_waiting().items == (later,)
    assert saver.load("t1").writes == (PendingWrite("task", "c", 1),)
    saver.save_writes("t1", "", cid, [_waiting_write(None)])
    assert saver.list_waiting().items == ()
    assert saver.load("t1").writes == (PendingWrite("task", "c", 1),)


def test_saving_a_root_checkpoint_clears_the_entry_a_subgraph_one_does_not(saver: Any) -> None:
    require(saver, WaitingIndex)
    entry = _pause(saver, "t1", _at(1))
    _pause(saver, "t2", _at(2))
    saver.save(make_checkpoint({"s": 1}, thread="t1", ns="sub:1"))
    assert _ids(saver) == ["t1", "t2"]
    base = saver.load("t1").checkpoint
    assert base.id == entry.checkpoint_id
    saver.save(make_checkpoint({"a": 2}, base, thread="t1"))
    assert _ids(saver) == ["t2"]


def test_waiting_entries_for_a_missing_checkpoint_are_refused(saver: Any) -> None:
    require(saver, WaitingIndex)
    entry = WaitingThread("t1", "no-such-checkpoint", "g", _at(1), (_ASK,))
    saver.save(make_checkpoint({"a": 1}, thread="t1"))
    with pytest.raises(CorruptCheckpointError, match=r"'no-such-checkpoint'.*does not exist"):
        saver.save_writes("t1", "", "no-such-checkpoint", [_waiting_write(entry)])
    assert saver.list_waiting().items == ()


def test_waiting_pages_follow_pause_time_then_thread_id(saver: Any) -> None:
    require(saver, WaitingIndex)
    for thread_id, second in [("d", 4), ("b", 2), ("e", 2), ("a", 9), ("c", 1)]:
        _pause(saver, thread_id, _at(second))
    order = ["c", "b", "e", "d", "a"]
    assert _ids(saver) == order
    first = saver.list_waiting(limit=2)
    assert [e.thread_id for e in first.items] == ["c", "b"]
    assert first.next_cursor == cursor_of(first.items[-1]) == f"{_at(2)}|b"
    second = saver.list_waiting(limit=2, after=first.next_cursor)
    assert [e.thread_id for e in second.items] == ["e", "d"]
    last = saver.list_waiting(limit=2, after=second.next_cursor)
    assert [e.thread_id for e in last.items] == ["a"] and last.next_cursor is None
    exact = saver.list_waiting(limit=3, after=first.next_cursor)
    assert [e.thread_id for e in exact.items] == ["e", "d", "a"] and exact.next_cursor is None
    assert _ids(saver, after=f"{_at(9)}|a") == []
    with pytest.raises(ValueError, match="limit must be at least 1, got 0"):
        saver.list_waiting(limit=0)


def test_waiting_filters_by_graph_and_metadata(saver: Any) -> None:
    require(saver, WaitingIndex)
    _pause(saver, "t1", _at(1), graph="a", metadata={"team": "x", "n": 1, "tags": ["p"]})
    _pause(saver, "t2", _at(2), graph="b", metadata={"team": "x", "n": 2, "flag": True})
    _pause(saver, "t3", _at(3), graph="a", metadata={"team": "y", "n": 1, "gone": None})
    _pause(saver, "t4", _at(4), graph="a")
    assert _ids(saver, graph="a") == ["t1", "t3", "t4"]
    assert _ids(saver, graph="zzz") == []
    assert _ids(saver, metadata={"team": "x"}) == ["t1", "t2"]
    assert _ids(saver, metadata={"n": 1}) == ["t1", "t3"]
    assert _ids(saver, metadata={"n": "1"}) == []
    assert _ids(saver, metadata={"flag": True}) == ["t2"]
    assert _ids(saver, metadata={"tags": ["p"]}) == ["t1"]
    assert _ids(saver, metadata={"gone": None}) == ["t1", "t2", "t3", "t4"]  # absent or None
    assert _ids(saver, metadata={"team": "x", "n": 2}) == ["t2"]
    assert _ids(saver, graph="a", metadata={"n": 1}) == ["t1", "t3"]
    page = saver.list_waiting(graph="a", metadata={"n": 1}, limit=1)
    assert [e.thread_id for e in page.items] == ["t1"]
    rest = saver.list_waiting(graph="a", metadata={"n": 1}, limit=1, after=page.next_cursor)
    assert [e.thread_id for e in rest.items] == ["t3"] and rest.next_cursor is None
    assert saver.list_waiting(metadata={"team": "y"}).items[0].metadata == {
        "team": "y",
        "n": 1,
        "gone": None,
    }


@pytest.mark.asyncio
async def test_alist_waiting_matches_list_waiting(saver: Any) -> None:
    require(saver, WaitingIndex)
    for i in range(3):
        _pause(saver, f"t{i}", _at(i), graph="ab"[i % 2], metadata={"i": i})
    for kw in ({}, {"limit": 2}, {"graph": "a"}, {"metadata": {"i": 1}}):
        assert await saver.alist_waiting(**kw) == saver.list_waiting(**kw)
    page = await saver.alist_waiting(limit=2)
    assert await saver.alist_waiting(after=page.next_cursor) == saver.list_waiting(
        after=page.next_cursor
    )


def test_a_graph_run_lists_its_paused_thread(saver: Any) -> None:
    require(saver, WaitingIndex)
    graph = pair_graph(saver, name="pair")
    cfg = config("t1", team="x")
    before = dt.datetime.now(dt.timezone.utc)
    result = graph.invoke({}, cfg)
    after = dt.datetime.now(dt.timezone.utc)
    asked = {i.value: i.id for i in result["__interrupt__"]}
    assert set(asked) == {"left?", "right?"}
    (entry,) = graph.list_waiting().items
    assert entry.thread_id == "t1"
    assert entry.checkpoint_id == graph.get_state(cfg).config["configurable"]["checkpoint_id"]
    assert entry.graph == "pair"
    assert dict(entry.metadata) == {"team": "x"}
    assert sorted(entry.interrupts, key=lambda i: i.node) == [
        WaitingInterrupt(asked["left?"], "left?", "left"),
        WaitingInterrupt(asked["right?"], "right?", "right"),
    ]
    assert before <= dt.datetime.fromisoformat(entry.paused_at) <= after
    # Answering one question leaves the thread waiting on the other (in the same step).
    graph.invoke(Command(resume={asked["left?"]: "L"}), cfg)
    (still,) = graph.list_waiting().items
    assert still.interrupts == (WaitingInterrupt(asked["right?"], "right?", "right"),)
    assert still.checkpoint_id == graph.get_state(cfg).config["configurable"]["checkpoint_id"]
    assert still.paused_at >= entry.paused_at
    final = graph.invoke(Command(resume={asked["right?"]: "R"}), cfg)
    assert (final["left"], final["right"]) == ("L", "R")
    assert graph.list_waiting().items == ()


def test_a_resumed_thread_leaves_the_index(saver: Any) -> None:
    require(saver, WaitingIndex)
    graph = ask_graph(saver)
    for thread_id in ("t1", "t2"):
        graph.invoke({"question": thread_id}, config(thread_id))
    assert [e.interrupts[0].value for e in graph.list_waiting().items] == [
        {"ask": "t1"},
        {"ask": "t2"},
    ]
    assert graph.invoke(Command(resume="yes"), config("t1")) == {"question": "t1", "answer": "yes"}
    assert [e.thread_id for e in graph.list_waiting().items] == ["t2"]


def test_update_state_takes_a_thread_out_of_the_index(saver: Any) -> None:
    require(saver, WaitingIndex)
    graph = ask_graph(saver)
    graph.invoke({"question": "q"}, config("t1"))
    graph.update_state(config("t1"), {"answer": "typed in"}, as_node="ask")
    assert graph.list_waiting().items == ()
    assert graph.get_state(config("t1")).values == {"question": "q", "answer": "typed in"}


def test_delete_thread_takes_a_thread_out_of_the_index(saver: Any) -> None:
    require(saver, WaitingIndex)
    graph = ask_graph(saver)
    graph.invoke({"question": "q"}, config("t1"))
    graph.invoke({"question": "q"}, config("t2"))
    saver.delete_thread("t1")
    assert [e.thread_id for e in graph.list_waiting().items] == ["t2"]


def test_time_travel_into_a_pause_lists_the_thread_again(saver: Any) -> None:
    require(saver, WaitingIndex)
    graph = ask_graph(saver)
    graph.invoke({"question": "q"}, config("t1"))
    graph.invoke(Command(resume="first"), config("t1"))
    assert graph.list_waiting().items == ()
    (before_ask,) = [s for s in graph.get_state_history(config("t1")) if s.next == ("ask",)]
    replayed = graph.invoke(None, before_ask.config)
    assert [i.value for i in replayed["__interrupt__"]] == [{"ask": "q"}]
    (entry,) = graph.list_waiting().items
    head = graph.get_state(config("t1")).config["configurable"]["checkpoint_id"]
    assert entry.checkpoint_id == head
    assert entry.interrupts[0].value == {"ask": "q"}
    assert graph.invoke(Command(resume="second"), config("t1"))["answer"] == "second"
    assert graph.list_waiting().items == ()


def test_graph_runs_page_and_filter_by_graph(saver: Any) -> None:
    require(saver, WaitingIndex)
    one, two = ask_graph(saver, name="one"), ask_graph(saver, name="two")
    for i in range(3):
        one.invoke({"question": f"q{i}"}, config(f"one-{i}", n=i))
    two.invoke({"question": "q"}, config("two-0", n=0))
    first = one.list_waiting(limit=2)
    assert [e.thread_id for e in first.items] == ["one-0", "one-1"]
    rest = one.list_waiting(limit=2, after=first.next_cursor)
    assert [e.thread_id for e in rest.items] == ["one-2"] and rest.next_cursor is None
    assert [e.thread_id for e in two.list_waiting().items] == ["two-0"]
    everyone = one.list_waiting(all_graphs=True, metadata={"n": 0})
    assert [e.thread_id for e in everyone.items] == ["one-0", "two-0"]
