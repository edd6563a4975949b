"""What a save or a write stores, as rows: serialized first, applied inside a transaction.

Every way the SQLite saver writes (``save``, ``save_writes``, their
``_released`` forms and ``write_batch``) turns its items into rows here before
it takes the saver's lock, so a value that cannot be serialized fails before
anything is locked or changed. :func:`apply` then runs one item's statements
inside the caller's write transaction: the same statements whichever way the
item came.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, NamedTuple

from pausegraph.checkpoint._inline import encode_entry
from pausegraph.checkpoint._records import Checkpoint, PendingWrite, created_at_of
from pausegraph.checkpoint.capabilities import WAITING, SaveItem, WritesItem
from pausegraph.checkpoint.serde import Serializer
from pausegraph.checkpoint.sqlite._inbox import WaitingRow, apply_waiting, split_waiting
from pausegraph.checkpoint.sqlite._sql import (
    CHECKPOINT_EXISTS,
    DELETE_WAITING,
    INSERT_BLOB,
    INSERT_CHECKPOINT,
    UPSERT_WRITE,
)
from pausegraph.errors import CorruptCheckpointError

__all__ = [
    "Rows",
    "SaveRows",
    "WritesRows",
    "apply",
    "item_rows",
    "save_rows",
    "writes_anything",
    "writes_rows",
]


class SaveRows(NamedTuple):
    """A ``save``: the checkpoint row, its changed values, and its parent's writes."""

    thread_id: str
    ns: str
    checkpoint: tuple[Any, ...]
    blobs: list[tuple[Any, ...]]
    writes: list[tuple[Any, ...]]


class WritesRows(NamedTuple):
    """A ``save_writes``: the write rows, and the waiting-index rows it sets or clears."""

    thread_id: str
    ns: str
    checkpoint_id: str
    writes: list[tuple[Any, ...]]
    waiting: list[WaitingRow | None]


Rows = SaveRows | WritesRows


def save_rows(
    checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], serde: Serializer
) -> SaveRows:
    """The rows of ``save(checkpoint, parent_writes)``.

    The checkpoint row keeps the small values the checkpoint wrote (see
    :mod:`pausegraph.checkpoint._inline`); the others get blob rows.
    """
    thread_id, ns, parent = checkpoint.thread_id, checkpoint.ns, checkpoint.parent_id
    dumps = serde.dumps
    entry, blobs = encode_entry(checkpoint, serde)
    return SaveRows(
        thread_id,
        ns,
        (
            thread_id,
            ns,
            checkpoint.id,
            parent,
            checkpoint.step,
            checkpoint.source,
            checkpoint.created_at or created_at_of(checkpoint.id),
            entry,
        ),
        [(thread_id, ns, key, version, data) for key, version, data in blobs],
        [
            (thread_id, ns, parent, w.task_id, w.channel, dumps(w.value))
            for w in parent_writes
            if w.channel != WAITING  # index entries: the thread moves on (or it is nested)
        ]
        if parent is not None
        else [],
    )


def writes_rows(
    thread_id: str,
    ns: str,
    checkpoint_id: str,
    writes: Sequence[PendingWrite],
    serde: Serializer,
) -> WritesRows:
    """The rows of ``save_writes(thread_id, ns, checkpoint_id, writes)``.

    Raises:
        ValueError: A ``WAITING`` write carries no ``encode_waiting()`` entry.
    """
    dumps = serde.dumps
    plain, waiting = split_waiting(thread_id, ns, checkpoint_id, writes, dumps)
    rows = [(thread_id, ns, checkpoint_id, w.task_id, w.channel, dumps(w.value)) for w in plain]
    return WritesRows(thread_id, ns, checkpoint_id, rows, waiting)


def item_rows(item: SaveItem | WritesItem, serde: Serializer) -> Rows:
    """The rows of one ``write_batch`` item.

    Raises:
        TypeError: ``item`` is neither a ``SaveItem`` nor a ``WritesItem``.
    """
    if isinstance(item, WritesItem):
        return writes_rows(*item, serde)
    if isinstance(item, SaveItem):
        return save_rows(*item, serde)
    raise TypeError(
        "write_batch() takes SaveItem(checkpoint, parent_writes) and "
        "WritesItem(thread_id, ns, checkpoint_id, writes) items, "
        f"got {type(item).__name__}: {item!r:.200}."
    )


def apply(conn: sqlite3.Connection, rows: Rows) -> None:
    """Run one item's statements; the caller holds the write transaction.

    Raises:
        CorruptCheckpointError: A writes item's checkpoint does not exist (nothing
            of the item was written; roll the transaction back to drop the rest).
    """
    if isinstance(rows, SaveRows):
        conn.execute(INSERT_CHECKPOINT, rows.checkpoint)
        blobs = rows.blobs
        if len(blobs) == 1:  # the usual case; execute() is cheaper than executemany()
            conn.execute(INSERT_BLOB, blobs[0])
        elif blobs:
            conn.executemany(INSERT_BLOB, blobs)
        if rows.writes:
            conn.executemany(UPSERT_WRITE, rows.writes)
        if not rows.ns:  # the thread moved on: its old interrupts are gone
            conn.execute(DELETE_WAITING, (rows.thread_id,))
        return
    key = (rows.thread_id, rows.ns, rows.checkpoint_id)
    if rows.writes:  # inserts nothing when the checkpoint is missing
        changed = conn.executemany(UPSERT_WRITE, rows.writes).rowcount
    else:
        changed = len(conn.execute(CHECKPOINT_EXISTS, key).fetchall())
    if changed <= 0:
        raise CorruptCheckpointError(
            f"Cannot save writes for checkpoint {rows.checkpoint_id!r} of thread "
            f"{rows.thread_id!r}: it does not exist."
        )
    if rows.waiting:  # not stored as writes: they set the index
        apply_waiting(conn, rows.thread_id, rows.waiting)


def writes_anything(rows: Rows) -> bool:
    """Whether applying ``rows`` changes the file (a write with nothing to store only checks)."""
    return isinstance(rows, SaveRows) or bool(rows.writes or rows.waiting)
