"""The async Redis saver: the shared flows on a ``redis.asyncio`` client."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import redis
import redis.asyncio
import redis.exceptions as rx

from pausegraph.checkpoint.redis import _extras, _wire
from pausegraph.checkpoint.redis._connect import (
    CONNECT_TIMEOUT,
    check_client,
    describe,
    open_async,
    storage_error,
    sync_twin,
)
from pausegraph.checkpoint.redis._flows import Call, Flow, Together
from pausegraph.checkpoint.redis._layout import DEFAULT_PREFIX, mask_url
from pausegraph.checkpoint.redis._saver import _RedisSaverBase
from pausegraph.checkpoint.serde import Serializer
from pausegraph.errors import StorageError

__all__ = ["AsyncRedisSaver"]

T = TypeVar("T")


async def _aexecute(client: redis.asyncio.Redis, call: Call | Together) -> Any:
    """:func:`~._saver._execute` for ``redis.asyncio`` clients."""
    single = client.connection
    if single is not None:
        async with client._single_conn_lock:  # what execute_command holds
            return await single.retry.call_with_retry(
                lambda: _wire.arun(single, call), lambda _: single.disconnect()
            )
    pool = client.connection_pool
    conn = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        return await conn.retry.call_with_retry(
            lambda: _wire.arun(conn, call), lambda _: conn.disconnect()
        )
    finally:
        await pool.release(conn)


class AsyncRedisSaver(_RedisSaverBase):
    """Keeps checkpoints in Redis, with an async redis-py client. Plain Redis 6.2+, no modules.

    Its async methods use the async client. The runtime also makes a few
    calls synchronously (lease renewals from its heartbeat thread, journaled
    results, ``get_state`` in sync code); those go through a sync client to
    the same server, made on first use.

    Args:
        redis_client: A ``redis.asyncio.Redis`` (``decode_responses=False``); never closed
            by the saver.
        prefix: Prepended to every key.
        ttl: Seconds a finished thread's keys live; ``None`` keeps them.
        serde: The serializer; defaults to a fresh ``MsgpackSerializer``.

    Example:
        >>> async with AsyncRedisSaver.from_conn_string("redis://localhost:6379") as saver:
        ...     await saver.asetup()
        ...     graph = builder.compile(checkpointer=saver)
    """

    def __init__(
        self,
        redis_client: redis.asyncio.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: float | None = None,
        serde: Serializer | None = None,
    ) -> None:
        check_client(
            redis_client,
            redis.asyncio.Redis,
            "Pass redis.asyncio.Redis.from_url(url), or use AsyncRedisSaver.from_conn_string(url) "
            "(RedisSaver takes sync clients).",
        )
        super().__init__(prefix=prefix, ttl=ttl, serde=serde)
        self.client = redis_client
        self._where = describe(redis_client)
        self._sync: redis.Redis | None = None
        self._sync_lock = threading.Lock()

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls,
        redis_url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: float | None = None,
        serde: Serializer | None = None,
        timeout: float = CONNECT_TIMEOUT,
    ) -> AsyncIterator[AsyncRedisSaver]:
        """Async :meth:`RedisSaver.from_conn_string` (use ``async with``)."""
        client = await open_async(redis_url, timeout)
        saver: AsyncRedisSaver | None = None
        try:
            saver = cls(client, prefix=prefix, ttl=ttl, serde=serde)
            saver._where = mask_url(redis_url)
            yield saver
        finally:
            await client.aclose()
            if saver is not None and saver._sync is not None:
                saver._sync.close()

    async def asetup(self) -> None:
        """Async :meth:`setup`."""
        await self._adrive(_extras.setup(self, self._where))
        self._ready = True

    def _sync_client(self) -> redis.Redis:
        client = self._sync
        if client is None:
            with self._sync_lock:
                if self._sync is None:
                    self._sync = sync_twin(self.client)
                client = self._sync
        return client

    async def _arun(self, flow: Flow[T]) -> T:
        if not self._ready:
            await self.asetup()
        return await self._adrive(flow)

    async def _adrive(self, flow: Flow[T]) -> T:
        client = self.client
        reply: Any = None
        while True:
            try:
                call = flow.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            try:
                reply = await _aexecute(client, call)
            except rx.RedisError as exc:
                flow.close()
                raise storage_error(self._where, exc) from exc
            except RuntimeError as exc:
                flow.close()
                if "loop" not in str(exc):
                    raise
                raise StorageError(
                    f"The async Redis client for {self._where} belongs to another event loop "
                    f"({exc}). Create the AsyncRedisSaver (and its client) in the loop that uses "
                    "it, e.g. inside `async with AsyncRedisSaver.from_conn_string(url)`."
                ) from exc
