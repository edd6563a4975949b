"""The sync driver: performs the run loop's effects in the calling thread.

It makes no decision of its own; it only does I/O around
:class:`~pausegraph.runtime._loop.RunLoop` and
:func:`~pausegraph.runtime._tasks.task_flow`. Its async twin, in
``_drivers_async``, is imported only when an async method is used (asyncio
costs more import time than all of pausegraph).
"""

from __future__ import annotations

import contextvars
import functools
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pausegraph.constants import START
from pausegraph.errors import GraphInterrupt, InvalidConfigError, ParentCommand
from pausegraph.runtime._context import RunScope, current_task
from pausegraph.runtime._live import step_in_thread
from pausegraph.runtime._loop import RUN, RunLoop
from pausegraph.runtime._perform import perform_sync
from pausegraph.runtime._planner import Task
from pausegraph.runtime._store import RunStore
from pausegraph.runtime._tasks import (
    Call,
    Sleep,
    TaskFlow,
    finish_call,
    finish_input,
    node_input,
    plain_call,
    task_flow,
)

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from pausegraph.graph._spec import GraphSpec


__all__ = [
    "call_sync",
    "drive_sync",
    "executor",
    "run_effects_sync",
    "run_flow_sync",
]

POOL_SIZE = min(32, (os.cpu_count() or 1) + 4)
"""Threads of the shared pool: how many sync nodes run at once."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def executor() -> ThreadPoolExecutor:
    """The shared pool for parallel tasks (and sync nodes under asyncio), made on first use."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                from concurrent.futures import ThreadPoolExecutor

                _pool = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="pausegraph")
    return _pool


# -- sync ------------------------------------------------------------------------


def call_sync(req: Call) -> Any:
    if req.is_async:
        raise InvalidConfigError(
            f"{getattr(req.fn, '__name__', req.fn)!r} is an async function, which invoke()/stream() "
            "cannot run. Use `await graph.ainvoke(...)` or `graph.astream(...)` instead."
        )
    if req.ctx is None:
        result = req.fn(req.arg, **req.kwargs)
    else:
        token = current_task.set(req.ctx)
        try:
            result = req.fn(req.arg, **req.kwargs)
        finally:
            current_task.reset(token)
    if hasattr(result, "__await__"):
        if hasattr(result, "close"):
            result.close()
        raise InvalidConfigError(
            f"{getattr(req.fn, '__name__', req.fn)!r} returned an awaitable, which invoke()/stream() "
            "cannot wait for. Use `await graph.ainvoke(...)` or `graph.astream(...)` instead."
        )
    return result


def run_flow_sync(flow: TaskFlow) -> None:
    send: Any = None
    error: BaseException | None = None
    while True:
        try:
            req = flow.send(send) if error is None else flow.throw(error)
        except StopIteration:
            return
        send = error = None
        try:
            if isinstance(req, Sleep):
                time.sleep(req.seconds)
            else:
                send = call_sync(req)
        except BaseException as exc:
            error = exc


def drive_sync(
    loop: RunLoop, saver: Any, config: dict[str, Any], writer: Callable[[Any], None] | None
) -> Iterator[tuple[str, Any]]:
    """Run ``loop`` in this thread (parallel tasks in a pool); yields stream chunks."""
    spec = loop.spec
    out = loop.out
    live = loop.live
    # A top-level run with live chunks runs each step on a thread of its own and
    # reports them as they come; nested runs run inline, in their parent's step.
    reporter = live if loop.opts.nested_answer is None else None
    store = RunStore(saver, loop)

    def on_journal(task: Task, entries: list[Any]) -> None:
        for eff in loop.journal(task, entries):
            store.write_now(eff)

    def finish(task: Task) -> None:
        for eff in loop.task_done(task):
            store.perform(eff)

    scope = RunScope(config, writer, on_journal, saver, loop.sink)
    store.start()
    gen = loop.run()
    result: Any = None
    failing = True
    error: Exception | None = None
    try:
        while True:
            try:
                effect = gen.send(result)
            except StopIteration:
                break
            result = None
            if effect[0] == RUN:
                tasks: list[Task] = effect[1]
                # Chunks reach the caller before the next step runs, or once the
                # run has stopped: by then what they report is saved (with
                # durability="sync"), and a paused thread's lease is released,
                # so the caller may resume at once.
                store.step(tasks, reporting=bool(out))
                while live:
                    yield live.popleft()
                while out:
                    yield out.popleft()
                values = effect[2]
                if reporter is not None and tasks[0].name != START:  # the input step sends nothing
                    step = functools.partial(_run_step_sync, spec, tasks, values, scope, finish)
                    yield from step_in_thread(step, reporter)
                else:
                    _run_step_sync(spec, tasks, values, scope, finish)
            else:
                result = store.perform(effect)
        failing = False
    except Exception as exc:  # reported after what the run did before it failed
        error = exc
    finally:
        gen.close()
        store.close(failing=failing)
    # What a failed step's finished tasks returned comes before the error, as in LangGraph.
    while live:
        yield live.popleft()
    while out:
        yield out.popleft()
    if error is not None:
        raise error


def _run_step_sync(
    spec: GraphSpec,
    tasks: list[Task],
    values: Mapping[str, Any],
    scope: RunScope,
    finish: Callable[[Task], None],
) -> None:
    """Run one step's tasks, finishing each as it ends."""
    if len(tasks) == 1:
        run_task_sync(spec, tasks[0], values, scope)
        finish(tasks[0])
    else:
        _run_parallel_sync(spec, tasks, values, scope, finish)


def run_task_sync(spec: GraphSpec, task: Task, values: Mapping[str, Any], scope: RunScope) -> None:
    """Run one task in this thread: directly when it is plain, else through its flow."""
    if task.name == START and finish_input(spec, task):
        return
    call = plain_call(spec, task, scope)
    if call is None:
        run_flow_sync(task_flow(spec, task, values, scope))
        return
    try:
        call.arg = node_input(spec.nodes[task.name], task, values)
        output = call_sync(call)
    except (Exception, GraphInterrupt, ParentCommand) as exc:
        finish_call(spec, task, call, None, exc)
    else:
        finish_call(spec, task, call, output, None)


def _run_parallel_sync(
    spec: GraphSpec,
    tasks: list[Task],
    values: Mapping[str, Any],
    scope: RunScope,
    finish: Callable[[Task], None],
) -> None:
    """Run a step's tasks on the shared pool, the calling thread taking what no worker has.

    Each task is finished (its writes saved, its chunks queued) by whichever
    thread ran it, as soon as it ends, so a slow sibling never holds back what
    is already done. The caller never waits on a task that has not started: it
    runs such tasks itself, so a node that invokes a graph with parallel steps,
    itself on a pool worker, cannot deadlock the pool.
    """
    from concurrent.futures import wait

    def run(task: Task) -> None:
        run_task_sync(spec, task, values, scope)
        finish(task)

    pool = executor()
    futures = {pool.submit(contextvars.copy_context().run, run, t): t for t in tasks}
    started = []
    for fut, task in futures.items():
        if fut.cancel():  # not started: run it here
            run(task)
        else:
            started.append(fut)
    for fut in wait(started).done:
        fut.result()


# -- small effect programs (update_state) -------------------------------------


def run_effects_sync(saver: Any, gen: Any) -> Any:
    """Run a generator of effects and router calls to its return value."""
    send: Any = None
    while True:
        try:
            item = gen.send(send)
        except StopIteration as stop:
            return stop.value
        send = call_sync(item) if isinstance(item, Call) else perform_sync(saver, item)
