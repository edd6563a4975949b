"""The SQLite checkpoint saver for asyncio programs.

Example:
    >>> from pausegraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    >>> async with AsyncSqliteSaver.from_conn_string("checkpoints.db") as saver:
    ...     await saver.setup()
    ...     graph = builder.compile(checkpointer=saver)
    ...     await graph.ainvoke(inputs, config)
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from itertools import islice
from typing import Any, ParamSpec, TypeVar

from pausegraph._offload import Lane
from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint
from pausegraph.checkpoint.base import BaseCheckpointSaver
from pausegraph.checkpoint.capabilities import SaveItem, WaitingPage, WritesItem
from pausegraph.checkpoint.serde import Serializer
from pausegraph.checkpoint.sqlite._saver import SqliteSaver, connect

__all__ = ["AsyncSqliteSaver"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_BATCH = 32  # checkpoints ahistory() fetches per trip to the worker thread


class AsyncSqliteSaver(BaseCheckpointSaver):
    """A :class:`~pausegraph.checkpoint.sqlite.SqliteSaver` for the event loop.

    It wraps a ``SqliteSaver`` (:attr:`sync`) and runs every ``a``-method on
    a worker thread of its own, so SQLite never blocks the event loop and the
    SQL, the transactions and the serialization are the sync saver's: the
    two cannot drift apart. Both savers read and write the same files.

    Methods:

    * async (run on the worker thread): :meth:`setup`, ``aload``, ``asave``,
      ``asave_writes``, ``ahistory``, ``adelete_thread``, ``alist_waiting``,
      ``aacquire_lease``, ``arelease_lease``, ``aload_leased``,
      ``asave_released``, ``asave_writes_released``, ``awrite_batch``,
      ``arecall_request``, ``aremember_request``, ``alist_threads``, ``aprune``;
    * sync (call the wrapped saver directly, blocking the caller): ``load``,
      ``save``, ``save_writes``, ``history``, ``delete_thread``,
      ``list_waiting``, ``acquire_lease``, ``release_lease``, ``load_leased``,
      ``save_released``, ``save_writes_released``, ``write_batch``,
      ``recall_request``, ``remember_request``, ``list_threads``, ``prune``.
      They make it a full saver for ``invoke()``, ``get_state()`` and the lease
      heartbeat; in a coroutine, prefer the async ones.

    Offers every capability of :mod:`pausegraph.checkpoint.capabilities`.
    Folded leases and batched writes matter most here: each call is a hand-over
    to the worker thread, and an interrupt/resume cycle makes six calls
    instead of eleven.

    Calls that queue up while the worker is busy (many runs at once) run
    together, in one transaction with a savepoint per call: one commit for
    the lot. A call that fails is undone alone, and no call returns before
    the commit that stores it.

    Args:
        conn: The connection, opened with ``check_same_thread=False``; the
            saver never closes it.
        serde: The serializer; defaults to a fresh ``MsgpackSerializer``.
    """

    def __init__(self, conn: sqlite3.Connection, *, serde: Serializer | None = None) -> None:
        self.sync = SqliteSaver(conn, serde=serde)
        """The wrapped sync saver, on the same connection."""
        super().__init__(serde=self.sync.serde)
        self.conn = conn
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pausegraph-sqlite")
        self._lane = Lane(self._worker, burst=self.sync._together)

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls, conn_string: str | os.PathLike[str], *, serde: Serializer | None = None
    ) -> AsyncIterator[AsyncSqliteSaver]:
        """A saver on a new connection to ``conn_string``, closed when the block exits.

        Args:
            conn_string: A file path, ``":memory:"``, or a ``file:`` URI.
            serde: The serializer; defaults to a fresh ``MsgpackSerializer``.

        Example:
            >>> async with AsyncSqliteSaver.from_conn_string("checkpoints.db") as saver:
            ...     await saver.setup()
        """
        conn = await asyncio.to_thread(connect, conn_string)
        saver = cls(conn, serde=serde)
        try:
            yield saver
        finally:
            # Straight to the worker, not through the lane (whose calls may share a
            # transaction): it runs after every call queued before it.
            await asyncio.wrap_future(saver._worker.submit(conn.close))
            saver._worker.shutdown(wait=False)

    def _run(
        self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> asyncio.Future[_T]:
        """``fn(*args, **kwargs)`` on the saver's worker thread."""
        return self._lane.run(functools.partial(fn, *args, **kwargs))

    async def setup(self) -> None:  # type: ignore[override]  # awaited, as in LangGraph
        """Create, check or migrate the tables (see :meth:`SqliteSaver.setup`).

        A coroutine, unlike the sync savers' ``setup()``: ``await saver.setup()``.
        """
        await self._run(self.sync.setup)

    # -- the base contract: sync calls go straight to the wrapped saver -----------

    def load(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        return self.sync.load(thread_id, ns, checkpoint_id)

    def save(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        self.sync.save(checkpoint, parent_writes, final=final)

    def save_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        self.sync.save_writes(thread_id, ns, checkpoint_id, writes)

    def history(
        self,
        thread_id: str,
        ns: str = "",
        *,
        before: str | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Iterator[StoredCheckpoint]:
        return self.sync.history(thread_id, ns, before=before, limit=limit, filter=filter)

    def delete_thread(self, thread_id: str) -> None:
        self.sync.delete_thread(thread_id)

    async def aload(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        return await self._run(self.sync.load, thread_id, ns, checkpoint_id)

    async def asave(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        await self._run(self.sync.save, checkpoint, parent_writes, final=final)

    async def asave_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        await self._run(self.sync.save_writes, thread_id, ns, checkpoint_id, writes)

    async def ahistory(
        self,
        thread_id: str,
        ns: str = "",
        *,
        before: str | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[StoredCheckpoint]:
        items = self.sync.history(thread_id, ns, before=before, limit=limit, filter=filter)
        while True:
            batch = await self._run(_take, items, _BATCH)
            for stored in batch:
                yield stored
            if len(batch) < _BATCH:
                return

    async def adelete_thread(self, thread_id: str) -> None:
        await self._run(self.sync.delete_thread, thread_id)

    # -- capabilities ------------------------------------------------------------

    def list_waiting(
        self,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """See :meth:`SqliteSaver.list_waiting`."""
        return self.sync.list_waiting(graph=graph, metadata=metadata, limit=limit, after=after)

    async def alist_waiting(
        self,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """Async :meth:`list_waiting`."""
        return await self._run(
            self.sync.list_waiting, graph=graph, metadata=metadata, limit=limit, after=after
        )

    def acquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """See :meth:`SqliteSaver.acquire_lease`."""
        return self.sync.acquire_lease(thread_id, owner, ttl)

    def release_lease(self, thread_id: str, owner: str) -> None:
        """See :meth:`SqliteSaver.release_lease`."""
        self.sync.release_lease(thread_id, owner)

    async def aacquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Async :meth:`acquire_lease`."""
        return await self._run(self.sync.acquire_lease, thread_id, owner, ttl)

    async def arelease_lease(self, thread_id: str, owner: str) -> None:
        """Async :meth:`release_lease`."""
        await self._run(self.sync.release_lease, thread_id, owner)

    def load_leased(
        self, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
    ) -> tuple[bool, StoredCheckpoint | None]:
        """See :meth:`SqliteSaver.load_leased`."""
        return self.sync.load_leased(thread_id, ns, checkpoint_id, owner, ttl)

    def save_released(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], owner: str
    ) -> None:
        """See :meth:`SqliteSaver.save_released`."""
        self.sync.save_released(checkpoint, parent_writes, owner)

    def save_writes_released(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """See :meth:`SqliteSaver.save_writes_released`."""
        self.sync.save_writes_released(thread_id, ns, checkpoint_id, writes, owner)

    def write_batch(
        self,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        """See :meth:`SqliteSaver.write_batch`."""
        self.sync.write_batch(items, final=final, release=release)

    async def aload_leased(
        self, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
    ) -> tuple[bool, StoredCheckpoint | None]:
        """Async :meth:`load_leased`."""
        return await self._run(self.sync.load_leased, thread_id, ns, checkpoint_id, owner, ttl)

    async def asave_released(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], owner: str
    ) -> None:
        """Async :meth:`save_released`."""
        await self._run(self.sync.save_released, checkpoint, parent_writes, owner)

    async def asave_writes_released(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """Async :meth:`save_writes_released`."""
        await self._run(self.sync.save_writes_released, thread_id, ns, checkpoint_id, writes, owner)

    async def awrite_batch(
        self,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        """Async :meth:`write_batch`."""
        await self._run(self.sync.write_batch, items, final=final, release=release)

    def recall_request(self, thread_id: str, key: str) -> str | None:
        """See :meth:`SqliteSaver.recall_request`."""
        return self.sync.recall_request(thread_id, key)

    def remember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """See :meth:`SqliteSaver.remember_request`."""
        self.sync.remember_request(thread_id, key, checkpoint_id)

    async def arecall_request(self, thread_id: str, key: str) -> str | None:
        """Async :meth:`recall_request`."""
        return await self._run(self.sync.recall_request, thread_id, key)

    async def aremember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """Async :meth:`remember_request`."""
        await self._run(self.sync.remember_request, thread_id, key, checkpoint_id)

    def list_threads(self) -> list[str]:
        """See :meth:`SqliteSaver.list_threads`."""
        return self.sync.list_threads()

    def prune(self, thread_id: str, *, keep_last: int) -> int:
        """See :meth:`SqliteSaver.prune`."""
        return self.sync.prune(thread_id, keep_last=keep_last)

    async def alist_threads(self) -> list[str]:
        """Async :meth:`list_threads`."""
        return await self._run(self.sync.list_threads)

    async def aprune(self, thread_id: str, *, keep_last: int) -> int:
        """Async :meth:`prune`."""
        return await self._run(self.sync.prune, thread_id, keep_last=keep_last)


def _take(items: Iterator[StoredCheckpoint], n: int) -> list[StoredCheckpoint]:
    return list(islice(items, n))
