"""The async Postgres saver: runs the shared flows (``_ops``) on an async connection or pool."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg

from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint
from pausegraph.checkpoint.base import BaseCheckpointSaver
from pausegraph.checkpoint.capabilities import SaveItem, WaitingPage, WritesItem
from pausegraph.checkpoint.postgres import _ops
from pausegraph.checkpoint.postgres._conn import (
    check_connection,
    connect_error,
    connect_kwargs,
    describe,
    mask,
    storage_error,
    sync_connect_args,
)
from pausegraph.checkpoint.postgres._flow import Flow, arun
from pausegraph.checkpoint.postgres._saver import PostgresSaver
from pausegraph.checkpoint.postgres._schema import setup_flow
from pausegraph.checkpoint.serde import Serializer

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

__all__ = ["AsyncPostgresSaver"]

T = TypeVar("T")


class AsyncPostgresSaver(BaseCheckpointSaver):
    """:class:`~pausegraph.checkpoint.postgres.PostgresSaver` for ``ainvoke``/``astream``.

    Same tables, statements and guarantees; the I/O runs on the event loop.
    With one connection, concurrent calls take turns; pass a
    ``psycopg_pool.AsyncConnectionPool`` to let them run at once.

    The sync methods (``load``, ``acquire_lease``...) work anywhere, on or off
    the event loop: they run on a second, sync connection to the same
    database, opened on first use (the lease heartbeat renews leases through
    it, so a busy loop cannot make a lease lapse) and closed by
    :meth:`close_sync`, at the end of the ``from_conn_string`` block, or when
    the saver is garbage-collected.

    Args:
        conn: A ``psycopg.AsyncConnection`` or a ``psycopg_pool.AsyncConnectionPool``;
            the saver never closes it.
        serde: The serializer; defaults to a fresh ``MsgpackSerializer``.

    Example:
        >>> async with AsyncPostgresSaver.from_conn_string(url) as saver:
        ...     await saver.setup()
        ...     graph = builder.compile(checkpointer=saver)
        ...     await graph.ainvoke(inputs, config)
    """

    def __init__(
        self,
        conn: psycopg.AsyncConnection[Any] | AsyncConnectionPool[Any],
        *,
        serde: Serializer | None = None,
    ) -> None:
        check_connection(conn, asynchronous=True)
        super().__init__(serde=serde)
        self.conn = conn
        self._lock = asyncio.Lock()
        self._ready = False
        self._where = describe(conn)
        self._sync_args = sync_connect_args(conn)
        self._twin: PostgresSaver | None = None
        self._twin_lock = threading.Lock()

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls, conn_string: str, *, serde: Serializer | None = None
    ) -> AsyncIterator[AsyncPostgresSaver]:
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
            conn = await psycopg.AsyncConnection.connect(conn_string, **kwargs)
        except psycopg.Error as exc:
            raise connect_error(conn_string, exc) from None
        saver = cls(conn, serde=serde)
        saver._where = mask(conn_string)
        saver._sync_args = (conn_string, kwargs)
        try:
            yield saver
        finally:
            saver.close_sync()
            await conn.close()

    async def setup(self) -> None:  # type: ignore[override]  # awaited, as in LangGraph
        """Create, check or migrate the tables. Safe to await more than once, and at once.

        Raises:
            CorruptCheckpointError: A newer pausegraph wrote the tables, or they have
                a shape this one does not know. Nothing was changed.
            StorageError: The server failed or refused.
        """
        await self._execute(setup_flow(self._where), atomic=True)
        self._ready = True

    # -- running flows -----------------------------------------------------------

    async def _execute(self, flow: Flow[T], *, atomic: bool = False) -> T:
        conn = self.conn
        try:
            if isinstance(conn, psycopg.AsyncConnection):
                async with self._lock:
                    return await _in(conn, flow, atomic)
            async with conn.connection() as pooled:
                return await _in(pooled, flow, atomic)
        except psycopg.Error as exc:
            raise storage_error(self._where, exc) from exc

    async def _arun(self, flow: Flow[T]) -> T:
        if not self._ready:
            await self.setup()
        return await self._execute(flow)

    def _sync(self) -> PostgresSaver:
        """The sync saver the sync methods use: same database, its own connection."""
        with self._twin_lock:
            if self._twin is None:
                conninfo, kwargs = self._sync_args
                try:
                    conn = psycopg.connect(conninfo, **{**kwargs, "autocommit": True})
                except psycopg.Error as exc:
                    raise connect_error(conninfo, exc) from None
                self._twin = PostgresSaver(conn, serde=self.serde)
                self._twin._where = self._where
                self._twin._ready = self._ready
                weakref.finalize(self, conn.close)
            self._twin.serde = self.serde
            return self._twin

    def close_sync(self) -> None:
        """Close the connection the sync methods opened, if any (they reopen it when needed)."""
        with self._twin_lock:
            twin, self._twin = self._twin, None
        if twin is not None and isinstance(twin.conn, psycopg.Connection):
            twin.conn.close()

    # -- the base contract -------------------------------------------------------

    async def aload(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        return await self._arun(_ops.load(self.serde, thread_id, ns, checkpoint_id))

    async def asave(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        await self._arun(_ops.save(self.serde, checkpoint, parent_writes, final=final))

    async def asave_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        await self._arun(_ops.save_writes(self.serde, thread_id, ns, checkpoint_id, writes))

    async def ahistory(
        self,
        thread_id: str,
        ns: str = "",
        *,
        before: str | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[StoredCheckpoint]:
        pages = _ops.HistoryPages(self.serde, thread_id, ns, before, limit, filter)
        while (flow := pages.next()) is not None:
            for item in await self._arun(flow):
                yield item

    async def adelete_thread(self, thread_id: str) -> None:
        await self._arun(_ops.delete_thread(thread_id))

    def load(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        return self._sync().load(thread_id, ns, checkpoint_id)

    def save(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        self._sync().save(checkpoint, parent_writes, final=final)

    def save_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        self._sync().save_writes(thread_id, ns, checkpoint_id, writes)

    def history(
        self,
        thread_id: str,
        ns: str = "",
        *,
        before: str | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Iterator[StoredCheckpoint]:
        return self._sync().history(thread_id, ns, before=before, limit=limit, filter=filter)

    def delete_thread(self, thread_id: str) -> None:
        self._sync().delete_thread(thread_id)

    # -- capabilities ------------------------------------------------------------

    async def alist_waiting(
        self,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """Threads waiting for a person, oldest pause first (see ``WaitingIndex``)."""
        return await self._arun(_ops.list_waiting(self.serde, graph, metadata, limit, after))

    def list_waiting(
        self,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """Sync :meth:`alist_waiting` (on the second connection)."""
        return self._sync().list_waiting(graph=graph, metadata=metadata, limit=limit, after=after)

    async def aacquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Take or renew the thread's lease (see ``ThreadLeases``)."""
        return await self._arun(_ops.acquire_lease(thread_id, owner, ttl))

    async def arelease_lease(self, thread_id: str, owner: str) -> None:
        """Give the lease back if ``owner`` holds it."""
        await self._arun(_ops.release_lease(thread_id, owner))

    def acquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Sync :meth:`aacquire_lease` (on the second connection; the lease heartbeat uses it)."""
        return self._sync().acquire_lease(thread_id, owner, ttl)

    def release_lease(self, thread_id: str, owner: str) -> None:
        """Sync :meth:`arelease_lease` (on the second connection)."""
        self._sync().release_lease(thread_id, owner)

    async def awrite_batch(
        self,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        """Store saves and writes in order, consecutive saves in one statement (see ``BatchedWrites``)."""
        await self._arun(_ops.write_batch(self.serde, items, final=final, release=release))

    def write_batch(
        self,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        """Sync :meth:`awrite_batch` (on the second connection)."""
        self._sync().write_batch(items, final=final, release=release)

    async def aload_leased(
        self, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
    ) -> tuple[bool, StoredCheckpoint | None]:
        """Take the lease and load, in one statement (see ``FoldedLeases``)."""
        flow = _ops.load_leased(self.serde, thread_id, ns, checkpoint_id, owner, ttl)
        return await self._arun(flow)

    async def asave_released(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], owner: str
    ) -> None:
        """A final save that gives ``owner``'s lease back in the same statement."""
        await self._arun(_ops.save(self.serde, checkpoint, parent_writes, release=owner))

    async def asave_writes_released(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """Writes that give ``owner``'s lease back in the same statement."""
        flow = _ops.save_writes(self.serde, thread_id, ns, checkpoint_id, writes, release=owner)
        await self._arun(flow)

    def load_leased(
        self, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
    ) -> tuple[bool, StoredCheckpoint | None]:
        """Sync :meth:`aload_leased` (on the second connection)."""
        return self._sync().load_leased(thread_id, ns, checkpoint_id, owner, ttl)

    def save_released(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], owner: str
    ) -> None:
        """Sync :meth:`asave_released` (on the second connection)."""
        self._sync().save_released(checkpoint, parent_writes, owner)

    def save_writes_released(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """Sync :meth:`asave_writes_released` (on the second connection)."""
        self._sync().save_writes_released(thread_id, ns, checkpoint_id, writes, owner)

    async def arecall_request(self, thread_id: str, key: str) -> str | None:
        """The checkpoint a request with this idempotency key ended at."""
        return await self._arun(_ops.recall_request(thread_id, key))

    async def aremember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """Store the checkpoint a request ended at (the first one stored wins)."""
        await self._arun(_ops.remember_request(thread_id, key, checkpoint_id))

    def recall_request(self, thread_id: str, key: str) -> str | None:
        """Sync :meth:`arecall_request` (on the second connection)."""
        return self._sync().recall_request(thread_id, key)

    def remember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """Sync :meth:`aremember_request` (on the second connection)."""
        self._sync().remember_request(thread_id, key, checkpoint_id)

    async def alist_threads(self) -> list[str]:
        """Every thread id with at least one checkpoint, sorted."""
        return await self._arun(_ops.list_threads())

    async def aprune(self, thread_id: str, *, keep_last: int) -> int:
        """Delete all but the newest ``keep_last`` checkpoints per namespace (and not what they read)."""
        return await self._arun(_ops.prune(thread_id, keep_last))

    def list_threads(self) -> list[str]:
        """Sync :meth:`alist_threads` (on the second connection)."""
        return self._sync().list_threads()

    def prune(self, thread_id: str, *, keep_last: int) -> int:
        """Sync :meth:`aprune` (on the second connection)."""
        return self._sync().prune(thread_id, keep_last=keep_last)


async def _in(conn: psycopg.AsyncConnection[Any], flow: Flow[T], atomic: bool) -> T:
    """Run ``flow`` on ``conn``, in a transaction when asked or when not in autocommit."""
    if atomic or not conn.autocommit:
        async with conn.transaction():
            return await arun(conn, flow)
    return await arun(conn, flow)
