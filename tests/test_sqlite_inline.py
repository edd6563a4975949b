"""SQLite schema 4: small values kept in the checkpoint row that wrote them.

What goes inline and what gets a blob row, that every read path finds inline
values (in the loaded checkpoint's own row and in older rows), the migration
of schema 3 files (every value a blob row, a bare header), pruning that keeps
the rows kept checkpoints read from, and damaged or missing rows.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ormsgpack
import pytest
from typing_extensions import TypedDict

from _histories import carry_on, fill, log_graph
from _savers import race
from pausegraph.checkpoint._codec import dump_blobs, encode_header
from pausegraph.checkpoint._inline import INLINE_MAX
from pausegraph.checkpoint._records import Checkpoint, PendingWrite
from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.checkpoint.sqlite import SqliteSaver, _rows, _schema
from pausegraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from pausegraph.errors import CorruptCheckpointError
from pausegraph.graph import END, START, StateGraph
from pausegraph.testing import make_checkpoint as make
from pausegraph.testing._factories import config
from pausegraph.types import Command, interrupt

EDGE = "e" * (INLINE_MAX - 2)  # msgpack: 2 bytes of header, so exactly INLINE_MAX
BIG = "b" * (INLINE_MAX - 1)  # one byte too many


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cp.db"


@pytest.fixture
def saver(db: Path) -> Iterator[SqliteSaver]:
    with SqliteSaver.from_conn_string(db) as cp:
        yield cp


def _blobs(saver: SqliteSaver, thread: str = "t") -> set[tuple[str, str]]:
    rows = saver.conn.execute(
        "SELECT key, version FROM pausegraph_blobs WHERE thread_id = ?", (thread,)
    )
    return set(rows.fetchall())


def _inline(saver: SqliteSaver, cid: str) -> Any:
    """The inline values stored in checkpoint ``cid``'s row."""
    row = saver.conn.execute(
        "SELECT header FROM pausegraph_checkpoints WHERE checkpoint_id = ?", (cid,)
    ).fetchone()
    return saver.serde.loads(row[0])[1]


def _ids(saver: SqliteSaver, thread: str = "t") -> set[str]:
    rows = saver.conn.execute(
        "SELECT checkpoint_id FROM pausegraph_checkpoints WHERE thread_id = ?", (thread,)
    )
    return {cid for (cid,) in rows.fetchall()}


def _chain(saver: Any) -> list[Checkpoint]:
    """Keys written at different checkpoints, so a load reads several older rows.

    ``a`` (inline) and ``big`` (a blob row) are written once by the first
    checkpoint, ``b`` every other one, ``x`` by each; ``edge`` is exactly at
    the inline limit.
    """
    out = [make({"a": {"nested": [1, 2]}, "big": BIG, "edge": EDGE, "x": 0, "b": "b0"})]
    for i in range(1, 7):
        changes: dict[str, Any] = {"x": i}
        if i % 2 == 0:
            changes["b"] = f"b{i}"
        out.append(make(changes, out[-1]))
    for cp in out:
        saver.save(cp)
    saver.save_writes("t", "", out[-1].id, [PendingWrite("task", "c", "w")])
    return out


# -- the layout ------------------------------------------------------------------


def test_values_up_to_the_limit_stay_in_the_row_larger_ones_get_blob_rows(
    saver: SqliteSaver,
) -> None:
    cps = _chain(saver)
    assert _blobs(saver) == {("big", cps[0].id)}
    assert _inline(saver, cps[0].id) == {"a": {"nested": [1, 2]}, "edge": EDGE, "x": 0, "b": "b0"}
    assert _inline(saver, cps[1].id) == {"x": 1}
    assert _inline(saver, cps[2].id) == {"x": 2, "b": "b2"}


def test_appended_chunks_get_blob_rows_under_their_snapshot(saver: SqliteSaver) -> None:
    graph = log_graph(saver, 3)
    graph.invoke({"items": [], "n": 0}, config("t"))
    keys = {key.split("\x1f")[0] for key, _ in _blobs(saver)}
    assert keys == {"items"}  # n (small) is inline; chunks of items are blob rows
    values = {"items": ["item0", "item1", "item2"], "n": 3}
    assert graph.get_state(config("t")).values == values


def test_a_graph_step_with_small_values_writes_one_row(saver: SqliteSaver) -> None:
    graph = _counter_graph(saver, 5)
    statements: list[str] = []
    saver.conn.set_trace_callback(statements.append)
    assert graph.invoke({"x": 0}, config("t")) == {"x": 5}
    saver.conn.set_trace_callback(None)
    assert not [s for s in statements if "INTO pausegraph_blobs" in s]
    assert _blobs(saver) == set()
    saves = [s for s in statements if s.startswith("INSERT OR REPLACE INTO pausegraph_c")]
    assert len(saves) == 7  # the input, START, and a checkpoint per node


# -- every read path -------------------------------------------------------------


def test_every_read_path_returns_what_the_memory_saver_does(saver: SqliteSaver) -> None:
    memory = InMemorySaver()
    cps = _chain(saver)
    for cp in cps:
        memory.save(cp)
    memory.save_writes("t", "", cps[-1].id, [PendingWrite("task", "c", "w")])
    assert saver.load("t") == memory.load("t")
    latest = saver.load("t")
    assert latest is not None and latest.checkpoint.values == {
        "a": {"nested": [1, 2]},
        "big": BIG,
        "edge": EDGE,
        "x": 6,
        "b": "b6",
    }
    assert latest.writes == (PendingWrite("task", "c", "w"),)
    for cp in cps:
        stored = saver.load("t", "", cp.id)
        assert stored is not None and stored.checkpoint == cp, cp.id
    cases: list[dict[str, Any]] = [
        {},
        {"limit": 2},  # the rows that hold a, big, edge are not on the page
        {"before": cps[4].id, "limit": 3},
        {"filter": {"step": 3}},
        {"filter": {"source": "loop"}, "limit": 4},
    ]
    for kwargs in cases:
        assert list(saver.history("t", **kwargs)) == list(memory.history("t", **kwargs)), kwargs
    assert [s.checkpoint for s in saver.history("t")] == cps[::-1]
    taken, leased = saver.load_leased("t", "", None, "ann", 30)
    assert taken is True and leased == latest


def test_values_do_not_share_mutable_objects_between_loads(saver: SqliteSaver) -> None:
    _chain(saver)
    one, two = list(saver.history("t", limit=2))
    one.checkpoint.values["a"]["nested"].append(3)
    assert two.checkpoint.values["a"] == {"nested": [1, 2]}
    again = saver.load("t")
    assert again is not None and again.checkpoint.values["a"] == {"nested": [1, 2]}


def test_the_async_saver_reads_inline_values(db: Path) -> None:
    async def main() -> None:
        async with AsyncSqliteSaver.from_conn_string(str(db)) as cp:
            cps = _chain(cp)
            stored = await cp.aload("t", "", cps[3].id)
            assert stored is not None and stored.checkpoint == cps[3]
            assert [s.checkpoint async for s in cp.ahistory("t", limit=3)] == cps[:-4:-1]

    asyncio.run(main())


def test_get_state_and_history_through_a_graph(saver: SqliteSaver) -> None:
    graph = _counter_graph(saver, 4)
    graph.invoke({"x": 0, "label": "start"}, config("t"))
    state = graph.get_state(config("t"))
    assert state.values == {"x": 4, "label": "start"}  # label is inline in the input's row
    history = list(graph.get_state_history(config("t")))
    assert [s.values.get("x") for s in history] == [4, 3, 2, 1, 0, None]
    assert all(s.values.get("label") == "start" for s in history[:-1])
    old = graph.get_state(history[2].config)
    assert old.values == {"x": 2, "label": "start"}


def test_get_state_reads_a_fixed_number_of_rows_whatever_the_history(saver: SqliteSaver) -> None:
    graph = _counter_graph(saver, 3)
    counts = []
    for thread, runs in (("short", 1), ("long", 30)):
        for _ in range(runs):
            graph.invoke({"x": 0, "label": "l"}, config(thread))
        statements: list[str] = []
        saver.conn.set_trace_callback(statements.append)
        assert graph.get_state(config(thread)).values == {"x": 3, "label": "l"}
        saver.conn.set_trace_callback(None)
        counts.append([s.split(" FROM ")[0][:40] for s in statements])
    assert counts[0] == counts[1]
    assert len(counts[0]) <= 5  # BEGIN, the row, its values' rows, its writes, ROLLBACK


def test_a_history_page_fetches_each_older_row_once(saver: SqliteSaver) -> None:
    cps = [make({"a": "first", "x": 0})]
    for i in range(1, 8):
        cps.append(make({"x": i}, cps[-1]))
    for cp in cps:
        saver.save(cp)
    statements: list[str] = []
    saver.conn.set_trace_callback(statements.append)
    page = list(saver.history("t", limit=4))
    saver.conn.set_trace_callback(None)
    assert [s.checkpoint for s in page] == cps[:-5:-1]
    assert all(s.checkpoint.values["a"] == "first" for s in page)
    assert len([s for s in statements if s.startswith("WITH v")]) == 1  # cps[0]'s row, once


# -- migration -------------------------------------------------------------------


def _old_entry(cp: Checkpoint, serde: Any) -> tuple[bytes, list[tuple[str, str, bytes]]]:
    """What schema 3 stored: a bare header, and a blob row for every value."""
    return encode_header(cp, serde), dump_blobs(cp, serde)


def _fill_as_schema_3(db: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """A file as schema 3 wrote it, holding :func:`fill`'s threads; returns their histories."""
    with monkeypatch.context() as patch, SqliteSaver.from_conn_string(db) as saver:
        patch.setattr(_rows, "encode_entry", _old_entry)
        histories = fill(saver)
        saver.conn.execute("UPDATE pausegraph_meta SET value = '3'")
        header = saver.conn.execute("SELECT header FROM pausegraph_checkpoints").fetchone()[0]
        assert len(saver.serde.loads(header)) == 11  # a bare header: the old layout
    return histories


def test_a_schema_3_file_migrates_and_its_runs_carry_on(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _fill_as_schema_3(db, monkeypatch)
    with SqliteSaver.from_conn_string(db) as saver:
        saver.setup()
        saver.setup()  # migrated once: the second call only checks
        version = "SELECT value FROM pausegraph_meta WHERE key = 'schema_version'"
        assert saver.conn.execute(version).fetchone() == ("4",)
        carry_on(saver, before)  # new rows read values the old rows hold in blob rows


_OPEN = """
import sys, time
from pausegraph.checkpoint.sqlite import SqliteSaver
with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
    time.sleep(max(0.0, float(sys.argv[3]) - time.time()))
    saver.setup()
    print(saver.load("log").checkpoint.values["n"])
"""


def test_two_processes_may_migrate_a_schema_3_file_at_once(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill_as_schema_3(db, monkeypatch)
    assert race(_OPEN, str(db), racers=3) == ["5", "5", "5"]
    with sqlite3.connect(db) as conn:
        version = "SELECT value FROM pausegraph_meta WHERE key = 'schema_version'"
        assert conn.execute(version).fetchone() == ("4",)


def test_an_older_pausegraph_refuses_a_schema_4_file_untouched(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        _chain(saver)
    before = db.read_bytes()
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", 3)
    with SqliteSaver.from_conn_string(db) as saver, pytest.raises(CorruptCheckpointError) as err:
        saver.load("t")
    assert "written by a newer pausegraph (schema 4, this one reads 3)" in str(err.value)
    assert db.read_bytes() == before


# -- pruning and deleting --------------------------------------------------------


def test_prune_keeps_the_rows_that_hold_inline_values_a_kept_checkpoint_reads(
    saver: SqliteSaver,
) -> None:
    cps = _chain(saver)
    latest = saver.load("t")
    assert saver.prune("t", keep_last=1) == 5  # cps[1] to cps[5]: nothing kept reads them
    # cps[0] stays whole: the latest reads a and edge inline in its row, big from its blob.
    assert _ids(saver) == {cps[0].id, cps[6].id}
    assert _inline(saver, cps[0].id)["a"] == {"nested": [1, 2]}
    assert saver.load("t") == latest
    assert _blobs(saver) == {("big", cps[0].id)}


def test_prune_never_loses_a_value_a_pending_interrupt_needs(saver: SqliteSaver) -> None:
    graph = _review_graph(saver)
    out = graph.invoke({"draft": "v1", "steps": 0}, config("t"))
    assert [i.value for i in out["__interrupt__"]] == ["v1 (6 steps)"]
    before = graph.get_state(config("t"))
    assert saver.prune("t", keep_last=1) > 0
    state = graph.get_state(config("t"))
    assert state.values == before.values == {"draft": "v1", "steps": 6}
    assert [i.value for i in state.interrupts] == ["v1 (6 steps)"]
    assert graph.invoke(Command(resume="ok"), config("t")) == {
        "draft": "v1: ok",
        "steps": 6,
    }


def test_delete_thread_leaves_other_threads_inline_values(saver: SqliteSaver) -> None:
    kept = _chain(saver)
    other = [make({"a": 1}, thread="u")]
    other.append(make({"x": 2}, other[0], thread="u"))
    for cp in other:
        saver.save(cp)
    saver.delete_thread("u")
    assert _ids(saver, "u") == set() and saver.load("u") is None
    stored = saver.load("t")
    assert stored is not None and stored.checkpoint == kept[-1]


# -- damaged and missing rows ----------------------------------------------------


def _damage(saver: SqliteSaver, cid: str, value: bytes) -> None:
    saver.conn.execute(
        "UPDATE pausegraph_checkpoints SET header = ? WHERE checkpoint_id = ?", (value, cid)
    )


@pytest.mark.parametrize(
    "value",
    [
        b"\xc1",  # not msgpack
        ormsgpack.packb([1, 2]),  # not a header
        ormsgpack.packb([[9, None], {}]),  # an entry whose header is not one
    ],
)
def test_a_damaged_row_names_the_checkpoint_and_the_thread(
    saver: SqliteSaver, value: bytes
) -> None:
    cps = _chain(saver)
    _damage(saver, cps[-1].id, value)
    with pytest.raises(CorruptCheckpointError, match=f"{cps[-1].id!r} of thread 't'") as err:
        saver.load("t")
    assert "restore it from a backup or delete the thread" in str(err.value)


def test_a_damaged_older_row_fails_the_load_that_reads_its_values(saver: SqliteSaver) -> None:
    cps = _chain(saver)
    _damage(saver, cps[0].id, b"\xc1")  # holds a and edge inline
    with pytest.raises(CorruptCheckpointError, match=f"Checkpoint {cps[0].id!r} of thread 't'"):
        saver.load("t")


@pytest.mark.parametrize("how", ["row deleted", "value dropped"])
def test_a_missing_inline_value_is_reported_as_corruption(
    saver: SqliteSaver, db: Path, how: str
) -> None:
    cps = _chain(saver)
    if how == "row deleted":
        saver.conn.execute(
            "DELETE FROM pausegraph_checkpoints WHERE checkpoint_id = ?", (cps[0].id,)
        )
    else:
        fields, inline = saver.serde.loads(
            saver.conn.execute(
                "SELECT header FROM pausegraph_checkpoints WHERE checkpoint_id = ?", (cps[0].id,)
            ).fetchone()[0]
        )
        del inline["a"]
        _damage(saver, cps[0].id, saver.serde.dumps([fields, inline]))
    with pytest.raises(CorruptCheckpointError) as err:
        saver.load("t")
    assert (
        f"Checkpoint {cps[-1].id!r} of thread 't' needs the value of 'a' from checkpoint "
        f"{cps[0].id!r}, which is missing from {db}. Restore it from a backup, or delete the "
        "thread." == str(err.value)
    )


def test_hostile_inline_bytes_run_no_code(
    saver: SqliteSaver, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[str] = []
    monkeypatch.setattr(os, "system", lambda command: called.append(command))
    cps = _chain(saver)
    fields = saver.serde.loads(
        saver.conn.execute(
            "SELECT header FROM pausegraph_checkpoints WHERE checkpoint_id = ?", (cps[0].id,)
        ).fetchone()[0]
    )[0]
    payload = ormsgpack.packb(["os.system", {"command": "echo pwned"}])
    hostile = ormsgpack.packb([fields, {"a": ormsgpack.Ext(10, payload)}])  # an object
    _damage(saver, cps[0].id, hostile)
    with pytest.raises(CorruptCheckpointError, match=r"'os\.system', which is not registered"):
        saver.load("t")  # the latest reads a from cps[0]'s row
    assert called == []


# -- graphs ----------------------------------------------------------------------


class Counter(TypedDict, total=False):
    x: int
    label: str


def _counter_graph(saver: Any, steps: int) -> Any:
    builder = StateGraph(Counter)
    names = [f"n{i}" for i in range(steps)]
    for name in names:
        builder.add_node(name, lambda s: {"x": s["x"] + 1})
    for a, b in zip([START, *names], [*names, END], strict=True):
        builder.add_edge(a, b)
    return builder.compile(checkpointer=saver)


class Draft(TypedDict):
    draft: str
    steps: int


def _review_graph(saver: Any) -> Any:
    """Six steps that leave ``draft`` alone, then a review that interrupts on it."""

    def work(state: Draft) -> dict[str, Any]:
        return {"steps": state["steps"] + 1}

    def review(state: Draft) -> dict[str, Any]:
        answer = interrupt(f"{state['draft']} ({state['steps']} steps)")
        return {"draft": f"{state['draft']}: {answer}"}

    builder = StateGraph(Draft)
    builder.add_node("work", work)
    builder.add_node("review", review)
    builder.add_edge(START, "work")
    builder.add_conditional_edges("work", lambda s: "work" if s["steps"] < 6 else "review")
    builder.add_edge("review", END)
    return builder.compile(checkpointer=saver)
