"""Helpers for the Redis saver's tests: a server check, unique prefixes, the client and prefix fixtures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from _savers import REDIS_URL, unavailable


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
def rs(client: Any, prefix: str) -> Any:
    """A ``RedisSaver`` on ``client`` under ``prefix``, set up."""
    from pausegraph.checkpoint.redis import RedisSaver

    saver = RedisSaver(client, prefix=prefix)
    saver.setup()
    return saver


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


def spy_round_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The command name of every round trip the savers make from now on, sync or async.

    A transaction (calls run together) reads ``MULTI``; a script the server did
    not know reads ``EVALSHA`` then ``EVAL``.
    """
    from pausegraph.checkpoint.redis import _wire

    sent: list[str] = []
    sync, asynchronous = _wire.round_trip, _wire.around_trip

    def name(packed: bytes) -> str:
        return packed.split(b"\r\n", 3)[2].decode()  # *<n>, $<len>, then the name

    def spy(conn: Any, packed: bytes, replies: int) -> list[Any]:
        sent.append(name(packed))
        return sync(conn, packed, replies)

    async def aspy(conn: Any, packed: bytes, replies: int) -> list[Any]:
        sent.append(name(packed))
        return await asynchronous(conn, packed, replies)

    monkeypatch.setattr(_wire, "round_trip", spy)
    monkeypatch.setattr(_wire, "around_trip", aspy)
    return sent
