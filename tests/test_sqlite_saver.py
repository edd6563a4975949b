"""Tests for pausegraph.checkpoint.sqlite: the saver contract, the file, and foreign files.

Contract tests run on the SQLite saver and on :class:`InMemorySaver`, the reference
it must mirror; file tests run on SQLite alone.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from typing_extensions import TypedDict

from pausegraph.checkpoint._records import Checkpoint, PendingWrite, TaskRef, new_checkpoint_id
from pausegraph.checkpoint.base import BaseCheckpointSaver
from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.checkpoint.sqlite import SqliteSaver, _schema
from pausegraph.checkpoint.sqlite._sql import INSERT_BLOB, LATEST, blob_query
from pausegraph.errors import CorruptCheckpointError, StorageError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt

NOW = "2025-01-01T00:00:00+00:00"


def make(
    changes: Mapping[str, Any],
    base: Checkpoint | None = None,
    *,
    thread: str = "t",
    ns: str = "",
    source: Any = "loop",
    metadata: Mapping[str, Any] | None = None,
) -> Checkpoint:
    """A checkpoint after ``base`` that changes only ``changes``."""
    cid = new_checkpoint_id()
    values = dict(base.values) if base else {}
    versions = dict(base.versions) if base else {}
    for key, value in changes.items():
        values[key], versions[key] = value, cid
    return Checkpoint(
        thread_id=thread,
        ns=ns,
        id=cid,
        parent_id=base.id if base else None,
        step=base.step + 1 if base else -1,
        source=source,
        created_at=NOW,
        values=values,
        versions=versions,
        frontier=(TaskRef("a"), TaskRef("b", True, {"i": (1, 2)}), TaskRef("c", False, "in")),
        barriers={"0": ("a", "b")},
        metadata=dict(metadata or {}),
        writers=("a",),
    )


def chain(saver: BaseCheckpointSaver, n: int, **kw: Any) -> list[Checkpoint]:
    """Saves ``n`` checkpoints; each changes ``x``, every third also ``y``."""
    out: list[Checkpoint] = []
    for i in range(n):
        changes = {"x": i, "y": [i]} if i % 3 == 0 else {"x": i}
        out.append(make(changes, out[-1] if out else None, **kw))
        saver.save(out[-1])
    return out


@pytest.fixture(params=["sqlite", "memory"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseCheckpointSaver]:
    if request.param == "memory":
        yield InMemorySaver()
        return
    with SqliteSaver.from_conn_string(tmp_path / "cp.db") as sqlite_saver:
        yield sqlite_saver


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cp.db"


# -- the contract, on both savers ----------------------------------------------


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
    first = make({f"k{i}": i for i in range(450)})  # more keys than one SQLite lookup takes
    second = make({"k7": "seven"}, first)
    saver.save(first)
    saver.save(second)
    assert saver.load("t").checkpoint.values == {**first.values, "k7": "seven"}  # type: ignore[union-attr]


def test_load_of_unknown_thread_or_checkpoint_is_none(saver: BaseCheckpointSaver) -> None:
    cp = make({"a": 1})
    saver.save(cp)
    assert saver.load("other") is None
    assert saver.load("t", "sub:1") is None
    assert saver.load("t", "", new_checkpoint_id()) is None


def test_namespaces_are_separate(saver: BaseCheckpointSaver) -> None:
    root, sub = make({"a": 1}), make({"a": 2}, ns="sub:1")
    saver.save(root)
    saver.save(sub)
    assert saver.load("t").checkpoint == root  # type: ignore[union-attr]
    assert saver.load("t", "sub:1").checkpoint == sub  # type: ignore[union-attr]


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


def test_writes_for_a_missing_checkpoint_are_refused(saver: BaseCheckpointSaver) -> None:
    cp = make({"a": 1})
    saver.save(cp)
    missing = new_checkpoint_id()
    for writes in ([PendingWrite("t1", "__writes__", [])], []):
        with pytest.raises(CorruptCheckpointError, match=f"{missing!r}.*does not exist"):
            saver.save_writes("t", "", missing, writes)
    saver.save_writes("t", "", cp.id, [])  # an existing checkpoint: a no-op
    assert saver.load("t").writes == ()  # type: ignore[union-attr]


def test_history_is_newest_first_with_before_limit_and_paging(saver: BaseCheckpointSaver) -> None:
    cps = chain(saver, 70)  # more than one page of the SQLite saver
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
    cps = chain(saver, 40)
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
    chain(saver, 3)
    sub = chain(saver, 2, ns="sub:1")
    saver.save_writes("t", "sub:1", sub[-1].id, [PendingWrite("t1", "__writes__", [])])
    kept = chain(saver, 2, thread="u")
    saver.delete_thread("t")
    assert saver.load("t") is None and saver.load("t", "sub:1") is None
    assert list(saver.history("t")) == []
    assert saver.load("u").checkpoint == kept[-1]  # type: ignore[union-attr]
    saver.delete_thread("never-existed")


def test_concurrent_writes_from_worker_threads(saver: BaseCheckpointSaver) -> None:
    cp = make({"a": 1})
    saver.save(cp)

    def work(n: int) -> None:
        for i in range(25):
            saver.save_writes("t", "", cp.id, [PendingWrite(f"task{n}-{i}", "__writes__", i)])

    workers = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stored = saver.load("t")
    assert stored is not None and len(stored.writes) == 200


async def test_async_twins(saver: BaseCheckpointSaver) -> None:
    cps = chain(saver, 2)
    await saver.asave_writes("t", "", cps[-1].id, [PendingWrite("t1", "c", 1)])
    stored = await saver.aload("t")
    assert stored is not None and stored.checkpoint == cps[-1] and len(stored.writes) == 1
    assert [s.checkpoint.id async for s in saver.ahistory("t")] == [cps[1].id, cps[0].id]
    await saver.adelete_thread("t")
    assert await saver.aload("t") is None


# -- SQLite storage --------------------------------------------------------------


def test_only_changed_keys_are_stored(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        chain(saver, 9)  # x changes 9 times, y 3 times
        rows = saver.conn.execute("SELECT key, count(*) FROM pausegraph_blobs GROUP BY key")
        assert dict(rows.fetchall()) == {"x": 9, "y": 3}


def test_loads_are_primary_key_searches_not_history_scans(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        saver.setup()
        plan = saver.conn.execute(f"EXPLAIN QUERY PLAN {blob_query(2)}", ["k"] * 6).fetchall()
        details = " | ".join(row[3] for row in plan)
        assert (
            "SEARCH b USING PRIMARY KEY (thread_id=? AND ns=? AND key=? AND version=?)" in details
        )
        plan = saver.conn.execute(f"EXPLAIN QUERY PLAN {LATEST}", ["t", ""]).fetchall()
        assert [row[3] for row in plan] == [
            "SEARCH pausegraph_checkpoints USING PRIMARY KEY (thread_id=? AND ns=?)"
        ]


def test_a_missing_blob_is_reported_as_corruption(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        cps = chain(saver, 2)
        saver.conn.execute("DELETE FROM pausegraph_blobs WHERE key = 'y'")
        with pytest.raises(CorruptCheckpointError, match=f"'y' from checkpoint {cps[0].id!r}"):
            saver.load("t")


class _FailingBlobInsert(sqlite3.Connection):
    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == INSERT_BLOB:
            raise sqlite3.OperationalError("disk I/O error")
        return super().execute(sql, *args)


def test_save_is_one_transaction(db: Path) -> None:
    conn = sqlite3.connect(db, factory=_FailingBlobInsert, check_same_thread=False)
    saver = SqliteSaver(conn)
    with pytest.raises(StorageError, match="disk I/O error"):
        saver.save(make({"a": 1}))
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
        assert saver.conn.execute(version).fetchone() == ("1",)


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
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", 2)
    add = "ALTER TABLE pausegraph_checkpoints ADD COLUMN label TEXT"
    monkeypatch.setattr(_schema, "MIGRATIONS", {1: [add]})
    table = _schema.TABLES["pausegraph_checkpoints"]
    monkeypatch.setitem(_schema.TABLES, "pausegraph_checkpoints", (*table, ("label", 0)))
    with SqliteSaver.from_conn_string(db) as saver:
        assert saver.load("t").checkpoint == cp  # type: ignore[union-attr]
        version = "SELECT value FROM pausegraph_meta WHERE key = 'schema_version'"
        assert saver.conn.execute(version).fetchone() == ("2",)
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
    _refused(db, "written by a newer pausegraph (schema 99, this one reads 1): upgrade pausegraph")


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
        assert graph.invoke(Command(resume="yes"), config) == {"input": "yes"}
        assert graph.get_state(config).values == {"input": "yes"}
        assert [(s.metadata or {}).get("source") for s in graph.get_state_history(config)] == [
            "loop",
            "loop",
            "input",
        ]
