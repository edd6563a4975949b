"""Postgres schema 3 takes over databases written by schemas 1 and 2.

(Schema 3 also gives leases an epoch: a lease held across the upgrade keeps working.)

The old layout is rebuilt from what this saver stores (every value as a row,
as the old savers kept them; headers listing their versions), then
``setup()`` migrates it: every checkpoint must read back as it was, and runs
must carry on, appending to lists whose chunks the old layout wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip(
    "psycopg", reason="psycopg is not installed (pip install 'pausegraph[postgres]')"
)

import psycopg

from _histories import carry_on, fill
from _savers import postgres_schema
from pausegraph.checkpoint import _inline
from pausegraph.checkpoint._codec import encode_header
from pausegraph.checkpoint._records import blob_pairs, created_at_of
from pausegraph.checkpoint.postgres import PostgresSaver
from pausegraph.checkpoint.postgres._schema import SCHEMA_VERSION, TABLES

_KEY = 'text COLLATE "C" NOT NULL'

# The two tables schema 3 replaces, as schema 2 created them (schema 1: no value_chains).
_OLD_CHECKPOINTS = f"""CREATE TABLE pausegraph_checkpoints (
    thread_id {_KEY}, ns {_KEY}, checkpoint_id {_KEY}, parent_id text COLLATE "C",
    step integer NOT NULL, source text NOT NULL, created_at text NOT NULL,
    value_keys text[] NOT NULL, value_versions text[] NOT NULL, header bytea NOT NULL,
    value_chains integer[],
    PRIMARY KEY (thread_id, ns, checkpoint_id))"""
_OLD_BLOBS = f"""CREATE TABLE pausegraph_blobs (
    thread_id {_KEY}, ns {_KEY}, key {_KEY}, version {_KEY}, value bytea NOT NULL,
    PRIMARY KEY (thread_id, ns, key, version))"""


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema() as conninfo:
        yield conninfo


def _fill(url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """:func:`fill`'s threads, every value a row; returns their histories."""
    with monkeypatch.context() as patch, PostgresSaver.from_conn_string(url) as saver:
        patch.setattr(_inline, "INLINE_MAX", -1)  # every value a row, as schemas 1 and 2 kept them
        return fill(saver)


def _rewrite_as(url: str, version: int) -> None:
    """Replace the schema-3 checkpoint table with the two tables of schema ``version``."""
    with PostgresSaver.from_conn_string(url) as saver:
        conn = saver.conn
        assert isinstance(conn, psycopg.Connection)
        rows = conn.execute(
            "SELECT thread_id, ns, checkpoint_id, kind, key, value FROM pausegraph_checkpoints"
        ).fetchall()
        checkpoints = []
        for thread_id, ns, cid, kind, _key, _value in rows:
            if kind == 0:
                stored = saver.load(thread_id, ns, cid)
                assert stored is not None
                checkpoints.append(stored.checkpoint)
        conn.execute("DROP TABLE pausegraph_checkpoints")
        conn.execute(_OLD_CHECKPOINTS)
        conn.execute(_OLD_BLOBS)
        if version == 1:
            conn.execute("ALTER TABLE pausegraph_checkpoints DROP COLUMN value_chains")
        for cp in checkpoints:
            # Schema 2 lists each key with its chunk count; schema 1 lists every chunk.
            pairs = blob_pairs(cp.versions, cp.chains) if version == 1 else cp.versions
            row: dict[str, Any] = {
                "thread_id": cp.thread_id,
                "ns": cp.ns,
                "checkpoint_id": cp.id,
                "parent_id": cp.parent_id,
                "step": cp.step,
                "source": cp.source,
                "created_at": cp.created_at or created_at_of(cp.id),
                "value_keys": list(pairs),
                "value_versions": list(pairs.values()),
                "header": encode_header(cp, saver.serde),  # versions and chains included
            }
            if version == 2:
                row["value_chains"] = [cp.chains.get(k, 0) for k in cp.versions]
            names = ", ".join(row)
            slots = ", ".join(f"%({name})s" for name in row)
            conn.execute(f"INSERT INTO pausegraph_checkpoints ({names}) VALUES ({slots})", row)
        for thread_id, ns, version_id, kind, key, value in rows:
            if kind == 1:
                conn.execute(
                    "INSERT INTO pausegraph_blobs VALUES (%s, %s, %s, %s, %s)",
                    (thread_id, ns, key, version_id, value),
                )
        # Leases had no epoch; one is held while the upgrade runs.
        conn.execute("ALTER TABLE pausegraph_leases DROP COLUMN epoch")
        conn.execute(
            "INSERT INTO pausegraph_leases VALUES ('held', 'old', now() + interval '30 seconds')"
        )
        conn.execute("UPDATE pausegraph_meta SET value = %s", (str(version),))


@pytest.mark.parametrize("version", [1, 2])
def test_older_schemas_migrate_and_runs_carry_on(
    url: str, monkeypatch: pytest.MonkeyPatch, version: int
) -> None:
    before = _fill(url, monkeypatch)
    _rewrite_as(url, version)
    with PostgresSaver.from_conn_string(url) as saver:
        saver.setup()
        saver.setup()  # migrated once: the second call only checks
        conn = saver.conn
        assert isinstance(conn, psycopg.Connection)
        meta = conn.execute("SELECT value FROM pausegraph_meta").fetchone()
        assert meta == (str(SCHEMA_VERSION),)
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
        assert sorted(name for (name,) in tables) == sorted(TABLES)
        carry_on(saver, before)
        # The lease held across the upgrade still excludes others; its owner renews
        # and releases it, and then a run takes it with its load.
        assert saver.load_leased("held", "", None, "new", 30) == (False, None)
        assert saver.acquire_lease("held", "old", 30)
        saver.release_lease("held", "old")
        assert saver.load_leased("held", "", None, "new", 30) == (True, None)
        epoch = conn.execute("SELECT epoch FROM pausegraph_leases WHERE thread_id = 'held'")
        assert epoch.fetchone() == (3,)  # 0 when migrated; renewal, release and load add one
