"""The async Postgres saver: runs the shared flows (``_ops``) on an async connection or pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg

from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint
from pausegraph.checkpoint.base import BaseCheckpointSaver
from pausegraph.checkpoint.capabilities import WaitingPage
from pausegraph.checkpoint.postgres import _ops
from pausegraph.checkpoint.postgres._conn import (
    check_connection,
    connect_error,
    connect_kwargs,
    describe,
    mask,
    storage_error,
)
from pausegraph.checkpoint.postgres._flow import Flow, arun
from pausegraph.checkpoint.postgres._schema import setup_flow
from pausegraph.checkpoint.serde import Serializer
from pausegraph.errors import StorageError

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

__all__ = ["AsyncPostgresSaver"]

T = TypeVar("T")


class AsyncPostgresSaver(BaseCheckpointSaver):
    """:class:`~pausegraph.checkpoint.postgres.PostgresSaver` for ``ainvoke``/``astream``.

    Same tables, statements and guarantees; the I/O runs on the event loop.
    With one connection, concurrent calls take turns; pass a
    ``psycopg_pool.AsyncConnectionPool`` to let them run at once.

    The sync methods (``load``, ``acquire_lease``...) work from other threads
    while the saver's event loop runs (the lease heartbeat uses them); called
    on the loop itself they raise :class:`~pausegraph.errors.StorageError`
    naming the async method to await instead.

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
        self.loop: asyncio.AbstractEventLoop | None = _running_loop()

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
        try:
            saver = cls(conn, serde=serde)
            saver._where = mask(conn_string)
            yield saver
        finally:
            await conn.close()

    async def __aenter__(self) -> AsyncPostgresSaver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

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
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
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

    def _sync(self, call: Coroutine[Any, Any, T], name: str) -> T:
        """Run ``call`` on the saver's loop from another thread and wait for it."""
        loop = self.loop
        if loop is None or not loop.is_running() or _running_loop() is loop:
            call.close()
            raise StorageError(
                f"AsyncPostgresSaver.{name}() was called on its event loop (or with no loop "
                f"running); await a{name}() there instead, e.g. `await graph.ainvoke(...)`. "
                "For sync code use PostgresSaver."
            )
        return asyncio.run_coroutine_threadsafe(call, loop).result()

    # -- the base contract -------------------------------------------------------

    async def aload(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        return await self._arun(_ops.load(self.serde, thread_id, ns, checkpoint_id))

    async def asave(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite] = ()
    ) -> None:
        await self._arun(_ops.save(self.serde, checkpoint, parent_writes))

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
        return self._sync(self.aload(thread_id, ns, checkpoint_id), "load")

    def save(self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite] = ()) -> None:
        self._sync(self.asave(checkpoint, parent_writes), "save")

    def save_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        self._sync(self.asave_writes(thread_id, ns, checkpoint_id, writes), "save_writes")

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
            yield from self._sync(self._arun(flow), "history")

    def delete_thread(self, thread_id: str) -> None:
        self._sync(self.adelete_thread(thread_id), "delete_thread")

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
        """Sync :meth:`alist_waiting`, from another thread."""
        call = self.alist_waiting(graph=graph, metadata=metadata, limit=limit, after=after)
        return self._sync(call, "list_waiting")

    async def aacquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Take or renew the thread's lease (see ``ThreadLeases``)."""
        return await self._arun(_ops.acquire_lease(thread_id, owner, ttl))

    async def arelease_lease(self, thread_id: str, owner: str) -> None:
        """Give the lease back if ``owner`` holds it."""
        await self._arun(_ops.release_lease(thread_id, owner))

    def acquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Sync :meth:`aacquire_lease`, from another thread (the lease heartbeat)."""
        return self._sync(self.aacquire_lease(thread_id, owner, ttl), "acquire_lease")

    def release_lease(self, thread_id: str, owner: str) -> None:
        """Sync :meth:`arelease_lease`, from another thread."""
        self._sync(self.arelease_lease(thread_id, owner), "release_lease")

    async def arecall_request(self, thread_id: str, key: str) -> str | None:
        """The checkpoint a request with this idempotency key ended at."""
        return await self._arun(_ops.recall_request(thread_id, key))

    async def aremember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """Store the checkpoint a request ended at (the first one stored wins)."""
        await self._arun(_ops.remember_request(thread_id, key, checkpoint_id))

    def recall_request(self, thread_id: str, key: str) -> str | None:
        """Sync :meth:`arecall_request`, from another thread."""
        return self._sync(self.arecall_request(thread_id, key), "recall_request")

    def remember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """Sync :meth:`aremember_request`, from another thread."""
        self._sync(self.aremember_request(thread_id, key, checkpoint_id), "remember_request")

    async def alist_threads(self) -> list[str]:
        """Every thread id with at least one checkpoint, sorted."""
        return await self._arun(_ops.list_threads())

    async def aprune(self, thread_id: str, *, keep_last: int) -> int:
        """Delete all but the newest ``keep_last`` checkpoints per namespace (and not what they read)."""
        return await self._arun(_ops.prune(thread_id, keep_last))

    def list_threads(self) -> list[str]:
        """Sync :meth:`alist_threads`, from another thread."""
        return self._sync(self.alist_threads(), "list_threads")

    def prune(self, thread_id: str, *, keep_last: int) -> int:
        """Sync :meth:`aprune`, from another thread."""
        return self._sync(self.aprune(thread_id, keep_last=keep_last), "prune")


async def _in(conn: psycopg.AsyncConnection[Any], flow: Flow[T], atomic: bool) -> T:
    """Run ``flow`` on ``conn``, in a transaction when asked or when not in autocommit."""
    if atomic or not conn.autocommit:
        async with conn.transaction():
            return await arun(conn, flow)
    return await arun(conn, flow)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
