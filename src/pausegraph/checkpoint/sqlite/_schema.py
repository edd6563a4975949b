"""The SQLite schema: tables, its version, and the checks run before touching a file.

Every table is prefixed ``pausegraph_`` so a file can also hold LangGraph's
``checkpoints``/``writes`` tables (or anything else) without a clash.
``pausegraph_meta`` records the schema version: a newer pausegraph migrates an
older file forward (``MIGRATIONS``), and an older pausegraph refuses a newer
file instead of misreading it.

The checks only read. A file that is not SQLite, or whose ``pausegraph_``
tables have another shape, is refused before anything is written to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence

from pausegraph.checkpoint.sqlite._errors import refuse_unreadable, storage_error
from pausegraph.checkpoint.sqlite._sql import (
    BLOBS,
    CHECKPOINTS,
    LEASES,
    META,
    REQUESTS,
    WAITING,
    WRITES,
    begin,
    commit,
    rollback,
)
from pausegraph.errors import CorruptCheckpointError, StorageError

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "TABLES",
    "database_path",
    "ensure_schema",
]

SCHEMA_VERSION = 4
"""Version of the tables below; bump it and add a migration when they change.

1. Checkpoints, blobs and writes.
2. The waiting index, thread leases and the request log.
3. Checkpoints and blobs become rowid tables: in a ``WITHOUT ROWID`` table a
   row over about 1 KB spills into an overflow page of its own, so 1 KB values
   took 4.6 KB each.
4. A checkpoint's ``header`` also keeps the values it wrote that serialize to
   at most 128 bytes (``[header fields, {key: value}]``, see
   :mod:`pausegraph.checkpoint._inline`); only larger values and appended
   chunks get blob rows. A step with small values then writes one row, and
   its commit two pages instead of four to six. The tables keep their shape
   and the migration rewrites nothing: older rows (a bare header, every value
   a blob) load as they are. The version says that a file may hold the new
   rows, so that an older pausegraph refuses it instead of misreading them.
"""

_CREATE: Mapping[str, str] = {
    META: f"""CREATE TABLE IF NOT EXISTS {META} (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    ) WITHOUT ROWID""",
    # The primary key makes "newest checkpoint" and history index range scans.
    # ``header`` holds the header fields and the small values the checkpoint
    # wrote (schema 4; older rows: the header fields alone).
    CHECKPOINTS: f"""CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (
        thread_id TEXT NOT NULL,
        ns TEXT NOT NULL,
        checkpoint_id TEXT NOT NULL,
        parent_id TEXT,
        step INTEGER NOT NULL,
        source TEXT NOT NULL,
        created_at TEXT NOT NULL,
        header BLOB NOT NULL,
        PRIMARY KEY (thread_id, ns, checkpoint_id)
    )""",
    # One row per value a checkpoint changed that is too large to keep in its
    # row, and per appended chunk; ``version`` is that checkpoint's id (a
    # chunk's: the snapshot's it extends).
    # Rowid tables (the primary key is a separate small index), so large values
    # are stored inline in the table's pages instead of overflow pages.
    BLOBS: f"""CREATE TABLE IF NOT EXISTS {BLOBS} (
        thread_id TEXT NOT NULL,
        ns TEXT NOT NULL,
        key TEXT NOT NULL,
        version TEXT NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (thread_id, ns, key, version)
    )""",
    # A rowid table on purpose: an upsert keeps the rowid, so ``ORDER BY rowid``
    # returns writes in first-write order, as the in-memory saver does.
    WRITES: f"""CREATE TABLE IF NOT EXISTS {WRITES} (
        thread_id TEXT NOT NULL,
        ns TEXT NOT NULL,
        checkpoint_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (thread_id, ns, checkpoint_id, task_id, channel)
    )""",
    # One row per thread that waits for a person. ``entry`` is the serialized
    # index entry; the other columns exist to filter and order in SQL
    # (``metadata`` is JSON text for ``json_extract``).
    WAITING: f"""CREATE TABLE IF NOT EXISTS {WAITING} (
        thread_id TEXT PRIMARY KEY NOT NULL,
        checkpoint_id TEXT NOT NULL,
        graph TEXT NOT NULL,
        paused_at TEXT NOT NULL,
        metadata TEXT NOT NULL,
        entry BLOB NOT NULL
    ) WITHOUT ROWID""",
    # ``expires_at`` is wall-clock (``time.time()``): processes share it.
    LEASES: f"""CREATE TABLE IF NOT EXISTS {LEASES} (
        thread_id TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        expires_at REAL NOT NULL
    ) WITHOUT ROWID""",
    REQUESTS: f"""CREATE TABLE IF NOT EXISTS {REQUESTS} (
        thread_id TEXT NOT NULL,
        key TEXT NOT NULL,
        checkpoint_id TEXT NOT NULL,
        PRIMARY KEY (thread_id, key)
    ) WITHOUT ROWID""",
}

_INDEXES: Sequence[str] = (
    # list_waiting() pages by (paused_at, thread_id), with or without a graph.
    f"CREATE INDEX IF NOT EXISTS {WAITING}_by_time ON {WAITING} (paused_at, thread_id)",
    f"CREATE INDEX IF NOT EXISTS {WAITING}_by_graph ON {WAITING} (graph, paused_at, thread_id)",
)

TABLES: Mapping[str, tuple[tuple[str, int], ...]] = {
    META: (("key", 1), ("value", 0)),
    CHECKPOINTS: (
        ("thread_id", 1),
        ("ns", 2),
        ("checkpoint_id", 3),
        ("parent_id", 0),
        ("step", 0),
        ("source", 0),
        ("created_at", 0),
        ("header", 0),
    ),
    BLOBS: (("thread_id", 1), ("ns", 2), ("key", 3), ("version", 4), ("value", 0)),
    WRITES: (
        ("thread_id", 1),
        ("ns", 2),
        ("checkpoint_id", 3),
        ("task_id", 4),
        ("channel", 5),
        ("value", 0),
    ),
    WAITING: (
        ("thread_id", 1),
        ("checkpoint_id", 0),
        ("graph", 0),
        ("paused_at", 0),
        ("metadata", 0),
        ("entry", 0),
    ),
    LEASES: (("thread_id", 1), ("owner", 0), ("expires_at", 0)),
    REQUESTS: (("thread_id", 1), ("key", 2), ("checkpoint_id", 0)),
}
"""Each table's columns as ``(name, position in the primary key or 0)``."""

Migration = str | Callable[[sqlite3.Connection], None]


def _as_rowid_tables(conn: sqlite3.Connection) -> None:
    """Schema 2 to 3: rebuild checkpoints and blobs as rowid tables, keeping their rows."""
    for table in (CHECKPOINTS, BLOBS):
        row = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        if row is None or "WITHOUT ROWID" not in row[0].upper():
            continue  # missing (created below) or already a rowid table
        old = f"{table}_v2"
        conn.execute(f"ALTER TABLE {table} RENAME TO {old}")
        conn.execute(_CREATE[table])
        conn.execute(f"INSERT INTO {table} SELECT * FROM {old}")
        conn.execute(f"DROP TABLE {old}")


MIGRATIONS: Mapping[int, Sequence[Migration]] = {
    1: (_CREATE[WAITING], _CREATE[LEASES], _CREATE[REQUESTS], *_INDEXES),
    2: (_as_rowid_tables,),
    3: (),  # only the rows' format changed: see SCHEMA_VERSION
}
"""Statements (or functions) that take schema ``N`` to ``N + 1``, keyed by ``N``.

All of them run in one transaction.

Schema 1 files have no paused thread in the index: their threads paused before
the index existed, and are listed again once they pause anew.
"""

_MIN_SQLITE = (3, 24, 0)  # upsert (ON CONFLICT ... DO UPDATE), row values


def database_path(conn: sqlite3.Connection) -> str:
    """The file behind ``conn``'s main database, or ``":memory:"``."""
    try:
        for _, name, file in conn.execute("PRAGMA database_list"):
            if name == "main":
                return str(file) or ":memory:"
    except sqlite3.Error:
        pass
    return "the SQLite database"


def ensure_schema(conn: sqlite3.Connection, path: str) -> None:
    """Check, migrate and create the tables; a no-op when they are current.

    The caller holds the saver's lock. Creation and migrations are one transaction.

    Raises:
        CorruptCheckpointError: The file is not SQLite, its ``pausegraph_`` tables
            have another shape, or a newer pausegraph wrote it. Nothing was written.
        StorageError: The file stayed locked, or SQLite is too old for pausegraph.
    """
    if sqlite3.sqlite_version_info < _MIN_SQLITE:
        need = ".".join(map(str, _MIN_SQLITE))
        raise StorageError(
            f"pausegraph's SqliteSaver needs SQLite {need} or newer; this Python links SQLite "
            f"{sqlite3.sqlite_version}. Use a newer Python build, or another saver."
        )
    try:
        _require_json(conn)
        version, present = _check(conn, path)  # read-only: refuse foreign files before writing
        if version == SCHEMA_VERSION and len(present) == len(_CREATE):
            _tune(conn, path)
            return
        own = begin(conn, "BEGIN IMMEDIATE")
        try:
            version, _ = _check(conn, path)  # again: another process may have set up meanwhile
            if version is not None:
                for from_version in range(version, SCHEMA_VERSION):
                    for step in MIGRATIONS.get(from_version, ()):
                        if isinstance(step, str):
                            conn.execute(step)
                        else:
                            step(conn)
            for ddl in (*_CREATE.values(), *_INDEXES):
                conn.execute(ddl)
            for table in _CREATE:  # an older file's tables were not checked before migrating
                _check_shape(conn, path, table)
            conn.execute(
                f"INSERT INTO {META} (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )
            commit(conn, own)
        except BaseException:
            rollback(conn, own)  # a refused file (or a failed commit) is left as it was
            raise
        _tune(conn, path)
    except sqlite3.Error as exc:
        if type(exc) is sqlite3.DatabaseError:  # not a database, or damaged
            raise refuse_unreadable(path, exc) from exc
        raise storage_error(path, exc) from exc


def _require_json(conn: sqlite3.Connection) -> None:
    """Refuse a SQLite built without JSON functions (the waiting index filters with them)."""
    try:
        conn.execute("SELECT json_extract('{}', '$')").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such function" not in str(exc):
            raise
        raise StorageError(
            "pausegraph's SqliteSaver needs SQLite's JSON functions; this Python links SQLite "
            f"{sqlite3.sqlite_version} built without them. Use a Python whose SQLite has JSON "
            "support (every SQLite since 3.38 has it), or another saver."
        ) from None


def _tune(conn: sqlite3.Connection, path: str) -> None:
    """WAL (readers never block the writer) and ``synchronous=NORMAL`` for files."""
    if path == ":memory:" or conn.in_transaction:
        return
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")


def _tables(conn: sqlite3.Connection) -> set[str]:
    names = tuple(_CREATE)
    marks = ",".join("?" * len(names))
    rows = conn.execute(
        f"SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({marks})", names
    ).fetchall()
    return {row[0] for row in rows}


def _check(conn: sqlite3.Connection, path: str) -> tuple[int | None, set[str]]:
    """The file's schema version (``None`` without pausegraph tables) and its tables; reads only."""
    present = _tables(conn)
    if not present:
        return None, present
    if META not in present:
        raise _foreign(path, f"it has {', '.join(sorted(present))} but no {META} table")
    _check_shape(conn, path, META)
    row = conn.execute(f"SELECT value FROM {META} WHERE key = 'schema_version'").fetchone()
    try:
        version = int(row[0])
    except (TypeError, ValueError):
        raise _foreign(path, f"{META} holds no valid schema_version ({row!r})") from None
    if version > SCHEMA_VERSION:
        raise CorruptCheckpointError(
            f"{path} was written by a newer pausegraph (schema {version}, this one reads "
            f"{SCHEMA_VERSION}): upgrade pausegraph. Nothing in the file was changed."
        )
    if version < 1:
        raise _foreign(path, f"{META} names schema version {version}, which never existed")
    if version == SCHEMA_VERSION:
        for table in present:
            _check_shape(conn, path, table)
    return version, present


def _check_shape(conn: sqlite3.Connection, path: str, table: str) -> None:
    found = tuple(
        (row[1], row[5]) for row in conn.execute(f"PRAGMA table_info({table})").fetchall()
    )
    expected = TABLES[table]
    if found != expected:
        raise _foreign(
            path,
            f"its table {table} has columns {_describe(found)}, "
            f"but pausegraph expects {_describe(expected)}",
        )


def _describe(columns: Sequence[tuple[str, int]]) -> str:
    return "(" + ", ".join(name + (" [key]" if pk else "") for name, pk in columns) + ")"


def _foreign(path: str, what: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"{path} does not hold pausegraph checkpoints in a shape this pausegraph knows: {what}. "
        "The file was written by another program, or it is damaged; nothing in it was changed. "
        "Use another file, or restore this one from a backup."
    )
