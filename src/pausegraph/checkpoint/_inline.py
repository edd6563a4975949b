"""Small values kept in the row of the checkpoint that wrote them: shared by the SQL savers.

A checkpoint's row holds ``[header fields, {key: value}]``, the second item the
values the checkpoint wrote that serialize to at most :data:`INLINE_MAX`
bytes (:func:`encode_entry`). Larger values and appended chunks get rows of
their own, keyed by ``(blob key, version)``. So a step whose changed values are
small writes one row, not one per value.

A reader takes the value of ``(key, version)`` from its own row when there is
one, or else from the inline values of checkpoint ``version``'s row
(:func:`read_values`): the checkpoint that wrote it. Rows written before a
saver kept values inline hold the header fields alone (:func:`decode_entry`
returns ``None`` for their inline values); all their values have rows.

Whoever deletes checkpoint rows must keep those whose values a kept
checkpoint reads: every saver's pruning keeps such checkpoints already (they
must load too), so no inline value a kept checkpoint needs is ever lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pausegraph.checkpoint._codec import dump_blobs, header_fields, load_record
from pausegraph.errors import CorruptCheckpointError

if TYPE_CHECKING:
    from pausegraph.checkpoint._records import Checkpoint
    from pausegraph.checkpoint.serde import Serializer

__all__ = ["INLINE_MAX", "InlineRows", "decode_entry", "encode_entry", "read_values"]

INLINE_MAX = 128
"""Most bytes of a value kept in its checkpoint's row; a larger one gets a row of its own.

A row of its own costs about 100 bytes (key columns, an index entry) and, in
SQLite, a B-tree page or two more to write per commit: more than most scalars
it would hold. Other checkpoints that read an inline value fetch its
checkpoint's row, so inline values are kept small.
"""


def encode_entry(
    cp: Checkpoint, serde: Serializer, *, index: bool = True
) -> tuple[bytes, list[tuple[str, str, bytes]]]:
    """The checkpoint row's value, and the ``(blob key, version, bytes)`` of its value rows.

    Args:
        index: Passed to :func:`~pausegraph.checkpoint._codec.header_fields`:
            ``False`` for a saver that keeps versions and chains in a column.

    Raises:
        SerializationError: A value cannot be stored; the message names its key.
    """
    own = cp.id
    inline: dict[str, Any] = {}
    rows: list[tuple[str, str, bytes]] = []
    for key, version, blob in dump_blobs(cp, serde):
        if version == own and len(blob) <= INLINE_MAX and key in cp.versions:
            inline[key] = cp.values[key]
        else:
            rows.append((key, version, blob))
    return serde.dumps([header_fields(cp, index=index), inline]), rows


def decode_entry(
    data: bytes, serde: Serializer, thread_id: str, cid: str
) -> tuple[Any, Mapping[str, Any] | None]:
    """A checkpoint row's value as ``(header fields, inline values)``.

    Rows from before values were kept inline hold the header fields alone:
    their inline values are ``None``.

    Raises:
        CorruptCheckpointError: The bytes are damaged or foreign.
    """
    decoded = load_record(data, serde, thread_id=thread_id, checkpoint_id=cid)
    if isinstance(decoded, list | tuple) and len(decoded) == 2:  # a header has 11 fields
        fields, inline = decoded
        if isinstance(inline, Mapping):
            return fields, inline
    return decoded, None  # a damaged value fails as a header


class InlineRows:
    """The inline values of checkpoint rows, decoded on demand for one checkpoint's load.

    Each load decodes the rows it reads for itself, so no two loaded
    checkpoints share a mutable value.

    Args:
        cid: The checkpoint being loaded; ``inline`` are the values of its own row.
        entries: Other checkpoint rows' values by id, as the saver fetched them
            (read when needed, so the saver may add rows it fetches later).
    """

    def __init__(
        self,
        serde: Serializer,
        thread_id: str,
        cid: str,
        inline: Mapping[str, Any] | None,
        entries: Mapping[str, bytes],
    ) -> None:
        self.serde = serde
        self.thread_id = thread_id
        self.cid = cid
        self._entries = entries
        self._decoded: dict[str, Mapping[str, Any] | None] = {cid: inline}

    def known(self, version: str) -> bool:
        """Whether checkpoint ``version``'s row is at hand (its own, or in ``entries``)."""
        return version in self._decoded or version in self._entries

    def get(self, version: str) -> Mapping[str, Any] | None:
        """The inline values of checkpoint ``version``; ``None`` when none are at hand.

        Raises:
            CorruptCheckpointError: The row is damaged or foreign.
        """
        if version not in self._decoded:
            entry = self._entries.get(version)
            self._decoded[version] = (
                None
                if entry is None
                else decode_entry(entry, self.serde, self.thread_id, version)[1]
            )
        return self._decoded[version]


def read_values(
    pairs: Mapping[str, str],
    blobs: Mapping[tuple[str, str], bytes],
    rows: InlineRows,
    where: str,
) -> dict[str, Any]:
    """Each ``blob key -> version`` of ``pairs`` loaded: from ``blobs``, else inline in ``rows``.

    Args:
        where: What holds the checkpoints, for the error message (a file's path).

    Raises:
        CorruptCheckpointError: A value is in neither place, or its bytes are damaged.
    """
    loads = rows.serde.loads
    out: dict[str, Any] = {}
    for key, version in pairs.items():
        blob = blobs.get((key, version))
        if blob is not None:
            try:
                out[key] = loads(blob)
            except CorruptCheckpointError as exc:  # says what is wrong, not where
                raise CorruptCheckpointError(
                    f"Checkpoint {rows.cid!r} of thread {rows.thread_id!r}: the value of "
                    f"{key!r} from checkpoint {version!r}: {exc}"
                ) from None
            continue
        found = rows.get(version)
        if found is None or key not in found:
            raise CorruptCheckpointError(
                f"Checkpoint {rows.cid!r} of thread {rows.thread_id!r} needs the value of "
                f"{key!r} from checkpoint {version!r}, which is missing from {where}. "
                "Restore it from a backup, or delete the thread."
            )
        out[key] = found[key]
    return out
