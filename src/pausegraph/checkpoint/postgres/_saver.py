"""The sync Postgres saver: runs the shared flows (``_ops``) on a connection or a pool."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg

from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint
from pausegraph.checkpoint.base import BaseCheckpointSaver
from pausegraph.checkpoint.capabilities import (
    BlockingAsyncTwins,
    BlockingFoldedTwins,
    SaveItem,
    WaitingPage,
    WritesItem,
)
from pausegraph.checkpoint.postgres import _ops
from pausegraph.checkpoint.postgres._conn import (
    check_connection,
    connect_error,
    connect_kwargs,
    describe,
    mask,
    storage_error,
)
from pausegraph.checkpoint.postgres._flow import Flow, run
from pausegraph.checkpoint.postgres._schema import setup_flow
from pausegraph.checkpoint.serde import Serializer

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresSaver"]

T = TypeVar("T")


class PostgresSaver(BlockingAsyncTwins, BlockingFoldedTwins, BaseCheckpointSaver):
    """Keeps checkpoints in PostgreSQL, shared by every process that connects to it.

    Offers every optional capability: the waiting index, thread leases (one
    run per thread across processes, timed by the server's clock, taken with a
    run's first load and given back with its last write),
    idempotency keys, listing and pruning. Each operation is one statement,
    so one round trip.

    With one connection, calls from several threads take turns (the runtime
    saves parallel tasks' writes from worker threads); pass a
    ``psycopg_pool.ConnectionPool`` to let them run at once. Connections
    should be in autocommit mode (``from_conn_string`` makes one so); on a
    connection that is not, each operation runs in its own transaction,
    which costs two more round trips.

    The tables are created on first use when :meth:`setup` was not called.

    Args:
        conn: A ``psycopg.Connection`` or a ``psycopg_pool.ConnectionPool``;
            the saver never closes it.
        serde: The serializer; defaults to a fresh ``MsgpackSerializer``.

    Example:
        >>> with PostgresSaver.from_conn_string("postgresql://postgres@localhost/test") as saver:
        ...     saver.setup()
        ...     graph = builder.compile(checkpointer=saver)
    """

    def __init__(
        self,
        conn: psycopg.Connection[Any] | ConnectionPool[Any],
        *,
        serde: Serializer | None = None,
    ) -> None:
        check_connection(conn, asynchronous=False)
        super().__init__(serde=serde)
        self.conn = conn
        self._lock = threading.Lock()
        self._ready = False
        self._where = describe(conn)

    @classmethod
    @contextmanager
    def from_conn_string(
        cls, conn_string: str, *, serde: Serializer | None = None
    ) -> Iterator[PostgresSaver]:
        """A saver on a new autocommit connection to ``conn_string``, closed when the block exits.

        Args:
            conn_string: A ``postgresql://`` URL or a ``key=value`` string. Unless it
                sets ``connect_timeout``, connecting gives up after 5 seconds.
            serde: The serializer; defaults to a fresh ``MsgpackSerializer``.

        Raises:
            StorageError: The string is invalid or the server cannot be reached;
                the message names the URL with its password masked.
        """
        kwargs = connect_kwargs(conn_string)
        try:
            conn = psycopg.connect(conn_string, **kwargs)
        except psycopg.Error as exc:
            raise connect_error(conn_string, exc) from None
        try:
            saver = cls(conn, serde=serde)
            saver._where = mask(conn_string)
            yield saver
        finally:
            conn.close()

    def setup(self) -> None:
        """Create, check or migrate the tables. Safe to call more than once, and at once.

        Raises:
            CorruptCheckpointError: A newer pausegraph wrote the tables, or they have
                a shape this one does not know. Nothing was changed.
            StorageError: The server failed or refused (for instance, no right to
                create tables).
        """
        self._execute(setup_flow(self._where), atomic=True)
        self._ready = True

    # -- running flows -----------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        conn = self.conn
        if isinstance(conn, psycopg.Connection):
            with self._lock:
                yield conn
        else:
            with conn.connection() as pooled:
                yield pooled

    def _execute(self, flow: Flow[T], *, atomic: bool = False) -> T:
        try:
            with self._connection() as conn:
                if atomic or not conn.autocommit:
                    with conn.transaction():
                        return run(conn, flow)
                return run(conn, flow)
        except psycopg.Error as exc:
            raise storage_error(self._where, exc) from exc

    def _run(self, flow: Flow[T]) -> T:
        if not self._ready:
            self.setup()
        return self._execute(flow)

    # -- the base contract -------------------------------------------------------

    def load(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        return self._run(_ops.load(self.serde, thread_id, ns, checkpoint_id))

    def save(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        self._run(_ops.save(self.serde, checkpoint, parent_writes, final=final))

    def save_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        self._run(_ops.save_writes(self.serde, thread_id, ns, checkpoint_id, writes))

    def history(
        self,
        thread_id: str,
        ns: str = "",
        *,
        before: str | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Iterator[StoredCheckpoint]:
        pages = _ops.HistoryPages(self.serde, thread_id, ns, before, limit, filter)
        while (flow := pages.next()) is not None:
            yield from self._run(flow)

    def delete_thread(self, thread_id: str) -> None:
        self._run(_ops.delete_thread(thread_id))

    # -- capabilities ------------------------------------------------------------

    def list_waiting(
        self,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """Threads waiting for a person, oldest pause first (see ``WaitingIndex``)."""
        return self._run(_ops.list_waiting(self.serde, graph, metadata, limit, after))

    def acquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Take or renew the thread's lease (see ``ThreadLeases``)."""
        return self._run(_ops.acquire_lease(thread_id, owner, ttl))

    def release_lease(self, thread_id: str, owner: str) -> None:
        """Give the lease back if ``owner`` holds it."""
        self._run(_ops.release_lease(thread_id, owner))

    def write_batch(
        self,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        """Store saves and writes in order, consecutive saves in one statement (see ``BatchedWrites``)."""
        self._run(_ops.write_batch(self.serde, items, final=final, release=release))

    def load_leased(
        self, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
    ) -> tuple[bool, StoredCheckpoint | None]:
        """Take the lease and load, in one statement (see ``FoldedLeases``)."""
        return self._run(_ops.load_leased(self.serde, thread_id, ns, checkpoint_id, owner, ttl))

    def save_released(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], owner: str
    ) -> None:
        """A final save that gives ``owner``'s lease back in the same statement."""
        self._run(_ops.save(self.serde, checkpoint, parent_writes, release=owner))

    def save_writes_released(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """Writes that give ``owner``'s lease back in the same statement."""
        flow = _ops.save_writes(self.serde, thread_id, ns, checkpoint_id, writes, release=owner)
        self._run(flow)

    def recall_request(self, thread_id: str, key: str) -> str | None:
        """The checkpoint a request with this idempotency key ended at."""
        return self._run(_ops.recall_request(thread_id, key))

    def remember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """Store the checkpoint a request ended at (the first one stored wins)."""
        self._run(_ops.remember_request(thread_id, key, checkpoint_id))

    def list_threads(self) -> list[str]:
        """Every thread id with at least one checkpoint, sorted."""
        return self._run(_ops.list_threads())

    def prune(self, thread_id: str, *, keep_last: int) -> int:
        """Delete all but the newest ``keep_last`` checkpoints per namespace (and not what they read)."""
        return self._run(_ops.prune(thread_id, keep_last))
