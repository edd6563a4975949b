"""Compact storage: appending to a list stores the appended part, never the whole list again."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from _histories import log_graph
from pausegraph.checkpoint.sqlite import SqliteSaver
from pausegraph.graph import START, StateGraph, add_messages
from pausegraph.types import Command

ITEM = "x" * 1000


def _looping_graph(saver: Any, steps: int) -> Any:
    return log_graph(saver, steps, f"{{:04d}}{ITEM}".format)


def _stored_bytes(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT SUM(LENGTH(value)) FROM pausegraph_blobs").fetchone()
        headers = conn.execute("SELECT SUM(LENGTH(header)) FROM pausegraph_checkpoints").fetchone()
    return int(row[0] or 0) + int(headers[0] or 0)


def test_a_200_step_history_costs_about_its_data(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = _looping_graph(saver, 200)
        cfg = {"configurable": {"thread_id": "t"}, "recursion_limit": 1000}
        result = graph.invoke({"items": [], "n": 0}, cfg)
    raw = sum(len(item) for item in result["items"])
    assert len(result["items"]) == 200
    stored = _stored_bytes(path)
    assert stored <= 2 * raw, f"stored {stored} bytes for {raw} bytes of data"


def test_every_checkpoint_of_a_chained_list_reads_back_exactly(saver: Any) -> None:
    graph = _looping_graph(saver, 30)
    cfg = {"configurable": {"thread_id": "t"}, "recursion_limit": 100}
    graph.invoke({"items": [], "n": 0}, cfg)
    for snapshot in graph.get_state_history(cfg):
        n = snapshot.values.get("n", 0)
        assert snapshot.values.get("items", []) == [f"{i:04d}{ITEM}" for i in range(n)]


def test_branches_never_share_appended_chunks(saver: Any) -> None:
    graph = _looping_graph(saver, 6)
    cfg = {"configurable": {"thread_id": "t"}, "recursion_limit": 100}
    graph.invoke({"items": [], "n": 0}, cfg)
    old = next(s for s in graph.get_state_history(cfg) if s.values.get("n") == 3)
    # Branch off at n=3 twice, once by replay and once by an update.
    replayed = graph.invoke(None, old.config)
    assert replayed["n"] == 6 and len(replayed["items"]) == 6
    forked = graph.update_state(old.config, {"items": ["fork"]})
    after_fork = graph.invoke(None, forked)
    assert after_fork["items"][3] == "fork"
    assert after_fork["items"][:3] == [f"{i:04d}{ITEM}" for i in range(3)]
    # The first branch still reads back unchanged.
    for snapshot in graph.get_state_history(cfg):
        items = snapshot.values.get("items", [])
        if "fork" not in items:
            n = snapshot.values.get("n", 0)
            assert items == [f"{i:04d}{ITEM}" for i in range(n)]


class Chat(TypedDict):
    messages: Annotated[list[Any], add_messages]


@pytest.mark.usefixtures("dict_messages")
def test_add_messages_replacing_a_message_is_stored_whole(saver: Any) -> None:
    def reply(state: Chat) -> dict[str, Any]:
        return {"messages": [{"role": "assistant", "content": "hi", "id": "a1"}]}

    def edit(state: Chat) -> Command[Any]:
        return Command(update={"messages": [{"role": "user", "content": "edited", "id": "u1"}]})

    builder = StateGraph(Chat)
    builder.add_node("reply", reply)
    builder.add_node("edit", edit)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", "edit")
    graph = builder.compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "c"}}
    graph.invoke({"messages": [{"role": "user", "content": "hello", "id": "u1"}]}, cfg)
    contents = [m["content"] for m in graph.get_state(cfg).values["messages"]]
    assert contents == ["edited", "hi"]
    history = [
        [m["content"] for m in s.values.get("messages", [])] for s in graph.get_state_history(cfg)
    ]
    assert history == [["edited", "hi"], ["hello", "hi"], ["hello"], []]
