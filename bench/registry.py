"""The workload registry, shared by every workload module.

A workload is a function ``(lib, opts) -> Measurement`` registered under its
name with :func:`workload`; its target lives in :data:`bench.targets.TARGETS`.
It should check once, untimed, that the implementation computes the right
result (:func:`expect`), so a fast but wrong implementation cannot pass.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.graphs import Lib
from bench.results import Measurement
from bench.timing import Opts

Workload = Callable[[Lib, Opts], Measurement]
WORKLOADS: dict[str, Workload] = {}


class WrongResult(AssertionError):
    """The implementation returned something other than what LangGraph returns."""


class Skip(Exception):
    """Raised by a workload that cannot run here (e.g. a service is missing)."""


def workload(name: str) -> Callable[[Workload], Workload]:
    """Registers the decorated function as the workload ``name``."""

    def register(fn: Workload) -> Workload:
        WORKLOADS[name] = fn
        return fn

    return register


def expect(ok: bool, what: str) -> None:
    """Raises :class:`WrongResult` describing ``what`` unless ``ok``."""
    if not ok:
        raise WrongResult(f"wrong result: expected {what}")
