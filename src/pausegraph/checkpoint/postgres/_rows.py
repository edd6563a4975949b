"""Records to statement parameters, and result rows back to records: pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pausegraph.checkpoint._codec import decode_header, encode_header
from pausegraph.checkpoint._records import (
    Checkpoint,
    PendingWrite,
    StoredCheckpoint,
    created_at_of,
)
from pausegraph.checkpoint.base import metadata_matches
from pausegraph.checkpoint.capabilities import WAITING
from pausegraph.checkpoint.postgres._inbox import waiting_params
from pausegraph.checkpoint.serde import Serializer
from pausegraph.errors import CorruptCheckpointError

__all__ = [
    "Params",
    "Row",
    "assemble",
    "matching_ids",
    "save_many_params",
    "save_params",
    "save_writes_params",
    "text_array",
]

Params = dict[str, Any]
Row = tuple[Any, ...]


def text_array(items: Iterable[str | None]) -> str:
    """A ``text[]`` literal of ``items`` (the statements cast it with ``::text[]``).

    Several times cheaper than letting psycopg adapt a ``list[str]``, which
    quotes each item with a regular expression: a save passes six such arrays.
    ``None`` items are NULL.
    """
    return (
        "{"
        + ",".join(["NULL" if item is None else '"' + _escape(item) + '"' for item in items])
        + "}"
    )


def _escape(item: str) -> str:
    if "\\" in item or '"' in item:
        return item.replace("\\", "\\\\").replace('"', '\\"')
    return item


def _write_arrays(
    writes: Sequence[PendingWrite], serde: Serializer
) -> tuple[str, str, list[bytes]]:
    """Three parallel arrays, one entry per ``(task_id, channel)``.

    A later write replaces an earlier one but keeps its position, as the
    in-memory saver's dict does (one statement cannot upsert a row twice).
    """
    table: dict[tuple[str, str], Any] = {}
    for w in writes:
        table[(w.task_id, w.channel)] = w.value
    dumps = serde.dumps
    values = [dumps(value) for value in table.values()]  # fails before anything is sent
    return text_array([t for t, _ in table]), text_array([c for _, c in table]), values


def _chains_literal(cp: Checkpoint) -> str:
    chains = cp.chains
    return "{" + ",".join(str(chains.get(k, 0)) for k in cp.versions) + "}"


def _kept_writes(cp: Checkpoint, parent_writes: Sequence[PendingWrite]) -> list[PendingWrite]:
    """The parent's writes a save stores: none without a parent, and no waiting-index write."""
    if cp.parent_id is None:
        return []
    return [w for w in parent_writes if w.channel != WAITING]


def save_many_params(
    items: Sequence[tuple[Checkpoint, Sequence[PendingWrite]]], serde: Serializer
) -> Params:
    """Parameters of :data:`~._sql.SAVE_MANY`: :func:`save_params` of each, as parallel arrays.

    Every checkpoint must belong to the first one's thread and namespace.
    """
    dumps = serde.dumps
    first = items[0][0]
    blobs: list[tuple[str, str, Any]] = []
    targets: list[str] = []
    tasks: list[str] = []
    channels: list[str] = []
    values: list[bytes] = []
    for cp, parent_writes in items:
        if (cp.thread_id, cp.ns) != (first.thread_id, first.ns):
            raise ValueError("save_many_params: every checkpoint must share one thread and ns")
        blobs += cp.stored_blobs()
        table = {(w.task_id, w.channel): w.value for w in _kept_writes(cp, parent_writes)}
        for (task, channel), value in table.items():
            targets.append(cp.parent_id or "")
            tasks.append(task)
            channels.append(channel)
            values.append(dumps(value))
    cps = [cp for cp, _ in items]
    return {
        "thread_id": first.thread_id,
        "ns": first.ns,
        "ids": text_array([cp.id for cp in cps]),
        "parents": text_array([cp.parent_id for cp in cps]),
        "steps": "{" + ",".join(str(cp.step) for cp in cps) + "}",
        "sources": text_array([cp.source for cp in cps]),
        "created": text_array([cp.created_at or created_at_of(cp.id) for cp in cps]),
        "value_keys": text_array([text_array(cp.versions) for cp in cps]),
        "value_versions": text_array([text_array(cp.versions.values()) for cp in cps]),
        "value_chains": text_array([_chains_literal(cp) for cp in cps]),
        "headers": [encode_header(cp, serde) for cp in cps],
        "blob_keys": text_array([key for key, _, _ in blobs]),
        "blob_versions": text_array([version for _, version, _ in blobs]),
        "blob_values": [dumps(value) for _, _, value in blobs],
        "targets": text_array(targets),
        "tasks": text_array(tasks),
        "channels": text_array(channels),
        "values": values,
    }


def save_params(cp: Checkpoint, parent_writes: Sequence[PendingWrite], serde: Serializer) -> Params:
    """Parameters of :data:`~._sql.SAVE`: header, stored blobs, and the parent's writes.

    ``value_keys``/``value_versions``/``value_chains`` list the versions the
    checkpoint reads and how many appended chunks follow each, so one query
    loads it with its values (expanding the chunks). Waiting-index writes among
    ``parent_writes`` are dropped: saving moves the thread on.
    """
    dumps = serde.dumps
    blobs = cp.stored_blobs()
    tasks, channels, data = _write_arrays(_kept_writes(cp, parent_writes), serde)
    return {
        "thread_id": cp.thread_id,
        "ns": cp.ns,
        "checkpoint_id": cp.id,
        "parent_id": cp.parent_id,
        "step": cp.step,
        "source": cp.source,
        "created_at": cp.created_at or created_at_of(cp.id),
        "value_keys": text_array(cp.versions),
        "value_versions": text_array(cp.versions.values()),
        "value_chains": _chains_literal(cp),
        "header": encode_header(cp, serde),
        "blob_keys": text_array([key for key, _, _ in blobs]),
        "blob_versions": text_array([version for _, version, _ in blobs]),
        "blob_values": [dumps(value) for _, _, value in blobs],
        "target": cp.parent_id,
        "tasks": tasks,
        "channels": channels,
        "values": data,
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


def _values(
    pairs: Mapping[str, str],
    blobs: Mapping[tuple[str, str], bytes],
    serde: Serializer,
    thread_id: str,
    cid: str,
) -> dict[str, Any]:
    """The blob stored for each ``blob key -> version`` of ``pairs``, decoded."""
    loads = serde.loads
    out: dict[str, Any] = {}
    for key, version in pairs.items():
        data = blobs.get((key, version))
        if data is None:
            raise CorruptCheckpointError(
                f"Checkpoint {cid!r} of thread {thread_id!r} needs the value of {key!r} from "
                f"checkpoint {version!r}, which is missing from the PostgreSQL database. "
                "Restore it from a backup, or delete the thread."
            )
        out[key] = loads(data)
    return out


def assemble(
    rows: Sequence[Row], serde: Serializer, thread_id: str, ns: str
) -> list[StoredCheckpoint]:
    """The checkpoints of a bundle query's rows (see ``_sql._bundle``), newest first.

    Raises:
        CorruptCheckpointError: A header or value is damaged, or a value is missing.
    """
    headers: list[tuple[str, bytes]] = []
    blobs: dict[tuple[str, str], bytes] = {}
    writes: dict[str, list[tuple[str, str, bytes]]] = {}
    for kind, ident, key, channel, value, _seq in rows:
        if kind == 0:
            headers.append((ident, value))
        elif kind == 1:
            if value is not None:  # missing: reported by _values if a checkpoint needs it
                blobs[(key, ident)] = value
        else:
            writes.setdefault(ident, []).append((key, channel, value))
    headers.sort(reverse=True)
    loads = serde.loads
    out: list[StoredCheckpoint] = []
    for cid, header in headers:

        def values(pairs: Mapping[str, str], cid: str = cid) -> dict[str, Any]:
            return _values(pairs, blobs, serde, thread_id, cid)

        checkpoint = decode_header(
            header, serde, thread_id=thread_id, ns=ns, checkpoint_id=cid, values=values
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
    """Ids of the ``(checkpoint_id, header)`` rows whose metadata matches ``filter``."""
    return [
        cid
        for cid, header in rows
        if metadata_matches(
            decode_header(
                header, serde, thread_id=thread_id, ns=ns, checkpoint_id=cid, values=None
            ),
            filter,
        )
    ]
