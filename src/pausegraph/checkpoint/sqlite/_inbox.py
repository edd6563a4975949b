"""The waiting index in SQLite: its rows, and ``list_waiting`` as one indexed query.

A :data:`~pausegraph.checkpoint.capabilities.WAITING` write becomes one row of
``pausegraph_waiting`` (or deletes it), in the transaction of the other
writes. The row keeps what ``list_waiting`` filters and orders by in columns
(``graph``, ``paused_at``, and ``metadata`` as JSON text for ``json_extract``)
and the rest (interrupts, exact metadata) as one serialized ``entry``.

Metadata filters run in SQL whenever SQL compares exactly as Python's ``==``
does: ``None``, strings, booleans, finite floats and 64-bit integers, under
keys JSON writes without escapes. Any other filter (a list, a dict, an odd
key) is checked in Python on the decoded rows, so every backend agrees.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from pausegraph.checkpoint._records import PendingWrite
from pausegraph.checkpoint.capabilities import (
    WAITING,
    WaitingPage,
    WaitingThread,
    decode_waiting,
    page_waiting,
    waiting_from_row,
)
from pausegraph.checkpoint.sqlite._sql import DELETE_WAITING, UPSERT_WAITING
from pausegraph.checkpoint.sqlite._sql import WAITING as WAITING_TABLE

__all__ = ["WaitingRow", "apply_waiting", "list_waiting", "split_waiting"]

WaitingRow = tuple[str, str, str, str, str, bytes]
"""``(thread_id, checkpoint_id, graph, paused_at, metadata JSON, entry)``."""

_FETCH = 64  # rows decoded per fetch when a filter runs in Python
_INT64 = (-(2**63), 2**63)


def split_waiting(
    thread_id: str,
    ns: str,
    checkpoint_id: str,
    writes: Sequence[PendingWrite],
    dumps: Callable[[Any], bytes],
) -> tuple[list[PendingWrite], list[WaitingRow | None]]:
    """The plain writes, and the index rows the :data:`WAITING` writes set (``None``: clear).

    Serializes up front, so an unstorable entry is refused before anything
    changes. Only the root namespace sets entries (a nested run's pause is
    its root run's); any namespace may clear one.

    Raises:
        ValueError: A :data:`WAITING` write carries no ``encode_waiting()`` entry.
    """
    plain: list[PendingWrite] = []
    rows: list[WaitingRow | None] = []
    for w in writes:
        if w.channel != WAITING:
            plain.append(w)
        elif w.value is None:
            rows.append(None)
        elif not ns:
            rows.append(_row(thread_id, checkpoint_id, w.value, dumps))
    return plain, rows


def _row(
    thread_id: str, checkpoint_id: str, value: Any, dumps: Callable[[Any], bytes]
) -> WaitingRow:
    try:
        entry = decode_waiting(value)
        metadata = dict(entry.metadata)
        interrupts = value["interrupts"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"A {WAITING!r} write must carry encode_waiting(WaitingThread(...)) or None, "
            f"got {value!r:.200}."
        ) from exc
    return (
        thread_id,
        checkpoint_id,
        entry.graph,
        entry.paused_at,
        _metadata_json(metadata),
        dumps([metadata or None, interrupts]),
    )


def apply_waiting(
    conn: sqlite3.Connection, thread_id: str, rows: Sequence[WaitingRow | None]
) -> None:
    """Set or clear the thread's index entry; the caller holds the write transaction."""
    for row in rows:
        if row is None:
            conn.execute(DELETE_WAITING, (thread_id,))
        else:
            conn.execute(UPSERT_WAITING, row)


def list_waiting(
    conn: sqlite3.Connection,
    loads: Callable[[bytes], Any],
    *,
    graph: str | None,
    metadata: Mapping[str, Any] | None,
    limit: int,
    after: str | None,
) -> WaitingPage:
    """One page of the index, oldest pause first; the caller holds a read transaction."""
    kinds: list[str] = []
    params: list[Any] = [] if graph is None else [graph]
    if after is not None:
        paused_at, _, thread_id = after.partition("|")
        params += (paused_at, thread_id)
    in_python: dict[str, Any] = {}
    for key, value in (metadata or {}).items():
        if not _exact_in_sql(key, value):
            in_python[key] = value
            continue
        path = f'$."{key}"'
        if value is None:
            kinds.append("null")
            params.append(path)
        elif isinstance(value, str):
            kinds.append("text")
            params += (path, path, value)
        else:
            kinds.append("number")
            params += (path, value)
    if not in_python:
        params.append(limit + 1)  # one more tells whether a next page exists
    sql = _query(graph is not None, after is not None, tuple(kinds), not in_python)
    cursor = conn.execute(sql, params)
    found: list[WaitingThread] = []
    while len(found) <= limit:
        rows = cursor.fetchmany(_FETCH if in_python else limit + 1)
        if not rows:
            break
        for row in rows:
            entry = waiting_from_row(row, loads)
            if not any(entry.metadata.get(k) != v for k, v in in_python.items()):
                found.append(entry)
    return page_waiting(found[: limit + 1], graph=None, metadata=None, limit=limit, after=None)


def _plain_key(key: Any) -> bool:
    """Whether SQLite's JSON path ``$."key"`` finds ``key`` (JSON writes it unescaped)."""
    return isinstance(key, str) and json.dumps(key, ensure_ascii=False) == f'"{key}"'


def _exact_in_sql(key: Any, value: Any) -> bool:
    """Whether SQL's comparison of this value agrees with Python's ``==``."""
    if not _plain_key(key):
        return False
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, int):  # bool included: True == 1 in both
        return _INT64[0] <= value < _INT64[1]
    if isinstance(value, float):  # might equal a stored huge int, which JSON cannot hold
        return math.isfinite(value) and abs(value) < _INT64[1]
    return False


def _metadata_json(metadata: Mapping[str, Any]) -> str:
    """The metadata as JSON: exact for what SQL filters on, ``{}`` for what JSON cannot hold.

    A ``{}`` never equals a filter SQL runs (those are strings, numbers, null),
    so a value JSON cannot hold is never matched by mistake.
    """
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if not _plain_key(key):
            continue  # SQL never looks these up: their filters run in Python
        if _exact_in_sql(key, value):
            out[key] = value
        elif isinstance(value, (int, float)):
            out[key] = {}  # a huge int or a NaN: JSON would round it or cannot hold it
        else:
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                value = {}
            out[key] = value
    return json.dumps(out, ensure_ascii=False, allow_nan=False)


@lru_cache(maxsize=256)
def _query(graph: bool, after: bool, conditions: tuple[str, ...], limited: bool) -> str:
    """The statement text; one per shape, so the connection's cache prepares each once."""
    where = []
    if graph:
        where.append("graph = ?")
    if after:
        where.append("(paused_at, thread_id) > (?, ?)")
    for kind in conditions:
        if kind == "null":
            where.append("json_extract(metadata, ?) IS NULL")
        elif kind == "text":
            where.append("(json_type(metadata, ?) = 'text' AND json_extract(metadata, ?) = ?)")
        else:
            where.append("json_extract(metadata, ?) = ?")
    return (
        f"SELECT thread_id, checkpoint_id, graph, paused_at, entry FROM {WAITING_TABLE}"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY paused_at, thread_id"
        + (" LIMIT ?" if limited else "")
    )
