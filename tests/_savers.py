"""Every checkpoint saver the suite runs against, by name.

``memory`` and ``sqlite`` always run. ``postgres`` and ``redis`` need their
servers (127.0.0.1:5432 database ``test``, 127.0.0.1:6379): without them their
tests skip with the reason shown, unless ``PAUSEGRAPH_REQUIRE_SERVICES=1`` (set
by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
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
def postgres_saver(tmp_path: Path) -> Iterator[Any]:
    unavailable("the Postgres saver is not written yet")
    yield None


@contextmanager
def redis_saver(tmp_path: Path) -> Iterator[Any]:
    unavailable("the Redis saver is not written yet")
    yield None


SAVERS: dict[str, Callable[[Path], Any]] = {
    "memory": memory_saver,
    "sqlite": sqlite_saver,
    "postgres": postgres_saver,
    "redis": redis_saver,
}
