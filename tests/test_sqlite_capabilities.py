"""SQLite's side of the capabilities: schema 2 and its migration, indexes, leases across
processes, what pruning removes, and metadata filters that agree with the memory saver.

The behaviour every saver shares is checked by the conformance suite.
"""

from __future__ import annotations

import operator
import sqlite3
import time
from pathlib import Path
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from _savers import race
from pausegraph.checkpoint._records import PendingWrite
from pausegraph.checkpoint.capabilities import INBOX_TASK, WAITING, WaitingThread, encode_waiting
from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.checkpoint.sqlite import SqliteSaver, _schema
from pausegraph.checkpoint.sqlite._inbox import _query
from pausegraph.errors import CorruptCheckpointError, StorageError
from pausegraph.graph import END, START, StateGraph
from pausegraph.testing import make_checkpoint, save_chain
from pausegraph.testing._factories import ask_graph, config
from pausegraph.types import Command

V1_TABLES = {"pausegraph_meta", "pausegraph_checkpoints", "pausegraph_blobs", "pausegraph_writes"}
V2_TABLES = {"pausegraph_waiting", "pausegraph_leases", "pausegraph_requests"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cp.db"


def _names(conn: sqlite3.Connection, kind: str) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,)).fetchall()
    return {name for (name,) in rows if name.startswith("pausegraph_")}


def _downgrade_to_schema_1(db: Path) -> None:
    """What schema 1 wrote: the same four tables, without the capability tables."""
    conn = sqlite3.connect(db)
    for table in V2_TABLES:
        conn.execute(f"DROP TABLE {table}")
    conn.execute("UPDATE pausegraph_meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    assert _names(conn, "table") == V1_TABLES and _names(conn, "index") == set()
    conn.close()


def test_schema_1_files_are_migrated_to_the_current_schema(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        cps = save_chain(saver, 4)
        saver.save_writes("t", "", cps[-1].id, [PendingWrite("task", "c", 1)])
    _downgrade_to_schema_1(db)
    with SqliteSaver.from_conn_string(db) as saver:
        saver.setup()
        assert _names(saver.conn, "table") == V1_TABLES | V2_TABLES
        assert _names(saver.conn, "index") == {
            "pausegraph_waiting_by_time",
            "pausegraph_waiting_by_graph",
        }
        version = "SELECT value FROM pausegraph_meta WHERE key = 'schema_version'"
        assert saver.conn.execute(version).fetchone() == (str(_schema.SCHEMA_VERSION),)
        stored = saver.load("t")
        assert stored is not None and stored.checkpoint == cps[-1]
        assert stored.writes == (PendingWrite("task", "c", 1),)
        assert saver.list_waiting().items == ()  # nothing was waiting in the index
        graph = ask_graph(saver)
        graph.invoke({"question": "q"}, config("t2"))
        assert [e.thread_id for e in graph.list_waiting().items] == ["t2"]
        assert saver.acquire_lease("t", "ann", 30) is True
        saver.remember_request("t", "k", cps[-1].id)
        assert saver.recall_request("t", "k") == cps[-1].id


def test_a_schema_1_file_with_a_foreign_table_is_refused_untouched(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE pausegraph_meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO pausegraph_meta VALUES ('schema_version', '1')")
    conn.execute("CREATE TABLE pausegraph_writes (thread_id TEXT, payload BLOB)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with SqliteSaver.from_conn_string(db) as saver, pytest.raises(CorruptCheckpointError) as err:
        saver.setup()
    assert "its table pausegraph_writes has columns (thread_id, payload)" in str(err.value)
    assert db.read_bytes() == before
    with sqlite3.connect(db) as conn:
        assert _names(conn, "table") == {"pausegraph_meta", "pausegraph_writes"}


@pytest.mark.parametrize(
    ("shape", "plan"),
    [
        (
            (False, False, (), True),
            "SCAN pausegraph_waiting USING INDEX pausegraph_waiting_by_time",
        ),
        (
            (False, True, ("text",), True),
            "SEARCH pausegraph_waiting USING INDEX pausegraph_waiting_by_time "
            "((paused_at,thread_id)>(?,?))",
        ),
        (
            (True, True, ("null", "number"), False),
            "SEARCH pausegraph_waiting USING INDEX pausegraph_waiting_by_graph "
            "(graph=? AND (paused_at,thread_id)>(?,?))",
        ),
    ],
)
def test_list_waiting_reads_an_index_in_page_order(db: Path, shape: Any, plan: str) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        saver.setup()
        sql = _query(*shape)
        rows = saver.conn.execute(f"EXPLAIN QUERY PLAN {sql}", [None] * sql.count("?"))
        assert [row[3] for row in rows.fetchall()] == [plan]  # no sort, no table scan


def test_leases_are_shared_by_connections_and_expire_by_the_wall_clock(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as one, SqliteSaver.from_conn_string(db) as two:
        assert one.acquire_lease("t", "ann", 30) is True
        assert two.acquire_lease("t", "bob", 30) is False
        owner, expires = two.conn.execute(
            "SELECT owner, expires_at FROM pausegraph_leases"
        ).fetchone()
        assert owner == "ann" and abs(expires - (time.time() + 30)) < 5
        one.conn.execute("UPDATE pausegraph_leases SET expires_at = ?", (time.time() - 1,))
        assert two.acquire_lease("t", "bob", 30) is True
        one.release_lease("t", "ann")  # not ann's any more: nothing happens
        assert one.acquire_lease("t", "ann", 30) is False


_RACE = """
import sys, time
from pausegraph.checkpoint.sqlite import SqliteSaver
with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
    saver.setup()
    time.sleep(max(0.0, float(sys.argv[3]) - time.time()))
    print(saver.acquire_lease("t", sys.argv[2], 30))
"""


@pytest.mark.slow
def test_one_process_wins_a_lease_race(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        saver.setup()
    results = race(_RACE, str(db))
    assert sorted(results) == ["False"] * 5 + ["True"]
    winner = f"owner-{results.index('True')}"
    with SqliteSaver.from_conn_string(db) as saver:
        assert saver.conn.execute("SELECT owner FROM pausegraph_leases").fetchall() == [(winner,)]


def test_a_lease_on_a_locked_file_is_a_storage_error(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as first:
        first.setup()
        impatient = SqliteSaver(sqlite3.connect(db, timeout=0.05, check_same_thread=False))
        first.conn.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError, match="stayed locked by another connection"):
            impatient.acquire_lease("t", "ann", 30)
        first.conn.execute("ROLLBACK")
        assert impatient.acquire_lease("t", "ann", 30) is True
        impatient.conn.close()


class Notes(TypedDict):
    notes: Annotated[list[str], operator.add]
    count: int


def _notes_graph(saver: Any) -> Any:
    def note(state: Notes) -> dict[str, Any]:
        return {"notes": [f"n{len(state['notes'])}"], "count": len(state["notes"])}

    def route(state: Notes) -> str:
        return "note" if len(state["notes"]) < 6 else END

    builder = StateGraph(Notes)
    builder.add_node("note", note)
    builder.add_edge(START, "note")
    builder.add_conditional_edges("note", route)
    return builder.compile(checkpointer=saver)


def test_prune_deletes_the_rows_of_what_it_deletes(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        graph = _notes_graph(saver)
        graph.invoke({"notes": ["start"], "count": 0}, config("t"))
        graph.invoke({"notes": ["other"], "count": 0}, config("u"))
        state = graph.get_state(config("t"))
        deleted = saver.prune("t", keep_last=1)
        assert deleted > 0
        kept = {
            s.config["configurable"]["checkpoint_id"] for s in graph.get_state_history(config("t"))
        }
        conn = saver.conn
        for table, column in [
            ("pausegraph_blobs", "version"),
            ("pausegraph_writes", "checkpoint_id"),
        ]:
            rows = conn.execute(f"SELECT DISTINCT {column} FROM {table} WHERE thread_id = 't'")
            assert {cid for (cid,) in rows.fetchall()} <= kept, table
        assert graph.get_state(config("t")).values == state.values
        count = "SELECT count(*) FROM pausegraph_checkpoints WHERE thread_id = ?"
        assert conn.execute(count, ("t",)).fetchone() == (len(kept),)
        assert conn.execute(count, ("u",)).fetchone()[0] > len(kept)  # another thread: untouched


def test_a_malformed_waiting_write_is_refused_before_anything_is_written(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        cp = make_checkpoint({"a": 1})
        saver.save(cp)
        bad = [PendingWrite("task", "c", 1), PendingWrite(INBOX_TASK, WAITING, {"graph": "g"})]
        with pytest.raises(ValueError, match=r"'__waiting__' write must carry encode_waiting"):
            saver.save_writes("t", "", cp.id, bad)
        stored = saver.load("t")
        assert stored is not None and stored.writes == ()


_ODD: dict[str, Any] = {
    "n": 1,
    "f": 1.5,
    "no": False,
    "s": '{"q":1}',
    "none": None,
    "big": 2**70,
    "pair": (1, 2),
    "nested": {"k": [1, {"z": None}]},
    "a.b": "dot",
    'q"k': "quote",
    "back\\slash": 2,
    "é": "accent",
    "": "empty",
}


ALL = ["t0", "t1", "t2"]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        *(({k: v}, ALL if v is None else ["t0"]) for k, v in _ODD.items()),
        ({"n": 1.0}, ["t0"]),
        ({"n": True}, ["t0"]),  # Python's True == 1
        ({"no": 0}, ["t0"]),
        ({"n": "1"}, []),
        ({"n": 2}, ["t1"]),
        ({"s": {"q": 1}}, []),  # the string that looks like JSON is a string
        ({"big": 2**70 + 1}, []),
        ({"big": float(2**70)}, ["t0"]),
        ({"pair": [1, 2]}, []),  # the tuple stays a tuple
        ({"nested": {"k": [1, {"z": None}]}, "n": 1}, ["t0"]),
        ({"missing": None}, ALL),
        ({"f": float("nan")}, []),
        ({"a": "dot"}, ["t1"]),
        ({"n": 1, "a.b": "other"}, []),
    ],
    ids=repr,
)
def test_metadata_filters_agree_with_the_memory_saver(
    db: Path, filter: dict[str, Any], expected: list[str]
) -> None:
    memory = InMemorySaver()
    with SqliteSaver.from_conn_string(db) as sqlite:
        for i, meta in enumerate([_ODD, {"n": 2, "a": "dot"}, {}]):
            cp = make_checkpoint({"a": i}, thread=f"t{i}")
            entry = WaitingThread(f"t{i}", cp.id, "g", f"2025-01-0{i + 1}", (), meta)
            for saver in (memory, sqlite):
                saver.save(cp)
                write = PendingWrite(INBOX_TASK, WAITING, encode_waiting(entry))
                saver.save_writes(f"t{i}", "", cp.id, [write])
        for saver in (memory, sqlite):
            assert [e.thread_id for e in saver.list_waiting(metadata=filter).items] == expected
        assert sqlite.list_waiting().items == memory.list_waiting().items


def test_resume_through_a_new_saver_lists_and_clears(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        ask_graph(saver).invoke({"question": "q"}, config("t1", team="x"))
    with SqliteSaver.from_conn_string(db) as saver:
        row = saver.conn.execute("SELECT json_extract(metadata, '$.team') FROM pausegraph_waiting")
        assert row.fetchall() == [("x",)]  # plain JSON: operators can query it too
        graph = ask_graph(saver)
        assert graph.invoke(Command(resume="a"), config("t1")) == {"question": "q", "answer": "a"}
        assert saver.conn.execute("SELECT count(*) FROM pausegraph_waiting").fetchone() == (0,)
