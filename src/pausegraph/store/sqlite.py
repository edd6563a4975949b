"""``SqliteStore``: the long-term store in a SQLite file, so it outlives the process.

Same module path and construction as LangGraph's ``langgraph.store.sqlite``:
``SqliteStore(conn)`` or ``with SqliteStore.from_conn_string("memory.db") as
store: store.setup()``. Values are JSON objects; one row per namespace and key.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from pausegraph.store._sql import SqlStore

__all__ = ["SqliteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pausegraph_store (
    prefix TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (prefix, key)
)
"""


class SqliteStore(SqlStore):
    """A store kept in a SQLite database (call :meth:`setup` once to create its table).

    Searches filter the decoded values; results come namespace by namespace,
    in the order each namespace and key was first written (an update keeps
    its row). Semantic search (``index=``) and ``ttl`` are not offered.

    Raises:
        NotImplementedError: ``index=...`` or ``ttl=...``.
    """

    _NAME = "SqliteStore"
    _UPSERT = (
        "INSERT INTO pausegraph_store (prefix, key, value, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (prefix, key) DO UPDATE SET "
        "value = excluded.value, updated_at = excluded.updated_at"
    )
    _ORDER = (
        "ORDER BY (SELECT min(rowid) FROM pausegraph_store AS first "
        "WHERE first.prefix = s.prefix), s.rowid"
    )

    @classmethod
    @contextmanager
    def from_conn_string(cls, conn_string: str, **kwargs: Any) -> Iterator[SqliteStore]:
        """A store on the SQLite file ``conn_string`` (``":memory:"`` for none), closed after."""
        conn = sqlite3.connect(conn_string, check_same_thread=False, isolation_level=None)
        try:
            yield cls(conn, **kwargs)
        finally:
            conn.close()

    def setup(self) -> None:
        """Create the store's table if it is not there (safe to call again)."""
        self._run(_SCHEMA)

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            rows: list[tuple[Any, ...]] = self.conn.execute(sql, params).fetchall()
        return rows

    def _upsert(self, prefix: str, key: str, text: str) -> None:
        now = datetime.now(timezone.utc).isoformat()  # microseconds, unlike SQLite's clock
        self._run(self._UPSERT, (prefix, key, text, now, now))
