"""The conformance suite over :class:`AsyncRedisSaver`.

``tests/test_conformance.py`` runs it on ``RedisSaver`` (through the saver
registry); here the same tests run on the async saver: its async methods on
``redis.asyncio``, its sync ones on the sync client it makes to the same server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("redis", reason="redis-py is not installed (pip install 'pausegraph[redis]')")

import redis.asyncio

from _redis import drop, new_prefix, server
from _savers import REDIS_URL
from pausegraph.checkpoint.redis import AsyncRedisSaver
from pausegraph.testing.conformance import *  # noqa: F403


@pytest.fixture
async def saver() -> AsyncIterator[Any]:
    """A fresh async saver under its own key prefix (removed after the test)."""
    probe = server()
    prefix = new_prefix()
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    async_saver = AsyncRedisSaver(client, prefix=prefix)
    await async_saver.asetup()
    try:
        yield async_saver
    finally:
        await client.aclose()
        drop(probe, prefix)
        probe.close()
