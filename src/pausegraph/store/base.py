"""The long-term store: values kept across threads, by namespace and key (LangGraph's ``BaseStore``).

Same module path and names as ``langgraph.store.base``. A graph compiled
with ``store=...`` hands it to its nodes (a ``store`` parameter,
``runtime.store`` or :func:`pausegraph.config.get_store`) and to the graphs
they run. Checkpoints keep one thread's state; the store keeps what several
threads share (a user's preferences, facts an agent learned).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

__all__ = [
    "BaseStore",
    "InvalidNamespaceError",
    "Item",
    "SearchItem",
    "check_namespace",
    "check_put",
    "matches",
    "namespaces_of",
]


class InvalidNamespaceError(ValueError):
    """A namespace is empty, has an empty or dotted label, or starts with ``"langgraph"``."""


class Item:
    """A stored value with where it lives and when it was written.

    Attributes:
        value: The stored dict.
        key: Its key within the namespace.
        namespace: The namespace, a tuple of labels.
        created_at: When the key was first written (UTC).
        updated_at: When it was last written (UTC).
    """

    __slots__ = ("created_at", "key", "namespace", "updated_at", "value")

    def __init__(
        self,
        *,
        value: dict[str, Any],
        key: str,
        namespace: tuple[str, ...],
        created_at: datetime,
        updated_at: datetime,
    ) -> None:
        self.value = value
        self.key = key
        self.namespace = tuple(namespace)
        self.created_at = created_at
        self.updated_at = updated_at

    def dict(self) -> dict[str, Any]:
        """As plain data: the namespace as a list, the times in ISO 8601."""
        return {
            "namespace": list(self.namespace),
            "key": self.key,
            "value": self.value,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Item):
            return NotImplemented
        return self.dict() == other.dict()

    def __hash__(self) -> int:
        return hash((self.namespace, self.key))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.dict().items())
        return f"{type(self).__name__}({fields})"


class SearchItem(Item):
    """An :class:`Item` found by a search; ``score`` is ``None`` (no semantic ranking here)."""

    __slots__ = ("score",)

    def __init__(self, *, score: float | None = None, **fields: Any) -> None:
        super().__init__(**fields)
        self.score = score

    def dict(self) -> dict[str, Any]:
        return {**super().dict(), "score": self.score}


def check_namespace(namespace: tuple[str, ...]) -> None:
    """Refuse a namespace LangGraph's stores refuse.

    Raises:
        InvalidNamespaceError: What is wrong, and with which label.
    """
    if not isinstance(namespace, tuple) or not namespace:
        raise InvalidNamespaceError(
            f"A namespace is a non-empty tuple of labels, e.g. ('users', user_id); got {namespace!r}."
        )
    for label in namespace:
        if not isinstance(label, str) or not label:
            raise InvalidNamespaceError(
                f"Namespace labels must be non-empty strings; got {label!r} in {namespace!r}."
            )
        if "." in label:
            raise InvalidNamespaceError(
                f"Namespace label {label!r} in {namespace!r} contains a period; use another character."
            )
    if namespace[0] == "langgraph":
        raise InvalidNamespaceError(
            f'The root label "langgraph" is reserved (as in LangGraph); got {namespace!r}.'
        )


def check_put(
    store: str, namespace: tuple[str, ...], key: str, value: Any, ttl: float | None
) -> None:
    """Refuse a ``put`` no store here takes: a bad namespace, a ``ttl``, a value not a dict.

    Raises:
        InvalidNamespaceError: See :func:`check_namespace`.
        NotImplementedError: A ``ttl`` (no store here expires values).
        TypeError: ``value`` is neither a dict nor ``None`` (which deletes).
    """
    check_namespace(namespace)
    if ttl is not None:
        raise NotImplementedError(f"{store} does not expire values: pass ttl=None.")
    if value is not None and not isinstance(value, Mapping):
        raise TypeError(
            f"A store value is a dict (JSON object); got {type(value).__name__} for key {key!r}."
        )


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq,
    "$ne": operator.ne,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


def matches(value: Mapping[str, Any], filter: Mapping[str, Any] | None) -> bool:
    """Whether ``value`` fits a search ``filter``: ``{key: v}`` (equal) or ``{key: {"$gt": v}}``.

    Raises:
        ValueError: An operator other than ``$eq``, ``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte``.
    """
    for key, wanted in (filter or {}).items():
        if key not in value:
            return False
        actual = value[key]
        if isinstance(wanted, Mapping) and wanted and all(k.startswith("$") for k in wanted):
            for op, operand in wanted.items():
                if op not in _OPERATORS:
                    raise ValueError(
                        f"Unknown filter operator {op!r}; use one of {', '.join(_OPERATORS)}."
                    )
                try:
                    if not _OPERATORS[op](actual, operand):
                        return False
                except TypeError:  # values that do not compare (a str and a number)
                    return False
        elif actual != wanted:
            return False
    return True


class BaseStore:
    """What a store offers nodes: ``put``/``get``/``delete``/``search``/``list_namespaces``.

    Subclasses implement the sync methods; the async ones call them (a store
    whose calls block for long should override those too).
    """

    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any] | None,
        index: Any = None,
        *,
        ttl: float | None = None,
    ) -> None:
        """Store ``value`` (a dict) under ``namespace`` and ``key``; ``None`` deletes it."""
        raise NotImplementedError

    def get(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> Item | None:
        """The item under ``namespace`` and ``key``, or ``None``."""
        raise NotImplementedError

    def delete(self, namespace: tuple[str, ...], key: str) -> None:
        """Forget ``key`` in ``namespace`` (nothing happens if it is not there)."""
        self.put(namespace, key, None)

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
        """Items in namespaces starting with ``namespace_prefix`` whose values fit ``filter``."""
        raise NotImplementedError

    def list_namespaces(
        self,
        *,
        prefix: tuple[str, ...] | None = None,
        suffix: tuple[str, ...] | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """The namespaces that hold items (cut to ``max_depth`` labels), sorted."""
        raise NotImplementedError

    async def aput(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any] | None,
        index: Any = None,
        *,
        ttl: float | None = None,
    ) -> None:
        """Async :meth:`put`."""
        self.put(namespace, key, value, index, ttl=ttl)

    async def aget(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> Item | None:
        """Async :meth:`get`."""
        return self.get(namespace, key, refresh_ttl=refresh_ttl)

    async def adelete(self, namespace: tuple[str, ...], key: str) -> None:
        """Async :meth:`delete`."""
        self.delete(namespace, key)

    async def asearch(
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
        """Async :meth:`search`."""
        return self.search(namespace_prefix, query=query, filter=filter, limit=limit, offset=offset)

    async def alist_namespaces(
        self,
        *,
        prefix: tuple[str, ...] | None = None,
        suffix: tuple[str, ...] | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """Async :meth:`list_namespaces`."""
        return self.list_namespaces(
            prefix=prefix, suffix=suffix, max_depth=max_depth, limit=limit, offset=offset
        )


def namespaces_of(
    found: Iterable[tuple[str, ...]],
    prefix: tuple[str, ...] | None,
    suffix: tuple[str, ...] | None,
    max_depth: int | None,
) -> list[tuple[str, ...]]:
    """``list_namespaces``' answer from every namespace that holds items: matched, cut, deduplicated."""
    out = set()
    for ns in found:
        if prefix and ns[: len(prefix)] != prefix:
            continue
        if suffix and (len(ns) < len(suffix) or ns[len(ns) - len(suffix) :] != suffix):
            continue
        out.add(ns[:max_depth] if max_depth is not None else ns)
    return sorted(out)
