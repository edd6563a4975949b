"""Goals for pausegraph, per workload: the one place to add or change a target.

Adding a workload means writing it in :mod:`bench.workloads` and adding its
target here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Target:
    """What pausegraph must achieve on one workload.

    Attributes:
        kind: ``"speedup"``: the LangGraph/pausegraph ratio of medians must be at
            least ``value``. ``"max"``: pausegraph's own median must be below
            ``value``, in the workload's unit.
        value: The threshold.
        unit: Unit of a ``"max"`` threshold: ``"ns"``, ``"B"``, or ``"x"`` (a ratio).
        baseline: The workload LangGraph runs for this row, when it cannot run the
            row's own (``None``: the row's own).
        compared: ``False`` when LangGraph has nothing comparable to run: its
            cell reads ``n/a``.
        note: Shown as a footnote of the LangGraph cell (say why it is not the
            row's own workload).
    """

    kind: Literal["speedup", "max"]
    value: float
    unit: str = "ns"
    baseline: str | None = None
    compared: bool = True
    note: str = ""


VS_POSTGRES = "vs LangGraph PostgresSaver: stock Redis cannot run LangGraph's Redis saver"
NO_REDIS = "LangGraph's Redis saver needs RediSearch and RedisJSON, which stock Redis lacks"


TARGETS: dict[str, Target] = {
    "node_step_none": Target("speedup", 10),
    "node_step_memory": Target("speedup", 10),
    "node_step_sqlite": Target("speedup", 10),
    "node_step_postgres": Target("speedup", 10),
    "node_step_redis": Target("speedup", 10, baseline="node_step_postgres", note=VS_POSTGRES),
    "fanout_50": Target("speedup", 5),
    "get_state": Target("speedup", 5),
    "update_state": Target("speedup", 5),
    "import": Target("max", 50e6),
    "interrupt_cycle_memory": Target("speedup", 10),
    "interrupt_cycle_sqlite": Target("speedup", 10),
    "interrupt_cycle_postgres": Target("speedup", 10),
    "interrupt_cycle_redis": Target(
        "speedup", 10, baseline="interrupt_cycle_postgres", note=VS_POSTGRES
    ),
    "breakpoint_cycle_memory": Target("speedup", 10),
    "breakpoint_cycle_sqlite": Target("speedup", 10),
    "paused_thread_memory": Target("max", 1024, "B"),
    "storage_200_steps_sqlite": Target("max", 2, "x"),
    "storage_200_steps_postgres": Target("max", 2, "x"),
    "storage_200_steps_redis": Target("max", 2, "x", compared=False, note=NO_REDIS),
    "async_100_threads_memory": Target("speedup", 10),
    "async_100_threads_sqlite": Target("speedup", 10),
    # The same, both libraries with durability="async" (LangGraph's default).
    "node_step_postgres_async": Target("speedup", 10),
    "node_step_redis_async": Target(
        "speedup", 10, baseline="node_step_postgres_async", note=VS_POSTGRES
    ),
    "interrupt_cycle_postgres_async": Target("speedup", 10),
    "interrupt_cycle_redis_async": Target(
        "speedup", 10, baseline="interrupt_cycle_postgres_async", note=VS_POSTGRES
    ),
}
