"""Optional saver capabilities, each its own small protocol.

The base contract (:class:`~pausegraph.checkpoint.base.BaseCheckpointSaver`)
is all a saver needs to run graphs. A saver may also offer:

* :class:`WaitingIndex`: list every thread that waits for a person, from an
  index kept up to date in the same transactions that save checkpoints;
* :class:`ThreadLeases`: one run per thread at a time, across processes;
  :class:`FoldedLeases` besides, when the lease can ride on a run's first load
  and last write (two round trips fewer per run);
* :class:`BatchedWrites`: several saves and writes in one round trip (runs
  with ``durability="async"`` store their mid-run checkpoints that way);
* :class:`RequestLog`: idempotency keys, so a retried resume does nothing twice;
* :class:`ThreadMaintenance`: list threads and prune old checkpoints.

The runtime checks ``isinstance(saver, WaitingIndex)`` and so on, never whether
a method was overridden. Every saver shipped with pausegraph offers all four.

How savers keep the waiting index (the contract the conformance suite checks):

1. A pending write on channel :data:`WAITING` (task id :data:`INBOX_TASK`) is
   not stored as a write: its value, a :class:`WaitingThread` encoded by
   :func:`encode_waiting`, replaces the thread's index entry, or deletes it
   when the value is ``None``; in the same transaction as the other writes.
2. Saving a root checkpoint (``ns == ""``) deletes the thread's index entry in
   the same transaction: the thread moved on, its old interrupts are gone.
3. ``delete_thread`` deletes the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint

__all__ = [
    "INBOX_TASK",
    "WAITING",
    "BatchedWrites",
    "BlockingAsyncTwins",
    "BlockingFoldedTwins",
    "FoldedLeases",
    "RequestLog",
    "SaveItem",
    "ThreadLeases",
    "ThreadMaintenance",
    "WaitingIndex",
    "WaitingInterrupt",
    "WaitingPage",
    "WaitingThread",
    "WritesItem",
    "cursor_of",
    "decode_waiting",
    "encode_waiting",
    "page_waiting",
    "waiting_from_row",
    "waiting_record",
]

WAITING = "__waiting__"
"""Channel of the pending write that sets (or clears) a thread's waiting-index entry."""

INBOX_TASK = "__inbox__"
"""Task id of that write."""


@dataclass(frozen=True, slots=True)
class WaitingInterrupt:
    """One question a waiting thread asks.

    Attributes:
        id: Answer it with ``Command(resume={id: answer})``.
        value: The payload given to ``interrupt()``.
        node: The node that asked.
    """

    id: str
    value: Any
    node: str


@dataclass(frozen=True, slots=True)
class WaitingThread:
    """A thread that waits for a person.

    Attributes:
        thread_id: The thread.
        checkpoint_id: The checkpoint it is paused at.
        graph: The name of the graph (``compile(name=...)``).
        paused_at: ISO 8601 UTC time it paused.
        interrupts: The questions it waits on.
        metadata: The run's ``config["metadata"]``.
    """

    thread_id: str
    checkpoint_id: str
    graph: str
    paused_at: str
    interrupts: tuple[WaitingInterrupt, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WaitingPage:
    """One page of waiting threads, oldest pause first.

    Attributes:
        items: The threads on this page.
        next_cursor: Pass as ``after=`` for the next page; ``None`` on the last page.
    """

    items: tuple[WaitingThread, ...]
    next_cursor: str | None = None


def encode_waiting(entry: WaitingThread) -> dict[str, Any]:
    """The plain-data form of an index entry (what a :data:`WAITING` write carries)."""
    return waiting_record(
        entry.thread_id,
        entry.checkpoint_id,
        entry.graph,
        entry.paused_at,
        [[i.id, i.value, i.node] for i in entry.interrupts],
        entry.metadata,
    )


def waiting_record(
    thread_id: str,
    checkpoint_id: str,
    graph: str,
    paused_at: str,
    interrupts: list[list[Any]],
    metadata: Mapping[str, Any],
) -> dict[str, Any]:
    """:func:`encode_waiting` from the fields (``interrupts`` as ``[id, value, node]`` lists).

    What a run pausing writes, without making the records only to take them apart.
    """
    return {
        "thread_id": thread_id,
        "checkpoint_id": checkpoint_id,
        "graph": graph,
        "paused_at": paused_at,
        "metadata": dict(metadata),
        "interrupts": interrupts,
    }


def decode_waiting(data: Mapping[str, Any]) -> WaitingThread:
    """Inverse of :func:`encode_waiting`."""
    return WaitingThread(
        thread_id=data["thread_id"],
        checkpoint_id=data["checkpoint_id"],
        graph=data["graph"],
        paused_at=data["paused_at"],
        interrupts=tuple(WaitingInterrupt(i, v, n) for i, v, n in data["interrupts"]),
        metadata=data.get("metadata") or {},
    )


def waiting_from_row(row: Sequence[Any], loads: Callable[[bytes], Any]) -> WaitingThread:
    """An entry from a SQL index row: thread id, checkpoint id, graph, pause time and
    the serialized ``(metadata, interrupts)`` pair."""
    thread_id, checkpoint_id, graph, paused_at, entry = row
    metadata, interrupts = loads(entry)
    return decode_waiting(
        {
            "thread_id": thread_id,
            "checkpoint_id": checkpoint_id,
            "graph": graph,
            "paused_at": paused_at,
            "metadata": metadata,
            "interrupts": interrupts,
        }
    )


def cursor_of(entry: WaitingThread) -> str:
    """The pagination cursor just after ``entry`` (pause time, then thread id)."""
    return f"{entry.paused_at}|{entry.thread_id}"


@runtime_checkable
class WaitingIndex(Protocol):
    """Lists waiting threads from an index, never by scanning histories."""

    def list_waiting(
        self,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """Threads waiting for a person, oldest pause first.

        Args:
            graph: Only threads of this graph.
            metadata: Only threads whose run metadata has these pairs.
            limit: Page size.
            after: The ``next_cursor`` of the previous page.
        """
        ...

    async def alist_waiting(
        self,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """Async :meth:`list_waiting`."""
        ...


@runtime_checkable
class ThreadLeases(Protocol):
    """At most one holder per thread; a holder that dies loses it when the lease expires."""

    def acquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Take or renew the thread's lease for ``ttl`` seconds.

        Returns:
            ``True`` if ``owner`` now holds it (it was free, expired, or
            already ``owner``'s); ``False`` if another owner holds it.
        """
        ...

    def release_lease(self, thread_id: str, owner: str) -> None:
        """Give the lease back, if ``owner`` holds it (otherwise do nothing)."""
        ...

    async def aacquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Async :meth:`acquire_lease`."""
        ...

    async def arelease_lease(self, thread_id: str, owner: str) -> None:
        """Async :meth:`release_lease`."""
        ...


@runtime_checkable
class FoldedLeases(ThreadLeases, Protocol):
    """Thread leases carried by a run's first load and its last write.

    For a saver whose every call is a round trip to a server: the runtime then
    takes the lease with the run's first load and gives it back with the run's
    last write, instead of two calls of their own. A run whose last write is not
    marked (see ``runtime/_loop.py``) releases with :meth:`release_lease`.
    """

    def load_leased(
        self, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
    ) -> tuple[bool, StoredCheckpoint | None]:
        """Take the lease as :meth:`acquire_lease` does and, if taken, load as ``load`` does.

        What is loaded includes everything stored before the lease was taken
        (in particular the previous holder's last write).

        Returns:
            ``(taken, loaded)``; ``loaded`` is ``None`` when not taken.
        """
        ...

    def save_released(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], owner: str
    ) -> None:
        """``save(..., final=True)``, then ``release_lease(thread_id, owner)``.

        The release never takes effect without the save: both commit at once,
        or the save first.
        """
        ...

    def save_writes_released(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """``save_writes(...)``, then ``release_lease(thread_id, owner)``, as :meth:`save_released`."""
        ...

    async def aload_leased(
        self, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
    ) -> tuple[bool, StoredCheckpoint | None]:
        """Async :meth:`load_leased`."""
        ...

    async def asave_released(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], owner: str
    ) -> None:
        """Async :meth:`save_released`."""
        ...

    async def asave_writes_released(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """Async :meth:`save_writes_released`."""
        ...


class SaveItem(NamedTuple):
    """A ``save(checkpoint, parent_writes)`` in a batch (see :class:`BatchedWrites`)."""

    checkpoint: Checkpoint
    parent_writes: Sequence[PendingWrite]


class WritesItem(NamedTuple):
    """A ``save_writes(thread_id, ns, checkpoint_id, writes)`` in a batch."""

    thread_id: str
    ns: str
    checkpoint_id: str
    writes: Sequence[PendingWrite]


@runtime_checkable
class BatchedWrites(Protocol):
    """Several saves and writes stored in one round trip, in order."""

    def write_batch(
        self,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        """Store ``items`` in order, as ``save``/``save_writes`` would one by one.

        Args:
            items: What to store; a later item may read what an earlier one stored.
            final: The batch ends with the run's last write (as ``save(final=...)``:
                a saver may skip the disk flush for batches that do not).
            release: Give this owner's lease on the thread of the last item back
                after storing, as ``FoldedLeases.save_released`` does.

        Raises:
            CorruptCheckpointError: A ``WritesItem`` names a checkpoint that
                neither the store nor an earlier item holds.
        """
        ...

    async def awrite_batch(
        self,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        """Async :meth:`write_batch`."""
        ...


@runtime_checkable
class RequestLog(Protocol):
    """Remembers which checkpoint a request (by idempotency key) ended at."""

    def recall_request(self, thread_id: str, key: str) -> str | None:
        """The checkpoint id stored for ``key`` on this thread, or ``None``."""
        ...

    def remember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """Store (or keep) the checkpoint a request ended at."""
        ...


@runtime_checkable
class ThreadMaintenance(Protocol):
    """Listing threads and pruning their histories."""

    def list_threads(self) -> list[str]:
        """Every thread id with at least one checkpoint, sorted."""
        ...

    def prune(self, thread_id: str, *, keep_last: int) -> int:
        """Delete all but the newest ``keep_last`` checkpoints of each namespace.

        Never deletes what a kept checkpoint still needs: an older checkpoint
        whose values it points to is kept too, and so, in turn, is what that
        one points to. So every checkpoint left loads, and the current state
        and pending interrupts always survive.

        Returns:
            How many checkpoints were deleted.
        """
        ...


class BlockingAsyncTwins:
    """The async :class:`WaitingIndex` and :class:`ThreadLeases` methods of a sync saver.

    Each calls its sync twin and blocks the event loop meanwhile: right for
    in-process savers, and bearable for one short query; savers built on an
    async driver define their own.
    """

    async def alist_waiting(
        self: WaitingIndex,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """Async :meth:`list_waiting` (blocking)."""
        return self.list_waiting(graph=graph, metadata=metadata, limit=limit, after=after)

    async def aacquire_lease(self: ThreadLeases, thread_id: str, owner: str, ttl: float) -> bool:
        """Async :meth:`acquire_lease` (blocking)."""
        return self.acquire_lease(thread_id, owner, ttl)

    async def arelease_lease(self: ThreadLeases, thread_id: str, owner: str) -> None:
        """Async :meth:`release_lease` (blocking)."""
        self.release_lease(thread_id, owner)


class BlockingFoldedTwins:
    """The async :class:`FoldedLeases` and :class:`BatchedWrites` methods of a sync saver.

    Each calls its sync twin and blocks the event loop meanwhile, as
    :class:`BlockingAsyncTwins` does; for savers that define the sync methods.
    """

    async def aload_leased(
        self: FoldedLeases,
        thread_id: str,
        ns: str,
        checkpoint_id: str | None,
        owner: str,
        ttl: float,
    ) -> tuple[bool, StoredCheckpoint | None]:
        """Async :meth:`load_leased` (blocking)."""
        return self.load_leased(thread_id, ns, checkpoint_id, owner, ttl)

    async def asave_released(
        self: FoldedLeases,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """Async :meth:`save_released` (blocking)."""
        self.save_released(checkpoint, parent_writes, owner)

    async def asave_writes_released(
        self: FoldedLeases,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        """Async :meth:`save_writes_released` (blocking)."""
        self.save_writes_released(thread_id, ns, checkpoint_id, writes, owner)

    async def awrite_batch(
        self: BatchedWrites,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        """Async :meth:`write_batch` (blocking)."""
        self.write_batch(items, final=final, release=release)


def page_waiting(
    entries: list[WaitingThread],
    *,
    graph: str | None,
    metadata: Mapping[str, Any] | None,
    limit: int,
    after: str | None,
) -> WaitingPage:
    """Filter and page entries already sorted by (paused_at, thread_id), in Python.

    For savers whose index cannot filter by itself (memory; metadata on Redis).
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}.")
    items: list[WaitingThread] = []
    for entry in entries:
        if after is not None and cursor_of(entry) <= after:
            continue
        if graph is not None and entry.graph != graph:
            continue
        if metadata and any(entry.metadata.get(k) != v for k, v in metadata.items()):
            continue
        if len(items) == limit:
            return WaitingPage(tuple(items), cursor_of(items[-1]))
        items.append(entry)
    return WaitingPage(tuple(items), None)
