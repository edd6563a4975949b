"""The Postgres saver's storage and capabilities, checked against the in-memory saver.

Each test gets a schema of its own (see ``postgres_schema`` in ``tests/_savers.py``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip(
    "psycopg", reason="psycopg is not installed (pip install 'pausegraph[postgres]')"
)

import psycopg

from _savers import postgres_schema
from pausegraph.checkpoint._records import PendingWrite
from pausegraph.checkpoint.capabilities import (
    INBOX_TASK,
    WAITING,
    SaveItem,
    WaitingThread,
    WritesItem,
    encode_waiting,
)
from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.checkpoint.postgres import PostgresSaver, _sql
from pausegraph.checkpoint.postgres._rows import save_many_params, save_params
from pausegraph.errors import CorruptCheckpointError
from pausegraph.testing import make_checkpoint, save_chain


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema() as conninfo:
        yield conninfo


@pytest.fixture
def cp(url: str) -> Iterator[PostgresSaver]:
    with PostgresSaver.from_conn_string(url) as saver:
        saver.setup()
        yield saver


# -- storage ----------------------------------------------------------------------


def test_missing_checkpoints_load_as_none_and_refuse_writes(cp: PostgresSaver) -> None:
    first = make_checkpoint({"a": 1})
    cp.save(first)
    assert cp.load("t", "", "nope") is None and cp.load("other") is None
    with pytest.raises(CorruptCheckpointError, match="does not exist"):
        cp.save_writes("t", "", "nope", [PendingWrite("task", "c", 1)])
    stored = cp.load("t", "", first.id)
    assert stored is not None and stored.writes == ()


def test_odd_keys_and_task_ids_round_trip(cp: PostgresSaver) -> None:
    odd = ['a"b', "c\\d", "e,f", "{g}", "NULL", "", " x ", "é\x1f1"]
    first = make_checkpoint({k: i for i, k in enumerate(odd)}, thread='t"1')
    cp.save(first)
    writes = [PendingWrite(k, f"{k}!", k) for k in odd]
    cp.save_writes('t"1', "", first.id, writes)
    second = make_checkpoint({'a"b': "new"}, first, thread='t"1')
    cp.save(second, writes[:2])
    stored = cp.load('t"1', "", first.id)
    assert stored is not None and stored.checkpoint == first and stored.writes == tuple(writes)
    assert [s.checkpoint for s in cp.history('t"1', filter={"step": 0})] == [second]


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE pausegraph_checkpoints SET value = '\\x00ff' WHERE kind = 0",
        "UPDATE pausegraph_checkpoints SET value = '\\xc1' WHERE kind = 1",
        "UPDATE pausegraph_writes SET value = '\\xc1'",
        "DELETE FROM pausegraph_checkpoints WHERE kind = 1 AND key = 'b'",
        # The first checkpoint's row holds the inline value of 'a' the second reads.
        "DELETE FROM pausegraph_checkpoints WHERE kind = 0 AND versions[2] = ''",
    ],
)
def test_damaged_rows_raise_corrupt_checkpoint(url: str, cp: PostgresSaver, damage: str) -> None:
    first = make_checkpoint({"a": 1, "b": "x" * 1000})
    second = make_checkpoint({"c": 3}, first)
    cp.save(first)
    cp.save(second)
    cp.save_writes("t", "", second.id, [PendingWrite("task", "c", 1)])
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute(damage).rowcount >= 1
    with pytest.raises(CorruptCheckpointError):
        cp.load("t")


def test_history_pages_match_the_memory_saver(cp: PostgresSaver) -> None:
    memory = InMemorySaver()
    for saver in (cp, memory):
        save_chain(saver, 0)
    chain = save_chain(memory, 75)
    for c in chain:
        cp.save(c)
        for saver in (cp, memory):
            saver.save_writes("t", "", c.id, [PendingWrite("task", "w", c.step)])
    cases: list[dict[str, Any]] = [
        {},
        {"limit": 40},
        {"before": chain[50].id},
        {"before": chain[50].id, "limit": 33},
        {"filter": {"step": 10}},
        {"filter": {"source": "loop"}, "limit": 70},
        {"limit": 0},
    ]
    for kwargs in cases:
        assert list(cp.history("t", **kwargs)) == list(memory.history("t", **kwargs)), kwargs


def test_prune_matches_the_memory_saver(cp: PostgresSaver) -> None:
    memory = InMemorySaver()
    for n, thread in ((40, "t"), (7, "u")):
        for c in save_chain(memory, n, thread=thread):
            cp.save(c)
    for thread, keep in (("t", 5), ("u", 1), ("t", 1)):
        assert cp.prune(thread, keep_last=keep) == memory.prune(thread, keep_last=keep)
        assert list(cp.history(thread)) == list(memory.history(thread))


def test_loading_looks_values_and_writes_up_by_key_not_by_thread(cp: PostgresSaver) -> None:
    """A join here once made the planner scan every value of the thread on each load."""
    for c in save_chain(cp, 300):
        cp.save_writes("t", "", c.id, [PendingWrite("task", "w", c.step)])
    conn = cp.conn
    assert isinstance(conn, psycopg.Connection)
    conn.execute("ANALYZE")
    conn.execute("SET plan_cache_mode = force_generic_plan")
    params = {"thread_id": "t", "ns": "", "checkpoint_id": None}
    for _ in range(2):
        rows = conn.execute("EXPLAIN " + _sql.LOAD_LATEST, params, prepare=True).fetchall()
    plan = "\n".join(row[0] for row in rows)
    assert "Seq Scan" not in plan and "Bitmap" not in plan and "Hash Join" not in plan, plan
    assert "(checkpoint_id = need.version)" in plan, plan


# -- capabilities ------------------------------------------------------------------


def test_leases_follow_the_server_clock(cp: PostgresSaver) -> None:
    assert cp.acquire_lease("t", "a", 30) and cp.acquire_lease("t", "a", 30)
    assert not cp.acquire_lease("t", "b", 30)
    cp.release_lease("t", "b")  # not b's: nothing happens
    assert not cp.acquire_lease("t", "b", 30)
    cp.release_lease("t", "a")
    assert cp.acquire_lease("t", "b", 0.05)
    time.sleep(0.1)
    assert cp.acquire_lease("t", "a", 30)  # b's expired


def _pause(savers: tuple[Any, ...], thread: str, at: str, graph: str, **meta: Any) -> None:
    c = make_checkpoint({"a": 1}, thread=thread)
    entry = WaitingThread(thread, c.id, graph, at, (), meta)
    for saver in savers:
        saver.save(c)
        write = PendingWrite(INBOX_TASK, WAITING, encode_waiting(entry))
        saver.save_writes(thread, "", c.id, [write])


def test_waiting_filters_page_as_the_memory_saver_does(cp: PostgresSaver) -> None:
    memory = InMemorySaver()
    metas: list[dict[str, Any]] = [
        {"user": "ann", "n": 1},
        {"user": "bob", "n": True, "tags": ["x", "y"]},
        {"user": "ann", "n": 2.0, "tags": ("x", "y")},
        {"n": 0, "when": (1, 2), "deep": {"a": [1]}},
        {"user": None, "n": False, "day": dt.date(2025, 1, 2)},  # a date has no JSON form
        {},
    ]
    for i, meta in enumerate(metas * 3):
        at = f"2025-01-01T00:00:{i % 4:02d}+00:00"  # equal times: thread ids break ties
        _pause((cp, memory), f"t{i:02d}", at, "g" if i % 2 else "h", **meta)
    filters: list[dict[str, Any]] = [
        {},
        {"user": "ann"},
        {"n": 1},
        {"n": 1.0},
        {"n": 0},
        {"n": 2},
        {"user": None},
        {"tags": ["x", "y"]},
        {"tags": ("x", "y")},
        {"deep": {"a": [1]}},
        {"when": (1, 2)},
        {"missing": None, "user": "bob"},
        {"day": dt.date(2025, 1, 2)},
        {"n": float("nan")},
    ]
    for metadata in filters:
        for graph in (None, "g"):
            for limit in (1, 4, 100):
                pages = []
                for saver in (cp, memory):
                    after, items = None, []
                    while True:
                        page = saver.list_waiting(
                            graph=graph, metadata=metadata, limit=limit, after=after
                        )
                        items.append(page.items)
                        if page.next_cursor is None:
                            break
                        after = page.next_cursor
                    pages.append(items)
                assert pages[0] == pages[1], (metadata, graph, limit)


def test_a_leased_load_behind_a_release_loads_again_and_sees_the_last_write(
    url: str, cp: PostgresSaver
) -> None:
    # The previous holder releases after the leased load's snapshot was taken:
    # the load waits on the lease row, takes the lease, sees its snapshot is
    # stale by the epoch, and loads again. Without that it would miss `last`.
    first = make_checkpoint({"a": 1})
    cp.save(first)
    assert cp.acquire_lease("t", "old", 30)
    last = make_checkpoint({"a": 2}, first)
    holder = psycopg.connect(url)  # not autocommit: its release waits for our commit
    params = {**save_params(last, [], cp.serde), "owner": "old"}
    holder.execute(_sql.SAVE_RELEASED, params, binary=True)
    result: list[Any] = []
    with PostgresSaver.from_conn_string(url) as other:
        worker = threading.Thread(
            target=lambda: result.append(other.load_leased("t", "", None, "new", 30))
        )
        worker.start()
        with psycopg.connect(url, autocommit=True) as watch:
            for _ in range(500):  # until the load waits on the holder's lease row
                rows = watch.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%%seen AS%%'"
                ).fetchall()
                if rows:
                    break
                time.sleep(0.01)
            else:
                pytest.fail("the leased load never waited for the holder's release")
        holder.commit()
        worker.join(10)
    holder.close()
    taken, loaded = result[0]
    assert taken is True and loaded is not None and loaded.checkpoint.id == last.id
    assert not cp.acquire_lease("t", "third", 30)


def test_a_leased_load_reads_busy_ok_or_stale_from_its_first_row() -> None:
    from pausegraph.checkpoint.postgres import _ops
    from pausegraph.checkpoint.serde import MsgpackSerializer

    def first_row(status: str) -> Any:
        flow = _ops.load_leased(MsgpackSerializer(), "t", "", None, "me", 30)
        query = next(flow)
        assert query.sql == _sql.LOAD_LATEST_LEASED and query.params["owner"] == "me"
        try:
            return flow.send([(-1, status, None, None, None, 0)])
        except StopIteration as stop:
            return stop.value

    assert first_row("busy") == (False, None)
    assert first_row("ok") == (True, None)  # nothing stored yet
    again = first_row("stale")  # a second, plain load follows
    assert again.sql == _sql.LOAD_LATEST


def test_saving_several_checkpoints_probes_each_parent_by_key(cp: PostgresSaver) -> None:
    """A parent's writes in SAVE_MANY, as an EXISTS, were planned as a hash of the thread's
    every checkpoint while the table had no statistics yet (a new, fast-growing thread)."""
    chain = save_chain(cp, 3)
    more = [make_checkpoint({"x": i}, chain[-1]) for i in range(2)]
    conn = cp.conn
    assert isinstance(conn, psycopg.Connection)
    conn.execute(  # a long history, cheaply, and not analyzed: rows no load will read
        "INSERT INTO pausegraph_checkpoints SELECT 't', '', 'old-' || i, 0, '', '', '{}' "
        "FROM generate_series(1, 50000) AS i"
    )
    items = [(more[0], [PendingWrite("task", "x", 1)]), (more[1], [])]
    rows = conn.execute("EXPLAIN " + _sql.SAVE_MANY, save_many_params(items, cp.serde))
    plan = "\n".join(row[0] for row in rows.fetchall())
    assert "hashed SubPlan" not in plan and "Seq Scan on pausegraph_checkpoints" not in plan, plan
    assert "checkpoint_id = w.target" in plan, plan


def test_a_batch_stores_its_checkpoints_as_one_by_one_saves_would(cp: PostgresSaver) -> None:
    memory = InMemorySaver()
    first = make_checkpoint({"a": 1, "log": ["x"]})
    odd = make_checkpoint({'k"1': "v\\", "log": ["x", "y"]}, first, source="update")
    last = make_checkpoint({"a": 2}, odd, metadata={"step": 3})
    writes = [PendingWrite('t"a', "a", 1), PendingWrite("tb", "b", [2])]
    for saver in (cp, memory):
        saver.save(first)
        items = [SaveItem(odd, writes), SaveItem(last, [PendingWrite("tc", "c", 3)])]
        saver.write_batch(items) if saver is cp else [saver.save(*i) for i in items]
    assert list(cp.history("t")) == list(memory.history("t"))


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every statement the sync saver runs from now on."""
    from pausegraph.checkpoint.postgres import _saver

    statements: list[str] = []
    real_run = _saver.run

    def counting_run(conn: Any, flow: Any) -> Any:
        def spy() -> Any:
            rows = None
            query = flow.send(None)
            while True:
                statements.append(query.sql)
                rows = yield query
                try:
                    query = flow.send(rows)
                except StopIteration as stop:
                    return stop.value

        return real_run(conn, spy())

    monkeypatch.setattr(_saver, "run", counting_run)
    return statements


@pytest.mark.parametrize("big", [False, True], ids=["small-value", "big-value"])
@pytest.mark.parametrize("writes", [False, True], ids=["no-writes", "parent-writes"])
def test_a_save_leaves_out_the_parts_it_has_nothing_for(
    cp: PostgresSaver, sent: list[str], big: bool, writes: bool
) -> None:
    memory = InMemorySaver()
    first = make_checkpoint({"a": 1})
    second = make_checkpoint({"b": "x" * 500 if big else "x"}, first)  # > 128 B: a row of its own
    parent_writes = [PendingWrite("task", "b", "x")] if writes else []
    memory.save(first)
    memory.save(second, parent_writes, final=False)
    cp.save(first)
    sent.clear()
    cp.save(second, parent_writes, final=False)
    assert sent == [_sql.save_statement(blobs=big, writes=writes, flush=False, release=False)]
    assert ("changed AS" in sent[0], "parent_writes AS" in sent[0]) == (big, writes)
    assert list(cp.history("t")) == list(memory.history("t"))


def test_a_pause_after_held_checkpoints_is_one_statement(
    cp: PostgresSaver, sent: list[str]
) -> None:
    """Checkpoints held back and the pause's writes on the last one travel together."""
    first = make_checkpoint({"a": 1})
    second = make_checkpoint({"a": 2}, first)
    ask = {"id": "i1", "value": "ok?"}
    entry = WaitingThread("t", second.id, "g", "2025-01-01T00:00:01+00:00", (), {})
    pause = [
        PendingWrite("task", "answer", ask),
        PendingWrite(INBOX_TASK, WAITING, encode_waiting(entry)),
    ]
    assert cp.acquire_lease("t", "ann", 30)
    sent.clear()
    cp.write_batch(
        [SaveItem(first, []), SaveItem(second, []), WritesItem("t", "", second.id, pause)],
        final=True,
        release="ann",
    )
    assert sent == [_sql.SAVE_MANY_WRITES_RELEASED]
    stored = cp.load("t")
    assert stored is not None and stored.checkpoint.id == second.id
    assert stored.writes == (PendingWrite("task", "answer", ask),)
    assert [(w.thread_id, w.checkpoint_id) for w in cp.list_waiting().items] == [("t", second.id)]
    assert cp.acquire_lease("t", "bob", 30)  # ann's lease went back with it

    sent.clear()  # writes that are not the last checkpoint's go on their own
    third = make_checkpoint({"a": 3}, second)
    cp.write_batch(
        [SaveItem(third, []), WritesItem("t", "", second.id, [PendingWrite("x", "b", 1)])]
    )
    midrun = _sql.save_statement(blobs=False, writes=False, flush=False, release=False)
    assert sent == [midrun, _sql.SAVE_WRITES]  # a small value, no parent writes: the short save
    assert not cp.list_waiting().items
