"""A checkpoint's record in the ``cps`` hash: an index the load scripts read, then its header.

Since layout 2 (see ``_layout``) a record is ::

    MARK  index  MARK  header

``MARK`` is the byte ``0xC1``, which neither UTF-8 text nor msgpack ever
contains at the start of a value. ``index`` lists ``key \\0 version \\0 count
\\0`` for every state key, in UTF-8: ``version`` is ``""`` for this
checkpoint, ``count`` the chunks appended after the key's snapshot (``""``
when it has none), and ``%`` and NUL in a key are written ``%25`` and ``%00``.
From it the load scripts name the ``vals`` fields the checkpoint reads and
return their values with the record, in the same round trip. ``header`` is
the codec's header without versions and chains (``header_fields(cp,
index=False)``), so the index is their only copy and a record costs what a
layout 1 header did.

A layout 1 record is the codec's header alone (its first byte is never
``MARK``); it still loads, the saver fetching its values in a second round
trip.
"""

from __future__ import annotations

from pausegraph.checkpoint._codec import (
    checkpoint_from_fields,
    decode_header,
    header_fields,
    load_record,
)
from pausegraph.checkpoint._records import Checkpoint
from pausegraph.checkpoint.serde import Serializer
from pausegraph.errors import CorruptCheckpointError

__all__ = ["MARK", "decode_record", "encode_record"]

MARK = b"\xc1"
"""Starts a layout 2 record and ends its index."""


def encode_record(cp: Checkpoint, serde: Serializer) -> bytes:
    """The record of ``cp`` (everything but its values)."""
    own, chains = cp.id, cp.chains
    parts: list[str] = []
    for key, version in cp.versions.items():
        count = chains.get(key)
        if "%" in key or "\x00" in key:
            key = key.replace("%", "%25").replace("\x00", "%00")
        parts += (key, "" if version == own else version, "" if count is None else str(count))
    index = ("\x00".join(parts) + "\x00").encode() if parts else b""
    return b"".join((MARK, index, MARK, serde.dumps(header_fields(cp, index=False))))


def decode_record(
    data: bytes, serde: Serializer, *, thread_id: str, ns: str, checkpoint_id: str
) -> Checkpoint:
    """The checkpoint (without values) of a record of either layout.

    Raises:
        CorruptCheckpointError: The record is damaged, foreign or from a newer format.
    """
    if data[:1] != MARK:  # layout 1: the header holds versions and chains itself
        return decode_header(
            data, serde, thread_id=thread_id, ns=ns, checkpoint_id=checkpoint_id, values=None
        )
    end = data.find(MARK, 1)
    versions: dict[str, str] = {}
    chains: dict[str, int] = {}
    try:
        items = data[1:end].decode().split("\x00")
        if end < 1 or items[-1] or len(items) % 3 != 1:
            raise ValueError("the index is cut short")
        for i in range(0, len(items) - 1, 3):
            key, version, count = items[i], items[i + 1], items[i + 2]
            if "%" in key:
                key = key.replace("%00", "\x00").replace("%25", "%")
            versions[key] = version or checkpoint_id
            if count:
                chains[key] = int(count)
    except (UnicodeDecodeError, ValueError, IndexError) as exc:
        raise _damaged(thread_id, checkpoint_id) from exc
    fields = load_record(data[end + 1 :], serde, thread_id=thread_id, checkpoint_id=checkpoint_id)
    return checkpoint_from_fields(
        fields,
        thread_id=thread_id,
        ns=ns,
        checkpoint_id=checkpoint_id,
        values=None,
        index=(versions, chains),
    )


def _damaged(thread_id: str, checkpoint_id: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"Checkpoint {checkpoint_id!r} of thread {thread_id!r} is damaged or was not written "
        "by pausegraph; restore it from a backup or delete the thread."
    )
