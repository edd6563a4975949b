"""The checkpoint saver contract every backend implements.

A saver stores :class:`Checkpoint` records and the :class:`PendingWrite`\\ s of
tasks that finished (or paused) before the next checkpoint was written. The
contract is five methods over frozen records; the async twins default to the
sync ones, so a backend overrides them only when it has real async I/O.

Guarantees every backend gives:

* :meth:`BaseCheckpointSaver.save` is atomic: a reader sees the whole
  checkpoint or none of it. Saving the same id twice is an error-free no-op
  only if the content is identical; savers may assume ids are unique.
* :meth:`BaseCheckpointSaver.save_writes` is atomic per call and idempotent:
  a write replaces the earlier one with the same ``(task_id, channel)``.
* Nothing is ever partially deleted: :meth:`delete_thread` removes all of a
  thread or nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from pausegraph.checkpoint._records import (
    Checkpoint,
    PendingWrite,
    StoredCheckpoint,
    TaskRef,
    metadata_matches,
    metadata_of,
    new_checkpoint_id,
)
from pausegraph.checkpoint.serde import MsgpackSerializer, Serializer

_S = TypeVar("_S", bound="BaseCheckpointSaver")

__all__ = [
    "BaseCheckpointSaver",
    "Checkpoint",
    "PendingWrite",
    "StoredCheckpoint",
    "TaskRef",
    "metadata_matches",
    "metadata_of",
    "new_checkpoint_id",
]


class BaseCheckpointSaver(ABC):
    """Base class of every checkpoint saver.

    Args:
        serde: The serializer; defaults to a fresh :class:`MsgpackSerializer`.
    """

    def __init__(self, *, serde: Serializer | None = None) -> None:
        self.serde: Serializer = serde or MsgpackSerializer()

    # ``with saver:`` / ``async with saver:`` work on every saver and close
    # nothing: a connection is closed by whoever opened it (``from_conn_string``
    # closes its own).
    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    async def __aenter__(self: _S) -> _S:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def setup(self) -> None:  # noqa: B027 - optional hook, a no-op for in-process savers
        """Create or migrate the backend's schema. Safe to call more than once."""

    @abstractmethod
    def load(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        """The checkpoint ``checkpoint_id`` (the newest when ``None``) with its pending writes.

        Returns:
            ``None`` when the thread (or that checkpoint) does not exist.
        """

    @abstractmethod
    def save(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        """Store ``checkpoint`` atomically, keeping only the values it changed.

        ``parent_writes`` (what the tasks of the parent's step returned) are
        stored against ``checkpoint.parent_id`` in the same atomic operation,
        with :meth:`save_writes` semantics. ``final=False`` says the run will
        save (or write) again before it reports anything: a saver may then
        commit without waiting for the disk flush, since that later commit
        flushes this one too. Savers that cannot tell the difference ignore it.
        """

    @abstractmethod
    def save_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        """Store writes against ``checkpoint_id``, replacing same ``(task_id, channel)``."""

    @abstractmethod
    def history(
        self,
        thread_id: str,
        ns: str = "",
        *,
        before: str | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Iterator[StoredCheckpoint]:
        """The thread's checkpoints, newest first.

        Args:
            before: Only checkpoints older than this id.
            limit: At most this many.
            filter: Only checkpoints whose metadata (``source``, ``step`` and
                user keys) has these key/value pairs.
        """

    @abstractmethod
    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of ``thread_id`` (all namespaces)."""

    # -- async twins: override when the backend has real async I/O ------------

    async def aload(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        """Async :meth:`load`."""
        return self.load(thread_id, ns, checkpoint_id)

    async def asave(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        """Async :meth:`save`."""
        self.save(checkpoint, parent_writes, final=final)

    async def asave_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        """Async :meth:`save_writes`."""
        self.save_writes(thread_id, ns, checkpoint_id, writes)

    async def ahistory(
        self,
        thread_id: str,
        ns: str = "",
        *,
        before: str | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[StoredCheckpoint]:
        """Async :meth:`history`."""
        for item in self.history(thread_id, ns, before=before, limit=limit, filter=filter):
            yield item

    async def adelete_thread(self, thread_id: str) -> None:
        """Async :meth:`delete_thread`."""
        self.delete_thread(thread_id)
