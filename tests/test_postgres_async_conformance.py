"""The conformance suite over :class:`AsyncPostgresSaver`.

``tests/test_conformance.py`` runs it on ``PostgresSaver`` (through the saver
registry); here the same tests run on the async saver, in a schema of its own:
its async methods directly, its sync ones on its event loop while it is idle.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip(
    "psycopg", reason="psycopg is not installed (pip install 'pausegraph[postgres]')"
)

from _savers import postgres_schema
from pausegraph.checkpoint.postgres.aio import AsyncPostgresSaver
from pausegraph.testing.conformance import *  # noqa: F403


@pytest.fixture
async def saver() -> AsyncIterator[Any]:
    """A set-up async saver on a fresh schema (dropped after the test)."""
    with postgres_schema() as url:
        async with AsyncPostgresSaver.from_conn_string(url) as async_saver:
            await async_saver.setup()
            yield async_saver
