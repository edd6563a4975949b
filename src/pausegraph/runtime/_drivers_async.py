"""The async driver: performs the run loop's effects on an asyncio event loop.

The twin of ``_drivers`` with ``await`` where that one calls; every decision
stays in the shared run loop and task flow.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from pausegraph._offload import Crew
from pausegraph.constants import START
from pausegraph.errors import GraphInterrupt, ParentCommand
from pausegraph.runtime._context import RunScope, current_task
from pausegraph.runtime._drivers import POOL_SIZE, executor
from pausegraph.runtime._live import step_in_task
from pausegraph.runtime._loop import RUN, RunLoop
from pausegraph.runtime._perform import perform_async
from pausegraph.runtime._planner import Task
from pausegraph.runtime._store import RunStore
from pausegraph.runtime._tasks import (
    Call,
    Sleep,
    TaskFlow,
    finish_call,
    finish_input,
    plain_call,
    task_flow,
)

if TYPE_CHECKING:
    from pausegraph.graph._spec import GraphSpec


__all__ = ["drive_async", "run_async", "run_effects_async"]


@functools.cache
def _crew() -> Crew:
    """Where sync nodes run under asyncio: the shared pool's threads, through one crew."""
    return Crew(executor(), POOL_SIZE)


async def _call_async(req: Call) -> Any:
    if req.is_async:
        if req.ctx is None:
            return await req.fn(req.arg, **req.kwargs)
        return await _call_in_task(req)
    if req.ctx is None:  # routers: cheap and pure, run them on the loop
        result = req.fn(req.arg, **req.kwargs)
    else:
        result = await _in_thread(req)
    if inspect.isawaitable(result):
        result = await result
    return result


async def _call_in_task(req: Call) -> Any:
    """Await an async node with its task context current."""
    token = current_task.set(req.ctx)
    try:
        return await req.fn(req.arg, **req.kwargs)
    finally:
        current_task.reset(token)


def _in_thread(req: Call) -> asyncio.Future[Any]:
    """Run a sync node (which may block) in a worker thread, with its task context."""
    ctx = contextvars.copy_context()
    ctx.run(current_task.set, req.ctx)
    if req.kwargs:
        return _crew().run(functools.partial(ctx.run, req.fn, req.arg, **req.kwargs))
    return _crew().run(ctx.run, req.fn, req.arg)


async def _run_task_async(
    spec: GraphSpec, task: Task, values: Mapping[str, Any], scope: RunScope
) -> None:
    """Run one task: directly when it is plain (see ``plain_call``), else through its flow."""
    if task.name == START and finish_input(spec, task):
        return
    call = plain_call(spec, task, scope)
    if call is None:
        await _run_flow_async(task_flow(spec, task, values, scope))
        return
    ref = task.ref  # node_input(), inline; it raises as in task_flow
    call.arg = ref.arg if ref.push else spec.nodes[task.name].input.view(values)
    try:
        # What _call_async does for a call with a task context, two coroutine frames fewer.
        if call.is_async:
            token = current_task.set(call.ctx)
            try:
                output = await call.fn(call.arg, **call.kwargs)
            finally:
                current_task.reset(token)
        else:
            output = await _in_thread(call)
            # None and dict first: isawaitable() asks the Awaitable ABC (Python code).
            if output is not None and type(output) is not dict and inspect.isawaitable(output):
                output = await output
    except (Exception, GraphInterrupt, ParentCommand) as exc:
        finish_call(spec, task, call, None, exc)
    else:
        finish_call(spec, task, call, output, None)


async def _run_flow_async(flow: TaskFlow) -> None:
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
                await asyncio.sleep(req.seconds)
            else:
                send = await _call_async(req)
        except (Exception, GeneratorExit) as exc:
            error = exc
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
            error = exc


def _open(
    loop: RunLoop, saver: Any, config: dict[str, Any], writer: Callable[[Any], None] | None
) -> tuple[RunStore, RunScope]:
    """What a run on the event loop stores through, and what its tasks share."""
    store = RunStore(saver, loop)

    def on_journal(task: Task, entries: list[Any]) -> None:
        for eff in loop.journal(task, entries):
            store.write_now(eff)

    return store, RunScope(config, writer, on_journal, saver, loop.sink)


async def drive_async(
    loop: RunLoop, saver: Any, config: dict[str, Any], writer: Callable[[Any], None] | None
) -> AsyncGenerator[tuple[str, Any], None]:
    """Run ``loop`` on the event loop; yields stream chunks."""
    spec = loop.spec
    out = loop.out
    live = loop.live
    # A top-level run with live chunks runs each step as a task of its own and
    # reports them as they come; nested runs run inline, in their parent's step.
    reporter = live if loop.opts.nested_answer is None else None
    store, scope = _open(loop, saver, config, writer)
    if not store.start_blocking():
        await store.astart()
    # A saver whose async methods only call its sync ones (see ``blocks``): its
    # effects are performed here, without a coroutine per effect.
    blocking = store.blocking
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
                if blocking:
                    store.step(tasks, reporting=bool(out))
                else:
                    await store.astep(tasks, reporting=bool(out))
                while live:
                    yield live.popleft()
                while out:
                    yield out.popleft()
                step = _run_step_async(loop, store, spec, tasks, effect[2], scope, blocking)
                if reporter is not None and tasks[0].name != START:  # the input step sends nothing
                    async with aclosing(step_in_task(step, reporter)) as reported:
                        async for chunk in reported:
                            yield chunk
                else:
                    await step
            elif blocking:
                result = store.perform(effect)
            else:
                result = await store.aperform(effect)
        failing = False
    except Exception as exc:  # reported after what the run did before it failed
        error = exc
    finally:
        gen.close()
        if blocking:
            store.close(failing=failing)
        else:
            await store.aclose(failing=failing)
    # What a failed step's finished tasks returned comes before the error, as in LangGraph.
    while live:
        yield live.popleft()
    while out:
        yield out.popleft()
    if error is not None:
        raise error


async def run_async(
    loop: RunLoop, saver: Any, config: dict[str, Any], writer: Callable[[Any], None] | None
) -> None:
    """:func:`drive_async` for a caller that reads no chunks (``ainvoke``): a plain coroutine.

    The same effects in the same order, without what an async generator costs
    per run (its creation, the event loop's tracking of it, the final
    ``StopAsyncIteration``) and with one coroutine less per one-task step.
    ``loop`` must have no live chunks (nothing reports while a step runs);
    chunks it collects are dropped where ``drive_async`` would yield them.
    """
    spec = loop.spec
    out = loop.out
    store, scope = _open(loop, saver, config, writer)
    if not store.start_blocking():
        await store.astart()
    blocking = store.blocking
    gen = loop.run()
    result: Any = None
    failing = True
    try:
        while True:
            try:
                effect = gen.send(result)
            except StopIteration:
                break
            result = None
            if effect[0] == RUN:
                tasks: list[Task] = effect[1]
                if blocking:
                    store.step(tasks, reporting=bool(out))
                else:
                    await store.astep(tasks, reporting=bool(out))
                out.clear()
                if len(tasks) != 1:
                    await _run_parallel_async(loop, store, spec, tasks, effect[2], scope)
                    continue
                # What _run_step_async does for one task, one coroutine frame fewer
                # (and none for an input step that calls nothing).
                task = tasks[0]
                if task.name != START or not finish_input(spec, task):
                    await _run_task_async(spec, task, effect[2], scope)
                for eff in loop.task_done(task):
                    if blocking:
                        store.perform(eff)
                    else:
                        await store.aperform(eff)
            elif blocking:
                result = store.perform(effect)
            else:
                result = await store.aperform(effect)
        failing = False
    finally:
        gen.close()
        if blocking:
            store.close(failing=failing)
        else:
            await store.aclose(failing=failing)
    out.clear()


async def _run_step_async(
    loop: RunLoop,
    store: RunStore,
    spec: GraphSpec,
    tasks: list[Task],
    values: Mapping[str, Any],
    scope: RunScope,
    blocking: bool,
) -> None:
    """Run one step's tasks, finishing each (its effects performed) as it ends."""
    if len(tasks) == 1:
        await _run_task_async(spec, tasks[0], values, scope)
        for eff in loop.task_done(tasks[0]):
            if blocking:
                store.perform(eff)
            else:
                await store.aperform(eff)
    else:
        await _run_parallel_async(loop, store, spec, tasks, values, scope)


async def _run_parallel_async(
    loop: RunLoop,
    store: RunStore,
    spec: GraphSpec,
    tasks: list[Task],
    values: Mapping[str, Any],
    scope: RunScope,
) -> None:
    """Run a step's tasks at once; each is finished (writes saved) as soon as it ends."""
    running = {asyncio.ensure_future(_run_task_async(spec, t, values, scope)): t for t in tasks}
    pending = set(running)
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            # A set has no order: tasks that ended together finish in start order,
            # as LangGraph reports them (their updates and interrupts come in that order).
            for fut in [f for f in running if f in done] if len(done) > 1 else done:
                fut.result()
                for eff in loop.task_done(running[fut]):
                    await store.aperform(eff)
    finally:
        for fut in pending:
            fut.cancel()


async def run_effects_async(saver: Any, gen: Any) -> Any:
    """Async :func:`run_effects_sync`."""
    send: Any = None
    while True:
        try:
            item = gen.send(send)
        except StopIteration as stop:
            return stop.value
        send = (
            await _call_async(item) if isinstance(item, Call) else await perform_async(saver, item)
        )
