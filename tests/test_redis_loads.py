"""Redis loads in one round trip: the load scripts return a checkpoint's values with it.

The record in ``cps`` starts with an index of the fields its values are stored
under (``_record``). These tests count the commands a load sends, check that
appended lists and awkward key names rebuild through that path, and that a
store written in layout 1 (the header alone) still loads.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("redis", reason="redis-py is not installed (pip install 'pausegraph[redis]')")

import redis.asyncio

from _redis import spy_round_trips
from _savers import REDIS_URL
from pausegraph.checkpoint._codec import encode_header
from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint
from pausegraph.checkpoint.redis import AsyncRedisSaver, RedisSaver, _lua
from pausegraph.checkpoint.redis._record import MARK, decode_record, encode_record
from pausegraph.errors import CorruptCheckpointError
from pausegraph.testing import make_checkpoint


def load_scripts(client: Any) -> None:
    """Load every script, so a count sees no ``EVAL`` of a script the server had not seen."""
    for script in _lua.SCRIPTS:
        client.script_load(script.text)


@pytest.fixture
def calls(client: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The command name of every round trip a sync saver makes from now on."""
    load_scripts(client)
    return spy_round_trips(monkeypatch)


def appending(saver: Any, n: int, key: str = "items", thread: str = "t") -> list[Checkpoint]:
    """A snapshot of ``key`` and ``x``, then ``n`` checkpoints that each append one item.

    Every third one also replaces ``x``, so a checkpoint reads values of
    several versions. Returns the checkpoints, oldest first, unsaved.
    """
    cps = [make_checkpoint({key: ["a"], "x": 0}, thread=thread)]
    for i in range(n):
        prev = cps[-1]
        nxt = make_checkpoint({"x": i} if i % 3 == 2 else {}, prev, thread=thread)
        cps.append(
            nxt._replace(
                values={**nxt.values, key: [*prev.values[key], f"item {i}"]},
                chains={key: i + 1},
                appended={key: [f"item {i}"]},
            )
        )
    return cps


def as_loaded(cp: Checkpoint) -> Checkpoint:
    """``cp`` as a load returns it (the appended items are only a save's concern)."""
    return cp._replace(appended={})


# -- one round trip ----------------------------------------------------------------------


def test_loads_of_every_kind_are_one_script_and_rebuild_appended_lists(
    rs: RedisSaver, calls: list[str]
):
    cps = appending(rs, 7)
    for cp in cps:
        rs.save(cp)
    rs.save_writes("t", "", cps[-1].id, [PendingWrite("task", "__writes__", {"x": 1})])
    calls.clear()

    latest = rs.load("t")
    assert calls == ["EVALSHA"]
    assert latest is not None and latest.checkpoint == as_loaded(cps[-1])
    assert latest.checkpoint.values == {
        "items": ["a", *(f"item {i}" for i in range(7))],
        "x": 5,
    }
    assert latest.writes == (PendingWrite("task", "__writes__", {"x": 1}),)
    calls.clear()

    middle = rs.load("t", "", cps[3].id)
    assert calls == ["EVALSHA"]
    assert middle is not None and middle.checkpoint.values == {
        "items": ["a", "item 0", "item 1", "item 2"],
        "x": 2,
    }
    calls.clear()

    taken, leased = rs.load_leased("t", "", None, "me", 5)
    assert calls == ["EVALSHA"]
    assert taken and leased == latest
    assert rs.load_leased("t", "", None, "you", 5) == (False, None)
    calls.clear()

    history = [s.checkpoint for s in rs.history("t")]
    assert calls == ["EVALSHA"]  # 8 checkpoints: one page
    assert history == [as_loaded(cp) for cp in reversed(cps)]


def test_a_page_sends_each_value_once(rs: RedisSaver, client: Any):
    big = "z" * 10_000
    cps = [make_checkpoint({"big": big})]
    for i in range(9):
        cps.append(make_checkpoint({"x": i}, cps[-1]))
    for cp in cps:
        rs.save(cp)
    k = rs.keys.ns("t", "")
    args = (k.ids, k.cps, k.vals, k.writes, k.worder, "", 32, "1")
    entries = client.eval(_lua.HISTORY_PAGE.text, 5, *args)
    fields = [field for entry in entries for field in entry[2][::2]]
    assert len(fields) == len(set(fields)) == 1 + 9  # big once, each x once
    assert [s.checkpoint.values["big"] for s in rs.history("t")] == [big] * 10


async def test_the_async_saver_loads_in_one_round_trip_too(client: Any, prefix: str, monkeypatch):
    load_scripts(client)
    aclient = redis.asyncio.Redis.from_url(REDIS_URL)
    saver = AsyncRedisSaver(aclient, prefix=prefix)
    try:
        await saver.asetup()
        cps = appending(saver, 4)
        for cp in cps:
            await saver.asave(cp)
        sent = spy_round_trips(monkeypatch)
        stored = await saver.aload("t")
        assert stored is not None and stored.checkpoint == as_loaded(cps[-1])
        taken, leased = await saver.aload_leased("t", "", cps[2].id, "me", 5)
        assert taken and leased == StoredCheckpoint(as_loaded(cps[2]))
        assert [s.checkpoint async for s in saver.ahistory("t")] == [
            as_loaded(cp) for cp in reversed(cps)
        ]
        assert sent == ["EVALSHA", "EVALSHA", "EVALSHA"]
    finally:
        await aclient.aclose()


# -- the record -----------------------------------------------------------------------------


def test_key_names_with_the_escape_and_nul_characters_load_in_one_script(
    rs: RedisSaver, calls: list[str]
):
    odd = ["50%", "%00", "a\x00b", "%25\x00%"]
    base = make_checkpoint({**dict.fromkeys(odd, 1), "%\x00items": ["a"]})
    rs.save(base)
    last = make_checkpoint({"50%": 2}, base)
    last = last._replace(  # appends to the snapshot of "%\x00items" in base
        values={**last.values, "%\x00items": ["a", "b"]},
        chains={"%\x00items": 1},
        appended={"%\x00items": ["b"]},
    )
    rs.save(last)
    calls.clear()
    stored = rs.load("t")
    assert calls == ["EVALSHA"]  # the script found every field itself
    assert stored is not None and stored.checkpoint == as_loaded(last)
    assert stored.checkpoint.values == {
        "50%": 2,
        "%00": 1,
        "a\x00b": 1,
        "%25\x00%": 1,
        "%\x00items": ["a", "b"],
    }


def test_a_record_is_the_index_then_the_header_without_versions(rs: RedisSaver):
    (first, second) = appending(rs, 1)
    record = encode_record(second, rs.serde)
    own = second.id
    index = f"items\x00{first.id}\x001\x00x\x00{first.id}\x00\x00".encode()
    assert record.startswith(MARK + index + MARK)
    assert own.encode() not in record  # the id is the hash field; "" stands for it
    back = decode_record(record, rs.serde, thread_id="t", ns="", checkpoint_id=own)
    assert back == second._replace(values={}, appended={})
    assert len(record) <= len(encode_header(second, rs.serde)) + 4


@pytest.mark.parametrize(
    "record",
    [
        MARK + b"no end mark",
        MARK + b"items\x00v\x00" + MARK + b"\x90",
        MARK + b"k\x00v\x00x\x00" + MARK,
    ],
)
def test_a_damaged_record_is_a_corrupt_checkpoint(rs: RedisSaver, client: Any, record: bytes):
    (cp,) = appending(rs, 0)
    rs.save(cp)
    client.hset(rs.keys.ns("t", "").cps, cp.id, record)
    with pytest.raises(CorruptCheckpointError, match="damaged or was not written by pausegraph"):
        rs.load("t")
    with pytest.raises(CorruptCheckpointError, match="damaged or was not written by pausegraph"):
        list(rs.history("t"))


# -- stores of layout 1 -----------------------------------------------------------------------


def as_layout_1(client: Any, saver: RedisSaver, cps: list[Checkpoint]) -> None:
    """Store ``cps``'s records as layout 1 did: the codec's header alone."""
    for cp in cps:
        client.hset(saver.keys.ns(cp.thread_id, cp.ns).cps, cp.id, encode_header(cp, saver.serde))
    client.set(saver.keys.layout, "1")


def test_a_layout_1_store_still_loads_and_is_marked_layout_2(
    client: Any, prefix: str, calls: list[str]
):
    old = RedisSaver(client, prefix=prefix)
    cps = appending(old, 5)
    for cp in cps:
        old.save(cp)
    old.save_writes("t", "", cps[-1].id, [PendingWrite("task", "__resume__", "yes")])
    as_layout_1(client, old, cps)

    saver = RedisSaver(client, prefix=prefix)
    calls.clear()
    stored = saver.load("t")
    assert client.get(saver.keys.layout) == b"2"
    assert calls == ["EVALSHA", "EVALSHA", "HMGET"]  # setup, then the load and its values
    assert stored is not None and stored.checkpoint == as_loaded(cps[-1])
    assert stored.checkpoint.values["items"] == ["a", *(f"item {i}" for i in range(5))]
    assert stored.writes == (PendingWrite("task", "__resume__", "yes"),)
    assert saver.load_leased("t", "", cps[1].id, "me", 5) == (True, saver.load("t", "", cps[1].id))

    # The thread goes on in layout 2; its history mixes both layouts.
    newer = appending(saver, 0)[0]._replace(parent_id=cps[-1].id)
    saver.save(newer)
    calls.clear()
    assert saver.load("t") == StoredCheckpoint(as_loaded(newer))
    assert calls == ["EVALSHA"]
    history = [s.checkpoint for s in saver.history("t")]
    assert history == [as_loaded(cp) for cp in reversed([*cps, newer])]
    # Kept: newer and cps[5], which reads x from cps[3] and the items' snapshot from cps[0].
    assert saver.prune("t", keep_last=2) == 3
    assert [s.checkpoint for s in saver.history("t")] == [
        as_loaded(cp) for cp in (newer, cps[5], cps[3], cps[0])
    ]


def test_a_layout_1_checkpoint_without_its_value_is_reported(client: Any, prefix: str):
    saver = RedisSaver(client, prefix=prefix)
    cps = appending(saver, 2)
    for cp in cps:
        saver.save(cp)
    as_layout_1(client, saver, cps)
    client.hdel(saver.keys.ns("t", "").vals, f"items\x1f2\x00{cps[0].id}")
    with pytest.raises(
        CorruptCheckpointError, match=f"'items\\\\x1f2' from checkpoint {cps[0].id!r}"
    ):
        saver.load("t")
    assert saver.load("t", "", cps[1].id).checkpoint.values["items"] == ["a", "item 0"]  # type: ignore[union-attr]
