"""The Redis savers' own round trips (``_wire``): packing, transactions, forgotten scripts."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("redis", reason="redis-py is not installed (pip install 'pausegraph[redis]')")

import redis
import redis.exceptions as rx

from _redis import spy_round_trips
from _savers import REDIS_URL
from pausegraph.checkpoint._records import PendingWrite
from pausegraph.checkpoint.capabilities import SaveItem, WritesItem
from pausegraph.checkpoint.redis import AsyncRedisSaver, RedisSaver, _wire
from pausegraph.checkpoint.redis._flows import Call, Together
from pausegraph.testing import make_checkpoint, save_chain


@pytest.fixture
def conn(client: Any) -> Any:
    pool = client.connection_pool
    c = pool.get_connection()
    yield c
    pool.release(c)


def batch(rs: RedisSaver, parent: Any) -> tuple[Any, list[SaveItem | WritesItem]]:
    """Two checkpoints after ``parent`` and a write on the second, as one ``write_batch``."""
    a = make_checkpoint({"x": 1}, parent)
    b = make_checkpoint({"x": 2}, a)
    return b, [
        SaveItem(a, ()),
        SaveItem(b, ()),
        WritesItem("t", "", b.id, [PendingWrite("k", "c", 3)]),
    ]


def test_scripts_the_server_forgot_are_sent_again(rs: RedisSaver, client: Any, monkeypatch):
    cps = save_chain(rs, 2)
    calls = spy_round_trips(monkeypatch)
    client.script_flush()  # as after a restart
    rs.save(make_checkpoint({"x": 9}, cps[-1]))
    assert calls == ["EVALSHA", "EVAL"]  # the script's text, which the server caches
    calls.clear()
    client.script_flush()
    last, items = batch(rs, rs.load("t").checkpoint)  # type: ignore[union-attr]
    calls.clear()
    rs.write_batch(items)
    # Refused as a whole (NOSCRIPT), the scripts loaded, then run again.
    assert calls == ["MULTI", "SCRIPT", "MULTI"]  # both scripts loaded in one round trip
    stored = rs.load("t")
    assert stored is not None and stored.checkpoint == last
    assert list(stored.writes) == [PendingWrite("k", "c", 3)]


async def test_the_async_saver_sends_forgotten_scripts_again(client: Any, prefix: str):
    async with AsyncRedisSaver.from_conn_string(REDIS_URL, prefix=prefix) as saver:
        await saver.asetup()
        first = make_checkpoint({"x": 0})
        client.script_flush()
        await saver.asave(first)
        client.script_flush()
        last, items = batch(saver, first)  # type: ignore[arg-type]
        await saver.awrite_batch(items)
        stored = await saver.aload("t")
        assert stored is not None and stored.checkpoint == last


def test_a_failed_call_of_a_transaction_is_raised_after_the_others_ran(conn: Any, client, prefix):
    key, text = f"{prefix}n", f"{prefix}s"
    client.set(text, "not a number")
    together = Together((Call(("INCR", text)), Call(("SET", key, "1"))))
    with pytest.raises(rx.ResponseError, match="not an integer"):
        _wire.run(conn, together)
    assert client.get(key) == b"1"  # Redis has no rollback: the other call ran
    assert _wire.run(conn, Call(("PING",))) in (True, b"PONG")  # the connection is still usable


def test_a_command_the_server_refuses_to_queue_runs_nothing(conn: Any, client, prefix):
    key = f"{prefix}k"
    together = Together((Call(("SET", key, "1")), Call(("NO-SUCH-COMMAND",))))
    with pytest.raises(rx.ResponseError, match="unknown command"):
        _wire.run(conn, together)
    assert client.get(key) is None
    assert _wire.run(conn, Call(("PING",))) in (True, b"PONG")


@pytest.mark.parametrize(
    "args",
    [("SET", "plain", "value"), ("EVALSHA", "0" * 40, 2, "k\x00é", b"\xff\x00bytes", 0, 12, 3.5)],
)
def test_packing_matches_redis_py(conn: Any, args: tuple[Any, ...], monkeypatch):
    ours = _wire._pack(conn, args)
    assert ours == b"".join(conn.pack_command(*args))
    monkeypatch.setattr(_wire, "_hiredis_pack", None)  # redis-py without hiredis
    assert _wire._pack(conn, args) == ours


def test_without_hiredis_the_saver_works(rs: RedisSaver, monkeypatch):
    monkeypatch.setattr(_wire, "_hiredis_pack", None)
    cps = save_chain(rs, 3)
    stored = rs.load("t")
    assert stored is not None and stored.checkpoint == cps[-1]


def test_a_client_with_another_encoding_packs_text_as_redis_py_does(prefix: str):
    latin = redis.Redis.from_url(REDIS_URL, encoding="latin-1")
    try:
        conn = latin.connection_pool.get_connection()
        try:
            assert _wire._pack(conn, ("SET", "é")) == b"".join(conn.pack_command("SET", "é"))
        finally:
            latin.connection_pool.release(conn)
        saver = RedisSaver(latin, prefix=prefix)
        cps = save_chain(saver, 2, thread="thé")
        stored = saver.load("thé")
        assert stored is not None and stored.checkpoint == cps[-1]
    finally:
        latin.close()


async def test_an_async_single_connection_client_works(client: Any, prefix: str):
    import asyncio

    import redis.asyncio

    single = redis.asyncio.Redis.from_url(REDIS_URL, single_connection_client=True)
    try:
        saver = AsyncRedisSaver(single, prefix=prefix)
        await saver.asetup()
        first = make_checkpoint({"x": 0})
        await saver.asave(first)
        # Concurrent calls share the one connection without mixing replies.
        loaded = await asyncio.gather(*(saver.aload("t") for _ in range(20)))
        assert all(s is not None and s.checkpoint == first for s in loaded)
    finally:
        await single.aclose()
