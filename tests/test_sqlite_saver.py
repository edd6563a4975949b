"""Tests for pausegraph.checkpoint.sqlite: the file, its schema, and foreign files.

The saver contract and the capabilities are checked by the conformance suite
(``tests/test_conformance.py``); SQLite's own side of the capabilities is in
``tests/test_sqlite_capabilities.py``.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from typing_extensions import TypedDict

from pausegraph.checkpoint.sqlite import SqliteSaver, _schema
from pausegraph.checkpoint.sqlite._sql import INSERT_BLOB, LATEST, values_query
from pausegraph.errors import CorruptCheckpointError, StorageError
from pausegraph.graph import END, START, StateGraph
from pausegraph.testing import make_checkpoint as make
from pausegraph.testing import save_chain as chain
from pausegraph.types import Command, interrupt


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cp.db"


# -- SQLite storage --------------------------------------------------------------


BIG = "b" * 200  # over INLINE_MAX: a blob row of its own


def test_only_changed_keys_are_stored(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        for i in range(9):  # x changes 9 times, y 3 times
            changes = {"x": f"{i}{BIG}", "y": [i, BIG]} if i % 3 == 0 else {"x": f"{i}{BIG}"}
            saver.save(make(changes, saver.load("t").checkpoint if i else None))  # type: ignore[union-attr]
        rows = saver.conn.execute("SELECT key, count(*) FROM pausegraph_blobs GROUP BY key")
        assert dict(rows.fetchall()) == {"x": 9, "y": 3}


def test_loads_are_primary_key_searches_not_history_scans(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        saver.setup()
        plan = saver.conn.execute(f"EXPLAIN QUERY PLAN {values_query(2)}", ["k"] * 8).fetchall()
        details = " | ".join(row[3] for row in plan)
        assert (
            "SEARCH b USING INDEX sqlite_autoindex_pausegraph_blobs_1 "
            "(thread_id=? AND ns=? AND key=? AND version=?)" in details
        )
        assert (
            "SEARCH c USING INDEX sqlite_autoindex_pausegraph_checkpoints_1 "
            "(thread_id=? AND ns=? AND checkpoint_id=?)" in details
        )
        assert "SCAN b" not in details and "SCAN c" not in details
        plan = saver.conn.execute(f"EXPLAIN QUERY PLAN {LATEST}", ["t", ""]).fetchall()
        assert [row[3] for row in plan] == [
            "SEARCH pausegraph_checkpoints USING INDEX sqlite_autoindex_pausegraph_checkpoints_1 "
            "(thread_id=? AND ns=?)"
        ]


def test_a_missing_blob_is_reported_as_corruption(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        first = make({"x": 0, "y": BIG})
        saver.save(first)
        saver.save(make({"x": 1}, first))
        saver.conn.execute("DELETE FROM pausegraph_blobs WHERE key = 'y'")
        with pytest.raises(
            CorruptCheckpointError, match=f"'y' from checkpoint {first.id!r}"
        ) as err:
            saver.load("t")
        assert "of thread 't'" in str(err.value) and str(db) in str(err.value)
        assert "Restore it from a backup, or delete the thread" in str(err.value)


class _FailingBlobInsert(sqlite3.Connection):
    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == INSERT_BLOB:
            raise sqlite3.OperationalError("disk I/O error")
        return super().execute(sql, *args)


def test_save_is_one_transaction(db: Path) -> None:
    conn = sqlite3.connect(db, factory=_FailingBlobInsert, check_same_thread=False)
    saver = SqliteSaver(conn)
    with pytest.raises(StorageError, match="disk I/O error"):
        saver.save(make({"a": 1, "b": BIG}))  # b needs a blob row
    assert conn.execute("SELECT count(*) FROM pausegraph_checkpoints").fetchone() == (0,)
    conn.close()


def test_a_callers_default_connection_commits_each_save(db: Path) -> None:
    conn = sqlite3.connect(db, check_same_thread=False)  # legacy implicit transactions
    saver = SqliteSaver(conn)  # no setup(): the saver sets itself up on first use
    cp = make({"a": 1})
    saver.save(cp)
    assert not conn.in_transaction
    with SqliteSaver.from_conn_string(db) as other:
        assert other.load("t").checkpoint == cp  # type: ignore[union-attr]
    conn.close()


def test_a_lock_held_too_long_is_a_storage_error(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as first:
        first.setup()
        impatient = SqliteSaver(sqlite3.connect(db, timeout=0.05, check_same_thread=False))
        first.conn.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError, match="stayed locked by another connection"):
            impatient.save(make({"a": 1}))
        first.conn.execute("ROLLBACK")
        impatient.save(make({"a": 1}))
        impatient.conn.close()


def test_a_single_thread_connection_used_from_a_worker_names_the_fix(db: Path) -> None:
    saver = SqliteSaver(sqlite3.connect(db))
    saver.setup()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            saver.save(make({"a": 1}))
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert len(errors) == 1 and isinstance(errors[0], StorageError)
    assert "check_same_thread=False" in str(errors[0])
    saver.conn.close()


def test_setup_is_idempotent_and_uses_wal(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        saver.setup()
        saver.setup()
        assert saver.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert saver.conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        version = "SELECT value FROM pausegraph_meta WHERE key = 'schema_version'"
        assert saver.conn.execute(version).fetchone() == (str(_schema.SCHEMA_VERSION),)


def test_in_memory_database() -> None:
    with SqliteSaver.from_conn_string(":memory:") as saver:
        cps = chain(saver, 4)
        assert saver.load("t").checkpoint == cps[-1]  # type: ignore[union-attr]
        assert saver.list_threads() == ["t"]


def test_from_conn_string_closes_the_connection(db: Path) -> None:
    with SqliteSaver.from_conn_string(str(db)) as saver:
        saver.save(make({"a": 1}))
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        saver.conn.execute("SELECT 1")


def test_the_file_survives_the_process(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        chain(saver, 4)
    script = (
        "import sys\n"
        "from pausegraph.checkpoint.sqlite import SqliteSaver\n"
        "with SqliteSaver.from_conn_string(sys.argv[1]) as saver:\n"
        "    print(dict(saver.load('t').checkpoint.values))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(db)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'x': 3, 'y': [3]}"


def test_a_second_connection_reads_while_the_first_writes(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as first, SqliteSaver.from_conn_string(db) as second:
        cps = chain(first, 2)
        first.conn.execute("BEGIN IMMEDIATE")  # the first holds the write lock
        first.conn.execute("DELETE FROM pausegraph_checkpoints")
        assert second.load("t").checkpoint == cps[-1]  # type: ignore[union-attr]
        first.conn.execute("ROLLBACK")
        later = make({"x": 9}, cps[-1])
        second.save(later)
        assert first.load("t").checkpoint == later  # type: ignore[union-attr]


def test_an_older_schema_is_migrated(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        cp = make({"a": 1})
        saver.save(cp)
    current = _schema.SCHEMA_VERSION
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", current + 1)
    add = "ALTER TABLE pausegraph_checkpoints ADD COLUMN label TEXT"
    monkeypatch.setattr(_schema, "MIGRATIONS", {**_schema.MIGRATIONS, current: [add]})
    table = _schema.TABLES["pausegraph_checkpoints"]
    monkeypatch.setitem(_schema.TABLES, "pausegraph_checkpoints", (*table, ("label", 0)))
    with SqliteSaver.from_conn_string(db) as saver:
        assert saver.load("t").checkpoint == cp  # type: ignore[union-attr]
        version = "SELECT value FROM pausegraph_meta WHERE key = 'schema_version'"
        assert saver.conn.execute(version).fetchone() == (str(current + 1),)
        columns = saver.conn.execute("PRAGMA table_info(pausegraph_checkpoints)").fetchall()
        assert columns[-1][1] == "label"


# -- foreign, damaged and newer files --------------------------------------------


def _refused(path: Path, match: str) -> CorruptCheckpointError:
    before = path.read_bytes()
    with SqliteSaver.from_conn_string(path) as saver, pytest.raises(CorruptCheckpointError) as err:
        saver.load("t")
    assert path.read_bytes() == before
    assert str(path) in str(err.value)
    assert match in str(err.value)
    return err.value


def test_a_text_file_is_refused_untouched(db: Path) -> None:
    db.write_text("name,value\n" * 200)
    _refused(db, "file is not a database")


def test_a_pausegraph_table_of_another_shape_is_refused_untouched(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE pausegraph_meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO pausegraph_meta VALUES ('schema_version', '1')")
    conn.execute("CREATE TABLE pausegraph_checkpoints (thread_id TEXT, checkpoint BLOB)")
    conn.commit()
    conn.close()
    _refused(db, "pausegraph_checkpoints has columns (thread_id, checkpoint)")


def test_a_newer_schema_is_refused_untouched(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        saver.setup()
        saver.conn.execute("UPDATE pausegraph_meta SET value = '99'")
    _refused(
        db,
        f"written by a newer pausegraph (schema 99, this one reads {_schema.SCHEMA_VERSION}): upgrade pausegraph",
    )


def test_other_tables_such_as_langgraphs_are_left_alone(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE checkpoints (thread_id TEXT, checkpoint BLOB, metadata BLOB)")
    conn.execute("INSERT INTO checkpoints VALUES ('t', x'00', x'01')")
    conn.commit()
    conn.close()
    with SqliteSaver.from_conn_string(db) as saver:
        cp = make({"a": 1})
        saver.save(cp)
        assert saver.load("t").checkpoint == cp  # type: ignore[union-attr]
        rows = saver.conn.execute("SELECT thread_id FROM checkpoints").fetchall()
        assert rows == [("t",)]


# -- a graph across savers ---------------------------------------------------------


class Question(TypedDict):
    input: str


def _ask(state: Question) -> dict[str, Any]:
    return {"input": interrupt("q?")}


def test_a_graph_pauses_and_resumes_on_another_saver(db: Path) -> None:
    builder = StateGraph(Question)
    builder.add_node("ask", _ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    config: Any = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(db) as saver:
        paused = builder.compile(checkpointer=saver).invoke({"input": "x"}, config)
    assert paused["__interrupt__"][0].value == "q?"
    with SqliteSaver.from_conn_string(db) as saver:
        graph = builder.compile(checkpointer=saver)
        assert graph.get_state(config).next == ("ask",)
        (waiting,) = graph.list_waiting().items
        assert (waiting.thread_id, waiting.interrupts[0].value) == ("t", "q?")
        assert graph.invoke(Command(resume="yes"), config) == {"input": "yes"}
        assert graph.get_state(config).values == {"input": "yes"}
        assert [(s.metadata or {}).get("source") for s in graph.get_state_history(config)] == [
            "loop",
            "loop",
            "input",
        ]
        assert graph.list_waiting().items == ()
