"""Idempotency keys: a request retried with the same key does nothing twice.

Pass ``config={"configurable": {"thread_id": ..., "idempotency_key": "req-42"}}``.
The first run with that key records the checkpoint it ended at; a later call
with the same key on the same thread runs nothing and returns that result.
The record is written right after the run's last checkpoint: a crash in
between lets a retry run again (with the thread's lease still preventing two
runs at once). A key whose checkpoint was pruned still stops a retry
(:class:`~pausegraph.errors.RequestAlreadyRanError`). ``ainvoke`` and ``astream`` use the saver's async twins
(``arecall_request``/``aremember_request``, ``aload``) where it has them, so
an async saver's event loop is not blocked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pausegraph.errors import InvalidConfigError, RequestAlreadyRanError

__all__ = ["Request"]


class Request:
    """One keyed request on one thread."""

    __slots__ = ("key", "saver", "thread_id")

    def __init__(self, saver: Any, thread_id: str, key: str) -> None:
        self.saver = saver
        self.thread_id = thread_id
        self.key = key

    @classmethod
    def of(cls, saver: Any, config: Mapping[str, Any] | None) -> Request | None:
        """The keyed request ``config`` describes, or ``None`` when it has no key.

        Raises:
            InvalidConfigError: A key is given but the saver keeps no request log.
        """
        conf = (config or {}).get("configurable") or {}
        key = conf.get("idempotency_key")
        if key is None:
            return None
        from pausegraph.checkpoint.capabilities import RequestLog

        if not isinstance(key, str) or not key:
            raise InvalidConfigError(f"idempotency_key must be a non-empty str, got {key!r}.")
        if saver is None or not isinstance(saver, RequestLog):
            raise InvalidConfigError(
                "idempotency_key needs a checkpointer that keeps a request log (every saver "
                "pausegraph ships does); compile with one."
            )
        thread_id = conf.get("thread_id")
        if thread_id is None:
            return None  # the run itself reports the missing thread_id
        return cls(saver, str(thread_id), key)

    def recall(self) -> Any:
        """The stored checkpoint of an earlier run with this key, or ``None``.

        Raises:
            RequestAlreadyRanError: The key ran, but its checkpoint was pruned.
        """
        cid = self.saver.recall_request(self.thread_id, self.key)
        if cid is None:
            return None
        return self._found(cid, self.saver.load(self.thread_id, "", cid))

    def remember(self, checkpoint_id: str) -> None:
        """Record where this run ended."""
        self.saver.remember_request(self.thread_id, self.key, checkpoint_id)

    async def arecall(self) -> Any:
        """Async :meth:`recall`."""
        arecall = getattr(self.saver, "arecall_request", None)
        if arecall is None:  # a sync-only saver: nothing to await
            return self.recall()
        cid = await arecall(self.thread_id, self.key)
        if cid is None:
            return None
        return self._found(cid, await self.saver.aload(self.thread_id, "", cid))

    def _found(self, cid: str, stored: Any) -> Any:
        if stored is None:
            raise RequestAlreadyRanError(
                f"idempotency_key {self.key!r} already ran on thread {self.thread_id!r}, and "
                f"the checkpoint it ended at ({cid}) has since been pruned: its result is gone, "
                "and it is not run again. Read the thread's state with get_state(), or send "
                "a new key to make a new request."
            )
        return stored

    async def aremember(self, checkpoint_id: str) -> None:
        """Async :meth:`remember`."""
        aremember = getattr(self.saver, "aremember_request", None)
        if aremember is None:
            self.remember(checkpoint_id)
        else:
            await aremember(self.thread_id, self.key, checkpoint_id)
