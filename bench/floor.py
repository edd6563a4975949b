"""What one round trip to each server costs on this machine: the floor under the storage rows.

The Postgres and Redis rows are bound by round trips, not by Python: a run
must wait for each statement its durability says to wait for. These figures
(medians of plain driver calls, no pausegraph or LangGraph involved) say what
one such wait costs here, so a ratio can be read against the machine: on a
VM where waking another process takes 100 µs, no library stores ten
checkpoints one by one in less than a millisecond.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Callable
from time import perf_counter_ns

from bench.registry import Skip
from bench.report import fmt_value
from bench.stores import postgres_schema, redis_prefix

ROUNDS = 300


def _median_ns(op: Callable[[], object], rounds: int = ROUNDS) -> float:
    for _ in range(rounds // 10):  # warm up: connections, prepared plans, caches
        op()
    samples = []
    for _ in range(rounds):
        start = perf_counter_ns()
        op()
        samples.append(perf_counter_ns() - start)
    return statistics.median(samples)


def postgres() -> dict[str, float]:
    """``SELECT 1``, and a one-row ``INSERT`` that commits and waits for the WAL flush."""
    import psycopg

    with postgres_schema() as (conninfo, _), psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE floor_probe (id text PRIMARY KEY)")
        return {
            "postgres SELECT 1": _median_ns(lambda: conn.execute("SELECT 1").fetchall()),
            "postgres INSERT + flushed COMMIT": _median_ns(
                lambda: conn.execute("INSERT INTO floor_probe VALUES (%s)", (uuid.uuid4().hex,))
            ),
        }


def redis() -> dict[str, float]:
    """``PING`` through redis-py (with hiredis when installed)."""
    import redis as redis_py

    from bench.stores import REDIS_URL

    with redis_prefix():
        client = redis_py.Redis.from_url(REDIS_URL)
        try:
            return {"redis PING": _median_ns(client.ping)}
        finally:
            client.close()


def measure(names: list[str]) -> dict[str, float]:
    """The floors of the servers the rows ``names`` use; a server that is down is left out."""
    found: dict[str, float] = {}
    for server, probe in (("postgres", postgres), ("redis", redis)):
        if any(server in name for name in names):
            try:
                found.update(probe())
            except (Skip, ImportError):  # down, or its driver is not installed
                continue
    return found


def describe(floors: dict[str, float]) -> str:
    """The floors as lines under a heading; ``""`` when there are none."""
    if not floors:
        return ""
    width = max(len(name) for name in floors)
    lines = ["round trips on this machine (medians, driver alone)"]
    lines += [f"  {name:<{width}}  {fmt_value(ns, 'ns'):>9}" for name, ns in floors.items()]
    return "\n".join(lines)
