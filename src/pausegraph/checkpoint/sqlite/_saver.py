"""The SQLite checkpoint saver."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pausegraph._offload import Outcome
from pausegraph.checkpoint._codec import checkpoint_from_fields, load_values
from pausegraph.checkpoint._inline import InlineRows, decode_entry, read_values
from pausegraph.checkpoint._paging import PAGE
from pausegraph.checkpoint._records import (
    Checkpoint,
    PendingWrite,
    StoredCheckpoint,
)
from pausegraph.checkpoint.base import BaseCheckpointSaver, metadata_matches
from pausegraph.checkpoint.serde import Serializer
from pausegraph.checkpoint.sqlite._capabilities import SqliteCapabilities
from pausegraph.checkpoint.sqlite._errors import storage_error
from pausegraph.checkpoint.sqlite._rows import Rows, apply, save_rows, writes_anything, writes_rows
from pausegraph.checkpoint.sqlite._schema import database_path, ensure_schema
from pausegraph.checkpoint.sqlite._sql import (
    DELETE_THREAD,
    HISTORY,
    HISTORY_BEFORE,
    LATEST,
    MAX_PAIRS,
    ONE,
    RELEASE_LEASE,
    WRITES_OF,
    begin,
    commit,
    rollback,
    values_query,
)

__all__ = ["BUSY_TIMEOUT", "SqliteSaver", "connect"]

BUSY_TIMEOUT = 5.0
"""Seconds a connection made by :meth:`SqliteSaver.from_conn_string` waits for a lock."""


def connect(conn_string: str | os.PathLike[str]) -> sqlite3.Connection:
    """The connection ``from_conn_string`` opens: usable from any thread, explicit transactions.

    Args:
        conn_string: A file path, ``":memory:"``, or a ``file:`` URI.
    """
    target = os.fspath(conn_string)
    return sqlite3.connect(
        target,
        timeout=BUSY_TIMEOUT,
        isolation_level=None,  # transactions are explicit: BEGIN ... COMMIT
        check_same_thread=False,
        uri=target.startswith("file:"),
    )


class SqliteSaver(SqliteCapabilities, BaseCheckpointSaver):
    """Keeps checkpoints in a SQLite file: the embedded default durable saver.

    One connection serves every thread of the process: calls are serialized by
    a lock, so create the connection with ``check_same_thread=False`` (the
    runtime saves task writes from worker threads). Other processes may open
    the same file at the same time; each waits up to its busy timeout for the
    write lock.

    Offers every optional capability (:mod:`pausegraph.checkpoint.capabilities`):
    the waiting index (kept in the transactions that save checkpoints), thread
    leases shared by every process that opens the file (they expire by the
    wall clock, so keep the machines' clocks in sync), idempotency keys,
    listing and pruning. For asyncio use
    :class:`~pausegraph.checkpoint.sqlite.aio.AsyncSqliteSaver`.

    Durability: :meth:`setup` puts a file into WAL mode with
    ``synchronous=NORMAL``. A commit then survives a crash of the process, but
    an operating-system crash or power loss may lose the last few commits
    (never corrupt the file). For full durability run
    ``conn.execute("PRAGMA synchronous=FULL")`` after :meth:`setup`, at the
    cost of an fsync per checkpoint.

    The tables are created on first use when :meth:`setup` was not called.
    They are named ``pausegraph_*``, so a file may also hold other tables
    (LangGraph's, for instance).

    Args:
        conn: The connection to use; the saver never closes it.
        serde: The serializer; defaults to a fresh ``MsgpackSerializer``.

    Example:
        >>> with SqliteSaver.from_conn_string("checkpoints.db") as saver:
        ...     graph = builder.compile(checkpointer=saver)
    """

    def __init__(self, conn: sqlite3.Connection, *, serde: Serializer | None = None) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self._lock = threading.RLock()  # a group's calls take it again (see _together)
        self._group = False  # a group's transaction is open: calls neither commit nor roll back
        self._ready = False
        self._path = "the SQLite database"

    @classmethod
    @contextmanager
    def from_conn_string(
        cls, conn_string: str | os.PathLike[str], *, serde: Serializer | None = None
    ) -> Iterator[SqliteSaver]:
        """A saver on a new connection to ``conn_string``, closed when the block exits.

        Args:
            conn_string: A file path, ``":memory:"``, or a ``file:`` URI.
            serde: The serializer; defaults to a fresh ``MsgpackSerializer``.

        Example:
            >>> with SqliteSaver.from_conn_string("checkpoints.db") as saver:
            ...     saver.setup()
        """
        conn = connect(conn_string)
        try:
            yield cls(conn, serde=serde)
        finally:
            conn.close()

    def setup(self) -> None:
        """Create, check or migrate the tables. Safe to call more than once.

        Raises:
            CorruptCheckpointError: The file is not a SQLite database, its
                ``pausegraph_`` tables have another shape, or a newer pausegraph
                wrote it. Nothing in the file was changed.
            StorageError: The file stayed locked, or SQLite is too old.
        """
        with self._lock:
            self._path = database_path(self.conn)
            ensure_schema(self.conn, self._path)
            self._ready = True

    # -- reading -------------------------------------------------------------

    def load(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        if not self._ready:
            self.setup()
        conn = self.conn
        with self._lock:
            try:
                own = begin(conn, grouped=self._group)  # one snapshot: header, values, writes
                try:
                    return self._read(thread_id, ns, checkpoint_id)
                finally:
                    if own:
                        rollback(conn, own)
            except sqlite3.Error as exc:
                raise storage_error(self._path, exc) from exc

    def _read(self, thread_id: str, ns: str, checkpoint_id: str | None) -> StoredCheckpoint | None:
        """What :meth:`load` returns; the caller holds the lock and a transaction."""
        if checkpoint_id is None:
            row = self.conn.execute(LATEST, (thread_id, ns)).fetchone()
        else:
            row = self.conn.execute(ONE, (thread_id, ns, checkpoint_id)).fetchone()
        if row is None:
            return None
        return self._decode(thread_id, ns, row[0], row[1], None, {})

    def history(
        self,
        thread_id: str,
        ns: str = "",
        *,
        before: str | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Iterator[StoredCheckpoint]:
        if limit is not None and limit <= 0:
            return
        if not self._ready:
            self.setup()
        page = PAGE if filter or limit is None else min(limit, PAGE)
        left = limit
        while True:
            items, before, full = self._page(thread_id, ns, before, page, filter)
            for stored in items:
                yield stored
                if left is not None:
                    left -= 1
                    if left == 0:
                        return
            if not full:
                return

    def _page(
        self,
        thread_id: str,
        ns: str,
        before: str | None,
        size: int,
        filter: Mapping[str, Any] | None,
    ) -> tuple[list[StoredCheckpoint], str | None, bool]:
        """Up to ``size`` checkpoints older than ``before``, the matching ones decoded.

        Returns:
            The matches, the id to continue before, and whether the page was full.
        """
        conn = self.conn
        with self._lock:
            try:
                own = begin(conn, grouped=self._group)
                try:
                    if before is None:
                        rows = conn.execute(HISTORY, (thread_id, ns, size)).fetchall()
                    else:
                        rows = conn.execute(
                            HISTORY_BEFORE, (thread_id, ns, before, size)
                        ).fetchall()
                    out: list[StoredCheckpoint] = []
                    entries = dict(rows)  # the page's rows may hold each other's values
                    for cid, header in rows:
                        stored = self._decode(thread_id, ns, cid, header, filter, entries)
                        if stored is not None:
                            out.append(stored)
                finally:
                    if own:
                        rollback(conn, own)
            except sqlite3.Error as exc:
                raise storage_error(self._path, exc) from exc
        return out, rows[-1][0] if rows else before, len(rows) == size

    def _decode(
        self,
        thread_id: str,
        ns: str,
        cid: str,
        header: bytes,
        filter: Mapping[str, Any] | None,
        entries: dict[str, bytes],
    ) -> StoredCheckpoint | None:
        """The stored checkpoint of a row; ``None`` when it fails ``filter``.

        The caller holds the lock. Values are read only for a match: from
        the row itself, the other rows at hand (``entries``, by id: a history
        page's, and the rows its checkpoints fetched) and one lookup of the rest.
        """
        fields, inline = decode_entry(header, self.serde, thread_id, cid)

        def values(pairs: Mapping[str, str]) -> dict[str, Any]:
            rows = InlineRows(self.serde, thread_id, cid, inline, entries)
            return self._values(thread_id, ns, rows, entries, pairs)

        checkpoint = checkpoint_from_fields(
            fields,
            thread_id=thread_id,
            ns=ns,
            checkpoint_id=cid,
            values=None if filter else values,
        )
        if filter:
            if not metadata_matches(checkpoint, filter):
                return None
            checkpoint = checkpoint._replace(values=load_values(checkpoint, values))
        found = self.conn.execute(WRITES_OF, (thread_id, ns, cid)).fetchall()
        if not found:
            return StoredCheckpoint(checkpoint)
        loads = self.serde.loads
        return StoredCheckpoint(
            checkpoint,
            tuple(PendingWrite(task, channel, loads(data)) for task, channel, data in found),
        )

    def _values(
        self,
        thread_id: str,
        ns: str,
        rows: InlineRows,
        entries: dict[str, bytes],
        pairs: Mapping[str, str],
    ) -> dict[str, Any]:
        """The full state: each blob key's value from its blob row or its checkpoint's row.

        Values inline in a row at hand (``rows``) need no lookup; the others are
        one query (per :data:`MAX_PAIRS`) for their blob rows and the checkpoint
        rows not at hand, each by primary key. Fetched rows join ``entries``
        (the rows behind ``rows``), for the next checkpoint of a history page.
        """
        ask: list[tuple[str, str, int]] = []
        asked: set[str] = set()
        for key, version in pairs.items():
            if rows.known(version):
                found = rows.get(version)
                if found is None or key not in found:  # then it has a blob row
                    ask.append((key, version, 0))
            elif version in asked:
                ask.append((key, version, 0))
            else:
                asked.add(version)
                ask.append((key, version, 1))  # its blob row, or the row that wrote it
        blobs: dict[tuple[str, str], bytes] = {}
        for start in range(0, len(ask), MAX_PAIRS):
            chunk = ask[start : start + MAX_PAIRS]
            args: list[Any] = [thread_id, ns]
            for item in chunk:
                args += item
            for key, version, data in self.conn.execute(values_query(len(chunk)), args):
                if key is None:
                    entries[version] = data
                else:
                    blobs[(key, version)] = data
        return read_values(pairs, blobs, rows, self._path)

    # -- writing -------------------------------------------------------------

    def save(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        if not self._ready:
            self.setup()
        self._store((save_rows(checkpoint, parent_writes, self.serde),))

    def save_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        if not self._ready:
            self.setup()
        self._store((writes_rows(thread_id, ns, checkpoint_id, writes, self.serde),))

    def _store(self, items: Sequence[Rows], release: str | None = None) -> None:
        """Apply ``items`` in order in one transaction, then give ``release``'s lease back.

        The lease is the one on the last item's thread, and is given back in the
        same transaction. All or nothing: when an item fails, or the commit does,
        the transaction rolls back and nothing of it stays (the lease included).

        Raises:
            CorruptCheckpointError: A writes item's checkpoint does not exist.
            StorageError: SQLite failed (the file stayed locked, for instance).
        """
        conn = self.conn
        # A lone write with nothing to store only checks that its checkpoint exists.
        write = release is not None or len(items) > 1 or writes_anything(items[0])
        with self._lock:
            try:
                own = begin(conn, "BEGIN IMMEDIATE" if write else "BEGIN", grouped=self._group)
                try:
                    for rows in items:
                        apply(conn, rows)
                    if release is not None:
                        conn.execute(RELEASE_LEASE, (items[-1].thread_id, release))
                    if write:
                        commit(conn, own)
                    elif own:
                        rollback(conn, own)
                except BaseException:
                    rollback(conn, own)  # a failed COMMIT leaves the transaction open
                    raise
            except sqlite3.Error as exc:
                raise storage_error(self._path, exc) from exc

    def _together(self, calls: Sequence[Callable[[], Any]]) -> list[Outcome]:
        """Run ``calls`` (methods of this saver) in one write transaction, with one commit.

        ``AsyncSqliteSaver`` runs what its lane has queued this way: a commit
        costs more than most calls. Each call runs in a savepoint of its own, so
        one that fails is undone alone and gets its error while the others go
        on. The outcomes are returned after the commit, so no call is reported
        done before it is durable; when the commit fails (or SQLite aborts the
        transaction), nothing of the group stays and every call gets that error.
        Runs the calls one by one, each in its own transaction, when there is
        one, before :meth:`setup`, inside a transaction the caller left open, or
        when another connection kept the write lock past the busy timeout (so
        that reads still succeed).
        """
        conn = self.conn
        with self._lock:
            if len(calls) == 1 or not self._ready or conn.in_transaction:
                return [_outcome(call) for call in calls]
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error:  # the file stayed locked: reads need no write lock
                return [_outcome(call) for call in calls]
            outcomes: list[Outcome] = []
            self._group = True
            try:
                for call in calls:
                    conn.execute("SAVEPOINT pausegraph_call")
                    outcome = _outcome(call)
                    if outcome[0] is not None:
                        if not conn.in_transaction:  # SQLite gave the whole group up
                            raise outcome[0]
                        conn.execute("ROLLBACK TO pausegraph_call")
                    conn.execute("RELEASE pausegraph_call")
                    outcomes.append(outcome)
                conn.execute("COMMIT")
            except BaseException as exc:
                rollback(conn, True)
                error = storage_error(self._path, exc) if isinstance(exc, sqlite3.Error) else exc
                done: list[Outcome] = [(outcome[0] or error, None) for outcome in outcomes]
                return done + [(error, None)] * (len(calls) - len(outcomes))
            finally:
                self._group = False
        return outcomes

    def delete_thread(self, thread_id: str) -> None:
        with self._transaction(write=True) as conn:
            for statement in DELETE_THREAD:
                conn.execute(statement, (thread_id,))


def _outcome(call: Callable[[], Any]) -> Outcome:
    try:
        return None, call()
    except BaseException as exc:
        return exc, None
