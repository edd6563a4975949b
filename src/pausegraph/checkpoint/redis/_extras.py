"""The optional capabilities' operations, as flows (see ``_flows``), plus ``setup``.

Waiting index, thread leases, the request log, listing and pruning threads,
and the store's version check, each written once for both savers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pausegraph.checkpoint._records import Checkpoint, blob_pairs
from pausegraph.checkpoint.capabilities import (
    WaitingPage,
    WaitingThread,
    decode_waiting,
    page_waiting,
)
from pausegraph.checkpoint.redis import _lua
from pausegraph.checkpoint.redis._flows import Call, Context, Flow, text_of
from pausegraph.checkpoint.redis._layout import LAYOUT_VERSION
from pausegraph.checkpoint.redis._record import decode_record
from pausegraph.errors import CorruptCheckpointError, StorageError

__all__ = [
    "MIN_REDIS",
    "acquire_lease",
    "list_threads",
    "list_waiting",
    "prune",
    "recall_request",
    "release_lease",
    "remember_request",
    "setup",
]

MIN_REDIS = (6, 2)
"""The oldest Redis server the saver runs on."""

_BATCH = 64  # waiting-index members read per round trip


def list_waiting(
    cx: Context,
    graph: str | None,
    metadata: Mapping[str, Any] | None,
    limit: int,
    after: str | None,
) -> Flow[WaitingPage]:
    """One page of waiting threads, oldest pause first, read from the index.

    The graph filter is an index of its own; the metadata filter runs here,
    reading further batches until the page is full or the index ends.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}.")
    keys = cx.keys
    index = keys.waiting if graph is None else keys.waiting_graph(graph)
    start = "-" if after is None else f"({after}"
    loads = cx.serde.loads
    found: list[WaitingThread] = []
    while True:
        reply = yield Call((index, keys.waiting_entries, start, _BATCH), _lua.WAITING_PAGE, 2)
        for i in range(1, len(reply), 2):
            if reply[i] is None:  # deleted between the two reads of the script: skip
                continue
            entry = decode_waiting(loads(reply[i]))
            if metadata and any(entry.metadata.get(k) != v for k, v in metadata.items()):
                continue
            found.append(entry)
        if len(found) > limit or len(reply) < 2 * _BATCH:
            break
        start = f"({text_of(reply[-2])}"
    return page_waiting(found, graph=graph, metadata=metadata, limit=limit, after=after)


def acquire_lease(cx: Context, thread_id: str, owner: str, ttl: float) -> Flow[bool]:
    """Take or renew the thread's lease for ``ttl`` seconds; ``False`` if another owner holds it."""
    ms = max(1, int(ttl * 1000))
    reply = yield Call((cx.keys.lease(thread_id), owner, ms), _lua.LEASE_ACQUIRE, 1)
    return bool(reply)


def release_lease(cx: Context, thread_id: str, owner: str) -> Flow[None]:
    """Give the lease back if ``owner`` holds it."""
    yield Call((cx.keys.lease(thread_id), owner), _lua.LEASE_RELEASE, 1)


def recall_request(cx: Context, thread_id: str, key: str) -> Flow[str | None]:
    """The checkpoint id stored for an idempotency key, or ``None``."""
    reply = yield Call(("HGET", cx.keys.requests(thread_id), key))
    return None if reply is None else text_of(reply)


def remember_request(cx: Context, thread_id: str, key: str, checkpoint_id: str) -> Flow[None]:
    """Store the checkpoint a request ended at (the first one stored wins)."""
    keys = cx.keys
    args = (keys.requests(thread_id), keys.meta(thread_id), key, checkpoint_id)
    yield Call(args, _lua.REMEMBER_REQUEST, 2)


def list_threads(cx: Context) -> Flow[list[str]]:
    """Every thread id with at least one checkpoint (expired threads excluded), sorted."""
    reply = yield Call((cx.keys.threads,), _lua.LIST_THREADS, 1)
    return sorted(text_of(t) for t in reply)


def prune(cx: Context, thread_id: str, keep_last: int) -> Flow[int]:
    """Delete all but the newest ``keep_last`` checkpoints of each namespace.

    A checkpoint whose values a kept one reads is kept too, and so on (as
    the memory saver does). Headers are read in one script and the deletion is applied
    by another that first checks nothing was saved in between (else both run
    again).
    """
    if keep_last < 1:
        raise ValueError(f"keep_last must be at least 1, got {keep_last}.")
    fields = yield Call(("HKEYS", cx.keys.meta(thread_id)))
    deleted = 0
    for ns in sorted(text_of(f)[1:] for f in fields if text_of(f).startswith("n")):
        k = cx.keys.ns(thread_id, ns)
        while True:
            reply = yield Call((k.ids, k.cps), _lua.PRUNE_READ, 2)
            ids = [text_of(reply[i]) for i in range(0, len(reply), 2)]
            if len(ids) <= keep_last:
                break
            headers = {
                cid: _header(cx, thread_id, ns, cid, reply[2 * i + 1]) for i, cid in enumerate(ids)
            }
            keep = set(ids[:keep_last])
            todo = list(keep)
            while todo:  # what a kept checkpoint reads is kept, so it must load too
                for version in headers[todo.pop()].versions.values():
                    if version not in keep and version in headers:
                        keep.add(version)
                        todo.append(version)
            gone = [cid for cid in ids[keep_last:] if cid not in keep]
            doomed = set(gone)
            blobs = {
                f"{key}\x00{version}": None
                for cid in gone
                for key, version in blob_pairs(headers[cid].versions, headers[cid].chains).items()
                if version in doomed
            }
            args = (k.ids, k.cps, k.vals, k.writes, k.worder, len(ids), ids[0], len(gone))
            if (yield Call((*args, *gone, *blobs), _lua.PRUNE_APPLY, 5)) >= 0:
                deleted += len(gone)
                break
    return deleted


def _header(cx: Context, thread_id: str, ns: str, cid: str, data: bytes | None) -> Checkpoint:
    if data is None:
        raise CorruptCheckpointError(
            f"Checkpoint {cid!r} of thread {thread_id!r} is listed but its header is missing."
        )
    return decode_record(data, cx.serde, thread_id=thread_id, ns=ns, checkpoint_id=cid)


_VERSION = re.compile(r"redis_version:(\d+)\.(\d+)")


def setup(cx: Context, where: str) -> Flow[None]:
    """Check the server and the store's layout version; mark a new or older store with ours.

    A store of an older layout needs no rewriting: what it holds still loads
    (see ``_record``). Marking it keeps pausegraph versions that cannot read
    the new records from using it.

    Raises:
        StorageError: The server is older than :data:`MIN_REDIS`.
        CorruptCheckpointError: The prefix holds a store of a newer or unknown layout.
    """
    layout, info = yield Call((cx.keys.layout, LAYOUT_VERSION), _lua.SETUP, 1)
    match = _VERSION.search(text_of(info))
    if match is not None and (int(match[1]), int(match[2])) < MIN_REDIS:
        need = ".".join(map(str, MIN_REDIS))
        raise StorageError(
            f"Redis at {where} is version {match[1]}.{match[2]}; pausegraph needs {need} or "
            "newer. Upgrade the server."
        )
    text = text_of(layout)
    if not text.isdigit():
        raise CorruptCheckpointError(
            f"Key {cx.keys.layout!r} at {where} holds {text[:40]!r}, not a pausegraph layout "
            "version: another program uses this prefix. Pass another prefix= or database."
        )
    if int(text) > LAYOUT_VERSION:
        raise CorruptCheckpointError(
            f"The store under {cx.keys.prefix!r} at {where} was written by a newer pausegraph "
            f"(layout {text}, this one reads {LAYOUT_VERSION}): upgrade pausegraph. Nothing was "
            "changed."
        )
