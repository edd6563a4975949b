"""Concurrency workloads: 100 interrupt/resume conversations at once on one event loop.

Each sample gathers 100 coroutines; each runs cycles, one per new thread:
``await graph.ainvoke(input)`` pauses at an ``async def`` node calling
``interrupt("q?")``, then ``await graph.ainvoke(Command(resume="yes"))``
finishes it. The figure is the sample's wall time per cycle (throughput, in
cycles per second, is its inverse; it is in the JSON as ``extra.cycles_per_s``).
"""

from __future__ import annotations

import asyncio
import itertools
from contextlib import AsyncExitStack
from dataclasses import replace
from time import perf_counter_ns
from typing import Any

from bench.graphs import Lib, ask_graph
from bench.registry import expect, workload
from bench.results import Measurement
from bench.stores import AsyncSaver, async_checkpointer
from bench.timing import Opts, per_op

CONCURRENT_THREADS = 100


def _async_cycles(lib: Lib, opts: Opts, kind: AsyncSaver) -> Measurement:
    resume = lib.get("types", "Command")(resume="yes")
    ids = itertools.count()
    loop = asyncio.new_event_loop()
    try:
        stack = AsyncExitStack()
        saver = loop.run_until_complete(stack.enter_async_context(async_checkpointer(lib, kind)))
        try:
            graph = ask_graph(lib, saver, asynchronous=True)

            async def cycle(check: bool = False) -> None:
                config: dict[str, Any] = {"configurable": {"thread_id": f"a{next(ids)}"}}
                await graph.ainvoke({"answer": ""}, config)
                if check:
                    state = await graph.aget_state(config)
                    expect(tuple(state.next) == ("ask",), "paused at 'ask'")
                out = await graph.ainvoke(resume, config)
                if check:
                    expect(out["answer"] == "yes", "answer == 'yes' after resume")

            async def cycles(n: int) -> None:
                for _ in range(n):
                    await cycle()

            async def gathered(n: int) -> int:
                start = perf_counter_ns()
                await asyncio.gather(*(cycles(n) for _ in range(CONCURRENT_THREADS)))
                return perf_counter_ns() - start

            async def checked() -> None:
                await asyncio.gather(*(cycle(check=True) for _ in range(CONCURRENT_THREADS)))

            loop.run_until_complete(checked())
            measured = per_op(
                lambda n: loop.run_until_complete(gathered(n)), opts, divisor=CONCURRENT_THREADS
            )
        finally:
            loop.run_until_complete(stack.aclose())
    finally:
        loop.close()
    extra = {"cycles_per_s": 1e9 / measured.value, "threads": CONCURRENT_THREADS}
    return replace(measured, extra=extra)


@workload("async_100_threads_memory")
def async_100_threads_memory(lib: Lib, opts: Opts) -> Measurement:
    """Time per interrupt/resume cycle, 100 at once under asyncio, InMemorySaver."""
    return _async_cycles(lib, opts, "memory")


@workload("async_100_threads_sqlite")
def async_100_threads_sqlite(lib: Lib, opts: Opts) -> Measurement:
    """Time per interrupt/resume cycle, 100 at once under asyncio, AsyncSqliteSaver."""
    return _async_cycles(lib, opts, "sqlite")
