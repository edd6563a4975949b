"""The Redis saver on a plain server: layout, atomicity, round trips, expiry, bad input.

Behaviour tests run on Redis through the ``saver`` registry; these check what is
Redis's own. Each test uses its own key prefix on database 15.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

pytest.importorskip("redis", reason="redis-py is not installed (pip install 'pausegraph[redis]')")

from _redis import keys_under, spy_round_trips
from pausegraph.checkpoint._records import PendingWrite, new_checkpoint_id
from pausegraph.checkpoint.capabilities import (
    INBOX_TASK,
    WAITING,
    RequestLog,
    ThreadLeases,
    ThreadMaintenance,
    WaitingIndex,
    WaitingThread,
    encode_waiting,
)
from pausegraph.checkpoint.redis import RedisSaver
from pausegraph.errors import CorruptCheckpointError
from pausegraph.testing import make_checkpoint, save_chain


def waiting_entry(
    thread: str, cid: str, at: str = "2025-01-01T00:00:00", graph: str = "g", **meta: Any
):
    """The value of a WAITING write (what the runtime writes when a thread pauses)."""
    return encode_waiting(WaitingThread(thread, cid, graph, at, (), meta))


# -- a plain server ------------------------------------------------------------------


def test_the_server_has_no_modules_and_every_capability_works(rs: RedisSaver, client: Any):
    assert client.execute_command("MODULE", "LIST") == []
    for capability in (WaitingIndex, ThreadLeases, RequestLog, ThreadMaintenance):
        assert isinstance(rs, capability)
    cps = save_chain(rs, 3)
    rs.save_writes("t", "", cps[-1].id, [PendingWrite("t1", "__writes__", 1)])
    assert rs.load("t").checkpoint == cps[-1]  # type: ignore[union-attr]
    assert rs.acquire_lease("t", "me", 5) and not rs.acquire_lease("t", "you", 5)
    assert rs.list_threads() == ["t"]


def test_keys_follow_the_documented_layout_and_ids_cannot_collide(rs: RedisSaver, client, prefix):
    a, b = (
        make_checkpoint({"v": "a:b"}, thread="a:b"),
        make_checkpoint({"v": "a/ns b"}, thread="a", ns="b"),
    )
    rs.save(a)
    rs.save(b)
    assert rs.load("a:b").checkpoint == a  # type: ignore[union-attr]
    assert rs.load("a", "b").checkpoint == b  # type: ignore[union-attr]
    assert rs.load("a") is None
    assert keys_under(client, prefix) == sorted(
        [f"{prefix}layout", f"{prefix}threads", f"{prefix}t:a%3Ab", f"{prefix}t:a"]
        + [f"{prefix}t:a%3Ab:n::{s}" for s in ("ids", "cps", "vals")]
        + [f"{prefix}t:a:n:b:{s}" for s in ("ids", "cps", "vals")]
    )


def test_each_operation_is_a_fixed_number_of_round_trips(rs: RedisSaver, monkeypatch):
    cps = save_chain(rs, 60)
    calls = spy_round_trips(monkeypatch)
    rs.save(make_checkpoint({"x": 1}, cps[-1]), [PendingWrite("t1", "__writes__", 1)])
    rs.save_writes("t", "", cps[-1].id, [PendingWrite("t2", "__writes__", 2)])
    assert calls == ["EVALSHA", "EVALSHA"]  # one atomic script each
    calls.clear()
    rs.load("t", "", cps[0].id)
    assert calls == ["EVALSHA"]  # record, writes and values in one script
    calls.clear()
    assert len(list(rs.history("t"))) == 61
    assert calls == ["EVALSHA", "EVALSHA"]  # two pages of 32, one script each
    calls.clear()
    assert len(list(rs.history("t", filter={"step": 3}))) == 1
    # A filter runs in Python: the values of what it keeps are read after it (page 2 only).
    assert calls == ["EVALSHA", "EVALSHA", "HMGET"]
    calls.clear()
    rs.delete_thread("t")
    assert calls == ["EVALSHA"]


# -- the contract, Redis specifics ------------------------------------------------------


def test_writes_replace_per_task_and_channel_in_first_write_order(rs: RedisSaver):
    cp = make_checkpoint({"a": 1})
    rs.save(cp)
    rs.save_writes("t", "", cp.id, [PendingWrite("t1", "__writes__", [["a", 1]])])
    rs.save_writes("t", "", cp.id, [PendingWrite("t2", "c", 2), PendingWrite("t1", "__next__", [])])
    rs.save_writes("t", "", cp.id, [PendingWrite("t1", "__writes__", [["a", 2]])])
    assert rs.load("t").writes == (  # type: ignore[union-attr]
        PendingWrite("t1", "__writes__", [["a", 2]]),
        PendingWrite("t2", "c", 2),
        PendingWrite("t1", "__next__", []),
    )
    later = make_checkpoint({"a": 2}, cp)
    rs.save(later, [PendingWrite("t2", "c", 3), PendingWrite("t3", "c", 4)])
    assert [w.value for w in rs.load("t", "", cp.id).writes] == [[["a", 2]], 3, [], 4]  # type: ignore[union-attr]
    missing = new_checkpoint_id()
    with pytest.raises(CorruptCheckpointError, match=f"{missing!r}.*does not exist"):
        rs.save_writes("t", "", missing, [])


def test_concurrent_writes_from_worker_threads_keep_every_write(rs: RedisSaver):
    cp = make_checkpoint({"a": 1})
    rs.save(cp)

    def work(n: int) -> None:
        for i in range(25):
            rs.save_writes("t", "", cp.id, [PendingWrite(f"task{n}", f"c{i}", i)])

    workers = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    writes = rs.load("t").writes  # type: ignore[union-attr]
    assert len(writes) == 200
    for n in range(8):  # each worker's writes in the order it made them
        assert [w.value for w in writes if w.task_id == f"task{n}"] == list(range(25))


def test_history_pages_with_before_limit_and_filter(rs: RedisSaver):
    cps = save_chain(rs, 70, metadata={"k": 1})
    newest_first = [cp.id for cp in reversed(cps)]
    assert [s.checkpoint for s in rs.history("t")] == list(reversed(cps))
    assert [s.checkpoint.id for s in rs.history("t", before=cps[40].id, limit=35)] == (
        newest_first[30:65]
    )
    assert [s.checkpoint.step for s in rs.history("t", filter={"step": 3})] == [3]
    assert list(rs.history("t", filter={"k": 2})) == []
    assert list(rs.history("t", limit=0)) == []


def test_delete_thread_removes_every_key_of_it_in_one_script(rs: RedisSaver, client, prefix):
    root = save_chain(rs, 3)
    sub = save_chain(rs, 2, ns="sub:1")
    rs.save_writes("t", "sub:1", sub[-1].id, [PendingWrite("t1", "__writes__", [])])
    rs.remember_request("t", "req-1", sub[-1].id)
    entry = waiting_entry("t", root[-1].id)
    rs.save_writes("t", "", root[-1].id, [PendingWrite(INBOX_TASK, WAITING, entry)])
    kept = save_chain(rs, 2, thread="u")
    assert [e.thread_id for e in rs.list_waiting().items] == ["t"]
    assert any(k.startswith(f"{prefix}t:t:n:sub%3A1:") for k in keys_under(client, prefix))
    rs.delete_thread("t")
    assert not [k for k in keys_under(client, prefix) if k.startswith(f"{prefix}t:t")]
    assert rs.list_waiting().items == () and rs.list_threads() == ["u"]
    assert rs.recall_request("t", "req-1") is None
    assert rs.load("u").checkpoint == kept[-1]  # type: ignore[union-attr]
    rs.delete_thread("never-existed")


# -- capabilities ----------------------------------------------------------------------


def test_the_waiting_index_pages_filters_and_follows_the_thread(rs: RedisSaver):
    ids = {}
    for i in range(150):  # more than one batch of the index
        thread = f"w{i:03d}"
        ids[thread] = cp = make_checkpoint({"a": i}, thread=thread)
        rs.save(cp)
        entry = waiting_entry(thread, cp.id, f"2025-01-01T00:{i // 60:02d}:{i % 60:02d}",
                              graph="even" if i % 2 == 0 else "odd", team=i % 3)  # fmt: skip
        rs.save_writes(thread, "", cp.id, [PendingWrite(INBOX_TASK, WAITING, entry)])
    seen, after = [], None
    while True:
        page = rs.list_waiting(limit=40, after=after)
        seen += [e.thread_id for e in page.items]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == sorted(ids)
    odd = rs.list_waiting(graph="odd", metadata={"team": 0}, limit=1000).items
    assert [e.thread_id for e in odd] == [f"w{i:03d}" for i in range(150) if i % 6 == 3]
    assert odd[0].checkpoint_id == ids["w003"].id and odd[0].metadata == {"team": 0}
    sub = make_checkpoint({"a": 0}, thread="w003", ns="sub:1")
    rs.save(sub)  # a subgraph pausing does not touch the index: its root reports it
    rs.save_writes("w003", "sub:1", sub.id, [PendingWrite(INBOX_TASK, WAITING, waiting_entry(
        "w003", sub.id, "1999-01-01T00:00:00"))])  # fmt: skip
    assert rs.list_waiting(limit=1).items[0].thread_id == "w000"
    rs.save(make_checkpoint({"a": 0}, ids["w003"], thread="w003"))  # the thread moved on
    rs.save_writes("w005", "", ids["w005"].id, [PendingWrite(INBOX_TASK, WAITING, None)])
    rs.delete_thread("w009")
    remaining = [e.thread_id for e in rs.list_waiting(graph="odd", limit=1000).items]
    assert remaining[:3] == ["w001", "w007", "w011"]
    assert len(rs.list_waiting(limit=1000).items) == 147
    with pytest.raises(ValueError, match="limit must be at least 1"):
        rs.list_waiting(limit=0)


def test_a_lease_has_one_owner_until_released_or_expired(rs: RedisSaver):
    assert rs.acquire_lease("t", "a", 30)
    assert rs.acquire_lease("t", "a", 30)  # renewal
    assert not rs.acquire_lease("t", "b", 30)
    rs.release_lease("t", "b")  # not b's: nothing happens
    assert not rs.acquire_lease("t", "b", 30)
    rs.release_lease("t", "a")
    assert rs.acquire_lease("t", "b", 0.05)
    time.sleep(0.15)
    assert rs.acquire_lease("t", "c", 30)  # b's lease expired


def test_the_request_log_keeps_the_first_answer(rs: RedisSaver):
    assert rs.recall_request("t", "k") is None
    rs.remember_request("t", "k", "cp-1")
    rs.remember_request("t", "k", "cp-2")
    assert rs.recall_request("t", "k") == "cp-1"
    assert rs.recall_request("u", "k") is None


def test_prune_keeps_what_the_newest_checkpoints_read(rs: RedisSaver, client):
    cps = save_chain(rs, 10)  # x changes at every checkpoint, y at 0, 3, 6 and 9
    for cp in cps:
        rs.save_writes("t", "", cp.id, [PendingWrite("task", "__writes__", cp.step)])
    save_chain(rs, 4, ns="sub:1")
    # Kept: 9 and 8, and 6 whose y checkpoint 8 reads; in sub:1, 3, 2 and 0.
    assert rs.prune("t", keep_last=2) == 7 + 1
    assert [s.checkpoint for s in rs.history("t")] == [cps[9], cps[8], cps[6]]
    assert rs.load("t", "", cps[8].id).writes == (PendingWrite("task", "__writes__", 7),)  # type: ignore[union-attr]
    k = rs.keys.ns("t", "")
    assert client.hlen(k.writes) == 3 and client.zcard(k.worder) == 3
    assert sorted(f.decode().split("\x00")[0] for f in client.hkeys(k.vals)) == [
        "x", "x", "x", "y", "y",
    ]  # fmt: skip
    assert len(list(rs.history("t", "sub:1"))) == 3
    assert rs.prune("t", keep_last=5) == 0
    with pytest.raises(ValueError, match="keep_last must be at least 1"):
        rs.prune("t", keep_last=0)


def test_prune_keeps_the_snapshot_a_chained_list_reads(rs: RedisSaver):
    first = make_checkpoint({"items": ["a"]})
    cps = [first]
    rs.save(first)
    for i in range(5):  # append one item per checkpoint: chunks of the first snapshot
        prev = cps[-1]
        cid = new_checkpoint_id()
        nxt = make_checkpoint({}, prev)
        nxt = nxt._replace(
            id=cid,
            values={"items": [*prev.values["items"], str(i)]},
            chains={"items": i + 1},
            appended={"items": [str(i)]},
        )
        rs.save(nxt)
        cps.append(nxt)
    assert rs.prune("t", keep_last=1) == 4  # the first (the snapshot) stays
    assert rs.load("t").checkpoint.values == {"items": ["a", "0", "1", "2", "3", "4"]}  # type: ignore[union-attr]


# -- expiry ------------------------------------------------------------------------------


def ttls(client: Any, prefix: str, thread: str) -> dict[str, int]:
    return {k: client.pttl(k) for k in keys_under(client, f"{prefix}t:{thread}")}


def test_a_finished_thread_expires_and_a_paused_one_does_not(client, prefix):
    saver = RedisSaver(client, prefix=prefix, ttl=60)
    paused = make_checkpoint({"a": 1}, thread="p")
    saver.save(paused)
    saver.save_writes("p", "", paused.id, [PendingWrite("t1", "__interrupt__", "q?")])
    assert set(ttls(client, prefix, "p").values()) == {-1}
    done = save_chain(saver, 2, thread="d")
    saver.save(make_checkpoint({"a": 2}, done[-1], thread="d", frontier=()))
    saver.remember_request("d", "req", done[-1].id)
    left = ttls(client, prefix, "d")
    assert len(left) == 5 and all(55_000 < ms <= 60_000 for ms in left.values())
    saver.save(make_checkpoint({"a": 3}, saver.load("d").checkpoint, thread="d"))  # type: ignore[union-attr]
    assert set(ttls(client, prefix, "d").values()) == {-1}  # running again: kept
    assert client.zscore(saver.keys.threads, "d") == float("inf")


def test_expired_threads_vanish_from_loads_and_listings(client, prefix):
    saver = RedisSaver(client, prefix=prefix, ttl=0.2)
    cps = save_chain(saver, 2)
    saver.save(make_checkpoint({"x": 9}, cps[-1], frontier=()))
    save_chain(saver, 1, thread="open")
    time.sleep(0.4)
    assert saver.load("t") is None and list(saver.history("t")) == []
    assert saver.list_threads() == ["open"]
    assert not [k for k in keys_under(client, prefix) if k.startswith(f"{prefix}t:t")]
    with pytest.raises(ValueError, match="ttl must be a positive number"):
        RedisSaver(client, ttl=0)
    with pytest.raises(TypeError, match=r"becomes ttl=minutes \* 60"):
        RedisSaver(client, ttl={"default_ttl": 60})  # type: ignore[arg-type]
