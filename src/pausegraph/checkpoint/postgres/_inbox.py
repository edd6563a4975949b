"""The waiting index in PostgreSQL: its row parameters, and ``list_waiting`` as a flow.

A :data:`~pausegraph.checkpoint.capabilities.WAITING` write becomes one row of
``pausegraph_waiting`` (or deletes it) in the statement that stores the other
writes. The row keeps what ``list_waiting`` filters and orders by in columns
(``graph``, ``paused_at``, and the run metadata as ``jsonb``) and the rest
(exact metadata, interrupts) as one serialized ``entry``.

Metadata filters narrow the rows in SQL (``jsonb`` containment, index range
for the cursor and ``graph``) and are then checked on the decoded entries
with Python's ``==``, as the in-memory saver does, so every backend agrees
even where JSON and Python compare differently (``True == 1``, tuples).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pausegraph.checkpoint._records import PendingWrite
from pausegraph.checkpoint.capabilities import (
    WAITING,
    WaitingPage,
    WaitingThread,
    cursor_of,
    decode_waiting,
    waiting_from_row,
)
from pausegraph.checkpoint.postgres._flow import Flow, Query
from pausegraph.checkpoint.postgres._sql import WAITING as TABLE
from pausegraph.checkpoint.serde import Serializer

__all__ = ["json_or_none", "list_waiting", "waiting_params"]


def json_or_none(value: Any) -> str | None:
    """``value`` as JSON that ``jsonb`` accepts, or ``None`` when it has no such form."""
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    return None if "\\u0000" in text else text  # jsonb refuses NUL characters


def _jsonb_object(metadata: Mapping[str, Any]) -> str:
    """The metadata as a JSON object; keys or values JSON cannot hold are left out."""
    parts = []
    for key, value in metadata.items():
        key_text = json_or_none(key) if isinstance(key, str) else None
        value_text = json_or_none(value)
        if key_text is not None and value_text is not None:
            parts.append(f"{key_text}:{value_text}")
    return "{" + ",".join(parts) + "}"


def waiting_params(ns: str, writes: Sequence[PendingWrite], serde: Serializer) -> dict[str, Any]:
    """The ``w_*`` parameters of ``SAVE_WRITES``: how the writes change the index.

    The last :data:`WAITING` write wins. ``None`` clears the entry; an entry
    is set only from the root namespace (nested runs report through their
    parent), as the in-memory saver does.

    Raises:
        ValueError: A :data:`WAITING` write carries no ``encode_waiting()`` entry.
    """
    params: dict[str, Any] = {
        "w_clear": False,
        "w_entry": None,
        "w_graph": None,
        "w_paused_at": None,
        "w_metadata": None,
    }
    last: tuple[WaitingThread, Any] | None = None
    cleared = False
    for w in writes:
        if w.channel != WAITING:
            continue
        cleared = w.value is None
        if not cleared:
            try:
                last = decode_waiting(w.value), w.value["interrupts"]
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ValueError(
                    f"A {WAITING!r} write must carry encode_waiting(WaitingThread(...)) or "
                    f"None, got {w.value!r:.200}."
                ) from exc
    if cleared:
        params["w_clear"] = True
    elif last is not None and not ns:
        entry, interrupts = last
        metadata = dict(entry.metadata)
        params.update(
            w_entry=serde.dumps([metadata or None, interrupts]),
            w_graph=entry.graph,
            w_paused_at=entry.paused_at,
            w_metadata=_jsonb_object(metadata),
        )
    return params


def _narrowing(metadata: Mapping[str, Any], params: dict[str, Any]) -> list[str]:
    """SQL conditions keeping at least every row whose metadata matches (never fewer)."""
    where: list[str] = []
    contained: list[str] = []
    for i, (key, value) in enumerate(metadata.items()):
        key_text = json_or_none(key) if isinstance(key, str) else None
        if key_text is None:
            continue  # not in the jsonb column: checked in Python only
        value_text = json_or_none(value)
        if value is None:
            params[f"k{i}"] = key
            where.append(f"coalesce(metadata -> %(k{i})s::text, 'null') = 'null'")
        elif isinstance(value, str) or (
            isinstance(value, (int, float)) and value_text is not None and value not in (0, 1)
        ):
            contained.append(f"{key_text}:{value_text}")
        elif isinstance(value, (int, float)) and value in (0, 1):  # Python: True == 1 == 1.0
            params[f"k{i}"] = key
            same = "'1', 'true'" if value else "'0', 'false'"
            where.append(f"metadata -> %(k{i})s::text IN ({same})")
    if contained:
        where.append("metadata @> %(contains)s::jsonb")
        params["contains"] = "{" + ",".join(contained) + "}"
    return where


def _query(
    graph: str | None, metadata: Mapping[str, Any] | None, after: bool
) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    where: list[str] = []
    if graph is not None:
        where.append("graph = %(graph)s")
        params["graph"] = graph
    if after:
        where.append("(paused_at, thread_id) > (%(after_at)s, %(after_id)s)")
    where += _narrowing(metadata or {}, params)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = (
        f"SELECT thread_id, checkpoint_id, graph, paused_at, entry FROM {TABLE}{clause} "
        "ORDER BY paused_at, thread_id LIMIT %(limit)s"
    )
    return sql, params


def list_waiting(
    serde: Serializer,
    graph: str | None,
    metadata: Mapping[str, Any] | None,
    limit: int,
    after: str | None,
) -> Flow[WaitingPage]:
    """One page of waiting threads, oldest pause first (``WaitingIndex.list_waiting``).

    Reads ``limit + 1`` rows at a time; reads again only when Python's check
    refused some of them.

    Raises:
        ValueError: ``limit`` is below 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}.")
    wanted = dict(metadata or {})
    found: list[WaitingThread] = []
    while True:
        sql, params = _query(graph, wanted, after is not None)
        params["limit"] = limit + 1
        if after is not None:
            params["after_at"], _, params["after_id"] = after.partition("|")
        rows = yield Query(sql, params)
        for row in rows:
            entry = waiting_from_row(row, serde.loads)
            after = cursor_of(entry)
            if all(entry.metadata.get(k) == v for k, v in wanted.items()):
                found.append(entry)
        if len(found) > limit or len(rows) <= limit:
            break
    more = len(found) > limit
    return WaitingPage(tuple(found[:limit]), cursor_of(found[limit - 1]) if more else None)
