"""Every statement the Postgres savers run, shared by the sync and the async saver.

Each operation is one statement (data-modifying CTEs keep a save, its values,
its parent's writes and the waiting-index upkeep in one implicit transaction),
so each costs one round trip. Texts are constants, so psycopg prepares each
once per connection after a few executions. Variable-length parts (changed
values, writes) travel as arrays and are expanded with ``unnest``.

Key columns are ``COLLATE "C"``: they sort by code point, as Python sorts
``str``, so ``ORDER BY`` here agrees with the in-memory saver.

A thread's checkpoints and values share one table (see ``_schema``): a row of
kind :data:`CHECKPOINT` per checkpoint, a row of kind :data:`VALUE` per value
too large to keep in its checkpoint's row and per appended chunk.
"""

from __future__ import annotations

__all__ = [
    "ACQUIRE_LEASE",
    "CHECKPOINT",
    "CHECKPOINTS",
    "DELETE_THREAD",
    "HEADERS_PAGE",
    "HEADERS_PAGE_BEFORE",
    "LEASES",
    "LIST_THREADS",
    "LOAD_IDS",
    "LOAD_LATEST",
    "LOAD_ONE",
    "LOAD_PAGE",
    "LOAD_PAGE_BEFORE",
    "META",
    "PRUNE",
    "RECALL_REQUEST",
    "RELEASE_LEASE",
    "REMEMBER_REQUEST",
    "REQUESTS",
    "SAVE",
    "SAVE_MIDRUN",
    "SAVE_WRITES",
    "VALUE",
    "WAITING",
    "WRITES",
]

META = "pausegraph_meta"
CHECKPOINTS = "pausegraph_checkpoints"
WRITES = "pausegraph_writes"
WAITING = "pausegraph_waiting"
LEASES = "pausegraph_leases"
REQUESTS = "pausegraph_requests"

CHECKPOINT = 0
"""``kind`` of a checkpoint's own row (its ``key`` is ``''``)."""
VALUE = 1
"""``kind`` of a value's row: ``key`` is its blob key, ``checkpoint_id`` its version."""

_THIS = f"thread_id = %(thread_id)s AND ns = %(ns)s AND kind = {CHECKPOINT} AND key = ''"
"""Narrows to checkpoint rows; add ``AND checkpoint_id = ...`` for one by primary key."""

# -- saving ----------------------------------------------------------------------

_UPSERT_WRITES = f"""
    INSERT INTO {WRITES} (thread_id, ns, checkpoint_id, task_id, channel, value)
    SELECT %(thread_id)s::text, %(ns)s::text, %(target)s::text, w.task_id, w.channel, w.value
    FROM unnest(%(tasks)s::text[], %(channels)s::text[], %(values)s::bytea[])
        WITH ORDINALITY AS w(task_id, channel, value, ord)
    WHERE EXISTS (SELECT 1 FROM {{exists}})
    ORDER BY w.ord
    ON CONFLICT (thread_id, ns, checkpoint_id, task_id, channel)
    DO UPDATE SET value = excluded.value"""
# ``seq`` (an identity) is not updated on conflict: writes read back in first-write order.

SAVE = f"""
WITH saved AS (
    INSERT INTO {CHECKPOINTS} (thread_id, ns, checkpoint_id, kind, key, value, versions)
    VALUES (%(thread_id)s, %(ns)s, %(checkpoint_id)s, {CHECKPOINT}, '', %(value)s,
        %(versions)s::text[])
    ON CONFLICT (thread_id, ns, checkpoint_id, kind, key) DO UPDATE SET
        value = excluded.value, versions = excluded.versions
), changed AS (
    INSERT INTO {CHECKPOINTS} (thread_id, ns, checkpoint_id, kind, key, value)
    SELECT %(thread_id)s::text, %(ns)s::text, b.version, {VALUE}, b.key, b.value
    FROM unnest(%(blob_keys)s::text[], %(blob_versions)s::text[], %(blob_values)s::bytea[])
        AS b(key, version, value)
    ON CONFLICT (thread_id, ns, checkpoint_id, kind, key) DO UPDATE SET value = excluded.value
), parent_writes AS ({
    _UPSERT_WRITES.format(exists=f"{CHECKPOINTS} WHERE {_THIS} AND checkpoint_id = %(target)s")
}
), moved_on AS (
    DELETE FROM {WAITING} WHERE thread_id = %(thread_id)s AND %(ns)s::text = ''
)
SELECT 1"""
"""Checkpoint, changed values, the parent's writes (if the parent exists), index upkeep."""

SAVE_MIDRUN = (
    SAVE.removesuffix("\nSELECT 1").replace(
        "WITH saved AS (",
        "WITH no_flush AS (SELECT set_config('synchronous_commit', 'off', true)), saved AS (",
        1,
    )
    + "\nSELECT count(*) FROM no_flush"  # referenced, so the setting is applied
)
""":data:`SAVE` committing without waiting for the WAL flush (a save mid-run; see ``_ops.save``)."""

SAVE_WRITES = f"""
WITH target AS (
    SELECT 1 FROM {CHECKPOINTS} WHERE {_THIS} AND checkpoint_id = %(target)s
), task_writes AS ({_UPSERT_WRITES.format(exists="target")}
), waiting_set AS (
    INSERT INTO {WAITING} (thread_id, checkpoint_id, graph, paused_at, metadata, entry)
    SELECT %(thread_id)s::text, %(target)s::text, %(w_graph)s::text, %(w_paused_at)s::text,
        %(w_metadata)s::jsonb, %(w_entry)s::bytea
    WHERE %(w_entry)s::bytea IS NOT NULL AND EXISTS (SELECT 1 FROM target)
    ON CONFLICT (thread_id) DO UPDATE SET checkpoint_id = excluded.checkpoint_id,
        graph = excluded.graph, paused_at = excluded.paused_at,
        metadata = excluded.metadata, entry = excluded.entry
), waiting_clear AS (
    DELETE FROM {WAITING}
    WHERE thread_id = %(thread_id)s AND %(w_clear)s::boolean AND EXISTS (SELECT 1 FROM target)
)
SELECT count(*) FROM target"""
"""Task writes and the waiting-index entry; returns 0 (nothing written) without the checkpoint."""

DELETE_THREAD = f"""
WITH w AS (DELETE FROM {WRITES} WHERE thread_id = %(thread_id)s),
c AS (DELETE FROM {CHECKPOINTS} WHERE thread_id = %(thread_id)s),
i AS (DELETE FROM {WAITING} WHERE thread_id = %(thread_id)s),
r AS (DELETE FROM {REQUESTS} WHERE thread_id = %(thread_id)s)
SELECT 1"""

# -- loading ---------------------------------------------------------------------


def _bundle(where: str, limit: str) -> str:
    """Checkpoints chosen by ``where`` with the values they read and their writes.

    Rows are ``(kind, id, key, channel, value, seq, versions)``:

    * 0, a checkpoint row (``id`` its checkpoint, ``value`` its header and
      inline values, ``versions`` the triples of ``_rows.versions_array``);
    * 1, a value row (``id`` its version, ``key`` its blob key; ``value`` is
      NULL when there is no such row: the value is inline in checkpoint ``id``);
    * 3, the row of another checkpoint whose inline values are read (as 0);
    * 2, a write (``id`` its checkpoint, ``key`` its task).

    Each row is sent once even when several checkpoints of the page read it.
    Rows are looked up by full primary key (scalar subqueries, and a lateral
    one fenced by ``OFFSET 0``: as joins the planner may scan the whole
    thread instead), so the cost does not grow with the thread's history.
    """
    return f"""
WITH cp AS (
    SELECT checkpoint_id, value, versions FROM {CHECKPOINTS}
    WHERE {_THIS}{where}
    ORDER BY checkpoint_id DESC LIMIT {limit}
), reads AS (
    SELECT t.item AS key, coalesce(nullif(cp.versions[t.n + 1], ''), cp.checkpoint_id) AS version,
        coalesce(nullif(cp.versions[t.n + 2], ''), '0')::integer AS chain
    FROM cp, unnest(cp.versions) WITH ORDINALITY AS t(item, n) WHERE t.n %% 3 = 1
)
SELECT 0 AS kind, checkpoint_id AS id, NULL::text AS key, NULL::text AS channel, value,
    0::bigint AS seq, versions FROM cp
UNION ALL
SELECT 1, need.version, need.key, NULL,
    (SELECT v.value FROM {CHECKPOINTS} AS v WHERE v.thread_id = %(thread_id)s
     AND v.ns = %(ns)s AND v.checkpoint_id = need.version AND v.kind = {VALUE}
     AND v.key = need.key), 0, NULL
FROM (SELECT DISTINCT
          CASE WHEN g.i = 0 THEN r.key ELSE r.key || chr(31) || g.i END AS key, r.version
      FROM reads AS r, generate_series(0, r.chain) AS g(i)) AS need
UNION ALL
SELECT 3, o.version, NULL, NULL,
    (SELECT c.value FROM {CHECKPOINTS} AS c WHERE c.thread_id = %(thread_id)s
     AND c.ns = %(ns)s AND c.checkpoint_id = o.version AND c.kind = {CHECKPOINT}
     AND c.key = ''), 0, NULL
FROM (SELECT version FROM reads EXCEPT SELECT checkpoint_id FROM cp) AS o
UNION ALL
SELECT 2, cp.checkpoint_id, w.task_id, w.channel, w.value, w.seq, NULL
FROM cp CROSS JOIN LATERAL (
    SELECT task_id, channel, value, seq FROM {WRITES}
    WHERE thread_id = %(thread_id)s AND ns = %(ns)s AND checkpoint_id = cp.checkpoint_id
    OFFSET 0) AS w
ORDER BY 1, 6"""


LOAD_LATEST = _bundle("", "1")
LOAD_ONE = _bundle(" AND checkpoint_id = %(checkpoint_id)s", "1")
LOAD_PAGE = _bundle("", "%(size)s")
LOAD_PAGE_BEFORE = _bundle(" AND checkpoint_id < %(before)s", "%(size)s")
LOAD_IDS = _bundle(" AND checkpoint_id = ANY(%(ids)s::text[])", "ALL")

_HEADERS = (
    f"SELECT checkpoint_id, value FROM {CHECKPOINTS} WHERE {_THIS}"
    "{where} ORDER BY checkpoint_id DESC LIMIT %(size)s"
)
HEADERS_PAGE = _HEADERS.format(where="")
HEADERS_PAGE_BEFORE = _HEADERS.format(where=" AND checkpoint_id < %(before)s")
"""Headers only: history with a filter decodes them first and loads only the matches."""

# -- capabilities ----------------------------------------------------------------

ACQUIRE_LEASE = f"""
INSERT INTO {LEASES} (thread_id, owner, expires_at)
VALUES (%(thread_id)s, %(owner)s, now() + %(ttl)s * interval '1 second')
ON CONFLICT (thread_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE {LEASES}.owner = excluded.owner OR {LEASES}.expires_at <= now()
RETURNING owner"""
"""Takes a free or expired lease, or renews one's own; returns no row when another holds it.

Times come from the server's clock, so every process agrees on expiry.
"""

RELEASE_LEASE = f"DELETE FROM {LEASES} WHERE thread_id = %(thread_id)s AND owner = %(owner)s"

RECALL_REQUEST = (
    f"SELECT checkpoint_id FROM {REQUESTS} WHERE thread_id = %(thread_id)s AND key = %(key)s"
)
REMEMBER_REQUEST = (
    f"INSERT INTO {REQUESTS} (thread_id, key, checkpoint_id) "
    "VALUES (%(thread_id)s, %(key)s, %(checkpoint_id)s) ON CONFLICT DO NOTHING"
)

LIST_THREADS = f"""
WITH RECURSIVE t(thread_id) AS (
    (SELECT thread_id FROM {CHECKPOINTS} ORDER BY thread_id LIMIT 1)
    UNION ALL
    SELECT (SELECT c.thread_id FROM {CHECKPOINTS} AS c WHERE c.thread_id > t.thread_id
            ORDER BY c.thread_id LIMIT 1)
    FROM t WHERE t.thread_id IS NOT NULL
)
SELECT thread_id FROM t WHERE thread_id IS NOT NULL"""
"""Distinct thread ids by skipping through the primary key: one index probe per thread."""

PRUNE = f"""
WITH RECURSIVE ranked AS (
    SELECT ns, checkpoint_id,
        row_number() OVER (PARTITION BY ns ORDER BY checkpoint_id DESC) AS newest
    FROM {CHECKPOINTS} WHERE thread_id = %(thread_id)s AND kind = {CHECKPOINT}
), kept(ns, checkpoint_id) AS (
    SELECT ns, checkpoint_id FROM ranked WHERE newest <= %(keep)s
    UNION
    SELECT c.ns, v.version FROM kept AS k
    JOIN {CHECKPOINTS} AS c ON c.thread_id = %(thread_id)s AND c.ns = k.ns
        AND c.checkpoint_id = k.checkpoint_id AND c.kind = {CHECKPOINT} AND c.key = ''
    CROSS JOIN unnest(c.versions) WITH ORDINALITY AS v(version, n)
    WHERE v.n %% 3 = 2 AND v.version <> ''
), doomed AS (
    SELECT r.ns, r.checkpoint_id FROM ranked AS r WHERE r.newest > %(keep)s
    AND NOT EXISTS (SELECT 1 FROM kept AS k WHERE k.ns = r.ns AND k.checkpoint_id = r.checkpoint_id)
), gone AS (
    DELETE FROM {CHECKPOINTS} AS c USING doomed AS d
    WHERE c.thread_id = %(thread_id)s AND c.ns = d.ns AND c.checkpoint_id = d.checkpoint_id
    RETURNING c.kind
), gone_writes AS (
    DELETE FROM {WRITES} AS w USING doomed AS d
    WHERE w.thread_id = %(thread_id)s AND w.ns = d.ns AND w.checkpoint_id = d.checkpoint_id
)
SELECT count(*) FROM gone WHERE kind = {CHECKPOINT}"""
"""Deletes all but the newest ``keep`` checkpoints per namespace, except those whose values
a kept checkpoint reads, transitively (kept ones must load too), as the in-memory saver does;
returns how many were deleted. A checkpoint's rows go with it: its values, and the chunks
appended to its snapshots."""
