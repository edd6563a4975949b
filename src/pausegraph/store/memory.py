"""``InMemoryStore``: the long-term store in this process's memory (LangGraph's module path)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pausegraph.store.base import (
    BaseStore,
    Item,
    SearchItem,
    check_put,
    matches,
    namespaces_of,
)

__all__ = ["InMemoryStore"]


class InMemoryStore(BaseStore):
    """A store for tests and single-process apps: gone when the process ends.

    Values are copied in and out, so changing a dict after ``put`` (or the
    value of a returned item) does not change what is stored. Semantic search
    (``index=...``) and time-to-live are not offered: ``query`` is ignored by
    :meth:`search`, and a ``ttl`` is refused.

    Raises:
        NotImplementedError: ``index=...`` (semantic search needs embeddings).
    """

    def __init__(self, *, index: Any = None) -> None:
        if index is not None:
            raise NotImplementedError(
                "InMemoryStore(index=...) (semantic search over embeddings) is not offered by "
                "pausegraph; search filters by namespace prefix and by value instead."
            )
        self._data: dict[tuple[str, ...], dict[str, Item]] = {}
        self._lock = threading.Lock()

    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any] | None,
        index: Any = None,
        *,
        ttl: float | None = None,
    ) -> None:
        """Store ``value`` under ``namespace`` and ``key`` (``None`` deletes it).

        Raises:
            InvalidNamespaceError: See :func:`~pausegraph.store.base.check_namespace`.
            TypeError: ``value`` is not a dict.
            NotImplementedError: A ``ttl``.
        """
        check_put("InMemoryStore", namespace, key, value, ttl)
        if value is None:
            with self._lock:
                found = self._data.get(namespace)
                if found is not None:
                    found.pop(key, None)
                    if not found:
                        del self._data[namespace]
            return
        now = datetime.now(timezone.utc)
        stored = copy.deepcopy(dict(value))
        with self._lock:
            items = self._data.setdefault(namespace, {})
            old = items.get(key)
            created = old.created_at if old is not None else now
            items[key] = Item(
                value=stored, key=key, namespace=namespace, created_at=created, updated_at=now
            )

    def get(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> Item | None:
        """A copy of the item under ``namespace`` and ``key``, or ``None``."""
        with self._lock:
            item = self._data.get(tuple(namespace), {}).get(key)
        return _copy(item, Item) if item is not None else None

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
        """Items under ``namespace_prefix`` whose values fit ``filter``, in the order written.

        ``query`` is ignored (no semantic index), as in LangGraph's store without one.
        """
        prefix = tuple(namespace_prefix)
        with self._lock:
            candidates = [
                item
                for ns, items in self._data.items()
                if ns[: len(prefix)] == prefix
                for item in items.values()
            ]
        found = [item for item in candidates if matches(item.value, filter)]
        return [_copy(item, SearchItem) for item in found[offset : offset + limit]]

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
            present = list(self._data)
        return namespaces_of(present, prefix, suffix, max_depth)[offset : offset + limit]


def _copy(item: Item, kind: type[Item]) -> Any:
    return kind(
        value=copy.deepcopy(item.value),
        key=item.key,
        namespace=item.namespace,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )
