"""One binary layout for checkpoints, shared by every saver.

A checkpoint is stored as a *header* (everything but the values) plus the
blobs :meth:`Checkpoint.stored_blobs` lists: a whole value per key it replaced,
or only the appended items per list key it appended to. A saver loads a
checkpoint by decoding the header, fetching the blobs ``blob_pairs(versions,
chains)`` names (the ``values`` callback of :func:`decode_header`), and the
codec assembles the full state. The SQL savers keep small blobs in the
checkpoint's own row instead (:mod:`pausegraph.checkpoint._inline`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pausegraph.checkpoint._records import (
    CHUNK_MARK,
    EMPTY,
    Checkpoint,
    TaskRef,
    blob_pairs,
    chunk_key,
    created_at_of,
)

if TYPE_CHECKING:
    from pausegraph.checkpoint.serde import Serializer
from pausegraph.errors import CorruptCheckpointError, SerializationError

__all__ = [
    "FORMAT",
    "checkpoint_from_fields",
    "decode_header",
    "dump_blobs",
    "encode_header",
    "header_fields",
    "load_record",
    "load_values",
]

FORMAT = 1
"""Version of the header layout; a reader refuses a newer one."""

_new = tuple.__new__


def header_fields(cp: Checkpoint, *, index: bool = True) -> list[Any]:
    """Everything of ``cp`` except its values, as plain data (what :func:`encode_header` encodes).

    Args:
        index: ``False`` leaves out ``versions`` and ``chains`` (which values the
            checkpoint reads; empty in the result), for a saver that stores them
            in a form its database can read and hands them back to
            :func:`checkpoint_from_fields`.
    """
    # Loops, not comprehensions: each of these holds a few items, and every
    # checkpoint a run saves comes through here.
    frontier: list[Any] = []
    for t in cp.frontier:
        frontier.append(
            (t.node, t.arg) if t.push else t.node if t.arg is None else (t.node, t.arg, 0)
        )
    versions: dict[str, str] = {}
    if index:
        cid = cp.id
        for k, v in cp.versions.items():
            versions[k] = "" if v == cid else v  # "": this checkpoint
    return [
        FORMAT,
        cp.parent_id,
        cp.step,
        cp.source,
        None if not cp.created_at or cp.created_at == created_at_of(cp.id) else cp.created_at,
        versions,
        frontier,
        {k: list(v) for k, v in cp.barriers.items()} if cp.barriers else {},
        dict(cp.metadata) if cp.metadata else {},
        list(cp.writers),
        dict(cp.chains) if cp.chains and index else {},
    ]


def encode_header(cp: Checkpoint, serde: Serializer) -> bytes:
    """Encode everything of ``cp`` except its values."""
    return serde.dumps(header_fields(cp))


def decode_header(
    data: bytes,
    serde: Serializer,
    *,
    thread_id: str,
    ns: str,
    checkpoint_id: str,
    values: Callable[[Mapping[str, str]], Mapping[str, Any]] | None,
) -> Checkpoint:
    """Decode a header; ``values(pairs)`` returns the stored blob for each ``blob key -> version``.

    With ``values=None`` the checkpoint comes without values (to check its
    metadata first); :func:`load_values` fetches them later.

    Raises:
        CorruptCheckpointError: The header is damaged, foreign or from a newer format.
    """
    fields = load_record(data, serde, thread_id=thread_id, checkpoint_id=checkpoint_id)
    return checkpoint_from_fields(
        fields, thread_id=thread_id, ns=ns, checkpoint_id=checkpoint_id, values=values
    )


def load_record(data: bytes, serde: Serializer, *, thread_id: str, checkpoint_id: str) -> Any:
    """``serde.loads(data)`` for bytes a saver stored for a checkpoint (its header, say).

    Raises:
        CorruptCheckpointError: The bytes are damaged or foreign; the message
            names the checkpoint and the thread.
    """
    try:
        return serde.loads(data)
    except CorruptCheckpointError as exc:  # says what is wrong, not where
        raise CorruptCheckpointError(
            f"Checkpoint {checkpoint_id!r} of thread {thread_id!r}: {exc}"
        ) from None
    except Exception as exc:
        raise _damaged(thread_id, checkpoint_id) from exc


def _damaged(thread_id: str, checkpoint_id: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"Checkpoint {checkpoint_id!r} of thread {thread_id!r} is damaged or was not written "
        "by pausegraph; restore it from a backup or delete the thread."
    )


def checkpoint_from_fields(
    fields: Any,
    *,
    thread_id: str,
    ns: str,
    checkpoint_id: str,
    values: Callable[[Mapping[str, str]], Mapping[str, Any]] | None,
    index: tuple[dict[str, str], dict[str, int]] | None = None,
) -> Checkpoint:
    """Inverse of :func:`header_fields` (see :func:`decode_header`).

    Args:
        index: The ``(versions, chains)`` a saver kept apart from fields made
            with ``header_fields(cp, index=False)``; they replace the fields'
            (empty) ones. Versions here are whole ids.

    Raises:
        CorruptCheckpointError: The fields are damaged, foreign or from a newer format.
    """
    try:
        (
            fmt,
            parent_id,
            step,
            source,
            created_at,
            versions,
            frontier,
            barriers,
            metadata,
            writers,
            chains,
        ) = fields
    except (TypeError, ValueError) as exc:
        raise _damaged(thread_id, checkpoint_id) from exc
    if fmt != FORMAT:
        raise CorruptCheckpointError(
            f"Checkpoint {checkpoint_id!r} uses storage format {fmt}; this pausegraph reads "
            f"format {FORMAT}. Upgrade pausegraph to read it."
        )
    if index is None:
        whole = {}
        for k, v in versions.items():
            whole[k] = v or checkpoint_id
        versions = whole
    else:
        versions, chains = index
    # tuple.__new__ with every field in order: a NamedTuple's own __new__ is a
    # Python function (one more frame per record), and every load comes here.
    tasks = []
    for item in frontier:
        if isinstance(item, str):
            tasks.append(_new(TaskRef, (item, False, None)))
        elif len(item) == 2:
            tasks.append(_new(TaskRef, (item[0], True, item[1])))
        else:
            tasks.append(_new(TaskRef, (item[0], False, item[1])))
    return _new(
        Checkpoint,
        (
            thread_id,
            ns,
            checkpoint_id,
            parent_id,
            step,
            source,
            created_at or "",  # "": derived from the id when someone asks
            (
                _assemble(versions, chains, values(blob_pairs(versions, chains)))
                if values is not None
                else {}
            ),
            versions,
            tuple(tasks),
            {k: tuple(v) for k, v in barriers.items()} if barriers else EMPTY,
            metadata,
            tuple(writers),
            chains,
            EMPTY,  # appended
        ),
    )


def dump_blobs(cp: Checkpoint, serde: Serializer) -> list[tuple[str, str, bytes]]:
    """``(blob key, version, bytes)`` for every blob ``cp`` stores (see ``stored_blobs``).

    Raises:
        SerializationError: A value cannot be stored; the message names the
            state key, its type and how to register it.
    """
    out = []
    for key, version, value in cp.stored_blobs():
        try:
            out.append((key, version, serde.dumps(value)))
        except SerializationError as exc:
            raise SerializationError(
                f"State key {key.split(CHUNK_MARK)[0]!r} of thread {cp.thread_id!r} holds a "
                f"value that cannot be stored: {exc}"
            ) from None
    return out


def load_values(
    checkpoint: Checkpoint, values: Callable[[Mapping[str, str]], Mapping[str, Any]]
) -> dict[str, Any]:
    """The full state of a checkpoint decoded with ``values=None`` (see :func:`decode_header`)."""
    pairs = blob_pairs(checkpoint.versions, checkpoint.chains)
    return _assemble(checkpoint.versions, checkpoint.chains, values(pairs))


def _assemble(
    versions: Mapping[str, str], chains: Mapping[str, int], blobs: Mapping[str, Any]
) -> dict[str, Any]:
    """Full values from fetched blobs: snapshots, plus their appended chunks in order."""
    if not chains:
        if type(blobs) is dict and len(blobs) == len(versions):
            return blobs  # the fetch made this dict for us: no copy needed
        return {key: blobs[key] for key in versions}
    out: dict[str, Any] = {}
    for key in versions:
        value = blobs[key]
        count = chains.get(key)
        if count:
            value = list(value)
            for i in range(1, count + 1):
                value.extend(blobs[chunk_key(key, i)])
        out[key] = value
    return out
