"""An in-process checkpoint saver, for tests, notebooks and short-lived runs.

Everything is lost when the process exits; use the SQLite saver to keep threads.
Values are serialized on save, exactly as durable savers do, so a node that
mutates its state in place cannot change what was saved.

Layout, kept small because a paused thread may wait for months (a paused
thread costs well under 1 KB): per thread and namespace, a dict from
checkpoint id to one ``bytes`` holding the header, the values it changed and
its pending writes. The waiting index is the set of waiting thread ids; the
entry itself is kept with the writes of the thread's head checkpoint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pausegraph.checkpoint._codec import checkpoint_from_fields, dump_blobs, header_fields
from pausegraph.checkpoint._records import (
    Checkpoint,
    PendingWrite,
    StoredCheckpoint,
    pending_write,
)
from pausegraph.checkpoint.base import BaseCheckpointSaver, metadata_matches
from pausegraph.checkpoint.capabilities import (
    INBOX_TASK,
    WAITING,
    BlockingAsyncTwins,
    WaitingPage,
    WaitingThread,
    decode_waiting,
    page_waiting,
)
from pausegraph.checkpoint.serde import Serializer
from pausegraph.errors import CorruptCheckpointError, SerializationError

__all__ = ["InMemorySaver", "MemorySaver"]

_Log = dict[str, bytes]  # checkpoint id -> entry (see _join)
_WAITING_KEY = f"{INBOX_TASK}\x00{WAITING}"
_Slot = str | tuple[str, str]  # the thread id alone for the root namespace (saves a tuple)


def _slot(thread_id: str, ns: str) -> _Slot:
    return (thread_id, ns) if ns else thread_id


def _thread_of(slot: _Slot) -> str:
    return slot if isinstance(slot, str) else slot[0]


def _join(data: bytes, writes: bytes | None) -> bytes:
    """One stored entry: the length of ``data``, ``data``, then the writes (if any)."""
    return len(data).to_bytes(4, "big") + data + (writes or b"")


def _split(entry: bytes) -> tuple[bytes, bytes | None]:
    size = int.from_bytes(entry[:4], "big")
    writes = entry[4 + size :]
    return entry[4 : 4 + size], writes or None


class InMemorySaver(BlockingAsyncTwins, BaseCheckpointSaver):
    """Keeps checkpoints in a dict in this process. Thread-safe.

    Offers every optional capability: the waiting index, thread leases (one
    run per thread among this process's threads), idempotency keys, listing
    and pruning.

    Example:
        >>> graph = builder.compile(checkpointer=InMemorySaver())
    """

    def __init__(self, *, serde: Serializer | None = None) -> None:
        super().__init__(serde=serde)
        self._logs: dict[_Slot, _Log] = {}
        self._chunks: dict[_Slot, dict[tuple[str, str], bytes]] = {}
        self._waiting: set[str] = set()
        self._leases: dict[str, tuple[str, float]] = {}
        self._requests: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    # -- encoding ------------------------------------------------------------

    def _encode(self, checkpoint: Checkpoint) -> tuple[bytes, dict[tuple[str, str], bytes]]:
        """One msgpack of ``[header fields, {key: value}]`` (one unpack reads both back).

        Whole values live in the entry of the checkpoint that wrote them;
        appended chunks (whose version is an older snapshot) in ``_chunks``.
        """
        cid = checkpoint.id
        chunks: dict[tuple[str, str], bytes] = {}
        if checkpoint.appended:
            own: dict[str, Any] = {}
            for key, version, value in checkpoint.stored_blobs():
                if version == cid:
                    own[key] = value
                else:
                    chunks[(key, version)] = self.serde.dumps(value)
        else:  # what stored_blobs() lists when nothing was appended, in one pass
            values = checkpoint.values
            own = {}
            for k, v in checkpoint.versions.items():
                if v == cid:
                    own[k] = values[k]
        try:
            data = self.serde.dumps([header_fields(checkpoint), own])
        except SerializationError:
            dump_blobs(checkpoint, self.serde)  # names the key that cannot be stored
            raise
        return data, chunks

    def _writes_bytes(self, old: bytes | None, writes: Sequence[PendingWrite]) -> bytes:
        table: dict[str, Any] = self.serde.loads(old) if old is not None else {}
        for w in writes:
            table[f"{w.task_id}\x00{w.channel}"] = w.value
        return self.serde.dumps(table)

    def _decode(
        self,
        thread_id: str,
        ns: str,
        cid: str,
        log: Mapping[str, Any],
        chunks: Mapping[tuple[str, str], bytes],
    ) -> StoredCheckpoint:
        data, writes = _split(log[cid])
        loads = self.serde.loads
        fields, own = loads(data)
        decoded: dict[str, Mapping[str, Any]] = {cid: own}

        def values(versions: Mapping[str, str]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, version in versions.items():
                chunk = chunks.get((key, version)) if chunks else None
                if chunk is not None:
                    out[key] = loads(chunk)
                    continue
                vals = decoded.get(version)
                if vals is None:
                    entry = log.get(version)
                    if entry is None:
                        raise CorruptCheckpointError(
                            f"Checkpoint {cid!r} of thread {thread_id!r} needs the value of "
                            f"{key!r} from checkpoint {version!r}, which is missing."
                        )
                    vals = decoded[version] = loads(_split(entry)[0])[1]
                out[key] = vals[key]
            return out

        checkpoint = checkpoint_from_fields(
            fields, thread_id=thread_id, ns=ns, checkpoint_id=cid, values=values
        )
        pending: tuple[PendingWrite, ...] = ()
        if writes is not None:
            found = []
            for key, value in loads(writes).items():
                if key != _WAITING_KEY:
                    task_id, _, channel = key.partition("\x00")
                    found.append(pending_write(task_id, channel, value))
            pending = tuple(found)
        return StoredCheckpoint(checkpoint, pending)

    # -- the base contract ---------------------------------------------------

    def load(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        with self._lock:
            slot = (thread_id, ns) if ns else thread_id  # _slot(), inline
            log = self._logs.get(slot)
            if not log:
                return None
            if checkpoint_id is None:
                checkpoint_id = next(reversed(log))  # ids grow with insertion order
            elif checkpoint_id not in log:
                return None
            chunks = self._chunks.get(slot, {})
            return self._decode(thread_id, ns, checkpoint_id, log, chunks)

    def history(
        self,
        thread_id: str,
        ns: str = "",
        *,
        before: str | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Iterator[StoredCheckpoint]:
        with self._lock:
            snapshot = dict(self._logs.get(_slot(thread_id, ns)) or {})
            chunks = dict(self._chunks.get(_slot(thread_id, ns)) or {})
        count = 0
        for cid in sorted(snapshot, reverse=True):
            if limit is not None and count >= limit:
                return
            if before is not None and cid >= before:
                continue
            stored = self._decode(thread_id, ns, cid, snapshot, chunks)
            if metadata_matches(stored.checkpoint, filter):
                count += 1
                yield stored

    def save(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        data, chunks = self._encode(checkpoint)
        thread_id, ns = checkpoint.thread_id, checkpoint.ns
        slot = (thread_id, ns) if ns else thread_id  # _slot(), inline
        with self._lock:
            log = self._logs.get(slot)
            if log is None:
                log = self._logs[slot] = {}
            if chunks:
                self._chunks.setdefault(slot, {}).update(chunks)
            old = log.get(checkpoint.id)
            # Saving an id again keeps the writes already stored against it.
            if old is None:
                log[checkpoint.id] = len(data).to_bytes(4, "big") + data  # _join(data, None)
            else:
                log[checkpoint.id] = _join(data, _split(old)[1])
            parent = checkpoint.parent_id
            if parent_writes and parent is not None and parent in log:
                self._merge_writes(log, parent, parent_writes)
            if not ns:
                self._waiting.discard(thread_id)  # the thread moved on

    def _merge_writes(self, log: _Log, cid: str, writes: Sequence[PendingWrite]) -> None:
        data, old = _split(log[cid])
        log[cid] = _join(data, self._writes_bytes(old, writes))

    def save_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        stored: list[PendingWrite] = []
        waiting: bool | None = None  # None: leave the index alone
        for w in writes:
            if w.channel == WAITING:
                waiting = w.value is not None
                # Kept with the head's writes, without what the key and head already say.
                compact = None
                if w.value is not None:
                    v = w.value
                    compact = [v["paused_at"], v["graph"], v["metadata"] or None, v["interrupts"]]
                stored.append(pending_write(INBOX_TASK, WAITING, compact))
            else:
                stored.append(w)
        # An unstorable value fails the one serialization in _merge_writes,
        # before anything changes.
        with self._lock:
            log = self._logs.get(_slot(thread_id, ns))
            if log is None or checkpoint_id not in log:
                raise CorruptCheckpointError(
                    f"Cannot save writes for checkpoint {checkpoint_id!r} of thread {thread_id!r}: "
                    "it does not exist."
                )
            if stored:
                self._merge_writes(log, checkpoint_id, stored)
            if waiting is True and not ns:
                self._waiting.add(thread_id)
            elif waiting is False:
                self._waiting.discard(thread_id)

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            for key in [k for k in self._logs if _thread_of(k) == thread_id]:
                del self._logs[key]
                self._chunks.pop(key, None)
            self._waiting.discard(thread_id)
            for key in [k for k in self._requests if k[0] == thread_id]:
                del self._requests[key]

    # -- capabilities --------------------------------------------------------

    def list_waiting(
        self,
        *,
        graph: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> WaitingPage:
        """Threads waiting for a person, oldest pause first (see :class:`WaitingIndex`)."""
        with self._lock:
            heads = [(t, *next(reversed(self._logs[t].items()))) for t in self._waiting]
        entries: list[WaitingThread] = []
        for thread_id, checkpoint_id, entry in heads:
            writes = _split(entry)[1]
            compact = self.serde.loads(writes).get(_WAITING_KEY) if writes else None
            if compact is None:
                continue
            paused_at, graph_name, meta, interrupts = compact
            entries.append(
                decode_waiting(
                    {
                        "thread_id": thread_id,
                        "checkpoint_id": checkpoint_id,
                        "graph": graph_name,
                        "paused_at": paused_at,
                        "metadata": meta,
                        "interrupts": interrupts,
                    }
                )
            )
        entries.sort(key=lambda e: (e.paused_at, e.thread_id))
        return page_waiting(entries, graph=graph, metadata=metadata, limit=limit, after=after)

    def acquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        """Take or renew the thread's lease (see :class:`ThreadLeases`)."""
        now = time.monotonic()
        with self._lock:
            held = self._leases.get(thread_id)
            if held is not None and held[0] != owner and held[1] > now:
                return False
            self._leases[thread_id] = (owner, now + ttl)
            return True

    def release_lease(self, thread_id: str, owner: str) -> None:
        """Give the lease back if ``owner`` holds it."""
        with self._lock:
            held = self._leases.get(thread_id)
            if held is not None and held[0] == owner:
                del self._leases[thread_id]

    def recall_request(self, thread_id: str, key: str) -> str | None:
        """The checkpoint a request with this idempotency key ended at."""
        with self._lock:
            return self._requests.get((thread_id, key))

    def remember_request(self, thread_id: str, key: str, checkpoint_id: str) -> None:
        """Store the checkpoint a request ended at (the first one stored wins)."""
        with self._lock:
            self._requests.setdefault((thread_id, key), checkpoint_id)

    def list_threads(self) -> list[str]:
        """Every thread id with at least one checkpoint."""
        with self._lock:
            return sorted({_thread_of(k) for k in self._logs})

    def prune(self, thread_id: str, *, keep_last: int) -> int:
        """Delete all but the newest ``keep_last`` checkpoints per namespace (and what they need)."""
        if keep_last < 1:
            raise ValueError(f"keep_last must be at least 1, got {keep_last}.")
        deleted = 0
        with self._lock:
            for slot, log in self._logs.items():
                if _thread_of(slot) != thread_id:
                    continue
                ids = sorted(log, reverse=True)
                keep = set(ids[:keep_last])
                todo = list(keep)
                while todo:  # what a kept checkpoint reads is kept, so it must load too
                    cid = todo.pop()
                    header = self.serde.loads(_split(log[cid])[0])[0]
                    for version in header[5].values():  # versions it reads ("": its own)
                        if version and version not in keep and version in log:
                            keep.add(version)
                            todo.append(version)
                for cid in ids[keep_last:]:
                    if cid not in keep:
                        del log[cid]
                        deleted += 1
        return deleted


MemorySaver = InMemorySaver
"""Older name of :class:`InMemorySaver`."""
