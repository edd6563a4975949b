"""Every checkpoint saver the suite runs against, by name.

``memory`` and ``sqlite`` always run. ``postgres`` and ``redis`` need their
servers (127.0.0.1:5432 database ``test``, 127.0.0.1:6379): without them their
tests skip with the reason shown, unless ``PAUSEGRAPH_REQUIRE_SERVICES=1`` (set
by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

POSTGRES_URL = os.environ.get(
    "PAUSEGRAPH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("PAUSEGRAPH_TEST_REDIS", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("PAUSEGRAPH_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Skip (locally) or fail (in CI) a test whose backing service is missing."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (PAUSEGRAPH_REQUIRE_SERVICES=1: services are required here)")
    pytest.skip(reason)


@contextmanager
def memory_saver(tmp_path: Path) -> Iterator[Any]:
    from pausegraph.checkpoint.memory import InMemorySaver

    yield InMemorySaver()


@contextmanager
def sqlite_saver(tmp_path: Path) -> Iterator[Any]:
    from pausegraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as saver:
        saver.setup()
        yield saver


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A connection string to ``POSTGRES_URL`` whose ``search_path`` is a new, empty schema.

    Every test gets its own tables (so the waiting index and thread listings
    start empty); the schema is dropped afterwards.
    """
    import uuid

    try:
        import psycopg
        from psycopg.conninfo import make_conninfo

        import pausegraph.checkpoint.postgres  # noqa: F401 - the extra is installed
    except ImportError as exc:
        unavailable(f"the Postgres saver cannot be imported ({exc})")
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=2)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        unavailable(f"no PostgreSQL server answers at {POSTGRES_URL} ({reason})")
    schema = f"pausegraph_test_{uuid.uuid4().hex[:16]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield make_conninfo(POSTGRES_URL, options=f"-csearch_path={schema}")
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def postgres_saver(tmp_path: Path) -> Iterator[Any]:
    """A set-up ``PostgresSaver`` on ``POSTGRES_URL``, in a schema of its own."""
    from pausegraph.checkpoint.postgres import PostgresSaver

    with postgres_schema() as url, PostgresSaver.from_conn_string(url) as saver:
        saver.setup()
        yield saver


@contextmanager
def redis_saver(tmp_path: Path) -> Iterator[Any]:
    """A ``RedisSaver`` on ``REDIS_URL`` under a fresh key prefix, whose keys are removed after."""
    import uuid

    try:
        import redis

        from pausegraph.checkpoint.redis import RedisSaver
    except ImportError:
        unavailable("redis-py is not installed: pip install 'pausegraph[redis]'")
    probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        probe.ping()
    except redis.RedisError as exc:
        probe.close()
        unavailable(f"no Redis server answers at {REDIS_URL} ({exc})")
    prefix = f"pausegraph-test:{uuid.uuid4().hex}:"
    try:
        with RedisSaver.from_conn_string(REDIS_URL, prefix=prefix) as saver:
            saver.setup()
            yield saver
    finally:
        stale = list(probe.scan_iter(match=f"{prefix}*", count=1000))
        if stale:
            probe.unlink(*stale)
        probe.close()


SAVERS: dict[str, Callable[[Path], Any]] = {
    "memory": memory_saver,
    "sqlite": sqlite_saver,
    "postgres": postgres_saver,
    "redis": redis_saver,
}


def race(script: str, target: str, racers: int = 6) -> list[str]:
    """What each of ``racers`` processes running ``script`` printed (stripped), in order.

    Each gets ``target``, its owner name (``owner-<i>``) and a start time a
    moment ahead, by which all are connected and set up: the script sleeps
    until then, so they really race.
    """
    start = str(time.time() + 1.5)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, target, f"owner-{i}", start],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(racers)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(out.strip())
    return results
