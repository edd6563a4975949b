"""An in-process checkpoint saver, for tests, notebooks and short-lived runs.

Everything is lost when the process exits; use the SQLite saver to keep threads.
Values are serialized on save, exactly as durable savers do, so a node that
mutates its state in place cannot change what was saved.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pausegraph.checkpoint._codec import decode_header, encode_header
from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint
from pausegraph.checkpoint.base import BaseCheckpointSaver, metadata_matches
from pausegraph.checkpoint.serde import Serializer
from pausegraph.errors import CorruptCheckpointError

__all__ = ["InMemorySaver", "MemorySaver"]

# One stored checkpoint: [header bytes, changed values bytes, {(task, channel): bytes} | None]
_Entry = list[Any]


class InMemorySaver(BaseCheckpointSaver):
    """Keeps checkpoints in a dict in this process. Thread-safe.

    Example:
        >>> graph = builder.compile(checkpointer=InMemorySaver())
    """

    def __init__(self, *, serde: Serializer | None = None) -> None:
        super().__init__(serde=serde)
        self._logs: dict[tuple[str, str], dict[str, _Entry]] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> InMemorySaver:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    # -- reading -------------------------------------------------------------

    def _decode(
        self, thread_id: str, ns: str, cid: str, log: dict[str, _Entry]
    ) -> StoredCheckpoint:
        header, _values, writes = log[cid]
        loads = self.serde.loads
        decoded: dict[str, Mapping[str, Any]] = {}

        def values(versions: Mapping[str, str]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, version in versions.items():
                vals = decoded.get(version)
                if vals is None:
                    entry = log.get(version)
                    if entry is None:
                        raise CorruptCheckpointError(
                            f"Checkpoint {cid!r} of thread {thread_id!r} needs the value of "
                            f"{key!r} from checkpoint {version!r}, which is missing."
                        )
                    vals = decoded[version] = loads(entry[1]) if entry[1] is not None else {}
                out[key] = vals[key]
            return out

        checkpoint = decode_header(
            header, self.serde, thread_id=thread_id, ns=ns, checkpoint_id=cid, values=values
        )
        pending: tuple[PendingWrite, ...] = ()
        if writes:
            pending = tuple(
                PendingWrite(task_id, channel, loads(data))
                for (task_id, channel), data in writes.items()
            )
        return StoredCheckpoint(checkpoint, pending)

    def load(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        with self._lock:
            log = self._logs.get((thread_id, ns))
            if not log:
                return None
            if checkpoint_id is None:
                checkpoint_id = next(reversed(log))
            elif checkpoint_id not in log:
                return None
            return self._decode(thread_id, ns, checkpoint_id, log)

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
            log = self._logs.get((thread_id, ns))
            ids = sorted(log, reverse=True) if log else []
            # Copy the entries (and their writes) under the lock: writers mutate them.
            snapshot = {
                cid: [e[0], e[1], dict(e[2]) if e[2] else None] for cid, e in (log or {}).items()
            }
        count = 0
        for cid in ids:
            if limit is not None and count >= limit:
                return
            if before is not None and cid >= before:
                continue
            stored = self._decode(thread_id, ns, cid, snapshot)
            if metadata_matches(stored.checkpoint, filter):
                count += 1
                yield stored

    # -- writing -------------------------------------------------------------

    def save(self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite] = ()) -> None:
        header = encode_header(checkpoint, self.serde)
        dumps = self.serde.dumps
        changed = checkpoint.changed_keys()
        values = dumps({k: checkpoint.values[k] for k in changed}) if changed else None
        encoded = {(w.task_id, w.channel): dumps(w.value) for w in parent_writes}
        key = (checkpoint.thread_id, checkpoint.ns)
        with self._lock:
            log = self._logs.get(key)
            if log is None:
                log = self._logs[key] = {}
            entry = log.get(checkpoint.id)
            # Saving an id again keeps the writes already stored against it.
            log[checkpoint.id] = [header, values, entry[2] if entry is not None else None]
            parent = log.get(checkpoint.parent_id) if checkpoint.parent_id else None
            if encoded and parent is not None:
                if parent[2] is None:
                    parent[2] = encoded
                else:
                    parent[2].update(encoded)

    def save_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        dumps = self.serde.dumps
        encoded = {(w.task_id, w.channel): dumps(w.value) for w in writes}
        with self._lock:
            entry = self._logs.get((thread_id, ns), {}).get(checkpoint_id)
            if entry is None:
                raise CorruptCheckpointError(
                    f"Cannot save writes for checkpoint {checkpoint_id!r} of thread {thread_id!r}: "
                    "it does not exist."
                )
            if entry[2] is None:
                entry[2] = encoded
            else:
                entry[2].update(encoded)

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            for key in [k for k in self._logs if k[0] == thread_id]:
                del self._logs[key]

    def list_threads(self) -> list[str]:
        """Every thread id with at least one checkpoint."""
        with self._lock:
            return sorted({k[0] for k in self._logs})


MemorySaver = InMemorySaver
"""Older name of :class:`InMemorySaver`."""
