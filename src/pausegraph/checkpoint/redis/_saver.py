"""The sync Redis saver, and the base both savers share: every method, run over flows.

Everything a saver decides lives in ``_flows`` and ``_extras``; the classes
only hold a client and execute :class:`~._flows.Call`\\ s with it. Every
public method, sync or async, is one line over :meth:`_RedisSaverBase._run`
or :meth:`_RedisSaverBase._arun`; ``_async`` overrides those two (and
``setup``'s async twin) for ``redis.asyncio``.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import redis
import redis.exceptions as rx

from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint
from pausegraph.checkpoint.base import BaseCheckpointSaver
from pausegraph.checkpoint.capabilities import SaveItem, WaitingPage, WritesItem
from pausegraph.checkpoint.redis import _extras, _flows, _wire
from pausegraph.checkpoint.redis._connect import (
    CONNECT_TIMEOUT,
    check_client,
    describe,
    open_sync,
    storage_error,
)
from pausegraph.checkpoint.redis._flows import Call, Flow, HistoryPages, Together
from pausegraph.checkpoint.redis._layout import DEFAULT_PREFIX, KeyLayout, mask_url
from pausegraph.checkpoint.serde import Serializer

__all__ = ["RedisSaver"]

T = TypeVar("T")


_SINGLE = threading.RLock()


def _execute(client: redis.Redis, call: Call | Together) -> Any:
    """Run one flow step on a connection of the client's pool (see ``_wire``).

    Retried as the client retries (a dropped connection is reconnected). A
    client bound to one connection (``single_connection_client``) uses it
    under the client's lock.
    """
    single = client.connection
    if single is not None:
        with getattr(client, "single_connection_lock", _SINGLE):  # redis-py < 6 has none
            return single.retry.call_with_retry(
                lambda: _wire.run(single, call), lambda _: _drop(single)
            )
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        return conn.retry.call_with_retry(lambda: _wire.run(conn, call), lambda _: _drop(conn))
    finally:
        pool.release(conn)


def _drop(conn: Any) -> None:
    conn.disconnect()  # the next try reconnects


class _RedisSaverBase(BaseCheckpointSaver):
    """The whole saver API over the shared flows; subclasses supply the clients."""

    def __init__(self, *, prefix: str, ttl: float | None, serde: Serializer | None) -> None:
        super().__init__(serde=serde)
        if isinstance(ttl, Mapping):
            raise TypeError(
                f"ttl is the seconds a finished thread's keys live, got {ttl!r}. LangGraph's "
                "ttl={'default_ttl': minutes} becomes ttl=minutes * 60."
            )
        if ttl is not None and not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds or None, got {ttl!r}.")
        self.keys = KeyLayout(prefix)
        self.ttl = ttl
        self.ttl_ms: int | None = None if ttl is None else max(1, round(ttl * 1000))
        self._where = "Redis"
        self._ready = False

    def _sync_client(self) -> redis.Redis:
        raise NotImplementedError

    def _run(self, flow: Flow[T]) -> T:
        """Run ``flow`` with the sync client (setting the store up first, once)."""
        client = self._sync_client()
        if not self._ready:
            self._drive(client, _extras.setup(self, self._where))
            self._ready = True
        return self._drive(client, flow)

    def _drive(self, client: redis.Redis, flow: Flow[T]) -> T:
        reply: Any = None
        while True:
            try:
                call = flow.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            try:
                reply = _execute(client, call)
            except rx.RedisError as exc:
                flow.close()
                raise storage_error(self._where, exc) from exc

    async def _arun(self, flow: Flow[T]) -> T:
        """Run ``flow`` for an async method (the sync saver just blocks)."""
        return self._run(flow)

    # -- setup and the base contract -------------------------------------------

    def setup(self) -> None:
        """Check the server (Redis 6.2+, no modules needed) and the store's layout version.

        Safe to call more than once; the first operation runs it when you did not.

        Raises:
            StorageError: The server cannot be reached or is too old.
            CorruptCheckpointError: The prefix holds a store of a newer layout.
        """
        self._drive(self._sync_client(), _extras.setup(self, self._where))
        self._ready = True

    def load(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        return self._run(_flows.load(self, thread_id, ns, checkpoint_id))

    async def aload(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        return await self._arun(_flows.load(self, thread_id, ns, checkpoint_id))

    def save(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        self._run(_flows.save(self, checkpoint, parent_writes))

    async def asave(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        await self._arun(_flows.save(self, checkpoint, parent_writes))

    def save_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        self._run(_flows.save_writes(self, thread_id, ns, checkpoint_id, writes))

    async def asave_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        await self._arun(_flows.save_writes(self, thread_id, ns, checkpoint_id, writes))

    def history(
        self,
        thread_id: str,
        ns: str = "",
        *,
        before: str | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Iterator[StoredCheckpoint]:
        pages = HistoryPages(self, thread_id, ns, before, limit, filter)
        while (flow := pages.next()) is not None:
            yield from self._run(flow)

    async def ahistory(
        self,
        thread_id: str,
        ns: str = "",
        *,
        before: str | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[StoredCheckpoint]:
        pages = HistoryPages(self, thread_id, ns, before, limit, filter)
        while (flow := pages.next()) is not None:
            for item in await self._arun(flow):
                yield item

    def delete_thread(self, thread_id: str) -> None:
        self._run(_flows.delete_thread(self, thread_id))

    async def adelete_thread(self, thread_id: str) -> None:
        await self._arun(_flows.delete_thread(self, thread_id))

    # -- capabilities -----------------------------------------------------------

    def list_waiting(
        self,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """Threads waiting for a person, oldest pause first (see :class:`WaitingIndex`)."""
        return self._run(_extras.list_waiting(self, graph, metadata, limit, after))

    async def alist_waiting(
        self,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """Async :meth:`list_waiting`."""
        return await self._arun(_extras.list_waiting(self, graph, metadata, limit, after))

    def acquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Take or renew the thread's lease (see :class:`ThreadLeases`)."""
        return self._run(_extras.acquire_lease(self, thread_id, owner, ttl))

    async def aacquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Async :meth:`acquire_lease`."""
        return await self._arun(_extras.acquire_lease(self, thread_id, owner, ttl))

    def release_lease(self, thread_id: str, owner: str) -> None:
        """Give the lease back if ``owner`` holds it."""
        self._run(_extras.release_lease(self, thread_id, owner))

    async def arelease_lease(self, thread_id: str, owner: str) -> None:
        """Async :meth:`release_lease`."""
        await self._arun(_extras.release_lease(self, thread_id, owner))

    def write_batch(
        self,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        """Store saves and writes in order, in one round trip (see :class:`BatchedWrites`)."""
        self._run(_flows.write_batch(self, items, release))

    async def awrite_batch(
        self,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        """Async :meth:`write_batch`."""
        await self._arun(_flows.write_batch(self, items, release))

    def load_leased(
        self, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
    ) -> tuple[bool, StoredCheckpoint | None]:
        """Take the lease and load, in one script (see :class:`FoldedLeases`)."""
        return self._run(_flows.load_leased(self, thread_id, ns, checkpoint_id, owner, ttl))

    async def aload_leased(
        self, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
    ) -> tuple[bool, StoredCheckpoint | None]:
        """Async :meth:`load_leased`."""
        return await self._arun(_flows.load_leased(self, thread_id, ns, checkpoint_id, owner, ttl))

    def save_released(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], owner: str
    ) -> None:
        """A final save that gives ``owner``'s lease back in the same script."""
        self._run(_flows.save(self, checkpoint, parent_writes, release=owner))

    async def asave_released(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], owner: str
    ) -> None:
        """Async :meth:`save_released`."""
        await self._arun(_flows.save(self, checkpoint, parent_writes, release=owner))

    def save_writes_released(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """Writes that give ``owner``'s lease back in the same script."""
        self._run(_flows.save_writes(self, thread_id, ns, checkpoint_id, writes, release=owner))

    async def asave_writes_released(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """Async :meth:`save_writes_released`."""
        flow = _flows.save_writes(self, thread_id, ns, checkpoint_id, writes, release=owner)
        await self._arun(flow)

    def recall_request(self, thread_id: str, key: str) -> str | None:
        """The checkpoint a request with this idempotency key ended at."""
        return self._run(_extras.recall_request(self, thread_id, key))

    def remember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """Store the checkpoint a request ended at (the first one stored wins)."""
        self._run(_extras.remember_request(self, thread_id, key, checkpoint_id))

    async def arecall_request(self, thread_id: str, key: str) -> str | None:
        """Async :meth:`recall_request`."""
        return await self._arun(_extras.recall_request(self, thread_id, key))

    async def aremember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """Async :meth:`remember_request`."""
        await self._arun(_extras.remember_request(self, thread_id, key, checkpoint_id))

    def list_threads(self) -> list[str]:
        """Every thread id with at least one checkpoint (expired threads excluded), sorted."""
        return self._run(_extras.list_threads(self))

    def prune(self, thread_id: str, *, keep_last: int) -> int:
        """Delete all but the newest ``keep_last`` checkpoints per namespace (and what they need)."""
        return self._run(_extras.prune(self, thread_id, keep_last))


class RedisSaver(_RedisSaverBase):
    """Keeps checkpoints in Redis, with a sync redis-py client. Plain Redis 6.2+, no modules.

    Thread-safe: redis-py's connection pool serves the runtime's worker
    threads. Its async methods call the sync ones (they block the event
    loop); under ``ainvoke`` use :class:`AsyncRedisSaver`.

    Args:
        redis_client: A ``redis.Redis`` (``decode_responses=False``); the saver never closes it.
        prefix: Prepended to every key, so several stores can share a database.
        ttl: Seconds a finished thread's keys live (see the package docs for the
            exact rule); ``None`` keeps every thread until deleted.
        serde: The serializer; defaults to a fresh ``MsgpackSerializer``.

    Raises:
        TypeError: ``redis_client`` is not a ``redis.Redis``.
        StorageError: The client decodes replies to ``str``.

    Example:
        >>> with RedisSaver.from_conn_string("redis://localhost:6379") as saver:
        ...     saver.setup()
        ...     graph = builder.compile(checkpointer=saver)
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: float | None = None,
        serde: Serializer | None = None,
    ) -> None:
        check_client(
            redis_client,
            redis.Redis,
            "Pass redis.Redis.from_url(url), or use RedisSaver.from_conn_string(url) "
            "(AsyncRedisSaver takes redis.asyncio clients).",
        )
        super().__init__(prefix=prefix, ttl=ttl, serde=serde)
        self.client = redis_client
        self._where = describe(redis_client)

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        redis_url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: float | None = None,
        serde: Serializer | None = None,
        timeout: float = CONNECT_TIMEOUT,
    ) -> Iterator[RedisSaver]:
        """A saver on a new client for ``redis_url``; its connections close when the block exits.

        A saver kept after the block reconnects on its next call, as in
        LangGraph's notebooks.

        Args:
            redis_url: ``redis://[user:password@]host[:port][/db]``, ``rediss://...``
                or ``unix:///path/to/redis.sock``.
            prefix: Prepended to every key.
            ttl: Seconds a finished thread's keys live; ``None`` keeps them.
            serde: The serializer.
            timeout: Seconds to wait for the connection and for each reply.

        Raises:
            StorageError: The URL is malformed or no Redis answers there (the
                message names the URL without its password).
        """
        client = open_sync(redis_url, timeout)
        try:
            saver = cls(client, prefix=prefix, ttl=ttl, serde=serde)
            saver._where = mask_url(redis_url)
            yield saver
        finally:
            client.close()

    def _sync_client(self) -> redis.Redis:
        return self.client
