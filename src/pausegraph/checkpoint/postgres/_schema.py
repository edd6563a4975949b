"""The PostgreSQL schema: its tables, its version, and the setup flow that creates or migrates it.

Tables are named ``pausegraph_*`` (in the connection's current schema, the
first of its ``search_path``), so a database can also hold LangGraph's tables.
``pausegraph_meta`` records the schema version: a newer pausegraph migrates
older tables forward (:data:`MIGRATIONS`), an older one refuses newer tables
instead of misreading them. Setup runs in one transaction under a
transaction-scoped advisory lock, so two processes may run it at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pausegraph.checkpoint.postgres._flow import Flow, Query
from pausegraph.checkpoint.postgres._sql import (
    CHECKPOINT,
    CHECKPOINTS,
    LEASES,
    META,
    REQUESTS,
    VALUE,
    WAITING,
    WRITES,
)
from pausegraph.errors import CorruptCheckpointError

__all__ = ["LOCK_KEY", "MIGRATIONS", "SCHEMA_VERSION", "TABLES", "setup_flow"]

SCHEMA_VERSION = 3
"""Version of the tables below; bump it and add a migration when they change.

1. Checkpoints, values, writes, the waiting index, leases and requests.
2. ``value_chains``: a list key stored as a snapshot plus appended chunks is
   listed once with its chunk count (expanded by the load query), instead of
   one entry per chunk, which grew each row with the length of the list.
3. Checkpoints and values in one table (``pausegraph_blobs`` is gone); a
   checkpoint row keeps its small values inline and lists its versions once
   (no longer also in the header), and drops columns nothing read (parent,
   step, source, time: the header has them). Each table costs pages of its
   own (free space map, index root), and a value row about 100 bytes of
   tuple and index entry, more than most scalars it would hold.
   ``pausegraph_leases.epoch``: bumped by every change of a lease, so a run
   can take its lease and load in one statement (see
   ``_sql.LOAD_LATEST_LEASED``); a released lease stays as a free row.
"""

LOCK_KEY = 0x7061_7573_6567_7261  # "pausegra": the advisory lock that serializes setup
"""Key of the advisory lock :func:`setup_flow` takes for its transaction."""

_KEY = 'text COLLATE "C" NOT NULL'

_CREATE: Mapping[str, Sequence[str]] = {
    META: (f"CREATE TABLE IF NOT EXISTS {META} (key text PRIMARY KEY, value text NOT NULL)",),
    # One row per checkpoint (kind CHECKPOINT, key ''): ``value`` holds the header and
    # the values it wrote that are small enough to keep inline, ``versions`` which
    # values it reads (key, version, chunk count triples, see _rows.versions_array),
    # so one query fetches a checkpoint with its values. One row per other value
    # (kind VALUE): ``key`` is its blob key, ``checkpoint_id`` the checkpoint that wrote
    # it or, for an appended chunk, the snapshot it extends. A checkpoint's rows sort
    # together, in the order they are written.
    CHECKPOINTS: (
        f"""CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (
            thread_id {_KEY}, ns {_KEY}, checkpoint_id {_KEY}, kind smallint NOT NULL,
            key {_KEY}, value bytea NOT NULL, versions text[],
            PRIMARY KEY (thread_id, ns, checkpoint_id, kind, key))""",
    ),
    WRITES: (
        # seq is kept on upsert, so ORDER BY seq is first-write order.
        f"""CREATE TABLE IF NOT EXISTS {WRITES} (
            thread_id {_KEY}, ns {_KEY}, checkpoint_id {_KEY}, task_id {_KEY}, channel {_KEY},
            seq bigint GENERATED ALWAYS AS IDENTITY, value bytea NOT NULL,
            PRIMARY KEY (thread_id, ns, checkpoint_id, task_id, channel))""",
    ),
    WAITING: (
        f"""CREATE TABLE IF NOT EXISTS {WAITING} (
            thread_id {_KEY} PRIMARY KEY, checkpoint_id text NOT NULL, graph {_KEY},
            paused_at {_KEY}, metadata jsonb NOT NULL, entry bytea NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS {WAITING}_paused ON {WAITING} (paused_at, thread_id)",
        f"CREATE INDEX IF NOT EXISTS {WAITING}_graph ON {WAITING} (graph, paused_at, thread_id)",
    ),
    # Unlogged: taking a lease commits without waiting for a WAL flush, and a crash of
    # the server (which ends every run's connection anyway) frees all leases.
    LEASES: (
        f"""CREATE UNLOGGED TABLE IF NOT EXISTS {LEASES} (
            thread_id {_KEY} PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL,
            epoch bigint NOT NULL DEFAULT 0)""",
    ),
    REQUESTS: (
        f"""CREATE TABLE IF NOT EXISTS {REQUESTS} (
            thread_id {_KEY}, key {_KEY}, checkpoint_id text NOT NULL,
            PRIMARY KEY (thread_id, key))""",
    ),
}

TABLES: Mapping[str, tuple[str, ...]] = {
    META: ("key", "value"),
    CHECKPOINTS: ("thread_id", "ns", "checkpoint_id", "kind", "key", "value", "versions"),
    WRITES: ("thread_id", "ns", "checkpoint_id", "task_id", "channel", "seq", "value"),
    WAITING: ("thread_id", "checkpoint_id", "graph", "paused_at", "metadata", "entry"),
    LEASES: ("thread_id", "owner", "expires_at", "epoch"),
    REQUESTS: ("thread_id", "key", "checkpoint_id"),
}
"""Each table's columns in order, as this version creates them."""

_V2 = f"{CHECKPOINTS}_v2"

MIGRATIONS: Mapping[int, Sequence[str]] = {
    # Rows written by schema 1 list every chunk in value_keys; a NULL count
    # expands to just those entries, so they load unchanged.
    1: (f"ALTER TABLE {CHECKPOINTS} ADD COLUMN IF NOT EXISTS value_chains integer[]",),
    # Copies every row: old headers still list their versions (the reader keeps
    # those), old values all get rows of their own, and the versions column is
    # built from the old arrays (a NULL count, from schema 1, lists each chunk).
    2: (
        f"ALTER TABLE {CHECKPOINTS} RENAME TO {_V2}",
        f"ALTER TABLE {_V2} RENAME CONSTRAINT {CHECKPOINTS}_pkey TO {_V2}_pkey",
        *_CREATE[CHECKPOINTS],
        f"""INSERT INTO {CHECKPOINTS} (thread_id, ns, checkpoint_id, kind, key, value, versions)
        SELECT o.thread_id, o.ns, o.checkpoint_id, {CHECKPOINT}, '', o.header,
            ARRAY(SELECT t.item
                  FROM unnest(o.value_keys, o.value_versions, o.value_chains)
                      WITH ORDINALITY AS u(key, version, chain, n),
                  LATERAL (VALUES
                      (1, u.key),
                      (2, CASE WHEN u.version = o.checkpoint_id THEN '' ELSE u.version END),
                      (3, CASE WHEN u.chain > 0 THEN u.chain::text ELSE '' END)) AS t(part, item)
                  ORDER BY u.n, t.part)
        FROM {_V2} AS o""",
        f"""INSERT INTO {CHECKPOINTS} (thread_id, ns, checkpoint_id, kind, key, value)
        SELECT thread_id, ns, version, {VALUE}, key, value FROM pausegraph_blobs""",
        f"DROP TABLE {_V2}, pausegraph_blobs",
        # Leases held during the upgrade get epoch 0; the next change makes it 1 or more.
        f"ALTER TABLE {LEASES} ADD COLUMN IF NOT EXISTS epoch bigint NOT NULL DEFAULT 0",
    ),
}
"""Statements that take schema ``N`` to ``N + 1``, keyed by ``N``; run in setup's transaction."""

_COLUMNS = f"""
SELECT c.relname::text, array_agg(a.attname::text ORDER BY a.attnum)
FROM pg_class AS c
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.oid IN ({", ".join(f"to_regclass('{name}')" for name in TABLES)})
GROUP BY c.relname"""
"""The columns of each pausegraph table visible on the search path."""


def setup_flow(where: str) -> Flow[None]:
    """Check, migrate and create the tables; run it in one transaction.

    Args:
        where: The database, for messages (a URL without its password).

    Raises:
        CorruptCheckpointError: A newer pausegraph wrote the tables, or they
            have a shape this one does not know. Nothing was changed.
    """
    yield Query(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
    rows = yield Query(_COLUMNS)
    present: dict[str, tuple[str, ...]] = {name: tuple(columns) for name, columns in rows}
    version = None
    if present:
        if META not in present:
            raise _foreign(where, f"it has {', '.join(sorted(present))} but no {META} table")
        rows = yield Query(f"SELECT value FROM {META} WHERE key = 'schema_version'")
        version = _version(where, rows[0][0] if rows else None)
    if version is not None and version > SCHEMA_VERSION:
        raise CorruptCheckpointError(
            f"The pausegraph tables in {where} were written by a newer pausegraph (schema "
            f"{version}, this one reads {SCHEMA_VERSION}): upgrade pausegraph. Nothing was changed."
        )
    if version == SCHEMA_VERSION:
        for name, columns in present.items():
            if columns != TABLES[name]:
                raise _foreign(
                    where, f"its table {name} has columns {columns}, expected {TABLES[name]}"
                )
        if len(present) == len(TABLES):
            return
    for from_version in range(version or SCHEMA_VERSION, SCHEMA_VERSION):
        for statement in MIGRATIONS.get(from_version, ()):
            yield Query(statement)
    for statements in _CREATE.values():
        for ddl in statements:
            yield Query(ddl)
    yield Query(
        f"INSERT INTO {META} (key, value) VALUES ('schema_version', %(version)s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"version": str(SCHEMA_VERSION)},
    )


def _version(where: str, value: object) -> int:
    try:
        version = int(str(value))
    except ValueError:
        raise _foreign(where, f"{META} holds no valid schema_version ({value!r})") from None
    if version < 1:
        raise _foreign(where, f"{META} names schema version {version}, which never existed")
    return version


def _foreign(where: str, what: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"{where} does not hold pausegraph tables in a shape this pausegraph knows: {what}. "
        "They were written by another program or are damaged; nothing was changed. Use "
        "another database or schema (search_path), or drop the pausegraph_* tables."
    )
