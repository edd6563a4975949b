"""``PostgresStore``: the long-term store in PostgreSQL, shared by every process (psycopg 3).

Same module path and construction as LangGraph's ``langgraph.store.postgres``:
``with PostgresStore.from_conn_string(DB_URI) as store: store.setup()``, or
``PostgresStore(conn)`` on an open connection (autocommit). Values are JSON
objects (``jsonb``); one row per namespace and key, in a
``pausegraph_store`` table of the connection's schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pausegraph.errors import MissingDependencyError
from pausegraph.store._sql import SqlStore

try:
    import psycopg
except ImportError as _exc:
    raise MissingDependencyError(
        "The Postgres store needs psycopg 3, which is not installed: "
        "pip install 'pausegraph[postgres]'"
    ) from _exc

__all__ = ["PostgresStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pausegraph_store (
    prefix text NOT NULL,
    key text NOT NULL,
    value jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    seq bigserial,
    PRIMARY KEY (prefix, key)
)
"""


class PostgresStore(SqlStore):
    """A store kept in PostgreSQL (call :meth:`setup` once to create its table).

    Like :class:`~pausegraph.store.sqlite.SqliteStore`; times come from the
    server's clock. Semantic search (``index=``) and ``ttl`` are not offered.

    Raises:
        NotImplementedError: ``index=...`` or ``ttl=...``.
    """

    _NAME = "PostgresStore"
    _UPSERT = (
        "INSERT INTO pausegraph_store (prefix, key, value) VALUES (?, ?, ?::jsonb) "
        "ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value, "
        "updated_at = clock_timestamp()"
    )
    _ORDER = (
        "ORDER BY (SELECT min(seq) FROM pausegraph_store AS first "
        "WHERE first.prefix = s.prefix), s.seq"
    )

    @classmethod
    @contextmanager
    def from_conn_string(cls, conn_string: str, **kwargs: Any) -> Iterator[PostgresStore]:
        """A store on a new autocommit connection to ``conn_string``, closed after the block.

        Raises:
            StorageError: The server cannot be reached (the URL's password masked).
        """
        from pausegraph.checkpoint.postgres._conn import connect_error, connect_kwargs

        try:
            conn = psycopg.connect(conn_string, **connect_kwargs(conn_string))
        except psycopg.Error as exc:
            raise connect_error(conn_string, exc) from None
        try:
            yield cls(conn, **kwargs)
        finally:
            conn.close()

    def setup(self) -> None:
        """Create the store's table if it is not there (safe to call again)."""
        self._run(_SCHEMA)

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self.conn.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params)
            return cur.fetchall() if cur.description is not None else []
