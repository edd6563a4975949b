"""Storage workloads: the bytes a store holds for one thread that appended 200 items.

The appending graph (:func:`bench.graphs.appending_graph`) runs 100 steps on a
new thread in a fresh store, then 200 steps in another fresh store; each step
appends one 1,000-character item to ``items: Annotated[list[str], operator.add]``.
The figure is the bytes the run added to the store (after minus just after
``setup()``) at 200 steps, over the raw data (200 x 1,000 = 200,000 characters).
The 100-step figure goes in ``extra`` to show growth: linear storage holds about
twice as much at 200 steps as at 100, storage that copies the whole list every
step about four times as much.
"""

from __future__ import annotations

from bench.graphs import ITEM_CHARS, Lib, appending_graph, item
from bench.registry import expect, workload
from bench.results import Measurement
from bench.stores import Saver, store
from bench.timing import Opts

HALF_STEPS = 100
STEPS = 200


def _stored_bytes(lib: Lib, kind: Saver, steps: int) -> tuple[int, int]:
    """Runs ``steps`` steps on a new thread in a fresh store: (bytes after setup, after the run)."""
    with store(lib, kind) as opened:
        graph = appending_graph(lib, opened.saver, steps)
        empty = opened.size()
        config = {"configurable": {"thread_id": "log"}, "recursion_limit": steps + 10}
        out = graph.invoke({"items": [], "n": 0}, config)
        expect(
            out["n"] == steps and out["items"] == [item(i) for i in range(steps)],
            f"n == {steps} and the {steps} items in order",
        )
        return empty, opened.size()


def _storage(lib: Lib, kind: Saver) -> Measurement:
    empty_half, after_half = _stored_bytes(lib, kind, HALF_STEPS)
    empty, after = _stored_bytes(lib, kind, STEPS)
    half, full = after_half - empty_half, after - empty
    raw = STEPS * ITEM_CHARS
    extra = {
        "bytes_100": half,
        "bytes_200": full,
        "raw_200": raw,
        "empty_bytes": empty,
        "growth": full / half if half > 0 else 0.0,
    }
    return Measurement.of([full / raw], "x", 1, extra)


@workload("storage_200_steps_sqlite")
def storage_200_steps_sqlite(lib: Lib, opts: Opts) -> Measurement:
    """SQLite file growth (after ``wal_checkpoint(TRUNCATE)``) / raw data, 200 steps."""
    return _storage(lib, "sqlite")


@workload("storage_200_steps_postgres")
def storage_200_steps_postgres(lib: Lib, opts: Opts) -> Measurement:
    """Growth of ``pg_total_relation_size`` summed over the schema's tables / raw data."""
    return _storage(lib, "postgres")


@workload("storage_200_steps_redis")
def storage_200_steps_redis(lib: Lib, opts: Opts) -> Measurement:
    """Growth of ``MEMORY USAGE`` summed over the prefix's keys / raw data."""
    return _storage(lib, "redis")
