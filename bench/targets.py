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
            ``value``, in the workload's unit (ns or bytes).
        value: The threshold.
        unit: Unit of a ``"max"`` threshold: ``"ns"`` or ``"B"``.
    """

    kind: Literal["speedup", "max"]
    value: float
    unit: str = "ns"


TARGETS: dict[str, Target] = {
    "node_step_none": Target("speedup", 10),
    "node_step_memory": Target("speedup", 10),
    "node_step_sqlite": Target("speedup", 10),
    "fanout_50": Target("speedup", 5),
    "get_state": Target("speedup", 5),
    "update_state": Target("speedup", 5),
    "import": Target("max", 50e6),
    "interrupt_cycle_memory": Target("speedup", 10),
    "interrupt_cycle_sqlite": Target("speedup", 10),
    "breakpoint_cycle_memory": Target("speedup", 10),
    "breakpoint_cycle_sqlite": Target("speedup", 10),
    "paused_thread_memory": Target("max", 1024, "B"),
}
