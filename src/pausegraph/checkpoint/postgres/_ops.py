"""Every saver operation as a :data:`~._flow.Flow`: the logic both Postgres savers share.

Each function checks its arguments, builds parameters (``_rows``), yields the
statement (``_sql``) and turns the rows into the result. The savers only run
these flows on a connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pausegraph.checkpoint._paging import HistoryCursor
from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint
from pausegraph.checkpoint.capabilities import SaveItem, WritesItem
from pausegraph.checkpoint.postgres import _sql
from pausegraph.checkpoint.postgres._flow import Flow, Query
from pausegraph.checkpoint.postgres._inbox import list_waiting
from pausegraph.checkpoint.postgres._rows import (
    assemble,
    matching_ids,
    save_many_params,
    save_params,
    save_writes_params,
    text_array,
)
from pausegraph.checkpoint.serde import Serializer
from pausegraph.errors import CorruptCheckpointError

__all__ = [
    "HistoryPages",
    "acquire_lease",
    "delete_thread",
    "list_threads",
    "list_waiting",
    "load",
    "load_leased",
    "prune",
    "recall_request",
    "release_lease",
    "remember_request",
    "save",
    "save_writes",
    "write_batch",
]


def load(
    serde: Serializer, thread_id: str, ns: str, checkpoint_id: str | None
) -> Flow[StoredCheckpoint | None]:
    """The checkpoint (newest when ``checkpoint_id`` is ``None``), values and writes: one query."""
    params = {"thread_id": thread_id, "ns": ns, "checkpoint_id": checkpoint_id}
    rows = yield Query(_sql.LOAD_LATEST if checkpoint_id is None else _sql.LOAD_ONE, params)
    found = assemble(rows, serde, thread_id, ns)
    return found[0] if found else None


def load_leased(
    serde: Serializer,
    thread_id: str,
    ns: str,
    checkpoint_id: str | None,
    owner: str,
    ttl: float,
) -> Flow[tuple[bool, StoredCheckpoint | None]]:
    """Take the thread's lease and load, in one statement (two when the load came too early).

    Returns:
        ``(taken, loaded)``, as ``FoldedLeases.load_leased``.
    """
    params = {
        "thread_id": thread_id,
        "ns": ns,
        "checkpoint_id": checkpoint_id,
        "owner": owner,
        "ttl": ttl,
    }
    leased = _sql.LOAD_LATEST_LEASED if checkpoint_id is None else _sql.LOAD_ONE_LEASED
    rows = yield Query(leased, params)
    status = rows[0][1]
    if status == "busy":
        return False, None
    if status == "stale":
        return True, (yield from load(serde, thread_id, ns, checkpoint_id))
    found = assemble(rows[1:], serde, thread_id, ns)
    return True, found[0] if found else None


def save(
    serde: Serializer,
    checkpoint: Checkpoint,
    parent_writes: Sequence[PendingWrite],
    *,
    final: bool = True,
    release: str | None = None,
) -> Flow[None]:
    """Store the checkpoint, its changed values and its parent's writes in one statement.

    Serializes now, before the flow runs, so no connection (or its lock) is
    held meanwhile, and an unstorable value fails before anything is sent. A
    save that is not ``final`` commits without waiting for the WAL flush: the
    run's last save or write, which waits, flushes it too. ``release`` names
    the owner whose lease the same statement gives back (a final save).
    """
    return _run_once(_save_query(serde, checkpoint, parent_writes, final, release))


def _save_query(
    serde: Serializer,
    checkpoint: Checkpoint,
    parent_writes: Sequence[PendingWrite],
    final: bool,
    release: str | None,
) -> Query:
    params = save_params(checkpoint, parent_writes, serde)
    if release is not None:
        params["owner"] = release
    statement = _sql.save_statement(
        blobs=bool(params["blob_values"]),
        writes=bool(params["values"]),
        flush=final,
        release=release is not None,
    )
    return Query(statement, params)


def _run_once(query: Query) -> Flow[None]:
    yield query


def save_writes(
    serde: Serializer,
    thread_id: str,
    ns: str,
    checkpoint_id: str,
    writes: Sequence[PendingWrite],
    *,
    release: str | None = None,
) -> Flow[None]:
    """Store writes (and keep the waiting index) in one statement; serializes first, as :func:`save`.

    ``release`` names the owner whose lease the same statement gives back.

    Raises:
        CorruptCheckpointError: The checkpoint does not exist; nothing was written
            (a lease to release is released all the same).
    """
    query = _writes_query(serde, thread_id, ns, checkpoint_id, writes, release)
    return _save_writes(query, thread_id, checkpoint_id)


def _writes_query(
    serde: Serializer,
    thread_id: str,
    ns: str,
    checkpoint_id: str,
    writes: Sequence[PendingWrite],
    release: str | None,
) -> Query:
    params = save_writes_params(thread_id, ns, checkpoint_id, writes, serde)
    if release is not None:
        params["owner"] = release
        return Query(_sql.SAVE_WRITES_RELEASED, params)
    return Query(_sql.SAVE_WRITES, params)


def _save_writes(query: Query, thread_id: str, checkpoint_id: str) -> Flow[None]:
    _check_target((yield query), thread_id, checkpoint_id)


def _check_target(rows: list[tuple[Any, ...]], thread_id: str, checkpoint_id: str) -> None:
    if not rows or rows[0][0] == 0:
        raise CorruptCheckpointError(
            f"Cannot save writes for checkpoint {checkpoint_id!r} of thread {thread_id!r}: "
            "it does not exist."
        )


def write_batch(
    serde: Serializer,
    items: Sequence[SaveItem | WritesItem],
    *,
    final: bool,
    release: str | None,
) -> Flow[None]:
    """The items as few statements as their order allows, run in order.

    Consecutive saves become one :data:`~._sql.SAVE_MANY`, with the writes
    that follow them when those are the last one's (a step's task writes, a
    pause: :data:`~._sql.SAVE_MANY_WRITES`); other writes are a statement
    each, one after another (sent at once in a pipelined transaction, they
    measured slower here). Only a ``final`` batch's last statement waits for
    the WAL flush (which flushes the others too); it also gives the lease
    back. Serializes everything before the flow runs.

    Raises:
        CorruptCheckpointError: A writes item's checkpoint does not exist: what
            came before it is stored, nothing after it is sent (the lease is
            released all the same when that item is the last).
    """
    queries: list[Query] = []
    checks: list[WritesItem | None] = []
    start = 0
    while start < len(items):
        item = items[start]
        end = start + 1
        if isinstance(item, WritesItem):
            owner = release if end == len(items) else None
            queries.append(_writes_query(serde, *item, owner))
            checks.append(item)
        else:
            while end < len(items) and isinstance(items[end], SaveItem):
                end += 1
            saves = [i for i in items[start:end] if isinstance(i, SaveItem)]
            then = _following_writes(saves[-1], items[end] if end < len(items) else None)
            if then is not None:
                end += 1
            last = end == len(items)
            query = _saves_query(serde, saves, then, final and last, release if last else None)
            queries.append(query)
            checks.append(None)
        start = end
    return _write_batch(queries, checks)


def _following_writes(
    save: SaveItem, item: SaveItem | WritesItem | None
) -> Sequence[PendingWrite] | None:
    """``item``'s writes if they are ``save``'s checkpoint's (one statement can store both)."""
    cp = save.checkpoint
    if isinstance(item, WritesItem) and (item.thread_id, item.ns, item.checkpoint_id) == (
        cp.thread_id,
        cp.ns,
        cp.id,
    ):
        return item.writes
    return None


def _saves_query(
    serde: Serializer,
    saves: Sequence[SaveItem],
    then: Sequence[PendingWrite] | None,
    final: bool,
    release: str | None,
) -> Query:
    if then is not None:
        sql = _sql.SAVE_MANY_WRITES if final else _sql.SAVE_MANY_WRITES_MIDRUN
        released = _sql.SAVE_MANY_WRITES_RELEASED
    elif len(saves) == 1:
        return _save_query(serde, *saves[0], final, release)
    else:
        sql = _sql.SAVE_MANY if final else _sql.SAVE_MANY_MIDRUN
        released = _sql.SAVE_MANY_RELEASED
    params = save_many_params(saves, serde, then)
    if release is not None:
        params["owner"] = release
        return Query(released, params)
    return Query(sql, params)


def _write_batch(queries: Sequence[Query], checks: Sequence[WritesItem | None]) -> Flow[None]:
    for query, item in zip(queries, checks, strict=True):
        rows = yield query
        if item is not None:
            _check_target(rows, item.thread_id, item.checkpoint_id)


def delete_thread(thread_id: str) -> Flow[None]:
    """Delete the thread's checkpoints, values, writes, index entry and request log."""
    yield Query(_sql.DELETE_THREAD, {"thread_id": thread_id})


class HistoryPages:
    """The paging state of one ``history()`` call: each :meth:`next` flow reads one page.

    Without a filter a page is one query (checkpoints, values and writes).
    With one, a page of headers is decoded first and only the matches are loaded.
    """

    def __init__(
        self,
        serde: Serializer,
        thread_id: str,
        ns: str,
        before: str | None,
        limit: int | None,
        filter: Mapping[str, Any] | None,
    ) -> None:
        self.serde = serde
        self.thread_id = thread_id
        self.ns = ns
        self.cursor = HistoryCursor(before, limit, filter)

    def next(self) -> Flow[list[StoredCheckpoint]] | None:
        """The flow reading the next page, or ``None`` when history is exhausted."""
        return None if self.cursor.done else self._page()

    def _page(self) -> Flow[list[StoredCheckpoint]]:
        cursor = self.cursor
        size = cursor.page_size()
        params: dict[str, Any] = {
            "thread_id": self.thread_id,
            "ns": self.ns,
            "before": cursor.before,
            "size": size,
        }
        first = cursor.before is None
        if cursor.filter is None:
            rows = yield Query(_sql.LOAD_PAGE if first else _sql.LOAD_PAGE_BEFORE, params)
            items = assemble(rows, self.serde, self.thread_id, self.ns)
            seen = [item.checkpoint.id for item in items]
        else:
            rows = yield Query(_sql.HEADERS_PAGE if first else _sql.HEADERS_PAGE_BEFORE, params)
            seen = [row[0] for row in rows]
            ids = matching_ids(rows, self.serde, self.thread_id, self.ns, cursor.filter)
            items = []
            if ids:
                params["ids"] = text_array(ids)
                found = yield Query(_sql.LOAD_IDS, params)
                items = assemble(found, self.serde, self.thread_id, self.ns)
        return cursor.advance(seen, size, items)


def acquire_lease(thread_id: str, owner: str, ttl: float) -> Flow[bool]:
    """Take or renew the lease; ``True`` when ``owner`` holds it afterwards."""
    rows = yield Query(_sql.ACQUIRE_LEASE, {"thread_id": thread_id, "owner": owner, "ttl": ttl})
    return bool(rows)


def release_lease(thread_id: str, owner: str) -> Flow[None]:
    """Give the lease back if ``owner`` holds it."""
    yield Query(_sql.RELEASE_LEASE, {"thread_id": thread_id, "owner": owner})


def recall_request(thread_id: str, key: str) -> Flow[str | None]:
    """The checkpoint id stored for the idempotency ``key``, or ``None``."""
    rows = yield Query(_sql.RECALL_REQUEST, {"thread_id": thread_id, "key": key})
    return str(rows[0][0]) if rows else None


def remember_request(thread_id: str, key: str, checkpoint_id: str) -> Flow[None]:
    """Store where a request ended; the first one stored wins."""
    params = {"thread_id": thread_id, "key": key, "checkpoint_id": checkpoint_id}
    yield Query(_sql.REMEMBER_REQUEST, params)


def list_threads() -> Flow[list[str]]:
    """Every thread id with a checkpoint, sorted by code point."""
    rows = yield Query(_sql.LIST_THREADS)
    return [row[0] for row in rows]


def prune(thread_id: str, keep_last: int) -> Flow[int]:
    """Delete all but the newest ``keep_last`` checkpoints per namespace (and not what they read).

    Raises:
        ValueError: ``keep_last`` is below 1.
    """
    if keep_last < 1:
        raise ValueError(f"keep_last must be at least 1, got {keep_last}.")
    rows = yield Query(_sql.PRUNE, {"thread_id": thread_id, "keep": keep_last})
    return int(rows[0][0])
