"""``PostgresStore``: the long-term store in PostgreSQL, shared by every process (psycopg 3).

Same module path and construction as LangGraph's ``langgraph.store.postgres``:
``with PostgresStore.from_conn_string(DB_URI) as store: store.setup()``, or
``PostgresStore(conn)`` on an open connection (autocommit). Values are JSON
objects (``jsonb``); one row per namespace and key, in a
``pausegraph_store`` table of the connection's schema.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pausegraph.errors import MissingDependencyError
from pausegraph.store.base import (
    BaseStore,
    Item,
    SearchItem,
    check_namespace,
    matches,
    namespaces_of,
)

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
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    seq bigserial,
    PRIMARY KEY (prefix, key)
)
"""

_COLUMNS = "prefix, key, value, created_at, updated_at"


class PostgresStore(BaseStore):
    """A store kept in PostgreSQL (call :meth:`setup` once to create its table).

    Like :class:`~pausegraph.store.sqlite.SqliteStore`: namespaces stored as
    their labels joined by ``.``, searches filtered on the values, results
    namespace by namespace in the order written; no semantic search or ``ttl``.

    Raises:
        NotImplementedError: ``index=...`` or ``ttl=...``.
    """

    def __init__(self, conn: Any, *, index: Any = None, ttl: Any = None) -> None:
        if index is not None or ttl is not None:
            raise NotImplementedError(
                "PostgresStore(index=..., ttl=...) (semantic search, expiry) is not offered by "
                "pausegraph; search filters by namespace prefix and by value instead."
            )
        self.conn = conn
        self._lock = threading.Lock()  # one connection, shared by a run's threads

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

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self.conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall() if cur.description is not None else []
        return rows

    def setup(self) -> None:
        """Create the store's table if it is not there (safe to call again)."""
        self._run(_SCHEMA)

    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any] | None,
        index: Any = None,
        *,
        ttl: float | None = None,
    ) -> None:
        """Store ``value`` (a JSON object) under ``namespace`` and ``key``; ``None`` deletes it.

        Raises:
            InvalidNamespaceError: See :func:`~pausegraph.store.base.check_namespace`.
            TypeError: ``value`` is not a dict of JSON data.
            NotImplementedError: A ``ttl``.
        """
        check_namespace(namespace)
        if ttl is not None:
            raise NotImplementedError("PostgresStore does not expire values: pass ttl=None.")
        prefix = ".".join(namespace)
        if value is None:
            self._run("DELETE FROM pausegraph_store WHERE prefix = %s AND key = %s", (prefix, key))
            return
        if not isinstance(value, Mapping):
            raise TypeError(
                f"A store value is a dict (JSON object); got {type(value).__name__} for key {key!r}."
            )
        try:
            text = json.dumps(dict(value))
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"PostgresStore keeps JSON: the value for key {key!r} is not JSON data ({exc})."
            ) from exc
        self._run(
            "INSERT INTO pausegraph_store (prefix, key, value) VALUES (%s, %s, %s::jsonb) "
            "ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value, "
            "updated_at = clock_timestamp()",
            (prefix, key, text),
        )

    def get(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> Item | None:
        """The item under ``namespace`` and ``key``, or ``None``."""
        rows = self._run(
            f"SELECT {_COLUMNS} FROM pausegraph_store WHERE prefix = %s AND key = %s",
            (".".join(namespace), key),
        )
        return _item(rows[0], Item) if rows else None

    def search(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        """Items under ``namespace_prefix`` whose values fit ``filter`` (``query`` is ignored)."""
        prefix = ".".join(namespace_prefix)
        rows = self._run(
            f"SELECT {_COLUMNS} FROM pausegraph_store AS s "
            "WHERE prefix = %s OR left(prefix, %s) = %s "
            # Namespace by namespace, in the order each was first written (as in memory).
            "ORDER BY (SELECT min(seq) FROM pausegraph_store AS first "
            "WHERE first.prefix = s.prefix), seq",
            (prefix, len(prefix) + 1, prefix + "."),
        )
        kept = [
            item for item in (_item(row, SearchItem) for row in rows) if matches(item.value, filter)
        ]
        return kept[offset : offset + limit]

    def list_namespaces(
        self,
        *,
        prefix: tuple[str, ...] | None = None,
        suffix: tuple[str, ...] | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """The namespaces that hold items, sorted (cut to ``max_depth`` labels)."""
        rows = self._run("SELECT DISTINCT prefix FROM pausegraph_store")
        present = [tuple(row[0].split(".")) for row in rows]
        return namespaces_of(present, prefix, suffix, max_depth)[offset : offset + limit]


def _item(row: tuple[Any, ...], kind: type[Item]) -> Any:
    prefix, key, value, created_at, updated_at = row
    return kind(
        value=value if isinstance(value, dict) else json.loads(value),
        key=key,
        namespace=tuple(prefix.split(".")),
        created_at=created_at,
        updated_at=updated_at,
    )
