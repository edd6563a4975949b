"""Timing harness: warmup, batches sized to a target duration, medians."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter_ns

from bench.results import Measurement

Batch = Callable[[int], int]
"""Runs an operation ``n`` times and returns the elapsed ns of just those runs."""


@dataclass(frozen=True)
class Opts:
    """Repetition settings shared by all workloads.

    Attributes:
        reps: Timed samples per workload; the median is reported.
        sample_ns: Aim for each sample to last about this long (batches ops).
        warmup_ns: Minimum warmup duration before sampling.
        paused_threads: Threads paused by the memory workload.
        import_runs: Fresh interpreters started per import measurement.
    """

    reps: int
    sample_ns: int
    warmup_ns: int
    paused_threads: int
    import_runs: int

    @classmethod
    def create(cls, quick: bool) -> Opts:
        """Returns the default settings, or fewer repetitions when ``quick``."""
        if quick:
            return cls(
                reps=7, sample_ns=2_000_000, warmup_ns=50_000_000, paused_threads=500, import_runs=3
            )
        return cls(
            reps=25, sample_ns=5_000_000, warmup_ns=200_000_000, paused_threads=2000, import_runs=7
        )


def loop(op: Callable[[], object]) -> Batch:
    """Wraps a no-argument operation as a :data:`Batch`."""

    def batch(n: int) -> int:
        start = perf_counter_ns()
        for _ in range(n):
            op()
        return perf_counter_ns() - start

    return batch


def per_op(batch: Batch, opts: Opts, *, divisor: int = 1, max_inner: int = 1 << 20) -> Measurement:
    """Measures the median time of one operation.

    Warms up for at least three calls and ``opts.warmup_ns``, sizes batches so a
    sample lasts about ``opts.sample_ns``, then takes ``opts.reps`` samples.

    Args:
        batch: Runs the operation ``n`` times, returning elapsed ns.
        opts: Repetition settings.
        divisor: Units per operation (e.g. node steps per invoke); each sample is
            divided by it.
        max_inner: Upper bound on operations per sample.

    Returns:
        Per-unit nanoseconds; the value is the median sample.
    """
    spent, calls, fastest = 0, 0, 1 << 62
    while calls < 3 or spent < opts.warmup_ns:
        elapsed = batch(1)
        spent, calls, fastest = spent + elapsed, calls + 1, min(fastest, elapsed)
    inner = max(1, min(max_inner, opts.sample_ns // max(1, fastest)))
    gc.collect()
    samples = [batch(inner) / inner / divisor for _ in range(opts.reps)]
    return Measurement.of(samples, "ns", inner)
