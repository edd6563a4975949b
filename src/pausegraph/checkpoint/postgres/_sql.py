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

import functools

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
    "LOAD_LATEST_LEASED",
    "LOAD_ONE",
    "LOAD_ONE_LEASED",
    "LOAD_PAGE",
    "LOAD_PAGE_BEFORE",
    "META",
    "PRUNE",
    "RECALL_REQUEST",
    "RELEASE_LEASE",
    "REMEMBER_REQUEST",
    "REQUESTS",
    "SAVE",
    "SAVE_MANY",
    "SAVE_MANY_MIDRUN",
    "SAVE_MANY_RELEASED",
    "SAVE_MANY_WRITES",
    "SAVE_MANY_WRITES_MIDRUN",
    "SAVE_MANY_WRITES_RELEASED",
    "SAVE_MIDRUN",
    "SAVE_RELEASED",
    "SAVE_WRITES",
    "SAVE_WRITES_RELEASED",
    "VALUE",
    "WAITING",
    "WRITES",
    "save_statement",
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

_SAVED = f"""saved AS (
    INSERT INTO {CHECKPOINTS} (thread_id, ns, checkpoint_id, kind, key, value, versions)
    VALUES (%(thread_id)s, %(ns)s, %(checkpoint_id)s, {CHECKPOINT}, '', %(value)s,
        %(versions)s::text[])
    ON CONFLICT (thread_id, ns, checkpoint_id, kind, key) DO UPDATE SET
        value = excluded.value, versions = excluded.versions
)"""
_CHANGED = f"""changed AS (
    INSERT INTO {CHECKPOINTS} (thread_id, ns, checkpoint_id, kind, key, value)
    SELECT %(thread_id)s::text, %(ns)s::text, b.version, {VALUE}, b.key, b.value
    FROM unnest(%(blob_keys)s::text[], %(blob_versions)s::text[], %(blob_values)s::bytea[])
        AS b(key, version, value)
    ON CONFLICT (thread_id, ns, checkpoint_id, kind, key) DO UPDATE SET value = excluded.value
)"""
_PARENT_WRITES = f"""parent_writes AS ({
    _UPSERT_WRITES.format(exists=f"{CHECKPOINTS} WHERE {_THIS} AND checkpoint_id = %(target)s")
}
)"""
_MOVED_ON = f"""moved_on AS (
    DELETE FROM {WAITING} WHERE thread_id = %(thread_id)s AND %(ns)s::text = ''
)"""


def _save(*, blobs: bool, writes: bool) -> str:
    parts = [_SAVED, *([_CHANGED] if blobs else []), *([_PARENT_WRITES] if writes else [])]
    return "\nWITH " + ", ".join([*parts, _MOVED_ON]) + "\nSELECT 1"


SAVE = _save(blobs=True, writes=True)
"""Checkpoint, changed values, the parent's writes (if the parent exists), index upkeep.

:func:`save_statement` leaves out the parts a save has nothing for.
"""


def _without_flush(statement: str) -> str:
    """``statement`` (``WITH ... SELECT 1``) committing without waiting for the WAL flush."""
    flagged = statement.replace(
        "WITH ", "WITH no_flush AS (SELECT set_config('synchronous_commit', 'off', true)), ", 1
    )
    # no_flush is referenced, so the setting is applied
    return flagged.removesuffix("\nSELECT 1") + "\nSELECT count(*) FROM no_flush"


SAVE_MIDRUN = _without_flush(SAVE)
""":data:`SAVE` committing without waiting for the WAL flush (a save mid-run; see ``_ops.save``)."""

_WAITING_SET = f"""waiting_set AS (
    INSERT INTO {WAITING} (thread_id, checkpoint_id, graph, paused_at, metadata, entry)
    SELECT %(thread_id)s::text, %(target)s::text, %(w_graph)s::text, %(w_paused_at)s::text,
        %(w_metadata)s::jsonb, %(w_entry)s::bytea
    WHERE %(w_entry)s::bytea IS NOT NULL{{exists}}
    ON CONFLICT (thread_id) DO UPDATE SET checkpoint_id = excluded.checkpoint_id,
        graph = excluded.graph, paused_at = excluded.paused_at,
        metadata = excluded.metadata, entry = excluded.entry
)"""
# Sets the waiting-index entry a pause's writes carry (``w_*``, see ``_inbox.waiting_params``).

SAVE_WRITES = f"""
WITH target AS (
    SELECT 1 FROM {CHECKPOINTS} WHERE {_THIS} AND checkpoint_id = %(target)s
), task_writes AS ({_UPSERT_WRITES.format(exists="target")}
), {_WAITING_SET.format(exists=" AND EXISTS (SELECT 1 FROM target)")}, waiting_clear AS (
    DELETE FROM {WAITING}
    WHERE thread_id = %(thread_id)s AND %(w_clear)s::boolean AND EXISTS (SELECT 1 FROM target)
)
SELECT count(*) FROM target"""
"""Task writes and the waiting-index entry; returns 0 (nothing written) without the checkpoint."""

_SAVE_MANY_BODY = f"""saved AS (
    INSERT INTO {CHECKPOINTS} (thread_id, ns, checkpoint_id, kind, key, value, versions)
    SELECT %(thread_id)s, %(ns)s, c.checkpoint_id, {CHECKPOINT}, '', c.value, c.versions::text[]
    FROM unnest((SELECT %(ids)s::text[]), (SELECT %(checkpoint_values)s::bytea[]),
        (SELECT %(versions)s::text[])) AS c(checkpoint_id, value, versions)
    ON CONFLICT (thread_id, ns, checkpoint_id, kind, key) DO UPDATE SET
        value = excluded.value, versions = excluded.versions
), changed AS (
    INSERT INTO {CHECKPOINTS} (thread_id, ns, checkpoint_id, kind, key, value)
    SELECT %(thread_id)s::text, %(ns)s::text, b.version, {VALUE}, b.key, b.value
    FROM unnest((SELECT %(blob_keys)s::text[]), (SELECT %(blob_versions)s::text[]),
        (SELECT %(blob_values)s::bytea[])) AS b(key, version, value)
    ON CONFLICT (thread_id, ns, checkpoint_id, kind, key) DO UPDATE SET value = excluded.value
), parent_writes AS (
    INSERT INTO {WRITES} (thread_id, ns, checkpoint_id, task_id, channel, value)
    SELECT %(thread_id)s::text, %(ns)s::text, w.target, w.task_id, w.channel, w.value
    FROM unnest((SELECT %(targets)s::text[]), (SELECT %(tasks)s::text[]),
        (SELECT %(channels)s::text[]), (SELECT %(values)s::bytea[]))
        WITH ORDINALITY AS w(target, task_id, channel, value, ord)
    WHERE w.target = ANY(%(ids)s::text[])
        OR (SELECT true FROM {CHECKPOINTS} WHERE {_THIS} AND checkpoint_id = w.target)
    ORDER BY w.ord
    ON CONFLICT (thread_id, ns, checkpoint_id, task_id, channel)
    DO UPDATE SET value = excluded.value
)"""
# The checkpoints, their changed values and the writes (``targets``...) of SAVE_MANY.

SAVE_MANY = f"""
WITH {_SAVE_MANY_BODY}, moved_on AS (
    DELETE FROM {WAITING} WHERE thread_id = %(thread_id)s AND %(ns)s::text = ''
)
SELECT 1"""
"""Several checkpoints of one thread and namespace, oldest first, as :data:`SAVE` each.

Per-checkpoint arrays travel as arrays of array literals. Each array is
behind a scalar subquery, so the planner does not see its length: without
that, every custom plan looked cheaper than the generic one (which assumes
100 rows) and PostgreSQL planned the statement afresh on every execution,
doubling its cost. A parent's writes
may target a checkpoint of the same statement, which its own snapshot cannot
see (hence the ``ANY``); others are looked up by primary key, one probe each
(a scalar subquery: an ``EXISTS`` here may be planned as a hash of the whole
thread's checkpoints).
"""

SAVE_MANY_WRITES = f"""
WITH {_SAVE_MANY_BODY}, {_WAITING_SET.format(exists="")}, moved_on AS (
    DELETE FROM {WAITING} WHERE thread_id = %(thread_id)s
        AND (%(ns)s::text = '' OR %(w_clear)s::boolean) AND %(w_entry)s::bytea IS NULL
)
SELECT 1"""
"""A :data:`SAVE_MANY` whose last checkpoint's task writes (``%(target)s``) follow it.

The writes travel with the parents' writes (their checkpoint is one of
``ids``); the waiting index ends as :data:`SAVE_MANY` then :data:`SAVE_WRITES`
leave it: the pause's entry set, or the previous one removed (one statement
must not delete and upsert the same row, hence the one ``moved_on``).
"""

_RELEASE = f"""released AS (
    UPDATE {LEASES} SET owner = '', expires_at = '-infinity', epoch = epoch + 1
    WHERE thread_id = %(thread_id)s AND owner = %(owner)s
), """
# A lease row is never deleted while it may matter (only free ones, with their
# thread): every change bumps ``epoch``, which is how a leased load knows that
# its snapshot saw the previous holder's last write (see _LEASED_LOAD).


def _releasing(statement: str) -> str:
    """``statement`` (a ``WITH`` statement) also giving back ``%(owner)s``'s lease."""
    return statement.replace("WITH ", "WITH " + _RELEASE, 1)


SAVE_MANY_MIDRUN = _without_flush(SAVE_MANY)
""":data:`SAVE_MANY` committing without waiting for the WAL flush."""

SAVE_MANY_RELEASED = _releasing(SAVE_MANY)
""":data:`SAVE_MANY` that also gives the run's lease back."""

SAVE_MANY_WRITES_MIDRUN = _without_flush(SAVE_MANY_WRITES)
""":data:`SAVE_MANY_WRITES` committing without waiting for the WAL flush."""

SAVE_MANY_WRITES_RELEASED = _releasing(SAVE_MANY_WRITES)
""":data:`SAVE_MANY_WRITES` that also gives the run's lease back."""

SAVE_RELEASED = _releasing(SAVE)
""":data:`SAVE` that also gives the run's lease back, in the same transaction."""

SAVE_WRITES_RELEASED = _releasing(SAVE_WRITES)
""":data:`SAVE_WRITES` that also gives the run's lease back, in the same transaction."""


@functools.cache
def save_statement(*, blobs: bool, writes: bool, flush: bool, release: bool) -> str:
    """:data:`SAVE` without the parts a save has nothing for, committed and finished as asked.

    An empty ``unnest`` still costs its ``INSERT`` a plan node and an index
    check: a mid-run save of a step that changed only small values (kept in
    the checkpoint row) and whose writes are folded into it takes ~25% less
    server time without them.

    Args:
        blobs: Some values need rows of their own (``blob_keys`` is not empty).
        writes: The parent has writes to store (``tasks`` is not empty).
        flush: Wait for the WAL flush (the run's last write); else :func:`_without_flush`.
        release: Also give back ``%(owner)s``'s lease (see :func:`_releasing`).
    """
    statement = _save(blobs=blobs, writes=writes)
    if release:
        return _releasing(statement)
    return statement if flush else _without_flush(statement)


DELETE_THREAD = f"""
WITH w AS (DELETE FROM {WRITES} WHERE thread_id = %(thread_id)s),
c AS (DELETE FROM {CHECKPOINTS} WHERE thread_id = %(thread_id)s),
i AS (DELETE FROM {WAITING} WHERE thread_id = %(thread_id)s),
r AS (DELETE FROM {REQUESTS} WHERE thread_id = %(thread_id)s),
l AS (DELETE FROM {LEASES} WHERE thread_id = %(thread_id)s AND expires_at <= now())
SELECT 1"""
"""Everything of the thread; its lease only when no run holds it."""

# -- loading ---------------------------------------------------------------------


_LEASED_LOAD = f"""seen AS (
    SELECT epoch FROM {LEASES} WHERE thread_id = %(thread_id)s
), took AS (
    INSERT INTO {LEASES} (thread_id, owner, expires_at, epoch)
    VALUES (%(thread_id)s, %(owner)s, now() + %(ttl)s * interval '1 second', 1)
    ON CONFLICT (thread_id) DO UPDATE SET owner = excluded.owner,
        expires_at = excluded.expires_at, epoch = {LEASES}.epoch + 1
    WHERE {LEASES}.owner = excluded.owner OR {LEASES}.expires_at <= now()
    RETURNING epoch
), """
# The statement's snapshot predates its lease update. If the lease row changed
# in between (the previous holder gave it back after the snapshot was taken),
# the snapshot may miss that holder's last write: the status row says 'stale'
# and the caller loads again, with a fresh snapshot, now that it holds the lease.
_LEASE_STATUS = """SELECT -1 AS kind, CASE
        WHEN NOT EXISTS (SELECT 1 FROM took) THEN 'busy'
        WHEN (SELECT epoch FROM took) = coalesce((SELECT epoch FROM seen), 0) + 1 THEN 'ok'
        ELSE 'stale' END AS id,
    NULL::text AS key, NULL::text AS channel, NULL::bytea AS value, 0::bigint AS seq,
    NULL::text[] AS versions
UNION ALL
"""


def _bundle(where: str, limit: str, *, leased: bool = False) -> str:
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

    ``leased`` also takes the thread's lease for ``%(owner)s`` (see
    :data:`LOAD_LATEST_LEASED`); the first row (kind -1) then tells how that went.
    """
    lease, gate = (_LEASED_LOAD, " AND EXISTS (SELECT 1 FROM took)") if leased else ("", "")
    status = _LEASE_STATUS if leased else ""
    return f"""
WITH {lease}cp AS (
    SELECT checkpoint_id, value, versions FROM {CHECKPOINTS}
    WHERE {_THIS}{where}{gate}
    ORDER BY checkpoint_id DESC LIMIT {limit}
), reads AS (
    SELECT t.item AS key, coalesce(nullif(cp.versions[t.n + 1], ''), cp.checkpoint_id) AS version,
        coalesce(nullif(cp.versions[t.n + 2], ''), '0')::integer AS chain
    FROM cp, unnest(cp.versions) WITH ORDINALITY AS t(item, n) WHERE t.n %% 3 = 1
)
{status}SELECT 0 AS kind, checkpoint_id AS id, NULL::text AS key, NULL::text AS channel, value,
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
LOAD_LATEST_LEASED = _bundle("", "1", leased=True)
"""Takes the thread's lease (as :data:`ACQUIRE_LEASE`) and loads, in one statement.

The first row is ``(-1, status, ...)``: ``'busy'`` (another run holds the
lease; nothing loaded), ``'ok'`` (the rows after it are the load), or
``'stale'`` (the lease is taken but the load may predate the previous
holder's last write: load again).
"""
LOAD_ONE_LEASED = _bundle(" AND checkpoint_id = %(checkpoint_id)s", "1", leased=True)
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
INSERT INTO {LEASES} (thread_id, owner, expires_at, epoch)
VALUES (%(thread_id)s, %(owner)s, now() + %(ttl)s * interval '1 second', 1)
ON CONFLICT (thread_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
    epoch = {LEASES}.epoch + 1
WHERE {LEASES}.owner = excluded.owner OR {LEASES}.expires_at <= now()
RETURNING owner"""
"""Takes a free or expired lease, or renews one's own; returns no row when another holds it.

Times come from the server's clock, so every process agrees on expiry.
"""

RELEASE_LEASE = _RELEASE.removeprefix("released AS (").removesuffix("), ")
"""Frees the lease if ``%(owner)s`` holds it (the row stays, its ``epoch`` bumped)."""

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
