"""The saver contract's operations, written once for the sync and the async saver.

Each operation is a generator (a *flow*) that yields :class:`Call`\\ s, one
round trip each, and is sent their replies. It encodes, decodes and decides;
the savers in ``_saver`` only run flows (``client.execute_command``, with or
without ``await``). So the key layout, the scripts and the (de)serialization
exist once, and the sync and async savers cannot drift apart.

Round trips: ``save`` and ``save_writes`` one each (a script, atomic), also
when they give the run's lease back; ``load`` one (the script returns the
record, its writes and the values its index names, see ``_record``),
whatever the history's length, also when it takes the lease; ``history`` one
per page of checkpoints (two with a metadata filter, which runs here: the
values of only the checkpoints it keeps are read after it). A checkpoint
stored in layout 1 costs one more round trip, for its values.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pausegraph.checkpoint._codec import load_values
from pausegraph.checkpoint._paging import HistoryCursor
from pausegraph.checkpoint._records import (
    Checkpoint,
    PendingWrite,
    StoredCheckpoint,
    blob_pairs,
    metadata_matches,
)
from pausegraph.checkpoint.capabilities import (
    WAITING,
    SaveItem,
    WritesItem,
    cursor_of,
    decode_waiting,
)
from pausegraph.checkpoint.redis import _lua
from pausegraph.checkpoint.redis._layout import KeyLayout, NsKeys
from pausegraph.checkpoint.redis._record import decode_record, encode_record
from pausegraph.checkpoint.serde import Serializer
from pausegraph.errors import CorruptCheckpointError

__all__ = [
    "Call",
    "Context",
    "Flow",
    "HistoryPages",
    "Together",
    "delete_thread",
    "load",
    "load_leased",
    "save",
    "save_writes",
    "text_of",
    "write_batch",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """One round trip: a command (``script`` is ``None``) or a Lua script.

    Attributes:
        args: The command and its arguments; for a script, its keys then its arguments.
        script: The script to run.
        keys: How many of ``args`` are keys (scripts only).
    """

    args: tuple[Any, ...]
    script: _lua.Script | None = None
    keys: int = 0


@dataclass(frozen=True, slots=True)
class Together:
    """Calls sent in one round trip and run as one transaction (``MULTI``/``EXEC``).

    The flow is sent the list of their replies. Every call must be safe to
    run twice: a server that forgot the scripts runs them all again.
    """

    calls: tuple[Call, ...]


Flow = Generator["Call | Together", Any, T]
"""An operation: yields calls, receives their replies, returns its result."""


class Context(Protocol):
    """What flows read from the saver running them."""

    @property
    def serde(self) -> Serializer:
        """The serializer."""
        ...

    @property
    def keys(self) -> KeyLayout:
        """The key layout."""
        ...

    @property
    def ttl_ms(self) -> int | None:
        """Milliseconds a finished thread's keys live, or ``None`` to keep them."""
        ...


def text_of(data: bytes | str) -> str:
    """A reply's bytes as ``str`` (ids, members and keys are UTF-8)."""
    return data.decode() if type(data) is bytes else str(data)


# -- reading -------------------------------------------------------------------


def _decode(
    cx: Context, thread_id: str, ns: str, entry: Sequence[Any], found: dict[str, Any]
) -> tuple[Checkpoint, tuple[PendingWrite, ...]]:
    """A checkpoint (without values) and its writes, from a ``LOAD``-shaped reply.

    The values the reply carries go into ``found`` (blob field -> bytes).
    """
    cid = text_of(entry[0])
    record = entry[1]
    if record is None:
        raise CorruptCheckpointError(
            f"Checkpoint {cid!r} of thread {thread_id!r} is listed but its header is missing; "
            "restore the store from a backup or delete the thread."
        )
    checkpoint = decode_record(record, cx.serde, thread_id=thread_id, ns=ns, checkpoint_id=cid)
    values = entry[2]
    for i in range(0, len(values), 2):
        found[text_of(values[i])] = values[i + 1]
    if len(entry) == 3:
        return checkpoint, ()
    loads = cx.serde.loads
    writes = []
    for i in range(3, len(entry), 2):
        task, _, channel = text_of(entry[i]).partition("\x00")
        data = entry[i + 1]
        if data is None:
            raise CorruptCheckpointError(
                f"Checkpoint {cid!r} of thread {thread_id!r} lists a write of task {task!r} "
                f"on {channel!r} whose value is missing; delete the thread or restore a backup."
            )
        writes.append(PendingWrite(task, channel, loads(data)))
    return checkpoint, tuple(writes)


def _with_values(
    cx: Context, k: NsKeys, checkpoints: list[Checkpoint], found: dict[str, Any]
) -> Flow[list[Checkpoint]]:
    """The checkpoints with their values, from ``found`` (blob field -> bytes).

    What ``found`` lacks (values of layout 1 records, or of a page read without
    them) is read first, with one ``HMGET`` for all of them.
    """
    missing = {
        field: None
        for cp in checkpoints
        for key, version in blob_pairs(cp.versions, cp.chains).items()
        if (field := f"{key}\x00{version}") not in found
    }
    if missing:
        fields = list(missing)
        found.update(zip(fields, (yield Call(("HMGET", k.vals, *fields))), strict=True))
    loads = cx.serde.loads
    out = []
    for cp in checkpoints:

        def fetch(pairs: Mapping[str, str], cp: Checkpoint = cp) -> dict[str, Any]:
            blobs: dict[str, Any] = {}
            for key, version in pairs.items():
                data = found.get(f"{key}\x00{version}")
                if data is None:
                    raise CorruptCheckpointError(
                        f"Checkpoint {cp.id!r} of thread {cp.thread_id!r} needs the value of "
                        f"{key!r} from checkpoint {version!r}, which is missing."
                    )
                blobs[key] = loads(data)
            return blobs

        out.append(cp._replace(values=load_values(cp, fetch)))
    return out


def load(
    cx: Context, thread_id: str, ns: str, checkpoint_id: str | None
) -> Flow[StoredCheckpoint | None]:
    """The checkpoint (the newest when ``checkpoint_id`` is ``None``) and its writes."""
    k = cx.keys.ns(thread_id, ns)
    args = (k.ids, k.cps, k.vals, k.writes, k.worder, checkpoint_id or "")
    reply = yield Call(args, _lua.LOAD, 5)
    return (yield from _loaded(cx, thread_id, ns, k, reply))


def load_leased(
    cx: Context, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
) -> Flow[tuple[bool, StoredCheckpoint | None]]:
    """Take the thread's lease and load, in one script (see ``FoldedLeases``)."""
    k = cx.keys.ns(thread_id, ns)
    args = (k.ids, k.cps, k.vals, k.writes, k.worder, cx.keys.lease(thread_id))
    ms = max(1, round(ttl * 1000))
    reply = yield Call((*args, checkpoint_id or "", owner, ms), _lua.LOAD_LEASED, 6)
    if reply == 0:
        return False, None
    return True, (yield from _loaded(cx, thread_id, ns, k, None if reply == 1 else reply))


def _loaded(
    cx: Context, thread_id: str, ns: str, k: NsKeys, reply: Any
) -> Flow[StoredCheckpoint | None]:
    """The stored checkpoint of a ``LOAD``-shaped reply, with its values."""
    if reply is None:
        return None
    found: dict[str, Any] = {}
    checkpoint, writes = _decode(cx, thread_id, ns, reply, found)
    (checkpoint,) = yield from _with_values(cx, k, [checkpoint], found)
    return StoredCheckpoint(checkpoint, writes)


class HistoryPages:
    """A thread's history as a series of page flows, newest first.

    The savers loop ``while (flow := pages.next()) is not None`` and emit
    what each flow returns; the cursor keeps the position and the limit.
    """

    def __init__(
        self,
        cx: Context,
        thread_id: str,
        ns: str,
        before: str | None,
        limit: int | None,
        filter: Mapping[str, Any] | None,
    ) -> None:
        self._cx = cx
        self._thread_id = thread_id
        self._ns = ns
        self._cursor = HistoryCursor(before, limit, filter)

    def next(self) -> Flow[list[StoredCheckpoint]] | None:
        """The flow reading the next page, or ``None`` when the history is exhausted."""
        return None if self._cursor.done else self._page()

    def _page(self) -> Flow[list[StoredCheckpoint]]:
        cx, thread_id, ns, cursor = self._cx, self._thread_id, self._ns, self._cursor
        size = cursor.page_size()
        k = cx.keys.ns(thread_id, ns)
        # A filter drops checkpoints only once decoded: read its values after it.
        with_values = "" if cursor.filter else "1"
        args = (k.ids, k.cps, k.vals, k.writes, k.worder, cursor.before or "", size, with_values)
        entries = yield Call(args, _lua.HISTORY_PAGE, 5)
        seen = [text_of(entry[0]) for entry in entries]
        found: dict[str, Any] = {}
        decoded = [_decode(cx, thread_id, ns, entry, found) for entry in entries]
        if cursor.filter:
            decoded = [item for item in decoded if metadata_matches(item[0], cursor.filter)]
        decoded = cursor.advance(seen, size, decoded)
        checkpoints = yield from _with_values(cx, k, [cp for cp, _ in decoded], found)
        return [StoredCheckpoint(cp, w) for cp, (_, w) in zip(checkpoints, decoded, strict=True)]


# -- writing -------------------------------------------------------------------


def _write_args(cx: Context, writes: Sequence[PendingWrite]) -> list[Any]:
    dumps = cx.serde.dumps
    args: list[Any] = []
    for w in writes:
        args += (w.task_id, w.channel, dumps(w.value))
    return args


def save(
    cx: Context,
    checkpoint: Checkpoint,
    parent_writes: Sequence[PendingWrite],
    *,
    release: str | None = None,
) -> Flow[None]:
    """Store the record (see ``_record``), the blobs it adds and the parent's writes in one script.

    A root checkpoint also drops the thread's waiting-index entry and settles
    its expiry: with a ``ttl``, a checkpoint with nothing left to run (the run
    ended) starts the countdown; any other root checkpoint stops it.
    ``release`` names the owner whose lease the script gives back.
    """
    dumps = cx.serde.dumps
    thread_id, ns, cid = checkpoint.thread_id, checkpoint.ns, checkpoint.id
    k = cx.keys.ns(thread_id, ns)
    blobs: list[Any] = []
    for key, version, value in checkpoint.stored_blobs():
        blobs += (f"{key}\x00{version}", dumps(value))
    ttl = cx.ttl_ms
    mode = "" if ns else "f" if ttl is not None and not checkpoint.frontier else "r"
    parent = checkpoint.parent_id
    args = [
        k.meta,
        k.requests,
        k.ids,
        k.cps,
        k.vals,
        k.writes,
        k.worder,
        cx.keys.threads,
        cx.keys.waiting,
        cx.keys.waiting_entries,
        cx.keys.lease(thread_id),
        thread_id,
        k.field,
        k.base,
        cid,
        encode_record(checkpoint, cx.serde),
        mode,
        ttl or 0,
        parent or "",
        release or "",
        len(blobs),
        *blobs,
    ]
    if parent is not None and parent_writes:
        # As in the memory saver, an index write here is no write (and sets no index).
        args += _write_args(cx, [w for w in parent_writes if w.channel != WAITING])
    yield Call(tuple(args), _lua.SAVE, 11)


def save_writes(
    cx: Context,
    thread_id: str,
    ns: str,
    checkpoint_id: str,
    writes: Sequence[PendingWrite],
    *,
    release: str | None = None,
) -> Flow[None]:
    """Store writes against a checkpoint; a :data:`WAITING` write updates the index instead.

    ``release`` names the owner whose lease the script gives back (even when
    the checkpoint is missing).

    Raises:
        CorruptCheckpointError: The checkpoint does not exist (nothing was written).
    """
    k = cx.keys.ns(thread_id, ns)
    plain = [w for w in writes if w.channel != WAITING]
    waiting = [w for w in writes if w.channel == WAITING]
    graph_index, op, member, entry = cx.keys.waiting, "", "", b""
    if waiting:
        value = waiting[-1].value  # applied in order, the last one decides
        if value is None:
            op = "del"
        elif not ns:  # only a root namespace pauses the thread (as in the memory saver)
            found = decode_waiting(value)
            graph_index = cx.keys.waiting_graph(found.graph)
            op, member, entry = "set", cursor_of(found), cx.serde.dumps(value)
    args = (
        k.meta,
        k.ids,
        k.writes,
        k.worder,
        cx.keys.waiting,
        cx.keys.waiting_entries,
        graph_index,
        cx.keys.lease(thread_id),
        thread_id,
        checkpoint_id,
        op,
        member,
        entry,
        release or "",
        *_write_args(cx, plain),
    )
    if not (yield Call(args, _lua.SAVE_WRITES, 8)):
        raise CorruptCheckpointError(
            f"Cannot save writes for checkpoint {checkpoint_id!r} of thread {thread_id!r}: "
            "it does not exist."
        )


def delete_thread(cx: Context, thread_id: str) -> Flow[None]:
    """Delete every key of the thread and its waiting-index entry, in one script."""
    keys = cx.keys
    args = (
        keys.meta(thread_id),
        keys.requests(thread_id),
        keys.threads,
        keys.waiting,
        keys.waiting_entries,
        thread_id,
    )
    yield Call(args, _lua.DELETE_THREAD, 5)


def write_batch(
    cx: Context, items: Sequence[SaveItem | WritesItem], release: str | None
) -> Flow[None]:
    """Every item's script, sent together and run as one transaction.

    Redis cannot roll back: when a writes item's checkpoint is missing, the
    other items are stored all the same, and the error is raised afterwards.
    """
    last = len(items) - 1
    flows = [
        save(cx, *item, release=release if i == last else None)
        if isinstance(item, SaveItem)
        else save_writes(cx, *item, release=release if i == last else None)
        for i, item in enumerate(items)
    ]
    calls = []
    for flow in flows:
        call = next(flow)
        assert isinstance(call, Call)  # save and save_writes are one script each
        calls.append(call)
    replies = yield Together(tuple(calls))
    for flow, reply in zip(flows, replies, strict=True):
        try:
            flow.send(reply)
        except StopIteration:
            continue
