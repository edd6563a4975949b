"""Checkpointers for the workloads, each in a store of its own that is removed afterwards.

SQLite gets a file in a temporary directory; PostgreSQL a schema of its own
(``CREATE SCHEMA``, the saver connects with ``search_path`` set to it, ``DROP
SCHEMA ... CASCADE`` on exit); Redis a key prefix of its own (its keys are
unlinked on exit). Services are found at :data:`POSTGRES_URL` and
:data:`REDIS_URL` (environment ``BENCH_POSTGRES_URL``, ``BENCH_REDIS_URL``); a
workload whose service is down raises :class:`~bench.registry.Skip`.

psycopg and redis-py are imported only when a workload needs them.
"""

from __future__ import annotations

import inspect
import os
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bench.graphs import Lib
from bench.registry import Skip

Saver = Literal["none", "memory", "sqlite", "postgres", "redis"]
AsyncSaver = Literal["memory", "sqlite"]

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CONNECT_TIMEOUT_S = 3

_PG_BYTES = """
    SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'm')
"""


@dataclass(frozen=True)
class Store:
    """A checkpointer and a probe of the bytes its store holds.

    Attributes:
        saver: The checkpointer (``None`` for ``"none"``).
        size: Returns the bytes the store holds now: the SQLite file (after a
            ``wal_checkpoint(TRUNCATE)``, plus any WAL left), the total relation
            size of the schema's tables, or the ``MEMORY USAGE`` of the prefix's
            keys. Raises ``NotImplementedError`` for ``"none"`` and ``"memory"``.
    """

    saver: Any
    size: Callable[[], int]


def _unsized() -> int:
    raise NotImplementedError("this checkpointer has no store to measure")


def _unique(stem: str) -> str:
    return f"{stem}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def sqlite_bytes(path: Path) -> int:
    """Checkpoints the WAL into ``path`` (``TRUNCATE``); returns database + WAL bytes."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.close()
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


@contextmanager
def postgres_schema() -> Iterator[tuple[str, Callable[[], int]]]:
    """Creates a schema of its own; yields a conninfo that uses it and a size probe.

    The schema is dropped, with everything in it, on exit.

    Raises:
        Skip: The server at :data:`POSTGRES_URL` cannot be reached.
    """
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        raise Skip(f"PostgreSQL unavailable ({_first_line(exc)})") from None
    schema = _unique("bench")
    with admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))

        def size() -> int:
            row = admin.execute(_PG_BYTES, (schema,)).fetchone()
            return int(row[0]) if row else 0

        try:
            yield make_conninfo(POSTGRES_URL, options=f"-csearch_path={schema}"), size
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def redis_prefix() -> Iterator[tuple[str, Callable[[], int]]]:
    """Yields a key prefix of its own in :data:`REDIS_URL`'s database and a size probe.

    Every key under the prefix is unlinked on exit.

    Raises:
        Skip: The server cannot be reached.
    """
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=CONNECT_TIMEOUT_S)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        client.close()
        raise Skip(f"Redis unavailable ({_first_line(exc)})") from None
    prefix = _unique("bench") + ":"

    def keys() -> list[bytes]:
        return list(client.scan_iter(match=f"{prefix}*", count=1000))

    def size() -> int:
        return sum(int(client.memory_usage(key, samples=0) or 0) for key in keys())

    try:
        yield prefix, size
    finally:
        found = keys()
        for i in range(0, len(found), 500):
            client.unlink(*found[i : i + 500])
        client.close()


@contextmanager
def store(lib: Lib, kind: Saver) -> Iterator[Store]:
    """Yields a fresh checkpointer of ``kind`` (set up) in a store of its own."""
    if kind == "none":
        yield Store(None, _unsized)
    elif kind == "memory":
        yield Store(lib.get("checkpoint.memory", "InMemorySaver")(), _unsized)
    elif kind == "sqlite":
        saver_cls = lib.get("checkpoint.sqlite", "SqliteSaver")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.db"
            with saver_cls.from_conn_string(str(path)) as saver:
                saver.setup()
                yield Store(saver, lambda: sqlite_bytes(path))
    elif kind == "postgres":
        saver_cls = lib.get("checkpoint.postgres", "PostgresSaver")
        with postgres_schema() as (conninfo, size), saver_cls.from_conn_string(conninfo) as saver:
            saver.setup()
            yield Store(saver, size)
    else:
        saver_cls = lib.get("checkpoint.redis", "RedisSaver")
        with (
            redis_prefix() as (prefix, size),
            saver_cls.from_conn_string(REDIS_URL, prefix=prefix) as saver,
        ):
            saver.setup()
            yield Store(saver, size)


@contextmanager
def checkpointer(lib: Lib, kind: Saver) -> Iterator[Any]:
    """Yields a fresh checkpointer of ``kind`` (``None`` for ``"none"``); see :func:`store`."""
    with store(lib, kind) as opened:
        yield opened.saver


@asynccontextmanager
async def async_checkpointer(lib: Lib, kind: AsyncSaver) -> AsyncIterator[Any]:
    """Yields a fresh InMemorySaver, or an AsyncSqliteSaver on a file in a temporary directory."""
    if kind == "memory":
        yield lib.get("checkpoint.memory", "InMemorySaver")()
        return
    saver_cls = lib.get("checkpoint.sqlite.aio", "AsyncSqliteSaver")
    with tempfile.TemporaryDirectory() as tmp:
        async with saver_cls.from_conn_string(str(Path(tmp) / "bench.db")) as saver:
            done = saver.setup()
            if inspect.isawaitable(done):
                await done
            yield saver
