"""The frozen records a checkpoint saver stores and returns."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

__all__ = [
    "Checkpoint",
    "CheckpointSource",
    "PendingWrite",
    "StoredCheckpoint",
    "TaskRef",
    "blob_pairs",
    "chunk_key",
    "created_at_of",
    "iso_from_micros",
    "metadata_matches",
    "metadata_of",
    "new_checkpoint_id",
    "pending_write",
]

CheckpointSource = Literal["input", "loop", "update", "fork"]
"""Why a checkpoint was written: a run's input, a finished step, ``update_state``, a fork."""

_NO_ARG: Any = object()

EMPTY: Mapping[str, Any] = MappingProxyType({})
"""An empty mapping no one can change, shared as a default."""


class TaskRef(NamedTuple):
    """A task the next step will run (a ``NamedTuple``: one is made per task read).

    Attributes:
        node: The node to run.
        push: ``True`` for a ``Send`` task (it carries ``arg``), ``False`` for an edge.
        arg: The ``Send``'s argument (or a run's input for START).
    """

    node: str
    push: bool = False
    arg: Any = None


class Checkpoint(NamedTuple):
    """One saved point of a thread: the state after a step and the work still to do.

    An immutable record. It is a ``NamedTuple`` rather than a frozen dataclass
    because the runtime makes one per step: building it costs a fifth as much.

    Attributes:
        thread_id: The thread this checkpoint belongs to.
        ns: Checkpoint namespace: ``""`` for the root graph, ``"node:task"`` paths for subgraphs.
        id: Unique and time-ordered; ``newer.id > older.id`` within a thread.
        parent_id: The checkpoint this one follows, ``None`` for the first.
        step: ``-1`` for a run's first input, then one more per step.
        source: Why it was written.
        created_at: ISO 8601 time in UTC; ``""`` when it is the time in the id
            (read it with :func:`created_at_of`).
        values: The full state, key to value (keys without a value are absent).
        versions: Key to the id of the checkpoint that last changed it; savers
            store a value only in the checkpoint that changed it.
        frontier: The tasks the next step runs.
        barriers: For each ``add_edge([...], node)`` join (by index), the sources done so far.
        metadata: User metadata given in the run's config.
        writers: The nodes whose writes made this checkpoint (``update_state``
            infers ``as_node`` from them).
        chains: For list keys stored as a snapshot plus appended chunks, how
            many chunks follow the snapshot ``versions[key]``.
        appended: The items appended at this checkpoint, per chained key (not
            stored in the header: they are this checkpoint's chunk).
    """

    thread_id: str
    ns: str
    id: str
    parent_id: str | None
    step: int
    source: CheckpointSource
    created_at: str
    values: Mapping[str, Any]
    versions: Mapping[str, str]
    frontier: tuple[TaskRef, ...] = ()
    barriers: Mapping[str, tuple[str, ...]] = EMPTY
    metadata: Mapping[str, Any] = EMPTY
    writers: tuple[str, ...] = ()
    chains: Mapping[str, int] = EMPTY
    appended: Mapping[str, list[Any]] = EMPTY

    def stored_blobs(self) -> list[tuple[str, str, Any]]:
        """What a saver must store for this checkpoint: ``(blob key, version, value)``.

        A key this checkpoint replaced is stored whole under its own id. A key
        it only appended to (a list with an appending reducer) stores just the
        appended items, as chunk ``chains[key]`` of the key's snapshot
        (``versions[key]``), so a long history costs about the data it holds.
        """
        own = self.id
        out = [(k, own, self.values[k]) for k, v in self.versions.items() if v == own]
        for key, items in self.appended.items():
            out.append((chunk_key(key, self.chains[key]), self.versions[key], items))
        return out


@dataclass(frozen=True, slots=True)
class PendingWrite:
    """A value a task produced against a checkpoint before the next one was written.

    Channels: ``__writes__`` (the task's state writes, so it need not run again),
    ``__next__`` (where it routes), ``__interrupt__``, ``__resume__``,
    ``__error__``, ``__journal__``. A later write to the same ``(task_id,
    channel)`` replaces the earlier one.
    """

    task_id: str
    channel: str
    value: Any


_new_object = object.__new__
_set_task_id = PendingWrite.__dict__["task_id"].__set__
_set_channel = PendingWrite.__dict__["channel"].__set__
_set_value = PendingWrite.__dict__["value"].__set__


def pending_write(task_id: str, channel: str, value: Any) -> PendingWrite:
    """``PendingWrite(task_id, channel, value)``, in half the time.

    The same record, made without the frozen dataclass's ``__init__`` (an
    ``object.__setattr__`` per field): runs make several per step.
    """
    write: PendingWrite = _new_object(PendingWrite)
    _set_task_id(write, task_id)
    _set_channel(write, channel)
    _set_value(write, value)
    return write


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint with the pending writes saved against it."""

    checkpoint: Checkpoint
    writes: tuple[PendingWrite, ...] = ()


CHUNK_MARK = "\x1f"
"""Separates a key from its chunk number in blob keys."""


def chunk_key(key: str, index: int) -> str:
    """The blob key of the ``index``-th chunk appended to ``key`` after its snapshot."""
    return f"{key}{CHUNK_MARK}{index}"


def blob_pairs(versions: Mapping[str, str], chains: Mapping[str, int]) -> dict[str, str]:
    """Every ``blob key -> version`` a checkpoint's values are made of.

    Savers fetch exactly these to load a checkpoint, and must keep them when
    pruning older checkpoints.
    """
    if not chains:
        return versions  # type: ignore[return-value]  # read only by callers
    pairs = dict(versions)
    for key, count in chains.items():
        base = versions[key]
        for i in range(1, count + 1):
            pairs[chunk_key(key, i)] = base
    return pairs


def metadata_of(checkpoint: Checkpoint) -> dict[str, Any]:
    """The metadata users see: ``source``, ``step``, ``parents`` and user keys."""
    meta: dict[str, Any] = {"source": checkpoint.source, "step": checkpoint.step, "parents": {}}
    meta.update(checkpoint.metadata)
    return meta


def metadata_matches(checkpoint: Checkpoint, filter: Mapping[str, Any] | None) -> bool:
    """Whether the checkpoint's metadata contains every pair of ``filter``."""
    if not filter:
        return True
    meta = metadata_of(checkpoint)
    return all(k in meta and meta[k] == v for k, v in filter.items())


_last_tick = 0
_node = int.from_bytes(os.urandom(6), "big")
_SUFFIX = f"-8{(_node >> 36) & 0xFFF:03x}-{_node & 0xFFFFFFFFF:012x}"


def new_checkpoint_id() -> str:
    """A new UUID-formatted id that sorts after every id made before it in this process.

    The first 60 bits count 100 ns ticks (strictly increasing in this
    process), the rest is random per process, so ids also sort by time across
    processes. Ids only need to be unique within a thread, which runs one
    invocation at a time, so no lock is taken.
    """
    global _last_tick
    tick = time.time_ns() // 100
    if tick <= _last_tick:
        tick = _last_tick + 1
    _last_tick = tick
    h = f"{tick:015x}"
    return f"{h[:8]}-{h[8:12]}-6{h[12:]}{_SUFFIX}"


_minute: list[Any] = [-1, ""]


def iso_from_micros(micros: int) -> str:
    """ISO 8601 UTC with microseconds (``...+00:00``), formatting the date once per minute."""
    minute, rest = divmod(micros, 60_000_000)
    if minute != _minute[0]:
        import datetime as dt

        stamp = dt.datetime.fromtimestamp(minute * 60, dt.timezone.utc)
        _minute[0], _minute[1] = minute, stamp.strftime("%Y-%m-%dT%H:%M:")
    seconds, us = divmod(rest, 1_000_000)
    return f"{_minute[1]}{seconds:02d}.{us:06d}+00:00"


def created_at_of(checkpoint_id: str) -> str:
    """When a checkpoint id from :func:`new_checkpoint_id` was made, as ISO 8601 UTC.

    Returns ``""`` for ids made otherwise.
    """
    if _last_stamp[0] == checkpoint_id:  # the id just made is asked about again at once
        return _last_stamp[1]
    try:
        tick = int(checkpoint_id[0:8] + checkpoint_id[9:13] + checkpoint_id[15:18], 16)
    except (ValueError, IndexError):
        return ""
    stamp = iso_from_micros(tick // 10)
    _last_stamp[0], _last_stamp[1] = checkpoint_id, stamp
    return stamp


_last_stamp: list[str] = ["", ""]
