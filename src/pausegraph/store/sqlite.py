"""``SqliteStore``: the long-term store in a SQLite file, so it outlives the process.

Same module path and construction as LangGraph's ``langgraph.store.sqlite``:
``SqliteStore(conn)`` or ``with SqliteStore.from_conn_string("memory.db") as
store: store.setup()``. Values are JSON objects; one row per namespace and key.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from pausegraph.store.base import (
    BaseStore,
    Item,
    SearchItem,
    check_namespace,
    matches,
    namespaces_of,
)

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


class SqliteStore(BaseStore):
    """A store kept in a SQLite database (call :meth:`setup` once to create its table).

    A namespace is stored as its labels joined by ``.`` (labels cannot contain
    one), so a search reads one namespace and those under it, with an index.
    Search filters are applied to the decoded values; results come namespace
    by namespace, in the order each namespace and key was first written. Semantic search (``index=``) and ``ttl`` are not offered.

    Raises:
        NotImplementedError: ``index=...`` or ``ttl=...``.
    """

    def __init__(self, conn: sqlite3.Connection, *, index: Any = None, ttl: Any = None) -> None:
        if index is not None or ttl is not None:
            raise NotImplementedError(
                "SqliteStore(index=..., ttl=...) (semantic search, expiry) is not offered by "
                "pausegraph; search filters by namespace prefix and by value instead."
            )
        self.conn = conn
        self._lock = threading.Lock()  # one connection, shared by a run's threads

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
        with self._lock:
            self.conn.execute(_SCHEMA)

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
            raise NotImplementedError("SqliteStore does not expire values: pass ttl=None.")
        prefix = ".".join(namespace)
        if value is None:
            with self._lock:
                self.conn.execute(
                    "DELETE FROM pausegraph_store WHERE prefix = ? AND key = ?", (prefix, key)
                )
            return
        if not isinstance(value, Mapping):
            raise TypeError(
                f"A store value is a dict (JSON object); got {type(value).__name__} for key {key!r}."
            )
        try:
            text = json.dumps(dict(value))
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"SqliteStore keeps JSON: the value for key {key!r} is not JSON data ({exc})."
            ) from exc
        now = datetime.now(timezone.utc).isoformat()
        with self._lock:
            self.conn.execute(
                "INSERT INTO pausegraph_store (prefix, key, value, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (prefix, key) DO UPDATE SET "
                "value = excluded.value, updated_at = excluded.updated_at",
                (prefix, key, text, now, now),
            )

    def get(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> Item | None:
        """The item under ``namespace`` and ``key``, or ``None``."""
        with self._lock:
            row = self.conn.execute(
                "SELECT prefix, key, value, created_at, updated_at FROM pausegraph_store "
                "WHERE prefix = ? AND key = ?",
                (".".join(namespace), key),
            ).fetchone()
        return _item(row, Item) if row is not None else None

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
        with self._lock:
            rows = self.conn.execute(
                "SELECT prefix, key, value, created_at, updated_at FROM pausegraph_store "
                "WHERE prefix = ? OR substr(prefix, 1, ?) = ? "
                # Namespace by namespace, in the order each was first written (as in memory).
                "ORDER BY (SELECT min(rowid) FROM pausegraph_store AS first "
                "WHERE first.prefix = pausegraph_store.prefix), rowid",
                (prefix, len(prefix) + 1, prefix + "."),
            ).fetchall()
        found = [_item(row, SearchItem) for row in rows]
        kept = [item for item in found if matches(item.value, filter)]
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
        with self._lock:
            rows = self.conn.execute("SELECT DISTINCT prefix FROM pausegraph_store").fetchall()
        present = [tuple(row[0].split(".")) for row in rows]
        return namespaces_of(present, prefix, suffix, max_depth)[offset : offset + limit]


def _item(row: tuple[Any, ...], kind: type[Item]) -> Any:
    prefix, key, value, created_at, updated_at = row
    return kind(
        value=json.loads(value),
        key=key,
        namespace=tuple(prefix.split(".")),
        created_at=datetime.fromisoformat(created_at),
        updated_at=datetime.fromisoformat(updated_at),
    )
