"""The optional capabilities of the SQLite saver: waiting index, leases, batches, request log,
pruning.

Each method is one transaction on the saver's connection, under the saver's
lock; writes take SQLite's write lock first (``BEGIN IMMEDIATE``), so
processes sharing the file see each other's leases and entries at once.

That lock is what makes folded leases safe: :meth:`~SqliteCapabilities.load_leased`
takes the lease and then loads in one write transaction, so no other writer
can commit in between, and the load sees everything the previous holder
committed (its last write gave the lease back in that write's transaction).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pausegraph.checkpoint._codec import checkpoint_from_fields
from pausegraph.checkpoint._inline import decode_entry
from pausegraph.checkpoint.capabilities import (
    BlockingAsyncTwins,
    BlockingFoldedTwins,
    SaveItem,
    WaitingPage,
    WritesItem,
)
from pausegraph.checkpoint.sqlite import _inbox
from pausegraph.checkpoint.sqlite._errors import storage_error
from pausegraph.checkpoint.sqlite._rows import Rows, item_rows, save_rows, writes_rows
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

    from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint
    from pausegraph.checkpoint.serde import Serializer

__all__ = ["SqliteCapabilities"]


class SqliteCapabilities(BlockingAsyncTwins, BlockingFoldedTwins):
    """Mixed into :class:`~pausegraph.checkpoint.sqlite.SqliteSaver`; see its docstring."""

    if TYPE_CHECKING:
        conn: sqlite3.Connection
        serde: Serializer
        _lock: threading.RLock
        _group: bool
        _path: str
        _ready: bool

        def setup(self) -> None: ...

        def _read(
            self, thread_id: str, ns: str, checkpoint_id: str | None
        ) -> StoredCheckpoint | None: ...

        def _store(self, items: Sequence[Rows], release: str | None = None) -> None: ...

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
                own = begin(conn, "BEGIN IMMEDIATE" if write else "BEGIN", grouped=self._group)
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

    # -- FoldedLeases --------------------------------------------------------------

    def load_leased(
        self, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
    ) -> tuple[bool, StoredCheckpoint | None]:
        """Take the lease and load, in one write transaction (see :class:`FoldedLeases`).

        The transaction holds SQLite's write lock from its first statement, so
        the load sees every commit before the lease was taken. All or nothing:
        when the load fails (a damaged checkpoint) the lease is not taken either.

        Returns:
            ``(taken, loaded)``; ``loaded`` is ``None`` when not taken.
        """
        now = time.time()
        with self._transaction(write=True) as conn:
            if conn.execute(ACQUIRE_LEASE, (thread_id, owner, now + ttl, now)).rowcount <= 0:
                return False, None
            return True, self._read(thread_id, ns, checkpoint_id)

    def save_released(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], owner: str
    ) -> None:
        """``save(...)`` and ``release_lease(thread_id, owner)`` in one transaction."""
        if not self._ready:
            self.setup()
        self._store((save_rows(checkpoint, parent_writes, self.serde),), owner)

    def save_writes_released(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """``save_writes(...)`` and ``release_lease(thread_id, owner)`` in one transaction.

        Raises:
            CorruptCheckpointError: The checkpoint does not exist; nothing was
                written, and the lease is still held.
        """
        if not self._ready:
            self.setup()
        self._store((writes_rows(thread_id, ns, checkpoint_id, writes, self.serde),), owner)

    # -- BatchedWrites ---------------------------------------------------------------

    def write_batch(
        self,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        """Store ``items`` in order in one transaction (see :class:`BatchedWrites`).

        All or nothing: when an item fails, nothing of the batch is stored (and
        a lease to give back stays held). Everything is serialized before the
        transaction starts. ``final`` changes nothing: SQLite commits every
        transaction alike (see the saver's durability notes).

        Raises:
            CorruptCheckpointError: A ``WritesItem`` names a checkpoint that
                neither the file nor an earlier item holds.
            TypeError: An item is neither a ``SaveItem`` nor a ``WritesItem``.
            ValueError: ``release`` is given without items (it names no thread).
        """
        if not items:
            if release is not None:
                raise ValueError(
                    f"write_batch(release={release!r}) gives back the lease on the thread of "
                    "the last item, but the batch is empty: pass at least one item, or call "
                    "release_lease(thread_id, owner)."
                )
            return
        if not self._ready:
            self.setup()
        serde = self.serde
        self._store([item_rows(item, serde) for item in items], release)

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
        # A value a kept checkpoint reads may be inline in the row of the older
        # checkpoint that wrote it (schema 4). That row is kept whole, not emptied
        # into a blob row first: the loop below keeps every checkpoint a kept one
        # reads anyway (each kept checkpoint must load), so its inline values stay
        # with it, and pruning writes no rows, only deletes them.
        todo: list[tuple[str, bytes]] = conn.execute(HISTORY, (thread_id, ns, keep_last)).fetchall()
        keep = {cid for cid, _ in todo}
        while todo:  # what the kept checkpoints read, transitively
            cid, header = todo.pop()
            checkpoint = checkpoint_from_fields(
                decode_entry(header, self.serde, thread_id, cid)[0],
                thread_id=thread_id,
                ns=ns,
                checkpoint_id=cid,
                values=None,
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
