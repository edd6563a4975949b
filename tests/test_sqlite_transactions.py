"""SQLite's own risks around its transactions: locked files, failed commits, and writes that
must stay all-or-nothing when several connections (or processes) share a file.

What every saver shares (folded leases, batches) is checked by the conformance suite.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _savers import race
from pausegraph.checkpoint._records import PendingWrite, StoredCheckpoint
from pausegraph.checkpoint.capabilities import BatchedWrites, FoldedLeases, SaveItem, WritesItem
from pausegraph.checkpoint.sqlite import SqliteSaver
from pausegraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from pausegraph.errors import CorruptCheckpointError, SerializationError, StorageError
from pausegraph.testing import make_checkpoint


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "cp.db"
    with SqliteSaver.from_conn_string(path) as saver:
        saver.setup()
    yield path


def _impatient(db: Path) -> SqliteSaver:
    """A saver that waits 50 ms for a lock (the tests never depend on how long)."""
    conn = sqlite3.connect(db, timeout=0.05, isolation_level=None, check_same_thread=False)
    return SqliteSaver(conn)


def test_a_commit_that_fails_rolls_back_instead_of_lingering(db: Path) -> None:
    saver = _impatient(db)
    saver.setup()
    # In rollback-journal mode a commit waits for readers to leave: a reader that
    # stays makes COMMIT itself fail, after every statement of the save succeeded.
    saver.conn.execute("PRAGMA journal_mode=DELETE")
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM pausegraph_checkpoints").fetchone()
    first = make_checkpoint({"a": 1}, thread="t")
    with pytest.raises(StorageError, match="stayed locked"):
        saver.save(first)
    assert not saver.conn.in_transaction  # else the next call would join, and commit, it
    reader.execute("ROLLBACK")
    assert saver.load("t") is None  # the save that failed left nothing behind
    saver.save(first)
    stored = saver.load("t")
    assert stored is not None and stored.checkpoint.values == {"a": 1}
    reader.close()
    saver.conn.close()


def test_both_savers_fold_leases_and_batch_writes(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        assert isinstance(saver, FoldedLeases) and isinstance(saver, BatchedWrites)
        aio = AsyncSqliteSaver(saver.conn)
        assert isinstance(aio, FoldedLeases) and isinstance(aio, BatchedWrites)


# -- folded leases across connections ----------------------------------------------------


def test_two_connections_race_for_a_lease_with_their_loads(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as one, SqliteSaver.from_conn_string(db) as two:
        first = make_checkpoint({"a": 1}, thread="t")
        one.save(first)
        taken, loaded = one.load_leased("t", "", None, "ann", 30)
        assert taken is True and loaded is not None and loaded.checkpoint.id == first.id
        assert two.load_leased("t", "", None, "bob", 30) == (False, None)
        second = make_checkpoint({"a": 2}, first, thread="t")
        one.save_released(second, [PendingWrite("task", "a", 2)], "ann")
        taken, loaded = two.load_leased("t", "", None, "bob", 30)  # sees ann's last save
        assert taken is True and loaded is not None
        assert loaded.checkpoint.id == second.id and loaded.checkpoint.values == {"a": 2}
        assert one.load_leased("t", "", None, "ann", 30) == (False, None)


def test_a_leased_load_waits_for_the_writer_and_sees_its_commit(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as holder, SqliteSaver.from_conn_string(db) as waiter:
        first = make_checkpoint({"a": 1}, thread="t")
        holder.save(first)
        second = make_checkpoint({"a": 2}, first, thread="t")
        begun = threading.Event()
        waiter.conn.set_trace_callback(lambda sql: begun.set() if "IMMEDIATE" in sql else None)
        holder.conn.execute("BEGIN IMMEDIATE")  # the previous holder's last write, under way
        out: list[tuple[bool, StoredCheckpoint | None]] = []
        racer = threading.Thread(
            target=lambda: out.append(waiter.load_leased("t", "", None, "bob", 30))
        )
        racer.start()
        assert begun.wait(10)  # the waiter's BEGIN IMMEDIATE runs (and waits for the lock)
        holder.save_released(second, [], "ann")  # joins the open transaction, commits it
        racer.join(10)
        ((taken, loaded),) = out
        assert taken is True and loaded is not None and loaded.checkpoint.id == second.id


def test_a_leased_load_on_a_locked_file_takes_nothing(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as holder:
        impatient = _impatient(db)
        holder.conn.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError, match="stayed locked by another connection"):
            impatient.load_leased("t", "", None, "ann", 30)
        holder.conn.execute("ROLLBACK")
        assert holder.acquire_lease("t", "bob", 30) is True  # ann never got it
        assert impatient.load_leased("t", "", None, "ann", 30) == (False, None)
        impatient.conn.close()


def test_a_damaged_checkpoint_fails_the_leased_load_and_leaves_the_lease(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        saver.save(make_checkpoint({"a": "a" * 200}, thread="t"))  # too big to keep inline
        saver.conn.execute("DELETE FROM pausegraph_blobs")
        with pytest.raises(CorruptCheckpointError, match="needs the value of 'a'"):
            saver.load_leased("t", "", None, "ann", 30)
        assert saver.acquire_lease("t", "bob", 30) is True  # all or nothing: not taken


_RACE = """
import sys, time
from pausegraph.checkpoint.sqlite import SqliteSaver
with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
    saver.setup()
    time.sleep(max(0.0, float(sys.argv[3]) - time.time()))
    taken, loaded = saver.load_leased("t", "", None, sys.argv[2], 30)
    print(taken, None if loaded is None else loaded.checkpoint.values["a"])
"""


@pytest.mark.slow
def test_one_process_wins_a_leased_load_race_and_loads(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        saver.save(make_checkpoint({"a": 7}, thread="t"))
    results = race(_RACE, str(db))
    assert sorted(results) == ["False None"] * 5 + ["True 7"]
    winner = f"owner-{results.index('True 7')}"
    with SqliteSaver.from_conn_string(db) as saver:
        assert saver.conn.execute("SELECT owner FROM pausegraph_leases").fetchall() == [(winner,)]


# -- batches and last writes: all or nothing ---------------------------------------------


def _stored(saver: SqliteSaver) -> dict[str, int]:
    tables = ("checkpoints", "blobs", "writes", "waiting", "leases")
    return {
        t: saver.conn.execute(f"SELECT count(*) FROM pausegraph_{t}").fetchone()[0] for t in tables
    }


def test_a_batch_that_fails_midway_leaves_nothing(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        first = make_checkpoint({"a": 1}, thread="t")
        saver.save(first)
        assert saver.load_leased("t", "", None, "ann", 30)[0] is True
        before = _stored(saver)
        second = make_checkpoint({"a": 2}, first, thread="t")
        third = make_checkpoint({"a": 3}, second, thread="t")
        batch = [
            SaveItem(second, [PendingWrite("task", "a", 2)]),
            WritesItem("t", "", second.id, [PendingWrite("task", "b", 1)]),
            WritesItem("t", "", "nope", [PendingWrite("task", "c", 1)]),
            SaveItem(third, []),
        ]
        with pytest.raises(CorruptCheckpointError, match="'nope' of thread 't'"):
            saver.write_batch(batch, final=True, release="ann")
        assert _stored(saver) == before  # nothing of the batch, and the lease still held
        assert saver.acquire_lease("t", "bob", 30) is False
        stored = saver.load("t")
        assert stored is not None and stored.checkpoint.id == first.id and stored.writes == ()
        saver.write_batch([batch[0], batch[1], batch[3]], release="ann")  # without the bad item
        assert [c.checkpoint.id for c in saver.history("t")] == [third.id, second.id, first.id]
        assert saver.acquire_lease("t", "bob", 30) is True


def test_a_batch_with_an_unstorable_item_is_refused_before_anything_is_written(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        first = make_checkpoint({"a": 1}, thread="t")
        saver.save(first)
        before = _stored(saver)
        second = make_checkpoint({"a": 2}, first, thread="t")
        bad_value = WritesItem("t", "", first.id, [PendingWrite("task", "b", object())])
        with pytest.raises(SerializationError, match="type builtins"):
            saver.write_batch([SaveItem(second, []), bad_value])
        bad_item: Any = (second, [])  # a plain tuple, not a SaveItem
        with pytest.raises(TypeError, match="got tuple"):
            saver.write_batch([SaveItem(second, []), bad_item])
        with pytest.raises(ValueError, match="the batch is empty"):
            saver.write_batch([], release="ann")
        saver.write_batch([])  # nothing to store, nothing to give back
        assert _stored(saver) == before


def test_a_last_write_to_a_missing_checkpoint_keeps_the_lease(db: Path) -> None:
    with SqliteSaver.from_conn_string(db) as saver:
        assert saver.load_leased("t", "", None, "ann", 30) == (True, None)
        with pytest.raises(CorruptCheckpointError, match="'nope' of thread 't'"):
            saver.save_writes_released("t", "", "nope", [PendingWrite("x", "a", 1)], "ann")
        assert saver.acquire_lease("t", "bob", 30) is False  # the run gives it back on its own
        saver.release_lease("t", "ann")
        assert saver.acquire_lease("t", "bob", 30) is True
