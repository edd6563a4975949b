"""Helpers for the Redis saver's tests: a server check, unique prefixes, checkpoints to save."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from _savers import REDIS_URL, unavailable
from pausegraph.checkpoint._records import Checkpoint, TaskRef, new_checkpoint_id

NOW = "2025-01-01T00:00:00+00:00"


def server() -> Any:
    """A sync client on the test database; skips (or fails in CI) when no server answers."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        unavailable(f"no Redis server answers at {REDIS_URL} ({exc})")
    return client


@pytest.fixture
def client() -> Iterator[Any]:
    """A sync Redis client on the test database (a fixture: conftest loads this module)."""
    c = server()
    yield c
    c.close()


@pytest.fixture
def prefix(client: Any) -> Iterator[str]:
    """A fresh key prefix, its keys dropped after the test."""
    p = new_prefix()
    yield p
    drop(client, p)


def new_prefix() -> str:
    return f"pausegraph-test:{uuid.uuid4().hex}:"


def keys_under(client: Any, prefix: str) -> list[str]:
    """Every key under ``prefix`` (a test may scan; the saver never does)."""
    return sorted(k.decode() for k in client.scan_iter(match=f"{prefix}*", count=1000))


def drop(client: Any, prefix: str) -> None:
    stale = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if stale:
        client.unlink(*stale)


def make(
    changes: Mapping[str, Any],
    base: Checkpoint | None = None,
    *,
    thread: str = "t",
    ns: str = "",
    source: Any = "loop",
    metadata: Mapping[str, Any] | None = None,
    frontier: tuple[TaskRef, ...] = (TaskRef("a"),),
) -> Checkpoint:
    """A checkpoint after ``base`` that changes only ``changes``."""
    cid = new_checkpoint_id()
    values = dict(base.values) if base else {}
    versions = dict(base.versions) if base else {}
    for key, value in changes.items():
        values[key], versions[key] = value, cid
    return Checkpoint(
        thread_id=thread,
        ns=ns,
        id=cid,
        parent_id=base.id if base else None,
        step=base.step + 1 if base else -1,
        source=source,
        created_at=NOW,
        values=values,
        versions=versions,
        frontier=frontier,
        metadata=dict(metadata or {}),
    )


def chain(saver: Any, n: int, **kw: Any) -> list[Checkpoint]:
    """Saves ``n`` checkpoints; each changes ``x``, every third also ``y``."""
    out: list[Checkpoint] = []
    for i in range(n):
        changes = {"x": i, "y": [i]} if i % 3 == 0 else {"x": i}
        out.append(make(changes, out[-1] if out else None, **kw))
        saver.save(out[-1])
    return out
