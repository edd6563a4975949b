"""The optional capabilities of the SQLite saver: waiting index, leases, request log, pruning.

Each method is one transaction on the saver's connection, under the saver's
lock; writes take SQLite's write lock first (``BEGIN IMMEDIATE``), so
processes sharing the file see each other's leases and entries at once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pausegraph.checkpoint._codec import decode_header
from pausegraph.checkpoint.capabilities import BlockingAsyncTwins, WaitingPage
from pausegraph.checkpoint.sqlite import _inbox
from pausegraph.checkpoint.sqlite._errors import storage_error
from pausegraph.checkpoint.sqlite._sql import (
    ACQUIRE_LEASE,
    DELETE_CHECKPOINT,
    DELETE_ORPHAN_BLOBS,
    DELETE_WRITES_OF,
    HISTORY,
    IDS,
    LIST_THREADS,
    NAMESPACES,
    ONE,
    RECALL_REQUEST,
    RELEASE_LEASE,
    REMEMBER_REQUEST,
    begin,
    commit,
    rollback,
)

if TYPE_CHECKING:
    import threading

    from pausegraph.checkpoint.serde import Serializer

__all__ = ["SqliteCapabilities"]


class SqliteCapabilities(BlockingAsyncTwins):
    """Mixed into :class:`~pausegraph.checkpoint.sqlite.SqliteSaver`; see its docstring."""

    if TYPE_CHECKING:
        conn: sqlite3.Connection
        serde: Serializer
        _lock: threading.Lock
        _path: str
        _ready: bool

        def setup(self) -> None: ...

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one transaction: committed for a write, rolled back for a read.

        Raises:
            StorageError: SQLite failed (locked too long, closed, damaged file).
        """
        if not self._ready:
            self.setup()
        conn = self.conn
        with self._lock:
            try:
                own = begin(conn, "BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield conn
                    if write:
                        commit(conn, own)
                    elif own:
                        rollback(conn, own)
                except BaseException:
                    rollback(conn, own)  # a failed COMMIT leaves the transaction open
                    raise
            except sqlite3.Error as exc:
                raise storage_error(self._path, exc) from exc

    # -- WaitingIndex ----------------------------------------------------------

    def list_waiting(
        self,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """Threads waiting for a person, oldest pause first (see :class:`WaitingIndex`).

        One indexed query: the graph and (plain) metadata filters, the cursor
        and the page size all run in SQL.

        Raises:
            ValueError: ``limit`` is below 1.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}.")
        with self._transaction(write=False) as conn:
            return _inbox.list_waiting(
                conn, self.serde.loads, graph=graph, metadata=metadata, limit=limit, after=after
            )

    # -- ThreadLeases ------------------------------------------------------------

    def acquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Take or renew the thread's lease for ``ttl`` seconds (see :class:`ThreadLeases`).

        Atomic across processes: one upsert that changes a row only when the
        lease is free, expired (by the wall clock), or already ``owner``'s.

        Returns:
            Whether ``owner`` holds the lease now.
        """
        now = time.time()
        with self._transaction(write=True) as conn:
            changed = conn.execute(ACQUIRE_LEASE, (thread_id, owner, now + ttl, now)).rowcount
        return changed > 0

    def release_lease(self, thread_id: str, owner: str) -> None:
        """Give the lease back if ``owner`` holds it (otherwise do nothing)."""
        with self._transaction(write=True) as conn:
            conn.execute(RELEASE_LEASE, (thread_id, owner))

    # -- RequestLog ----------------------------------------------------------------

    def recall_request(self, thread_id: str, key: str) -> str | None:
        """The checkpoint a request with this idempotency key ended at, or ``None``."""
        with self._transaction(write=False) as conn:
            row = conn.execute(RECALL_REQUEST, (thread_id, key)).fetchone()
        return None if row is None else str(row[0])

    def remember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """Store the checkpoint a request ended at (the first one stored wins)."""
        with self._transaction(write=True) as conn:
            conn.execute(REMEMBER_REQUEST, (thread_id, key, checkpoint_id))

    # -- ThreadMaintenance -----------------------------------------------------------

    def list_threads(self) -> list[str]:
        """Every thread id with at least one checkpoint, sorted."""
        with self._transaction(write=False) as conn:
            return [row[0] for row in conn.execute(LIST_THREADS).fetchall()]

    def prune(self, thread_id: str, *, keep_last: int) -> int:
        """Delete all but the newest ``keep_last`` checkpoints of each namespace.

        Also keeps every older checkpoint whose values a kept one reads (and,
        in turn, what that one reads), so every checkpoint left loads, the
        current state and pending interrupts included. Deletes the writes and
        the values of what it deletes, in one transaction.

        Returns:
            How many checkpoints were deleted.

        Raises:
            ValueError: ``keep_last`` is below 1.
        """
        if keep_last < 1:
            raise ValueError(f"keep_last must be at least 1, got {keep_last}.")
        deleted = 0
        with self._transaction(write=True) as conn:
            for (ns,) in conn.execute(NAMESPACES, (thread_id,)).fetchall():
                deleted += self._prune_namespace(conn, thread_id, ns, keep_last)
        return deleted

    def _prune_namespace(
        self, conn: sqlite3.Connection, thread_id: str, ns: str, keep_last: int
    ) -> int:
        todo: list[tuple[str, bytes]] = conn.execute(HISTORY, (thread_id, ns, keep_last)).fetchall()
        keep = {cid for cid, _ in todo}
        while todo:  # what the kept checkpoints read, transitively
            cid, header = todo.pop()
            checkpoint = decode_header(
                header, self.serde, thread_id=thread_id, ns=ns, checkpoint_id=cid, values=None
            )
            for version in checkpoint.versions.values():
                if version not in keep:
                    keep.add(version)
                    row = conn.execute(ONE, (thread_id, ns, version)).fetchone()
                    if row is not None:
                        todo.append(row)
        doomed = [
            (thread_id, ns, cid)
            for (cid,) in conn.execute(IDS, (thread_id, ns)).fetchall()
            if cid not in keep
        ]
        if doomed:
            conn.executemany(DELETE_WRITES_OF, doomed)
            conn.executemany(DELETE_CHECKPOINT, doomed)
            conn.execute(DELETE_ORPHAN_BLOBS, (thread_id, ns))
        return len(doomed)
