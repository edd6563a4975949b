"""Records to statement parameters, and result rows back to records: pure, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pausegraph.checkpoint._codec import checkpoint_from_fields
from pausegraph.checkpoint._inline import InlineRows, decode_entry, encode_entry, read_values
from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint
from pausegraph.checkpoint.base import metadata_matches
from pausegraph.checkpoint.capabilities import WAITING
from pausegraph.checkpoint.postgres._inbox import waiting_params
from pausegraph.checkpoint.serde import Serializer

__all__ = [
    "Params",
    "Row",
    "assemble",
    "matching_ids",
    "save_many_params",
    "save_params",
    "save_writes_params",
    "text_array",
    "versions_array",
]

Params = dict[str, Any]
Row = tuple[Any, ...]


def text_array(items: Iterable[str]) -> str:
    """A ``text[]`` literal of ``items`` (the statements cast it with ``::text[]``).

    Several times cheaper than letting psycopg adapt a ``list[str]``, which
    quotes each item with a regular expression: a save passes six such arrays.
    """
    return "{" + ",".join(['"' + _escape(item) + '"' for item in items]) + "}"


def _escape(item: str) -> str:
    if "\\" in item or '"' in item:
        return item.replace("\\", "\\\\").replace('"', '\\"')
    return item


def _latest(writes: Sequence[PendingWrite]) -> dict[tuple[str, str], Any]:
    """Each ``(task_id, channel)``'s value; a later write replaces an earlier one in place.

    As the in-memory saver's dict does (one statement cannot upsert a row twice).
    """
    return {(w.task_id, w.channel): w.value for w in writes}


def _write_arrays(
    writes: Sequence[PendingWrite], serde: Serializer
) -> tuple[str, str, list[bytes]]:
    """Three parallel arrays, one entry per ``(task_id, channel)`` (see :func:`_latest`)."""
    table = _latest(writes)
    dumps = serde.dumps
    values = [dumps(value) for value in table.values()]  # fails before anything is sent
    return text_array([t for t, _ in table]), text_array([c for _, c in table]), values


def versions_array(cp: Checkpoint) -> str:
    """The ``versions`` column: ``key, version, chunk count`` for each key, in order.

    The version is ``""`` for this checkpoint, the count ``""`` for a key not
    stored as a snapshot plus chunks (the load query reads both as SQL does).
    """
    own, chains = cp.id, cp.chains
    items: list[str] = []
    for key, version in cp.versions.items():
        count = chains.get(key)
        items += (key, "" if version == own else version, "" if count is None else str(count))
    return text_array(items)


def _kept_writes(cp: Checkpoint, parent_writes: Sequence[PendingWrite]) -> list[PendingWrite]:
    """The parent's writes a save stores: none without a parent, and no waiting-index write."""
    if cp.parent_id is None:
        return []
    return [w for w in parent_writes if w.channel != WAITING]


def _checkpoint_rows(
    cp: Checkpoint, serde: Serializer
) -> tuple[bytes, list[tuple[str, str, bytes]]]:
    """The checkpoint row's value, and the ``(key, version, bytes)`` of its value rows.

    See :func:`~pausegraph.checkpoint._inline.encode_entry`. Versions and
    chains are left out of the header: ``versions`` lists them for SQL.

    Raises:
        SerializationError: A value cannot be stored; the message names its key.
    """
    return encode_entry(cp, serde, index=False)


def save_many_params(
    items: Sequence[tuple[Checkpoint, Sequence[PendingWrite]]],
    serde: Serializer,
    then: Sequence[PendingWrite] | None = None,
) -> Params:
    """Parameters of :data:`~._sql.SAVE_MANY`: :func:`save_params` of each, as parallel arrays.

    With ``then`` (the last checkpoint's task writes), the parameters of
    :data:`~._sql.SAVE_MANY_WRITES`: those writes join the parents' writes,
    and the ``w_*`` of :func:`save_writes_params` say how they change the
    waiting index.

    Raises:
        ValueError: The checkpoints do not all belong to the first one's thread
            and namespace.
        SerializationError: A value cannot be stored; the message names its key.
    """
    first = items[0][0]
    values: list[bytes] = []
    blobs: list[tuple[str, str, bytes]] = []
    writes: list[tuple[str, str, str, Any]] = []
    for cp, parent_writes in items:
        if (cp.thread_id, cp.ns) != (first.thread_id, first.ns):
            raise ValueError("save_many_params: every checkpoint must share one thread and ns")
        value, rows = _checkpoint_rows(cp, serde)
        values.append(value)
        blobs += rows
        table = _latest(_kept_writes(cp, parent_writes))
        writes += [(cp.parent_id or "", t, c, v) for (t, c), v in table.items()]
    last = items[-1][0].id
    if then is not None:
        table = _latest([w for w in then if w.channel != WAITING])
        writes += [(last, t, c, v) for (t, c), v in table.items()]
    params: Params = {
        "thread_id": first.thread_id,
        "ns": first.ns,
        "ids": text_array([cp.id for cp, _ in items]),
        "checkpoint_values": values,
        "versions": text_array([versions_array(cp) for cp, _ in items]),
        "blob_keys": text_array([key for key, _, _ in blobs]),
        "blob_versions": text_array([version for _, version, _ in blobs]),
        "blob_values": [blob for _, _, blob in blobs],
        "targets": text_array([target for target, _, _, _ in writes]),
        "tasks": text_array([task for _, task, _, _ in writes]),
        "channels": text_array([channel for _, _, channel, _ in writes]),
        "values": [serde.dumps(value) for _, _, _, value in writes],
    }
    if then is not None:
        params["target"] = last
        params.update(waiting_params(first.ns, then, serde))
    return params


def save_params(cp: Checkpoint, parent_writes: Sequence[PendingWrite], serde: Serializer) -> Params:
    """Parameters of :data:`~._sql.SAVE`: the checkpoint row, value rows, the parent's writes.

    See :func:`_checkpoint_rows`. Waiting-index writes among ``parent_writes``
    are dropped: saving moves the thread on.

    Raises:
        SerializationError: A value cannot be stored; the message names its key.
    """
    value, rows = _checkpoint_rows(cp, serde)
    tasks, channels, values = _write_arrays(_kept_writes(cp, parent_writes), serde)
    return {
        "thread_id": cp.thread_id,
        "ns": cp.ns,
        "checkpoint_id": cp.id,
        "value": value,
        "versions": versions_array(cp),
        "blob_keys": text_array([key for key, _, _ in rows]),
        "blob_versions": text_array([version for _, version, _ in rows]),
        "blob_values": [blob for _, _, blob in rows],
        "target": cp.parent_id,
        "tasks": tasks,
        "channels": channels,
        "values": values,
    }


def save_writes_params(
    thread_id: str,
    ns: str,
    checkpoint_id: str,
    writes: Sequence[PendingWrite],
    serde: Serializer,
) -> Params:
    """Parameters of :data:`~._sql.SAVE_WRITES`: the writes, and the waiting-index change.

    Raises:
        ValueError: A waiting write does not carry ``encode_waiting(entry)``.
    """
    tasks, channels, data = _write_arrays([w for w in writes if w.channel != WAITING], serde)
    params: Params = {
        "thread_id": thread_id,
        "ns": ns,
        "target": checkpoint_id,
        "tasks": tasks,
        "channels": channels,
        "values": data,
    }
    params.update(waiting_params(ns, writes, serde))
    return params


def _index(items: Sequence[str], cid: str) -> tuple[dict[str, str], dict[str, int]]:
    """``(versions, chains)`` of a ``versions`` column (see :func:`versions_array`)."""
    versions: dict[str, str] = {}
    chains: dict[str, int] = {}
    for i in range(0, len(items), 3):
        key, version, count = items[i], items[i + 1], items[i + 2]
        versions[key] = version or cid
        if count:
            chains[key] = int(count)
    return versions, chains


def _reader(
    cid: str,
    inline: Mapping[str, Any] | None,
    blobs: Mapping[tuple[str, str], bytes],
    entries: Mapping[str, bytes],
    serde: Serializer,
    thread_id: str,
) -> Callable[[Mapping[str, str]], dict[str, Any]]:
    """The ``values`` callback of checkpoint ``cid``: each blob from its row, else inline.

    An inline value is in the row of the checkpoint that wrote it (``entries``;
    ``inline`` for ``cid`` itself).
    """
    rows = InlineRows(serde, thread_id, cid, inline, entries)
    return lambda pairs: read_values(pairs, blobs, rows, "the PostgreSQL database")


def assemble(
    rows: Sequence[Row], serde: Serializer, thread_id: str, ns: str
) -> list[StoredCheckpoint]:
    """The checkpoints of a bundle query's rows (see ``_sql._bundle``), newest first.

    Raises:
        CorruptCheckpointError: A checkpoint or value is damaged, or a value is missing.
    """
    headers: list[tuple[str, bytes, list[str]]] = []
    entries: dict[str, bytes] = {}  # checkpoint rows, for the values they keep inline
    blobs: dict[tuple[str, str], bytes] = {}
    writes: dict[str, list[tuple[str, str, bytes]]] = {}
    for kind, ident, key, channel, value, _seq, versions in rows:
        if kind == 0:
            headers.append((ident, value, versions))
            entries[ident] = value
        elif kind == 1:
            if value is not None:  # NULL: inline in its checkpoint's row (or missing)
                blobs[(key, ident)] = value
        elif kind == 3:
            if value is not None:
                entries[ident] = value
        else:
            writes.setdefault(ident, []).append((key, channel, value))
    headers.sort(reverse=True)
    loads = serde.loads
    out: list[StoredCheckpoint] = []
    for cid, data, versions in headers:
        fields, inline = decode_entry(data, serde, thread_id, cid)
        checkpoint = checkpoint_from_fields(
            fields,
            thread_id=thread_id,
            ns=ns,
            checkpoint_id=cid,
            values=_reader(cid, inline, blobs, entries, serde, thread_id),
            index=None if inline is None else _index(versions, cid),
        )
        pending = tuple(PendingWrite(t, c, loads(v)) for t, c, v in writes.get(cid, ()))
        out.append(StoredCheckpoint(checkpoint, pending))
    return out


def matching_ids(
    rows: Sequence[Row],
    serde: Serializer,
    thread_id: str,
    ns: str,
    filter: Mapping[str, Any],
) -> list[str]:
    """Ids of the ``(checkpoint_id, value)`` checkpoint rows whose metadata matches ``filter``."""
    return [
        cid
        for cid, data in rows
        if metadata_matches(
            checkpoint_from_fields(
                decode_entry(data, serde, thread_id, cid)[0],
                thread_id=thread_id,
                ns=ns,
                checkpoint_id=cid,
                values=None,
            ),
            filter,
        )
    ]
