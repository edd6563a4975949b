"""SQLite's own risks around its transactions: locked files, failed commits, and writes that
must stay all-or-nothing when several connections (or processes) share a file.

What every saver shares (folded leases, batches) is checked by the conformance suite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from pausegraph.checkpoint.sqlite import SqliteSaver
from pausegraph.errors import StorageError
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
