"""One binary layout for checkpoints, shared by every saver.

A checkpoint is stored as a *header* (everything but the values) plus one
blob per value it changed. Readers rebuild the full state by fetching, for
each key, the blob of the checkpoint named in ``versions``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pausegraph.checkpoint._records import Checkpoint, TaskRef

if TYPE_CHECKING:
    from pausegraph.checkpoint.serde import Serializer
from pausegraph.errors import CorruptCheckpointError

__all__ = ["FORMAT", "decode_header", "encode_header", "rebuild_values"]

FORMAT = 1
"""Version of the header layout; a reader refuses a newer one."""


def encode_header(cp: Checkpoint, serde: Serializer) -> bytes:
    """Encode everything of ``cp`` except its values."""
    frontier = [
        (t.node, t.arg) if t.push else t.node if t.arg is None else (t.node, t.arg, 0)
        for t in cp.frontier
    ]
    return serde.dumps(
        [
            FORMAT,
            cp.parent_id,
            cp.step,
            cp.source,
            cp.created_at,
            dict(cp.versions),
            frontier,
            {k: list(v) for k, v in cp.barriers.items()},
            dict(cp.metadata),
            list(cp.writers),
        ]
    )


def decode_header(
    data: bytes,
    serde: Serializer,
    *,
    thread_id: str,
    ns: str,
    checkpoint_id: str,
    values: Callable[[Mapping[str, str]], Mapping[str, Any]],
) -> Checkpoint:
    """Decode a header; ``values(versions)`` supplies the full state.

    Raises:
        CorruptCheckpointError: The header is damaged, foreign or from a newer format.
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
        ) = serde.loads(data)
    except CorruptCheckpointError:
        raise
    except Exception as exc:
        raise CorruptCheckpointError(
            f"Checkpoint {checkpoint_id!r} of thread {thread_id!r} is damaged or was not written "
            "by pausegraph; restore it from a backup or delete the thread."
        ) from exc
    if fmt != FORMAT:
        raise CorruptCheckpointError(
            f"Checkpoint {checkpoint_id!r} uses storage format {fmt}; this pausegraph reads "
            f"format {FORMAT}. Upgrade pausegraph to read it."
        )
    tasks = []
    for item in frontier:
        if isinstance(item, str):
            tasks.append(TaskRef(item))
        elif len(item) == 2:
            tasks.append(TaskRef(item[0], True, item[1]))
        else:
            tasks.append(TaskRef(item[0], False, item[1]))
    return Checkpoint(
        thread_id=thread_id,
        ns=ns,
        id=checkpoint_id,
        parent_id=parent_id,
        step=step,
        source=source,
        created_at=created_at,
        values=values(versions),
        versions=versions,
        frontier=tuple(tasks),
        barriers={k: tuple(v) for k, v in barriers.items()},
        metadata=metadata,
        writers=tuple(writers),
    )


def rebuild_values(versions: Mapping[str, str], fetch: Callable[[str, str], Any]) -> dict[str, Any]:
    """The full state: ``fetch(key, version)`` returns the value stored for that version."""
    return {key: fetch(key, version) for key, version in versions.items()}
