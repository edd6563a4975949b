"""The statements the SQLite saver runs, and its transaction helpers.

Statement texts are constants (the blob lookup has one text per number of
keys), so ``sqlite3``'s per-connection statement cache prepares each once.
Every lookup is an index search on a primary key (the waiting index's on its
own indexes); none scans a thread's history. Only pruning reads a thread's
checkpoint ids, once per namespace.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache

__all__ = [
    "ACQUIRE_LEASE",
    "BLOBS",
    "CHECKPOINTS",
    "CHECKPOINT_EXISTS",
    "DELETE_CHECKPOINT",
    "DELETE_ORPHAN_BLOBS",
    "DELETE_THREAD",
    "DELETE_WAITING",
    "DELETE_WRITES_OF",
    "HISTORY",
    "HISTORY_BEFORE",
    "IDS",
    "INSERT_BLOB",
    "INSERT_CHECKPOINT",
    "LATEST",
    "LEASES",
    "LIST_THREADS",
    "MAX_PAIRS",
    "META",
    "NAMESPACES",
    "ONE",
    "RECALL_REQUEST",
    "RELEASE_LEASE",
    "REMEMBER_REQUEST",
    "REQUESTS",
    "UPSERT_WAITING",
    "UPSERT_WRITE",
    "WAITING",
    "WRITES",
    "WRITES_OF",
    "begin",
    "commit",
    "rollback",
    "values_query",
]

META = "pausegraph_meta"
CHECKPOINTS = "pausegraph_checkpoints"
BLOBS = "pausegraph_blobs"
WRITES = "pausegraph_writes"
WAITING = "pausegraph_waiting"
LEASES = "pausegraph_leases"
REQUESTS = "pausegraph_requests"

# -- checkpoints ---------------------------------------------------------------

INSERT_CHECKPOINT = (
    f"INSERT OR REPLACE INTO {CHECKPOINTS} "
    "(thread_id, ns, checkpoint_id, parent_id, step, source, created_at, header) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_BLOB = (
    f"INSERT OR REPLACE INTO {BLOBS} (thread_id, ns, key, version, value) VALUES (?, ?, ?, ?, ?)"
)
LATEST = (
    f"SELECT checkpoint_id, header FROM {CHECKPOINTS} WHERE thread_id = ? AND ns = ? "
    "ORDER BY checkpoint_id DESC LIMIT 1"
)
ONE = (
    f"SELECT checkpoint_id, header FROM {CHECKPOINTS} "
    "WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?"
)
HISTORY = (
    f"SELECT checkpoint_id, header FROM {CHECKPOINTS} WHERE thread_id = ? AND ns = ? "
    "ORDER BY checkpoint_id DESC LIMIT ?"
)
HISTORY_BEFORE = (
    f"SELECT checkpoint_id, header FROM {CHECKPOINTS} "
    "WHERE thread_id = ? AND ns = ? AND checkpoint_id < ? ORDER BY checkpoint_id DESC LIMIT ?"
)
CHECKPOINT_EXISTS = (
    f"SELECT 1 FROM {CHECKPOINTS} WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?"
)
LIST_THREADS = f"SELECT DISTINCT thread_id FROM {CHECKPOINTS} ORDER BY thread_id"

# -- pending writes --------------------------------------------------------------

# Inserts only when the checkpoint exists (the statement then changes no row), and
# keeps the first write's rowid on replace so reads return first-write order.
UPSERT_WRITE = (
    f"INSERT INTO {WRITES} (thread_id, ns, checkpoint_id, task_id, channel, value) "
    "SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS "
    f"(SELECT 1 FROM {CHECKPOINTS} WHERE thread_id = ?1 AND ns = ?2 AND checkpoint_id = ?3) "
    "ON CONFLICT (thread_id, ns, checkpoint_id, task_id, channel) "
    "DO UPDATE SET value = excluded.value"
)
WRITES_OF = (
    f"SELECT task_id, channel, value FROM {WRITES} "
    "WHERE thread_id = ? AND ns = ? AND checkpoint_id = ? ORDER BY rowid"
)

# Leases stay: a run that deletes its own thread still holds the thread's lease.
DELETE_THREAD = tuple(
    f"DELETE FROM {table} WHERE thread_id = ?"
    for table in (WRITES, BLOBS, CHECKPOINTS, WAITING, REQUESTS)
)

# -- the waiting index, leases, request log ----------------------------------------

UPSERT_WAITING = (
    f"INSERT OR REPLACE INTO {WAITING} "
    "(thread_id, checkpoint_id, graph, paused_at, metadata, entry) VALUES (?, ?, ?, ?, ?, ?)"
)
DELETE_WAITING = f"DELETE FROM {WAITING} WHERE thread_id = ?"

# Takes a free or expired lease, or renews the caller's own: the conflict
# update's WHERE leaves another owner's live lease alone (the statement then
# changes no row). One statement, so two processes cannot both win.
ACQUIRE_LEASE = (
    f"INSERT INTO {LEASES} (thread_id, owner, expires_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (thread_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
    f"WHERE {LEASES}.owner = excluded.owner OR {LEASES}.expires_at <= ?4"
)
RELEASE_LEASE = f"DELETE FROM {LEASES} WHERE thread_id = ? AND owner = ?"

REMEMBER_REQUEST = (
    f"INSERT INTO {REQUESTS} (thread_id, key, checkpoint_id) VALUES (?, ?, ?) "
    "ON CONFLICT (thread_id, key) DO NOTHING"
)
RECALL_REQUEST = f"SELECT checkpoint_id FROM {REQUESTS} WHERE thread_id = ? AND key = ?"

# -- pruning -------------------------------------------------------------------------

NAMESPACES = f"SELECT DISTINCT ns FROM {CHECKPOINTS} WHERE thread_id = ?"
IDS = f"SELECT checkpoint_id FROM {CHECKPOINTS} WHERE thread_id = ? AND ns = ?"
DELETE_CHECKPOINT = (
    f"DELETE FROM {CHECKPOINTS} WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?"
)
DELETE_WRITES_OF = f"DELETE FROM {WRITES} WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?"
# A blob's version is the checkpoint that wrote it (or, for an appended chunk,
# the snapshot it extends), so blobs whose checkpoint is gone are unreachable.
DELETE_ORPHAN_BLOBS = (
    f"DELETE FROM {BLOBS} WHERE thread_id = ?1 AND ns = ?2 AND NOT EXISTS "
    f"(SELECT 1 FROM {CHECKPOINTS} AS c "
    f"WHERE c.thread_id = ?1 AND c.ns = ?2 AND c.checkpoint_id = {BLOBS}.version)"
)

# -- values ----------------------------------------------------------------------

MAX_PAIRS = 200
"""Most ``(key, version)`` pairs per value lookup (SQLite limits bound parameters)."""


@lru_cache(maxsize=MAX_PAIRS)
def values_query(pairs: int) -> str:
    """The lookup of ``pairs`` values of one thread and namespace, and of rows holding them.

    Parameters: ``thread_id, ns``, then ``key, version, fetch`` per pair.
    Returns ``(key, version, value)`` for each pair that has a blob row, and
    ``(NULL, checkpoint_id, header)`` for the checkpoint row ``version`` of
    each pair whose ``fetch`` is 1 (the row that may keep the value inline;
    the caller asks for each row once). The constant rows drive a
    primary-key search per pair. (The plainer ``(key, version) IN (VALUES
    ...)`` makes SQLite scan the whole thread.)
    """
    rows = ", ".join(f"(?{i}, ?{i + 1}, ?{i + 2})" for i in range(3, 3 * pairs + 3, 3))
    return (
        f"WITH v(key, version, fetch) AS (VALUES {rows}) "
        f"SELECT b.key, b.version, b.value FROM v CROSS JOIN {BLOBS} AS b "
        "ON b.thread_id = ?1 AND b.ns = ?2 AND b.key = v.key AND b.version = v.version "
        f"UNION ALL SELECT NULL, c.checkpoint_id, c.header FROM v CROSS JOIN {CHECKPOINTS} AS c "
        "ON c.thread_id = ?1 AND c.ns = ?2 AND c.checkpoint_id = v.version WHERE v.fetch"
    )


# -- transactions ----------------------------------------------------------------


def begin(
    conn: sqlite3.Connection, statement: str = "BEGIN", *, grouped: bool = False
) -> bool | None:
    """Open a transaction unless one is open; ``True`` when this call opened it.

    A transaction is already open when the caller left one uncommitted, or
    always under Python 3.12's ``autocommit=False``; the work then joins it
    (``False``: committing commits the caller's transaction too). ``grouped``
    says the saver runs the work inside a transaction of its own that spans
    several calls (``SqliteSaver._together``): ``None``, the work neither
    commits nor rolls back, the group does.
    """
    if conn.in_transaction:
        return None if grouped else False
    conn.execute(statement)
    return True


def commit(conn: sqlite3.Connection, own: bool | None) -> None:
    """Commit what :func:`begin` opened (or the joined transaction; not a group's)."""
    if own:
        conn.execute("COMMIT")  # not conn.commit(): a no-op under autocommit=True
    elif own is not None:
        conn.commit()


def rollback(conn: sqlite3.Connection, own: bool | None) -> None:
    """Undo the transaction, if SQLite has not already done so (a group undoes its own)."""
    if own is None or not conn.in_transaction:
        return
    if own:
        conn.execute("ROLLBACK")
    else:
        conn.rollback()
