"""The workloads, written once and parametrized by the implementation.

This module holds the timing workloads on the in-process and SQLite savers and
their PostgreSQL and Redis variants; :mod:`bench.workloads_storage` and
:mod:`bench.workloads_async` add theirs to the same registry
(:mod:`bench.registry`), which importing this module fills.
"""

from __future__ import annotations

import gc
import os
import re
import statistics
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any

from bench import workloads_async, workloads_storage
from bench.graphs import LINEAR_STEPS, Lib, ask_graph, fanout_graph, linear_graph, threads
from bench.registry import WORKLOADS, Skip, WrongResult, expect, workload
from bench.results import Measurement
from bench.stores import Saver, checkpointer
from bench.timing import Opts, loop, per_op

__all__ = ["WORKLOADS", "Skip", "WrongResult", "workloads_async", "workloads_storage"]

FANOUT_WIDTH = 50
UPDATES_PER_THREAD = 20
PAUSE_WARMUP = 50


def _node_step(
    lib: Lib, opts: Opts, saver_kind: Saver, durability: str | None = None
) -> Measurement:
    run: dict[str, Any] = {} if durability is None else {"durability": durability}
    with checkpointer(lib, saver_kind) as saver:
        graph = linear_graph(lib, saver)
        configs = threads()
        expect(graph.invoke({"x": 0}, next(configs), **run)["x"] == LINEAR_STEPS, "x == 10")
        return per_op(
            loop(lambda: graph.invoke({"x": 0}, next(configs), **run)), opts, divisor=LINEAR_STEPS
        )


@workload("node_step_none")
def node_step_none(lib: Lib, opts: Opts) -> Measurement:
    """Time per node step of a 10-node linear graph without a checkpointer."""
    return _node_step(lib, opts, "none")


@workload("node_step_memory")
def node_step_memory(lib: Lib, opts: Opts) -> Measurement:
    """Time per node step of the linear graph with InMemorySaver, new thread per invoke."""
    return _node_step(lib, opts, "memory")


@workload("node_step_sqlite")
def node_step_sqlite(lib: Lib, opts: Opts) -> Measurement:
    """Time per node step of the linear graph with a file SqliteSaver, new thread per invoke."""
    return _node_step(lib, opts, "sqlite")


@workload("node_step_postgres")
def node_step_postgres(lib: Lib, opts: Opts) -> Measurement:
    """Time per node step of the linear graph with PostgresSaver, new thread per invoke."""
    return _node_step(lib, opts, "postgres")


@workload("node_step_redis")
def node_step_redis(lib: Lib, opts: Opts) -> Measurement:
    """Time per node step of the linear graph with RedisSaver, new thread per invoke."""
    return _node_step(lib, opts, "redis")


@workload("fanout_50")
def fanout_50(lib: Lib, opts: Opts) -> Measurement:
    """Time of one invoke fanning out 50 ``Send`` tasks, no checkpointer."""
    graph = fanout_graph(lib, FANOUT_WIDTH)
    items = graph.invoke({"items": []})["items"]
    expect(sorted(items) == list(range(FANOUT_WIDTH)), "items == [0..49]")
    return per_op(loop(lambda: graph.invoke({"items": []})), opts)


@workload("get_state")
def get_state(lib: Lib, opts: Opts) -> Measurement:
    """Latency of ``get_state`` on a finished 10-node thread (InMemorySaver)."""
    with checkpointer(lib, "memory") as saver:
        graph = linear_graph(lib, saver)
        config = next(threads())
        graph.invoke({"x": 0}, config)
        expect(graph.get_state(config).values == {"x": LINEAR_STEPS}, "values == {'x': 10}")
        return per_op(loop(lambda: graph.get_state(config)), opts)


@workload("update_state")
def update_state(lib: Lib, opts: Opts) -> Measurement:
    """Latency of ``update_state(config, {"x": 1})`` on a finished 10-node thread.

    Each sample uses a fresh thread and at most 20 updates, so the thread's
    history stays short (LangGraph's InMemorySaver finds the latest checkpoint in
    time linear in the history).
    """
    with checkpointer(lib, "memory") as saver:
        graph = linear_graph(lib, saver)
        configs = threads()

        def batch(n: int) -> int:
            config = next(configs)
            graph.invoke({"x": 0}, config)
            start = perf_counter_ns()
            for _ in range(n):
                graph.update_state(config, {"x": 1})
            return perf_counter_ns() - start

        config = next(configs)
        graph.invoke({"x": 0}, config)
        graph.update_state(config, {"x": 1})
        expect(graph.get_state(config).values == {"x": 1}, "values == {'x': 1} after update")
        return per_op(batch, opts, max_inner=UPDATES_PER_THREAD)


def _cycle(
    lib: Lib, opts: Opts, saver_kind: Saver, *, breakpoint: bool, durability: str | None = None
) -> Measurement:
    resume: Any = None if breakpoint else lib.get("types", "Command")(resume="yes")
    run: dict[str, Any] = {} if durability is None else {"durability": durability}
    with checkpointer(lib, saver_kind) as saver:
        graph = ask_graph(lib, saver, breakpoint=breakpoint)
        configs = threads()

        def cycle() -> Any:
            config = next(configs)
            graph.invoke({"answer": ""}, config, **run)
            return graph.invoke(resume, config, **run)

        config = next(configs)
        graph.invoke({"answer": ""}, config, **run)
        expect(tuple(graph.get_state(config).next) == ("ask",), "paused before 'ask'")
        answer = graph.invoke(resume, config, **run)["answer"]
        expect(answer == "yes", "answer == 'yes' after resume")
        return per_op(loop(cycle), opts)


@workload("interrupt_cycle_memory")
def interrupt_cycle_memory(lib: Lib, opts: Opts) -> Measurement:
    """One ``interrupt()`` pause + ``Command(resume=...)`` on a new thread, InMemorySaver."""
    return _cycle(lib, opts, "memory", breakpoint=False)


@workload("interrupt_cycle_sqlite")
def interrupt_cycle_sqlite(lib: Lib, opts: Opts) -> Measurement:
    """One ``interrupt()`` pause + ``Command(resume=...)`` on a new thread, SqliteSaver."""
    return _cycle(lib, opts, "sqlite", breakpoint=False)


@workload("interrupt_cycle_postgres")
def interrupt_cycle_postgres(lib: Lib, opts: Opts) -> Measurement:
    """One ``interrupt()`` pause + ``Command(resume=...)`` on a new thread, PostgresSaver."""
    return _cycle(lib, opts, "postgres", breakpoint=False)


@workload("interrupt_cycle_redis")
def interrupt_cycle_redis(lib: Lib, opts: Opts) -> Measurement:
    """One ``interrupt()`` pause + ``Command(resume=...)`` on a new thread, RedisSaver."""
    return _cycle(lib, opts, "redis", breakpoint=False)


@workload("breakpoint_cycle_memory")
def breakpoint_cycle_memory(lib: Lib, opts: Opts) -> Measurement:
    """One ``interrupt_before`` pause + ``invoke(None)`` on a new thread, InMemorySaver."""
    return _cycle(lib, opts, "memory", breakpoint=True)


@workload("breakpoint_cycle_sqlite")
def breakpoint_cycle_sqlite(lib: Lib, opts: Opts) -> Measurement:
    """One ``interrupt_before`` pause + ``invoke(None)`` on a new thread, SqliteSaver."""
    return _cycle(lib, opts, "sqlite", breakpoint=True)


# Both libraries with durability="async" (LangGraph's default): mid-run
# checkpoints may be stored after the next step starts; what a run returns or
# pauses on is stored before invoke returns.


@workload("node_step_postgres_async")
def node_step_postgres_async(lib: Lib, opts: Opts) -> Measurement:
    """``node_step_postgres`` with ``durability="async"`` on both sides."""
    return _node_step(lib, opts, "postgres", durability="async")


@workload("node_step_redis_async")
def node_step_redis_async(lib: Lib, opts: Opts) -> Measurement:
    """``node_step_redis`` with ``durability="async"``."""
    return _node_step(lib, opts, "redis", durability="async")


@workload("interrupt_cycle_postgres_async")
def interrupt_cycle_postgres_async(lib: Lib, opts: Opts) -> Measurement:
    """``interrupt_cycle_postgres`` with ``durability="async"`` on both sides."""
    return _cycle(lib, opts, "postgres", breakpoint=False, durability="async")


@workload("interrupt_cycle_redis_async")
def interrupt_cycle_redis_async(lib: Lib, opts: Opts) -> Measurement:
    """``interrupt_cycle_redis`` with ``durability="async"``."""
    return _cycle(lib, opts, "redis", breakpoint=False, durability="async")


def _rss_bytes() -> int:
    """Returns this process's resident set size (Linux ``/proc``), or 0 if unknown."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _growth_per_paused_thread(lib: Lib, count: int, probe: Callable[[], int]) -> float:
    """Pauses ``count`` new threads at ``interrupt()``; returns ``probe()`` growth per thread.

    A fresh InMemorySaver first pauses 50 warmup threads, then the baseline is taken.
    """
    with checkpointer(lib, "memory") as saver:
        graph = ask_graph(lib, saver)
        configs = threads()
        config = next(configs)
        graph.invoke({"answer": ""}, config)
        expect(tuple(graph.get_state(config).next) == ("ask",), "paused at 'ask'")
        for _ in range(PAUSE_WARMUP):
            graph.invoke({"answer": ""}, next(configs))
        gc.collect()
        before = probe()
        for _ in range(count):
            graph.invoke({"answer": ""}, next(configs))
        gc.collect()
        return (probe() - before) / count


@workload("paused_thread_memory")
def paused_thread_memory(lib: Lib, opts: Opts) -> Measurement:
    """Bytes retained per thread paused at ``interrupt()`` in InMemorySaver.

    The value is measured with tracemalloc (traced Python allocations still
    alive). RSS growth, measured in a first pass without tracing, goes in
    ``extra["rss_bytes"]``: it also counts allocator overhead and fragmentation,
    and is coarse (arenas, pages).
    """
    rss = _growth_per_paused_thread(lib, opts.paused_threads, _rss_bytes)
    tracemalloc.start()
    try:
        traced = _growth_per_paused_thread(
            lib, opts.paused_threads, lambda: tracemalloc.get_traced_memory()[0]
        )
    finally:
        tracemalloc.stop()
    extra = {"rss_bytes": rss, "threads": opts.paused_threads}
    return Measurement.of([traced], "B", opts.paused_threads, extra)


def _spawn_ns(code: str) -> int:
    """Runs ``python -c code`` in a fresh interpreter and returns its wall time in ns.

    Raises:
        ImportError: If the interpreter exits with an error (its last stderr line).
    """
    # Bytecode is written on the warm-up run, as a pip-installed package has it:
    # without this an editable checkout would be timed compiling its sources.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = perf_counter_ns()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = perf_counter_ns() - start
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        _, sep, message = last.partition("Error: ")
        raise ImportError(re.sub(r" \(\S+\)$", "", message if sep else last))
    return elapsed


@workload("import")
def import_time(lib: Lib, opts: Opts) -> Measurement:
    """Time of ``from <prefix>.graph import StateGraph`` in a fresh interpreter, minus startup.

    Bare and importing interpreters alternate; the first pair only warms the
    bytecode and OS caches.
    """
    bare: list[int] = []
    loaded: list[int] = []
    for i in range(opts.import_runs + 1):
        b, t = _spawn_ns("pass"), _spawn_ns(f"from {lib.prefix}.graph import StateGraph")
        if i:
            bare.append(b)
            loaded.append(t)
    baseline = statistics.median(bare)
    return Measurement.of([t - baseline for t in loaded], "ns")
