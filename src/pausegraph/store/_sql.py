"""What the SQL stores share: one table, JSON values, filters applied in Python.

A namespace is stored as its labels joined by ``.`` (labels cannot contain
one), so a search reads one namespace and those under it through the key.
Subclasses run the statements (:meth:`SqlStore._run`), written with ``?``
placeholders, which they translate to their driver's style.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pausegraph.store.base import (
    BaseStore,
    Item,
    SearchItem,
    check_put,
    matches,
    namespaces_of,
)

__all__ = ["SqlStore"]

_COLUMNS = "prefix, key, value, created_at, updated_at"


class SqlStore(BaseStore):
    """A store kept in one SQL table (see the module); subclasses connect and run statements."""

    _NAME = "SqlStore"
    _UPSERT = ""  # INSERT ... ON CONFLICT (prefix, key) DO UPDATE ...; see _upsert
    _ORDER = ""  # ORDER BY: namespace by namespace, in the order each was first written

    def __init__(self, conn: Any, *, index: Any = None, ttl: Any = None) -> None:
        if index is not None or ttl is not None:
            raise NotImplementedError(
                f"{self._NAME}(index=..., ttl=...) (semantic search, expiry) is not offered by "
                "pausegraph; search filters by namespace prefix and by value instead."
            )
        self.conn = conn
        self._lock = threading.Lock()  # one connection, shared by a run's threads

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (``?`` placeholders); returns its rows, if it has any."""
        raise NotImplementedError

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
        check_put(self._NAME, namespace, key, value, ttl)
        prefix = ".".join(namespace)
        if value is None:
            self._run("DELETE FROM pausegraph_store WHERE prefix = ? AND key = ?", (prefix, key))
            return
        try:
            text = json.dumps(dict(value))
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{self._NAME} keeps JSON: the value for key {key!r} is not JSON data ({exc})."
            ) from exc
        self._upsert(prefix, key, text)

    def _upsert(self, prefix: str, key: str, text: str) -> None:
        """Write one row (a new key's ``created_at`` is now; an old one's stays)."""
        self._run(self._UPSERT, (prefix, key, text))

    def get(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> Item | None:
        """The item under ``namespace`` and ``key``, or ``None``."""
        rows = self._run(
            f"SELECT {_COLUMNS} FROM pausegraph_store WHERE prefix = ? AND key = ?",
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
            f"WHERE prefix = ? OR substr(prefix, 1, ?) = ? {self._ORDER}",
            (prefix, len(prefix) + 1, prefix + "."),
        )
        found = (_item(row, SearchItem) for row in rows)
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
        rows = self._run("SELECT DISTINCT prefix FROM pausegraph_store")
        present = [tuple(row[0].split(".")) for row in rows]
        return namespaces_of(present, prefix, suffix, max_depth)[offset : offset + limit]


def _item(row: tuple[Any, ...], kind: type[Item]) -> Any:
    prefix, key, value, created_at, updated_at = row
    return kind(
        value=value if isinstance(value, dict) else json.loads(value),
        key=key,
        namespace=tuple(prefix.split(".")),
        created_at=_time(created_at),
        updated_at=_time(updated_at),
    )


def _time(value: Any) -> datetime:
    """A stored time: Postgres gives a ``datetime``, SQLite the ISO text it was given."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
