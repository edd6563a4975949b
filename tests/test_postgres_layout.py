"""The Postgres row layout (schema 3): what goes in a checkpoint's row, what gets a row of its own.

A checkpoint row holds the header and the values it wrote that serialize to
at most ``INLINE_MAX`` bytes; larger values and appended chunks get rows of
their own. These tests check where things land and that every field reads
back exactly, whichever row it came from.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

import pytest

pytest.importorskip(
    "psycopg", reason="psycopg is not installed (pip install 'pausegraph[postgres]')"
)

import psycopg

from _savers import postgres_schema
from pausegraph.checkpoint._inline import INLINE_MAX
from pausegraph.checkpoint.postgres import PostgresSaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.testing import make_checkpoint
from pausegraph.testing._factories import config


@pytest.fixture
def cp() -> Iterator[PostgresSaver]:
    with postgres_schema() as url, PostgresSaver.from_conn_string(url) as saver:
        saver.setup()
        yield saver


def _rows(saver: PostgresSaver, sql: str) -> list[tuple[Any, ...]]:
    conn = saver.conn
    assert isinstance(conn, psycopg.Connection)
    return conn.execute(sql).fetchall()


def test_small_values_are_inline_and_every_field_reads_back(cp: PostgresSaver) -> None:
    edge = "x" * (INLINE_MAX - 2)  # msgpack: 2 bytes of header, so exactly INLINE_MAX
    assert len(cp.serde.dumps(edge)) == INLINE_MAX
    first = make_checkpoint(
        {"log": ["a"], "edge": edge, "big": edge + "y", "": {"empty": "key"}, "é\x1f1": 2},
        metadata={"user": "ann"},
    )
    second = make_checkpoint({"n": 1}, first)
    second = second._replace(  # appends "b" to log: a chunk of first's snapshot
        values={**second.values, "log": ["a", "b"]},
        chains={"log": 1},
        appended={"log": ["b"]},
    )
    cp.save(first)
    cp.save(second)
    rows = _rows(cp, "SELECT checkpoint_id, key FROM pausegraph_checkpoints WHERE kind = 1")
    assert sorted(rows) == [(first.id, "big"), (first.id, "log\x1f1")]
    for saved in (first, second):
        stored = cp.load("t", "", saved.id)
        assert stored is not None
        assert stored.checkpoint == saved._replace(appended={})  # appended: the chunk row
        assert list(stored.checkpoint.versions) == list(saved.versions)  # order kept too
        assert list(stored.checkpoint.values) == list(saved.values)
    (versions,) = _rows(
        cp,
        f"SELECT versions FROM pausegraph_checkpoints WHERE key = '' AND checkpoint_id = '{second.id}'",
    )
    assert versions[0][:3] == ["log", first.id, "1"] and versions[0][-3:] == ["n", "", ""]


def test_checkpoints_read_together_share_no_value(cp: PostgresSaver) -> None:
    first = make_checkpoint({"d": {"k": [1]}})
    second = make_checkpoint({"x": 1}, first)
    cp.save(first)
    cp.save(second)
    newer, older = cp.history("t")
    assert newer.checkpoint.values["d"] == older.checkpoint.values["d"] == {"k": [1]}
    assert newer.checkpoint.values["d"] is not older.checkpoint.values["d"]


class Log(TypedDict):
    items: Annotated[list[str], operator.add]
    n: int


def test_an_appending_thread_stores_about_its_data(cp: PostgresSaver) -> None:
    steps = 60

    def step(state: Log) -> dict[str, Any]:
        return {"items": [f"{state['n']:04d}" + "z" * 996], "n": state["n"] + 1}

    builder = StateGraph(Log)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", lambda s: "step" if s["n"] < steps else END)
    builder.compile(checkpointer=cp).invoke({"items": [], "n": 0}, config("t"))
    counts = _rows(cp, "SELECT kind, count(*) FROM pausegraph_checkpoints GROUP BY kind")
    assert sorted(counts) == [(0, steps + 2), (1, steps)]  # value rows: the chunks alone
    (stored,) = _rows(
        cp,
        "SELECT sum(octet_length(value)) + sum(coalesce(pg_column_size(versions), 0)) "
        "FROM pausegraph_checkpoints",
    )
    assert stored[0] < 1.25 * steps * 1000, stored  # a checkpoint row adds ~170 bytes
    (low, high), *_ = _rows(
        cp,
        "SELECT min(pg_column_size(versions)), max(pg_column_size(versions)) "
        "FROM pausegraph_checkpoints WHERE kind = 0 AND cardinality(versions) = 6",
    )
    assert high - low <= 4, (low, high)  # one entry per key: only the count's digits grow
